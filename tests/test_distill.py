import json

import keras
import numpy as np
import pytest

from lsm_edge import api
from lsm_edge.data.dataset import Dataset
from lsm_edge.data.simulate import write_simulated
from lsm_edge.verbs.distill import Distiller, build_student, distill, distill_batch, time_pool
from lsm_edge.errors import LsmEdgeError
from lsm_edge.core.scoring import model_method
from lsm_edge.verbs.finetune import FinetuneConfig, finetune
from lsm_edge.models.conv import ConvStudent
from lsm_edge.recipe import DistillConfig
from lsm_edge.verbs.train import TrainConfig, train
from lsm_edge.core.run import load_run

FAST = dict(steps=4, batch_size=8, checkpoint_every=2, warmup_steps=1, xla=False)


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    root = tmp_path_factory.mktemp("distill")
    write_simulated(root / "data", 20, 4, seed=3, progress=False)
    train(root / "data", root / "t", TrainConfig(size="nano", steps=4, batch_size=16, checkpoint_every=4,
                                                 warmup_steps=1, val_windows=16, fill_gate=True, loss="l1", xla=False),
          progress=False)
    return root


def test_recipes_meet_the_size_bar_and_bad_recipes_are_named(tmp_path):
    from lsm_edge.verbs.distill import flops
    from lsm_edge.models.mae import build_mae, count_params

    t = build_mae("micro", fill_gate=True)
    z = np.random.default_rng(0).normal(size=(8, 300, 26)).astype("float32")  # intconv fixes its input range on it
    for path in ("distill/vit_pico.toml", "distill/conv64.toml", "distill/intconv.toml"):
        s = build_student(DistillConfig.from_toml(path), z)
        assert count_params(s) <= count_params(t) / 10, path
        assert flops(s) <= flops(t) / 10, path
    (tmp_path / "bad.toml").write_text('[distill]\nfamily = "rnn"\n')
    with pytest.raises(LsmEdgeError, match="family must be one of vit, conv, intconv, got 'rnn'"):
        DistillConfig.from_toml(tmp_path / "bad.toml")
    (tmp_path / "bad.toml").write_text('[distill]\nwidth = 3\n')
    with pytest.raises(LsmEdgeError, match="unknown option"):
        DistillConfig.from_toml(tmp_path / "bad.toml")
    (tmp_path / "bad.toml").write_text('[distill]\nfeature_drop_p = -0.1\n')
    with pytest.raises(LsmEdgeError, match=r"feature_drop_p must be in \[0, 1\], got -0.1"):
        DistillConfig.from_toml(tmp_path / "bad.toml")


def test_distill_batches_drop_features_as_the_recipe_says():
    from lsm_edge.verbs.distill import _batches

    z = np.random.default_rng(0).normal(size=(32, 300, 26)).astype("float32")
    for p, lacking in ((0.0, False), (1.0, True)):
        x, _ = next(_batches(z, DistillConfig(batch_size=16, feature_drop_p=p), 0, 1))
        whole = (x["missing"] > 0).all(1)  # [B, F]: features missing for the whole window
        assert whole.any(1).all() == lacking and not whole.all(1).any()


def test_conv_student_interface():
    m = ConvStudent(dim=16, depth=2)
    rng = np.random.default_rng(0)
    v = rng.normal(size=(2, 300, 26)).astype("float32")
    miss = (rng.random((2, 300, 26)) < 0.3).astype("float32")
    out = np.asarray(m.impute(v, miss))
    np.testing.assert_array_equal(out[miss == 0], v[miss == 0])
    tokens, pooled = m.embed(v, miss)
    assert tuple(tokens.shape) == (2, 60, 16) and tuple(pooled.shape) == (2, 16)
    assert tuple(time_pool(tokens, m.token_grid).shape) == (2, 30, 16)
    with pytest.raises(LsmEdgeError, match="no 'token' inference path"):
        m.infer(v, miss, hidden="token")
    # a step with every cell missing does not enter the pooled embedding
    miss2 = miss.copy()
    miss2[:, :5] = 1
    v2 = v.copy()
    v2[:, :5] = 99.0
    _, p2 = m.embed(v2, miss2)
    _, p1 = m.embed(np.where(miss2 > 0, 0, v), miss2)
    np.testing.assert_allclose(np.asarray(p1), np.asarray(p2), atol=1e-5)


def test_distill_batch_mixes_every_task():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(64, 300, 26)).astype("float32")
    z[:, :, 3] = np.nan
    x, y = distill_batch(z, rng, random_p=0.25)
    hidden = y["hidden"] > 0
    assert hidden.any((1, 2)).all()
    assert not (y["observed_hidden"][:, :, 3] > 0).any()  # never scored where nothing was observed
    full_rows = hidden.all(2).sum(1)  # minutes with every feature hidden: temporal tasks
    assert (full_rows > 0).any() and (full_rows == 0).any()
    assert np.array_equal(x["missing"] > 0, hidden | np.isnan(z))


