"""JSON reports: numpy-safe, NaN written as ``null``, written atomically."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Union

import numpy as np

from ..core.errors import DataError
from ..core.io import atomic_write_text


def to_jsonable(obj: Any) -> Any:
    """Plain Python types for ``json``: arrays to lists, numpy scalars to numbers, NaN/inf to None."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(path: Union[str, Path], obj: Any) -> None:
    atomic_write_text(path, json.dumps(to_jsonable(obj), indent=2) + "\n")


def read_json(path: Union[str, Path]) -> Any:
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", path=path)
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno) from None
