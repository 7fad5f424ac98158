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


@pytest.fixture(scope="session")
def small_run(tmp_path_factory):
    """A nano teacher trained for 6 steps on 10 simulated subjects, and its float32 .tflite."""
    from lsm_edge.verbs import convert as conv
    from lsm_edge.data.simulate import write_simulated
    from lsm_edge.verbs.train import TrainConfig, train

    root = tmp_path_factory.mktemp("conv")
    write_simulated(root / "data", 10, 3, seed=0, progress=False)
    train(root / "data", root / "run", TrainConfig(size="nano", steps=6, batch_size=16, checkpoint_every=6,
                                                   warmup_steps=2, val_windows=16, xla=False), progress=False)
    conv.convert(root / "run", root / "f32.tflite", "float32")
    return root


def shortened_real(real_dir: Path, data: Path) -> Path:
    """A small copy of the real folder: actigraphy cut to 30 h each, 700 aw_fb rows, fitabase whole, and
    three covid19 people with heart rate cut to their first 2 days (written as .csv.gz), six MMASH people."""
    import gzip
    import shutil
    import zipfile

    (data / "covid19").mkdir(parents=True)
    for person in ("A3OU183", "A4G0044", "AV2GF3B"):  # heart rate once a minute: 2 days = 2,880 rows
        for kind in ("hr", "steps"):
            with zipfile.ZipFile(real_dir / "covid19" / f"{person}_{kind}.csv.zip") as z:
                lines = z.read(z.namelist()[0]).split(b"\n")
            with gzip.open(data / "covid19" / f"{person}_{kind}.csv.gz", "wb") as f:
                f.write(b"\n".join(lines[:1 + 2880]) + b"\n")

    for user in ("user_1", "user_2", "user_3", "user_5", "user_6", "user_7"):  # MMASH: enough people for 5 folds
        shutil.copytree(real_dir / "mmash" / user, data / "mmash" / user)
    (data / "actigraphy").mkdir(parents=True)
    for p in sorted((real_dir / "actigraphy").glob("*.AWD")):  # 7 header lines + 30 h
        lines = p.read_bytes().split(b"\r\n")
        (data / "actigraphy" / p.name).write_bytes(b"\r\n".join(lines[:7 + 1800]) + b"\r\n")
    (data / "aw_fb").mkdir()
    rows = (real_dir / "aw_fb" / "aw_fb_data.csv").read_text().splitlines()
    (data / "aw_fb" / "aw_fb_data.csv").write_text("\n".join(rows[:700]) + "\n")
    shutil.copytree(real_dir / "fitabase", data / "fitabase")
    return data
