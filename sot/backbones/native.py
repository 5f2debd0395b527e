"""Small C kernels compiled on first use and called through ctypes (no PyTorch headers needed).

Only one for now: ``relu_lrn_maxpool`` (``lrn_pool.c``), the fused ReLU + LRN + 3x3/2 max pooling
of VGG-M conv1 / conv2 (MDNet, ADNet). PyTorch runs these as seven passes over the
largest maps of the network; the fused loop reads each map once, which takes the
official-size MDNet update from 0.81 s to about 0.58 s (benchmarks/results/online.md).

The shared library is built with the system C compiler (``$CC``, else ``cc`` / ``gcc``) as
``-O3 -march=native -fopenmp`` (dropping flags the compiler refuses) into ``$BENCH_CACHE_DIR`` (default ``~/.cache/bench-tracking``), keyed
by a hash of the source, flags and host. Without a compiler, or with ``BENCH_NATIVE=0``,
:func:`lrn_pool_kernel` returns None and the callers use their PyTorch path, which gives the
same numbers (tests/sot/backbones/test_native.py checks both against the reference LRN).
"""
from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Optional

import torch

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("lrn_pool.c")
FLAGS = ("-O3", "-fPIC", "-shared", "-fno-math-errno")
_lock = threading.Lock()
_state: dict = {}


def cache_dir() -> Path:
    env = os.environ.get("BENCH_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bench-tracking"


def _compiler() -> Optional[str]:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return name
    return None


def _build(src: Path) -> Optional[Path]:
    cc = _compiler()
    if cc is None:
        log.info("native kernels: no C compiler found ($CC, cc, gcc, clang); using the PyTorch path")
        return None
    text = src.read_bytes()
    key = hashlib.sha256(text + repr((cc, FLAGS, platform.node(), platform.machine())).encode()).hexdigest()[:16]
    out = cache_dir() / f"{src.stem}-{key}.so"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    # OpenMP: libgomp.so.1 resolves to the runtime PyTorch has already loaded (same threads)
    for arch in (("-march=native", "-fopenmp"), ("-fopenmp",), ("-march=native",), ()):
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=out.parent)
        os.close(fd)
        cmd = [cc, *FLAGS, *arch, "-o", tmp, str(src), "-lm"]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.SubprocessError) as e:
            r = None
            err = str(e)
        else:
            err = r.stderr.strip()
        if r is not None and r.returncode == 0:
            os.replace(tmp, out)  # atomic: concurrent builders end with one complete file
            return out
        os.unlink(tmp)
        log.info("native kernels: '%s' failed: %s", " ".join(cmd), err[-500:])
    return None


class LRNPoolKernel:
    """ctypes wrapper of ``relu_lrn_maxpool``. The images are split over OpenMP threads inside the
    kernel, on PyTorch's own OpenMP runtime (``torch.set_num_threads`` applies). Python threads
    were tried first and were no faster: they competed with PyTorch's OpenMP workers, which
    spin for a while after each convolution."""

    def __init__(self, lib: ctypes.CDLL):
        f = lib.relu_lrn_maxpool
        f.restype = ctypes.c_int
        f.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                      ctypes.c_float, ctypes.c_float, ctypes.c_float]
        self._f = f

    def __call__(self, x: torch.Tensor, lo: int, hi: int, a: float, k: float, beta: float) -> torch.Tensor:
        """ReLU, LRN ``y = r (k + a sum_{c-lo..c+hi} r^2)^-beta`` and 3x3/2 max pooling.

        ``x``: (N, C, H, W) float32 or bfloat16 in ``channels_last`` memory. Returns
        (N, C, (H-3)//2+1, (W-3)//2+1) float32 in ``channels_last`` memory.
        """
        if x.dtype not in (torch.float32, torch.bfloat16):
            x = x.float()
        xl = x.permute(0, 2, 3, 1)
        if not xl.is_contiguous():
            xl = xl.contiguous()
        n, h, w, c = xl.shape
        if h < 3 or w < 3:
            raise ValueError(f"relu_lrn_maxpool: maps of {h}x{w} are smaller than the 3x3 pooling window")
        out = torch.empty(n, (h - 3) // 2 + 1, (w - 3) // 2 + 1, c)
        if n and self._f(xl.data_ptr(), int(xl.dtype == torch.bfloat16), out.data_ptr(), 0, n,
                         h, w, c, lo, hi, float(a), float(k), float(beta)):
            raise MemoryError("relu_lrn_maxpool: could not allocate its row buffers")
        return out.permute(0, 3, 1, 2)


def lrn_pool_kernel() -> Optional[LRNPoolKernel]:
    """The compiled kernel, or None (no compiler, build failed, or ``BENCH_NATIVE=0``)."""
    if os.environ.get("BENCH_NATIVE", "1") == "0":
        return None
    with _lock:
        if "lrn_pool" not in _state:
            kern = None
            try:
                path = _build(SOURCE)
                if path is not None:
                    kern = LRNPoolKernel(ctypes.CDLL(str(path)))
            except OSError as e:
                log.info("native kernels: could not load: %s", e)
            _state["lrn_pool"] = kern
        return _state["lrn_pool"]
