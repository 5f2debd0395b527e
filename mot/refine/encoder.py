"""The appearance encoder ReMOTS adapts to the target video (§2.2 and §2.4), on crop banks.

ReMOTS takes an off-the-shelf re-id encoder (Luo et al. 2019, "Bag of tricks": a trunk,
global average pooling, a BN neck, triplet loss with margin 0.3, Adam at 3.5e-4) and
retrains it on triplets of the target video. Here the trunk is the ImageNet-pretrained
MobileNetV2 of the shared backbone layer (:mod:`sot.backbones.mobilenet`, stride 16; only its
last ``train_blocks`` blocks are trained, for CPU cost), the embedding the BN-neck output,
L2-normalised, compared by cosine similarity.

Crops come from a :class:`CropBank`: every box of the video cut once, enlarged by
``margin`` (so the "crop, scale" augmentation of a positive can move inside it), at
``bank_size``; anchors are the centre crops resized to ``crop_size``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sot.parts.crop import crop_boxes


@dataclass(frozen=True)
class EncoderSettings:
    """Sizes in pixels ``(width, height)``; see ``configs/refine/remots.yaml`` for the sources."""

    crop_size: Tuple[int, int] = (64, 128)
    margin: float = 1.25
    pretrained: str = "auto"
    train_blocks: int = 3
    triplet_margin: float = 0.3
    lr: float = 3.5e-4
    iterations: int = 60
    batch_triplets: int = 16
    labelled_share: float = 0.5
    jitter_shift: float = 0.1
    jitter_scale: Tuple[float, float] = (0.85, 1.15)
    colour_jitter: float = 0.3
    flip: float = 0.5


class CropBank:
    """Enlarged crops (N, H', W', 3) uint8 RGB of ``xywh`` boxes, with the anchor view and augmentations."""

    def __init__(self, settings: EncoderSettings):
        self.s = settings
        cw, ch = settings.crop_size
        self.bank_wh = (int(round(cw * settings.margin)), int(round(ch * settings.margin)))
        self._parts: list = []
        self._crops: Optional[np.ndarray] = None

    def add(self, image: np.ndarray, boxes: np.ndarray) -> None:
        """Cut ``boxes`` (xywh, pixels) of one RGB frame, enlarged by ``margin`` about their centres."""
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        self._parts.append(crop_boxes(image, b, self.bank_wh, scale=self.s.margin, border="constant",
                                      pad_value=(124, 116, 104)))
        self._crops = None

    @property
    def crops(self) -> np.ndarray:
        if self._crops is None:
            bw, bh = self.bank_wh
            self._crops = (np.concatenate(self._parts) if self._parts else np.zeros((0, bh, bw, 3), np.uint8))
            self._parts = [self._crops]
        return self._crops

    def __len__(self) -> int:
        return len(self.crops)

    def anchors(self, idx: np.ndarray) -> np.ndarray:
        """Centre views (K, h, w, 3): the boxes themselves, resized to ``crop_size``."""
        bw, bh = self.bank_wh
        cw, ch = self.s.crop_size
        x0, y0 = (bw - cw) // 2, (bh - ch) // 2
        return self.crops[np.asarray(idx)][:, y0:y0 + ch, x0:x0 + cw]

    def augmented(self, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Augmented views (ReMOTS Fig. 2's positive): random crop and scale inside the margin,
        horizontal flip, colour jitter (brightness, contrast, saturation)."""
        s = self.s
        bw, bh = self.bank_wh
        cw, ch = s.crop_size
        out = np.empty((len(idx), ch, cw, 3), dtype=np.uint8)
        for k, i in enumerate(np.asarray(idx).tolist()):
            sc = rng.uniform(*s.jitter_scale)
            w, h = cw * sc, ch * sc
            cx = bw / 2 + rng.uniform(-s.jitter_shift, s.jitter_shift) * cw
            cy = bh / 2 + rng.uniform(-s.jitter_shift, s.jitter_shift) * ch
            m = np.array([[cw / w, 0, cw / 2 - cx * cw / w], [0, ch / h, ch / 2 - cy * ch / h]])
            img = cv2.warpAffine(self.crops[i], m, (cw, ch), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
            if rng.random() < s.flip:
                img = img[:, ::-1]
            out[k] = colour_jitter(img, s.colour_jitter, rng)
        return out


def colour_jitter(img: np.ndarray, amount: float, rng: np.random.Generator) -> np.ndarray:
    """Brightness, contrast and saturation each scaled by a factor in ``[1 - amount, 1 + amount]``."""
    x = img.astype(np.float32)
    x *= rng.uniform(1 - amount, 1 + amount)                              # brightness
    mean = x.mean()
    x = (x - mean) * rng.uniform(1 - amount, 1 + amount) + mean           # contrast
    grey = x.mean(axis=2, keepdims=True)
    x = (x - grey) * rng.uniform(1 - amount, 1 + amount) + grey           # saturation
    return np.clip(x, 0, 255).astype(np.uint8)


class ReidNet(nn.Module):
    """MobileNetV2 trunk (stride 16) -> global average pooling -> BN neck (Luo et al. 2019)."""

    def __init__(self, settings: EncoderSettings):
        super().__init__()
        from sot.backbones import build_backbone

        self.trunk = build_backbone("mobilenet_v2", stride=16, pretrained=settings.pretrained)
        dim = int(self.trunk.out_channels)
        self.neck = nn.BatchNorm1d(dim)
        self.neck.bias.requires_grad_(False)  # the BNNeck of Luo et al.: no shift
        self.dim = dim
        blocks = list(self.trunk.features.children())
        for p in self.trunk.parameters():
            p.requires_grad_(False)
        self.trained_blocks = blocks[len(blocks) - settings.train_blocks:] if settings.train_blocks > 0 else []
        for b in self.trained_blocks:
            for p in b.parameters():
                p.requires_grad_(True)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Normalised RGB (N, 3, H, W) -> (pooled features before the neck, neck output)."""
        from sot.backbones.mobilenet import imagenet_normalise

        f = self.trunk(imagenet_normalise(x)).mean(dim=(2, 3))
        return f, self.neck(f)

    def train(self, mode: bool = True):
        super().train(mode)
        # frozen blocks keep ImageNet's BN statistics
        for m in self.trunk.features.children():
            if m not in self.trained_blocks:
                m.eval()
        return self


def _tensor(crops: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(crops)).permute(0, 3, 1, 2).float()


class Encoder:
    """Embeds a crop bank and retrains on triplets (``train``)."""

    def __init__(self, settings: EncoderSettings, seed: int = 0):
        torch.manual_seed(seed)
        self.s = settings
        self.net = ReidNet(settings)
        self.net.eval()
        self.history: list = []

    @torch.no_grad()
    def embed(self, bank: CropBank, batch: int = 64) -> np.ndarray:
        """L2-normalised embeddings (N, D) float64 of every crop of ``bank`` (anchor views)."""
        self.net.eval()
        n = len(bank)
        out = np.zeros((n, self.net.dim), dtype=np.float64)
        for a in range(0, n, batch):
            idx = np.arange(a, min(n, a + batch))
            _, e = self.net(_tensor(bank.anchors(idx)))
            out[idx] = F.normalize(e, dim=1).double().numpy()
        return out

    def train(self, sample, iterations: Optional[int] = None, rng: Optional[np.random.Generator] = None,
              label: str = "") -> list:
        """Triplet training; ``sample(k, rng) -> (anchors, positives, negatives)`` uint8 crops (k, h, w, 3).

        Loss: ``max(0, d(a,p) - d(a,n) + margin)`` on the pooled features (Euclidean, the
        "bag of tricks" triplet), Adam. Returns the per-iteration losses.
        """
        rng = rng if rng is not None else np.random.default_rng(0)
        params = [p for p in self.net.parameters() if p.requires_grad]
        if not params:
            return []
        opt = torch.optim.Adam(params, lr=self.s.lr)
        self.net.train()
        losses = []
        for _ in range(int(self.s.iterations if iterations is None else iterations)):
            a, p, n = sample(self.s.batch_triplets, rng)
            if len(a) == 0:
                break
            x = _tensor(np.concatenate([a, p, n]))
            f, _ = self.net(x)
            fa, fp, fn = f.split(len(a))
            loss = F.triplet_margin_loss(fa, fp, fn, margin=self.s.triplet_margin)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        self.net.eval()
        self.history.append({"step": label, "iterations": len(losses),
                             "loss_first": losses[0] if losses else None, "loss_last": losses[-1] if losses else None})
        return losses
