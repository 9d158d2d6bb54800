"""Benchmarks and the harness that runs the real bot as a separate process (figures in docs/benchmarks.md)."""
