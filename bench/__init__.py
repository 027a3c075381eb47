"""Benchmarks: each prints one table measured in one run. Never part of `make test`."""
