import dataclasses
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from lsm_edge.data.simulate import write_simulated
from lsm_edge.errors import LsmEdgeError
from lsm_edge.verbs.finetune import FinetuneConfig, augment_batch, finetune
from lsm_edge.core.tasks import TaskModel, classical_baselines, labelled, metrics, subsample
from lsm_edge.models.heads import balanced_softmax_loss
from lsm_edge.models.mae import build_mae
from lsm_edge.verbs.train import TrainConfig, train
from lsm_edge.core.inputs import model_inputs


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    root = tmp_path_factory.mktemp("ft")
    write_simulated(root / "data", 20, 4, seed=2, progress=False)
    train(root / "data", root / "t", TrainConfig(size="nano", steps=4, batch_size=16, checkpoint_every=4,
                                                 warmup_steps=1, val_windows=16, xla=False), progress=False)
    return root


def test_metrics_values():
    y = np.array([0, 0, 1, 1])
    p = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7]])
    m = metrics(y, p, 2)
    assert m["accuracy"] == 0.75 and m["confusion"] == [[1, 1], [0, 2]]
    assert m["mAP"] == pytest.approx(1.0)  # positives ranked above every negative


def test_balanced_softmax_shifts_by_prior():
    prior = np.log(np.array([0.9, 0.1]))
    loss = balanced_softmax_loss(prior)
    logits = np.zeros((1, 2), np.float32)
    # with equal logits the rare class costs more than the common one: log(1/0.1) vs log(1/0.9)
    assert float(loss(np.array([1]), logits)[0]) == pytest.approx(-np.log(0.1), rel=1e-4)
    assert float(loss(np.array([0]), logits)[0]) == pytest.approx(-np.log(0.9), rel=1e-4)


def test_subsample_few_shot():
    y = np.repeat(np.arange(3), 50)
    idx = subsample(y, 5, 1000, 0)
    assert np.bincount(y[idx]).tolist() == [5, 5, 5]
    assert len(subsample(y, None, 40, 0)) == 40


def test_heads_and_frozen_encoder():
    mae = build_mae("nano")
    before = [w.copy() for w in mae.get_weights()]
    rng = np.random.default_rng(0)
    z = rng.normal(size=(32, 300, 26)).astype("float32")
    y = rng.integers(0, 3, 32)
    from lsm_edge.verbs.finetune import fit_head

    for head in ("linear", "conv"):
        m = TaskModel(mae, head, 3)
        fit_head(m, z, y, FinetuneConfig(epochs=2, batch_size=16))
        for a, b in zip(before, mae.get_weights()):
            np.testing.assert_array_equal(a, b)  # probes never touch the encoder
    m = TaskModel(mae, "full", 3)
    fit_head(m, z, y, FinetuneConfig(full_epochs=2, xla=False))  # 32 windows < one batch of 64: still trains
    assert any(not np.array_equal(a, b) for a, b in zip(before, mae.get_weights()))
    p = np.asarray(m.classify(np.zeros((2, 300, 26), "float32"), np.zeros((2, 300, 26), "float32")))
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-5)
    with pytest.raises(LsmEdgeError, match="unknown head 'mlp'"):
        TaskModel(mae, "mlp", 3)
    with pytest.raises(LsmEdgeError, match="unknown pool 'median'; expected one of mean, stats"):
        TaskModel(mae, "linear", 3, pool="median")
    with pytest.raises(LsmEdgeError, match="conv probe reads the token grid"):
        TaskModel(mae, "conv", 3, pool="stats")


