"""One registration mechanism for every extensible kind: a decorator on the class, found lazily.

Trackers, dataset loaders, datasets, metrics, protocols, backbones and training recipes
all register the same way::

    @register_tracker("siamfc", kind="sot")
    class SiamFC(SOTTracker): ...

A :class:`Registry` knows the packages that hold its built-in entries (``sot.trackers``
and ``mot.trackers`` for trackers). It finds names **without importing** anything: the
package's source files are read once with :mod:`ast` for calls of the registry's
decorator with a literal name (``@register_tracker("siamfc", kind="sot")`` or
``register_tracker("x", ...)(obj)``); only the module holding a requested name is then
imported. So a new built-in tracker needs its module (and its YAML), nothing else: no
central table, no ``setup.py`` edit, no reinstall.

Third-party packages add entries through an entry-point group (``bench.trackers``,
``bench.datasets``, ...): an entry point's name is the entry's name, its object the
class (or a module whose import registers entries). A plugin that fails to import is
reported (``plugin_errors``), never fatal.

A *family* maps a name prefix to a factory: ``sot-<name>`` builds the SOT-per-target
MOT tracker around every registered SOT tracker.
"""
from __future__ import annotations

import ast
import importlib
import importlib.metadata as md
import importlib.util
import inspect
import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import BenchError, UnknownNameError


@dataclass
class Entry:
    """One registered name. ``config`` is a path relative to ``configs/`` (or absolute)."""

    name: str
    obj: Any
    kind: str = ""
    config: Optional[str] = None
    description: str = ""
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Family:
    """Names ``prefix + <base>`` for every entry of kind ``base_kind``, built by ``factory(base)``."""

    prefix: str
    kind: str
    base_kind: str
    factory: Callable[[str], Any]
    config: Optional[str] = None
    description: str = ""


@dataclass
class _Declared:
    """A name found in a source file: its module and the literal keyword arguments."""

    module: str
    kind: str = ""
    config: Optional[str] = None