@pytest.mark.parametrize("family", ["vit", "conv", "intconv"])
def test_distilled_student_runs_everywhere_and_resumes_exactly(teacher, tmp_path, family):
    cfg = DistillConfig(family=family, dim=16, depth=2, **FAST)
    part = distill(teacher / "t", teacher / "data", tmp_path / "s", cfg, progress=False, stop_after_segments=1)
    assert not (part / "model.keras").exists()
    with pytest.raises(LsmEdgeError, match="interrupted distillation; pass --resume"):
        distill(teacher / "t", teacher / "data", tmp_path / "s", cfg, progress=False)
    distill(teacher / "t", teacher / "data", tmp_path / "s", cfg, resume=True, progress=False)
    distill(teacher / "t", teacher / "data", tmp_path / "whole", cfg, progress=False)
    a = keras.models.load_model(tmp_path / "s" / "model.keras", safe_mode=True)
    b = keras.models.load_model(tmp_path / "whole" / "model.keras", safe_mode=True)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, atol=1e-6)
    c = json.loads((tmp_path / "s" / "config.json").read_text())
    assert c["kind"] == "student" and c["params"] < c["teacher"]["params"] and 0 < c["flops"] < c["teacher"]["flops"]
    # the run folder is a pretrained run like the teacher's: evaluation and fine-tuning take it
    model, stats, _ = load_run(tmp_path / "s")
    z = stats.normalize(Dataset(teacher / "data").load("test").values[:4])
    hide = np.zeros(z.shape, bool)
    hide[:, 100:160] = True
    out = model_method(model)(np.where(hide, np.nan, z))
    assert np.isfinite(out).all() and np.array_equal(out[~hide & ~np.isnan(z)], z[~hide & ~np.isnan(z)])
    m = finetune(tmp_path / "s", teacher / "data", "activity", "conv", tmp_path / "clf", FinetuneConfig(epochs=1),
                 progress=False)
    assert 0 <= m["accuracy"] <= 1


def test_distillation_pulls_the_student_toward_the_teacher(teacher):
    """Loss (a) alone: after a few steps the student's reconstructions are closer to the teacher's."""
    t, stats, _ = load_run(teacher / "t")
    z = stats.normalize(Dataset(teacher / "data").load("train").values[:16])
    x, y = distill_batch(z, np.random.default_rng(1), 0.25)
    keras.utils.set_random_seed(0)
    d = Distiller(build_student(DistillConfig(family="conv", dim=16, depth=2)), t.embed_dim,
                  {"use_teacher": True, "w_truth": 0.0, "w_teacher": 1.0, "w_embed": 0.0})
    d.compile(optimizer=keras.optimizers.Adam(3e-3))
    from lsm_edge.verbs.distill import TeacherTargets

    y.update({k: np.asarray(v) for k, v in TeacherTargets(t).predict_on_batch(x).items()})
    gap = lambda: float(np.abs(np.asarray(d.student.infer(x["values"], x["missing"])) - y["teacher_rec"])[y["hidden"] > 0].mean())  # noqa: E731
    before = gap()
    for _ in range(40):
        d.train_on_batch(x, y)
    assert gap() < 0.7 * before


def test_distill_init_continues_a_finished_student(teacher, tmp_path):
    """--init: the new run starts from the student's weights and architecture (the recipe's family and
    sizes are replaced), and records where it came from; a teacher run is refused by name."""
    base = distill(teacher / "t", teacher / "data", tmp_path / "base", DistillConfig(family="conv", dim=16, depth=2,
                                                                                  **FAST), progress=False)
    still = DistillConfig(family="vit", size="pico", **{**FAST, "lr": 1e-12})  # the optimiser barely moves it
    run = distill(teacher / "t", teacher / "data", tmp_path / "again", still, progress=False, init=base)
    a = keras.models.load_model(base / "model.keras", safe_mode=True)
    b = keras.models.load_model(run / "model.keras", safe_mode=True)
    assert isinstance(b, ConvStudent) and b.get_config()["dim"] == 16
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, atol=1e-6)
    c = json.loads((run / "config.json").read_text())
    assert c["init"]["run"] == str(base) and c["distill"]["family"] == "conv" and c["distill"]["dim"] == 16
    fresh = distill(teacher / "t", teacher / "data", tmp_path / "fresh", DistillConfig(family="conv", dim=16, depth=2,
                                                                                    **{**FAST, "lr": 1e-12}),
                    progress=False)
    f = keras.models.load_model(fresh / "model.keras", safe_mode=True)
    assert any(np.abs(wa - wf).max() > 1e-3 for wa, wf in zip(a.get_weights(), f.get_weights()))  # not the init
    with pytest.raises(LsmEdgeError, match="is not a finished student run"):
        distill(teacher / "t", teacher / "data", tmp_path / "bad", still, progress=False, init=teacher / "t")


