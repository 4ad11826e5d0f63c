"""The benchmark report: markdown tables and PNG plots, regenerated from the raw JSON.

:func:`write_report` turns the results of :func:`benchmarks.suite.run`
(the JSON under ``benchmarks/results/``) into ``docs/benchmarks.md`` and its
plots; nothing in the report is typed by hand except the notes, read from
``benchmarks/notes.md`` and appended verbatim (the analysis: causes, changes,
before/after figures). Plots need matplotlib (the ``dev`` extra).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

NONE = "\u2013"  # an en dash: nothing measured
TIMES = "\u00d7"  # the multiplication sign of ratios
LATENCY_PLOT = "latency_by_scale.png"
OPERATORS_PLOT = "operators.png"

# The targets.
P99_TARGET_MS = 50.0
FLOOR_RATIO_TARGET = 1.5
STALL_TARGET_MS = 200.0
TARGET_OPERATORS = 50


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


# --- formatting ---------------------------------------------------------------------------


def ms(value: float | None) -> str:
    if value is None:
        return NONE
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def times(value: float | None, lower_bound: bool = False) -> str:
    if value is None:
        return NONE
    text = f"{value:.1f}{TIMES}" if value < 100 else f"{value:,.0f}{TIMES}"
    return f"≥ {text}" if lower_bound else text


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> list[str]:
    header = list(header)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def _mark(ok: bool | None) -> str:
    return NONE if ok is None else ("met" if ok else "**missed**")


# --- what the results hold -----------------------------------------------------------------


def _scales(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return list(results["scales"].items())


def _patterns(results: dict[str, Any]) -> list[str]:
    keys: list[str] = []
    for _, scale in _scales(results):
        for pattern in scale["reads"]["patterns"]:
            if pattern["key"] not in keys:
                keys.append(pattern["key"])
    return keys


def _pattern(scale: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((p for p in scale["reads"]["patterns"] if p["key"] == key), None)


def _write_scales(results: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, scale["writes"]) for name, scale in _scales(results) if "writes" in scale]


def _at(writes: dict[str, Any], operators: int) -> dict[str, Any] | None:
    return next((m for m in writes["operators"] if m["operators"] == operators), None)


def growth(results: dict[str, Any], key: str) -> float | None:
    """Median at the largest scale over the median at the smallest."""
    scales = _scales(results)
    if len(scales) < 2:
        return None
    first, last = _pattern(scales[0][1], key), _pattern(scales[-1][1], key)
    if not first or not last or not first["median_ms"] or last["median_ms"] is None:
        return None
    return float(last["median_ms"]) / float(first["median_ms"])


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, what was measured, met?) for each of the issue's targets."""
    rows: list[tuple[str, str, bool | None]] = []
    for name, writes in _write_scales(results):
        # The target speaks of 50 operators: the largest crew measured (50 in a real run).
        at = _at(writes, TARGET_OPERATORS) or max(
            writes["operators"], key=lambda m: m["operators"], default=None
        )
        if at is not None:
            rows.append(
                (
                    f"p99 < {P99_TARGET_MS:g} ms, {at['operators']} operators flat out ({name})",
                    f"p99 {ms(at['p99_ms'])} ms at {at['throughput_per_s']} loads/s",
                    at["p99_ms"] is not None and at["p99_ms"] < P99_TARGET_MS,
                )
            )
        paced = writes.get("paced")
        if paced:
            rows.append(
                (
                    f"p99 < {P99_TARGET_MS:g} ms, {paced['operators']} operators at one load "
                    f"per {paced['pace_s']:g} s each ({name})",
                    f"p99 {ms(paced['p99_ms'])} ms at {paced['throughput_per_s']} loads/s",
                    paced["p99_ms"] is not None and paced["p99_ms"] < P99_TARGET_MS,
                )
            )
        rows.append(
            (
                f"service within {FLOOR_RATIO_TARGET:g}{TIMES} the floor, median ({name})",
                f"{times(writes['service_over_floor'])} "
                f"({ms(writes['single']['median_ms'])} vs {ms(writes['floor']['median_ms'])} ms)",
                writes["service_over_floor"] is not None
                and writes["service_over_floor"] <= FLOOR_RATIO_TARGET,
            )
        )
    for name, scale in _scales(results):
        impact = scale.get("impact")
        if impact:
            worst = impact["worst_stall_ms"]
            rows.append(
                (
                    f"no writer stall > {STALL_TARGET_MS:g} ms during migrations ({name})",
                    f"longest stall {ms(worst)} ms",
                    worst is not None and worst <= STALL_TARGET_MS,
                )
            )
    return rows


