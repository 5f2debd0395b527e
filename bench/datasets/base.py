"""Datasets: one typed settings object per dataset, through one config loader.

A dataset is a YAML file ``configs/datasets/<name>.yaml``::

    loader: otb                # the code that reads the files (registered with @register_loader)
    protocol: ope              # how trackers are run and scored (bench.protocols)
    description: OTB-2015 ...
    params:                    # the loader's settings: its Params dataclass
      root: {value: ~/datasets/OTB100, source: ...}
      list: {value: otb100, source: ...}
    settings:                  # the protocol's settings for this dataset: its Settings dataclass
      invalid_gt: {value: fail, source: ...}

:func:`open_dataset` reads that file, fills the loader's ``Params`` and the protocol's
``Settings`` (each value checked against its dataclass: unknown keys and wrong types are
errors naming the valid keys), applies the caller's options (``--dataset-option`` /
``--option``: a key of either dataclass; dotted keys reach nested groups) and calls the
loader. A benchmark whose files follow a known layout (MOTChallenge, say) is added by a
YAML file alone.

A loader is ``fn(name, params, root) -> Dataset`` registered with
``@register_loader("otb", params=OTBParams)``; ``params.root`` is the dataset folder
(``root`` given by the caller wins).
"""
from __future__ import annotations

import dataclasses
import fnmatch
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Union

from ..core.config import build, read_yaml, split_sources
from ..core.errors import ConfigError, DatasetNotFoundError, UnknownNameError
from ..core.registry import DATASETS, LOADERS, configs_dir

PathLike = Union[str, Path]


@dataclasses.dataclass
class LoaderParams:
    """Settings every loader has: where the data is and where it comes from."""

    #: default dataset folder (``--root`` wins); ``~`` is expanded
    root: Optional[str] = None
    #: where the dataset is downloaded from (named in "not found" messages)
    download: str = ""
    #: how to get it, one line (named in "not found" messages)
    download_hint: str = ""


