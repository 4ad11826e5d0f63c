"""The sample cidery: what ``cidery db seed`` loads, and that loading it twice adds nothing."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from cidery import credentials
from cidery.db.engine import make_engine
from cidery.migrations import runner
from cidery.models import Purchase, User, Vendor
from cidery.models.enums import UserRole, VesselStatus, VesselType
from cidery.sample.seed import (
    DEMO_API_TOKEN,
    PLACEHOLDER_PASSWORD_HASH,
    RECORDING_USER_EMAIL,
    STEPS,
    USERS,
    seed,
)

SEEDED_TABLES = {
    "users",
    "api_tokens",
    "vendors",
    "apple_varieties",
    "purchases",
    "purchase_items",
    "vessels",
    "batches",
    "batch_measurements",
    "packages",
    "inventory",
    "inventory_transactions",
    "press_runs",
    "press_run_loads",
    "press_run_batches",
    "batch_costs",
    "cogs_items",
    "fruit_write_offs",
}


# Added by revision 0002.
PRESS_TABLES = {"press_runs", "press_run_loads"}
# Added by revision 0007, or (the lots' costs) first written by its steps.
LOT_TABLES = {"press_run_batches", "batch_costs", "cogs_items", "fruit_write_offs"}


def row_counts(connection: Connection, tables: set[str]) -> dict[str, int]:
    return {
        table: connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
        for table in tables
    }


def test_seeding_twice_adds_rows_once(session: Session, connection: Connection) -> None:
    before = row_counts(connection, SEEDED_TABLES)

    first = seed(session)
    after_first = row_counts(connection, SEEDED_TABLES)
    second = seed(session)
    after_second = row_counts(connection, SEEDED_TABLES)

    assert set(first.inserted) == SEEDED_TABLES
    assert all(first.inserted[table] > 0 for table in SEEDED_TABLES), first.inserted
    # The report tells the truth about what reached the database.
    assert {t: after_first[t] - before[t] for t in SEEDED_TABLES} == first.inserted
    assert second.inserted == dict.fromkeys(SEEDED_TABLES, 0)
    assert after_second == after_first


def test_existing_rows_are_matched_by_natural_key_whatever_their_case(
    session: Session, connection: Connection
) -> None:
    own = Vendor(name="HILLSIDE HERITAGE ORCHARD", contact_info={"phone": "ours"})
    session.add_all(
        [
            own,
            User(email="Admin@Cidery.Example", name="Our admin", password_hash="x"),
        ]
    )
    session.flush()

    report = seed(session)

    assert report.inserted["vendors"] == 4
    assert report.inserted["users"] == 2
    # The seed's purchases from that grower hang off the row that was already there.
    invoices = session.scalars(
        select(Purchase.invoice_number).where(Purchase.vendor_id == own.id)
    ).all()
    assert set(invoices) == {"HHO-2024-0917", "HHO-2024-1022"}
    assert connection.execute(
        text("SELECT contact_info FROM vendors WHERE id = :id"), {"id": own.id}
    ).scalar_one() == {"phone": "ours"}


def test_a_soft_deleted_row_does_not_count_as_existing(
    session: Session, connection: Connection
) -> None:
    seed(session)
    connection.execute(text("UPDATE vessels SET deleted_at = now() WHERE name = 'FV-2'"))

    report = seed(session)

    assert report.inserted["vessels"] == 1
    assert sum(report.inserted.values()) == 1


def test_quantities_are_converted_exactly_from_the_unit_entered(
    session: Session, connection: Connection
) -> None:
    seed(session)
    rows = connection.execute(
        text("SELECT quantity, unit::text, quantity_kg, quantity_l FROM purchase_items")
    ).all()
    # The factors are written out here, not taken from cidery.units, so a wrong
    # factor there fails this test.
    kg_per = {"kg": Decimal(1), "lb": Decimal("0.45359237"), "bushel": Decimal("19.05087954")}

    assert {row.unit for row in rows} == set(kg_per)
    for quantity, unit, quantity_kg, quantity_l in rows:
        expected = (quantity * kg_per[unit]).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
        assert quantity_kg == expected, (quantity, unit)
        assert quantity_l is None
    twenty_bushels = connection.execute(
        text("SELECT quantity_kg FROM purchase_items WHERE unit = 'bushel' AND quantity = 20")
    ).scalar_one()
    assert twenty_bushels == Decimal("381.018")  # 20 x 42 lb x 0.45359237 = 381.0175908 kg


def test_costs_add_up_to_the_cent(session: Session, connection: Connection) -> None:
    seed(session)
    lines = connection.execute(
        text("SELECT purchase_id, quantity, price_per_unit, total_cost FROM purchase_items")
    ).all()
    purchases = {
        row.id: row.total_cost
        for row in connection.execute(text("SELECT id, total_cost FROM purchases"))
    }

    sums: dict[object, Decimal] = {}
    for purchase_id, quantity, price, total in lines:
        assert total == (quantity * price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        sums[purchase_id] = sums.get(purchase_id, Decimal(0)) + total
    assert sums == purchases
    # 850.5 lb at 0.6150 is 523.0575: one line really has to round.
    assert Decimal("523.06") in {line.total_cost for line in lines}


def test_every_vessel_type_and_status_is_present(session: Session, connection: Connection) -> None:
    seed(session)
    rows = connection.execute(text("SELECT type::text, status::text, capacity_l FROM vessels"))

    types, statuses, capacities = zip(*rows, strict=True)

    assert set(types) == {member.value for member in VesselType}
    assert set(statuses) == {member.value for member in VesselStatus}
    assert min(capacities) > 0


def test_in_use_vessels_hold_the_unfinished_batches(
    session: Session, connection: Connection
) -> None:
    seed(session)
    in_use = set(
        connection.execute(text("SELECT name FROM vessels WHERE status = 'in_use'")).scalars()
    )
    holding = set(
        connection.execute(
            text(
                "SELECT v.name FROM batches b JOIN vessels v ON v.id = b.vessel_id"
                " WHERE b.status IN ('fermenting', 'conditioning')"
            )
        ).scalars()
    )

    assert in_use == holding != set()


def test_sample_users_cover_every_role_and_sign_in_with_their_demo_password(
    session: Session, connection: Connection
) -> None:
    seed(session)
    rows = connection.execute(text("SELECT email, role::text, password_hash FROM users")).all()

    assert {row.role for row in rows} == {role.value for role in UserRole}
    demo = {user.email: user.password for user in USERS}
    for row in rows:
        assert credentials.verify(demo[row.email], row.password_hash)
        assert not credentials.verify("not the password", row.password_hash)


def test_an_account_seeded_before_sign_in_gets_its_demo_password(
    session: Session, connection: Connection
) -> None:
    admin = USERS[0]
    session.add(
        User(
            email=admin.email,
            name=admin.name,
            role=admin.role,
            password_hash=PLACEHOLDER_PASSWORD_HASH,
        )
    )
    session.flush()
    assert not credentials.verify(admin.password, PLACEHOLDER_PASSWORD_HASH)

    seed(session)

    stored = connection.execute(
        text("SELECT password_hash FROM users WHERE email = :e"), {"e": admin.email}
    ).scalar_one()
    assert credentials.verify(admin.password, stored)


def test_the_demo_api_token_belongs_to_the_operator(session: Session) -> None:
    seed(session)
    seed(session)
    owners = (
        session.execute(
            text(
                "SELECT u.email FROM api_tokens t JOIN users u ON u.id = t.user_id "
                "WHERE t.token_hash = :h"
            ),
            {"h": credentials.digest(DEMO_API_TOKEN)},
        )
        .scalars()
        .all()
    )
    assert owners == [RECORDING_USER_EMAIL]


def test_growers_have_contact_details_and_one_is_inactive(
    session: Session, connection: Connection
) -> None:
    seed(session)
    rows = connection.execute(text("SELECT contact_info, is_active FROM vendors")).all()

    assert all({"phone", "email", "address"} <= set(row.contact_info) for row in rows)
    assert [row.is_active for row in rows].count(False) == 1


def test_stock_is_explained_by_its_movements(session: Session, connection: Connection) -> None:
    seed(session)
    rows = connection.execute(
        text(
            "SELECT pk.bottle_count, i.current_bottle_count,"
            " (SELECT sum(t.quantity_change) FROM inventory_transactions t"
            "  WHERE t.inventory_id = i.id) AS moved"
            " FROM packages pk JOIN inventory i ON i.package_id = pk.id"
        )
    ).all()

    assert rows
    assert all(row.bottle_count == row.current_bottle_count == row.moved for row in rows)


def test_seed_leaves_the_commit_to_the_caller(clone_url: str) -> None:
    engine = make_engine(clone_url)
    try:
        with Session(engine) as session:
            assert sum(seed(session).inserted.values()) > 0
            session.rollback()
        with engine.connect() as connection:
            assert row_counts(connection, SEEDED_TABLES) == dict.fromkeys(SEEDED_TABLES, 0)
    finally:
        engine.dispose()


def test_press_runs_cover_every_status_without_overpressing(
    session: Session, connection: Connection
) -> None:
    seed(session)
    statuses = set(connection.execute(text("SELECT status::text FROM press_runs")).scalars())
    assert statuses == {"in_progress", "completed", "cancelled"}
    overpressed = connection.execute(
        text(
            "SELECT pi.id FROM purchase_items pi JOIN press_run_loads l "
            "ON l.purchase_item_id = pi.id GROUP BY pi.id, pi.quantity_kg "
            "HAVING sum(l.weight_kg) > pi.quantity_kg"
        )
    ).all()
    assert overpressed == []
    yields = connection.execute(
        text("SELECT extraction_rate FROM press_runs WHERE status = 'completed'")
    ).scalars()
    assert all(Decimal("0.55") <= rate <= Decimal("0.75") for rate in yields)
    totals_disagree = connection.execute(
        text(
            "SELECT r.id FROM press_runs r JOIN press_run_loads l ON l.press_run_id = r.id "
            "GROUP BY r.id HAVING sum(l.weight_kg) <> r.total_apple_weight_kg"
        )
    ).all()
    assert totals_disagree == []


def test_each_step_declares_the_tables_it_writes(session: Session) -> None:
    """What a step declares is what seed() checks exists before running it."""
    declared = [table for step in STEPS for table in step.tables]
    assert set(declared) == SEEDED_TABLES
    assert len(declared) == len(set(declared)), "each table belongs to one step"
    for step in STEPS:
        assert set(step.run(session)) == {*step.tables, *step.also}, step.run.__name__
        # Another step's tables, which exist whenever the step's own do.
        assert set(step.also) <= set(declared[: declared.index(step.tables[0])])


def test_nothing_is_skipped_at_head(session: Session) -> None:
    report = seed(session)
    assert report.skipped == []
    assert set(report.inserted) == SEEDED_TABLES


# Tables of revisions after 0001 that the seed fills.
LATER_TABLES = PRESS_TABLES | LOT_TABLES | {"api_tokens"}


def test_seeding_at_revision_0001_skips_the_later_tables(empty_url: str) -> None:
    """At 0001 the API token and press steps are skipped: their tables are left out of
    ``inserted`` (not reported as 0) and listed in ``skipped``; seeding again after the
    upgrade adds them."""
    engine = make_engine(empty_url)
    try:
        runner.upgrade(engine, "0001")
        with Session(engine) as session:
            report = seed(session)
            session.commit()

        assert report.skipped == [
            "api_tokens",
            "press_runs",
            "press_run_loads",
            "press_run_batches",
            "batch_costs",
            "cogs_items",
            "fruit_write_offs",
        ]
        assert set(report.inserted) == SEEDED_TABLES - LATER_TABLES
        assert all(added > 0 for added in report.inserted.values()), report.inserted
        with engine.connect() as connection:
            assert row_counts(connection, SEEDED_TABLES - LATER_TABLES) == report.inserted

        runner.upgrade(engine, "head")
        with Session(engine) as session:
            later = seed(session)
            session.commit()

        assert later.skipped == []
        # The juice lots are batches as well.
        added = {table for table, count in later.inserted.items() if count}
        assert added == LATER_TABLES | {"batches"}
        with engine.connect() as connection:
            assert all(row_counts(connection, LATER_TABLES).values())
    finally:
        engine.dispose()


def test_seeding_an_empty_database_skips_every_step(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        with Session(engine) as session:
            report = seed(session)
        assert report.inserted == {}
        assert sorted(report.skipped) == sorted(SEEDED_TABLES)
    finally:
        engine.dispose()