# --- markdown ------------------------------------------------------------------------------


def render(
    results: dict[str, Any],
    json_name: str,
    plots: dict[str, str],
    notes: str | None = None,
) -> str:
    """The report as markdown; ``plots`` maps a plot's file name to its path from the report."""
    m = results["machine"]
    kind = results.get("kind", "full")
    command = "make bench" if kind == "full" else "make bench-quick"
    out = [
        "# Benchmarks",
        "",
        f"Generated by `{command}` "
        f"(`python -m benchmarks run{' --quick' if kind != 'full' else ''}`) "
        f"from `{json_name}`; do not edit by hand — the notes at the end come from "
        "`benchmarks/notes.md`. The figures are from one machine and one run: compare "
        "them with each other, not with another machine's.",
        "",
        *_table(
            ["machine", ""],
            [
                ["date", results["started"]],
                ["cores", str(m["cores"])],
                ["CPU", m.get("cpu") or NONE],
                ["memory", f"{m['memory_gib']} GiB" if m.get("memory_gib") else NONE],
                ["PostgreSQL", m["postgresql"]],
                [
                    "server settings",
                    ", ".join(f"{k}={v}" for k, v in m.get("postgresql_settings", {}).items()),
                ],
                ["Python", m["python"]],
                ["SQLAlchemy / psycopg", f"{m['sqlalchemy']} / {m['psycopg']}"],
                ["platform", m["platform"]],
                ["whole run", f"{results['seconds'] / 60:.1f} min"],
            ],
        ),
    ]
    out += _targets_section(results)
    out += _data_section(results)
    out += _reads_section(results, plots)
    out += _writes_section(results, plots)
    out += _impact_section(results)
    if notes:
        out += [notes.strip(), ""]
    return "\n".join(out)


def _targets_section(results: dict[str, Any]) -> list[str]:
    rows = targets(results)
    if not rows:
        return []
    return [
        "## Targets",
        "",
        *_table(["target", "measured", ""], [[t, m, _mark(ok)] for t, m, ok in rows]),
    ]


def _data_section(results: dict[str, Any]) -> list[str]:
    scales = _scales(results)
    tables = list(scales[0][1]["rows"]) if scales else []
    rows = [[table] + [f"{s['rows'].get(table, 0):,}" for _, s in scales] for table in tables]
    rows.append(["generated in"] + [f"{s['generate_s']:.1f} s" for _, s in scales])
    return [
        "## Data",
        "",
        "Each scale is generated into a fresh database by `benchmarks.generate` "
        f"(seed {results['plan']['seed']}), then measured; rows per table:",
        "",
        *_table(["table"] + [name for name, _ in scales], rows),
    ]


