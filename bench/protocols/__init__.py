"""Protocols: how a benchmark runs trackers, lays out their results and scores them.

Each protocol is a registered :class:`~bench.protocols.base.Protocol` class:

* :mod:`.one_pass` ``ope``: one-pass evaluation (OTB, LaSOT, UAV123, NFS, ..., synthetic);
* :mod:`.got10k` ``got10k``: GOT-10k (repetitions, AO / SR pooled over frames);
* :mod:`.vot_reset` ``vot``: the VOT supervised protocol (failure, re-init 5 frames later);
* :mod:`.mot` ``mot``: multi-object tracking (CLEAR / Identity / HOTA);
* :mod:`.kitti` ``kitti``: KITTI tracking (the MOT protocol with KITTI result files, scored per class).

The run loop that drives any of them over a dataset is :mod:`bench.run`.
"""
