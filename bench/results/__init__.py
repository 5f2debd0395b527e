"""Result files in the layouts other toolkits read.

* :mod:`.sot`: single-object results (OTB / LaSOT one-pass ``<seq>.txt``, VOT
  ``baseline/<seq>/<seq>_001.txt`` and ``longterm/...``, GOT-10k ``<seq>/<seq>_001.txt``):
  :class:`~bench.results.sot.Layout` objects, atomic writers, tolerant readers.
* :mod:`.mot`: multi-object results (MOTChallenge / TrackEval folders).

The protocols (:mod:`bench.protocols`) decide which layout a benchmark uses.
"""
