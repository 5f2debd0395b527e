"""MOT evaluation: CLEAR + Identity + HOTA per sequence and combined, as TrackEval does it.

:func:`evaluate_mot` scores the result files of one tracker on a ``"mot"`` dataset and
returns the JSON report::

    {"dataset": "mot17", "tracker": "Lif_T", "protocol": "mot",
     "metrics": {"mota": 0.6698, "motp": 0.8909, "idf1": 0.7235, "hota": 0.6286, ...,
                 "fp": 2655, "fn": 107803, "idsw": 791, ...},      # combined
     "sequences": {"MOT17-02-DPM": {...same keys...}, ...},
     "warnings": [...]}

Keys (lowercase; fractions in [0, 1], counts as int): ``mota motp moda idf1 idp idr hota
deta assa loca detre detpr assre asspr`` and ``tp fp fn idsw frag mt pt ml idtp idfp idfn
gt_dets pred_dets gt_ids pred_ids frames``. HOTA values are means over the 19 alphas.

:func:`evaluate_arrays` does the same for in-memory rows (tests, notebooks);
:func:`evaluate_data` for one prepared :class:`~bench.metrics.mot_data.MOTEvalData`.
The combined figures follow TrackEval's ``combine_sequences`` (counts summed, ratios
recomputed; AssA / LocA weighted by the HOTA TP counts).
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..core.errors import DataError
from .clear import clear, combine_clear
from .hota import combine_hota, hota
from .identity import combine_identity, identity
from .mot_data import MOTEvalData, Preprocess, as_preprocess, prepare_sequence

PathLike = Union[str, Path]

FRACTION_KEYS = ("mota", "motp", "moda", "idf1", "idp", "idr", "hota", "deta", "assa", "loca",
                 "detre", "detpr", "assre", "asspr")
COUNT_KEYS = ("tp", "fp", "fn", "idsw", "frag", "mt", "pt", "ml", "idtp", "idfp", "idfn",
              "gt_dets", "pred_dets", "gt_ids", "pred_ids", "frames")

SeqResult = Tuple[Dict[str, float], Dict[str, float], Dict[str, object]]


def evaluate_data(data: MOTEvalData, threshold: float = 0.5) -> SeqResult:
    """TrackEval's CLEAR, Identity and HOTA field dicts for one sequence."""
    return clear(data, threshold), identity(data, threshold), hota(data)


def summarize(c: Dict[str, float], i: Dict[str, float], h: Dict[str, object],
              extra: Optional[Dict[str, int]] = None) -> Dict[str, object]:
    """The report's lowercase keys from TrackEval field dicts (HOTA arrays -> mean over alphas)."""
    out: Dict[str, object] = {
        "mota": float(c["MOTA"]), "motp": float(c["MOTP"]), "moda": float(c["MODA"]),
        "idf1": float(i["IDF1"]), "idp": float(i["IDP"]), "idr": float(i["IDR"]),
        "hota": float(np.mean(h["HOTA"])), "deta": float(np.mean(h["DetA"])),
        "assa": float(np.mean(h["AssA"])), "loca": float(np.mean(h["LocA"])),
        "detre": float(np.mean(h["DetRe"])), "detpr": float(np.mean(h["DetPr"])),
        "assre": float(np.mean(h["AssRe"])), "asspr": float(np.mean(h["AssPr"])),
        "tp": int(c["CLR_TP"]), "fp": int(c["CLR_FP"]), "fn": int(c["CLR_FN"]), "idsw": int(c["IDSW"]),
        "frag": int(c["Frag"]), "mt": int(c["MT"]), "pt": int(c["PT"]), "ml": int(c["ML"]),
        "idtp": int(i["IDTP"]), "idfp": int(i["IDFP"]), "idfn": int(i["IDFN"]),
    }
    if extra:
        out.update({k: int(v) for k, v in extra.items()})
    return out


def _counts(data: MOTEvalData) -> Dict[str, int]:
    return {"gt_dets": data.num_gt_dets, "pred_dets": data.num_tracker_dets, "gt_ids": data.num_gt_ids,
            "pred_ids": data.num_tracker_ids, "frames": data.num_timesteps}


