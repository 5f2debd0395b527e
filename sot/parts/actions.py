"""ADNet's actions (Yun et al., CVPR 2017, Sec. 3.1; official MATLAB hellbell/ADNet
``utils/init_params.m``, ``utils/do_action.m``, ``utils/gen_action_labels.m``), 0-based here.

0 left, 1 left x2, 2 right, 3 right x2, 4 up, 5 up x2, 6 down, 7 down x2, 8 stop,
9 smaller, 10 bigger; one step = ``move`` (0.03) of the box size, at least 1 px; scale
moves keep the aspect ratio. Used by the tracker, its network (history inputs) and the
SL / RL training recipes. Boxes are ``xywh`` floats.
"""
from __future__ import annotations

from typing import List, Tuple

import numpy as np

from bench.core.boxes import iou

NUM_ACTIONS = 11
STOP = 8
# [dx, dy, dw, dh] per unit step, in the official order (init_params.m)
ACTION_DELTAS = np.array([
    [-1, 0, 0, 0], [-2, 0, 0, 0], [1, 0, 0, 0], [2, 0, 0, 0],
    [0, -1, 0, 0], [0, -2, 0, 0], [0, 1, 0, 0], [0, 2, 0, 0],
    [0, 0, 0, 0], [0, 0, -1, -1], [0, 0, 1, 1]], dtype=np.float64)
ACTION_NAMES = ("left", "left2", "right", "right2", "up", "up2", "down", "down2", "stop", "smaller", "bigger")


# -- action geometry --------------------------------------------------------------------
def _unit_steps(boxes: np.ndarray, move: float) -> np.ndarray:
    """Per-box step sizes (N, 4) ``[dx, dy, dw, dh]`` keeping the aspect ratio for scale moves."""
    w, h = boxes[:, 2], boxes[:, 3]
    d = np.maximum(np.stack([move * w, move * h, move * w, move * h], 1), 1.0)
    ar = w / h
    wide = w > h
    d[:, 3] = np.where(wide, d[:, 2] / ar, d[:, 3])
    d[:, 2] = np.where(wide, d[:, 2], d[:, 3] * ar)
    return d


def action_boxes(boxes: np.ndarray, move: float = 0.03) -> np.ndarray:
    """All 11 moved boxes for each ``xywh`` box, (N, 11, 4), no clamping (``gen_action_labels.m``)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    c = np.concatenate([b[:, :2] + b[:, 2:] / 2, b[:, 2:]], 1)
    nxt = c[:, None, :] + ACTION_DELTAS[None] * _unit_steps(b, move)[:, None, :]
    nxt[..., :2] -= nxt[..., 2:] / 2
    return nxt


def do_action(box: np.ndarray, action: int, img_wh: Tuple[int, int], move: float = 0.03) -> np.ndarray:
    """Apply one action to a ``xywh`` box and clamp it to the image (``do_action.m``, 0-based)."""
    nxt = action_boxes(np.asarray(box, dtype=np.float64).reshape(1, 4), move)[0, action].copy()
    w_img, h_img = img_wh
    nxt[0] = min(max(nxt[0], 0.0), w_img - nxt[2])
    nxt[1] = min(max(nxt[1], 0.0), h_img - nxt[3])
    nxt[2] = max(5.0, min(w_img, nxt[2]))
    nxt[3] = max(5.0, min(h_img, nxt[3]))
    return nxt


def action_labels(samples: np.ndarray, gt: np.ndarray, move: float = 0.03, stop_iou: float = 0.93) -> np.ndarray:
    """Action label (0..10) moving each sample box best toward ``gt`` (``gen_action_labels.m``).

    argmax IoU over the 8 translations and stop; stop if its IoU > ``stop_iou``; when stop
    ties the best of those 9, argmax over all 11 (first index wins ties, as MATLAB ``max``).
    """
    moved = action_boxes(samples, move)
    n = moved.shape[0]
    g = np.broadcast_to(np.asarray(gt, dtype=np.float64).reshape(1, 1, 4), moved.shape)
    ov = iou(moved.reshape(-1, 4), g.reshape(-1, 4)).reshape(n, NUM_ACTIONS)
    first9 = ov[:, :STOP + 1]
    lab = first9.argmax(1)
    best = first9.max(1)
    lab = np.where(ov[:, STOP] > stop_iou, STOP, lab)
    tie = best == ov[:, STOP]
    lab = np.where(tie, ov.argmax(1), lab)
    return lab.astype(np.int64)


def history_onehot(history: List[int], length: int = 10) -> np.ndarray:
    """110-d one-hot of the last ``length`` actions (most recent first); -1 (none / re-detected) -> zeros."""
    oh = np.zeros(length * NUM_ACTIONS, dtype=np.float32)
    for i, a in enumerate(history[:length]):
        if 0 <= a < NUM_ACTIONS:
            oh[i * NUM_ACTIONS + a] = 1.0
    return oh
