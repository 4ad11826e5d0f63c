"""What the benchmarks measured, as frozen dataclasses, and their JSON form.

Each benchmark returns one of these types and the report reads nothing else;
:meth:`Results.to_json` and :meth:`Results.from_json` are the results file
(``benchmarks/results/*.json``). The JSON mirrors the dataclasses field for
field, so it is written and read by one generic codec driven by the type hints
rather than by a hand-written function per type, which would drift from them.

The file carries its layout's number in ``format``. Files written before the
field existed (format 1, the first results) hold the same figures with each
latency summary spread among its neighbours' keys instead of under
``latency``: :func:`_from_format_1` regroups them, so they still load and
render. A file of a later format than this code knows is refused with
:class:`ResultsFormatError` rather than misread.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from benchmarks.options import Plan

FORMAT = 2

T = TypeVar("T")


class ResultsFormatError(ValueError):
    """A results file that does not hold results this code can read."""


# --- the figures --------------------------------------------------------------------------


@dataclass(frozen=True)
class Latency:
    """Milliseconds over ``n`` samples; the figures are None when there were none."""

    n: int
    median_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    mean_ms: float | None = None
    max_ms: float | None = None


@dataclass(frozen=True)
class PlanSummary:
    """One ``EXPLAIN (FORMAT JSON)`` plan, reduced to what the report shows."""

    summary: str  # node by node, depth first: "Limit → Index Scan using ..."
    node_types: tuple[str, ...]
    indexes: tuple[str, ...]
    seq_scans: tuple[str, ...]
    total_cost: float | None
    # None when no index was declared (a whole-table summary).
    uses_expected_index: bool | None
    # Summaries of the other plans seen for other arguments, if any.
    other_plans: tuple[str, ...] = ()


@dataclass(frozen=True)
class PkOnlyResult:
    """A pattern again, with only the primary keys of its tables left."""

    latency: Latency
    # The budget in ms when a call was cancelled for outliving it; None otherwise.
    timed_out_ms: float | None
    plan: PlanSummary


@dataclass(frozen=True)
class OtherIndexesResult:
    """A pattern again, with the original TypeScript app's indexes on the press tables
    instead of ours."""

    latency: Latency
    plan: PlanSummary
    # Ours again, the figure ``ratio_theirs`` divides by: on a copy of the press tables
    # with our indexes, taking turns with theirs call by call (files before 2026-12-02:
    # timed right after theirs, in the database itself).
    ours_again: Latency | None = None


@dataclass(frozen=True)
class PatternResult:
    """One read: a pattern of ``cidery.press.queries.PATTERNS``, or a service call."""

    key: str
    description: str
    expected_index: str | None
    latency: Latency
    rows_mean: float
    # None for a service call: its statements are the patterns named in ``wraps``.
    plan: PlanSummary | None
    wraps: tuple[str, ...] = ()
    pk_only: PkOnlyResult | None = None
    ratio_pk_only: float | None = None
    ratio_pk_only_is_lower_bound: bool = False
    # Not in files written before the comparison existed.
    theirs: OtherIndexesResult | None = None
    # The original app's median over ours (``theirs.ours_again``): below 1, ours is
    # the slower.
    ratio_theirs: float | None = None
    # Its 95% bootstrap interval (files before 2026-12-02: none).
    ratio_theirs_interval: tuple[float, float] | None = None
    # A service read's median over the same statements sent through the driver
    # (``raw_key``'s entry), on the same connection.
    raw_key: str | None = None
    ratio_over_raw: float | None = None
    # Its 95% bootstrap interval (files before 2026-12-03: none).
    ratio_over_raw_interval: tuple[float, float] | None = None


@dataclass(frozen=True)
class ReadResults:
    iterations: int
    pk_only_dropped_indexes: tuple[str, ...]
    patterns: tuple[PatternResult, ...]
    # The tables whose secondary indexes the PK-only pass dropped (format 1: the two
    # press tables, always).
    pk_only_tables: tuple[str, ...] = ("press_runs", "press_run_loads")
    # The original app's indexes as created for the comparison (CREATE INDEX text),
    # and ours that were dropped to make room for them.
    theirs_indexes: tuple[str, ...] = ()
    theirs_dropped_indexes: tuple[str, ...] = ()

    def pattern(self, key: str) -> PatternResult | None:
        return next((p for p in self.patterns if p.key == key), None)


@dataclass(frozen=True)
class CrewResult:
    """``operators`` operators adding loads for ``duration_s``: flat out, or paced.

    The operators are threads spread over ``processes`` client processes (files
    written before processes were used: one).
    """

    operators: int
    pace_s: float | None
    duration_s: float
    loads: int
    throughput_per_s: float | None
    latency: Latency
    errors: int
    errors_by_type: dict[str, int] = field(default_factory=dict)
    processes: int = 1
    # Client CPU (every client process's user + system time) per completed load.
    client_cpu_ms_per_load: float | None = None


@dataclass(frozen=True)
class WriteResults:
    single: Latency
    floor: Latency
    service_over_floor: float | None
    service_over_floor_p99: float | None
    operators: tuple[CrewResult, ...]
    floor_operators: CrewResult | None = None
    paced: CrewResult | None = None
    contention: CrewResult | None = None
    # Client CPU per single-operator call (``time.process_time`` deltas in the client
    # process, milliseconds); not in files written before it was measured.
    single_cpu: Latency | None = None
    floor_cpu: Latency | None = None
    # The floor at each operator count of ``operators``.
    floor_crews: tuple[CrewResult, ...] = ()

    def crew(self, operators: int) -> CrewResult | None:
        return next((m for m in self.operators if m.operators == operators), None)

    def floor_crew(self, operators: int) -> CrewResult | None:
        return next((m for m in self.floor_crews if m.operators == operators), None)


@dataclass(frozen=True)
class WriterSummary:
    """The concurrent writer's statements over one window, and the slowest of them."""

    latency: Latency
    longest_stall_ms: float | None
    longest_stall_statement: str | None
    # From the window's start (the revision's, or the baseline's).
    longest_stall_at_ms: float | None


