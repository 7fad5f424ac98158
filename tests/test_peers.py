"""The peers extra (PyPOTS): never imported by the package; where installed, trained and scored like
any method.  The second half runs only where `pip install -e ".[peers]"` was done (not in CI)."""

import subprocess
import sys

import numpy as np
import pytest


def test_package_and_runtime_never_import_torch_or_pypots():
    code = ("import sys, importlib, pkgutil, lsm_edge\n"
            "skip = {'lsm_edge.peers'}\n"
            "for m in pkgutil.walk_packages(lsm_edge.__path__, 'lsm_edge.'):\n"
            "    if m.name not in skip and not m.name.endswith('__main__'):\n"
            "        importlib.import_module(m.name)\n"
            "bad = [m for m in ('torch', 'pypots') if m in sys.modules]\nassert not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]


def test_importing_peers_without_the_extra_names_it():
    code = ("import sys\nsys.modules['pypots'] = None\n"  # as if not installed
            "from lsm_edge.errors import LsmEdgeError\n"
            "try:\n    import lsm_edge.peers\nexcept LsmEdgeError as e:\n    print(e)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'pip install "lsm-edge[peers]"' in r.stdout


def _peers():
    import importlib.util

    if importlib.util.find_spec("pypots") is None:
        pytest.skip('the peers extra is not installed (pip install -e ".[peers]")')
    if "tensorflow" in sys.modules and "torch" not in sys.modules:
        pytest.skip("TensorFlow is loaded by earlier tests and PyTorch must come first: "
                    "run `pytest tests/test_peers.py` on its own")
    from lsm_edge import peers

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
    model, info = peers.train_peer("saits_small", z[:32], z[32:], budget_cpu_s=1, chunk=16, progress=False)
    assert info["chunks"] == 1 and info["windows_seen"] == 16 and info["params"] == 85_800
    x = z[32:].copy()
    x[:, 100:160] = np.nan
    out = peers.peer_method(model)(x)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[~np.isnan(x)], x[~np.isnan(x)])
    with pytest.raises(Exception, match="unknown peer 'nope'"):
        peers.train_peer("nope", z, z, 1)
