"""Built-in datasets. Importing this package registers them; see :func:`open_dataset`."""
import importlib

from .base import Dataset, open_dataset  # noqa: F401

_BUILTIN = ["otb", "vot", "got10k", "lasot", "motchallenge", "synthetic"]

for _m in _BUILTIN:
    try:
        importlib.import_module(f"{__name__}.{_m}")
    except ModuleNotFoundError as _e:  # only a module file that does not exist (yet) is skipped
        if _e.name != f"{__name__}.{_m}":
            raise