@dataclass(frozen=True)
class RevisionImpact:
    revision: str
    duration_ms: float
    writer: WriterSummary
    # The revision it was applied on, and the rows the writer's tables held then
    # (format 1: every revision was applied in turn from one start, recorded once).
    from_revision: str | None = None
    table_rows: dict[str, int] = field(default_factory=dict)
    baseline_writer: WriterSummary | None = None


@dataclass(frozen=True)
class ImpactResults:
    writer_pause_ms: float
    revisions: tuple[RevisionImpact, ...]
    worst_stall_ms: float | None
    writer_errors: dict[str, int]
    writer_statements: int
    # Format 1: the one start every revision was applied from, and the writer alone
    # before the first revision.
    start_revision: str | None = None
    table_rows: dict[str, int] = field(default_factory=dict)
    baseline_writer: WriterSummary | None = None


@dataclass(frozen=True)
class ScaleResults:
    scale: str
    rows: dict[str, int]
    generate_s: float
    reads: ReadResults
    writes: WriteResults | None = None
    impact: ImpactResults | None = None
    # Seconds per phase of the generator (load, indexes, ...); not in format 1.
    generate_phases: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class EndpointResult:
    """One endpoint's requests at one point, every operator's, over the point's window."""

    endpoint: str  # "get_run", "available_fruit" or "add_load"
    requests: int
    throughput_per_s: float | None
    latency: Latency
    errors: int = 0
    # "status 409", or the exception's type for a request that got no answer.
    errors_by_type: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiPoint:
    """``operators`` operators looping over the pressing screen's calls against one app,
    served by ``workers`` uvicorn workers: flat out, or one loop every ``pace_s`` seconds."""

    app: str  # "full": create_app as served; "minimal": the raw ASGI endpoint
    workers: int
    operators: int
    pace_s: float | None
    duration_s: float
    processes: int  # client processes the operators were spread over
    screens: int  # loops of the three calls completed without an error
    screen: Latency  # one loop: the three calls, one after the other
    endpoints: tuple[EndpointResult, ...]
    # Every client process's CPU (user + system) per completed loop.
    client_cpu_ms_per_screen: float | None = None

    def endpoint(self, name: str) -> EndpointResult | None:
        return next((e for e in self.endpoints if e.endpoint == name), None)