class Registry:
    """Names -> entries: decorated objects, built-in modules found by source scan, plugins.

    ``packages``: dotted names of the packages whose modules hold built-in entries;
    ``decorator``: the function name whose literal first argument declares a name in
    them; ``group``: the entry-point group of third-party plugins; ``kind_key``: the
    keyword argument of the decorator that gives the entry's kind (``kind`` for
    trackers, ``protocol`` for datasets).
    """

    def __init__(self, what: str, *, packages: Tuple[str, ...] = (), decorator: str = "",
                 group: Optional[str] = None, kind_key: str = "kind",
                 default_config: Optional[Callable[[str], Optional[str]]] = None):
        self.what = what
        self.packages = tuple(packages)
        self.decorator = decorator
        self.group = group
        self.kind_key = kind_key
        self.default_config = default_config
        self._entries: Dict[str, Entry] = {}
        self._families: Dict[str, Family] = {}
        self._declared: Optional[Dict[str, _Declared]] = None
        self._family_modules: Optional[List[str]] = None
        self._plugins_loaded = False
        self.plugin_errors: Dict[str, str] = {}
        self._extra_sources: List[Callable[[], Dict[str, Entry]]] = []

    # -- registration -------------------------------------------------
    def add(self, entry: Entry, overwrite: bool = False) -> None:
        old = self._entries.get(entry.name)
        if old is not None and old.obj is not entry.obj and not overwrite:
            if _same_definition(old.obj, entry.obj):  # a module imported twice (e.g. runpy)
                return
            raise BenchError(f"{self.what} '{entry.name}' is registered twice "
                             f"({_where(old.obj)} and {_where(entry.obj)})")
        if entry.config is None and self.default_config is not None:
            entry.config = self.default_config(entry.name)
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

    def add_source(self, source: Callable[[], Dict[str, Entry]]) -> None:
        """Entries that come from elsewhere than code (e.g. datasets declared by YAML files);
        ``source()`` is called on lookup and its entries are added when first asked for."""
        self._extra_sources.append(source)

    # -- discovery ----------------------------------------------------
    def declared(self) -> Dict[str, _Declared]:
        """Names declared in the built-in packages' sources (found by reading, not importing)."""
        if self._declared is None:
            self._declared, self._family_modules = {}, []
            for pkg in self.packages:
                for mod, path in _package_modules(pkg):
                    names, families = _scan(path, self.decorator, self.kind_key)
                    for name, kind, config in names:
                        self._declared.setdefault(name, _Declared(mod, kind, config))
                    if families:
                        self._family_modules.append(mod)
        return self._declared

    def _import(self, module: str) -> None:
        try:
            importlib.import_module(module)
        except ImportError as exc:  # an optional dependency of that module is missing
            raise BenchError(f"{self.what} module {module} cannot be imported: {exc}") from None

    def _load_families(self) -> None:
        self.declared()
        for mod in self._family_modules or ():
            self._import(mod)

    def _sourced(self) -> Dict[str, Entry]:
        out: Dict[str, Entry] = {}
        for src in self._extra_sources:
            for name, e in src().items():
                out.setdefault(name, e)
        return out

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
            self.add(Entry(ep.name, obj, getattr(obj, "kind", ""),
                           getattr(obj, "config_file", None), _first_doc_line(obj)))

    def _plugin_names(self) -> List[str]:
        return [ep.name for ep in _entry_points(self.group)] if self.group else []

    # -- lookup -------------------------------------------------------
    def get(self, name: str) -> Entry:
        """The entry called ``name``; imports only what is needed to find it."""
        if name in self._entries:
            return self._entries[name]
        decl = self.declared().get(name)
        if decl is not None:
            self._import(decl.module)
            if name in self._entries:
                return self._entries[name]
        sourced = self._sourced().get(name)
        if sourced is not None:
            self.add(sourced)
            return sourced
        if self.group is not None and name in self._plugin_names():
            for ep in _entry_points(self.group):
                if ep.name == name and name not in self.plugin_errors:
                    self._load_entry_point(ep)
            if name in self._entries:
                return self._entries[name]
        self.load_plugins()
        if name in self._entries:
            return self._entries[name]
        fam = self._family_entry(name)
        if fam is not None:
            return fam
        if name in self.plugin_errors:
            raise BenchError(f"{self.what} '{name}' is declared but failed to load: {self.plugin_errors[name]}")
        raise UnknownNameError(self.what, name, self.names())

    def _family_entry(self, name: str) -> Optional[Entry]:
        self._load_families()
        for fam in self._families.values():
            if name.startswith(fam.prefix):
                base = name[len(fam.prefix):]
                try:
                    e = self.get(base)
                except UnknownNameError:
                    continue
                if e.kind == fam.base_kind:
                    return Entry(name, fam.factory(base), fam.kind, fam.config,
                                 f"{fam.description} ({base})", {"base": base})
        return None

    def kind_of(self, name: str) -> str:
        """The kind of ``name`` without importing its module when the source declares it."""
        if name in self._entries:
            return self._entries[name].kind
        decl = self.declared().get(name)
        if decl is not None and decl.kind:
            return decl.kind
        return self.get(name).kind

    def names(self) -> List[str]:
        """Every known name (built-in, sourced, plugins, family members); imports plugins."""
        self.load_plugins()
        self._load_families()
        base: Dict[str, str] = {n: d.kind for n, d in self.declared().items()}
        base.update({n: e.kind for n, e in self._sourced().items()})
        base.update({n: e.kind for n, e in self._entries.items()})
        names = set(base)
        for fam in self._families.values():
            names.update(fam.prefix + n for n, k in base.items() if k == fam.base_kind)
        return sorted(names)

    def entries(self) -> List[Entry]:
        """Every entry, imported (for listings)."""
        out = []
        for n in self.names():
            try:
                out.append(self.get(n))
            except BenchError as exc:
                self.plugin_errors.setdefault(n, str(exc))
        return out

    def __contains__(self, name: str) -> bool:
        try:
            self.get(name)
        except UnknownNameError:
            return False
        return True


# ---------------------------------------------------------------- source scan
def _package_modules(package: str) -> List[Tuple[str, Path]]:
    """(module name, file) of every ``.py`` module below ``package``, without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    out = []
    for loc in spec.submodule_search_locations:
        base = Path(loc)
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(base).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out.append((".".join([package, *parts]), path))
    return out


_SCAN_CACHE: Dict[Tuple[str, float, str, str], Tuple[list, bool]] = {}


def _scan(path: Path, decorator: str, kind_key: str) -> Tuple[List[Tuple[str, str, Optional[str]]], bool]:
    """Literal names declared in ``path`` by ``decorator("name", kind_key="...")`` calls, and
    whether it declares a family (``add_family`` / ``register_family``)."""
    try:
        key = (str(path), os.stat(path).st_mtime, decorator, kind_key)
    except OSError:
        return [], False
    if key in _SCAN_CACHE:
        return _SCAN_CACHE[key]
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return [], False
    found: List[Tuple[str, str, Optional[str]]] = []
    family = "add_family" in source or "register_family" in source
    if decorator and decorator in source:
        try:
            tree = ast.parse(source, filename=str(path))
        except SyntaxError:
            tree = None
        for node in ast.walk(tree) if tree is not None else ():
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            fname = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else None
            if fname != decorator or not node.args:
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            kw = {k.arg: k.value.value for k in node.keywords
                  if k.arg and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)}
            found.append((first.value, kw.get(kind_key, ""), kw.get("config")))
    _SCAN_CACHE[key] = (found, family)
    return found, family


# ---------------------------------------------------------------- helpers
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


def _same_definition(a: Any, b: Any) -> bool:
    return (getattr(a, "__qualname__", None) == getattr(b, "__qualname__", object())
            and getattr(a, "__module__", None) in (getattr(b, "__module__", None), "__main__")
            and getattr(b, "__module__", None) in (getattr(a, "__module__", None), "__main__"))


def configs_dir() -> Path:
    """The ``configs/`` folder: ``$BENCH_CONFIGS``, else the source tree's, else the installed copy."""
    env = os.environ.get("BENCH_CONFIGS")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[2] / "configs"
    if here.is_dir():
        return here
    return Path(sys.prefix) / "share" / "bench" / "configs"


