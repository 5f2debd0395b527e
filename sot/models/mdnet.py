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


# -- reciprocative learning (Pu et al., NeurIPS 2018) ---------------------------------------------------


def conv_map_shape(net: MDNetNet) -> Tuple[int, int, int]:
    """(C, s, s) of the conv3 map behind the flattened features (N, D)."""
    c = int(net.backbone.channels[-1])
    s = int(round((net.backbone.out_dim // c) ** 0.5))
    return c, s, s


def attention_maps(net: MDNetNet, feats: torch.Tensor, k: int = 0, gen: Optional[torch.Generator] = None,
                   p_drop: float = 0.5) -> Tuple[torch.Tensor, torch.Tensor]:
    """Attention = |d(target score) / d(conv3 feature)| (Pu et al. Sec. 3.1), kept in the graph
    (``create_graph``) so the regulariser trains the classifier. Returns (logits (N, 2), A (N, C, s, s))."""
    feats = feats.detach().requires_grad_(True)
    logits = net.head(feats, k, gen, p_drop)
    grad, = torch.autograd.grad(logits[:, 1].sum(), feats, create_graph=True)
    return logits, grad.abs().reshape((len(feats),) + conv_map_shape(net))


def split_attention(a: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """(A_p, A_n) of attention maps (N, C, s, s): the target region is the centre cell (whose receptive
    field is centred on the sample's box), the background the other cells. -> (N, C) and (N, C (s^2 - 1))."""
    n, c, h, w = a.shape
    mask = torch.zeros(h, w, dtype=torch.bool)
    mask[h // 2, w // 2] = True
    return a[:, :, mask].reshape(n, -1), a[:, :, ~mask].reshape(n, -1)


def reciprocative_regulariser(a_p: torch.Tensor, a_n: torch.Tensor, y: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Per sample ``R(y=1) = s(A_p)/m(A_p) + m(A_n)/s(A_n)``, ``R(y=0) = m(A_p)/s(A_p) + s(A_n)/m(A_n)``
    (m mean, s standard deviation over the region); returns ``y R(1) + (1 - y) R(0)`` (N,)."""
    mp, sp = a_p.mean(dim=1), a_p.std(dim=1, unbiased=False)
    mn, sn = a_n.mean(dim=1), a_n.std(dim=1, unbiased=False)
    r1 = sp / (mp + eps) + mn / (sn + eps)
    r0 = mp / (sp + eps) + sn / (mn + eps)
    y = y.to(r1.dtype)
    return y * r1 + (1 - y) * r0


# -- VITAL (Song et al., CVPR 2018) --------------------------------------------------------------------


class VitalGenerator(nn.Module):
    """G: conv3 feature (N, C, s, s) -> mask (N, 1, s, s) in (0, 1) (VITAL Sec. 3.2: two fc layers)."""

    def __init__(self, channels: int, size: int, hidden: int = 256):
        super().__init__()
        self.size = size
        self.fc1 = nn.Linear(channels * size * size, hidden)
        self.fc2 = nn.Linear(hidden, size * size)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.fc2(F.relu(self.fc1(feats.flatten(1))))).reshape(-1, 1, self.size, self.size)


def cost_sensitive_loss(pos_logits: torch.Tensor, neg_logits: torch.Tensor) -> torch.Tensor:
    """VITAL's higher-order cost-sensitive loss (Sec. 3.3): positives ``-(1 - p) log p``, negatives
    ``-p log(1 - p)`` (p the target probability): easy negatives (p ~ 0) weigh ~0, as in focal loss."""
    lp = F.log_softmax(pos_logits, dim=1)
    ln = F.log_softmax(neg_logits, dim=1)
    pos = -(1 - lp[:, 1].exp()) * lp[:, 1]
    neg = -ln[:, 1].exp() * ln[:, 0]
    return (pos.sum() + neg.sum()) / (len(pos) + len(neg))


def hardest_masks(net: MDNetNet, feats: torch.Tensor, k: int = 0) -> torch.Tensor:
    """VITAL's target masks M: for each positive, of the s^2 masks that drop one cell, the one under which
    the classifier's loss is highest (the feature it relies on most). feats (N, D) -> masks (N, 1, s, s)."""
    c, h, w = conv_map_shape(net)
    x = feats.detach().reshape(-1, c, h, w)
    with torch.no_grad():
        losses = []
        for cell in range(h * w):
            m = torch.ones(h * w)
            m[cell] = 0
            logits = net.head((x * m.reshape(1, 1, h, w)).flatten(1), k)
            losses.append(-F.log_softmax(logits, dim=1)[:, 1])
        best = torch.stack(losses, dim=1).argmax(dim=1)
    masks = torch.ones(len(x), h * w)
    masks[torch.arange(len(x)), best] = 0
    return masks.reshape(-1, 1, h, w)
