"""Crops to network inputs: reused buffers between the frame and the network.

* :class:`CropBuffers`: preallocated uint8 crops and float (``channels_last``) network
  inputs of the Siamese trackers, reused per frame.
* :class:`CropFeatures`: image + ``xywh`` boxes -> VGG-M conv3 features for the online
  trackers (MDNet, ADNet): crops cut by :func:`sot.parts.crop.crop_boxes` into reused
  buffers, pixels minus 128 (RGB, as both official codes), conv run in chunks in
  ``channels_last`` memory.
"""
from __future__ import annotations

from typing import Dict, Tuple

import numpy as np
import torch

from bench.core.errors import ConfigError

from .crop import crop_boxes, enlarged_clipped

# conv trunk precision: float32 (the official numerics) or bfloat16 (AMX / AVX512-BF16 CPUs, faster)
PRECISIONS = {"float32": torch.float32, "bfloat16": torch.bfloat16}


class CropBuffers:
    """Preallocated uint8 crop buffers and float (channels_last) network inputs, reused per frame."""

    def __init__(self, channels_last: bool = True):
        self.channels_last = channels_last
        self._u8: Dict[Tuple[int, int], np.ndarray] = {}
        self._f32: Dict[Tuple[int, int], torch.Tensor] = {}

    def crops(self, n: int, size: int) -> np.ndarray:
        key = (n, size)
        buf = self._u8.get(key)
        if buf is None:
            buf = np.empty((n, size, size, 3), dtype=np.uint8)
            self._u8[key] = buf
        return buf

    def tensor(self, buf: np.ndarray) -> torch.Tensor:
        """(N, 3, S, S) float32 view of ``buf``'s crops (a reused buffer)."""
        n, s = buf.shape[0], buf.shape[1]
        key = (n, s)
        t = self._f32.get(key)
        if t is None:
            t = torch.empty((n, 3, s, s), dtype=torch.float32)
            if self.channels_last:
                t = t.contiguous(memory_format=torch.channels_last)
            self._f32[key] = t
        t.copy_(torch.from_numpy(buf).permute(0, 3, 1, 2))
        return t


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