def test_epoch_windows_gives_few_shot_heads_the_full_data_step_count(monkeypatch):
    """30 epochs of 40 windows are 30 steps: a head left near its random start. With epoch_windows an
    epoch counts that many windows, so the few-shot head takes the full-data number of steps."""
    from lsm_edge.verbs.finetune import fit_head

    rng = np.random.default_rng(0)
    z = rng.normal(size=(10, 300, 26)).astype("float32")
    y = rng.integers(0, 3, 10)
    for windows, want in ((None, 2 * (10 // 4)), (40, 2 * (40 // 4))):
        m = TaskModel(build_mae("nano"), "full", 3)
        fit_head(m, z, y, FinetuneConfig(full_epochs=2, batch_size=4, xla=False, epoch_windows=windows))
        assert int(m.optimizer.iterations) == want  # 20 steps = 10 passes of 2 batches, stopped at the budget
    passes = []
    fit = keras.Model.fit
    monkeypatch.setattr(keras.Model, "fit", lambda self, *a, **k: passes.append(k["epochs"]) or fit(self, *a, **k))
    for windows in (None, 64):
        fit_head(TaskModel(build_mae("nano"), "linear", 3), z, y,
                 FinetuneConfig(epochs=3, batch_size=4, epoch_windows=windows))
    assert passes == [3, 16]  # 3 epochs of 64 windows = 48 steps = 16 passes of ceil(10 / 4) = 3 batches


def test_stats_pooling_values_and_reload(tmp_path):
    """pool="stats": [pooled, max over tokens, std over tokens about the pooled mean], checked in numpy;
    the choice survives save / load."""
    from lsm_edge.core.tasks import pool_tokens

    rng = np.random.default_rng(0)
    tok = rng.normal(size=(2, 7, 4)).astype("float32")
    pooled = tok[:, :5].mean(1)  # an encoder's own pooling may skip tokens; the spread is about it
    got = np.asarray(pool_tokens(tok, pooled, "stats"))
    want = np.concatenate([pooled, tok.max(1), np.sqrt(((tok - pooled[:, None]) ** 2).mean(1))], -1)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    np.testing.assert_array_equal(np.asarray(pool_tokens(tok, pooled, "mean")), pooled)
    mae = build_mae("nano")
    m = TaskModel(mae, "linear", 3, pool="stats")
    assert m.head.out.kernel.shape == (3 * mae.embed_dim, 3)
    m.save(tmp_path / "m.keras")
    back = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    assert back.pool == "stats"
    z = rng.normal(size=(2, 300, 26)).astype("float32")
    miss = np.zeros_like(z)
    np.testing.assert_allclose(np.asarray(back.classify(z, miss)), np.asarray(m.classify(z, miss)), atol=1e-6)


def test_finetune_run_folder_and_reload(teacher, tmp_path):
    m = finetune(teacher / "t", teacher / "data", "exercise", "conv", tmp_path / "c",
                 FinetuneConfig(epochs=2))
    assert 0 <= m["accuracy"] <= 1 and sum(map(sum, m["confusion"])) == m["n"]
    ds = __import__("lsm_edge.data.dataset", fromlist=["Dataset"]).Dataset(teacher / "data")
    assert m["val"]["n"] == len(labelled(ds, "exercise", "val")[1]) > 0  # chosen on these, scored on test
    for f in ("model.keras", "stats.json", "config.json", "metrics.json", "confusion.png", "manifest.json"):
        assert (tmp_path / "c" / f).is_file()
    tm = keras.models.load_model(tmp_path / "c" / "model.keras", safe_mode=True)
    assert isinstance(tm, TaskModel) and tm.head_kind == "conv" and tm.n_classes == 2
    with pytest.raises(LsmEdgeError, match="already holds a classifier"):
        finetune(teacher / "t", teacher / "data", "exercise", "conv", tmp_path / "c", FinetuneConfig(epochs=1))
    with pytest.raises(LsmEdgeError, match="unknown task 'sleep'"):
        labelled(__import__("lsm_edge.data.dataset", fromlist=["Dataset"]).Dataset(teacher / "data"), "sleep", "train")


def test_augment_batch_flips_hides_and_keeps_the_plain_stream():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, 300, 26)).astype(np.float32)
    z[:, 100:110, 3] = np.nan  # missing stays missing under every view
    plain = augment_batch(z, np.random.default_rng(1), FinetuneConfig())
    noise = np.random.default_rng(1).normal(0, 0.05, z.shape).astype(np.float32)
    np.testing.assert_allclose(plain["values"][:, :100], (z + noise)[:, :100], rtol=1e-6)  # noise only, as before
    assert plain["missing"].sum() == 6 * 10

    flipped = augment_batch(z, np.random.default_rng(1), FinetuneConfig(noise_std=0.0, flip_p=1.0))
    np.testing.assert_array_equal(flipped["values"][:, :150], z[:, ::-1][:, :150])
    assert flipped["missing"][:, 190:200, 3].all() and flipped["missing"].sum() == 6 * 10

    full = np.nan_to_num(z)
    hidden = augment_batch(full, np.random.default_rng(1), FinetuneConfig(noise_std=0.0, hide_p=1.0))
    for w in hidden["missing"].astype(bool):  # every window: one span of 5-60 minutes, all or 67 % of the features
        minutes = np.flatnonzero(w.any(1))
        assert 5 <= len(minutes) <= 60 and minutes[-1] - minutes[0] + 1 == len(minutes)
        assert w.any(0).sum() in (26, 17)
    none = augment_batch(z, np.random.default_rng(1), FinetuneConfig(noise_std=0.0, hide_p=1e-9, flip_p=1e-9))
    np.testing.assert_array_equal(none["values"], model_inputs(z)["values"])  # p ~ 0: the window as it was
    with pytest.raises(LsmEdgeError, match="expected 0"):
        finetune("unused", "unused", "activity", "conv", "unused", FinetuneConfig(hide_p=0.5))


def test_classical_baselines_probabilities():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 300, 26)).astype("float32")
    y = np.repeat([0, 1], 20)
    x[y == 1, :, 0] += 20  # separable by the mean of feature 0, beyond any doubt
    out = classical_baselines(x[::2], y[::2], x[1::2], 3)
    for p in out.values():
        assert p.shape == (20, 3) and (p[:, 2] == 0).all()  # an unseen class gets probability 0
    assert (out["random forest"].argmax(1) == y[1::2]).mean() == 1.0
    assert (out["logistic regression"].argmax(1) == y[1::2]).mean() >= 0.8


