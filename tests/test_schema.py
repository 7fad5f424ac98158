import numpy as np
import pytest

from lsm_edge import schema
from lsm_edge.errors import SchemaError


def test_paper_order_and_groups():
    assert schema.N_FEATURES == 26
    sizes = [len(schema.group_indices(g)) for g in schema.SENSOR_GROUPS]
    assert sizes == [12, 10, 2, 1, 1]
    # clustered by sensor: group indices are contiguous and in the paper's group order
    flat = [i for g in schema.SENSOR_GROUPS for i in schema.group_indices(g)]
    assert flat == list(range(26))
    assert schema.FEATURE_NAMES[0] == "heart_rate" and schema.FEATURE_NAMES[-1] == "altimeter_std"
    assert schema.FEATURES[schema.INDEX["rr_mean"]].unit == "ms"
    assert len(schema.ACTIVITIES) == 8


def test_check_range_names_the_feature():
    x = np.full((300, 26), np.nan, np.float32)
    x[5, schema.INDEX["heart_rate"]] = 400
    with pytest.raises(SchemaError, match=r"heart_rate = 400 bpm is outside its valid range \[25, 240\]"):
        schema.check_range(x)
    x[5, 0] = np.inf
    with pytest.raises(SchemaError, match="inf"):
        schema.check_range(x)
    with pytest.raises(SchemaError, match="expected 26 features.*found 25"):
        schema.check_range(np.zeros((300, 25)))


def test_missing_is_never_out_of_range():
    x = np.full((2, 300, 26), np.nan, np.float32)
    assert not schema.out_of_range(x).any()
    schema.check_range(x)


def test_unknown_feature_names():
    assert schema.indices_of(["step_count", "heart_rate"]) == [13, 0]
    with pytest.raises(SchemaError, match="unknown feature.*'steps'"):
        schema.indices_of(["steps"])
