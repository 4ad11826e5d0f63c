"""Season-scale data and the benchmarks measured on it (``cidery bench``, ``make bench``)."""
