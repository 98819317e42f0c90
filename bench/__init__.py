"""Benchmarks of the platform's hot paths: `make bench`, results in bench/RESULTS.md."""
