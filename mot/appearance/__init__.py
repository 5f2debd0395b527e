"""The appearance layer of the MOT half: image + boxes -> L2-normalised embeddings.

One interface (:class:`Encoder`) used by ``bytetrack-reid``, the SOT-per-target
re-identification, Tracktor's re-id and the later ReMOTS / FineTrack work:

* input: ``image`` H x W x 3 **uint8 RGB**, ``boxes`` (N, 4) in **pixels**, ``xywh``
  (top-left x, y, width, height) by default; :meth:`Encoder.embed` also takes ``xyxy``;
* output: (N, D) **float32**, every row L2-normalised (zero rows only for N = 0).

Encoders register with ``@register_encoder("name")`` in a module of this package
(:class:`bench.core.registry.Registry`, like trackers and backbones) and are built from
the ``appearance`` config section (:class:`AppearanceConfig`, keys ``appearance.encoder``
and ``appearance.weights``) by :func:`build_encoder`. Built-in names:

* ``hsv-hist``: stripe HSV histograms, weight-free (:mod:`mot.appearance.histogram`);
* ``cnn``: ImageNet-pretrained MobileNetV2 trunk at stride 16 + global average pooling +
  optional trained linear head (:mod:`mot.appearance.cnn`).

Training-free API for other modules (e.g. ReMOTS): ``embed(image, boxes)``;
fine-tuning: ``build_encoder(cfg).trainable()`` returns the torch module (trunk + head).
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional

import numpy as np

from bench.core.errors import ConfigError
from bench.core.registry import Registry

ENCODERS = Registry("appearance encoder", packages=("mot.appearance",), decorator="register_encoder",
                    group="bench.appearance_encoders")


def register_encoder(name: str):
    """Decorator registering an encoder class ``cls(cfg: AppearanceConfig, seed=0)`` under ``name``."""
    return ENCODERS.register(name)


@dataclasses.dataclass
class AppearanceConfig:
    """The ``appearance`` section of a tracker config."""

    encoder: str = "hsv-hist"                    # registered encoder name (``hsv-hist``, ``cnn``)
    weights: str = ""                            # encoder weight file (cnn: trained head / trunk+head); "" = none
    kind: str = ""                               # deprecated alias of ``encoder`` (older configs)
    # hsv-hist
    crop_size: int = 32                          # boxes are warped to this square (px)
    stripes: int = 4                             # horizontal stripes, one histogram each
    bins: List[int] = dataclasses.field(default_factory=lambda: [8, 3, 3])  # H, S, V bins
    # cnn
    cnn_size: int = 128                          # boxes are warped to this square (px) before the trunk
    pretrained: str = "auto"                     # MobileNetV2 ImageNet weights (sot/backbones/mobilenet.py)
    stride: int = 16                             # trunk truncation stride
    head_dim: int = 0                            # linear head output size (0 = no head: trunk channels)
    batch: int = 32                              # crops per forward pass

    @property
    def name(self) -> str:
        return self.kind or self.encoder


class Encoder:
    """Base class of appearance encoders (module docstring for the contract)."""

    dim: int = 0

    def __call__(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """(N, D) float32 L2-normalised embeddings of ``xywh`` pixel boxes in an RGB uint8 image."""
        raise NotImplementedError

    def embed(self, image: np.ndarray, boxes: np.ndarray, box_format: str = "xywh") -> np.ndarray:
        """As :meth:`__call__`, with ``box_format`` ``"xywh"`` or ``"xyxy"``."""
        image, boxes = check_inputs(image, boxes)
        if box_format == "xyxy":
            from bench.core.boxes import xyxy_to_xywh

            boxes = xyxy_to_xywh(boxes)
        elif box_format != "xywh":
            raise ConfigError(f"box_format must be 'xywh' or 'xyxy', not {box_format!r}")
        return self(image, boxes)

    def trainable(self):
        """The torch module computing the embedding before normalisation (None: nothing to train)."""
        return None


def check_inputs(image: np.ndarray, boxes: np.ndarray):
    """Validate an (H, W, 3) uint8 image and (N, 4) boxes; returns (image, float64 boxes)."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ConfigError(f"appearance encoders take an H x W x 3 uint8 RGB image, got {image.dtype} {image.shape}")
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.size and (boxes.ndim != 2 or boxes.shape[1] != 4):
        raise ConfigError(f"boxes must be (N, 4), got shape {boxes.shape}")
    return image, boxes.reshape(-1, 4)


def l2_normalise(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` divided by their L2 norm (float32)."""
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def sample_embeddings(fmap: np.ndarray, boxes_xywh: np.ndarray, stride: float) -> np.ndarray:
    """Embeddings read from a dense (C, H, W) feature map at the ``xywh`` box centres
    (pixel / ``stride``, nearest cell, clipped to the map), L2-normalised: (N, C) float32.
    Used for public detections with a one-shot network (FairMOT)."""
    fmap = np.asarray(fmap)
    boxes = np.asarray(boxes_xywh, dtype=np.float64).reshape(-1, 4)
    c, h, w = fmap.shape
    cx = np.clip(((boxes[:, 0] + boxes[:, 2] / 2) / stride).astype(np.int64), 0, w - 1)
    cy = np.clip(((boxes[:, 1] + boxes[:, 3] / 2) / stride).astype(np.int64), 0, h - 1)
    return l2_normalise(fmap[:, cy, cx].T)


def build_encoder(cfg: Optional[AppearanceConfig] = None, weights: Optional[str] = None, seed: int = 0) -> Encoder:
    """The encoder ``cfg.encoder`` (or the deprecated ``cfg.kind``); ``weights`` (a tracker's
    ``--weights``) is not used by encoders: their file is ``cfg.weights``."""
    cfg = cfg if cfg is not None else AppearanceConfig()
    return ENCODERS.get(cfg.name).obj(cfg, seed=seed)


_DEFAULT: dict = {}


def embed(image: np.ndarray, boxes: np.ndarray, box_format: str = "xywh", encoder: str = "cnn",
          **cfg) -> np.ndarray:
    """Training-free embeddings (N, D) float32 L2-normalised of ``boxes`` in an RGB uint8 image,
    with the pretrained ``encoder`` (built once per set of options and cached)."""
    key = (encoder, tuple(sorted(cfg.items())))
    if key not in _DEFAULT:
        _DEFAULT[key] = build_encoder(AppearanceConfig(encoder=encoder, **cfg))
    return _DEFAULT[key].embed(image, boxes, box_format)


__all__ = ["AppearanceConfig", "ENCODERS", "Encoder", "build_encoder", "check_inputs", "embed", "l2_normalise",
           "register_encoder", "sample_embeddings"]
