"""A template memory bank in the spirit of MemTrack (Yang & Chan, ECCV 2018), simplified.

K slots hold kernels of confident past templates together with a key (their backbone
feature, flattened and L2-normalised). Reading compares the keys with the current
search region's centre feature (cosine similarity, softmax with temperature ``tau``)
and returns the weighted sum of the slot kernels; the tracker adds it to the initial
template through a fixed gate: ``T = (1 - g) * T0 + g * sum_j w_j M_j``. Writing puts a
new template into an empty slot, else the least-used one (usage = exponentially decayed
sum of read weights, MemTrack's ``usage_decay``).
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch


class TemplateMemory:
    def __init__(self, slots: int, tau: float, usage_decay: float):
        self.n = slots
        self.tau = tau
        self.decay = usage_decay
        self.keys: List[torch.Tensor] = []
        self.kernels: List[Tuple[torch.Tensor, ...]] = []
        self.usage = np.zeros(slots)

    def __len__(self) -> int:
        return len(self.keys)

    @staticmethod
    def key(feature: torch.Tensor) -> torch.Tensor:
        """Flattened, L2-normalised feature (C, h, w) -> (C*h*w,)."""
        v = feature.reshape(-1).float()
        return v / (v.norm() + 1e-12)

    def write(self, feature: torch.Tensor, kernels: Sequence[torch.Tensor]) -> int:
        """Store a template; returns the slot index used."""
        k = self.key(feature)
        kern = tuple(x.detach().clone() for x in kernels)
        if len(self.keys) < self.n:
            self.keys.append(k)
            self.kernels.append(kern)
            slot = len(self.keys) - 1
        else:
            slot = int(np.argmin(self.usage))
            self.keys[slot] = k
            self.kernels[slot] = kern
        self.usage[slot] = 1.0
        return slot

    def read(self, query: torch.Tensor) -> Optional[Tuple[torch.Tensor, ...]]:
        """Similarity-weighted slot kernels for the query feature (C, h, w); None if empty."""
        if not self.keys:
            return None
        q = self.key(query)
        sims = torch.stack(self.keys) @ q
        w = torch.softmax(sims / self.tau, dim=0)
        wn = w.numpy().astype(np.float64)
        self.usage[: len(wn)] = self.decay * self.usage[: len(wn)] + wn
        out = []
        for j in range(len(self.kernels[0])):
            stack = torch.stack([kk[j] for kk in self.kernels])
            out.append(torch.tensordot(w.to(stack.dtype), stack, dims=1))
        return tuple(out)
