"""``cidery report``: yield per variety or grower for a season, and juice lots' cost per litre.

Imported by every run of the program to build the command tree, so it imports nothing
heavy: the catalog, the database and matplotlib are imported inside the commands, after
their options are checked. The figures are the catalog's (:func:`cidery.catalog.yield_report`,
:func:`cidery.catalog.lot_costs`), read with the database settings of ``cidery db``.

Output is a table for a person, or with ``--csv`` CSV on standard output for a program:
a header row of the API's field names, amounts as exact decimals, an unknown amount as an
empty field. Names are printed as they are, never read as markup.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from cidery.cli.groups import command_group
from cidery.errors import CideryError

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.table import Table
    from sqlalchemy.orm import Session

    from cidery.catalog import YieldRow
    from cidery.press.access import Actor

    Query = TypeVar("Query", bound=BaseModel)
    Row = TypeVar("Row", bound=BaseModel)

app = command_group(
    "Reports: yield per variety or grower for a season, juice lots' cost per litre."
)

# What --by takes: the catalog's groupings, a grower being a vendor there.
BY = ("variety", "grower")

SeasonOption = Annotated[
    str | None,
    typer.Option(
        "--season",
        metavar="YEAR",
        help="A harvest year: the runs completed in it (their end time, UTC). Default: all.",
        show_default=False,
    ),
]
CsvOption = Annotated[
    bool, typer.Option("--csv", help="CSV on standard output (a header row, exact decimals).")
]


def _season(season: str | None) -> dict[str, str]:
    return {} if season is None else {"season": season}


def _scope(season: int | None) -> str:
    return "every season" if season is None else f"season {season}"


def _checked(model: type[Query], values: dict[str, Any]) -> Query:
    """``values`` as the catalog's ``model``, its rules refusing a bad option in one line."""
    from cidery.press.errors import InvalidInput
    from cidery.press.inputs import parse

    options = {"season": "--season"}
    try:
        return parse(model, values)
    except InvalidInput as exc:
        raise CideryError(
            "; ".join(f"{options.get(e['field'], e['field'])}: {e['message']}" for e in exc.errors)
        ) from None


def _plot_path(plot: Path | None) -> Path | None:
    if plot is None:
        return None
    if plot.suffix.lower() != ".png":
        raise CideryError(f"--plot {plot}: the chart is a PNG: give a file name ending in .png")
    if not plot.parent.is_dir():
        raise CideryError(f"--plot {plot}: the directory {plot.parent} does not exist")
    if plot.is_dir():
        raise CideryError(f"--plot {plot}: is a directory")
    return plot


def _read(read: Callable[[Session, Actor, Query], list[Row]], query: Query) -> list[Row]:
    """The catalog read ``read`` of ``query``, on the database ``cidery db`` uses."""
    from cidery.cli.db import _require_head, _runtime
    from cidery.db.engine import session_factory
    from cidery.press.access import Actor

    runtime = _runtime()
    _require_head(runtime)
    with session_factory(runtime.engine)() as session:
        return read(session, Actor.system(), query)


# A cell a spreadsheet would run as a formula (OWASP's "CSV injection"): a grower's name
# is typed by a person and may start with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def _csv_value(value: object) -> object:
    # JSON mode gives amounts, ids and dates as their exact text already.
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        # Read as text, as the spreadsheet shows a leading quote; a negative amount stays.
        return "'" + value
    return value


def _write_csv(model: type[BaseModel], rows: Sequence[BaseModel]) -> None:
    """A header row of ``model``'s fields (the API's names), then a row per row."""
    import csv

    fields = list(model.model_fields)
    writer = csv.writer(sys.stdout)
    writer.writerow(fields)
    for row in rows:
        values = row.model_dump(mode="json")
        writer.writerow([_csv_value(values[field]) for field in fields])


def _print_table(table: Table) -> None:
    """The table on standard output; piped, as wide as it needs (a cell never wraps). On
    a narrow terminal its cells fold (their columns' ``overflow``): nothing is cut off."""
    from cidery.cli.output import console

    if console.is_terminal:
        console.print(table)
        return
    # Rich caps a print's width at the console's (80 columns when piped).
    unbounded = console.options.update_width(sys.maxsize)
    previous = console.width
    console.width = max(previous, console.measure(table, options=unbounded).maximum)
    try:
        console.print(table)
    finally:
        console.width = previous


def _amount(value: object) -> str:
    """An amount as it is; an unknown one as ``-``, never as zero."""
    return "-" if value is None else f"{value:,}"


