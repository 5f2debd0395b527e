"""MOT metrics: CLEAR + Identity + HOTA per sequence and combined, as TrackEval computes them.

Pure functions of arrays (file reading and datasets live in :mod:`bench.protocols.mot`):

* :func:`evaluate_data`: TrackEval's CLEAR, Identity and HOTA field dicts for one prepared
  :class:`~bench.metrics.mot_data.MOTEvalData`;
* :func:`combine`: TrackEval's ``combine_sequences`` (counts summed, ratios recomputed;
  AssA / LocA weighted by the HOTA TP counts);
* :func:`summarize`: the report's keys from the field dicts;
* :func:`evaluate_arrays`: all of it on in-memory rows (tests, notebooks).

Keys (lowercase; fractions in [0, 1], counts as int): ``mota motp moda recall precision idf1 idp idr hota
deta assa loca detre detpr assre asspr`` and ``tp fp fn idsw frag mt pt ml idtp idfp idfn
gt_dets pred_dets gt_ids pred_ids frames``. HOTA values are means over the 19 alphas.
"""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from .clear import clear, combine_clear
from .hota import combine_hota, hota
from .identity import combine_identity, identity
from .mot_data import MOTEvalData, Preprocess, prepare_sequence

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
        "recall": float(c["CLR_Re"]), "precision": float(c["CLR_Pr"]),
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


TOTAL_KEYS = ("gt_dets", "pred_dets", "gt_ids", "pred_ids", "frames")


def counts(data: MOTEvalData) -> Dict[str, int]:
    """Box, id and frame counts of one sequence (summed over sequences in the combined row)."""
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
    totals = {k: 0 for k in TOTAL_KEYS}
    for name, (gt, tr, n) in sequences.items():
        data = prepare_sequence(gt, tr, n, preprocess=preprocess, name=name)
        per[name] = evaluate_data(data, threshold)
        c = counts(data)
        seqs[name] = summarize(*per[name], extra=c)
        for k in totals:
            totals[k] += c[k]
    return {"metrics": summarize(*combine(list(per.values())), extra=totals), "sequences": seqs}


def plain(r: SeqResult) -> Dict[str, Dict[str, object]]:
    def conv(d):
        return {k: (v.tolist() if isinstance(v, np.ndarray) else (v.item() if hasattr(v, "item") else v))
                for k, v in d.items()}
    return {"CLEAR": conv(r[0]), "Identity": conv(r[1]), "HOTA": conv(r[2])}


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
