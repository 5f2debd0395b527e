"""MDNet's network (Nam & Han, CVPR 2016, Sec. 3.1; py-MDNet ``modules/model.py``).

VGG-M conv1-3 (the backbone layer's ``vggm``: 107x107 input, pixel - 128, RGB), ``fc4``
(D -> F, ReLU), ``fc5`` (dropout, F -> F, ReLU) and K domain branches ``fc6_k`` (dropout,
F -> 2). Official width: D = 4608, F = 512. Multi-domain training uses one branch per
training sequence; at test time one fresh randomly initialised ``fc6``.
:func:`mdnet_loss` is the softmax loss both use (offline training and online updates).
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from sot.backbones import build_backbone

from .layers import dropout


class MDNetNet(nn.Module):
    """VGG-M conv1-3 + fc4 + fc5 + ``n_branches`` fc6 heads (2 logits: background, target)."""

    def __init__(self, width: float = 1.0, fc_dim: int = 512, n_branches: int = 1, lrn: str = "pytorch",
                 input_size: int = 107, channels: Optional[Tuple[int, int, int]] = None):
        super().__init__()
        self.backbone = build_backbone("vggm", width=width, lrn=lrn, input_size=input_size, channels=channels)
        self.fc4 = nn.Linear(self.backbone.out_dim, fc_dim)
        self.fc5 = nn.Linear(fc_dim, fc_dim)
        self.branches = nn.ModuleList([nn.Linear(fc_dim, 2) for _ in range(n_branches)])
        self.meta = {"arch": "mdnet", "channels": list(self.backbone.channels), "fc_dim": int(fc_dim),
                     "lrn": lrn, "input_size": int(input_size)}
        self.reset_fc(init_shared=True)

    def reset_fc(self, init_shared: bool = False, gen: Optional[torch.Generator] = None) -> None:
        """py-MDNet init: weights N(0, 0.01); bias 0.1 for fc4/fc5, 0 for the branches."""
        layers = ([self.fc4, self.fc5] if init_shared else []) + list(self.branches)
        with torch.no_grad():
            for m in layers:
                m.weight.normal_(0.0, 0.01, generator=gen)
                m.bias.fill_(0.0 if any(m is b for b in self.branches) else 0.1)

    def new_branch(self, gen: Optional[torch.Generator] = None) -> None:
        """Replace the branches by one freshly initialised fc6 (test time)."""
        self.branches = nn.ModuleList([nn.Linear(self.fc4.out_features, 2)])
        with torch.no_grad():
            self.branches[0].weight.normal_(0.0, 0.01, generator=gen)
            self.branches[0].bias.zero_()

    def head(self, feats: torch.Tensor, k: int = 0, gen: Optional[torch.Generator] = None,
             p_drop: float = 0.5) -> torch.Tensor:
        """fc4 -> fc6_k logits (N, 2) from conv3 features (N, D); dropout only when ``gen`` is given."""
        x = F.relu(self.fc4(feats))
        x = F.relu(self.fc5(dropout(x, p_drop, gen)))
        return self.branches[k](dropout(x, p_drop, gen))

    def forward(self, x: torch.Tensor, k: int = 0, gen: Optional[torch.Generator] = None) -> torch.Tensor:
        """Images (N, 3, 107, 107) (pixel - 128) -> logits (N, 2); differentiable end to end."""
        return self.head(self.backbone(x).flatten(1), k, gen)

    def shared_state(self) -> Dict[str, torch.Tensor]:
        """conv1-3, fc4, fc5 (what py-MDNet saves as ``shared_layers``)."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("branches.")}


def mdnet_loss(pos_logits: torch.Tensor, neg_logits: torch.Tensor) -> torch.Tensor:
    """py-MDNet ``BCELoss``: mean of -log p(target) on positives and -log p(background) on negatives."""
    pos = -F.log_softmax(pos_logits, dim=1)[:, 1]
    neg = -F.log_softmax(neg_logits, dim=1)[:, 0]
    return (pos.sum() + neg.sum()) / (len(pos) + len(neg))
