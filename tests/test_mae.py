import keras
import numpy as np
import pytest

from lsm_edge.data import masks
from lsm_edge.errors import LsmEdgeError
from lsm_edge.models.layers import patchify, unpatchify
from lsm_edge.models.mae import SIZES, build_mae, config_for, count_params
from lsm_edge.core.inputs import model_inputs


def test_patchify_roundtrip_and_layout():
    x = np.arange(2 * 300 * 26, dtype="float32").reshape(2, 300, 26)
    p = np.asarray(patchify(x))
    assert p.shape == (2, 180, 50)
    # token 1 is minutes 0-9 of features 5-9 (time-major, 6 feature groups per time row)
    np.testing.assert_array_equal(p[0, 1].reshape(10, 5), x[0, :10, 5:10])
    np.testing.assert_array_equal(p[0, 5].reshape(10, 5)[:, :1], x[0, :10, 25:26])  # 4 padding columns
    assert (p[0, 5].reshape(10, 5)[:, 1:] == 0).all()
    np.testing.assert_array_equal(np.asarray(unpatchify(p)), x)


def test_named_sizes_follow_the_paper():
    assert 1.8e6 < count_params(build_mae("tiny")) < 2.6e6  # paper: 2 M
    assert (SIZES["small"].enc_depth, SIZES["small"].enc_dim, SIZES["base"].dec_dim) == (8, 256, 512)
    with pytest.raises(LsmEdgeError, match="unknown model size 'huge'"):
        config_for("huge")


def _one_window_with_hidden_tokens(seed=0):
    """Exactly 36 tokens with data; the other 144 hidden (no observed cell): both paths see the same thing."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(2, 300, 26)).astype("float32")
    hidden = masks.random_patches(rng, 2, 0.8)
    hide = masks.grid_to_cells(hidden)
    x = model_inputs(z, hide)
    noise = rng.random((2, 180)).astype("float32") + 2.0 * hidden.reshape(2, -1)
    return z, hide, x, noise


@pytest.mark.parametrize("fill_gate", [False, True])
def test_training_and_inference_paths_agree(fill_gate):
    keras.utils.set_random_seed(0)
    m = build_mae("nano", fill_gate=fill_gate)
    z, hide, x, noise = _one_window_with_hidden_tokens()
    train_path = np.asarray(m({**x, "noise": noise}))
    infer_path = np.asarray(m.infer(x["values"], x["missing"]))
    np.testing.assert_allclose(train_path, infer_path, atol=2e-5)
    # the alternative (missing tokens fed to the encoder) does NOT compute the same thing
    token_path = np.asarray(m.infer(x["values"], x["missing"], hidden="token"))
    assert np.abs(token_path - train_path).max() > 1e-3


def test_impute_passes_observed_cells_and_embed_shapes():
    m = build_mae("nano")
    z, hide, x, _ = _one_window_with_hidden_tokens(1)
    out = np.asarray(m.impute(x["values"], x["missing"]))
    np.testing.assert_array_equal(out[~hide], x["values"][~hide])
    assert not np.allclose(out[hide], x["values"][hide])
    tokens, pooled = m.embed(x["values"], x["missing"])
    assert tuple(tokens.shape) == (2, 180, 64) and tuple(pooled.shape) == (2, 64)
    # the pooled embedding ignores tokens without data: changing hidden cells changes nothing
    x2 = dict(x, values=np.where(hide, 99.0, x["values"]).astype("float32"))
    np.testing.assert_allclose(np.asarray(m.embed(x2["values"], x2["missing"])[1]), np.asarray(pooled), atol=1e-5)


def test_fill_gate_blends_head_and_fill():
    """g -> 0 returns the input's linear fill, g -> 1 the plain head; the loss is MSE or L1 as configured."""
    z, hide, x, _ = _one_window_with_hidden_tokens(3)
    m = build_mae("nano", fill_gate=True)
    b = m.gate.bias
    b.assign(np.full(b.shape, -50.0, "float32"))
    np.testing.assert_allclose(np.asarray(m.infer(x["values"], x["missing"])), x["values"], atol=1e-5)
    b.assign(np.full(b.shape, 50.0, "float32"))
    plain = build_mae("nano")
    plain.set_weights([w for w, v in zip(m.get_weights(), m.weights) if "gate" not in v.path])
    np.testing.assert_allclose(np.asarray(m.infer(x["values"], x["missing"])),
                               np.asarray(plain.infer(x["values"], x["missing"])), atol=1e-5)
    y = {"target": z, "weight": hide.astype("float32")}
    pred = np.zeros_like(z)
    for loss, want in (("mse", (z[hide] ** 2).mean()), ("l1", np.abs(z[hide]).mean())):
        got = float(build_mae("nano", loss=loss).compute_loss(y=y, y_pred=pred))
        assert abs(got - want) < 1e-4
    with pytest.raises(LsmEdgeError, match="loss must be one of mse, l1, got 'huber'"):
        build_mae("nano", loss="huber")


@pytest.mark.parametrize("fill_gate", [False, True])
def test_saved_model_loads_in_safe_mode(tmp_path, fill_gate):
    m = build_mae("nano", fill_gate=fill_gate)
    z, hide, x, _ = _one_window_with_hidden_tokens(2)
    m.save(tmp_path / "m.keras")
    m2 = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_array_equal(np.asarray(m2.infer(x["values"], x["missing"])),
                                  np.asarray(m.infer(x["values"], x["missing"])))
    assert m2.get_config()["enc_dim"] == 64
