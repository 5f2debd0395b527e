"""Name registries for trackers, datasets and metrics.

Trackers register with a decorator::

    @register_tracker("siamfc", kind="sot", config="trackers/siamfc.yaml")
    class SiamFC(SOTTracker): ...

The harness never imports a tracker module by name. The toolkit's own trackers are
declared in ``setup.py`` under the ``bench.trackers`` entry-point group, the same
group third-party packages use, so built-in and plugin trackers are found the same
way. An entry point's name is the tracker name; its object is the tracker class (or a
module whose import registers trackers). A class that was not decorated is
registered under the entry-point name with ``kind = cls.kind`` (default ``"sot"``).

A *family* maps a name prefix to a factory, e.g. ``sot-<name>`` builds the
SOT-per-target MOT tracker around every registered SOT tracker.
"""
from __future__ import annotations

import importlib
import importlib.metadata as md
import inspect
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional

from .errors import BenchError, UnknownNameError


@dataclass
class Entry:
    """One registered name. ``config`` is a path relative to the ``configs/`` folder."""

    name: str
    obj: Any
    kind: str = ""
    config: Optional[str] = None
    description: str = ""
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Family:
    prefix: str
    kind: str
    base_kind: str
    factory: Callable[[str], Any]
    config: Optional[str] = None
    description: str = ""


class Registry:
    """Names -> entries, with lazy loading of an entry-point group."""

    def __init__(self, what: str, group: Optional[str] = None):
        self.what = what
        self.group = group
        self._entries: Dict[str, Entry] = {}
        self._families: Dict[str, Family] = {}
        self._plugins_loaded = False
        self.plugin_errors: Dict[str, str] = {}

    # -- registration -------------------------------------------------
    def add(self, entry: Entry, overwrite: bool = False) -> None:
        old = self._entries.get(entry.name)
        if old is not None and old.obj is not entry.obj and not overwrite:
            raise BenchError(f"{self.what} '{entry.name}' is registered twice "
                             f"({_where(old.obj)} and {_where(entry.obj)})")
        self._entries[entry.name] = entry

    def register(self, name: str, *, kind: str = "", config: Optional[str] = None,
                 description: str = "", **extra: Any):
        """Decorator registering a class or function under ``name``."""

        def deco(obj):
            desc = description or _first_doc_line(obj)
            self.add(Entry(name, obj, kind, config, desc, dict(extra)))
            return obj

        return deco

    def add_family(self, family: Family) -> None:
        self._families[family.prefix] = family

    # -- lookup -------------------------------------------------------
    def load_plugins(self) -> None:
        """Import every entry point of the group once (errors are kept, not raised)."""
        if self._plugins_loaded or self.group is None:
            return
        self._plugins_loaded = True
        for ep in _entry_points(self.group):
            if ep.name in self._entries or ep.name in self.plugin_errors:
                continue
            self._load_entry_point(ep)

    def _load_entry_point(self, ep) -> None:
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not break the harness
            self.plugin_errors[ep.name] = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"{self.what} plugin '{ep.name}' ({ep.value}) failed to load: {exc}")
            return
        if inspect.isclass(obj) and not any(e.obj is obj for e in self._entries.values()):
            self.add(Entry(ep.name, obj, getattr(obj, "kind", "sot"),
                           getattr(obj, "config_file", None), _first_doc_line(obj)))

    def _load_named(self, name: str) -> None:
        """Import only the entry points called ``name`` (a lookup need not import every plugin)."""
        if self._plugins_loaded or self.group is None:
            return
        for ep in _entry_points(self.group):
            if ep.name == name and name not in self._entries and name not in self.plugin_errors:
                self._load_entry_point(ep)

    def names(self) -> List[str]:
        self.load_plugins()
        names = set(self._entries)
        for fam in self._families.values():
            names.update(fam.prefix + e.name for e in self._entries.values() if e.kind == fam.base_kind)
        return sorted(names)

    def entries(self) -> List[Entry]:
        return [self.get(n) for n in self.names()]

    def __contains__(self, name: str) -> bool:
        return name in self.names()

    def get(self, name: str) -> Entry:
        if name not in self._entries:
            self._load_named(name)
        if name not in self._entries:
            self.load_plugins()
        if name in self._entries:
            return self._entries[name]
        for fam in self._families.values():
            if name.startswith(fam.prefix):
                base = name[len(fam.prefix):]
                e = self._entries.get(base)
                if e is not None and e.kind == fam.base_kind:
                    return Entry(name, fam.factory(base), fam.kind, fam.config,
                                 f"{fam.description} ({base})", {"base": base})
        raise UnknownNameError(self.what, name, self.names())


def _entry_points(group: str):
    try:
        return list(md.entry_points(group=group))
    except TypeError:  # Python < 3.10
        return list(md.entry_points().get(group, []))


def _first_doc_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _where(obj: Any) -> str:
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


TRACKERS = Registry("tracker", group="bench.trackers")
DATASETS = Registry("dataset", group="bench.datasets")
METRICS = Registry("metric")


def register_tracker(name: str, *, kind: str, config: Optional[str] = None, description: str = ""):
    """Register a tracker class. ``kind`` is ``"sot"`` or ``"mot"``; ``config`` is the
    YAML under ``configs/`` holding its hyperparameters (e.g. ``"trackers/siamfc.yaml"``)."""
    if kind not in ("sot", "mot"):
        raise ValueError(f"tracker kind must be 'sot' or 'mot', not {kind!r}")
    return TRACKERS.register(name, kind=kind, config=config, description=description)


def register_dataset(name: str, *, protocol: str, config: Optional[str] = None, description: str = ""):
    """Register a dataset opener ``f(root, **options) -> Dataset``. ``protocol`` is one of
    ``ope``, ``vot``, ``got10k``, ``mot``."""
    return DATASETS.register(name, kind=protocol, config=config, description=description)


def register_metric(name: str, *, kind: str, description: str = ""):
    return METRICS.register(name, kind=kind, description=description)


def configs_dir() -> Path:
    """The ``configs/`` folder: ``$BENCH_CONFIGS``, else the source tree's, else the installed copy."""
    import os
    import sys

    env = os.environ.get("BENCH_CONFIGS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[2] / "configs"
    if here.is_dir():
        return here
    return Path(sys.prefix) / "share" / "bench" / "configs"


def import_string(path: str) -> Any:
    """Import ``"pkg.module:attr"``."""
    mod, _, attr = path.partition(":")
    obj = importlib.import_module(mod)
    return getattr(obj, attr) if attr else obj
