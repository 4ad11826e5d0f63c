"""Rolling revision 0002 back keeps every row: the baseline's untouched, the press
data parked in ``cidery_archive_0002`` and put back by the next upgrade.

Each test works on committed data in a database of its own and compares row
counts and content hashes (every column of every row, as text) before and
after; the schema after a round trip is compared with the schema before.
Between revisions, the baseline's rows are compared on the columns both
revisions have (:data:`LATER_COLUMNS` aside).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, load_only

from cidery.db.engine import make_engine
from cidery.migrations import runner, scripts
from cidery.migrations.checks.catalog import schema_snapshot, snapshot_differences
from cidery.models import PressRunLoad, PurchaseItem, User
from cidery.models.enums import PressRunStatus, Unit
from cidery.sample import seed
from cidery.units import to_canonical
from tests.factories import Factory

ARCHIVE = "cidery_archive_0002"
PRESS_TABLES = ("press_runs", "press_run_loads")
# Tables of revisions after 0002, which have round trips of their own to prove
# (tests/migrations/test_revision_harness.py): left out here.
LATER_TABLES = frozenset(
    {
        "api_tokens",
        "auth_sessions",
        "idempotency_keys",
        "sign_in_throttles",
        "press_run_batches",
        "fruit_write_offs",
    }
)

# The sample data of the 0001 tables (the press rows are made below, in known numbers).
BASELINE_SEED_STEPS = (
    seed.seed_users,
    seed.seed_vendors,
    seed.seed_varieties,
    seed.seed_purchases,
    seed.seed_vessels,
    seed.seed_batches,
    seed.seed_packages,
)

# Columns later revisions add to the baseline's tables: gone once rolled back to 0001.
# Derived from the loads (0003) and the write-offs (0007), computed again by the upgrade;
# a cost's purchase line (0007) is archived and put back by 0007's own round trip.
LATER_COLUMNS = ("pressed_kg", "written_off_kg", "purchase_item_id")

# Fingerprint of a table: its row count and an md5 of every row as text, in the order
# of that text (not every table has an id), leaving out the columns named in :ignoring.
_FINGERPRINT = (
    "SELECT count(*), md5(string_agg(r, ',' ORDER BY r)) FROM "
    "(SELECT (to_jsonb(t) - CAST(:ignoring AS text[]))::text AS r FROM {} t) rows"
)


@pytest.fixture
def clone_engine(clone_url: str) -> Iterator[Engine]:
    """An engine on this test's own database, migrated to head."""
    engine = make_engine(clone_url)
    yield engine
    engine.dispose()


def _tables(conn: Connection, schema: str = "public") -> set[str]:
    return set(
        conn.execute(
            text(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = :schema AND table_type = 'BASE TABLE' "
                "AND table_name NOT IN ('alembic_version', 'alembic_version_checksums')"
            ),
            {"schema": schema},
        ).scalars()
    )


def _qualified(conn: Connection, schema: str, table: str) -> str:
    quote = conn.dialect.identifier_preparer.quote_identifier
    return f"{quote(schema)}.{quote(table)}"


def _fingerprints(
    engine: Engine,
    tables: set[str],
    schema: str = "public",
    ignoring: tuple[str, ...] = (),
) -> dict[str, Any]:
    with engine.connect() as conn:
        return {
            table: tuple(
                conn.execute(
                    text(_FINGERPRINT.format(_qualified(conn, schema, table))),
                    {"ignoring": list(ignoring)},
                ).one()
            )
            for table in sorted(tables)
        }


def _baseline_fingerprints(engine: Engine, tables: set[str]) -> dict[str, Any]:
    """The baseline tables' fingerprints on the columns revision 0001 has."""
    return _fingerprints(engine, tables, ignoring=LATER_COLUMNS)


def _counts(engine: Engine, schema: str) -> dict[str, int]:
    """Row count of every table in ``schema``."""
    with engine.connect() as conn:
        tables = _tables(conn, schema)
    return {table: count for table, (count, _hash) in _fingerprints(engine, tables, schema).items()}


def _schema_exists(engine: Engine, name: str) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = :name)"),
                {"name": name},
            ).scalar_one()
        )


