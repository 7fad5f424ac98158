"""Distillation (``lsm-edge distill``): a small student taught by a pretrained teacher.

Student families (recipes: lsm_edge/recipes/distill/):
- ``vit``: the teacher's architecture, narrow and shallow (a named size such as ``pico``), same 180 tokens;
- ``conv``: built for CPU latency: 60 tokens of 5 minutes x 26 features mixed by dilated convolutions
  (models/conv.py);
- ``intconv``: the conv student built for full-integer files: ReLU, no LayerNorm / GELU / gate, a fixed
  per-feature input range (models/intconv.py).

Each step draws, per window, one of the evaluation tasks (80 % random patches, temporal
interpolation, extrapolation, sensor imputation over 5..150 minutes), runs the frozen teacher and
the student on the same masked input, and minimises

    w_teacher * L1(student - teacher)        on every hidden cell                       (a)
  + w_truth   * L1(student - truth)          on hidden cells that were observed          (b)
  + w_embed   * MSE(P(student tokens) - teacher tokens), both pooled to 30 ten-minute steps,
                P a learned linear projection (dropped after training)                   (c)

With ``use_teacher = false`` only (b) is used: the same student, data and steps without the teacher (the
ablation).  Classification heads for the student come from ``lsm-edge finetune`` on the student
run, optionally distilled from a fine-tuned teacher's logits (``--kd-from``): loss (d).

Run folder (like the teacher's, so evaluate / finetune / convert take it unchanged):
model.keras  stats.json  config.json  log.csv  manifest.json  checkpoint/ (while training).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import keras
import numpy as np
from keras import ops
from tqdm import tqdm

from ..core.inputs import TRAIN_TASKS, augment, model_inputs
from ..core.run import check_out, checkpoint, load_run, prefetch, read_config
from ..data import masks
from ..data.dataset import Dataset
from ..errors import LsmEdgeError
from ..io import atomic_path, atomic_write_text, sha256_file
from ..models.conv import ConvStudent
from ..models.intconv import IntStudent, feature_range, with_qat
from ..models.layers import unwrap_config
from ..models.mae import build_mae, count_params
from ..recipe import DistillConfig, TrainConfig

POOLED_STEPS = 30  # tokens of teacher and student are compared per 10-minute step


def build_student(cfg: DistillConfig, z_train: np.ndarray | None = None):
    """A fresh student of ``cfg``; the integer family fixes its per-feature input range on ``z_train``
    (normalised training windows)."""
    if cfg.family == "vit":
        return build_mae(cfg.size, loss="l1", fill_gate=True)
    if cfg.family == "intconv":
        if z_train is None:
            raise LsmEdgeError("the intconv student needs the training windows to fix its per-feature input range")
        offset, scale = feature_range(z_train, seed=cfg.seed)
        return IntStudent(cfg.dim, cfg.depth, cfg.kernel, cfg.step, loss="l1", offset=offset, scale=scale,
                          norm=cfg.norm, qat=cfg.qat)
    return ConvStudent(cfg.dim, cfg.depth, cfg.kernel, cfg.step, loss="l1", fill_gate=True)


def time_pool(tokens, grid, steps: int = POOLED_STEPS):
    """tokens [B, gt * gf, D] on a (gt, gf) grid -> [B, steps, D]: mean over the feature axis, then over
    consecutive time tokens (gt must be a multiple of ``steps``)."""
    gt, gf = grid
    d = ops.shape(tokens)[-1]
    x = ops.mean(ops.reshape(tokens, (-1, gt, gf, d)), axis=2)
    return ops.mean(ops.reshape(x, (-1, steps, gt // steps, d)), axis=2)


@keras.saving.register_keras_serializable("lsm_edge")
class Distiller(keras.Model):
    """The student plus the projection of loss (c); y carries the teacher's targets."""

    def __init__(self, student, teacher_dim: int, cfg: dict, **kw):
        super().__init__(**kw)
        self.student, self.teacher_dim, self.cfg = student, teacher_dim, dict(cfg)
        self.proj = keras.layers.Dense(teacher_dim, name="proj")
        self.proj.build((None, POOLED_STEPS, student.embed_dim))

    def call(self, inputs, training=False):
        rec, tokens = self.student.reconstruct(inputs["values"], inputs["missing"], training=training)
        return {"rec": rec, "emb": self.proj(time_pool(tokens, self.student.token_grid))}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        c = self.cfg

        def l1(a, b, w):
            return ops.sum(ops.abs(a - b) * w) / ops.maximum(ops.sum(w), 1.0)

        loss = c["w_truth"] * l1(y_pred["rec"], y["truth"], y["observed_hidden"])
        if c["use_teacher"]:
            loss = loss + c["w_teacher"] * l1(y_pred["rec"], y["teacher_rec"], y["hidden"])
            loss = loss + c["w_embed"] * ops.mean(ops.square(y_pred["emb"] - y["teacher_emb"]))
        return loss

    def get_config(self):
        return {**super().get_config(), "student": keras.saving.serialize_keras_object(self.student),
                "teacher_dim": self.teacher_dim, "cfg": self.cfg}

    @classmethod
    def from_config(cls, config):
        student, rest = unwrap_config(config, "student")
        return cls(student, **rest)


