"""Benchmarks: each prints one JSON object of figures."""
