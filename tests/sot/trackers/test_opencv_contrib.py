"""opencv-csrt / opencv-kcf: a clear error without OpenCV's contrib module, tracking with it."""
from __future__ import annotations

import numpy as np
import pytest

from bench.core.build import build_tracker
from bench.core.errors import ConfigError
from sot.trackers.opencv_contrib import available


def _clip(n=6):
    frames = []
    for i in range(n):
        img = np.full((120, 160, 3), 40, np.uint8)
        img[30 + i:60 + i, 40 + 2 * i:80 + 2 * i] = (220, 180, 60)
        img[40 + i:50 + i, 50 + 2 * i:60 + 2 * i] = (20, 20, 200)
        frames.append(img)
    return frames


@pytest.mark.parametrize("name,cv", [("opencv-csrt", "CSRT"), ("opencv-kcf", "KCF")])
def test_contrib_tracker(name, cv):
    t = build_tracker(name)
    frames = _clip()
    if not available(cv):
        with pytest.raises(ConfigError, match="contrib"):
            t.init(frames[0], np.array([40.0, 30.0, 40.0, 30.0]))
        return
    t.init(frames[0], np.array([40.0, 30.0, 40.0, 30.0]))
    for img in frames[1:]:
        box, score = t.update(img)
    assert score == 1.0 and abs(box[0] - 50.0) <= 3 and abs(box[1] - 35.0) <= 3
    assert t.spawn() is not t
