"""A tiny third-party tracker package: adds the tracker ``demo-plugin`` through the
``bench.trackers`` entry-point group (used by tests/test_registry.py)."""
from setuptools import setup

setup(
    name="bench-plugin-demo",
    version="0.1.0",
    packages=["bench_plugin_demo"],
    package_data={"bench_plugin_demo": ["demo.yaml"]},
    entry_points={"bench.trackers": ["demo-plugin = bench_plugin_demo.tracker:ConstantVelocity"]},
)
