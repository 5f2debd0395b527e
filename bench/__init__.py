"""bench: the benchmark harness (datasets, protocols, metrics, reports, CLI)."""
__version__ = "0.1.0"