def test_train_init_continues_a_conv_masked_autoencoder(teacher, tmp_path):
    """train --init on a conv model trained on the masks alone (the released real teacher's kind): the same
    objective continues from its weights in its normalisation, with the train recipe's steps and learning
    rate; a student taught by a teacher is refused, naming what was found."""
    base = distill(teacher / "t", teacher / "data", tmp_path / "base",
                   DistillConfig(family="conv", dim=16, depth=2, use_teacher=False, **FAST), progress=False)
    cfg = TrainConfig(size="nano", steps=2, batch_size=8, lr=1e-12, warmup_steps=1, checkpoint_every=2, xla=False)
    run = api.fit(teacher / "data", tmp_path / "cont", cfg, progress=False, init=base)
    c = json.loads((run / "config.json").read_text())
    assert c["init"]["run"] == str(base) and c["distill"]["use_teacher"] is False
    assert c["distill"]["steps"] == 2 and c["distill"]["lr"] == 1e-12 and c["distill"]["dim"] == 16
    assert (run / "stats.json").read_text() == (base / "stats.json").read_text()
    a, b = load_run(base)[0], load_run(run)[0]
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, atol=1e-6)
    taught = distill(teacher / "t", teacher / "data", tmp_path / "taught",
                     DistillConfig(family="conv", dim=16, depth=2, **FAST), progress=False)
    with pytest.raises(LsmEdgeError, match="not a finished teacher run.*found kind 'student'"):
        api.fit(teacher / "data", tmp_path / "bad", cfg, progress=False, init=taught)
    # another device's units (heart rate x 1.5, a feature the init never saw filled in): by default only the unseen
    # feature gets this data's scale; with refit_stats every feature this data observes does
    from lsm_edge.data.dataset import DatasetWriter
    from lsm_edge.data.stats import NormStats

    w = Dataset(teacher / "data").load()
    hr, temp = 0, 24
    w.values[:, :, hr] *= 1.5
    w.values[:, :, temp] = 30 + np.random.default_rng(0).normal(0, 1, w.values.shape[:2])
    w.missing[:, :, temp] = False
    other = DatasetWriter(tmp_path / "other", {"kind": "test"})
    other.write_shard(0, w)
    other.finish()
    fit, init_st = NormStats.fit([w.of_split("train").values]), NormStats.load(base / "stats.json")
    init_st.count[temp], init_st.mean[temp], init_st.std[temp] = 0, 0.0, 1.0  # as if the init never saw skin temp.
    init_st.save(base / "stats.json")
    kept = NormStats.load(api.fit(tmp_path / "other", tmp_path / "kept", cfg, progress=False, init=base) / "stats.json")
    own = NormStats.load(api.fit(tmp_path / "other", tmp_path / "own", cfg, progress=False, init=base,
                                 refit_stats=True) / "stats.json")
    assert kept.mean[hr] == init_st.mean[hr] and kept.mean[temp] == pytest.approx(fit.mean[temp])
    assert own.mean[hr] == pytest.approx(fit.mean[hr]) and own.std[hr] == pytest.approx(fit.std[hr])
    assert own.mean[hr] == pytest.approx(1.5 * init_st.mean[hr], rel=0.05)


def test_sigkill_mid_run_then_resume_loses_at_most_one_checkpoint_interval(teacher, tmp_path):
    """The reference pretraining (conv on the masks alone) killed with SIGKILL mid-run, then --resume: it
    continues from the last checkpoint (every segment in the log exactly once) and ends with the weights of
    a run never interrupted."""
    import os
    import signal
    import subprocess
    import sys
    import time

    args = ["--teacher", str(teacher / "t"), "--data", str(teacher / "data"), "--family", "conv", "--dim", "16",
            "--depth", "2", "--steps", "240", "--batch-size", "8", "--checkpoint-every", "8", "--warmup-steps", "1",
            "--use-teacher", "false", "--xla", "false", "--quiet"]
    cmd = [sys.executable, "-m", "lsm_edge.cli", "distill", *args, "--out", str(tmp_path / "killed")]
    state = tmp_path / "killed" / "checkpoint" / "state.json"
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while time.time() < deadline and p.poll() is None:
        if state.exists() and json.loads(state.read_text() or "{}").get("segments_done", 0) >= 3:
            break
        time.sleep(0.02)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert p.returncode == -signal.SIGKILL, p.stderr.read().decode()[-2000:]
    assert not (tmp_path / "killed" / "model.keras").exists()  # killed mid-run, not after
    done = json.loads(state.read_text())["segments_done"]
    assert 3 <= done < 30
    r = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    steps = [int(float(row.split(",")[0])) for row in (tmp_path / "killed" / "log.csv").read_text().splitlines()[1:]]
    assert steps == list(range(8, 241, 8))  # every checkpoint interval once: at most the one in flight was redone
    ref = distill(teacher / "t", teacher / "data", tmp_path / "whole", DistillConfig(
        family="conv", dim=16, depth=2, steps=240, batch_size=8, checkpoint_every=8, warmup_steps=1,
        use_teacher=False, xla=False), progress=False)
    a, b = load_run(ref)[0], load_run(tmp_path / "killed")[0]
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, atol=1e-4)
