"""Dataset objects: a named, ordered collection of sequences loaded lazily.

A dataset opener is registered with :func:`bench.core.register_dataset` and called as
``opener(root, **options) -> Dataset``. The harness opens datasets through
:func:`open_dataset` and never needs to know the layout on disk.
"""
from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Union

from ..core.errors import UnknownNameError
from ..core.registry import DATASETS


class Dataset:
    """Sequences of one benchmark.

    ``protocol`` says how trackers are run and scored: ``"ope"`` (one-pass, OTB /
    LaSOT / synthetic), ``"vot"`` (supervised reset), ``"got10k"`` (one-pass, AO/SR)
    or ``"mot"``. ``meta`` holds protocol settings (VOT edition and EAO interval,
    attribute names, ...). ``loader(name)`` builds one sequence.
    """

    def __init__(self, name: str, protocol: str, names: Sequence[str], loader: Callable[[str], object],
                 root: Optional[Union[str, Path]] = None, meta: Optional[Dict[str, object]] = None):
        self.name = name
        self.protocol = protocol
        self._names = list(names)
        self._loader = loader
        self.root = None if root is None else Path(root)
        self.meta: Dict[str, object] = dict(meta or {})
        self._cache: Dict[str, object] = {}

    def names(self) -> List[str]:
        return list(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __contains__(self, name: str) -> bool:
        return name in self._names

    def __getitem__(self, name: str):
        if name not in self._names:
            raise UnknownNameError(f"sequence of {self.name}", name, self._names)
        if name not in self._cache:
            self._cache[name] = self._loader(name)
        return self._cache[name]

    def __iter__(self) -> Iterator[object]:
        for n in self._names:
            yield self[n]

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
                    raise UnknownNameError(f"sequence of {self.name} matching", n, self._names)
                picked += [m for m in hits if m not in picked]
            elif n not in self._names:
                raise UnknownNameError(f"sequence of {self.name}", n, self._names)
            elif n not in picked:
                picked.append(n)
        sub = Dataset(self.name, self.protocol, picked, self._loader, self.root, self.meta)
        sub._cache = self._cache
        return sub


def open_dataset(name: str, root: Optional[Union[str, Path]] = None, **options) -> Dataset:
    """Open registered dataset ``name`` at ``root`` (None = the dataset's default root)."""
    import bench.datasets  # noqa: F401  (registers the built-in datasets)

    entry = DATASETS.get(name)
    return entry.obj(root, **options)
