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


# -- MemTrack's learned memory (Yang & Chan, ECCV 2018; skyoung/MemTrack memnet/*.py) ------------------


class MemTrackMemory(torch.nn.Module):
    """MemTrack's dynamic memory: an LSTM controller, a read / write head and a gated residual.

    Per frame ``t`` (batch ``B``, template feature ``C x k x k``, search feature ``C x H x W``):

    * **attention read of the search feature** (``memnet.py``): the search map is average-pooled
      over ``k x k`` windows into cells ``f_i`` (C); ``a_i = softmax_i(v^T tanh(W_h h_{t-1} + W_f f_i))``;
      the controller input is ``sum_i a_i f_i``;
    * **controller**: an LSTM (``hidden`` 512, paper Sec. 3.2) whose state starts at
      ``tanh(dense(mean(T0)))`` (``memnet.py`` initial state);
    * **interface** (``access.py _transform_input``): read key ``k_r`` (C), read strength
      ``beta = 1 + softplus(.)``, gates ``(g_r, g_a, g_n) = softmax(dense(3))`` (write to the slots just
      read / to the allocated slot / no write), write decay ``d = sigmoid(.)``, channel-wise residual gate
      ``r = sigmoid(dense(C))`` in (0, 1);
    * **read** (``addressing.py``): slot keys are the slots' spatial means; ``w_r = softmax(beta cos(k_r,
      key_j))``; retrieved ``T_r = sum_j w_r(j) M_j``; output template ``T = T0 + r (.) T_r``;
    * **write** (``access.py _reset_and_write``): allocation ``w_a`` = one-hot at the least-used slot;
      ``w_w = g_r w_r + g_a w_a``; ``e = d g_r + g_a``; ``M <- M (1 - w_w e) + w_w e T_new``;
      usage ``u <- usage_decay * u + w_w + w_r`` (0.99).
    """

    def __init__(self, channels: int, slots: int = 8, hidden: int = 512, usage_decay: float = 0.99, keep_prob: float = 0.8):
        super().__init__()
        self.c, self.slots, self.hidden, self.usage_decay = channels, slots, hidden, usage_decay
        att = min(hidden, 256)
        self.att_h = torch.nn.Linear(hidden, att)
        self.att_f = torch.nn.Linear(channels, att, bias=False)
        self.att_v = torch.nn.Linear(att, 1, bias=False)
        self.lstm = torch.nn.LSTMCell(channels, hidden)
        self.init_h = torch.nn.Linear(channels, hidden)
        self.init_c = torch.nn.Linear(channels, hidden)
        self.drop = torch.nn.Dropout(1 - keep_prob)
        self.key = torch.nn.Linear(hidden, channels)
        self.strength = torch.nn.Linear(hidden, 1)
        self.gates = torch.nn.Linear(hidden, 3)
        self.decay = torch.nn.Linear(hidden, 1)
        self.residual = torch.nn.Linear(hidden, channels)

    # -- state -------------------------------------------------------------------------------------
    def init_state(self, t0: torch.Tensor) -> dict:
        """State after the first frame: the memory holds ``T0`` (B, C, k, k) in slot 0 (usage 1)."""
        b = t0.shape[0]
        pooled = t0.mean(dim=(2, 3))
        mem = t0.new_zeros((b, self.slots) + tuple(t0.shape[1:]))
        mem[:, 0] = t0
        usage = t0.new_zeros(b, self.slots)
        usage[:, 0] = 1.0
        return {"h": torch.tanh(self.init_h(pooled)), "c": torch.tanh(self.init_c(pooled)), "memory": mem,
                "usage": usage, "read": t0.new_zeros(b, self.slots), "t0": t0}

    # -- pieces (static where they need no parameters: tested on hand-set tensors) -----------------
    @staticmethod
    def read_weights(key: torch.Tensor, strength: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        """``softmax_j(strength * cos(key, mean_xy M_j))``: key (B, C), strength (B, 1), memory (B, N, C, k, k) -> (B, N)."""
        keys = memory.mean(dim=(3, 4))
        cos = torch.nn.functional.cosine_similarity(keys, key[:, None, :], dim=2, eps=1e-8)
        return torch.softmax(strength * cos, dim=1)

    @staticmethod
    def allocation(usage: torch.Tensor) -> torch.Tensor:
        """One-hot at the least-used slot (first one on ties): usage (B, N) -> (B, N)."""
        return torch.nn.functional.one_hot(usage.argmin(dim=1), usage.shape[1]).to(usage.dtype)

    @staticmethod
    def write(memory: torch.Tensor, w_write: torch.Tensor, erase: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
        """``M <- M (1 - w e) + w e T_new``: memory (B, N, C, k, k), w (B, N), erase (B, 1), new (B, C, k, k)."""
        we = (w_write * erase)[:, :, None, None, None]
        return memory * (1 - we) + we * new[:, None]

    # -- one frame ---------------------------------------------------------------------------------
    def read(self, state: dict, search: torch.Tensor) -> Tuple[torch.Tensor, dict]:
        """Template for this frame from the search feature (B, C, H, W) at the previous position.

        Returns ``(T, step)``; ``step`` (interface values) is passed to :meth:`write_step` with the
        template of the new position."""
        k = state["t0"].shape[-1]
        cells = torch.nn.functional.avg_pool2d(search, k, stride=1).flatten(2).transpose(1, 2)    # (B, L, C)
        e = self.att_v(torch.tanh(self.att_h(state["h"])[:, None] + self.att_f(cells)))           # (B, L, 1)
        a = torch.softmax(e, dim=1)
        inp = (a * cells).sum(dim=1)
        h, c = self.lstm(inp, (state["h"], state["c"]))
        o = self.drop(h)
        key = self.key(o)
        beta = 1 + torch.nn.functional.softplus(self.strength(o))
        gates = torch.softmax(self.gates(o), dim=1)
        decay = torch.sigmoid(self.decay(o))
        r = torch.sigmoid(self.residual(o))[:, :, None, None]
        w_r = self.read_weights(key, beta, state["memory"])
        retrieved = (w_r[:, :, None, None, None] * state["memory"]).sum(dim=1)
        template = state["t0"] + r * retrieved
        step = {"h": h, "c": c, "w_r": w_r, "gates": gates, "decay": decay, "residual": r, "attention": a}
        return template, step

    def write_step(self, state: dict, step: dict, new: torch.Tensor) -> dict:
        """Next state: ``new`` (B, C, k, k) (the template at the new position) written as the gates say."""
        g_r, g_a = step["gates"][:, :1], step["gates"][:, 1:2]
        w_a = self.allocation(state["usage"])
        w_w = g_r * step["w_r"] + g_a * w_a
        erase = step["decay"] * g_r + g_a
        memory = self.write(state["memory"], w_w, erase, new)
        usage = self.usage_decay * state["usage"] + w_w + step["w_r"]
        return {"h": step["h"], "c": step["c"], "memory": memory, "usage": usage, "read": step["w_r"], "t0": state["t0"]}