def test_convert_with_classify_signatures(teacher, tmp_path):
    """A conv probe shares the teacher's encoder in the file; a fully fine-tuned classifier brings its own.
    Both signatures match Keras and the runtime names the classes."""
    from ai_edge_litert.interpreter import Interpreter

    from lsm_edge.verbs import convert as conv
    from lsm_edge.data.dataset import Dataset
    from lsm_edge.runtime import ActivityClassifier, ExerciseDetector
    from lsm_edge.core.run import load_run
    from lsm_edge.core.inputs import model_inputs

    finetune(teacher / "t", teacher / "data", "activity", "conv", tmp_path / "act", FinetuneConfig(epochs=1))
    finetune(teacher / "t", teacher / "data", "exercise", "full", tmp_path / "ex",
             FinetuneConfig(full_epochs=1, pool="stats", xla=False, flip_p=0.5, hide_p=0.5))  # stats pooling converts too
    rec = json.loads((tmp_path / "ex" / "config.json").read_text())["finetune"]
    assert (rec["flip_p"], rec["hide_p"]) == (0.5, 0.5)  # the augmentation is recorded with the run
    plain = conv.convert(teacher / "t", tmp_path / "plain.tflite")
    meta = conv.convert(teacher / "t", tmp_path / "m.tflite", classifiers=[tmp_path / "act", tmp_path / "ex"])
    assert meta["signatures"] == ["impute", "forecast", "embed", "classify_exercise", "classify_activity"]
    assert meta["classifiers"]["activity"]["shares_encoder"] and not meta["classifiers"]["exercise"]["shares_encoder"]
    assert meta["classes"]["activity"][0] == "biking" and meta["classes"]["exercise"] == ["non_exercise", "exercise"]
    assert (tmp_path / "m.tflite").stat().st_size > (tmp_path / "plain.tflite").stat().st_size

    _, stats, _ = load_run(teacher / "t")
    w = Dataset(teacher / "data").load("test").values[:2]
    x = model_inputs(stats.normalize(w))
    it = Interpreter(model_path=str(tmp_path / "m.tflite"))
    for task in ("activity", "exercise"):
        keras_clf = keras.models.load_model(tmp_path / ("act" if task == "activity" else "ex") / "model.keras",
                                            safe_mode=True)
        for i in range(2):
            feed = {k: v[i:i + 1] for k, v in x.items()}
            got = it.get_signature_runner(f"classify_{task}")(values=w[i:i + 1])["probabilities"]
            assert abs(got.sum() - 1) < 1e-5
            assert np.abs(got - np.asarray(keras_clf.classify(feed["values"], feed["missing"]))).max() < 1e-4
    act, ex = ActivityClassifier(tmp_path / "m.tflite"), ExerciseDetector(tmp_path / "m.tflite")
    assert act.predict(w[0]) in act.classes and len(act.predict(w)) == 2
    assert ex.predict_proba(w).shape == (2, 2)
    with pytest.raises(LsmEdgeError, match="two classifiers for 'activity'"):
        conv.convert(teacher / "t", tmp_path / "x.tflite", classifiers=[tmp_path / "act", tmp_path / "act"])
    with pytest.raises(LsmEdgeError, match="is not a classifier run"):
        conv.convert(teacher / "t", tmp_path / "x.tflite", classifiers=[teacher / "data"])
    assert not (tmp_path / "x.tflite").exists()