def _reads_section(results: dict[str, Any], plots: dict[str, str]) -> list[str]:
    scales = _scales(results)
    names = [name for name, _ in scales]
    plan = results["plan"]["reads"]
    out = [
        "## Reads",
        "",
        f"Each pattern of `cidery.press.queries.PATTERNS` ran {plan['iterations']} times "
        "per scale with arguments sampled from the data (runs that have loads, their "
        "grower and a month around their start, vessels that received juice, the lines of "
        "one purchase), timed as the application runs it: `connection.execute(select).all()` "
        "over the Unix socket, rows converted, after a warm-up. `fruit-service` is "
        "`press.available_fruit` (pattern `fruit` plus the API types). Milliseconds; "
        "*growth* is the median at the largest scale over the median at the smallest.",
        "",
        "*PK only*: the same statements in a transaction in which every secondary index of "
        "`press_runs` and `press_run_loads` was dropped (rolled back afterwards), up to "
        f"{plan['pk_only_iterations']} calls or {plan['pk_only_budget_s']:g} s per pattern; "
        "a call still running after that budget is cancelled, and the ratio is then a "
        "lower bound (≥).",
        "",
    ]
    header = ["pattern", "what", *[f"{n} median / p95" for n in names]]
    header += ["growth", *[f"{TIMES} PK only {n}" for n in names], "rows returned"]
    rows = []
    for key in _patterns(results):
        found = [_pattern(s, key) for _, s in scales]
        first = next(p for p in found if p)
        row = [f"`{key}`", first["description"]]
        row += [f"{ms(p['median_ms'])} / {ms(p['p95_ms'])}" if p else NONE for p in found]
        row.append(times(growth(results, key)))
        row += [
            times(p.get("ratio_pk_only"), p.get("ratio_pk_only_is_lower_bound", False))
            if p
            else NONE
            for p in found
        ]
        row.append(" / ".join(f"{p['rows_mean']:g}" if p else NONE for p in found))
        rows.append(row)
    out += _table(header, rows)
    last_name, last = scales[-1]
    plan_rows = []
    for key in _patterns(results):
        p = _pattern(last, key)
        if not p:
            continue
        pk = p.get("pk_only")
        expected = p["plan"]["uses_expected_index"]
        plan_rows.append(
            [
                f"`{key}`",
                f"`{p['expected_index']}`" + ("" if expected else " (**not used**)"),
                p["plan"]["summary"]
                + (
                    f" (and {len(p['plan']['other_plans'])} other plan(s) for other arguments)"
                    if p["plan"].get("other_plans")
                    else ""
                ),
                pk["plan"]["summary"] if pk else "same SQL as `fruit`",
            ]
        )
    out += [
        f"Plans at {last_name} (`EXPLAIN (FORMAT JSON)` of the first argument sets; the "
        "most common plan):",
        "",
        *_table(["pattern", "declared index", "plan", "plan with primary keys only"], plan_rows),
    ]
    if LATENCY_PLOT in plots:
        out += [f"![median latency per pattern against scale]({plots[LATENCY_PLOT]})", ""]
    return out


