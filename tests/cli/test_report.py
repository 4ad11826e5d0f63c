"""``cidery report``, run as a user runs it: the yield of a season as a table, as CSV and as a
PNG chart, and the juice lots with their cost per litre, an unknown cost marked, never zero.

The database is the sample cidery (its split run's lots are not costed yet) and a season
of this module's own with names Rich would read as markup and matplotlib as math. Every
run is made once, together, in a module fixture; the tests check the results one by one.
"""

from __future__ import annotations

import csv
import io
import struct
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from cidery.db.engine import make_engine, transaction
from cidery.models import Vessel
from cidery.sample.seed import seed
from tests.catalog.lots import Cost, Lot, completed_run_with_lots, pressed_through_the_service
from tests.cli.test_cli import SECRET, UNREACHABLE, Cidery, Result, Run, assert_one_line_error
from tests.cli.test_startup import HEAVY, RUN_CIDERY, _loaded
from tests.factories import Factory

SEASON = "2044"
EMPTY_SEASON = "2045"
# Rich would read these as markup or emoji codes, matplotlib the dollars as math.
GROWER = "[/] Orchard"
VARIETY_A = "[bold]x"
VARIETY_B = "$x^2$ :apple: [red] $"
VESSEL = "[red]tank :apple:"
LOTS = ("2044-R9001-A", "2044-R9001-B")


@pytest.fixture(scope="module")
def reported(template_name: str, create_database: Callable[..., str]) -> str:
    """The sample cidery, and in 2044 a grower's two runs: one pressed through the service
    (300 kg of A and 100 kg of B giving 200 L), one split into two lots (600 L costed at
    270.00, 300 L drawing on a line without a price), from 1,800 kg."""
    url = create_database("cidery_cli_report", template=template_name)
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            seed(session)
        with transaction(engine) as session:
            _season_of_odd_names(session)
    finally:
        engine.dispose()
    return url  # create_database drops it at the end of the session


def _season_of_odd_names(session: Session) -> None:
    make = Factory(session)
    grower = make.vendor(GROWER)
    lines = [
        make.purchase_item(vendor=grower, variety=make.variety(name))
        for name in (VARIETY_A, VARIETY_B)
    ]
    pressed_through_the_service(
        session,
        make,
        grower,
        list(zip(lines, (300, 100), strict=True)),
        datetime(int(SEASON), 9, 20, 15, tzinfo=UTC),
    )
    made = completed_run_with_lots(
        session,
        make,
        grower,
        datetime(int(SEASON), 10, 2, 11, tzinfo=UTC),
        [
            Lot("600", Cost(apple=Decimal("240.00"), labor=Decimal("30.00"))),
            Lot("300", Cost(apple=None, labor=Decimal("15.00"))),
        ],
        LOTS[0].removesuffix("-A"),
    )
    session.execute(update(Vessel).where(Vessel.id == made.vessels[1].id).values(name=VESSEL))


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("charts")


@pytest.fixture(scope="module")
def results(
    reported: str,
    charts: Path,
    cli_env: Callable[..., dict[str, str]],
    create_database: Callable[..., str],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Result]:
    cidery = Cidery(cli_env, tmp_path_factory.mktemp("cli-report") / "pgdata")
    season = ("--season", SEASON)
    empty = ("--season", EMPTY_SEASON)
    runs = {
        "yield": Run(("report", "yield", *season), reported),
        "yield_by_grower_csv": Run(
            ("report", "yield", *season, "--by", "grower", "--csv"), reported
        ),
        "yield_plot": Run(
            ("report", "yield", *season, "--plot", str(charts / "yield.png")), reported
        ),
        "yield_by_grower_plot": Run(
            (
                "report",
                "yield",
                *season,
                "--by",
                "grower",
                "--csv",
                "--plot",
                str(charts / "g.PNG"),
            ),
            reported,
        ),
        "yield_every_season_csv": Run(("report", "yield", "--csv"), reported),
        "yield_empty": Run(("report", "yield", *empty), reported),
        "yield_empty_csv": Run(("report", "yield", *empty, "--csv"), reported),
        "yield_empty_plot": Run(
            ("report", "yield", *empty, "--plot", str(charts / "empty.png")), reported
        ),
        "lots": Run(("report", "lots", *season), reported),
        "lots_csv": Run(("report", "lots", *season, "--csv"), reported),
        "lots_every_season": Run(("report", "lots"), reported),
        "lots_empty": Run(("report", "lots", *empty), reported),
        # Mistakes, refused before any connection (the database given is unreachable).
        "season_too_early": Run(("report", "yield", "--season", "1850"), UNREACHABLE),
        "season_not_a_year": Run(("report", "lots", "--season", "next"), UNREACHABLE),
        "by_unknown": Run(("report", "yield", *season, "--by", "week"), UNREACHABLE),
        "plot_no_directory": Run(
            ("report", "yield", *season, "--plot", str(charts / "nowhere" / "c.png")),
            UNREACHABLE,
        ),
        "plot_not_png": Run(
            ("report", "yield", *season, "--plot", str(charts / "c.jpg")), UNREACHABLE
        ),
        "plot_a_directory": Run(("report", "yield", *season, "--plot", str(charts)), UNREACHABLE),
        "unreachable": Run(("report", "lots", *season), UNREACHABLE),
        "not_migrated": Run(("report", "lots"), create_database("cidery_cli_report_empty")),
    }
    return cidery.run_together(runs)


