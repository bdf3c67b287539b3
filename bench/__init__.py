"""Benchmarks for `make bench`: ratios measured in one run, never part of `make test`."""
