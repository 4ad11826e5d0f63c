"""The API benchmark without timing anything: the minimal endpoint answers the three
calls as the app does, the results round-trip through JSON, and a tiny run (one
operator, under a second per point, both apps served by uvicorn) yields every
endpoint with no error, a report and a plot."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from benchmarks import report, suite
from benchmarks.api import ENDPOINTS, Seat, prepare
from benchmarks.api_server import MinimalApp
from benchmarks.options import ApiOptions
from benchmarks.results import ApiPoint, ApiResults, EndpointResult, Latency, Machine, Results
from sqlalchemy import Engine
from starlette.testclient import TestClient

from cidery.config import Settings
from cidery.db.engine import make_engine, transaction
from tests.factories import Factory

TINY_API = ApiOptions(
    operator_counts=(1,), workers=(1,), paces=(0.25, None), duration_s=0.6, client_processes=1
)


@pytest.fixture
def engine(clone_url: str) -> Iterator[Engine]:
    engine = make_engine(clone_url)
    with transaction(engine) as session:
        Factory(session).variety()
    yield engine
    engine.dispose()


@pytest.fixture
def seated(engine: Engine) -> tuple[uuid.UUID, Seat]:
    actor, seats = prepare(engine, 1)
    return actor, seats[0]


def test_the_minimal_endpoint_answers_the_three_calls(
    clone_url: str, seated: tuple[uuid.UUID, Seat]
) -> None:
    actor, seat = seated
    run_id, line_id = seat.position.next_load()
    with TestClient(MinimalApp(clone_url, actor, pool_size=2)) as client:
        run = client.get(f"/api/v1/press-runs/{run_id}")
        assert run.status_code == 200, run.text
        assert run.json()["run"]["id"] == str(run_id)
        assert run.json()["loads"] == []
        fruit = client.get("/api/v1/available-fruit", params={"vendor_id": str(seat.vendor_id)})
        assert fruit.status_code == 200, fruit.text
        assert {f["purchase_item_id"] for f in fruit.json()} >= {str(line_id)}
        load = client.post(
            f"/api/v1/press-runs/{run_id}/loads",
            json={"purchase_item_id": str(line_id), "weight": "250", "weight_unit": "kg"},
        )
        assert load.status_code == 201, load.text
        assert Decimal(load.json()["weight_kg"]) == Decimal("250")
        again = client.get(f"/api/v1/press-runs/{run_id}").json()
        assert [x["id"] for x in again["loads"]] == [load.json()["id"]]
        assert client.get("/api/v1/press-runs/nothing").status_code == 404
        missing = client.get(f"/api/v1/press-runs/{uuid.uuid4()}")
        assert missing.status_code == 422


def test_the_api_results_round_trip_through_json() -> None:
    lat = Latency(n=3, median_ms=1.5, p95_ms=2.0, p99_ms=2.5, mean_ms=1.6, max_ms=2.5)
    point = ApiPoint(
        app="full",
        workers=1,
        operators=1,
        pace_s=None,
        duration_s=1.0,
        processes=1,
        screens=3,
        screen=lat,
        endpoints=tuple(EndpointResult(e, 3, 3.0, lat, 1, {"status 500": 1}) for e in ENDPOINTS),
        client_cpu_ms_per_screen=0.9,
    )
    api = ApiResults(server="uvicorn", pool_size=10, points=(point,))
    machine = Machine(2, "cpu", 1.0, "linux", "3.11", "18", {}, "2", "3")
    results = Results(
        kind="api-quick",
        started=datetime(2026, 1, 1, tzinfo=UTC),
        finished=datetime(2026, 1, 1, tzinfo=UTC),
        seconds=1.0,
        machine=machine,
        plan=suite.QUICK,
        scales={},
        api=api,
    )
    assert Results.from_json(results.to_json()) == results
    assert api.point("full", 1, 1, None) == point
    assert api.point("minimal", 1, 1, None) is None
    # The report renders a file with the API alone, its targets unmeasured without the
    # minimal endpoint's figures.
    rendered = report.render(results, "x.json", {})
    assert "## API" in rendered
    assert "## Reads" not in rendered


def test_a_tiny_run_measures_every_endpoint_of_both_apps(server_url: str, tmp_path: Path) -> None:
    settings = Settings(
        database_url=server_url,
        data_dir=tmp_path / "unused",
        lock_timeout="5s",
        statement_timeout="5min",
    )
    json_path, markdown = suite.run_api_only(
        settings, quick=True, results_dir=tmp_path / "results", options=TINY_API
    )
    results = Results.read(json_path)
    assert results.kind == "api-quick"
    assert results.api is not None
    points = results.api.points
    assert {(p.app, p.pace_s) for p in points} == {
        (app, pace) for app in ("full", "minimal") for pace in TINY_API.paces
    }
    for point in points:
        assert point.screens > 0, point
        assert point.screen.n == point.screens
        for endpoint in ENDPOINTS:
            measured = point.endpoint(endpoint)
            assert measured is not None
            assert measured.errors == 0, measured.errors_by_type
            assert measured.requests > 0
            assert measured.latency.median_ms is not None
    text = markdown.read_text()
    assert "## API" in text
    assert "API add-load p99 < 50 ms" in text
    assert (json_path.with_suffix("") / report.API_PLOT).exists()
