import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from pathlib import Path

import pytest

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


@pytest.fixture(scope="session")
def real_dir():
    if not REAL.is_dir():
        pytest.skip(f"real data folder {REAL} not present")
    return REAL


@pytest.fixture(scope="session")
def sim_timelines():
    """Twelve simulated subjects x 10 days (the fidelity tests look at minutes, not windows)."""
    from lsm_edge.data.simulate import simulate_timelines

    return list(simulate_timelines(12, 10, seed=3))
