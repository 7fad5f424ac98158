import json
import os
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from lsm_edge import schema
from lsm_edge.data import masks
from lsm_edge.data.simulate import write_simulated
from lsm_edge.data.windows import fill_linear
from lsm_edge.errors import LsmEdgeError
from lsm_edge.core.scoring import baseline_methods
from lsm_edge.core.scoring import evaluate_generative, gain, model_method, Task
from lsm_edge.verbs.train import TrainConfig, train
from lsm_edge.core.inputs import augment, drop_features, mae_batch, task_batch
from lsm_edge.core.run import load_run

CFG = dict(size="nano", steps=12, batch_size=16, checkpoint_every=4, warmup_steps=2, val_windows=32,
           xla=False)  # three short runs: compiling would cost more than it saves (the CLI test keeps XLA on)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("data") / "sim"
    write_simulated(d, 10, 3, seed=0, progress=False)
    return d


def test_mae_batch_masks_and_targets():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4, 300, 26)).astype("float32")
    z[:, 100:200, :] = np.nan  # 10 whole time rows without data
    x, y = mae_batch(z, rng, 0.8)
    hidden = x["noise"] >= 2
    assert (hidden.sum(1) == 144).all()
    no_data = np.isnan(z).reshape(4, 30, 10, 26).all((2, 3))
    assert hidden.reshape(4, 30, 6)[np.broadcast_to(no_data[:, :, None], (4, 30, 6))].all()  # masked first
    assert not np.isnan(x["values"]).any()
    w = y["weight"].astype(bool)
    np.testing.assert_allclose(x["values"], fill_linear(np.where(x["missing"] > 0, np.nan, z)))
    assert not (w & np.isnan(z)).any()  # never scored where not observed
    assert (x["missing"][w] == 1).all()  # every scored cell was hidden from the model


def test_task_batch_trains_cells_inside_visible_tokens():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(64, 300, 26)).astype("float32")
    z[:, :, 3] = np.nan  # a feature never observed: never a target
    x, y = task_batch(z, rng)
    w = y["weight"].astype(bool)
    assert w.any(axis=(1, 2)).all()  # every window has something to learn
    assert not w[:, :, 3].any()
    assert (x["missing"][w] == 1).all()
    # the model never sees a target: its input is the fill computed from the visible cells only
    np.testing.assert_allclose(x["values"], fill_linear(np.where(x["missing"] > 0, np.nan, z)))
    # sensor windows hide some features and keep others in the same minutes: partial tokens
    partial = (w.any(2) & ~w.all(2) & ~np.isnan(z).all(2)).any(1)
    assert partial.sum() > 5
    # most tokens stay visible, unlike 80% patch masking
    assert x["missing"].mean() < 0.6


def test_augment_keeps_shape_and_missingness_count():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(8, 300, 26)).astype("float32")
    z[:, :30] = np.nan
    cfg = TrainConfig(noise_std=0.0, stretch_max=1.0, flip_p=1.0)
    out = augment(z, rng, cfg)
    np.testing.assert_array_equal(out, z[:, ::-1])


def test_drop_features_leaves_whole_features_missing_for_the_whole_window():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(64, 300, 26)).astype("float32")
    z[:, :, 5] = np.nan  # never observed: not counted among the features a window can keep
    z[3] = np.nan
    z[3, :, 7] = 1.0  # one observed feature: nothing to drop
    out = drop_features(z, np.random.default_rng(2), 1.0)
    kept = ~np.isnan(out).all(1)  # [B, F] features with data left
    observed = ~np.isnan(z).all(1)
    assert np.array_equal(np.isnan(out).any(1), np.isnan(out).all(1))  # a feature goes for all 300 minutes or not at all
    np.testing.assert_array_equal(out[~np.isnan(out)], z[~np.isnan(out)])  # what stays is untouched
    others = np.arange(64) != 3
    assert (kept.sum(1)[others] >= 1).all() and (kept.sum(1)[others] < observed.sum(1)[others]).all()
    assert len(set(kept.sum(1)[others])) > 10  # from one feature to all but one
    np.testing.assert_array_equal(out[3], z[3])
    assert not kept[:, 5].any()
    _, y = task_batch(out, rng)
    assert not y["weight"][np.broadcast_to(~kept[:, None, :], out.shape)].any()  # dropped cells are never targets
    assert drop_features(z, np.random.default_rng(2), 0.0) is z
    with pytest.raises(LsmEdgeError, match="feature_drop_p must be in"):
        TrainConfig.from_dict({"feature_drop_p": 1.5})


