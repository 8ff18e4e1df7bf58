"""Benchmarks (not part of the app). ``python -m bench.train_bench`` compares training speed."""