def _snapshot(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return schema_snapshot(conn)


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return scripts.current_revision(conn)


def _seed_baseline(session: Session) -> None:
    """The sample cidery's baseline, plus a row in each table the sample leaves empty."""
    for step in BASELINE_SEED_STEPS:
        step(session)
    session.execute(
        text(
            "INSERT INTO batch_costs (batch_id, total_apple_cost, labor_cost, total_cost) "
            "SELECT id, 120.50, 30, 150.50 FROM batches ORDER BY batch_number LIMIT 1"
        )
    )
    session.execute(
        text(
            "INSERT INTO cogs_items (batch_id, item_type, description, cost, quantity, unit) "
            "SELECT id, 'apples', 'Fruit from O''Brien, \"late\" pick', 99.99, 450, 'kg' "
            "FROM batches ORDER BY batch_number LIMIT 1"
        )
    )
    session.execute(
        text(
            "INSERT INTO audit_logs (table_name, record_id, operation, new_data) "
            "SELECT 'vendors', id, 'insert', jsonb_build_object('name', name) FROM vendors"
        )
    )


def _seed_press(session: Session, *, with_loads: bool = True) -> None:
    """An open, a completed and a cancelled (soft-deleted) run, with loads in kg and lb."""
    make = Factory(session)
    operator = session.scalars(select(User).order_by(User.email)).first()
    vendor = make.vendor("Orchard for press runs")
    item = make.purchase_item(vendor)
    other = make.purchase_item(vendor, unit=Unit.LB, quantity=Decimal("2000"))
    start = datetime(2026, 10, 3, 8, 30, tzinfo=UTC)

    weights = [(Decimal("300"), Unit.KG), (Decimal("661.5"), Unit.LB)]
    total = sum((to_canonical(w, u) for w, u in weights), Decimal(0))
    juice = Decimal("100")
    completed = make.run(
        vendor,
        status=PressRunStatus.COMPLETED,
        vessel_id=make.vessel().id,
        start_time=start,
        end_time=start.replace(hour=12),
        total_apple_weight_kg=total,
        juice_volume=juice,
        juice_volume_unit=Unit.GALLON,
        total_juice_volume_l=to_canonical(juice, Unit.GALLON),
        labor_hours=Decimal("3.5"),
        worker_count=2,
        notes="Sharp, \"bittersweet\" fruit;\nO'Brien's block",
        created_by=operator.id if operator else None,
    )
    in_progress = make.run(vendor, start_time=start.replace(day=4))
    cancelled = make.run(
        vendor,
        status=PressRunStatus.CANCELLED,
        start_time=start.replace(day=5),
        end_time=start.replace(day=5, hour=9),
        deleted_at=start.replace(day=6),
    )
    if with_loads:
        for sequence, (weight, unit) in enumerate(weights, start=1):
            make.load(
                completed,
                item if unit is Unit.KG else other,
                sequence,
                weight,
                unit,
                brix=Decimal("12.5"),
                ph=Decimal("3.45"),
                juice_volume_l=Decimal("150"),
                pressed_at=start.replace(hour=9 + sequence),
            )
        make.load(in_progress, item, 1, Decimal("250"))
        make.load(in_progress, other, 2, Decimal("400"), Unit.LB, deleted_at=start)
        make.load(cancelled, item, 1, Decimal("80"), notes="wrong fruit")


def _seed(engine: Engine, *, press: bool = True, with_loads: bool = True) -> None:
    with Session(engine) as session:
        _seed_baseline(session)
        if press:
            _seed_press(session, with_loads=with_loads)
        session.commit()


def test_rollback_archives_press_rows_and_migrate_puts_them_back(clone_engine: Engine) -> None:
    _seed(clone_engine)
    schema_before = _snapshot(clone_engine)
    with clone_engine.connect() as conn:
        all_tables = _tables(conn) - LATER_TABLES
    baseline_tables = all_tables - set(PRESS_TABLES)
    before = _fingerprints(clone_engine, all_tables)
    baseline_before = _baseline_fingerprints(clone_engine, baseline_tables)
    # Every table holds rows, so equal hashes below mean something.
    empty = [table for table, (count, _hash) in before.items() if count == 0]
    assert not empty, f"seed these tables too: {empty}"
    assert before["press_runs"][0] == 3
    assert before["press_run_loads"][0] == 5

    runner.downgrade(clone_engine, "0001")

    assert _revision(clone_engine) == "0001"
    with clone_engine.connect() as conn:
        assert _tables(conn) == baseline_tables
        assert conn.execute(text("SELECT to_regtype('press_run_status')")).scalar() is None
    assert _baseline_fingerprints(clone_engine, baseline_tables) == baseline_before
    assert _counts(clone_engine, ARCHIVE) == {t: before[t][0] for t in PRESS_TABLES}

    runner.upgrade(clone_engine, "head")

    assert _revision(clone_engine) == scripts.head()
    assert _fingerprints(clone_engine, all_tables) == before
    assert not _schema_exists(clone_engine, ARCHIVE)
    differences = snapshot_differences(schema_before, _snapshot(clone_engine))
    assert not differences, "schema changed by the round trip:\n" + "\n".join(differences)


def test_rollback_allowing_data_loss_archives_nothing(clone_engine: Engine) -> None:
    _seed(clone_engine)
    with clone_engine.connect() as conn:
        baseline_tables = _tables(conn) - set(PRESS_TABLES) - LATER_TABLES
    before = _baseline_fingerprints(clone_engine, baseline_tables)

    runner.downgrade(clone_engine, "0001", allow_data_loss=True)

    assert _revision(clone_engine) == "0001"
    assert not _schema_exists(clone_engine, ARCHIVE)
    assert _baseline_fingerprints(clone_engine, baseline_tables) == before

    runner.upgrade(clone_engine, "head")

    assert _counts(clone_engine, "public") == {
        **{t: before[t][0] for t in before},
        **dict.fromkeys(PRESS_TABLES, 0),
        **dict.fromkeys(LATER_TABLES, 0),
    }


def test_rollback_of_empty_press_tables_leaves_no_archive(clone_engine: Engine) -> None:
    _seed(clone_engine, press=False)
    schema_before = _snapshot(clone_engine)

    runner.downgrade(clone_engine, "0001")

    assert _revision(clone_engine) == "0001"
    assert not _schema_exists(clone_engine, ARCHIVE)

    runner.upgrade(clone_engine, "head")

    counts = _counts(clone_engine, "public")
    assert {t: counts[t] for t in PRESS_TABLES} == dict.fromkeys(PRESS_TABLES, 0)
    differences = snapshot_differences(schema_before, _snapshot(clone_engine))
    assert not differences, "schema changed by the round trip:\n" + "\n".join(differences)


def test_rollback_archives_only_the_tables_that_hold_rows(clone_engine: Engine) -> None:
    _seed(clone_engine, with_loads=False)
    before = _fingerprints(clone_engine, set(PRESS_TABLES))

    runner.downgrade(clone_engine, "0001")

    assert _counts(clone_engine, ARCHIVE) == {"press_runs": 3}

    runner.upgrade(clone_engine, "head")

    assert _fingerprints(clone_engine, set(PRESS_TABLES)) == before
    assert not _schema_exists(clone_engine, ARCHIVE)


def test_upgrade_to_0002_over_existing_baseline_data(clone_engine: Engine) -> None:
    # The sample data is written through today's models, so at head; the rollback to
    # 0001 then leaves a baseline holding it (and no press rows to archive).
    _seed(clone_engine, press=False)
    runner.downgrade(clone_engine, "0001")
    assert _revision(clone_engine) == "0001"
    assert not _schema_exists(clone_engine, ARCHIVE)
    with clone_engine.connect() as conn:
        baseline_tables = _tables(conn)
    before = _fingerprints(clone_engine, baseline_tables)
    assert before["purchases"][0] > 0
    assert before["vendors"][0] > 0

    runner.upgrade(clone_engine, "0002")

    assert _revision(clone_engine) == "0002"
    assert _fingerprints(clone_engine, baseline_tables) == before
    # The composite key the loads reference now covers the existing purchase lines.
    # Not expired on commit: reloading the line would read every column the model maps.
    with Session(clone_engine, expire_on_commit=False) as session:
        make = Factory(session)
        # Only the columns 0002 has: the model also maps pressed_kg, added by 0003.
        item = session.scalars(
            select(PurchaseItem)
            .options(load_only(PurchaseItem.id, PurchaseItem.apple_variety_id))
            .order_by(PurchaseItem.id)
        ).first()
        assert item is not None
        run = make.run()
        make.load(run, item)
        session.commit()
        mismatched = PressRunLoad(
            press_run_id=run.id,
            purchase_item_id=item.id,
            apple_variety_id=make.variety().id,
            load_sequence=2,
            weight=Decimal("10"),
            weight_unit=Unit.KG,
            weight_kg=Decimal("10"),
        )
        session.add(mismatched)
        with pytest.raises(IntegrityError, match="purchase_item_id_apple_variety_id_fkey"):
            session.flush()


def _cidery(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).parent / "cidery"
    env = {**os.environ, "DATABASE_URL": url, "COLUMNS": "200"}
    return subprocess.run(
        [str(cli), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_cli_rollback_and_migrate_round_trip(clone_engine: Engine, clone_url: str) -> None:
    _seed(clone_engine)
    with clone_engine.connect() as conn:
        all_tables = _tables(conn)
    before = _fingerprints(clone_engine, all_tables)

    # Back past 0002, whatever revisions came after it.
    rolled_back = _cidery("db", "rollback", "0001", url=clone_url)

    assert rolled_back.returncode == 0, rolled_back.stderr
    assert "database at revision 0001" in " ".join(rolled_back.stdout.split())
    assert _counts(clone_engine, ARCHIVE) == {t: before[t][0] for t in PRESS_TABLES}

    migrated = _cidery("db", "migrate", url=clone_url)

    assert migrated.returncode == 0, migrated.stderr
    assert f"database at revision {scripts.head()}" in " ".join(migrated.stdout.split())
    assert _fingerprints(clone_engine, all_tables) == before
    assert not _schema_exists(clone_engine, ARCHIVE)
