"""The protocol object: everything that depends on how a benchmark runs and scores trackers.

A protocol (one-pass, GOT-10k, VOT reset, VOT long-term, MOT) owns

* **running**: how many repetitions a tracker gets (:meth:`Protocol.repetitions`), how
  one repetition of one sequence is run (:meth:`Protocol.run`);
* **the result layout**: writing a finished run atomically (:meth:`Protocol.write`),
  telling whether it is finished (:meth:`Protocol.is_finished`), reading result files
  back (:meth:`Protocol.read`);
* **evaluation** in the TrackEval shape: a per-sequence computation
  (:meth:`Protocol.evaluate_sequence`) and a combine step (:meth:`Protocol.combine`),
  on top of the pure functions of :mod:`bench.metrics`;
* **reporting**: the printed table's columns, the per-sequence score of paired
  comparisons, and the plots.

Protocols register with :func:`bench.core.registry.register_protocol` and are found by
name (:func:`get_protocol`); nothing outside the protocol modules branches on a
protocol's name. Each protocol has a settings dataclass (``Protocol.Settings``) whose
values come from the dataset's YAML (``settings:``), from ``--dataset-option`` /
``--option`` and from the library call, checked like every config (unknown keys and bad
types are errors naming the valid keys).
"""
from __future__ import annotations

import abc
import dataclasses
import math
from pathlib import Path
from typing import Any, ClassVar, Dict, List, Literal, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ..core.errors import BenchError, DataError
from ..core.registry import PROTOCOLS

PathLike = Union[str, Path]


@dataclasses.dataclass(frozen=True)
class Column:
    """One column of a printed table: report key, header, format (``.3f``, ``d``, ``%``)."""

    key: str
    header: str
    fmt: str = ".3f"


@dataclasses.dataclass
class ProtocolSettings:
    """Settings every protocol has."""

    #: a sequence without a result file: ``error`` (default for SOT) or ``skip`` (listed in the warnings)
    missing: Literal["error", "skip"] = "error"


@dataclasses.dataclass
class Run:
    """One finished repetition of one sequence: what the protocol writes, plus tracker time.

    ``frames``: frames the tracker processed; ``seconds``: its time on them (frame reading
    excluded); ``times``: seconds per frame where the layout records them (SOT time files).
    """

    result: Any
    frames: int
    seconds: float
    times: Optional[np.ndarray] = None


@dataclasses.dataclass
class SequenceResults:
    """What :meth:`Protocol.read` found for one sequence: one result per repetition, their
    per-frame times (None where no time file exists) and the reading rules that applied."""

    runs: List[Any]
    times: List[Optional[np.ndarray]]
    warnings: List[str] = dataclasses.field(default_factory=list)