def combine(results: Sequence[SeqResult]) -> SeqResult:
    """Combined field dicts over sequences (TrackEval ``combine_sequences``)."""
    return (combine_clear([r[0] for r in results]), combine_identity([r[1] for r in results]),
            combine_hota([r[2] for r in results]))


def evaluate_arrays(sequences: Dict[str, Tuple[np.ndarray, np.ndarray, int]], *,
                    preprocess: Optional[Preprocess] = Preprocess(), threshold: float = 0.5
                    ) -> Dict[str, object]:
    """Evaluate in-memory rows: ``{name: (gt rows, tracker rows, num_frames)}`` -> report metrics.

    gt rows ``frame, id, x, y, w, h, zero_marked, class`` (N, >=8); tracker rows
    ``frame, id, x, y, w, h, conf`` (M, >=7). Returns ``{"metrics", "sequences"}``.
    """
    per: Dict[str, SeqResult] = {}
    seqs: Dict[str, Dict[str, object]] = {}
    totals = {"gt_dets": 0, "pred_dets": 0, "gt_ids": 0, "pred_ids": 0, "frames": 0}
    for name, (gt, tr, n) in sequences.items():
        data = prepare_sequence(gt, tr, n, preprocess=preprocess, name=name)
        per[name] = evaluate_data(data, threshold)
        counts = _counts(data)
        seqs[name] = summarize(*per[name], extra=counts)
        for k in totals:
            totals[k] += counts[k]
    return {"metrics": summarize(*combine(list(per.values())), extra=totals), "sequences": seqs}


def evaluate_mot(dataset, results_dir: PathLike, tracker: Optional[str] = None,
                 preprocess: bool = True, *, root: Optional[PathLike] = None,
                 sequences: Optional[Sequence[str]] = None, threshold: Optional[float] = None,
                 raw: bool = False) -> Dict[str, object]:
    """Score one tracker's MOTChallenge result files against a ``"mot"`` dataset.

    ``dataset``: a :class:`~bench.datasets.base.Dataset` (or a registered name, opened at
    ``root``). ``results_dir``: the folder of ``<seq>.txt`` files, or its parent holding
    ``data/``, or a run output root holding ``<dataset>/<tracker>/data/``. Every sequence
    with a result file is evaluated (sequences without one are listed in ``warnings``).
    ``preprocess=False`` evaluates plainly (no distractor removal or class filter; MOT15 is
    always plain). ``raw=True`` adds TrackEval's field dicts under ``"trackeval"``.
    Returns the JSON report (see module docstring).
    """
    from ..datasets.base import Dataset, open_dataset
    from ..results.mot import find_result_files, guess_tracker_name, read_mot_results

    if not isinstance(dataset, Dataset):
        dataset = open_dataset(str(dataset), root)
    if dataset.protocol != "mot":
        raise DataError(f"dataset '{dataset.name}' uses protocol '{dataset.protocol}', not 'mot'")
    meta = dataset.meta
    names = list(sequences) if sequences else dataset.names()
    tracker_name = tracker
    if not tracker_name or (tracker_name == "data" == Path(results_dir).name):
        tracker_name = guess_tracker_name(results_dir)  # ".../Lif_T/data" -> "Lif_T"
    files = find_result_files(results_dir, names, dataset.name, tracker_name)
    if not files:
        raise DataError(f"no result file <sequence>.txt for any of the {len(names)} sequences of "
                        f"'{dataset.name}' (e.g. {names[0]}.txt)", results_dir)
    pre = as_preprocess(bool(preprocess) and bool(meta.get("preprocess", True)),
                        meta.get("distractor_classes", (2, 7, 8, 12)), meta.get("eval_class", 1),
                        meta.get("preprocess_iou", 0.5))
    thr = float(threshold if threshold is not None else meta.get("threshold", 0.5))
    warnings: List[str] = []
    missing = [n for n in names if n not in files]
    if missing:
        warnings.append(f"{len(missing)} of {len(names)} sequences have no result file and are not "
                        f"evaluated: {', '.join(missing)}")
    per: Dict[str, SeqResult] = {}
    seqs: Dict[str, Dict[str, object]] = {}
    totals = {"gt_dets": 0, "pred_dets": 0, "gt_ids": 0, "pred_ids": 0, "frames": 0}
    removed = 0
    for name in names:
        if name not in files:
            continue
        seq = dataset[name]
        if seq.gt is None:
            warnings.append(f"{name}: no ground truth (gt/gt.txt); not evaluated")
            continue
        rows = read_mot_results(files[name], length=len(seq))
        data = prepare_sequence(seq.gt, rows, len(seq), preprocess=pre, name=name,
                                gt_path=seq.meta.get("gt_path"), tracker_path=files[name],
                                gt_row_index=seq.meta.get("gt_row_index"), check=False)
        removed += data.removed_tracker_dets
        per[name] = evaluate_data(data, thr)
        counts = _counts(data)
        seqs[name] = summarize(*per[name], extra=counts)
        for k in totals:
            totals[k] += counts[k]
    if not per:
        raise DataError(f"nothing to evaluate: none of the sequences with result files has ground truth",
                        results_dir)
    combined = combine(list(per.values()))
    report: Dict[str, object] = {
        "dataset": dataset.name, "tracker": tracker_name, "protocol": "mot",
        "metrics": summarize(*combined, extra=totals), "sequences": seqs, "warnings": warnings,
        "settings": {"preprocess": pre is not None,
                     "distractor_classes": list(pre.distractor_classes) if pre else [],
                     "threshold": thr, "removed_tracker_boxes": int(removed),
                     "benchmark": meta.get("benchmark")},
    }
    if raw:
        report["trackeval"] = {"COMBINED_SEQ": _plain(combined),
                               **{k: _plain(v) for k, v in per.items()}}
    return report