def test_decay_steps_stops_the_run_part_way_down_a_longer_cosine():
    from lsm_edge.verbs.train import lr_schedule

    def lr_at(cfg, step):
        return float(lr_schedule(cfg, 1e-3)(step))

    base = TrainConfig(steps=100, warmup_steps=10)
    longer = TrainConfig(steps=100, warmup_steps=10, decay_steps=190)
    assert lr_at(base, 10) == pytest.approx(1e-3) and lr_at(longer, 10) == pytest.approx(1e-3)
    assert lr_at(base, 100) == pytest.approx(0.0, abs=1e-9)  # default: 0 at the run's last step, as before
    assert lr_at(longer, 100) == pytest.approx(0.5e-3)  # halfway down a cosine of 180 decay steps
    assert lr_at(longer, 190) == pytest.approx(0.0, abs=1e-9)
    assert lr_at(base, 40) < lr_at(longer, 40) < 1e-3
    with pytest.raises(LsmEdgeError, match=r"decay_steps must be 0 \(= steps\) or at least steps \(100\), got 50"):
        TrainConfig.from_dict({"steps": 100, "decay_steps": 50})


def test_every_recipe_loads():
    from pathlib import Path

    recipes = sorted(Path(__file__).parent.parent.glob("lsm_edge/recipes/train/*.toml"))
    assert len(recipes) >= 5
    cfgs = {p.stem: TrainConfig.from_toml(p) for p in recipes}
    assert cfgs["micro"].feature_drop_p == cfgs["nano"].feature_drop_p == 0.25  # the CPU recipes handle missing sensors


def test_train_resume_after_kill_loses_nothing(data, tmp_path):
    cfg = TrainConfig(**CFG)
    full = train(data, tmp_path / "full", cfg, progress=False)
    # a "killed" run: stops after its first checkpoint, then resumes
    part = train(data, tmp_path / "part", cfg, progress=False, stop_after_segments=1)
    assert not (part / "model.keras").exists()
    with pytest.raises(LsmEdgeError, match="interrupted run; pass --resume"):
        train(data, part, cfg, progress=False)
    with pytest.raises(LsmEdgeError, match="config differs"):
        train(data, part, TrainConfig(**{**CFG, "lr": 0.5}), resume=True, progress=False)
    # decay_steps: a 4-step run on the 12-step cosine is the killed run's first segment (batches depend on
    # the step, not on the run's length), not a run whose cosine reaches 0 at step 4
    cut = train(data, tmp_path / "cut", TrainConfig(**{**CFG, "steps": 4, "decay_steps": 12}), progress=False)
    first = keras.models.load_model(part / "checkpoint" / "ckpt.keras", safe_mode=True)
    for wa, wb in zip(first.get_weights(), load_run(cut)[0].get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-5)
    train(data, part, cfg, resume=True, progress=False)
    a, _, _ = load_run(full)
    b, _, _ = load_run(part)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-5)
    log = (part / "log.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in log[1:]] == ["4", "8", "12"]  # each segment once
    assert json.loads((part / "config.json").read_text())["train"]["xla"] is False
    m = json.loads((full / "manifest.json").read_text())
    assert len(m["files"]["model.keras"]) == 64 and m["data"]["dataset_json_sha256"]


def test_cli_kill_and_resume(data, tmp_path):
    """A real process killed mid-run, then `--resume`."""
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "lsm_edge.cli", "train", "--data", str(data), "--out", str(out), "--quiet",
           "--size", "nano", "--steps", "400", "--batch-size", "8", "--checkpoint-every", "2"]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    state = out / "checkpoint" / "state.json"
    deadline = time.time() + 240
    while not state.exists() and time.time() < deadline and p.poll() is None:
        time.sleep(0.5)
    p.kill()
    p.wait()
    assert state.exists()
    done = json.loads(state.read_text())["segments_done"]
    assert 1 <= done < 200
    r = subprocess.run(cmd[:-8] + ["--size", "nano", "--steps", str(2 * (done + 1)), "--batch-size", "8",
                                   "--checkpoint-every", "2", "--resume"], capture_output=True, text=True)
    assert r.returncode != 0 and "config differs" in r.stderr and "Traceback" not in r.stderr


