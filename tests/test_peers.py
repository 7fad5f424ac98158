"""The peers extra (PyPOTS): never imported by the package; where installed, trained and scored like
any method.  The second half runs only where `pip install -e ".[peers]"` was done (not in CI)."""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest

try:  # where the extra is installed, PyTorch must load before any fixture loads TensorFlow
    if importlib.util.find_spec("pypots") and not ("tensorflow" in sys.modules and "torch" not in sys.modules):
        import lsm_edge.core.peers  # noqa: F401
except Exception:  # noqa: BLE001  (the tests below skip or report it)
    pass


def test_package_and_runtime_never_import_torch_or_pypots():
    code = ("import sys, importlib, pkgutil, lsm_edge\n"
            "skip = {'lsm_edge.core.peers'}\n"
            "for m in pkgutil.walk_packages(lsm_edge.__path__, 'lsm_edge.'):\n"
            "    if m.name not in skip and not m.name.endswith('__main__'):\n"
            "        importlib.import_module(m.name)\n"
            "bad = [m for m in ('torch', 'pypots') if m in sys.modules]\nassert not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]


def test_importing_peers_without_the_extra_names_it():
    code = ("import sys\nsys.modules['pypots'] = None\n"  # as if not installed
            "from lsm_edge.errors import LsmEdgeError\n"
            "try:\n    import lsm_edge.core.peers\nexcept LsmEdgeError as e:\n    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'pip install "lsm-edge[peers]"' in r.stdout


def _peers():
    if importlib.util.find_spec("pypots") is None:
        pytest.skip('the peers extra is not installed (pip install -e ".[peers]")')
    if "tensorflow" in sys.modules and "torch" not in sys.modules:
        pytest.skip("TensorFlow is loaded by earlier tests and PyTorch must come first: "
                    "run `pytest tests/test_peers.py` on its own")
    from lsm_edge.core import peers

    return peers


def test_pypots_simple_imputers_agree_with_ours():
    peers = _peers()
    from lsm_edge.data.windows import fill_linear, fill_locf

    rng = np.random.default_rng(0)
    z = rng.normal(size=(8, 300, 26)).astype(np.float32)
    z[rng.random(z.shape) < 0.6] = np.nan
    theirs = peers.baseline_methods()
    np.testing.assert_allclose(theirs["pypots linear"](z), fill_linear(z), atol=1e-5)
    np.testing.assert_allclose(theirs["pypots locf"](z), fill_locf(z), atol=0)


def test_a_peer_trains_within_budget_and_fills_only_missing_cells():
    peers = _peers()
    rng = np.random.default_rng(0)
    z = rng.normal(size=(40, 300, 26)).astype(np.float32)
    z[rng.random(z.shape) < 0.3] = np.nan
    model, info = peers.train_peer("saits_small", z[:32], z[32:], budget_cpu_s=1e-3, chunk=16, progress=False)
    assert info["chunks"] == 1 and info["windows_seen"] == 16 and info["params"] == 85_800
    x = z[32:].copy()
    x[:, 100:160] = np.nan
    out = peers.peer_method(model)(x)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[~np.isnan(x)], x[~np.isnan(x)])
    with pytest.raises(Exception, match="unknown peer 'nope'"):
        peers.train_peer("nope", z, z, 1)


def test_a_saved_peer_loads_with_the_same_fills_and_bad_files_are_named(tmp_path):
    peers = _peers()
    rng = np.random.default_rng(1)
    z = rng.normal(size=(24, 300, 26)).astype(np.float32)
    z[rng.random(z.shape) < 0.3] = np.nan
    model, info = peers.train_peer("saits_small", z[:16], z[16:], budget_cpu_s=1e-3, chunk=16, progress=False)
    peers.save_peer(model, "saits_small", info, tmp_path)
    loaded, meta = peers.load_peer(tmp_path / "saits_small.peer.json")
    assert meta["params"] == 85_800 and peers.find_peers(tmp_path) == [tmp_path / "saits_small.peer.json"]
    x = z[16:].copy()
    x[:, 50:110] = np.nan
    np.testing.assert_allclose(peers.peer_method(loaded)(x), peers.peer_method(model)(x), atol=1e-6)
    # continuing from a loaded peer never ends worse on its validation windows than it started
    before = peers.peer_method(loaded)(x)
    _, again = peers.train_peer("saits_small", z[:16], z[16:], budget_cpu_s=1e-3, chunk=16, progress=False, model=loaded)
    assert again["best_val_mae"] <= again["start_val_mae"]
    np.testing.assert_array_equal(peers.peer_method(loaded)(x), before)  # trained a copy, not the caller's model
    (tmp_path / "saits_small.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(Exception, match="cannot load saits_small weights"):
        peers.load_peer(tmp_path / "saits_small.peer.json")
    with pytest.raises(Exception, match="no saved peer"):
        peers.find_peers(tmp_path / "empty")


@pytest.mark.skipif(importlib.util.find_spec("pypots") is None, reason="the peers extra is not installed")
def test_evaluate_real_scores_saved_peers_zero_shot_and_adapted(small_run, real_dir, tmp_path):
    peers = _peers()
    from conftest import shortened_real
    from lsm_edge import api
    from lsm_edge.verbs.evaluate_real import evaluate_real

    rng = np.random.default_rng(2)
    z = rng.normal(size=(24, 300, 26)).astype(np.float32)
    z[rng.random(z.shape) < 0.3] = np.nan
    model, info = peers.train_peer("saits_small", z[:16], z[16:], budget_cpu_s=1e-3, chunk=16, progress=False)
    peers.save_peer(model, "saits_small", info, tmp_path / "peers")  # no stats: the teacher's are used
    data = shortened_real(real_dir, tmp_path / "real")
    r = evaluate_real(data, small_run / "run", tmp_path / "out", adapt_steps=2, fit=api.fit, progress=False,
                      horizons=(60,), peers_dir=tmp_path / "peers")
    for s in ("actigraphy", "fitabase"):
        for row in r["imputation"][s]["tasks"].values():
            m = row["methods"]
            assert {"saits_small zero-shot", "saits_small adapted", "linear"} <= set(m)
            assert len({v["cells"] for v in m.values()}) == 1
            assert all(np.isfinite(v["mae_unit"]) for v in m.values())
    p = r["peers"]["saits_small"]
    assert p["stats"] == "the teacher's" and p["best_val_mae"] <= p["start_val_mae"]
    assert (tmp_path / "out" / "adapted_peers" / "saits_small.safetensors").exists()
    assert "Peer saits_small (85,800 parameters" in (tmp_path / "out" / "real.md").read_text()
