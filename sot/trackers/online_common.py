"""Pieces shared by the online-learning trackers (MDNet, ADNet).

* :class:`CropFeatures`: image + ``xywh`` boxes -> VGG-M conv3 features, crops cut by
  :func:`sot.parts.crop.crop_boxes` into reused buffers, pixels minus 128 (RGB, as both
  official codes), conv run in chunks in ``channels_last`` memory.
* :func:`dropout`: dropout with masks from a private ``torch.Generator`` so that a
  tracker's randomness depends only on its seed.
* :func:`weights_path`: resolve a weight name against ``sot/weights/``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional

import numpy as np
import torch

from bench.core.errors import CheckpointError, ConfigError
from sot.parts.crop import crop_boxes, enlarged_clipped

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
# conv trunk precision: float32 (the official numerics) or bfloat16 (AMX / AVX512-BF16 CPUs, faster)
PRECISIONS = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def weights_path(name: Optional[str]) -> Optional[Path]:
    """``None``/``""``/``"none"`` -> None; a bare file name -> ``sot/weights/<name>``; else the path."""
    if name is None or str(name).strip().lower() in ("", "none", "null", "random"):
        return None
    p = Path(name)
    if not p.is_absolute() and not p.exists() and (WEIGHTS_DIR / p).exists():
        p = WEIGHTS_DIR / p
    if not p.exists():
        raise CheckpointError(f"{name}: weight file not found (looked in the working directory and {WEIGHTS_DIR})")
    return p


def dropout(x: torch.Tensor, p: float, gen: Optional[torch.Generator]) -> torch.Tensor:
    """Inverted dropout (as ``nn.Dropout`` in training mode); identity when ``gen`` is None or p == 0."""
    if gen is None or p <= 0:
        return x
    keep = torch.rand(x.shape, generator=gen) >= p
    return x * keep / (1.0 - p)


class CropFeatures:
    """Crop ``xywh`` boxes out of an RGB frame and compute conv3 features (N, D).

    ``context``: py-MDNet's ``padding`` in output pixels; ``scale``: ADNet's 1.4x
    enlargement; ``clip``: clip the (enlarged) box to the image first (ADNet's
    ``get_extract_regions``); ``border``: how pixels outside the image are filled.
    """

    def __init__(self, backbone, out_size: int, *, context: float = 0.0, scale: float = 1.0,
                 clip: bool = False, border: str = "replicate", chunk: int = 16, precision: str = "float32"):
        if precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        self.dtype = PRECISIONS[precision]
        self.backbone = backbone
        self.out_size, self.context, self.scale = int(out_size), float(context), float(scale)
        self.clip, self.border, self.chunk = clip, border, int(chunk)
        self._u8: Dict[int, np.ndarray] = {}
        self._f32: Dict[int, torch.Tensor] = {}

    def _buffers(self, n: int):
        cap = 1
        while cap < n:
            cap *= 2
        if cap not in self._u8:
            self._u8[cap] = np.empty((cap, self.out_size, self.out_size, 3), np.uint8)
            self._f32[cap] = torch.empty((cap, self.out_size, self.out_size, 3))
        return self._u8[cap][:n], self._f32[cap][:n]

    def regions(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """The boxes actually warped to ``out_size`` (after enlargement and clipping), (N, 4) ``xywh``."""
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if not self.clip:
            return b
        return enlarged_clipped(b, self.scale, (image.shape[1], image.shape[0]))

    def patches(self, image: np.ndarray, boxes: np.ndarray) -> torch.Tensor:
        """(N, 3, S, S) float tensor (pixel - 128, ``channels_last`` memory); a view of a reused buffer."""
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        u8, f32 = self._buffers(len(b))
        if self.clip:
            crop_boxes(image, self.regions(image, b), self.out_size, border=self.border, out=u8)
        else:
            crop_boxes(image, b, self.out_size, context=self.context, scale=self.scale,
                       border=self.border, out=u8)
        f32.copy_(torch.from_numpy(u8))
        f32.sub_(128.0)
        return f32.permute(0, 3, 1, 2)

    @torch.no_grad()
    def __call__(self, image: np.ndarray, boxes: np.ndarray) -> torch.Tensor:
        """conv3 features (N, D) of ``boxes`` in ``image`` (C, H, W flatten order)."""
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        if len(b) == 0:
            return torch.zeros(0, self.backbone.out_dim)
        return self.backbone.features(self.patches(image, b), chunk=self.chunk, dtype=self.dtype)