def test_evaluation_scores_only_hidden_observed_cells(data):
    from lsm_edge.data.dataset import Dataset
    from lsm_edge.data.stats import NormStats

    ds = Dataset(data)
    tr, te = ds.load("train"), ds.load("test")
    st = NormStats.fit([tr.values])
    z = st.normalize(te.values[:20])
    methods = baseline_methods(st.normalize(tr.values[:50]))
    methods["oracle"] = lambda zin: np.where(np.isnan(zin), np.nan_to_num(z), zin)
    res = evaluate_generative(z, methods, [Task("interpolation", 60), Task("sensor", 30), Task("random")],
                              progress=False)
    for task, row in res.items():
        assert row["oracle"]["mae"] == 0.0
        assert row["linear"]["cells"] == row["mean"]["cells"] > 0
        assert row["linear"]["mae"] < row["mean"]["mae"], task
    # MICE uses the other features: it beats the mean on sensor imputation, equals it when all are hidden
    assert res["sensor 30 min"]["mice"]["mae"] < res["sensor 30 min"]["mean"]["mae"]
    assert gain(res, "oracle")["interpolation 60 min"] == 1.0
    # per feature: the same masks (same totals), weighted by each feature's scored cells they give the MAE
    pf = evaluate_generative(z, {"linear": methods["linear"], "oracle": methods["oracle"]},
                             [Task("interpolation", 60)], progress=False, per_feature=True)["interpolation 60 min"]
    assert pf["linear"]["mae"] == res["interpolation 60 min"]["linear"]["mae"]
    assert set(pf["oracle"]["mae_per_feature"].values()) == {0.0}
    hide = masks.make_mask("interpolation", np.random.default_rng([0, 0]), len(z), 60) & ~np.isnan(z)
    n = hide.sum((0, 1))
    per = pf["linear"]["mae_per_feature"]
    assert list(per) == [f for j, f in enumerate(schema.FEATURE_NAMES) if n[j]]
    weighted = sum(per[f] * n[schema.INDEX[f]] for f in per) / n.sum()
    assert weighted == pytest.approx(pf["linear"]["mae"], rel=1e-5)
    # only: a subset keeps the masks each task has in the full list (sensor 30 is second there)
    sub = evaluate_generative(z, {"linear": methods["linear"]}, [Task("interpolation", 60), Task("sensor", 30),
                              Task("random")], progress=False, only={"sensor 30 min"})
    assert list(sub) == ["sensor 30 min"]
    assert sub["sensor 30 min"]["linear"] == res["sensor 30 min"]["linear"]
    alone = evaluate_generative(z, {"linear": methods["linear"]}, [Task("sensor", 30)], progress=False)
    assert alone["sensor 30 min"]["linear"]["mae"] != res["sensor 30 min"]["linear"]["mae"]  # another draw
    with pytest.raises(ValueError, match="sensor 45 min"):
        evaluate_generative(z, {"linear": methods["linear"]}, [Task("sensor", 30)], progress=False,
                            only={"sensor 45 min"})


def test_train_init_adapts_a_teacher_to_imported_real_data(small_run, real_dir, tmp_path):
    from lsm_edge.data.autoimport import read_any, split_key
    from lsm_edge.data.dataset import Dataset
    from lsm_edge.data.importing import write_dataset
    from lsm_edge.data.stats import NormStats

    tls, _ = read_any(real_dir / "actigraphy")
    write_dataset(tls, tmp_path / "real", {"kind": "test"}, split_key=split_key)
    base = small_run / "run"
    cfg = TrainConfig(size="micro", steps=4, batch_size=8, checkpoint_every=2, warmup_steps=1, val_windows=8,
                      xla=False)
    run = train(tmp_path / "real", tmp_path / "adapted", cfg, progress=False, init=base)
    c = json.loads((run / "config.json").read_text())
    assert c["name"] == "nano" and c["train"]["size"] == "nano"  # the size is the init run's, not the recipe's
    assert c["init"]["run"] == str(base)
    # statistics recomputed on the imported training subjects (log_energy = ln(1 + count) there)
    train_w = Dataset(tmp_path / "real").load("train").values
    stats = NormStats.load(run / "stats.json")
    j = 14  # log_energy
    assert abs(stats.mean[j] - np.nanmean(train_w[..., j])) < 1e-3
    assert abs(stats.mean[j] - NormStats.load(base / "stats.json").mean[j]) > 0.1
    # heart rate is never observed in actigraphy: its scale stays the teacher's (not mean 0, std 1)
    h = schema.INDEX["heart_rate"]
    assert stats.count[h] == 0 and stats.mean[h] == NormStats.load(base / "stats.json").mean[h] > 40
    # it continued from the teacher's weights: a few small steps away from them
    a, b = load_run(run)[0].get_weights(), load_run(base)[0].get_weights()
    moved = [float(np.abs(x - y).max()) for x, y in zip(a, b)]
    assert 0 < max(moved) < 0.05
    with pytest.raises(LsmEdgeError, match="not a finished teacher run"):
        train(tmp_path / "real", tmp_path / "x", cfg, progress=False, init=tmp_path / "real")
