"""Development tools, apart from the product: the event generator with its truth (generate_events),
the demo seeds (make_demo_seeds), accuracy against the truth (accuracy) and the benchmarks
(benchmark, benchmark_nightly, benchmark_spark). Each is a command of its own
(pyproject.toml: idr-generate, idr-demo-seeds, idr-accuracy, idr-benchmark...)."""