def _plain(r: SeqResult) -> Dict[str, Dict[str, object]]:
    def conv(d):
        return {k: (v.tolist() if isinstance(v, np.ndarray) else (v.item() if hasattr(v, "item") else v))
                for k, v in d.items()}
    return {"CLEAR": conv(r[0]), "Identity": conv(r[1]), "HOTA": conv(r[2])}


def format_table(report: Dict[str, object]) -> str:
    """A plain-text table of the per-sequence and combined figures (percent, as the devkit prints)."""
    cols = ["hota", "deta", "assa", "mota", "motp", "idf1", "idp", "idr"]
    ints = ["fp", "fn", "idsw", "frag", "mt", "pt", "ml"]
    seqs = dict(report["sequences"])
    width = max([len(k) for k in seqs] + [8])
    head = f"{'sequence':<{width}} " + " ".join(f"{c.upper():>6}" for c in cols) + " " + \
        " ".join(f"{c.upper():>7}" for c in ints)
    lines = [head, "-" * len(head)]
    for name, m in list(seqs.items()) + [("COMBINED", report["metrics"])]:
        lines.append(f"{name:<{width}} " + " ".join(f"{100 * m[c]:6.2f}" for c in cols) + " " +
                     " ".join(f"{m[c]:7d}" for c in ints))
    return "\n".join(lines)


def _register_names() -> None:
    from . import register

    for name, desc in (
            ("mota", "MOTA = (TP - FP - IDSW) / GT (CLEAR, TrackEval)"),
            ("motp", "MOTP: mean IoU of CLEAR matches (TrackEval; a similarity, not a distance)"),
            ("idf1", "IDF1 = IDTP / (IDTP + 0.5 IDFP + 0.5 IDFN)"),
            ("idp", "ID precision"), ("idr", "ID recall"),
            ("hota", "HOTA = sqrt(DetA * AssA), mean over alpha 0.05..0.95"),
            ("deta", "HOTA detection accuracy"), ("assa", "HOTA association accuracy"),
            ("loca", "HOTA localisation accuracy (mean IoU of matches)"),
            ("mt", "mostly tracked gt ids (> 80% of frames)"), ("pt", "partially tracked gt ids"),
    ):
        register(name, "mot", desc)
    for name, desc in (("fp", "false positives (CLEAR)"), ("fn", "false negatives (CLEAR)"),
                       ("idsw", "identity switches (CLEAR)"), ("frag", "fragmentations (CLEAR)"),
                       ("ml", "mostly lost gt ids (< 20% of frames)")):
        register(name, "mot", desc, higher_is_better=False)


_register_names()