def test_kd_loss_values():
    """(d): alpha * labels + (1 - alpha) * T^2 * KL(teacher_T || student_T), checked against numpy."""
    from lsm_edge.verbs.finetune import kd_loss

    rng = np.random.default_rng(0)
    s, t = rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(4, 3)).astype("float32")
    labels = np.array([0, 2, 1, 0])
    y = np.concatenate([labels[:, None], t], 1).astype("float32")
    ce = balanced_softmax_loss(np.zeros(3))
    T = 2.0

    def softmax(a):
        e = np.exp(a - a.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)

    pt, ps = softmax(t / T), softmax(s / T)
    kl = (pt * (np.log(pt) - np.log(ps))).sum(1)
    want_ce = -np.log(softmax(s)[np.arange(4), labels])
    for alpha in (0.0, 0.5, 1.0):
        got = np.asarray(kd_loss(ce, T, alpha, 3)(y, s))
        np.testing.assert_allclose(got, alpha * want_ce + (1 - alpha) * T ** 2 * kl, rtol=1e-4, atol=1e-5)
    assert np.asarray(kd_loss(ce, T, 0.0, 3)(np.concatenate([labels[:, None], s], 1).astype("float32"), s)).max() < 1e-5


def test_evaluate_discriminative_table(teacher, tmp_path):
    """The Table 3(b)/(c) run: every requested row on the same test windows, the classical rows equal
    to the baselines fitted directly, the pooling recorded, JSON and Markdown agreeing."""

    from lsm_edge.data.dataset import Dataset
    from lsm_edge.verbs.finetune import discriminative_markdown, evaluate_discriminative

    cfg = FinetuneConfig(epochs=1, full_epochs=1, pool="stats", xla=False)
    with pytest.raises(LsmEdgeError, match="unknown method 'mlp'; expected some of linear, conv, full, supervised"):
        evaluate_discriminative(teacher / "t", teacher / "data", "exercise", cfg, tmp_path / "ev",
                                few_shot_methods=("mlp",), progress=False)
    res = evaluate_discriminative(teacher / "t", teacher / "data", "exercise", cfg, tmp_path / "ev",
                                  shots_list=(5,), methods=("linear", "full"), few_shot_methods=("conv",),
                                  progress=False)  # few-shot "full" is the same path (small sets: heads test)
    assert res["pool"] == "stats" and res["epochs"] == {"probe": 1, "full": 1}
    assert list(res["full_data"]) == ["LSM linear probe", "LSM fine-tune", "random forest", "logistic regression"]
    assert list(res["few_shot"]["5-shot"]) == ["LSM conv probe", "random forest", "logistic regression"]
    ds = Dataset(teacher / "data")
    xtr, ytr = labelled(ds, "exercise", "train")
    xte, yte = labelled(ds, "exercise", "test")
    idx = subsample(ytr, None, cfg.max_train_windows, cfg.seed)
    rf = classical_baselines(xtr[idx], ytr[idx], xte, 2, cfg.seed)["random forest"]
    assert res["full_data"]["random forest"]["accuracy"] == metrics(yte, rf, 2)["accuracy"]
    for m in res["full_data"].values():
        assert m["n"] == len(yte) == res["test_windows"] and sum(map(sum, m["confusion"])) == m["n"]
    assert json.loads((tmp_path / "ev" / "exercise.json").read_text()) == json.loads(json.dumps(res))
    md = (tmp_path / "ev" / "exercise.md").read_text()
    assert md == discriminative_markdown(res) and "stats pooling" in md
    acc = 100 * res["full_data"]["LSM fine-tune"]["accuracy"]
    assert f"| LSM fine-tune | {acc:.1f} |" in md
    assert (tmp_path / "ev" / "exercise_confusion_random_forest.png").is_file()
    assert res["augment"] == {"flip_p": 0.0, "hide_p": 0.0} and "reversed in time" not in md

    # augmentation reaches the rows that train the whole ViT only: the probe row is unchanged
    aug = evaluate_discriminative(teacher / "t", teacher / "data", "exercise",
                                  dataclasses.replace(cfg, flip_p=1.0, hide_p=0.5), tmp_path / "aug",
                                  shots_list=(), methods=("linear",), progress=False)
    assert aug["augment"] == {"flip_p": 1.0, "hide_p": 0.5}
    assert aug["full_data"]["LSM linear probe"] == res["full_data"]["LSM linear probe"]
    assert "100% reversed in time, 50% with a span hidden" in (tmp_path / "aug" / "exercise.md").read_text()


