"""What the benchmark scripts record about the machine, and how they append their markdown.

Imported as ``from machine import ...`` by the scripts in this folder (run as
``python benchmarks/<script>.py``, so this folder is on ``sys.path``).
"""
from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path
from typing import Dict


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (or what ``platform`` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def machine() -> Dict[str, str]:
    """CPU, cores, Python / NumPy / torch versions, torch threads, load average now, date."""
    import numpy as np
    import torch

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {"cpu": cpu_name(), "cores": str(os.cpu_count()), "python": platform.python_version(),
            "numpy": np.__version__, "torch": torch.__version__, "torch_threads": str(torch.get_num_threads()),
            "load": " ".join(f"{x:.2f}" for x in load), "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M")}


def append_markdown(path: str, md: str) -> None:
    """Append one run's markdown section to ``path`` (folders created)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "a") as f:
        f.write("\n" + md)
