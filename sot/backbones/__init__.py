"""The shared backbone layer: every SOT tracker builds its trunk here from config.

``build_backbone(name, **kwargs)`` returns an ``nn.Module``. Names:

* ``alexnet_siamfc``: SiamFC's BN AlexNet, grouped conv2/4/5 (``sot.backbones.alexnet``)
* ``alexnet_rpn``: the SiamRPN / DaSiamRPN AlexNet, ``width`` 1 or 2 (BIG)
* ``vggm``: VGG-M conv1-3 for MDNet and ADNet (``sot.backbones.vggm``)

Modules register their builders with :func:`register_backbone`; the table below says
which module defines which name so that only the needed one is imported.
"""
from __future__ import annotations

import importlib
from typing import Callable, Dict

from bench.core.errors import UnknownNameError

_BUILDERS: Dict[str, Callable] = {}
_MODULES = {"alexnet_siamfc": "alexnet", "alexnet_rpn": "alexnet", "vggm": "vggm"}


def register_backbone(name: str):
    def deco(fn):
        _BUILDERS[name] = fn
        return fn
    return deco


def build_backbone(name: str, **kwargs):
    if name not in _BUILDERS and name in _MODULES:
        importlib.import_module(f"{__name__}.{_MODULES[name]}")
    if name not in _BUILDERS:
        raise UnknownNameError("backbone", name, set(_MODULES) | set(_BUILDERS))
    return _BUILDERS[name](**kwargs)
