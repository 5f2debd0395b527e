"""The MOT track table: columns stay aligned through keep / append, a wrong column set is refused."""
import copy

import numpy as np
import pytest

from mot.tracks import Tracks


def table():
    t = Tracks.empty(mean=(np.float64, 3), cov=(np.float64, (3, 3)), ids=np.int64, alive=bool)
    t.append(mean=np.arange(9.0).reshape(3, 3), cov=np.stack([np.eye(3) * k for k in range(3)]),
             ids=np.array([10, 11, 12]), alive=np.ones(3, bool))
    return t


def test_empty_has_typed_zero_row_columns():
    t = Tracks.empty(mean=(np.float64, 7), cov=(np.float64, (7, 7)), ids=np.int64, score=float)
    assert len(t) == 0 and t.columns == ("mean", "cov", "ids", "score")
    assert t.mean.shape == (0, 7) and t.cov.shape == (0, 7, 7) and t.ids.dtype == np.int64
    assert t.score.dtype == np.float64


def test_keep_and_append_keep_rows_aligned():
    t = table()
    t.keep(t.ids != 11)
    assert t.ids.tolist() == [10, 12]
    np.testing.assert_array_equal(t.mean[:, 0], [0.0, 6.0])            # rows 0 and 2 of every column
    np.testing.assert_array_equal(t.cov[:, 0, 0], [0.0, 2.0])
    t.append(mean=np.full((2, 3), -1.0), cov=np.zeros((2, 3, 3)), ids=[20, 21], alive=[False, True])
    assert len(t) == 4 and t.ids.tolist() == [10, 12, 20, 21] and t.alive.tolist() == [True, True, False, True]
    t.keep(np.array([3, 0]))                                           # row indices work too
    assert t.ids.tolist() == [21, 10] and t.mean[0, 0] == -1.0 and t.mean[1, 0] == 0.0


def test_columns_are_updated_in_place_or_replaced_whole():
    t = table()
    t.ids[1] = 99
    t.mean += 1.0
    assert t.ids.tolist() == [10, 99, 12] and t.mean[0, 0] == 1.0
    t.alive = np.zeros(3, bool)
    with pytest.raises(ValueError, match="2 rows for a table of 3"):
        t.ids = np.array([1, 2])
    with pytest.raises(AttributeError, match="no track column 'speed'"):
        t.speed = np.zeros(3)
    with pytest.raises(AttributeError, match="no track column 'speed'"):
        _ = t.speed


def test_append_refuses_wrong_column_sets_shapes_lengths_and_dtypes():
    t = table()
    with pytest.raises(ValueError, match="missing alive"):
        t.append(mean=np.zeros((1, 3)), cov=np.zeros((1, 3, 3)), ids=[1])
    with pytest.raises(ValueError, match="unknown speed"):
        t.append(mean=np.zeros((1, 3)), cov=np.zeros((1, 3, 3)), ids=[1], alive=[True], speed=[0.0])
    with pytest.raises(ValueError, match="different lengths"):
        t.append(mean=np.zeros((2, 3)), cov=np.zeros((1, 3, 3)), ids=[1], alive=[True])
    with pytest.raises(ValueError, match="shape"):
        t.append(mean=np.zeros((1, 4)), cov=np.zeros((1, 3, 3)), ids=[1], alive=[True])
    with pytest.raises(TypeError):  # a float id would be truncated
        t.append(mean=np.zeros((1, 3)), cov=np.zeros((1, 3, 3)), ids=[1.5], alive=[True])
    with pytest.raises(ValueError, match="one entry per new row"):
        t.append(mean=np.zeros((1, 3)), cov=np.zeros((1, 3, 3)), ids=1, alive=[True])
    assert len(t) == 3 and all(len(t[c]) == 3 for c in t)               # nothing half-appended
    with pytest.raises(ValueError, match="different lengths"):
        Tracks(a=np.zeros(2), b=np.zeros(3))
    with pytest.raises(ValueError, match="mask of 2"):
        t.keep(np.array([True, False]))


def test_copy_is_independent():
    t = table()
    u = copy.deepcopy(t)
    u.keep(u.ids == 10)
    assert len(t) == 3 and len(u) == 1 and repr(u) == "Tracks(1 rows: mean, cov, ids, alive)"
