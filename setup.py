"""bench: single- and multi-object tracking research toolkit (sot/, mot/, bench/)."""
from pathlib import Path

from setuptools import find_packages, setup

ROOT = Path(__file__).parent


def config_files():
    out = {}
    for p in sorted((ROOT / "configs").rglob("*.yaml")):
        rel = p.relative_to(ROOT)
        out.setdefault(str(Path("share/bench") / rel.parent), []).append(str(rel))
    return sorted(out.items())


setup(
    name="bench-tracking",
    version="0.1.0",
    description="Visual object tracking toolkit: SOT and MOT trackers, exact benchmark metrics, one CLI",
    long_description=(ROOT / "README.md").read_text() if (ROOT / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    python_requires=">=3.9",
    packages=find_packages(include=["bench", "bench.*", "sot", "sot.*", "mot", "mot.*"]),
    package_data={"sot": ["weights/*.pth", "weights/*.md", "weights/*.json", "backbones/*.c"]},
    data_files=config_files(),
    install_requires=[
        "torch>=1.13",
        "torchvision>=0.14",
        "numpy>=1.22",
        "scipy>=1.8",
        "opencv-python-headless>=4.5",
        "pyyaml>=5.4",
        "got10k>=0.1.3",
        "six",  # got10k imports six without declaring it
        "tqdm>=4.60",
        "matplotlib>=3.5",
        "h5py>=3.0",  # MATLAB v7.3 weight dumps (ADNet)
    ],
    extras_require={
        "test": ["pytest>=7", "motmetrics>=1.4", "trackeval>=1.3", "pandas"],
    },
    entry_points={
        "console_scripts": ["bench=bench.cli:main"],
        # Built-in trackers are found exactly as third-party plugins are: through this group.
        "bench.trackers": [
            "identity = sot.trackers.baselines",
            "ncc = sot.trackers.baselines",
            "opencv-mil = sot.trackers.baselines",
            "siamfc = sot.trackers.siamfc",
            "siamrpn = sot.trackers.siamrpn",
            "dasiamrpn = sot.trackers.dasiamrpn",
            "mdnet = sot.trackers.mdnet",
            "adnet = sot.trackers.adnet",
            "adnet-fast = sot.trackers.adnet",
            "sort = mot.trackers.sort",
            "bytetrack = mot.trackers.bytetrack",
            "bytetrack-reid = mot.trackers.bytetrack",
            "tracktor = mot.trackers.tracktor",
            "sot-per-target = mot.trackers.sot_per_target",
        ],
    },
)