def test_layer_decay_scales_each_blocks_step():
    """layer_scales gives block i of L decay^(L - i), patch_embed decay^(L + 1), the head 1; a full
    fine-tune with a tiny decay moves the head but leaves patch_embed (decay^(L+1) ~ 0) where it was."""
    from lsm_edge.verbs.finetune import fit_head, layer_scales

    mae = build_mae("nano")
    m = TaskModel(mae, "full", 3)
    s = layer_scales(m, 0.5)
    depth = len(mae.enc_blocks)
    for path, f in s.items():
        if "/enc_0/" in path:
            assert f == 0.5 ** depth
        elif f"/enc_{depth - 1}/" in path:
            assert f == 0.5
        elif "/patch_embed/" in path:
            assert f == 0.5 ** (depth + 1)
        else:  # enc_norm and the head
            assert f == 1.0, path
    assert set(layer_scales(m, 1.0).values()) == {1.0}
    with pytest.raises(LsmEdgeError, match=r"layer decay must be in \(0, 1\]; got 1.5"):
        layer_scales(m, 1.5)

    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(32, 300, 26)).astype("float32"), rng.integers(0, 3, 32)
    emb = mae.patch_embed.kernel.numpy().copy()
    top = mae.enc_blocks[-1].weights[2].numpy().copy()
    head = m.head.weights[0].numpy().copy()
    fit_head(m, z, y, FinetuneConfig(full_epochs=2, xla=False, weight_decay=0.0, layer_decay=1e-4))
    assert np.abs(mae.patch_embed.kernel.numpy() - emb).max() < 1e-9  # lr x 1e-4^(L+1): no move
    assert np.abs(mae.enc_blocks[-1].weights[2].numpy() - top).max() < 1e-6  # lr x 1e-4
    assert np.abs(m.head.weights[0].numpy() - head).max() > 1e-4  # the full lr
    m2 = TaskModel(build_mae("nano"), "full", 3)
    emb2 = m2.mae.patch_embed.kernel.numpy().copy()
    fit_head(m2, z, y, FinetuneConfig(full_epochs=2, xla=False, weight_decay=0.0))
    assert np.abs(m2.mae.patch_embed.kernel.numpy() - emb2).max() > 1e-4  # without decay it moves