def _ok(result: Result) -> Result:
    assert result.returncode == 0, result
    assert "Traceback" not in result.output, result
    return result


def _table_row(stdout: str, first: str) -> list[str]:
    """The cells of the table row whose first cell is ``first``."""
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in\n{stdout}")


def _csv(stdout: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(stdout)))


# --- yield ------------------------------------------------------------------------------


def test_yield_per_variety_is_a_table_of_the_season_names_printed_literally(
    results: dict[str, Result],
) -> None:
    stdout = _ok(results["yield"]).stdout
    assert f"yield per variety, season {SEASON}" in stdout
    assert _table_row(stdout, VARIETY_A) == [VARIETY_A, "1", "300.000", "150.000", "0.5000"]
    assert _table_row(stdout, VARIETY_B) == [VARIETY_B, "1", "100.000", "50.000", "0.5000"]
    # The sample's varieties were pressed in 2024: not this season.
    assert "Dabinett" not in stdout
    assert results["yield"].stderr == ""


def test_yield_as_csv_has_a_header_and_exact_decimals(results: dict[str, Result]) -> None:
    result = _ok(results["yield_by_grower_csv"])
    assert result.stdout.splitlines()[0] == (
        "group_id,name,run_count,kg_pressed,juice_l,yield_l_per_kg"
    )
    (row,) = _csv(result.stdout)
    # The pressed run (400 kg, 200 L) and the split one (1,800 kg, 900 L).
    assert {k: v for k, v in row.items() if k != "group_id"} == {
        "name": GROWER,
        "run_count": "2",
        "kg_pressed": "2200.000",
        "juice_l": "1100.000",
        "yield_l_per_kg": "0.5000",
    }


def test_yield_of_every_season_without_one(results: dict[str, Result]) -> None:
    names = {row["name"] for row in _csv(_ok(results["yield_every_season_csv"]).stdout)}
    assert {VARIETY_A, VARIETY_B, "Dabinett"} <= names


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    assert data[12:16] == b"IHDR"
    assert len(data) > 5_000, len(data)  # bars, labels and text: not an empty image
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_plot_writes_a_png_chart(results: dict[str, Result], charts: Path) -> None:
    result = _ok(results["yield_plot"])
    assert f"wrote {charts / 'yield.png'}" in result.stderr, result
    width, height = _png_size(charts / "yield.png")
    assert width >= 600, width
    assert height >= 400, height
    # The table still goes to standard output.
    assert _table_row(result.stdout, VARIETY_A)[0] == VARIETY_A


def test_plot_beside_csv_keeps_standard_output_csv(
    results: dict[str, Result], charts: Path
) -> None:
    result = _ok(results["yield_by_grower_plot"])
    assert [row["name"] for row in _csv(result.stdout)] == [GROWER]
    _png_size(charts / "g.PNG")


def test_an_empty_season_says_so_and_writes_no_chart(
    results: dict[str, Result], charts: Path
) -> None:
    assert _ok(results["yield_empty"]).stdout == f"no completed runs in season {EMPTY_SEASON}\n"
    empty_csv = _ok(results["yield_empty_csv"])
    assert empty_csv.stdout.splitlines() == [
        "group_id,name,run_count,kg_pressed,juice_l,yield_l_per_kg"
    ]
    assert f"no completed runs in season {EMPTY_SEASON}" in empty_csv.stderr
    plotted = _ok(results["yield_empty_plot"])
    assert "no chart written" in plotted.stdout, plotted
    assert not (charts / "empty.png").exists()


# --- juice lots -------------------------------------------------------------------------


