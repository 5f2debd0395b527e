"""Run loops: how a tracker is driven over a sequence, per protocol.

* :mod:`.one_pass`: one-pass evaluation (OTB, LaSOT, GOT-10k, synthetic).
* :mod:`.vot_reset`: the VOT supervised protocol (failure, re-init 5 frames later, repetitions).
* :mod:`.runner`: a whole dataset: skip finished sequences (resume), write each finished
  sequence atomically through :mod:`bench.results`, keep going when a sequence raises.
* :mod:`.mot` (multi-object datasets).
"""
from .one_pass import OnePassResult, run_one_pass  # noqa: F401
from .vot_reset import VOTRunResult, VOTSettings, run_supervised, run_vot  # noqa: F401
