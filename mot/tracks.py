"""A table of tracks: one numpy array per per-track column, all of the same length.

The MOT trackers hold every track's state in columns (Kalman mean and covariance, id,
hit counts, last score, appearance feature...) so that one vectorised call serves all
tracks. :class:`Tracks` keeps those columns aligned: rows are removed from all columns at
once (:meth:`Tracks.keep`) and added to all columns at once (:meth:`Tracks.append`, which
refuses a missing or unknown column).

    t = Tracks.empty(mean=(np.float64, 7), cov=(np.float64, (7, 7)), ids=np.int64)
    t.append(mean=m, cov=c, ids=np.arange(1, 1 + len(m)))
    t.mean[rows] = ...           # columns are attributes (numpy arrays, updated in place)
    t.mean, t.cov = kf.predict(t.mean, t.cov)   # or replaced by arrays of the same length
    t.keep(t.ids != 3)
"""
from __future__ import annotations

from typing import Any, Dict, Iterator, Tuple, Union

import numpy as np

Spec = Union[Any, Tuple[Any, Union[int, Tuple[int, ...]]]]


class Tracks:
    """Per-track columns (numpy arrays with the same first dimension), accessed as attributes."""

    __slots__ = ("_cols",)

    def __init__(self, **columns: np.ndarray):
        cols = {k: np.asarray(v) for k, v in columns.items()}
        lengths = {k: len(v) for k, v in cols.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"track columns of different lengths: {lengths}")
        object.__setattr__(self, "_cols", cols)

    @classmethod
    def empty(cls, **specs: Spec) -> "Tracks":
        """A table without rows: ``name=dtype`` for a 1-D column, ``name=(dtype, shape)`` for rows of
        ``shape`` (an int or a tuple), e.g. ``empty(ids=np.int64, mean=(np.float64, 8))``."""
        cols = {}
        for name, spec in specs.items():
            dtype, shape = spec if isinstance(spec, tuple) else (spec, ())
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            cols[name] = np.zeros((0, *shape), dtype=dtype)
        return cls(**cols)

    # -- columns -------------------------------------------------------------
    @property
    def columns(self) -> Tuple[str, ...]:
        return tuple(self._cols)

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("__") or name == "_cols":  # copy / pickle probe before _cols exists
            raise AttributeError(name)
        try:
            return self._cols[name]
        except KeyError:
            raise AttributeError(f"no track column '{name}' (columns: {', '.join(self._cols)})") from None

    def __setattr__(self, name: str, value) -> None:
        """Replace a whole column by an array of the same length (rows stay aligned)."""
        if name == "_cols":
            object.__setattr__(self, name, value)
            return
        if name not in self._cols:
            raise AttributeError(f"no track column '{name}' (columns: {', '.join(self._cols)})")
        value = np.asarray(value)
        if len(value) != len(self):
            raise ValueError(f"track column '{name}': {len(value)} rows for a table of {len(self)}")
        self._cols[name] = value

    def __getitem__(self, name: str) -> np.ndarray:
        return self._cols[name]

    def __len__(self) -> int:
        return len(next(iter(self._cols.values()))) if self._cols else 0

    def __iter__(self) -> Iterator[str]:
        return iter(self._cols)

    def __repr__(self) -> str:
        return f"Tracks({len(self)} rows: {', '.join(self._cols)})"

    # -- rows ----------------------------------------------------------------
    def keep(self, mask: np.ndarray) -> None:
        """Keep the rows selected by ``mask`` (booleans, one per row, or row indices) in every column."""
        mask = np.asarray(mask)
        if mask.dtype == bool and len(mask) != len(self):
            raise ValueError(f"keep: mask of {len(mask)} for a table of {len(self)} rows")
        for k, v in self._cols.items():
            self._cols[k] = v[mask]

    def append(self, **columns) -> None:
        """Add rows: every column exactly once, all with the same number of rows. Values are cast to
        the column's dtype (same kind: no float -> int truncation) and must match its row shape."""
        missing = [k for k in self._cols if k not in columns]
        unknown = [k for k in columns if k not in self._cols]
        if missing or unknown:
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + \
                    ([f"unknown {', '.join(unknown)}"] if unknown else [])
            raise ValueError(f"append: the columns must be exactly {', '.join(self._cols)} ({'; '.join(parts)})")
        new: Dict[str, np.ndarray] = {}
        for k, v in columns.items():
            col = self._cols[k]
            a = np.asarray(v)
            if a.ndim == 0:
                raise ValueError(f"append: column '{k}' needs an array with one entry per new row")
            if a.dtype != col.dtype:
                a = a.astype(col.dtype, casting="same_kind")
            if a.shape[1:] != col.shape[1:]:
                raise ValueError(f"append: column '{k}' rows have shape {a.shape[1:]}, expected {col.shape[1:]}")
            new[k] = a
        lengths = {k: len(a) for k, a in new.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"append: columns of different lengths {lengths}")
        for k, a in new.items():
            self._cols[k] = np.concatenate([self._cols[k], a])
