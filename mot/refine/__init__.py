"""Offline refinement of MOT results (``python -m bench refine``): ReMOTS (:mod:`.remots`).

Refiners register with ``@register_refiner("name")`` (:mod:`bench.core.registry`) and take
``(rows, sequence)`` -> ``(refined rows, report)``; the driver is :mod:`bench.refine`.
"""
