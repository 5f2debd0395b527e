"""Shared machinery of the Siamese trackers (SiamFC, SiamRPN, DaSiamRPN).

Every Siamese tracker implements two batched methods and gets the rest from here:

* ``_start(image, boxes) -> list of per-target states``
* ``_step(image, states) -> (boxes (N, 4) xywh, scores (N,))`` (updates the states)

The single-target ``init`` / ``update`` call them with N = 1 and the batched form
(:class:`SiameseBatch`, from ``tracker.batch()``) calls them with all N targets, so
both paths run the same code and the batch runs one backbone forward per frame.

Conventions: images RGB uint8 ``H x W x 3``; boxes ``xywh`` (0-based, continuous);
target centres are continuous ``x + w / 2``. The network always takes RGB 0-255
float crops padded with the per-channel image mean; checkpoints trained on BGR input
have their first convolution's input channels reversed at load time (exactly
equivalent, and free at run time). The networks are in :mod:`sot.models.siamese`, their
weight files are read by :mod:`sot.checkpoints.detect`.
"""
from __future__ import annotations

import abc
import copy
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from bench.core.tracker import BatchSOT, SOTTracker
from sot.parts.features import CropBuffers

class SiameseTracker(SOTTracker):
    """Base class: the single-target API on top of the batched ``_start`` / ``_step``."""

    def __init__(self, config: Any = None, *, weights: Optional[str] = None, seed: int = 0):
        super().__init__(config, weights=weights, seed=seed)
        torch.manual_seed(seed)
        self.buffers = CropBuffers(channels_last=True)
        self._state: Optional[Any] = None
        self.net = self._build(weights)
        self.net.eval()
        for p in self.net.parameters():
            p.requires_grad_(False)
        self.net = self.net.to(memory_format=torch.channels_last)
        for m in self.net.modules():
            if hasattr(m, "exact"):
                m.exact = True   # batched == single-target results (heads' grouped correlations)

    # -- to implement --------------------------------------------------
    @abc.abstractmethod
    def _build(self, weights: Optional[str]) -> torch.nn.Module:
        """Build the network and load ``weights`` (or the config's ``default_weights``)."""

    @abc.abstractmethod
    def _start(self, image: np.ndarray, boxes: np.ndarray) -> List[Any]:
        """Per-target states for ``boxes`` (N, 4) ``xywh`` on RGB ``image``."""

    @abc.abstractmethod
    def _step(self, image: np.ndarray, states: Sequence[Any]) -> Tuple[np.ndarray, np.ndarray]:
        """Track all ``states`` into ``image``: (boxes (N, 4) ``xywh``, scores (N,))."""

    def template_features(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone features of exemplar crops, one crop per pass: at 127 px oneDNN picks
        batch-size dependent kernels, and a target must get the same template whether it
        starts alone or in a batch (templates are computed once per target, so this is cheap)."""
        with torch.inference_mode():
            if len(x) == 1:
                return self.net.backbone(x).clone()
            return torch.cat([self.net.backbone(x[i:i + 1]) for i in range(len(x))])

    def search_features(self, x: torch.Tensor, per_pass: int) -> torch.Tensor:
        """Backbone features of search crops, ``per_pass`` crops per backbone call.

        One pass over all targets' 255 px crops is slower than several small ones once the
        activations outgrow the caches (16 SiamFC targets: one 48-crop pass 1.7x slower than
        16 passes of 3, benchmarks/results/mot.md); with ``per_pass`` = the crops of one
        target each target also sees exactly the computation it gets when tracked alone."""
        with torch.inference_mode():
            if len(x) <= per_pass:
                return self.net.backbone(x)
            return torch.cat([self.net.backbone(x[i:i + per_pass]) for i in range(0, len(x), per_pass)])

    # -- single target ---------------------------------------------------
    def init(self, image: np.ndarray, box: np.ndarray) -> None:
        box = np.asarray(box, dtype=np.float64).reshape(1, 4)
        self._state = self._start(image, box)[0]

    def update(self, image: np.ndarray) -> Tuple[np.ndarray, float]:
        if self._state is None:
            raise RuntimeError("update() called before init()")
        boxes, scores = self._step(image, [self._state])
        return boxes[0], float(scores[0])

    def spawn(self) -> "SiameseTracker":
        """A fresh tracker sharing this one's network (no weight copy)."""
        t = copy.copy(self)
        t._state = None
        t.buffers = CropBuffers(channels_last=True)
        return t

    def batch(self) -> "SiameseBatch":
        return SiameseBatch(self)


class SiameseBatch(BatchSOT):
    """Many targets, one forward pass per frame (``tracker._step`` over all states)."""

    def __init__(self, tracker: SiameseTracker):
        self.tracker = tracker
        self.states: Dict[int, Any] = {}
        self._next = 0

    def add(self, image, boxes):
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        keys = []
        if len(boxes):
            for st in self.tracker._start(image, boxes):
                self.states[self._next] = st
                keys.append(self._next)
                self._next += 1
        return np.asarray(keys, dtype=np.int64)

    def remove(self, keys):
        for k in np.atleast_1d(np.asarray(keys, dtype=np.int64)).tolist():
            self.states.pop(int(k), None)

    def keys(self):
        return np.asarray(list(self.states), dtype=np.int64)

    def update(self, image):
        keys = self.keys()
        if not len(keys):
            return keys, np.zeros((0, 4)), np.zeros(0)
        boxes, scores = self.tracker._step(image, [self.states[k] for k in keys.tolist()])
        return keys, boxes, scores