class Dataset:
    """Sequences of one benchmark, loaded lazily.

    ``protocol``: the registered protocol's name (how trackers are run and scored);
    ``params``: the loader's settings; ``settings``: the protocol's settings;
    ``has_gt``: whether the sequences carry ground truth (None: look at the first one);
    ``total``: the number of sequences before a :meth:`select`.
    """

    def __init__(self, name: str, names: Sequence[str], loader: Callable[[str], object], *,
                 protocol: str = "", root: Optional[PathLike] = None, params: Any = None, settings: Any = None,
                 has_gt: Optional[bool] = None):
        self.name = name
        self.protocol = protocol
        self._names = list(names)
        self._loader = loader
        self.root = None if root is None else Path(root)
        self.params = params
        self.settings = settings
        self.has_gt = has_gt
        self.total = len(self._names)
        self._cache: Dict[str, object] = {}

    def names(self) -> List[str]:
        return list(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def __getitem__(self, name: str):
        if name not in self._names:
            raise UnknownNameError(f"sequence of {self.name}", name, self._names, f"sequences of {self.name}")
        if name not in self._cache:
            self._cache[name] = self._loader(name)
        return self._cache[name]

    def __iter__(self) -> Iterator[object]:
        for n in self._names:
            yield self[n]

    def protocol_object(self):
        """The protocol (:class:`bench.protocols.base.Protocol`) with this dataset's settings."""
        from ..protocols.base import get_protocol

        return get_protocol(self.protocol, self.settings)

    def with_settings(self, **changes) -> "Dataset":
        """The same dataset with some protocol settings changed (checked like any option)."""
        if not changes:
            return self
        values = dataclasses.asdict(self.settings)
        values.update(changes)
        sub = self._copy(self._names)
        sub.settings = build(type(self.settings), values, f"dataset '{self.name}' settings")
        return sub

    def _copy(self, names: Sequence[str]) -> "Dataset":
        sub = Dataset(self.name, names, self._loader, protocol=self.protocol, root=self.root, params=self.params,
                      settings=self.settings, has_gt=self.has_gt)
        sub.total = self.total
        sub._cache = self._cache
        return sub

    def select(self, names: Optional[Sequence[str]]) -> "Dataset":
        """The same dataset restricted to ``names`` (in that order); unknown names raise.

        A name with ``*``, ``?`` or ``[`` is a shell-style pattern (``fnmatch``): it stands for
        every matching sequence in dataset order (``*-distractors``) and must match one."""
        if not names:
            return self
        picked: List[str] = []
        for n in names:
            if any(ch in n for ch in "*?["):
                hits = [m for m in self._names if fnmatch.fnmatchcase(m, n)]
                if not hits:
                    raise UnknownNameError(f"sequence of {self.name} matching", n, self._names,
                                           f"sequences of {self.name}")
                picked += [m for m in hits if m not in picked]
            elif n not in self._names:
                raise UnknownNameError(f"sequence of {self.name}", n, self._names, f"sequences of {self.name}")
            elif n not in picked:
                picked.append(n)
        return self._copy(picked)

    def has_ground_truth(self) -> bool:
        """False when the dataset declares none (GOT-10k test) or its first sequence has none."""
        if self.has_gt is not None:
            return bool(self.has_gt)
        import numpy as np

        from ..core.errors import BenchError

        for name in self._names[:1]:
            try:
                seq = self[name]
            except BenchError:
                return True
            gt = getattr(seq, "gt", None)
            if gt is None:
                return False
            gt = np.asarray(gt, dtype=float)
            if gt.ndim == 2 and gt.shape[1] == 4 and len(gt) > 1 and not np.isfinite(gt[1:]).any():
                return False
        return True


def register_loader(name: str, *, params: type = LoaderParams, description: str = ""):
    """Register a dataset loader ``fn(name, params, root) -> Dataset`` with its ``Params`` dataclass."""

    def deco(fn):
        LOADERS.register(name, description=description, params=params)(fn)
        return fn

    return deco


def dataset_entry(name: str):
    """The registry entry of dataset ``name`` (unknown names list the known ones, exit 2)."""
    return DATASETS.get(name)


def dataset_config(name: str) -> Dict[str, Any]:
    """The YAML of dataset ``name`` (``{}`` for a dataset declared without one)."""
    entry = dataset_entry(name)
    if not entry.config:
        return {}
    path = Path(entry.config)
    return read_yaml(path if path.is_absolute() else configs_dir() / path)


def _section(data: Dict[str, Any], key: str, where: str) -> Dict[str, Any]:
    tree = data.get(key) or {}
    if not isinstance(tree, dict):
        raise ConfigError(f"{where}: '{key}' must be a mapping")
    return split_sources(tree)[0]


def _set_dotted(values: Dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = values
    for k in parts[:-1]:
        node = node.setdefault(k, {})
        if not isinstance(node, dict):
            raise ConfigError(f"option '{key}': '{k}' is not a group")
    node[parts[-1]] = value


def open_dataset(name: str, root: Optional[PathLike] = None, **options) -> Dataset:
    """Open dataset ``name`` at ``root`` (None: the YAML's default root).

    ``options`` are keys of the loader's ``Params`` or of the protocol's ``Settings``
    (``split="train"``, ``detections="FRCNN"``, ``convention="pysot"``, ``repetitions=1``);
    ``None`` values are ignored. Unknown keys raise :class:`ConfigError` listing both sets.
    """
    from ..protocols.base import protocol_class

    entry = dataset_entry(name)
    loader = LOADERS.get(str(entry.obj))
    Params = loader.extra.get("params", LoaderParams)
    Settings = protocol_class(entry.kind).Settings
    where = f"configs/{entry.config}" if entry.config else f"dataset '{name}'"
    data = dataset_config(name)
    for k in data:
        if k not in ("loader", "protocol", "description", "params", "settings"):
            raise ConfigError(f"{where}: unknown top-level key '{k}'; valid: loader, protocol, description, "
                              "params, settings")
    pvals, svals = _section(data, "params", where), _section(data, "settings", where)
    pkeys = {f.name for f in dataclasses.fields(Params)}
    skeys = {f.name for f in dataclasses.fields(Settings)}
    for k, v in options.items():
        if v is None:
            continue
        top = k.split(".")[0]
        if top in pkeys:
            _set_dotted(pvals, k, v)
        elif top in skeys:
            _set_dotted(svals, k, v)
        else:
            raise ConfigError(f"dataset '{name}': unknown option '{k}'; dataset options: "
                              f"{', '.join(sorted(pkeys))}; {entry.kind} protocol options: "
                              f"{', '.join(sorted(skeys))}")
    origin = where + (" + options" if options else "")
    params = build(Params, pvals, origin)
    settings = build(Settings, svals, origin)
    ds = loader.obj(name, params, root)
    ds.protocol, ds.params, ds.settings = entry.kind, params, settings
    ds.protocol_object()  # settings checked by the protocol (e.g. a VOT EAO interval of two values)
    return ds


def resolve_root(root: Optional[PathLike], params: LoaderParams, name: str) -> Path:
    """``root`` (or the config's default), user-expanded; a missing folder raises
    :class:`DatasetNotFoundError` naming it and where the dataset comes from."""
    raw = root if root is not None else params.root
    if raw is None:
        raise DatasetNotFoundError(f"{name}: no dataset root given (use --root)", hint=download_hint(params, name))
    path = Path(str(raw)).expanduser()
    if not path.is_dir():
        raise DatasetNotFoundError(f"{name} dataset root not found", path=path, hint=download_hint(params, name))
    return path


def download_hint(params: LoaderParams, name: str) -> str:
    parts = [f"{name} comes from {params.download}" if params.download else f"download {name} first"]
    if params.download_hint:
        parts.append(str(params.download_hint))
    parts.append("then pass its folder with --root")
    return "; ".join(parts)


def dataset_names() -> List[str]:
    return DATASETS.names()
