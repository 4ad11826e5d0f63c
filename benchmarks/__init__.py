"""Season-scale data and the benchmarks measured on it (``python -m benchmarks``,
``make bench``); a package of the repository, not shipped in the wheel."""