@dataclass(frozen=True)
class ApiResults:
    """The API benchmark: every point, for the full app and the minimal endpoint."""

    server: str  # what served both apps
    pool_size: int  # per worker, and as many again of overflow, for both apps
    points: tuple[ApiPoint, ...]

    def point(
        self, app: str, workers: int, operators: int, pace_s: float | None
    ) -> ApiPoint | None:
        return next(
            (
                p
                for p in self.points
                if (p.app, p.workers, p.operators, p.pace_s) == (app, workers, operators, pace_s)
            ),
            None,
        )


@dataclass(frozen=True)
class CommandTimes:
    """One command run ``latency.n`` times, each in a process of its own: from starting
    the process to its exit."""

    key: str  # "help", "version", "status", "migrate", "psql" or "imports"
    command: str  # as the report shows it
    latency: Latency
    samples_ms: tuple[float, ...] = ()

    @property
    def spread_ms(self) -> tuple[float, float] | None:
        """The fastest and the slowest run."""
        return (min(self.samples_ms), max(self.samples_ms)) if self.samples_ms else None


@dataclass(frozen=True)
class StartupResults:
    """The command line starting (:mod:`benchmarks.startup`)."""

    commands: tuple[CommandTimes, ...]
    revisions: int  # applied by each ``db migrate`` run, and the SQL files psql ran
    psql: str  # ``psql --version``
    # ``db migrate``'s median over psql's.
    migrate_over_psql: float | None

    def command(self, key: str) -> CommandTimes | None:
        return next((c for c in self.commands if c.key == key), None)


@dataclass(frozen=True)
class Machine:
    cores: int | None
    cpu: str
    memory_gib: float | None
    platform: str
    python: str
    postgresql: str
    postgresql_settings: dict[str, str]
    sqlalchemy: str
    psycopg: str


@dataclass(frozen=True)
class Results:
    """One run of :func:`benchmarks.suite.run`: every scale's figures, and where from."""

    # "full" or "quick"; "api" or "api-quick" for ``python -m benchmarks api`` alone,
    # "startup" or "startup-quick" for ``python -m benchmarks startup``.
    kind: str
    started: datetime
    finished: datetime
    seconds: float
    machine: Machine
    plan: Plan
    scales: dict[str, ScaleResults]
    format: int = FORMAT
    # The HTTP API benchmark (:mod:`benchmarks.api`); not in files written before it.
    api: ApiResults | None = None
    # The command line's start-up (:mod:`benchmarks.startup`); not in files written
    # before it.
    startup: StartupResults | None = None

    def to_json(self) -> dict[str, Any]:
        encoded: dict[str, Any] = _encode(self)
        return encoded

    @classmethod
    def from_json(cls, data: Any) -> Results:
        if not isinstance(data, dict):
            raise ResultsFormatError(f"expected a JSON object, got {type(data).__name__}")
        version = data.get("format", 1)
        if version == 1:
            data = _from_format_1(data)
        elif version != FORMAT:
            raise ResultsFormatError(
                f"results of format {version!r}: this code reads formats 1 to {FORMAT}"
            )
        return _decode_dataclass(cls, data, "results")

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> Results:
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ResultsFormatError(f"{path}: not JSON ({exc})") from None
        try:
            return cls.from_json(data)
        except ResultsFormatError as exc:
            raise ResultsFormatError(f"{path}: {exc}") from None


# --- the codec ----------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _encode(item) for key, item in value.items()}
    return value


