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
equivalent, and free at run time).
"""
from __future__ import annotations

import abc
import copy
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from bench.core.errors import CheckpointError
from bench.core.tracker import BatchSOT, SOTTracker
from sot.parts.crop import crop_square

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"


def resolve_weights(weights: Optional[str], default: str) -> Optional[Path]:
    """``--weights`` if given; else the shipped default under ``sot/weights`` ("" = random init)."""
    if weights:
        return Path(weights)
    if not default:
        return None
    p = Path(default)
    if not p.is_absolute():
        p = WEIGHTS_DIR / p
    if not p.is_file():
        raise CheckpointError(f"{p}: shipped weights not found; pass --weights FILE or "
                              f"--set default_weights='' for randomly initialised weights")
    return p


def exemplar_size(w: float, h: float, context: float) -> float:
    """Side ``sqrt((w + p)(h + p))``, ``p = context * (w + h)``, of the exemplar crop in image pixels."""
    p = context * (w + h)
    return float(np.sqrt((w + p) * (h + p)))


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


def crop_many(image: np.ndarray, centers: np.ndarray, sizes: np.ndarray, out_size: int,
              pads: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``crop_square`` for every row: centres (M, 2), sides (M,), pad colours (M, 3) -> ``out`` (M, S, S, 3)."""
    for i in range(len(sizes)):
        crop_square(image, centers[i], sizes[i], out_size, pads[i], out=out[i])
    return out


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
        """Build the network and load ``weights`` (or the shipped default)."""

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


# -- networks -------------------------------------------------------------------------------


class SiamFCNet(torch.nn.Module):
    """SiamFC: ``alexnet_siamfc`` trunk + ``out_scale * xcorr`` head."""

    def __init__(self, width: float = 1.0, out_scale: float = 0.001):
        super().__init__()
        from sot.backbones import build_backbone
        from sot.heads.xcorr import SiamFCHead

        self.backbone = build_backbone("alexnet_siamfc", width=width)
        self.head = SiamFCHead(out_scale)

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(z), self.backbone(x))


class SiamRPNNet(torch.nn.Module):
    """SiamRPN: ``alexnet_rpn`` trunk + RPN head (``upchannel`` DaSiamRPN or ``depthwise`` pysot)."""

    def __init__(self, width: float = 1.0, head: str = "upchannel", feature_out: int = 256, anchor_num: int = 5):
        super().__init__()
        from sot.backbones import build_backbone
        from sot.heads.rpn import build_rpn_head

        self.backbone = build_backbone("alexnet_rpn", width=width)
        self.rpn = build_rpn_head(head, self.backbone.out_channels, feature_out, anchor_num)

    def forward(self, z: torch.Tensor, x: torch.Tensor):
        return self.rpn(self.backbone(z), self.backbone(x))


def build_net(arch: Dict[str, Any]) -> torch.nn.Module:
    """Network from an ``arch`` dict (as stored in weight files' meta)."""
    if arch.get("net") == "siamfc":
        return SiamFCNet(float(arch.get("width", 1.0)), float(arch.get("out_scale", 0.001)))
    if arch.get("net") == "siamrpn":
        return SiamRPNNet(float(arch.get("width", 1.0)), str(arch.get("head", "upchannel")),
                          int(arch.get("feature_out", 256)), int(arch.get("anchor_num", 5)))
    raise CheckpointError(f"unknown Siamese network type {arch.get('net')!r}")


def load_net(path: Optional[Path], default_arch: Dict[str, Any], expect: str, variant: str = "auto"):
    """Build the network for ``path`` (None: ``default_arch``, random init) and load it strictly.

    Returns ``(net, loaded)``; ``loaded`` is the :class:`~sot.checkpoints.detect.Loaded`
    record (None without a file). BGR checkpoints get conv1's input channels reversed so
    the network takes RGB.
    """
    from sot.checkpoints.common import load_strict
    from sot.checkpoints.detect import load_siamese

    if path is None:
        return build_net(default_arch), None
    loaded = load_siamese(path, variant)
    if loaded.arch.get("net") != expect:
        raise CheckpointError(f"{path}: a {loaded.arch.get('net')} checkpoint ({loaded.format}) cannot be "
                              f"used by a {expect} tracker")
    net = build_net(loaded.arch)
    load_strict(net, loaded.state, path)
    if loaded.input == "bgr":
        with torch.no_grad():
            w = net.backbone.conv1.conv.weight
            w.copy_(w.flip(1))
    return net, loaded
