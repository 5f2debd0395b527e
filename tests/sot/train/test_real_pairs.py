"""Real annotated identities as SOT training tracks (sot/train/real_pairs.py) on ../shared/data."""
from __future__ import annotations

import numpy as np

from sot.train.pairs import PairConfig
from sot.train.real_pairs import MixedSampler, mot_identities, split_identities
from tests.helpers import shared_path


def test_tud_identities_split_and_pairs():
    seq = shared_path("mot", "MOT15", "train", "TUD-Stadtmitte")
    tracks = mot_identities(seq)
    assert len(tracks) == 10 and all(t.gt.shape == (179, 4) for t in tracks)
    first = np.loadtxt(seq / "gt" / "gt.txt", delimiter=",", ndmin=2)[0]
    t = [t for t in tracks if t.meta["id"] == int(first[1])][0]
    np.testing.assert_allclose(t.gt[int(first[0]) - 1], [first[2] - 1, first[3] - 1, first[4], first[5]])
    train, held = split_identities(tracks)
    assert len(held) == 2 and not set(x.name for x in train) & set(x.name for x in held)
    s = MixedSampler(train, PairConfig(still_prob=0.5), None)
    rng = np.random.default_rng(0)
    s.set_pool(rng)
    p = s.sample(rng)
    assert p.z.shape == (127, 127, 3) and p.x.shape == (255, 255, 3) and np.all(np.isfinite(p.box))
