"""The shared backbone layer: every SOT tracker builds its trunk here from config.

``build_backbone(name, **kwargs)`` returns an ``nn.Module``. Names:

* ``alexnet_siamfc``: SiamFC's BN AlexNet, grouped conv2/4/5 (``sot.backbones.alexnet``)
* ``alexnet_rpn``: the SiamRPN / DaSiamRPN AlexNet, ``width`` 1 or 2 (BIG)
* ``vggm``: VGG-M conv1-3 for MDNet and ADNet (``sot.backbones.vggm``)

Builders register with ``@register_backbone("name")`` in any module of this package; the
project's registry (:class:`bench.core.registry.Registry`) finds the names by reading the
sources and imports only the module holding the requested one. Third-party backbones
register through the ``bench.backbones`` entry-point group.
"""
from __future__ import annotations

from bench.core.registry import Registry

BACKBONES = Registry("backbone", packages=("sot.backbones",), decorator="register_backbone",
                     group="bench.backbones")


def register_backbone(name: str):
    """Decorator registering a backbone builder ``fn(**kwargs) -> nn.Module`` under ``name``."""
    return BACKBONES.register(name)


def build_backbone(name: str, **kwargs):
    """The backbone ``name`` built with ``kwargs``; an unknown name raises
    :class:`bench.core.errors.UnknownNameError` listing the known ones."""
    return BACKBONES.get(name).obj(**kwargs)