def _decode(hint: Any, data: Any, path: str) -> Any:
    """``data`` (parsed JSON) as the type ``hint``; :class:`ResultsFormatError` naming
    where it does not fit."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        options = typing.get_args(hint)
        if data is None and type(None) in options:
            return None
        (inner,) = [option for option in options if option is not type(None)]
        return _decode(inner, data, path)
    if hint is Any:
        return data
    if isinstance(hint, type) and is_dataclass(hint):
        return _decode_dataclass(hint, data, path)
    if origin in (tuple, list):
        if not isinstance(data, list):
            raise ResultsFormatError(f"{path}: expected a list, got {data!r:.80}")
        inner = typing.get_args(hint)[0]
        items = [_decode(inner, item, f"{path}[{i}]") for i, item in enumerate(data)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(data, dict):
            raise ResultsFormatError(f"{path}: expected an object, got {data!r:.80}")
        inner = typing.get_args(hint)[1]
        return {key: _decode(inner, item, f"{path}.{key}") for key, item in data.items()}
    if hint is datetime:
        try:
            return datetime.fromisoformat(data)
        except (TypeError, ValueError):
            raise ResultsFormatError(f"{path}: expected an ISO time, got {data!r:.80}") from None
    # JSON does not tell 2.0 from 2: an integer is a valid float.
    if hint is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    if hint is int and isinstance(data, bool):
        raise ResultsFormatError(f"{path}: expected an integer, got {data!r}")
    if hint in (str, int, float, bool) and isinstance(data, hint):
        return data
    raise ResultsFormatError(
        f"{path}: expected {getattr(hint, '__name__', hint)}, got {data!r:.80}"
    )


def _decode_dataclass(cls: type[T], data: Any, path: str) -> T:
    if not isinstance(data, dict):
        raise ResultsFormatError(f"{path}: expected an object, got {data!r:.80}")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in fields(cast(Any, cls)):
        if f.name in data:
            values[f.name] = _decode(hints[f.name], data[f.name], f"{path}.{f.name}")
        elif f.default is MISSING and f.default_factory is MISSING:
            raise ResultsFormatError(f"{path}: {f.name} is missing")
    # Keys this code no longer has (an option since removed) are ignored, so older
    # files keep loading.
    return cls(**values)


# --- format 1 -----------------------------------------------------------------------------

_LATENCY_KEYS = ("n", "median_ms", "p95_ms", "p99_ms", "mean_ms", "max_ms")


def _nested(summary: dict[str, Any]) -> dict[str, Any]:
    """A format-1 object whose latency keys sat beside its own, with them under ``latency``."""
    regrouped = {key: value for key, value in summary.items() if key not in _LATENCY_KEYS}
    regrouped["latency"] = {key: summary[key] for key in _LATENCY_KEYS if key in summary}
    return regrouped


def _from_format_1(data: dict[str, Any]) -> dict[str, Any]:
    """Format 1 regrouped as format 2 (the figures untouched)."""
    try:
        scales = {}
        for name, scale in data["scales"].items():
            scale = dict(scale)
            reads = dict(scale["reads"])
            patterns = []
            for pattern in reads["patterns"]:
                pattern = _nested(pattern)
                if pattern.get("pk_only") is not None:
                    pattern["pk_only"] = _nested(pattern["pk_only"])
                patterns.append(pattern)
            reads["patterns"] = patterns
            scale["reads"] = reads
            if scale.get("writes") is not None:
                writes = dict(scale["writes"])
                writes["operators"] = [_nested(crew) for crew in writes["operators"]]
                for key in ("floor_operators", "paced", "contention"):
                    if writes.get(key) is not None:
                        writes[key] = _nested(writes[key])
                scale["writes"] = writes
            if scale.get("impact") is not None:
                impact = dict(scale["impact"])
                impact["baseline_writer"] = _nested(impact["baseline_writer"])
                impact["revisions"] = [
                    {**revision, "writer": _nested(revision["writer"])}
                    for revision in impact["revisions"]
                ]
                scale["impact"] = impact
            scales[name] = scale
    except (KeyError, TypeError, AttributeError) as exc:
        raise ResultsFormatError(f"not a results file of format 1 ({exc!r})") from None
    return {**data, "scales": scales, "format": FORMAT}
