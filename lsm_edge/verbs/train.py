"""Pretraining (``lsm-edge train``): masked autoencoding with the LSM paper's recipe.

80 % random patch masking, MSE (or L1: ``loss``) on hidden cells that were observed, AdamW
(0.9, 0.95, weight decay 1e-4), linear warm-up then cosine decay to 0 (at ``decay_steps`` when a
run should stop part-way down a longer cosine), global gradient clipping
1.0, augmentations flip / stretch / noise.  Batch size and steps come from a recipe (lsm_edge/recipes/train/*.toml).
The reference recipe (train/micro.toml) uses L1 and the fill gate: each measured better on the
MAE-scored tasks than the paper's MSE and plain head (benchmarks/results/teacher/README.md).

Half the steps (``task_mask_p``) go through the inference path on evaluation-style masks
(``task_batch``): patch masking alone never trains the cells hidden inside visible tokens nor an
encoder that sees most tokens, and the model it gives lost to linear interpolation.

Training runs in segments of ``checkpoint_every`` steps (``train_on_batch``, XLA-compiled).  After each
segment the model with its optimizer state is saved atomically; ``--resume`` continues from the
last one.  Batch ``i`` of segment ``s`` is drawn from ``default_rng([seed, s, i])``, so a resumed
run sees exactly the batches an uninterrupted one would.

Run folder:  model.keras  config.json  stats.json  log.csv  tensorboard/  manifest.json
             checkpoint/ckpt.keras + checkpoint/state.json (while training)
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace
from pathlib import Path

import keras
import numpy as np
from tqdm import tqdm

from ..core import distributed
from ..core.inputs import augment, mae_batch, task_batch
from ..core.run import check_out, checkpoint, load_run, prefetch, read_config, run_kind, write_manifest
from ..data.dataset import Dataset
from ..data.sharding import batch_indices
from ..data.stats import NormStats
from ..errors import LsmEdgeError
from ..io import atomic_path, atomic_write_text, sha256_file
from ..models.conv import ConvStudent  # noqa: F401  (registers the student classes for loading)
from ..models.intconv import IntStudent  # noqa: F401
from ..models.mae import (  # also registers the model class for loading
    build_mae,
    count_params,
)
from ..recipe import TrainConfig  # noqa: F401  (re-exported: lsm_edge.train.TrainConfig)

# -- batches ---------------------------------------------------------------------------------------


# -- the run ---------------------------------------------------------------------------------------
def train(data_dir, out_dir, cfg: TrainConfig, resume: bool = False, progress: bool = True,
          stop_after_segments: int | None = None, stats_path=None, init=None, refit_stats: bool = False) -> Path:
    """Pretrain a teacher; returns the run folder.  ``stop_after_segments`` is for tests (simulated kill).

    ``cfg.devices`` / ``cfg.backend`` place the run (lsm_edge/core/distributed.py: the backend must already
    be the one Keras runs on); ``stats_path``: normalisation statistics computed beforehand
    (`lsm-edge data stats`), required when several processes each read only their share of the data.
    ``init``: a finished teacher run to continue from (adaptation to a user's data: same objective,
    its weights and size, a fresh optimizer; the statistics are recomputed on this data's training
    subjects and saved with the new run; features this data never observes keep the init run's).  A conv-family
    init run keeps its own statistics unless ``refit_stats`` (then as a teacher's are).
    """
    out = Path(out_dir)
    ckpt, state_path = out / "checkpoint" / "ckpt.keras", out / "checkpoint" / "state.json"
    if check_out(out, resume, "a trained model", "run"):
        return out  # finished already
    if keras.backend.backend() != cfg.backend:
        raise LsmEdgeError(f"the recipe asks for the {cfg.backend} backend but Keras runs on "
                           f"{keras.backend.backend()}; start with KERAS_BACKEND={cfg.backend} (the CLI does)")

    if init is not None:
        init_cfg = read_config(init)
        if run_kind(init_cfg) != "teacher" or "train" not in init_cfg:
            raise LsmEdgeError(f"--init {init} is not a finished teacher run (a teacher config.json, or a conv "
                               f"model trained on the masks alone); found kind {init_cfg.get('kind')!r}")
        cfg = replace(cfg, size=init_cfg["train"]["size"])
    topo = distributed.setup(cfg.devices, cfg.model_parallel)
    replicas = topo.devices // cfg.model_parallel
    batch = cfg.global_batch(replicas)
    if batch % replicas:
        raise LsmEdgeError(f"the global batch {batch} does not split over {replicas} data-parallel devices")
    local_batch = batch // topo.process_count  # this process's share of every step
    ds = Dataset(data_dir)
    train_w = ds.load("train", process=(topo.process_index, topo.process_count))
    if len(train_w) == 0:
        raise LsmEdgeError(f"{data_dir} has no training windows")
    if stats_path:
        stats = NormStats.load(stats_path)
    elif topo.process_count > 1:
        raise LsmEdgeError("with several processes each reads only its share of the data: compute the "
                           "statistics once with `lsm-edge data stats DATA --out stats.json` and pass --stats")
    else:
        stats = NormStats.fit([train_w.values])
    if init is not None:  # features the new data never observes keep the init run's scale
        base, unseen = NormStats.load(Path(init) / "stats.json"), stats.count == 0
        stats.mean[unseen], stats.std[unseen] = base.mean[unseen], base.std[unseen]
    z_train = stats.normalize(train_w.values)
    val = ds.load("val", process=(topo.process_index, topo.process_count))
    z_val = stats.normalize(val.values[: cfg.val_windows]) if len(val) else z_train[: cfg.val_windows]
    val_x, val_y = mae_batch(z_val, np.random.default_rng([cfg.seed, 99]), cfg.mask_ratio)

    keras.config.set_dtype_policy(cfg.precision)
    try:
        out.mkdir(parents=True, exist_ok=True)
        done_segments = 0
        xla = cfg.xla and topo.strategy is None  # one XLA cluster cannot reach tf.distribute's per-device variables
        if resume:
            state = json.loads(state_path.read_text())
            if _learning(state["config"]) != cfg.learning():
                raise LsmEdgeError(f"cannot resume {out}: its config differs from this one "
                                   f"({_diff(_learning(state['config']), cfg.learning())})")
            done_segments = state["segments_done"]
            with topo.scope():
                model = keras.models.load_model(ckpt, safe_mode=True)
                model.jit_compile = xla  # placement: a resumed run may turn it on or off
        else:
            keras.utils.set_random_seed(cfg.seed)
            with topo.scope():
                model = new_model(cfg, lr=cfg.scaled_lr(replicas), jit_compile=xla, init=init)
            if topo.is_chief:
                stats.save(out / "stats.json")
                origin = {"init": {"run": str(init), "model_sha256": sha256_file(Path(init) / "model.keras")}} if init else {}
                atomic_write_text(out / "config.json", json.dumps(
                    {"kind": "teacher", "name": cfg.size, "train": asdict(cfg), "model": asdict(model.cfg),
                     "params": count_params(model), "global_batch": batch, "lr": cfg.scaled_lr(replicas), **origin},
                    indent=1))
                (out / "log.csv").unlink(missing_ok=True)
        with topo.scope():
            model.optimizer.build(model.trainable_variables)  # outside the replicas' context (tf.distribute)

        n_segments = -(-cfg.steps // cfg.checkpoint_every)
        bar = tqdm(total=cfg.steps, initial=min(done_segments * cfg.checkpoint_every, cfg.steps),
                   desc="pretraining", unit="step", disable=not progress or not topo.is_chief)
        tb = _TensorBoard(out / "tensorboard") if topo.is_chief else None
        for seg in range(done_segments, n_segments):
            steps = min(cfg.checkpoint_every, cfg.steps - seg * cfg.checkpoint_every)
            t0, losses = time.perf_counter(), []
            for x, y in prefetch(segment_batches(z_train, cfg, seg, steps, local_batch, topo.process_index)):
                losses.append(distributed.train_on_batch(model, topo, x, y))
                bar.update(1)
                bar.set_postfix(loss=f"{losses[-1]:.4f}", win_s=f"{len(losses) * batch / (time.perf_counter() - t0):.0f}")
            dt = time.perf_counter() - t0
            val_loss = float(model.compute_loss(y=val_y, y_pred=model.predict(val_x, batch_size=64, verbose=0)))
            step = seg * cfg.checkpoint_every + steps
            row = {"step": step, "loss": float(np.mean(losses)), "val_loss": val_loss,
                   "lr": float(model.optimizer.learning_rate), "windows_per_s": steps * batch / dt, "seconds": dt,
                   "devices": topo.devices}
            if topo.is_chief:
                tb.write(step, row)
                checkpoint(out, model, seg + 1, cfg, row)
            if stop_after_segments is not None and seg + 1 - done_segments >= stop_after_segments:
                bar.close()
                return out
        bar.close()
        if cfg.ema:
            model.optimizer.finalize_variable_values(model.trainable_variables)  # weights <- their EMA
        if topo.is_chief:
            with atomic_path(out / "model.keras") as tmp:
                _float32_copy(model).save(tmp)
            write_manifest(out, ds)
        return out
    finally:
        keras.config.set_dtype_policy("float32")


def _learning(config: dict) -> dict:
    """The fields of a saved config that decide what a run learns (older runs lack the newer fields)."""
    return TrainConfig.from_dict({k: v for k, v in config.items() if k in TrainConfig.__dataclass_fields__}).learning()


def _float32_copy(model):
    """The trained model with float32 compute, whatever precision it trained in: what convert and
    evaluate load (a mixed-precision model would export bfloat16 / float16 math)."""
    if model.dtype_policy.name == "float32":
        return model
    with _policy("float32"):
        copy = model.__class__.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


class _policy:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.old = keras.config.dtype_policy()
        keras.config.set_dtype_policy(self.name)

    def __exit__(self, *exc):
        keras.config.set_dtype_policy(self.old)


def new_model(cfg: TrainConfig, lr: float | None = None, jit_compile: bool = True, init=None):
    """A fresh teacher of ``cfg.size`` (or the weights of the finished run ``init``), compiled for
    training with the recipe's optimizer (peak ``lr``).

    XLA on the CPU: measured 21-24 % faster steps for micro (Keras' "auto" leaves it off on CPU);
    off under tf.distribute, whose per-device variables one XLA cluster cannot reach."""
    if init is None:
        model = build_mae(cfg.size, mask_ratio=cfg.mask_ratio, loss=cfg.loss, fill_gate=cfg.fill_gate)
    else:
        model = load_run(init)[0]
        if not hasattr(model, "cfg"):
            raise LsmEdgeError(f"--init {init} is not a teacher run (a {type(model).__name__}); adapt the "
                               f"teacher, then distil its students again")
    model.compile(optimizer=_optimizer(cfg, cfg.lr if lr is None else lr), jit_compile=jit_compile)
    return model


def lr_schedule(cfg: TrainConfig, lr: float):
    """Linear warm-up to ``lr``, then cosine decay that reaches 0 at step ``decay_steps`` (``steps`` when 0)."""
    decay = max((cfg.decay_steps or cfg.steps) - cfg.warmup_steps, 1)
    return keras.optimizers.schedules.CosineDecay(0.0, decay, alpha=0.0, warmup_target=lr,
                                                  warmup_steps=cfg.warmup_steps)


def _optimizer(cfg: TrainConfig, lr: float):
    return keras.optimizers.AdamW(lr_schedule(cfg, lr), weight_decay=cfg.weight_decay, beta_1=cfg.beta_1,
                                  beta_2=cfg.beta_2, global_clipnorm=cfg.clipnorm, use_ema=cfg.ema > 0,
                                  ema_momentum=cfg.ema or 0.99)


def segment_batches(z, cfg: TrainConfig, seg: int, steps: int, batch: int | None = None, process_index: int = 0):
    """The ``steps`` batches (``batch`` windows of this process's share ``z``) of segment ``seg``;
    batch i depends only on (seed, process, seg, i)."""
    batch = batch or cfg.batch_size
    for i in range(steps):
        rng = np.random.default_rng([cfg.seed, seg, i] + ([process_index] if process_index else []))
        idx = batch_indices(len(z), batch, seg * cfg.checkpoint_every + i, cfg.seed, process_index, cfg.sampling, rng)
        zb = augment(z[idx], rng, cfg)
        yield task_batch(zb, rng) if rng.random() < cfg.task_mask_p else mae_batch(zb, rng, cfg.mask_ratio)


class _TensorBoard:
    """Scalars per checkpoint segment, for `tensorboard --logdir RUN/tensorboard`."""

    def __init__(self, path: Path):
        import tensorflow as tf

        self.tf, self.writer = tf, tf.summary.create_file_writer(str(path))

    def write(self, step: int, row: dict):
        with self.writer.as_default():
            for k, v in row.items():
                if k != "step":
                    self.tf.summary.scalar(k, v, step=step)
        self.writer.flush()


def _diff(a: dict, b: dict) -> str:
    return ", ".join(f"{k}: {a.get(k)} -> {b.get(k)}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))