def _writes_section(results: dict[str, Any], plots: dict[str, str]) -> list[str]:
    write_scales = _write_scales(results)
    if not write_scales:
        return []
    plan = results["plan"]["writes"]
    out = [
        "## Writes",
        "",
        "`press.add_load` through the service, one transaction per load as an API request "
        "makes it (a session from the pool, `add_load`, commit; a durable commit), "
        "250 kg per load on lines bought for the benchmark, ten loads per run before the "
        f"operator moves to the next run. *Single*: {plan['iterations']} sequential loads, "
        "taking turns with the floor's (one service load, one floor load), so drift on the "
        "machine hits both alike. *Floor*: the same statements by hand through raw psycopg, "
        "one transaction per load (lock the run and the purchase line `FOR UPDATE`, sum what "
        "was pressed, insert the load with the next number, update the run, the two audit "
        "rows in one executemany). *N operators*: N threads, each with its own connection "
        f"and runs, adding loads flat out (no think time) for {plan['duration_s']:g} s; the "
        "largest crew then runs the floor's statements the same way (what the machine can "
        f"do), and again through the service *paced*: one load every {plan['pace_s']:g} s "
        "per operator, their starts spread over the first interval. *Contention*: "
        f"{plan['contention_operators']} operators on runs of one grower, all drawing on "
        "one purchase line, so they queue on its row lock. The client threads run in one "
        "Python process on the same cores as the server. Milliseconds.",
        "",
    ]
    for name, writes in write_scales:
        rows = [
            ["single operator", "1", NONE, ms(writes["single"]["median_ms"]),
             ms(writes["single"]["p99_ms"]), "0"],
            ["floor (raw psycopg), single", "1", NONE, ms(writes["floor"]["median_ms"]),
             ms(writes["floor"]["p99_ms"]), "0"],
        ]  # fmt: skip
        measured = [
            (f"{m['operators']} operator{'' if m['operators'] == 1 else 's'}", m)
            for m in writes["operators"]
        ]
        if writes.get("floor_operators"):
            m = writes["floor_operators"]
            measured.append((f"floor (raw psycopg), {m['operators']} operators", m))
        if writes.get("paced"):
            m = writes["paced"]
            measured.append((f"paced: {m['operators']} operators, 1 load / {m['pace_s']:g} s", m))
        if writes.get("contention"):
            m = writes["contention"]
            measured.append((f"contention: {m['operators']} operators, one line", m))
        for label, m in measured:
            errors = str(m["errors"])
            if m["errors"]:
                errors += " (" + ", ".join(f"{k} {v}" for k, v in m["errors_by_type"].items()) + ")"
            rows.append(
                [label, str(m["operators"]), f"{m['throughput_per_s']}", ms(m["median_ms"]),
                 ms(m["p99_ms"]), errors]
            )  # fmt: skip
        out += [
            f"### {name}",
            "",
            *_table(["scenario", "operators", "loads/s", "median", "p99", "errors"], rows),
            f"Service over floor, single operator: {times(writes['service_over_floor'])} "
            f"(median), {times(writes['service_over_floor_p99'])} (p99).",
            "",
        ]
    if OPERATORS_PLOT in plots:
        out += [f"![latency and throughput against operators]({plots[OPERATORS_PLOT]})", ""]
    return out


