"""How big a generated cidery is: S, M and L, and TINY for the test suite."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """Row targets of one generated data set (:func:`benchmarks.generate.generate`).

    The generator produces exactly ``vendors``, ``varieties``, ``purchase_items``,
    ``runs``, ``loads`` and ``vessels`` rows, and ``operators`` operator accounts
    besides one admin and one viewer; the number of purchases (invoices) follows
    from the purchase lines (one to four lines each).
    """

    name: str
    vendors: int
    varieties: int
    seasons: int
    purchase_items: int
    runs: int
    loads: int
    vessels: int
    operators: int = 5


# L is a large cidery's ten seasons: ~200 growers, ~20k purchase lines,
# ~100k press runs and ~1M loads; M and S are a tenth and a hundredth of it.
SCALES: dict[str, Scale] = {
    "TINY": Scale(
        "TINY",
        vendors=5,
        varieties=4,
        seasons=2,
        purchase_items=40,
        runs=60,
        loads=300,
        vessels=6,
        operators=3,
    ),
    "S": Scale(
        "S",
        vendors=20,
        varieties=12,
        seasons=2,
        purchase_items=200,
        runs=1_000,
        loads=10_000,
        vessels=20,
        operators=10,
    ),
    "M": Scale(
        "M",
        vendors=60,
        varieties=20,
        seasons=5,
        purchase_items=2_000,
        runs=10_000,
        loads=100_000,
        vessels=40,
        operators=25,
    ),
    "L": Scale(
        "L",
        vendors=200,
        varieties=30,
        seasons=10,
        purchase_items=20_000,
        runs=100_000,
        loads=1_000_000,
        vessels=80,
        operators=60,
    ),
}
