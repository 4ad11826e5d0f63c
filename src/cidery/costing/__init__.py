"""The cost of juice, exactly: pure functions over frozen dataclasses, no database.

The money rules, everywhere in this package:

* amounts are :class:`~decimal.Decimal` (never float), money in cents and kilograms and
  litres in thousandths, as the columns that will store them;
* an amount shared among lots is split by the largest remainder
  (:func:`~cidery.costing.money.split`), so the parts add up exactly to the amount;
* a ratio that does not terminate (a price per lb turned into kilograms, a cost per
  litre) is computed exactly and rounded once, half away from zero;
* a cost that cannot be known (a purchase line without a price, labor without hours)
  is ``None`` and makes the lot incomplete; it is never counted as zero.

Modules: :mod:`~cidery.costing.money` (split, split_table, round_exact),
:mod:`~cidery.costing.prices` (a purchase line's price per kg),
:mod:`~cidery.costing.lots` (a run's juice lots, their composition and cost).
"""