class Protocol(abc.ABC):
    """Base class of the protocols (see the module docstring)."""

    name: ClassVar[str] = ""
    #: the kind of tracker the protocol runs: ``sot`` or ``mot``
    tracker_kind: ClassVar[str] = "sot"
    Settings: ClassVar[type] = ProtocolSettings
    #: columns of the printed summary table
    columns: ClassVar[Sequence[Column]] = ()
    #: per-sequence metric compared by ``bench report --paired`` (None: not available)
    paired_key: ClassVar[Optional[str]] = None
    #: where a sequence's result file lives, for messages
    layout: ClassVar[str] = "<seq>.txt"

    def __init__(self, settings: Any = None):
        self.settings = settings if settings is not None else self.Settings()

    # -- running ------------------------------------------------------------------
    def repetitions(self, tracker) -> int:
        """Repetitions of each sequence for ``tracker`` (stochastic trackers may need several)."""
        return 1

    def units(self, tracker, seq_name: str) -> List[int]:
        """The repetitions (1-based) of one sequence: the protocol's work units."""
        return list(range(1, self.repetitions(tracker) + 1))

    @abc.abstractmethod
    def run(self, tracker, seq, *, rep: int = 1, seed: int = 0, frame_bar=None) -> Run:
        """Run repetition ``rep`` of ``tracker`` over ``seq`` (the tracker reseeded first)."""

    @abc.abstractmethod
    def write(self, results_dir: Path, seq_name: str, run: Run, rep: int = 1) -> Path:
        """Write a finished run atomically (times first, result last); returns the result file."""

    @abc.abstractmethod
    def is_finished(self, results_dir: Path, seq_name: str, rep: int = 1) -> bool:
        """True when the result file of that repetition exists (files are only written whole)."""

    def recorded_time(self, results_dir: Path, seq_name: str, rep: int = 1) -> Optional[Tuple[int, float]]:
        """(frames, seconds) of tracker time recorded for a finished run, or None."""
        return None

    def check_sequence(self, tracker, seq) -> None:
        """Refuse a sequence the tracker cannot run before any frame is read (clear message)."""

    # -- evaluation ---------------------------------------------------------------
    @abc.abstractmethod
    def read(self, results_dir: Path, seq) -> Optional[SequenceResults]:
        """The result files of ``seq`` under ``results_dir`` (None when there is none)."""

    @abc.abstractmethod
    def evaluate_sequence(self, seq, runs: List[Any], times: List[Optional[np.ndarray]]) -> Any:
        """Per-sequence computation (the protocol's own intermediate, combined later)."""

    @abc.abstractmethod
    def combine(self, dataset, per: Dict[str, Any]) -> Dict[str, Any]:
        """Combine step: ``{"metrics", "sequences", "attributes", "protocol"}`` of the report."""

    def results_folder(self, results_dir: Path, dataset, tracker: Optional[str]) -> Tuple[Path, str]:
        """(the folder :meth:`read` reads, the tracker name) for a folder a user names."""
        return results_dir, tracker or results_dir.name

    def evaluate(self, dataset, results_dir: PathLike, tracker: Optional[str] = None) -> Dict[str, Any]:
        """Read the result files of one tracker and evaluate them on ``dataset`` -> JSON report."""
        results_dir = Path(results_dir)
        if not results_dir.is_dir():
            raise DataError("results folder not found", path=results_dir)
        folder, tracker = self.results_folder(results_dir, dataset, tracker)
        found: Dict[str, SequenceResults] = {}
        missing = []
        for name in dataset.names():
            r = self.read(folder, dataset[name])
            if r is None:
                missing.append(name)
            else:
                found[name] = r
        warnings: List[str] = [w for r in found.values() for w in r.warnings]
        if missing:
            msg = (f"no result file ({self.layout}) for {len(missing)} of {len(dataset)} sequences: "
                   + ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else ""))
            if self.settings.missing != "skip" or not found:
                raise DataError(msg + (" (option missing=skip evaluates the others)" if found else ""), path=folder)
            warnings.append(f"{folder}: {msg}; skipped")
        return self.score(dataset, {n: r.runs for n, r in found.items()},
                          {n: r.times for n, r in found.items()}, tracker, warnings)

    def score(self, dataset, results: Mapping[str, List[Any]], times: Optional[Mapping[str, List[Any]]] = None,
              tracker: str = "tracker", warnings: Optional[List[str]] = None) -> Dict[str, Any]:
        """Evaluate in-memory results ``{seq: [run, ...]}`` (one entry per repetition)."""
        names = [n for n in dataset.names() if n in results]
        if not names:
            raise BenchError(f"nothing to evaluate: no results for any sequence of {dataset.name}")
        warnings = list(warnings or [])
        times = dict(times or {})
        per: Dict[str, Any] = {}
        for n in names:
            seq = dataset[n]
            warnings += list(getattr(seq, "meta", {}).get("warnings", []))
            runs = list(results[n])
            t = list(times.get(n) or [None] * len(runs))
            per[n] = self.evaluate_sequence(seq, runs, t)
            if isinstance(per[n], dict) and "_warnings" in per[n]:
                warnings += per[n].pop("_warnings")
        body = self.combine(dataset, per)
        warnings += body.pop("warnings", [])
        report = {"dataset": dataset.name, "tracker": tracker, "protocol": body["protocol"],
                  "metrics": body["metrics"], "sequences": body["sequences"],
                  "attributes": body.get("attributes", {}), "warnings": warnings}
        report.update(body.get("extra", {}))
        return jsonable(report)

    # -- reporting ----------------------------------------------------------------
    def table_rows(self, report: Mapping[str, Any], per_sequence: bool = False
                   ) -> List[Tuple[str, Mapping[str, Any]]]:
        """The rows of a printed table of ``report``: (label, metrics). Default: one row for
        the tracker (``per_sequence``: one per sequence); a protocol scoring several classes
        separately gives one row per class."""
        if per_sequence:
            seqs = report.get("sequences") or {}
            return list(seqs.items()) if isinstance(seqs, dict) else [(s.get("name"), s) for s in seqs]
        return [(str(report.get("tracker") or "-"), report.get("metrics") or {})]

    def plots(self, reports: Sequence[Mapping[str, Any]], out_dir: Path, title: str) -> List[Path]:
        """Write the protocol's plots of ``reports`` (one dataset) into ``out_dir``."""
        return []

    def settings_dict(self) -> Dict[str, Any]:
        return {"name": self.name, **dataclasses.asdict(self.settings)}


def get_protocol(name: str, settings: Any = None) -> Protocol:
    """The protocol called ``name`` with ``settings`` (its Settings dataclass; default values if None)."""
    cls = PROTOCOLS.get(name).obj
    return cls(settings)


def protocol_class(name: str) -> type:
    return PROTOCOLS.get(name).obj


def jsonable(x):
    """JSON-ready copy: numpy to Python, NaN / inf to None."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return [jsonable(v) for v in x.tolist()]
    if isinstance(x, (np.floating, float)):
        v = float(x)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def check_box(box, name: str, frame: int) -> np.ndarray:
    """A SOT tracker's output as a finite (4,) float array, or a :class:`BenchError` (``frame`` 0-based)."""
    try:
        b = np.asarray(box, dtype=np.float64).reshape(4)
    except (TypeError, ValueError):
        raise BenchError(f"sequence '{name}' frame {frame + 1}: tracker returned {box!r}, "
                         "expected an x, y, w, h box") from None
    if not np.all(np.isfinite(b)):
        raise BenchError(f"sequence '{name}' frame {frame + 1}: tracker returned a non-finite box {b.tolist()}")
    return b
