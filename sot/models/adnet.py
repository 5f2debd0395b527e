"""ADNet's network (Yun et al., CVPR 2017, Sec. 3.2; official MATLAB hellbell/ADNet
``train/init_model.m``, ``adnet_train_RL.m``).

VGG-M conv1-3 (the backbone layer's ``vggm``: 112x112 input, the box enlarged 1.4x about its
centre and clipped to the image, pixel - 128, RGB), ``fc4`` (D -> F, ReLU), ``fc5`` (F -> F,
ReLU), then the 110-d action history (10 past actions, one-hot over 11) joined **after
fc5**: ``fc6`` (F + 110 -> 11 action logits) and ``fc7`` (F + 110 -> 2 confidence logits).
The history part of each head is a separate bias-free linear layer (``fc6_ah`` /
``fc7_ah``): the official online fine-tuning trains a copy without the history inputs
(``net_fc_noah``), so those weights are never updated online.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from sot.backbones import build_backbone
from sot.parts.actions import NUM_ACTIONS

from .layers import dropout


class ADNetNet(nn.Module):
    """VGG-M conv1-3 + fc4 + fc5 + action head fc6 and confidence head fc7 (history joined after fc5)."""

    def __init__(self, width: float = 1.0, fc_dim: int = 512, lrn: str = "matconvnet", input_size: int = 112,
                 channels: Optional[Tuple[int, int, int]] = None, history: int = 10):
        super().__init__()
        self.backbone = build_backbone("vggm", width=width, lrn=lrn, input_size=input_size, channels=channels)
        hd = history * NUM_ACTIONS
        self.fc4 = nn.Linear(self.backbone.out_dim, fc_dim)
        self.fc5 = nn.Linear(fc_dim, fc_dim)
        self.fc6 = nn.Linear(fc_dim, NUM_ACTIONS)
        self.fc6_ah = nn.Linear(hd, NUM_ACTIONS, bias=False)
        self.fc7 = nn.Linear(fc_dim, 2)
        self.fc7_ah = nn.Linear(hd, 2, bias=False)
        self.history = history
        self.meta = {"arch": "adnet", "channels": list(self.backbone.channels), "fc_dim": int(fc_dim),
                     "lrn": lrn, "input_size": int(input_size), "history": history}
        self.reset_parameters()

    def reset_parameters(self, gen: Optional[torch.Generator] = None) -> None:
        """MatConvNet init of the official code: fc N(0, 0.01); fc4/fc5 bias 0.1, heads 0; history weights 0."""
        with torch.no_grad():
            for m in (self.fc4, self.fc5, self.fc6, self.fc7):
                m.weight.normal_(0.0, 0.01, generator=gen)
            self.fc4.bias.fill_(0.1)
            self.fc5.bias.fill_(0.1)
            self.fc6.bias.zero_()
            self.fc7.bias.zero_()
            self.fc6_ah.weight.zero_()
            self.fc7_ah.weight.zero_()

    def fc5_features(self, feats: torch.Tensor, p_drop: float = 0.0,
                     gen: Optional[torch.Generator] = None) -> torch.Tensor:
        x = dropout(F.relu(self.fc4(feats)), p_drop, gen)
        return dropout(F.relu(self.fc5(x)), p_drop, gen)

    def heads(self, h: torch.Tensor, hist: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """(action logits (N, 11), confidence logits (N, 2)) from fc5 output and history (N, 110) or None."""
        a, c = self.fc6(h), self.fc7(h)
        if hist is not None:
            a = a + self.fc6_ah(hist)
            c = c + self.fc7_ah(hist)
        return a, c

    def forward(self, x: torch.Tensor, hist: Optional[torch.Tensor] = None):
        """Images (N, 3, 112, 112) (pixel - 128) -> (action logits, confidence logits); differentiable."""
        return self.heads(self.fc5_features(self.backbone(x).flatten(1)), hist)