@keras.saving.register_keras_serializable("lsm_edge")
class TeacherTargets(keras.Model):
    """Frozen teacher -> {teacher_rec [B,300,26], teacher_emb [B,30,D]} (compiled once, run per batch)."""

    def __init__(self, teacher, **kw):
        super().__init__(**kw)
        self.teacher = teacher
        self.teacher.trainable = False

    def call(self, inputs):
        rec, tokens = self.teacher.reconstruct(inputs["values"], inputs["missing"])
        return {"teacher_rec": rec, "teacher_emb": time_pool(tokens, self.teacher.token_grid)}


def distill_batch(z: np.ndarray, rng, random_p: float, max_minutes: int = 150) -> tuple[dict, dict]:
    """z: [B, 300, 26] normalised windows -> student inputs and ground-truth targets under a mix of all
    evaluation tasks (random 80 % patches with probability ``random_p``, else interpolation /
    extrapolation / sensor over 5..``max_minutes`` minutes)."""
    B = len(z)
    hide = np.zeros(z.shape, bool)
    for i in range(B):
        if rng.random() < random_p:
            hide[i] = masks.make_mask("random", rng, 1)[0]
        else:
            task = TRAIN_TASKS[rng.integers(len(TRAIN_TASKS))]
            hide[i] = masks.make_mask(task, rng, 1, int(rng.integers(5, max_minutes + 1)))[0]
    observed = ~np.isnan(z)
    x = model_inputs(z, hide)
    y = {"truth": np.nan_to_num(z).astype(np.float32), "observed_hidden": (hide & observed).astype(np.float32),
         "hidden": hide.astype(np.float32)}
    return x, y


def _optimizer(cfg: DistillConfig):
    sched = keras.optimizers.schedules.CosineDecay(0.0, max(cfg.steps - cfg.warmup_steps, 1), alpha=0.0,
                                                   warmup_target=cfg.lr, warmup_steps=cfg.warmup_steps)
    return keras.optimizers.AdamW(sched, weight_decay=cfg.weight_decay, beta_1=0.9, beta_2=0.95,
                                  global_clipnorm=cfg.clipnorm)