def test_probe_epochs_start_full_fine_tuning_from_a_fitted_head():
    """LP-FT: with probe_epochs the head is fitted on the frozen encoder before the whole model trains.
    With a full-fine-tuning lr too small to move anything, only that first stage can teach the model:
    it then separates classes that differ in one feature's level; a random head does not."""
    from lsm_edge.verbs.finetune import fit_head
    from lsm_edge.core.tasks import predict_proba

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 32)
    z = rng.normal(0, 0.3, (96, 300, 26)).astype("float32")
    z[:, :, 0] += (y[:, None] - 1.0) * 2.0  # class = the level of heart rate
    cfg = dict(full_epochs=1, full_lr=1e-12, xla=False, dropout=0.0, batch_size=32)
    accs = {}
    for probe_epochs in (0, 40):
        keras.utils.set_random_seed(0)
        m = TaskModel(build_mae("nano"), "full", 3, dropout=0.0)
        enc = m.mae.patch_embed.kernel.numpy().copy()
        fit_head(m, z, y, FinetuneConfig(probe_epochs=probe_epochs, **cfg))
        assert np.abs(m.mae.patch_embed.kernel.numpy() - enc).max() < 1e-6  # the encoder stayed frozen in stage 1
        accs[probe_epochs] = float((predict_proba(m, z).argmax(1) == y).mean())
    assert accs[40] > 0.65 and accs[0] < 0.45, accs  # measured: 0.77 and 0.33 (chance)
    with pytest.raises(LsmEdgeError, match="trained from scratch has none"):
        fit_head(TaskModel(build_mae("nano"), "full", 3), z, y, FinetuneConfig(probe_epochs=1, **cfg), from_scratch=True)


def test_app_snippets_match_a_converted_file(teacher, tmp_path):
    """docs/on-device.md: every signature and tensor name its Kotlin and Swift snippets use exists in a file
    converted with a classifier, and they pass the raw window alone (no statistics, no mask)."""
    import re

    from ai_edge_litert.interpreter import Interpreter

    from lsm_edge.verbs import convert as conv

    finetune(teacher / "t", teacher / "data", "activity", "linear", tmp_path / "act", FinetuneConfig(epochs=1))
    conv.convert(teacher / "t", tmp_path / "m.tflite", classifiers=[tmp_path / "act"])
    sigs = Interpreter(model_path=str(tmp_path / "m.tflite")).get_signature_list()
    text = (Path(__file__).parents[1] / "docs" / "on-device.md").read_text()
    blocks = re.findall(r"```(kotlin|swift)\n(.*?)```", text, re.S)
    assert [lang for lang, _ in blocks] == ["kotlin", "swift"]
    for lang, code in blocks:
        bare = re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", code, flags=re.S))  # no comments: no statistics, no mask
        assert not re.search(r"\b(mean|std|missing|normali[sz]ation)\b", bare), lang
        if lang == "kotlin":
            calls = re.findall(r'runSignature\(mapOf\((.*?)\),\s*mapOf\((.*?)\),\s*"(\w+)"\)', code, re.S)
            used = [(s, re.findall(r'"(\w+)" to', i), re.findall(r'"(\w+)" to', o)) for i, o, s in calls]
        else:
            runners = dict(re.findall(r"let (\w+) = try interpreter\.signatureRunner\(with: \"(\w+)\"\)", code))
            used = [(runners[r], re.findall(r'"(\w+)": Data', i), re.findall(r'try %s\.output\(named: "(\w+)"\)' % r, code))
                    for r, i in re.findall(r"try (\w+)\.invoke\(with: \[(.*?)\]\)", code, re.S)]
        assert {s for s, _, _ in used} == ({"impute", "classify_activity"} if lang == "kotlin" else {"impute"}), lang
        for s, ins, outs in used:
            assert ins == ["values"] == sigs[s]["inputs"] and outs and set(outs) <= set(sigs[s]["outputs"]), (lang, s)