@app.command("yield")
def yield_(
    season: SeasonOption = None,
    by: Annotated[
        str, typer.Option("--by", metavar="variety|grower", help="What each row sums.")
    ] = "variety",
    csv: CsvOption = False,
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            metavar="FILE",
            help="Also write a PNG bar chart of the yield (L/kg) per variety or grower.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Yield per variety or per grower: kg pressed, litres of juice, L/kg.

    Over the runs completed in the season (or every season); by variety, each run's juice
    is shared among its varieties by the weight of the loads.
    """
    if by not in BY:
        raise CideryError(f"--by must be one of {', '.join(BY)}, got {by!r}")
    chart = _plot_path(plot)
    from cidery import catalog

    grouping = catalog.YieldGrouping.VARIETY if by == "variety" else catalog.YieldGrouping.VENDOR
    query = _checked(catalog.YieldQuery, {"group_by": grouping, **_season(season)})
    rows = _read(catalog.yield_report, query)

    scope = _scope(query.season)
    if csv:
        _write_csv(catalog.YieldRow, rows)
    elif rows:
        _print_yield_table(rows, by, scope)
    if not rows:
        _say_empty(f"no completed runs in {scope}", csv, chart is not None)
        return
    if chart is not None:
        _write_chart(rows, chart, f"Yield per {by}, {scope}")
        from cidery.cli.output import note

        note(f"wrote {chart}")


def _say_empty(message: str, csv: bool, chart: bool) -> None:
    from cidery.cli.output import console, note

    if chart:
        message += ": no chart written"
    # Beside CSV, a note on stderr: standard output stays the (empty) CSV.
    if csv:
        note(message)
    else:
        console.print(message, soft_wrap=True)


def _print_yield_table(rows: Sequence[YieldRow], by: str, scope: str) -> None:
    from rich.table import Table

    from cidery.cli.output import cell

    table = Table(title=f"yield per {by}, {scope}")
    for column in (by, "runs", "kg pressed", "juice L", "L/kg"):
        table.add_column(column, justify="left" if column == by else "right", overflow="fold")
    for row in rows:
        table.add_row(
            cell(row.name),
            f"{row.run_count:,}",
            _amount(row.kg_pressed),
            _amount(row.juice_l),
            _amount(row.yield_l_per_kg),
        )
    if by == "variety":
        table.caption = "a run's juice is shared among its varieties by weight"
    _print_table(table)


def _write_chart(rows: Sequence[YieldRow], path: Path, title: str) -> None:
    """A PNG bar chart of L/kg per row, drawn by matplotlib's Agg backend (no display).

    Names are drawn literally: mathtext (``$...$``) is off.
    """
    import warnings

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # A row without a yield (no kilograms) has no bar; its L/kg is not known, not zero.
    shown = [(row.name, row.yield_l_per_kg) for row in rows if row.yield_l_per_kg is not None]
    with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
        figure = Figure(figsize=(max(6.4, 1.0 + 0.7 * len(shown)), 4.8), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.subplots()
        positions = range(len(shown))
        # Floats for drawing only; the labels are the exact figures.
        bars = axes.bar(positions, [float(rate) for _, rate in shown], color="#b5651d")
        axes.bar_label(bars, labels=[str(rate) for _, rate in shown], padding=2)
        axes.set_xticks(
            positions, [name for name, _ in shown], rotation=30, horizontalalignment="right"
        )
        axes.set_ylabel("juice per kg of fruit (L/kg)")
        axes.set_title(title)
        axes.margins(y=0.15)
        try:
            with warnings.catch_warnings():
                # A name in a script the bundled font lacks is drawn as boxes, not warned of.
                warnings.filterwarnings("ignore", message="Glyph .* missing from font")
                figure.savefig(path, format="png", dpi=100)
        except OSError as exc:
            raise CideryError(f"cannot write {path}: {exc.strerror or exc}") from None


@app.command("lots")
def lots(season: SeasonOption = None, csv: CsvOption = False) -> None:
    """Juice lots with their litres and cost per litre, oldest first.

    Each with its run and grower; a lot whose cost is not fully known is marked
    INCOMPLETE and its unknown amounts shown as -, never as zero.
    """
    from cidery import catalog

    query = _checked(catalog.LotQuery, _season(season))
    rows = _read(catalog.lot_costs, query)
    scope = _scope(query.season)
    if csv:
        _write_csv(catalog.LotCostRow, rows)
    if not rows:
        _say_empty(f"no juice lots in {scope}", csv, chart=False)
        return
    if csv:
        return

    from rich.table import Table

    from cidery.cli.output import cell, styled

    table = Table(title=f"juice lots, {scope}")
    columns = ("lot", "vessel", "run", "grower", "started", "litres")
    for column in (*columns, "fruit", "labor", "total", "per L", "cost"):
        table.add_column(
            column, justify="left" if column in columns[:5] else "right", overflow="fold"
        )
    for row in rows:
        table.add_row(
            cell(row.batch_number),
            cell(row.vessel_name or "-"),
            cell(str(row.press_run_id)[:8]),
            cell(row.vendor_name),
            cell(row.start_date.isoformat()),
            _amount(row.litres),
            _amount(row.total_apple_cost),
            _amount(row.labor_cost),
            _amount(row.total_cost),
            _amount(row.cost_per_l),
            styled("complete", "green") if row.complete else styled("INCOMPLETE", "yellow"),
        )
    incomplete = sum(not row.complete for row in rows)
    if incomplete:
        table.caption = (
            f"{incomplete} lot(s) incomplete: - is a cost not known (a purchase line "
            "without a price, labor without hours, or not costed yet)"
        )
    _print_table(table)