def test_lots_show_the_cost_per_litre_and_mark_an_unknown_cost(
    results: dict[str, Result],
) -> None:
    stdout = _ok(results["lots"]).stdout
    costed = _table_row(stdout, LOTS[0])
    unpriced = _table_row(stdout, LOTS[1])
    assert costed[3:] == [
        GROWER,
        f"{SEASON}-10-02",
        "600.000",
        "240.00",
        "30.00",
        "270.00",
        "0.4500",
        "complete",
    ]
    assert unpriced[1] == VESSEL
    assert unpriced[3:] == [
        GROWER,
        f"{SEASON}-10-02",
        "300.000",
        "-",
        "15.00",
        "-",
        "-",
        "INCOMPLETE",
    ]
    assert costed[2] == unpriced[2]  # one run, shortened to its first 8 characters
    # And the lot of the run completed into one vessel: its lines have no price.
    assert "2 lot(s) incomplete" in stdout
    # The sample's lots are 2024's.
    assert "2024-R" not in stdout


def test_lots_as_csv_leave_an_unknown_cost_empty(results: dict[str, Result]) -> None:
    rows = [row for row in _csv(_ok(results["lots_csv"]).stdout) if row["batch_number"] in LOTS]
    assert [row["batch_number"] for row in rows] == list(LOTS)
    costed, unpriced = rows
    assert (costed["cost_per_l"], costed["total_cost"], costed["complete"]) == (
        "0.4500",
        "270.00",
        "true",
    )
    assert (unpriced["vessel_name"], unpriced["vendor_name"]) == (VESSEL, GROWER)
    assert (unpriced["total_apple_cost"], unpriced["labor_cost"]) == ("", "15.00")
    assert (unpriced["total_cost"], unpriced["cost_per_l"], unpriced["complete"]) == (
        "",
        "",
        "false",
    )
    assert costed["press_run_id"] == unpriced["press_run_id"]
    assert len(costed["press_run_id"]) == 36


def test_lots_of_every_season_include_the_sample_split_run(results: dict[str, Result]) -> None:
    stdout = _ok(results["lots_every_season"]).stdout
    # The sample's run split across two vessels, costed by the seed.
    for vessel in ("FV-2", "BBL-2"):
        row = next(
            cells
            for line in stdout.splitlines()
            if len(cells := [c.strip() for c in line.strip().strip("│").split("│")]) == 11
            and cells[1] == vessel
        )
        assert row[0].startswith("2024-R"), row
        assert row[-1] in ("complete", "INCOMPLETE"), row
        if row[-1] == "INCOMPLETE":
            assert "-" in row[6:10], row
    _table_row(stdout, LOTS[0])


def test_a_season_without_lots_says_so(results: dict[str, Result]) -> None:
    assert _ok(results["lots_empty"]).stdout == f"no juice lots in season {EMPTY_SEASON}\n"


# --- mistakes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("season_too_early", ("--season", "1900")),
        ("season_not_a_year", ("--season", "integer")),
        ("by_unknown", ("--by must be one of variety, grower", "'week'")),
        ("plot_no_directory", ("--plot", "nowhere", "does not exist")),
        ("plot_not_png", ("--plot", "ending in .png")),
        ("plot_a_directory", ("--plot", "ending in .png")),
        ("unreachable", ("cannot connect to",)),
        ("not_migrated", ("behind by", "cidery db migrate")),
    ],
)
def test_mistakes_end_in_one_line(
    results: dict[str, Result], name: str, expected: tuple[str, ...]
) -> None:
    result = results[name]
    assert_one_line_error(result, *expected)
    assert result.stdout == "", result
    assert SECRET not in result.output, result


def test_no_chart_is_written_for_a_refused_path(charts: Path, results: dict[str, Result]) -> None:
    assert results["plot_not_png"].returncode == 1
    assert not (charts / "c.jpg").exists()
    assert not (charts / "nowhere").exists()


# --- start-up ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args", [("report", "--help"), ("report", "yield", "--help"), ("report", "lots", "--help")]
)
def test_report_help_loads_neither_the_database_nor_matplotlib(
    cli_env: Callable[..., dict[str, str]], args: tuple[str, ...]
) -> None:
    watched = (*HEAVY, "matplotlib", "cidery.models", "cidery.catalog")
    loaded, stdout = _loaded(cli_env(None), RUN_CIDERY, *args, watched=watched)
    assert loaded == []
    assert "Usage" in stdout


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x.example","pay")', '\'=HYPERLINK("http://x.example","pay")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab Orchard", "'\tTab Orchard"),
        ("-12.500", "-12.500"),
        ("250.000", "250.000"),
        ("Hillside Orchard", "Hillside Orchard"),
    ],
)
def test_a_csv_cell_is_never_a_formula(value: str, written: str) -> None:
    """A name typed by a person that a spreadsheet would run (CSV injection) is written as
    text, with the leading quote spreadsheets hide; an amount, negative too, stays one."""
    from cidery.cli.report import _csv_value

    assert _csv_value(value) == written