def _tracker_yaml(name: str) -> Optional[str]:
    """``trackers/<name>.yaml`` when that file exists (the default config of a tracker)."""
    rel = f"trackers/{name}.yaml"
    return rel if (configs_dir() / rel).is_file() else None


# ---------------------------------------------------------------- the registries
TRACKERS = Registry("tracker", packages=("sot.trackers", "mot.trackers"), decorator="register_tracker",
                    group="bench.trackers", default_config=_tracker_yaml)
METRICS = Registry("metric", packages=("bench.metrics",), decorator="register_metric", group="bench.metrics")
PROTOCOLS = Registry("protocol", packages=("bench.protocols",), decorator="register_protocol",
                     group="bench.protocols")
LOADERS = Registry("dataset loader", packages=("bench.datasets",), decorator="register_loader",
                   group="bench.datasets")
DATASETS = Registry("dataset", kind_key="protocol", group="bench.dataset_specs")


def _refiner_yaml(name: str) -> Optional[str]:
    rel = f"refine/{name}.yaml"
    return rel if (configs_dir() / rel).is_file() else None


REFINERS = Registry("refiner", packages=("mot.refine",), decorator="register_refiner", group="bench.refiners",
                    default_config=_refiner_yaml)


def register_tracker(name: str, *, kind: str, config: Optional[str] = None, description: str = ""):
    """Register a tracker class. ``kind`` is ``"sot"`` or ``"mot"``; ``config`` is the YAML
    under ``configs/`` holding its hyperparameters (default ``trackers/<name>.yaml`` when it exists)."""
    if kind not in ("sot", "mot"):
        raise ValueError(f"tracker kind must be 'sot' or 'mot', not {kind!r}")
    return TRACKERS.register(name, kind=kind, config=config, description=description)


def register_tracker_family(prefix: str, *, kind: str, base_kind: str, config: Optional[str] = None,
                            description: str = ""):
    """Register ``factory(base) -> class`` for every name ``prefix + <base>``."""

    def deco(factory):
        TRACKERS.add_family(Family(prefix, kind, base_kind, factory, config, description))
        return factory

    return deco


def register_refiner(name: str, *, config: Optional[str] = None, description: str = ""):
    """Register an offline MOT refiner class (``Config`` dataclass, ``refine(rows, seq)``;
    config YAML ``refine/<name>.yaml`` by default); see :mod:`mot.refine`."""
    return REFINERS.register(name, config=config, description=description)


def register_metric(name: str, *, kind: str, description: str = ""):
    return METRICS.register(name, kind=kind, description=description)


def register_protocol(name: str, *, kind: str, description: str = ""):
    """Register a :class:`bench.protocols.base.Protocol` class; ``kind`` is the tracker kind it runs."""
    return PROTOCOLS.register(name, kind=kind, description=description)


def register_dataset(name: str, *, protocol: str, loader: Optional[str] = None, config: Optional[str] = None,
                     description: str = ""):
    """Declare a dataset from code (third-party packages; built-in datasets are YAML files
    under ``configs/datasets/`` that name their loader and protocol)."""
    if loader is not None:
        entry = Entry(name, loader, protocol, config, description)
        DATASETS.add(entry)
        return entry
    return DATASETS.register(name, kind=protocol, config=config, description=description)


_YAML_CACHE: Dict[Tuple[str, float], Optional[Entry]] = {}


def _yaml_dataset(path: Path) -> Optional[Entry]:
    """The dataset a ``configs/datasets/<name>.yaml`` declares (top-level ``loader`` and
    ``protocol``), or None for other YAML files there."""
    from .config import read_yaml

    try:
        key = (str(path), path.stat().st_mtime)
    except OSError:
        return None
    if key not in _YAML_CACHE:
        data = read_yaml(path)
        entry = None
        if "loader" in data:
            for k in ("protocol", "description"):
                if k not in data:
                    from .errors import ConfigError

                    raise ConfigError(f"{path}: a dataset file needs '{k}' beside 'loader'")
            entry = Entry(path.stem, str(data["loader"]), str(data["protocol"]),
                          f"datasets/{path.name}", str(data["description"]))
        _YAML_CACHE[key] = entry
    return _YAML_CACHE[key]


def _yaml_datasets() -> Dict[str, Entry]:
    folder = configs_dir() / "datasets"
    out: Dict[str, Entry] = {}
    for p in sorted(folder.glob("*.yaml")):
        e = _yaml_dataset(p)
        if e is not None:
            out[e.name] = e
    return out


DATASETS.add_source(_yaml_datasets)
