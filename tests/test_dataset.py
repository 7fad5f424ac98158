import numpy as np
import pytest

from lsm_edge.data import dataset as dsmod
from lsm_edge.data.dataset import Dataset
from lsm_edge.data.simulate import write_simulated
from lsm_edge.data.stats import NormStats
from lsm_edge.errors import LsmEdgeError


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "d"
    write_simulated(out, n_subjects=10, days=3, seed=1, chunk_subjects=4, progress=False)
    return out


def test_roundtrip_and_manifest(sim_dir):
    ds = Dataset(sim_dir)
    w = ds.load()
    assert len(ds.shards) == 3 and len(w) == len(ds) > 0
    assert ds.manifest["windows_per_split"]["train"] == int((w.split == 0).sum())
    assert set(ds.manifest["subjects"].values()) == {"train", "val", "test"}
    np.testing.assert_array_equal(w.missing, np.isnan(w.values))
    assert w.start.dtype == np.dtype("datetime64[m]")


def test_interrupted_write_leaves_no_half_shard_and_resumes(tmp_path, monkeypatch):
    out = tmp_path / "d"
    real = dsmod.np.savez_compressed
    calls = {"n": 0}

    def dying(f, **arrays):
        calls["n"] += 1
        if calls["n"] == 2:
            real(f, **{k: arrays[k] for k in list(arrays)[:2]})  # half written ...
            raise KeyboardInterrupt  # ... then the process is killed
        real(f, **arrays)

    monkeypatch.setattr(dsmod.np, "savez_compressed", dying)
    with pytest.raises(KeyboardInterrupt):
        write_simulated(out, 8, 2, seed=1, chunk_subjects=4, progress=False)
    monkeypatch.setattr(dsmod.np, "savez_compressed", real)
    assert [p.name for p in (out / "shards").iterdir()] == ["shard-00000.npz"]  # no temporary left behind
    with pytest.raises(LsmEdgeError, match="not an lsm-edge dataset.*--resume"):
        Dataset(out)
    with pytest.raises(LsmEdgeError, match="pass --resume"):
        write_simulated(out, 8, 2, seed=1, chunk_subjects=4, progress=False)
    with pytest.raises(LsmEdgeError, match="cannot resume"):
        write_simulated(out, 8, 2, seed=2, chunk_subjects=4, progress=False, resume=True)
    write_simulated(out, 8, 2, seed=1, chunk_subjects=4, progress=False, resume=True)
    fresh = tmp_path / "e"
    write_simulated(fresh, 8, 2, seed=1, chunk_subjects=4, progress=False)
    np.testing.assert_array_equal(Dataset(out).load().values, Dataset(fresh).load().values)


def test_stats_from_train_only(sim_dir, tmp_path):
    ds = Dataset(sim_dir)
    st = NormStats.fit(w.values for w in ds.iter_windows("train"))
    tr = ds.load("train").values
    np.testing.assert_allclose(st.mean[0], np.nanmean(tr[..., 0]), rtol=1e-5)
    np.testing.assert_allclose(st.std[0], np.nanstd(tr[..., 0]), rtol=1e-4)
    z = st.normalize(tr)
    assert abs(np.nanmean(z[..., 0])) < 1e-4
    np.testing.assert_allclose(st.denormalize(z), tr, rtol=1e-4, atol=1e-3)
    st.save(tmp_path / "s.json")
    np.testing.assert_array_equal(NormStats.load(tmp_path / "s.json").mean, st.mean)
    with pytest.raises(LsmEdgeError, match="no training windows"):
        NormStats.fit([])
