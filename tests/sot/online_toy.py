"""A tiny deterministic tracking scene for the MDNet / ADNet tests: a textured box drifting over a
textured background (320x240, RGB uint8), ground truth ``xywh``."""
import numpy as np
import pytest
import torch


def toy_sequence(n: int = 12, seed: int = 0, step=(4.0, 2.0), size=(36, 44), start=(80.0, 70.0)):
    rng = np.random.default_rng(seed)
    bg = (rng.random((240, 320, 3)) * 60 + 40).astype(np.uint8)
    bg = np.repeat(np.repeat(bg[::8, ::8], 8, 0), 8, 1)[:240, :320]
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    tex = np.stack([(xx // 6 + yy // 6) % 2 * 180 + 40, (yy * 5) % 255, 255 - (xx * 7) % 255], -1).astype(np.uint8)
    frames, gts = [], []
    for t in range(n):
        x, y = start[0] + step[0] * t, start[1] + step[1] * t
        im = bg.copy()
        xi, yi = int(round(x)), int(round(y))
        im[yi:yi + h, xi:xi + w] = tex
        frames.append(im)
        gts.append([xi, yi, w, h])
    return frames, np.asarray(gts, dtype=np.float64)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """These small tests run fastest on one thread (and do not stall when the machine is busy)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
