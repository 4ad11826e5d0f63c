"""Who may do what: every service function checks the actor's role against the one table.

Each function is called by each role on a world where the call would succeed; a
role the table does not allow gets ``Forbidden`` and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.orm import Session

from cidery import accounts, catalog, press
from cidery.models.enums import UserRole
from cidery.press.access import PERMISSIONS, Action, may
from cidery.press.errors import Forbidden, InvalidInput
from cidery.press.report import press_summary
from tests.factories import Factory, new_actor
from tests.press.support import counts

Call = Callable[[Session, press.Actor, dict[str, Any]], object]


def _world(session: Session, make: Factory) -> dict[str, Any]:
    """A grower with fruit, an open run with one load, an available vessel, and a run
    completed into a juice lot."""
    operator = new_actor(session, UserRole.OPERATOR)
    vendor = make.vendor()
    item = make.purchase_item(vendor=vendor)
    run = press.start_run(session, operator, {"vendor_id": vendor.id})
    load = press.add_load(
        session, operator, run.id, {"purchase_item_id": item.id, "weight": 100, "weight_unit": "kg"}
    )
    pressed = press.start_run(session, operator, {"vendor_id": vendor.id})
    press.add_load(
        session,
        operator,
        pressed.id,
        {"purchase_item_id": item.id, "weight": 100, "weight_unit": "kg"},
    )
    done = press.complete_run(
        session,
        operator,
        pressed.id,
        {"juice_volume": "65", "juice_volume_unit": "L", "vessel_id": make.vessel().id},
    )
    return {
        "vendor": vendor,
        "item": item,
        "run": run,
        "load": load,
        "vessel": make.vessel(),
        "completed": done.run,
        "lot": done.lots[0],
    }


CALLS: dict[Action, list[Call]] = {
    Action.READ: [
        lambda s, a, w: press.get_run(s, a, w["run"].id),
        lambda s, a, w: press.list_runs(s, a),
        lambda s, a, w: press.available_fruit(s, a, {"vendor_id": w["vendor"].id}),
        lambda s, a, w: press.yield_outliers(s, a),
        lambda s, a, w: press_summary(s, a),
        lambda s, a, w: catalog.list_vendors(s, a),
        lambda s, a, w: catalog.list_varieties(s, a),
        lambda s, a, w: catalog.list_vessels(s, a, {"available": True}),
        lambda s, a, w: catalog.yield_report(s, a, {"group_by": "vendor"}),
        lambda s, a, w: catalog.fruit_reconciliation(s, a, {"vendor_id": w["vendor"].id}),
        lambda s, a, w: press.get_lot(s, a, w["lot"].batch_id),
        lambda s, a, w: press.list_lots(s, a, {"incomplete": True}),
        lambda s, a, w: press.run_lots(s, a, w["completed"].id),
    ],
    Action.START: [lambda s, a, w: press.start_run(s, a, {"vendor_id": w["vendor"].id})],
    Action.ADD_LOAD: [
        lambda s, a, w: press.add_load(
            s,
            a,
            w["run"].id,
            {"purchase_item_id": w["item"].id, "weight": "50", "weight_unit": "lb"},
        )
    ],
    Action.VOID_LOAD: [
        lambda s, a, w: press.void_load(s, a, w["load"].id, {"reason": "weighed twice"})
    ],
    Action.CORRECT_LOAD: [
        lambda s, a, w: press.correct_load(
            s, a, w["load"].id, {"weight": "220", "weight_unit": "lb", "brix": "12.5"}
        )
    ],
    Action.COMPLETE: [
        lambda s, a, w: press.complete_run(
            s,
            a,
            w["run"].id,
            {"juice_volume": "65", "juice_volume_unit": "L", "vessel_id": w["vessel"].id},
        )
    ],
    Action.CANCEL: [lambda s, a, w: press.cancel_run(s, a, w["run"].id, {"reason": "jammed"})],
    Action.WRITE_OFF: [
        lambda s, a, w: press.write_off_line(s, a, w["item"].id, {"reason": "rotten"}),
    ],
    Action.MANAGE_USERS: [
        lambda s, a, w: accounts.list_users(s, a),
        lambda s, a, w: accounts.create_user(
            s,
            a,
            {
                "email": f"new-{w['run'].id}@cidery.example",
                "name": "New Hand",
                "role": "viewer",
                "password": "long enough password",
            },
        ),
    ],
    Action.READ_AUDIT: [
        lambda s, a, w: catalog.list_audit_logs(s, a, {"record_id": w["run"].id}),
    ],
    Action.RECOMPUTE_COSTS: [
        lambda s, a, w: press.recompute_costs(
            s, a, w["completed"].id, {"reason": "price corrected", "labor_rate": "30.00"}
        ),
    ],
}
CASES = [
    pytest.param(role, action, call, id=f"{role.value}-{action.name.lower()}-{i}")
    for role in UserRole
    for action, calls in CALLS.items()
    for i, call in enumerate(calls)
]


def test_every_action_is_exercised() -> None:
    assert set(CALLS) == set(Action)


@pytest.mark.parametrize(("role", "action", "call"), CASES)
def test_the_permission_table_decides(
    session: Session, make: Factory, role: UserRole, action: Action, call: Call
) -> None:
    world = _world(session, make)
    actor = new_actor(session, role)
    before = counts(session)
    if may(actor, action):
        call(session, actor, world)
        return
    with pytest.raises(Forbidden) as info:
        call(session, actor, world)
    assert info.value.code == "forbidden"
    assert info.value.details == {"role": role.value, "action": action.value}
    assert counts(session) == before


def test_the_table_reads_as_the_roles_are_described() -> None:
    assert PERMISSIONS[UserRole.VIEWER] == {Action.READ}
    assert PERMISSIONS[UserRole.OPERATOR] == set(Action) - {
        Action.MANAGE_USERS,
        Action.READ_AUDIT,
        Action.RECOMPUTE_COSTS,
    }
    assert PERMISSIONS[UserRole.ADMIN] == set(Action)


@pytest.mark.parametrize(
    "actor",
    [None, "00000000-0000-0000-0000-000000000001", {"user_id": None, "role": "admin"}, 42],
    ids=["none", "a bare id", "a mapping", "a number"],
)
def test_an_actor_must_be_an_actor(session: Session, make: Factory, actor: object) -> None:
    vendor = make.vendor()
    with pytest.raises(InvalidInput) as info:
        press.start_run(session, actor, {"vendor_id": vendor.id})
    assert info.value.errors[0]["field"] == "actor"


def test_a_system_actor_may_do_everything() -> None:
    system = press.Actor.system()
    assert system.user_id is None
    assert all(may(system, action) for action in Action)


def test_a_forbidden_call_is_refused_before_its_input_is_read(session: Session) -> None:
    """A viewer learns nothing from a refusal: not even whether its input was valid."""
    viewer = new_actor(session, UserRole.VIEWER)
    with pytest.raises(Forbidden):
        press.add_load(session, viewer, "not an id", {"weight": Decimal(-1)})


def test_a_refusal_reads_as_a_sentence() -> None:
    assert str(Forbidden("operator", "manage users")) == "an operator may not manage users"
    assert str(Forbidden("viewer", "add a load")) == "a viewer may not add a load"
