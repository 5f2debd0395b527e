"""Datasets: loaders (one module per file layout, registered with ``@register_loader``) and
the datasets themselves, one YAML file each under ``configs/datasets/`` (see :mod:`.base`)."""
from .base import Dataset, LoaderParams, open_dataset, register_loader  # noqa: F401
