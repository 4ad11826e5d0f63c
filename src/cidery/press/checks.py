"""Read-only checks of the press data, run beside the schema's by ``cidery db smoke``.

Each is a function of a connection returning ``(passed, detail)``, the shape of
:class:`cidery.migrations.checks.smoke.Check`'s function: the CLI joins both lists,
so the press package needs nothing of the migrations package.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, inspect, select

from cidery.press import queries


def pressed_fruit_agrees(connection: Connection) -> tuple[bool, str]:
    """Every purchase line's ``pressed_kg`` (kept by the triggers) equals what its loads
    drew, summed from the loads."""
    if "pressed_kg" not in {c["name"] for c in inspect(connection).get_columns("purchase_items")}:
        return True, "purchase lines keep no pressed kg before revision 0003"
    drawn = queries.PRESSED_BY_LINE.subquery()
    summed = func.coalesce(drawn.c.pressed_kg, 0)
    rows = connection.execute(
        select(queries.items.c.id, queries.items.c.pressed_kg, summed.label("summed"))
        .outerjoin(drawn, drawn.c.purchase_item_id == queries.items.c.id)
        .where(queries.items.c.pressed_kg != summed)
        .order_by(queries.items.c.id)
        .limit(20)
    ).all()
    if rows:
        listed = "; ".join(f"{r.id}: {r.pressed_kg} kg kept, {r.summed} kg drawn" for r in rows)
        return False, f"purchase line(s) whose pressed kg disagree with their loads: {listed}"
    lines = connection.execute(select(func.count()).select_from(queries.items)).scalar_one()
    return True, f"{lines} line(s) agree with their loads"