def _impact_section(results: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for name, scale in _scales(results):
        impact = scale.get("impact")
        if not impact:
            continue
        sizes = ", ".join(f"{t} {n:,}" for t, n in sorted(impact["table_rows"].items()))
        base = impact["baseline_writer"]
        out += [
            "## Migration impact",
            "",
            f"The {name} database downgraded to revision {impact['start_revision']} "
            f"({sizes} rows, the write benchmark's fixtures included), then each later "
            "revision applied with `migrator.upgrade` "
            "while one connection kept writing: `UPDATE vendors`, `UPDATE purchase_items`, "
            "`INSERT INTO purchase_items` in turn, one statement per transaction, "
            f"{impact['writer_pause_ms']:g} ms apart. Before the first revision the writer "
            f"alone had a median of {ms(base['median_ms'])} ms, p99 {ms(base['p99_ms'])} ms, "
            f"max {ms(base['max_ms'])} ms (each a durable commit).",
            "",
        ]
        rows = []
        for r in impact["revisions"]:
            w = r["writer"]
            rows.append(
                [r["revision"], ms(r["duration_ms"]), str(w["n"]), ms(w["median_ms"]),
                 ms(w["p99_ms"]), ms(w["longest_stall_ms"]),
                 f"{w['longest_stall_statement'] or NONE} at +{ms(w['longest_stall_at_ms'])} ms"]
            )  # fmt: skip
        out += _table(
            ["revision", "duration", "writes during it", "median", "p99", "longest stall",
             "stalled statement, when"],
            rows,
        )  # fmt: skip
        if impact["writer_errors"]:
            errors = ", ".join(f"{k} {v}" for k, v in impact["writer_errors"].items())
            out += [f"Writer errors: {errors}.", ""]
    return out


# --- plots -----------------------------------------------------------------------------------


def write_plots(results: dict[str, Any], directory: Path) -> dict[str, Path]:
    """The PNG plots; returns them by file name (none when there is nothing to plot)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - the dev extra installs it
        raise RuntimeError("the benchmark plots need matplotlib: pip install -e '.[dev]'") from exc
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    scales = _scales(results)

    figure, axes = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    loads = [s["rows"].get("press_run_loads", 0) for _, s in scales]
    for key in _patterns(results):
        found = [_pattern(s, key) for _, s in scales]
        points = [(x, p) for x, p in zip(loads, found, strict=True) if p]
        if not points:
            continue
        xs = [x for x, _ in points]
        (line,) = axes[0].plot(xs, [p["median_ms"] for _, p in points], marker="o", label=key)
        axes[0].plot(xs, [p["p95_ms"] for _, p in points], linestyle=":", color=line.get_color())
        pk = [(x, p["pk_only"]) for x, p in points if p.get("pk_only")]
        if pk:
            axes[1].plot(
                [x for x, _ in pk],
                [q["median_ms"] if q["median_ms"] is not None else q["timed_out_ms"]
                 for _, q in pk],
                marker="o", label=key, color=line.get_color(),
            )  # fmt: skip
    for ax, title in zip(
        axes, ("with the indexes (solid: median, dotted: p95)", "primary keys only (median)"),
        strict=True,
    ):  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("loads in the database")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.set_xticks(loads, [f"{n:,}" for n in loads])
    axes[0].set_ylabel("latency (ms)")
    axes[0].legend(fontsize="small")
    figure.suptitle("Press-run query patterns: latency against scale")
    figure.tight_layout()
    path = directory / LATENCY_PLOT
    figure.savefig(path, dpi=110)
    plt.close(figure)
    written[LATENCY_PLOT] = path

    write_scales = _write_scales(results)
    if write_scales:
        figure, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
        for name, writes in write_scales:
            counts = [m["operators"] for m in writes["operators"]]
            (line,) = left.plot(
                counts, [m["median_ms"] for m in writes["operators"]], marker="o",
                label=f"{name} median",
            )  # fmt: skip
            left.plot(
                counts, [m["p99_ms"] for m in writes["operators"]], marker="s", linestyle="--",
                color=line.get_color(), label=f"{name} p99",
            )  # fmt: skip
            right.plot(
                counts, [m["throughput_per_s"] for m in writes["operators"]], marker="o",
                color=line.get_color(), label=f"{name} service",
            )  # fmt: skip
            floor = writes.get("floor_operators")
            if floor:
                left.plot(
                    [floor["operators"]], [floor["p99_ms"]], marker="x", linestyle="",
                    color=line.get_color(), markersize=10, label=f"{name} floor p99",
                )  # fmt: skip
                right.plot(
                    [floor["operators"]], [floor["throughput_per_s"]], marker="x",
                    linestyle="", color=line.get_color(), markersize=10,
                    label=f"{name} floor (raw psycopg)",
                )  # fmt: skip
        left.axhline(P99_TARGET_MS, color="grey", linestyle=":", label="p99 target")
        left.set_xlabel("concurrent operators (flat out)")
        left.set_ylabel("add_load latency (ms)")
        left.set_yscale("log")
        left.set_title("latency")
        right.set_xlabel("concurrent operators (flat out)")
        right.set_ylabel("loads per second")
        right.set_title("throughput")
        for ax in (left, right):
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize="small")
        figure.suptitle("add_load through the service: concurrent operators")
        figure.tight_layout()
        path = directory / OPERATORS_PLOT
        figure.savefig(path, dpi=110)
        plt.close(figure)
        written[OPERATORS_PLOT] = path
    return written


def write_report(
    results: dict[str, Any], json_path: Path, markdown: Path, plots_dir: Path
) -> list[Path]:
    """Markdown and plots from ``results`` (read from ``json_path``); returns what was written.

    The notes are ``notes.md`` beside the results directory (``benchmarks/notes.md``).
    """
    plots = write_plots(results, plots_dir)
    markdown.parent.mkdir(parents=True, exist_ok=True)
    links = {
        name: Path(os.path.relpath(path, markdown.parent)).as_posix()
        for name, path in plots.items()
    }
    notes_path = json_path.parent.parent / "notes.md"
    notes = notes_path.read_text() if notes_path.exists() else None
    try:
        json_name = json_path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        json_name = json_path.name
    markdown.write_text(render(results, json_name, links, notes))
    return [markdown, *plots.values()]
