"""Discriminative tasks (``lsm-edge finetune``): exercise detection and 8-class activity recognition.

Heads on the teacher's encoder (models/heads.py): a linear probe and a conv probe on frozen
embeddings (computed once, then only the head trains), and full fine-tuning of the encoder with
a linear head.  Baselines: the same encoder trained from scratch (supervised), and a random forest
and a logistic regression on per-window summary statistics.  Loss: balanced softmax; AdamW with
warm-up and cosine decay; dropout 0.3 (the paper's Tables 16-17).

A classifier run folder: model.keras (a TaskModel: encoder + head, ``classify(values, missing)``),
stats.json, config.json, metrics.json, confusion.png, manifest.json.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, replace
from pathlib import Path

import keras
import numpy as np
from keras import ops
from tqdm import tqdm

from ..core.inputs import flip_time, model_inputs, task_masks
from ..core.run import load_run
from ..core.tasks import (TASKS, TaskModel, _batched, classical_baselines, embed_features, labelled, metrics,
                          plot_confusion, predict_proba, subsample)
from ..data.dataset import Dataset
from ..data.stats import NormStats
from ..errors import LsmEdgeError
from ..io import atomic_path, atomic_write_text, sha256_file
from ..models.heads import balanced_softmax_loss
from ..recipe import FinetuneConfig  # noqa: F401  (also lsm_edge.verbs.finetune.FinetuneConfig)


def fresh_copy(model):
    """The same architecture (teacher or student) with freshly initialised weights."""
    return type(model).from_config(model.get_config())


def _schedule(cfg_lr, steps, warmup_frac):
    warm = max(1, int(warmup_frac * steps))
    return keras.optimizers.schedules.CosineDecay(0.0, max(steps - warm, 1), alpha=0.0, warmup_target=cfg_lr,
                                                  warmup_steps=warm)


_BLOCK = re.compile(r"(?:^|/)enc_(\d+)/")


def layer_scales(model, decay: float) -> dict:
    """Layer-wise learning-rate decay (BEiT; MAE's fine-tuning recipe): variable path -> lr factor.

    Of a ViT encoder with L blocks ``enc_0 .. enc_{L-1}``: the head and ``enc_norm`` get 1, block i
    gets ``decay ** (L - i)``, ``patch_embed`` (and anything below the blocks) ``decay ** (L + 1)``.
    Every other variable (a model without ``enc_i`` blocks, e.g. a conv student) gets 1."""
    if not 0 < decay <= 1:
        raise LsmEdgeError(f"layer decay must be in (0, 1]; got {decay}")
    paths = [v.path for v in model.trainable_variables]
    blocks = {int(m.group(1)) for p in paths if (m := _BLOCK.search(p))}
    if decay == 1 or not blocks:
        return {p: 1.0 for p in paths}
    depth = max(blocks) + 1
    scales = {}
    for p in paths:
        m = _BLOCK.search(p)
        scales[p] = (decay ** (depth - int(m.group(1))) if m
                     else decay ** (depth + 1) if "/patch_embed/" in p or p.endswith("mask_token") else 1.0)
    return scales


class LayerDecayAdamW(keras.optimizers.AdamW):
    """AdamW whose step (and weight decay) for each variable is the schedule's lr x ``lr_scales[path]``."""

    def __init__(self, *args, lr_scales: dict | None = None, **kw):
        super().__init__(*args, **kw)
        self.lr_scales = dict(lr_scales or {})

    def build(self, variables):
        super().build(variables)
        # the backend hands update_step its own variable objects (a tf.Variable has no .path): go by index
        self._factors = [self.lr_scales.get(v.path, 1.0) for v in variables]

    def _factor(self, variable):
        return self._factors[self._get_variable_index(variable)]

    def update_step(self, gradient, variable, learning_rate):
        super().update_step(gradient, variable, learning_rate * self._factor(variable))

    def _apply_weight_decay(self, variables):
        if self.weight_decay is None:
            return
        for v in variables:
            if self._use_weight_decay(v):
                lr = ops.cast(self.learning_rate, v.dtype) * self._factor(v)
                v.assign(v - v * ops.cast(self.weight_decay, v.dtype) * lr)

    def get_config(self):
        return {**super().get_config(), "lr_scales": self.lr_scales}


def _log_prior(y, n):
    counts = np.bincount(y, minlength=n).astype(np.float64) + 1.0
    return np.log(counts / counts.sum())


def fit_head(model: TaskModel, z_train, y_train, cfg: FinetuneConfig, progress: bool = False,
             teacher_logits: np.ndarray | None = None, from_scratch: bool = False) -> TaskModel:
    """Frozen probes: embed once, train the head on the embeddings.  Full: train the encoder too.

    teacher_logits [N, n_classes] (a fine-tuned teacher's, on the same windows): the loss becomes
    kd_alpha * balanced softmax on the labels + (1 - kd_alpha) * T^2 * KL(teacher_T || student_T).
    """
    n = model.n_classes
    loss = balanced_softmax_loss(_log_prior(y_train, n))
    if teacher_logits is not None:
        loss = kd_loss(loss, cfg.kd_temperature, cfg.kd_alpha, n)
        y_train = np.concatenate([y_train[:, None].astype(np.float32), teacher_logits.astype(np.float32)], 1)
    rng = np.random.default_rng(cfg.seed)
    if model.head_kind == "full":
        if cfg.probe_epochs:
            if from_scratch:
                raise LsmEdgeError("probe_epochs fits the head on a pretrained encoder's features; a model "
                                   "trained from scratch has none (use probe_epochs=0)")
            _fit_probe(model, z_train, y_train, loss, cfg, cfg.probe_epochs)
        bs = min(cfg.batch_size, len(z_train))  # few-shot sets can be smaller than one batch
        per_pass = len(z_train) // bs
        steps = cfg.full_epochs * _epoch_steps(cfg, per_pass)
        model.compile(optimizer=LayerDecayAdamW(_schedule(cfg.full_lr, steps, cfg.warmup_frac),
                                                weight_decay=cfg.weight_decay, beta_1=0.9, beta_2=0.95,
                                                global_clipnorm=1.0, lr_scales=layer_scales(model, cfg.layer_decay)),
                      loss=loss, jit_compile=cfg.xla)
        bar = tqdm(total=steps, desc="fine-tuning", unit="step", disable=not progress, leave=False)
        done = 0
        for _ in range(-(-steps // per_pass)):  # = full_epochs passes unless epoch_windows is set
            order = rng.permutation(len(z_train))
            for i in range(0, min(len(order) - bs + 1, (steps - done) * bs), bs):
                b = order[i:i + bs]
                bar.set_postfix(loss=f"{float(model.train_on_batch(augment_batch(z_train[b], rng, cfg), y_train[b])):.3f}")
                bar.update(1)
                done += 1
        bar.close()
        return model
    _fit_probe(model, z_train, y_train, loss, cfg, cfg.epochs)
    return model


def _epoch_steps(cfg: FinetuneConfig, per_pass: int) -> int:
    """Optimizer steps one epoch is worth: a pass over the training set (``per_pass`` batches), or over
    ``cfg.epoch_windows`` windows where that is set (few-shot heads get the full-data step count)."""
    return max(1, cfg.epoch_windows // cfg.batch_size) if cfg.epoch_windows else per_pass


HIDE_MINUTES = (5, 60)  # span of ``hide_p``: short enough that the window keeps the bout that labels it


def augment_batch(z: np.ndarray, rng, cfg: FinetuneConfig) -> dict:
    """Model inputs of one fine-tuning batch.  z: [B, 300, 26] normalised, NaN = missing.

    Gaussian noise (``noise_std``) on every window; with probability ``flip_p`` a window is reversed in
    time; with probability ``hide_p`` one span of 5-60 minutes (temporal interpolation, extrapolation or
    67 % of the sensors, as pretraining hides them: train.TRAIN_TASKS) is hidden, and the model sees it
    as missing.  With both at 0 the random stream is the one plain noise draws (earlier runs reproduce).
    """
    z = z + rng.normal(0, cfg.noise_std, z.shape).astype(np.float32)
    if cfg.flip_p:
        z = flip_time(z, rng, cfg.flip_p)
    hide = None
    if cfg.hide_p:
        hide = np.zeros(z.shape, bool)
        some = rng.random(len(z)) < cfg.hide_p
        hide[some] = task_masks(int(some.sum()), rng, *HIDE_MINUTES)
    return model_inputs(z, hide)


def _fit_probe(model: TaskModel, z_train, y_train, loss, cfg: FinetuneConfig, epochs: int) -> None:
    """Train ``model.head`` alone on the frozen encoder's features (embedded once), at ``cfg.lr``.

    The probes' training, and the first stage of LP-FT (Kumar et al. 2022, "Fine-Tuning can Distort
    Pretrained Features"): full fine-tuning that starts from a fitted head instead of a random one,
    so the first updates of the encoder follow a head that already reads its features."""
    feats = embed_features(model, z_train)
    probe = keras.Sequential([keras.Input(feats.shape[1:]), model.head])
    steps = epochs * _epoch_steps(cfg, max(1, len(feats) // cfg.batch_size))
    if cfg.epoch_windows:  # Keras counts a pass as ceil(n / batch) steps
        epochs = -(-steps // -(-len(feats) // cfg.batch_size))
    probe.compile(optimizer=keras.optimizers.AdamW(_schedule(cfg.lr, steps, cfg.warmup_frac),
                                                   weight_decay=cfg.weight_decay, beta_1=0.9, beta_2=0.95),
                  loss=loss)
    probe.fit(feats, y_train, batch_size=cfg.batch_size, epochs=epochs, verbose=0, shuffle=True)


def kd_loss(label_loss, temperature: float, alpha: float, n: int):
    """y_true = [label, teacher logits...] -> alpha * label_loss + (1 - alpha) * T^2 * KL on softened logits."""
    def loss(y_true, logits):
        labels, t_logits = y_true[:, 0], y_true[:, 1:1 + n]
        p_t = ops.softmax(t_logits / temperature, axis=-1)
        log_p_s = ops.log_softmax(logits / temperature, axis=-1)
        kl = ops.sum(p_t * (ops.log(ops.maximum(p_t, 1e-8)) - log_p_s), axis=-1)
        return alpha * label_loss(labels, logits) + (1.0 - alpha) * temperature ** 2 * kl

    return loss


def teacher_logits(classifier_run, z: np.ndarray, batch: int = 64) -> np.ndarray:
    """Logits of a fine-tuned teacher (``lsm-edge finetune`` run folder) on normalised windows z."""
    clf = keras.models.load_model(Path(classifier_run) / "model.keras", safe_mode=True, compile=False)
    if not isinstance(clf, TaskModel):
        raise LsmEdgeError(f"{classifier_run}/model.keras is not a classifier (got {type(clf).__name__})")
    return _batched(lambda v, m: clf({"values": v, "missing": m}), z, batch)


# -- metrics and baselines ---------------------------------------------------------------------------


# -- the command -------------------------------------------------------------------------------------
def finetune(teacher_run, data_dir, task: str, head: str, out_dir, cfg: FinetuneConfig,
             from_scratch: bool = False, progress: bool = True, kd_from=None) -> dict:
    """Train one head; write a classifier run folder; return its test metrics.

    ``teacher_run`` is any pretrained run (a teacher, or a student from ``lsm-edge distill``);
    ``kd_from``: a classifier run of the same task whose logits are distilled into this one."""
    out = Path(out_dir)
    if (out / "model.keras").exists():
        raise LsmEdgeError(f"{out} already holds a classifier; choose another --out")
    if head != "full" and (cfg.flip_p or cfg.hide_p):
        raise LsmEdgeError(f"flip_p / hide_p augment full fine-tuning; a {head} probe trains on embeddings computed "
                           f"once (got flip_p={cfg.flip_p}, hide_p={cfg.hide_p} with head {head!r}, expected 0)")
    mae, stats, tcfg = load_run(teacher_run)
    if from_scratch:  # the supervised baseline: same architecture, fresh weights
        keras.utils.set_random_seed(cfg.seed)
        mae = fresh_copy(mae)
    ds = Dataset(data_dir)
    xtr, ytr = labelled(ds, task, "train")
    xte, yte = labelled(ds, task, "test")
    if len(np.unique(ytr)) < 2 or len(yte) == 0:
        raise LsmEdgeError(f"{data_dir} lacks labelled {task} windows in train or test")
    idx = subsample(ytr, cfg.shots, cfg.max_train_windows, cfg.seed)
    if cfg.shots and cfg.epoch_windows is None:  # as many steps as on the full training set
        cfg = replace(cfg, epoch_windows=len(subsample(ytr, None, cfg.max_train_windows, cfg.seed)))
    n = len(TASKS[task])
    keras.utils.set_random_seed(cfg.seed)
    model = TaskModel(mae, head, n, cfg.dropout, cfg.pool)
    kd = None
    if kd_from is not None:
        kcfg = json.loads((Path(kd_from) / "config.json").read_text()) if (Path(kd_from) / "config.json").is_file() else {}
        if kcfg.get("task") != task:
            raise LsmEdgeError(f"--kd-from {kd_from} is not a {task} classifier run (its task: {kcfg.get('task')})")
        kstats = NormStats.load(Path(kd_from) / "stats.json")
        kd = teacher_logits(kd_from, kstats.normalize(xtr[idx]))
    fit_head(model, stats.normalize(xtr[idx]), ytr[idx], cfg, progress=progress, teacher_logits=kd,
             from_scratch=from_scratch)
    m = metrics(yte, predict_proba(model, stats.normalize(xte)), n)
    xva, yva = labelled(ds, task, "val")
    if len(yva):  # where heads, pooling or epochs are chosen: never on the test subjects
        v = metrics(yva, predict_proba(model, stats.normalize(xva)), n)
        m["val"] = {"accuracy": v["accuracy"], "mAP": v["mAP"], "n": v["n"]}
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "model.keras") as tmp:
        # an uncompiled copy: the training loss is a closure over class priors that no file should carry
        clean = TaskModel.from_config(model.get_config())
        clean.set_weights(model.get_weights())
        clean.save(tmp)
    stats.save(out / "stats.json")
    name = ("supervised " if from_scratch else "") + head
    atomic_write_text(out / "config.json", json.dumps({"task": task, "head": head, "from_scratch": from_scratch,
                                                       "classes": list(TASKS[task]), "finetune": asdict(cfg),
                                                       "teacher": str(teacher_run), "train_windows": len(idx),
                                                       "kd_from": str(kd_from) if kd_from else None},
                                                      indent=1))
    atomic_write_text(out / "metrics.json", json.dumps(m, indent=1))
    plot_confusion(m["confusion"], list(TASKS[task]), out / "confusion.png", f"{task}: {name}")
    atomic_write_text(out / "manifest.json", json.dumps({
        "kind": "classifier", "teacher": str(teacher_run),
        "files": {f: sha256_file(out / f) for f in ("model.keras", "stats.json", "config.json")}}, indent=1))
    return m


NEURAL_ROWS = {"linear": "LSM linear probe", "conv": "LSM conv probe", "full": "LSM fine-tune",
               "supervised": "supervised ViT"}


def evaluate_discriminative(teacher_run, data_dir, task: str, cfg: FinetuneConfig, out_dir,
                            shots_list=(5, 10, 15, 20), methods=("linear", "conv", "full", "supervised"),
                            few_shot_methods=("linear", "conv"), progress: bool = True) -> dict:
    """Every method on the same held-out subjects -> {"full_data": {method: metrics}, "few_shot": ...}.

    ``methods`` / ``few_shot_methods``: the neural rows of the full-data / few-shot tables (any of
    linear, conv, full, supervised); the random forest and logistic regression are in both.
    ``cfg.flip_p`` / ``cfg.hide_p`` augment the rows that train the whole ViT (full, supervised), so the two
    stay comparable; the probes train on embeddings computed once and are not augmented."""
    for m in (*methods, *few_shot_methods):
        if m not in NEURAL_ROWS:
            raise LsmEdgeError(f"unknown method {m!r}; expected some of {', '.join(NEURAL_ROWS)}")

    out = Path(out_dir)
    mae, stats, tcfg = load_run(teacher_run)
    ds = Dataset(data_dir)
    xtr, ytr = labelled(ds, task, "train")
    xte, yte = labelled(ds, task, "test")
    n = len(TASKS[task])
    zte = stats.normalize(xte)
    res: dict = {"task": task, "classes": list(TASKS[task]), "test_windows": int(len(yte)),
                 "test_subjects": int(len(set(ds.load("test").subject))), "full_data": {}, "few_shot": {}}

    def neural(head, idx, scratch=False, c=cfg):
        keras.utils.set_random_seed(c.seed)
        enc = fresh_copy(mae) if scratch else keras.models.clone_model(mae)
        if not scratch:
            enc.set_weights(mae.get_weights())
        model = TaskModel(enc, head, n, c.dropout, c.pool if head != "conv" else "mean")
        fit_head(model, stats.normalize(xtr[idx]), ytr[idx], c, progress=progress)
        return predict_proba(model, zte)

    idx = subsample(ytr, None, cfg.max_train_windows, cfg.seed)
    res["train_windows"] = int(len(idx))
    res["epochs"] = {"probe": cfg.epochs, "full": cfg.full_epochs}
    res["pool"] = cfg.pool
    res["augment"] = {"flip_p": cfg.flip_p, "hide_p": cfg.hide_p}  # of the rows that train the whole ViT
    jobs = [(m, None) for m in methods] + [("classical", None)]
    for s in shots_list:
        jobs += [(m, s) for m in few_shot_methods] + [("classical", s)]
    for method, shots in tqdm(jobs, desc=f"{task} methods", disable=not progress):
        sel = idx if shots is None else subsample(ytr, shots, cfg.max_train_windows, cfg.seed)
        c = cfg if shots is None else replace(cfg, epoch_windows=len(idx))  # the full-data rows' step count
        key = "full_data" if shots is None else f"{shots}-shot"
        bucket = res["full_data"] if shots is None else res["few_shot"].setdefault(key, {})
        if method == "classical":
            for name, p in classical_baselines(xtr[sel], ytr[sel], xte, n, cfg.seed).items():
                bucket[name] = metrics(yte, p, n)
        elif method == "supervised":
            bucket[NEURAL_ROWS[method]] = metrics(yte, neural("full", sel, scratch=True, c=c), n)
        else:
            bucket[NEURAL_ROWS[method]] = metrics(yte, neural(method, sel, c=c), n)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / f"{task}.json", json.dumps(res, indent=1))
    best = max(res["full_data"], key=lambda k: res["full_data"][k]["accuracy"])
    for name, m in res["full_data"].items():
        if name in ("LSM fine-tune", "random forest") or name == best:
            plot_confusion(m["confusion"], list(TASKS[task]), out / f"{task}_confusion_{name.replace(' ', '_')}.png",
                           f"{task}: {name}")
    atomic_write_text(out / f"{task}.md", discriminative_markdown(res))
    return res


def discriminative_markdown(res: dict) -> str:
    lines = [f"## {res['task']} ({len(res['classes'])} classes): accuracy / mAP (%) on {res['test_windows']} "
             f"held-out windows of {res['test_subjects']} test subjects; {res['train_windows']} training windows"
             + (f"; {res['epochs']['probe']} probe / {res['epochs']['full']} fine-tune epochs" if "epochs" in res else "")
             + (f"; {res['pool']} pooling (linear probe, fine-tune, supervised)" if "pool" in res else "")
             + ("; fine-tune and supervised trained with {} reversed in time, {} with a span hidden".format(
                 f"{res['augment']['flip_p']:.0%}", f"{res['augment']['hide_p']:.0%}")
                if any(res.get("augment", {}).values()) else ""),
             "",
             "| method | accuracy | mAP |", "|---|---|---|"]
    for name, m in res["full_data"].items():
        lines.append(f"| {name} | {100 * m['accuracy']:.1f} | {100 * m['mAP']:.1f} |")
    if res["few_shot"]:
        shots = list(res["few_shot"])
        names = list(res["few_shot"][shots[0]])
        lines += ["", "Few-shot (labelled windows per class): accuracy / mAP (%)", "",
                  "| method | " + " | ".join(shots) + " |", "|---|" + "---|" * len(shots)]
        for name in names:
            cells = [f"{100 * res['few_shot'][s][name]['accuracy']:.1f} / {100 * res['few_shot'][s][name]['mAP']:.1f}"
                     for s in shots]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
