"""A constant-velocity 'tracker' that never looks at the image: enough to exercise a plugin.

It is registered with the decorator; the package's entry point names the class, so the
harness finds it through the ``bench.trackers`` group without importing it by name.
"""
import dataclasses
from pathlib import Path

import numpy as np

from bench.core.registry import register_tracker
from bench.core.tracker import SOTTracker


@dataclasses.dataclass
class DemoConfig:
    damping: float = 0.5


@register_tracker("demo-plugin", kind="sot", config=str(Path(__file__).with_name("demo.yaml")))
class ConstantVelocity(SOTTracker):
    """Plugin demo: keeps the initial box, drifting by a damped (zero) velocity."""

    Config = DemoConfig

    def init(self, image, box):
        self.box = np.asarray(box, dtype=np.float64).copy()
        self.velocity = np.zeros(2)

    def update(self, image):
        self.box[:2] += self.config.damping * self.velocity
        return self.box.copy(), 1.0
