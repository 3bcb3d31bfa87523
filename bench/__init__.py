"""Benchmarks: each `bench_*.py` module has a `main()` that prints its results.

Speed targets are printed as ratios against a baseline measured in the same run
(never as timed assertions in tests). Run them all with `python -m bench`.
"""
