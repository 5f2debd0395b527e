"""The floor every other part stands on: boxes, registry, config, errors, interfaces.

Imports nothing from ``sot``, ``mot`` or the rest of ``bench``.
"""
from .boxes import iou, iou_matrix, xywh_to_xyxy, xyxy_to_xywh  # noqa: F401
from .errors import (BenchError, CheckpointError, ConfigError, DataError,  # noqa: F401
                     DatasetNotFoundError, UnknownNameError)
from .registry import (DATASETS, METRICS, TRACKERS, register_dataset,  # noqa: F401
                       register_metric, register_tracker)
from .sequence import MOTSequence, SOTSequence  # noqa: F401
from .tracker import BatchSOT, MOTTracker, SOTTracker  # noqa: F401