def flops(model, batch: int = 1) -> int:
    """FLOPs of one inference-path forward pass (impute), counted by TensorFlow's profiler on the graph."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    spec = tf.TensorSpec([batch, 300, 26], tf.float32)
    fn = tf.function(lambda v, m: model.infer(v, m)).get_concrete_function(spec, spec)
    graph = convert_variables_to_constants_v2(fn).graph
    opts = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    opts["output"] = "none"
    return int(tf.compat.v1.profiler.profile(graph=graph, options=opts).total_float_ops)


ARCHITECTURE = {"vit": ("family", "size"), "conv": ("family", "dim", "depth", "kernel", "step"),
                "intconv": ("family", "dim", "depth", "kernel", "step", "norm")}


def student_init(init) -> tuple:
    """A finished student run -> (its model, its recipe as a dict); a clear error for anything else."""
    c = read_config(init)
    if c.get("kind") != "student" or not (Path(init) / "model.keras").is_file():
        raise LsmEdgeError(f"--init {init} is not a finished student run (expected model.keras and a config.json "
                           f"of kind 'student' from lsm-edge distill; found kind {c.get('kind')!r})")
    return load_run(init)[0], c["distill"]


def distill(teacher_run, data_dir, out_dir, cfg: DistillConfig, resume: bool = False, progress: bool = True,
            stop_after_segments: int | None = None, init=None, refit_stats: bool = False) -> Path:
    """Distil ``teacher_run`` into a student; returns the student's run folder.

    ``init``: a finished student run to continue from instead of fresh weights (adapting a student to a
    user's data beside its adapted teacher: ``train --init``'s counterpart); its architecture replaces
    the recipe's, the recipe's training options apply.  ``refit_stats``: normalise every feature this data
    observes by this data's own statistics instead of the init or teacher run's (a device whose units differ,
    e.g. milli-g where the init saw counts; a student trained on the masks alone, ``use_teacher=False``, on
    a corpus of its own)."""
    out = Path(out_dir)
    start = None
    if init is not None:
        start, init_cfg = student_init(init)
        cfg = replace(cfg, **{k: init_cfg[k] if k in init_cfg else getattr(start, k)
                              for k in ARCHITECTURE[init_cfg["family"]]})
        if cfg.family == "intconv":  # quantization-aware fine-tuning of a finished student: the recipe's choice
            start = with_qat(start, cfg.qat)
    ckpt, state_path = out / "checkpoint" / "ckpt.keras", out / "checkpoint" / "state.json"
    if check_out(out, resume, "a student", "distillation"):
        return out
    teacher, stats, tcfg = load_run(teacher_run)
    ds = Dataset(data_dir)
    train_w = ds.load("train")
    if len(train_w) == 0:
        raise LsmEdgeError(f"{data_dir} has no training windows")
    if init is not None or refit_stats:  # continuing: a feature the init run never observed gets this data's
        from ..data.stats import NormStats  # scale (``refit_stats``: every feature this data observes: its own)

        here = NormStats.fit([train_w.values])
        new = (here.count > 1) if refit_stats else (stats.count == 0) & (here.count > 0)
        stats.mean[new], stats.std[new], stats.count[new] = here.mean[new], here.std[new], here.count[new]
    z_train = stats.normalize(train_w.values)  # the teacher's statistics: student and teacher share inputs

    out.mkdir(parents=True, exist_ok=True)
    done = 0
    if resume:
        state = json.loads(state_path.read_text())
        if state["config"] != asdict(cfg):
            raise LsmEdgeError(f"cannot resume {out}: its config differs from this one")
        done = state["segments_done"]
        model = keras.models.load_model(ckpt, safe_mode=True)
        model.jit_compile = cfg.xla
    else:
        keras.utils.set_random_seed(cfg.seed)
        model = Distiller(start if start is not None else build_student(cfg, z_train), teacher.embed_dim, asdict(cfg))
        model.compile(optimizer=_optimizer(cfg), jit_compile=cfg.xla)
        stats.save(out / "stats.json")
        (out / "log.csv").unlink(missing_ok=True)
    targets = TeacherTargets(teacher)
    targets.compile(jit_compile=cfg.xla)
    student = model.student
    origin = {"init": {"run": str(init), "model_sha256": sha256_file(Path(init) / "model.keras")}} if init else {}
    atomic_write_text(out / "config.json", json.dumps({
        "kind": "student", "name": _name(cfg), "distill": asdict(cfg), **origin, "model": student.get_config(),
        "params": count_params(student), "flops": flops(student), "teacher": {
            "path": str(teacher_run), "name": tcfg.get("name", tcfg.get("train", {}).get("size")),
            "params": tcfg["params"], "flops": flops(teacher)}}, indent=1))

    n_segments = -(-cfg.steps // cfg.checkpoint_every)
    bar = tqdm(total=cfg.steps, initial=min(done * cfg.checkpoint_every, cfg.steps), desc="distilling",
               unit="step", disable=not progress)
    for seg in range(done, n_segments):
        steps = min(cfg.checkpoint_every, cfg.steps - seg * cfg.checkpoint_every)
        t0, losses = time.perf_counter(), []
        for x, y in prefetch(_batches(z_train, cfg, seg, steps)):
            if cfg.use_teacher:
                y.update({k: np.asarray(v) for k, v in targets.predict_on_batch(x).items()})
            else:  # the ablation never runs the teacher; the loss ignores these
                y.update(teacher_rec=y["truth"], teacher_emb=np.zeros((len(y["truth"]), POOLED_STEPS,
                                                                        teacher.embed_dim), np.float32))
            losses.append(float(model.train_on_batch(x, y)))
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.4f}")
        dt = time.perf_counter() - t0
        checkpoint(out, model, seg + 1, cfg, {"step": seg * cfg.checkpoint_every + steps,
                                              "loss": float(np.mean(losses)),
                                              "windows_per_s": steps * cfg.batch_size / dt, "seconds": dt})
        if stop_after_segments is not None and seg + 1 - done >= stop_after_segments:
            bar.close()
            return out
    bar.close()
    with atomic_path(out / "model.keras") as tmp:
        model.student.save(tmp)
    atomic_write_text(out / "manifest.json", json.dumps({
        "kind": "student", "teacher_run_sha256": {f: sha256_file(Path(teacher_run) / f) for f in ("model.keras",)},
        "data": {"path": str(ds.dir), "dataset_json_sha256": sha256_file(ds.dir / "dataset.json")},
        "files": {f: sha256_file(out / f) for f in ("model.keras", "stats.json", "config.json")}}, indent=1))
    return out


def continue_masked(data_dir, out, cfg: TrainConfig, init, resume: bool, progress: bool,
                    stop_after_segments: int | None, refit_stats: bool = False) -> Path:
    """``train --init`` for a masked autoencoder of the conv family (trained on the masks alone, such as
    pretrained/real_conv96x5): the same objective through ``distill --use-teacher false --init``, in the
    init run's normalisation (``refit_stats``: this data's own, for the features it observes); the recipe's
    steps, batch, learning rate, warm-up, checkpoint interval and seed apply."""
    d = DistillConfig(**read_config(init)["distill"])
    d = replace(d, steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, warmup_steps=cfg.warmup_steps,
                checkpoint_every=cfg.checkpoint_every, seed=cfg.seed, xla=cfg.xla, use_teacher=False)
    return distill(init, data_dir, out, d, resume=resume, progress=progress,
                   stop_after_segments=stop_after_segments, init=init, refit_stats=refit_stats)


def _batches(z, cfg: DistillConfig, seg: int, steps: int):
    aug = TrainConfig(feature_drop_p=cfg.feature_drop_p)  # the teacher's: flip, stretch, noise (+ dropped features)
    for i in range(steps):
        rng = np.random.default_rng([cfg.seed, seg, i])
        zb = augment(z[rng.integers(0, len(z), cfg.batch_size)], rng, aug)
        yield distill_batch(zb, rng, cfg.random_p)


def _name(cfg: DistillConfig) -> str:
    return f"vit-{cfg.size}" if cfg.family == "vit" else f"{cfg.family}-{cfg.dim}x{cfg.depth}"
