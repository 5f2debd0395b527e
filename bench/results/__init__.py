"""Result files in the layouts other toolkits read.

* :mod:`.sot`: single-object results (OTB / LaSOT one-pass ``<seq>.txt``, VOT
  ``baseline/<seq>/<seq>_001.txt``, GOT-10k ``<seq>/<seq>_001.txt``), atomic writers,
  resume checks and tolerant readers.
* :mod:`.mot`: multi-object results (MOTChallenge / TrackEval folders).
"""
from .sot import (find_result_file, is_finished, read_ope_file, read_time_file,  # noqa: F401
                  read_vot_file, result_path, time_path, tracker_dir, write_sequence)
