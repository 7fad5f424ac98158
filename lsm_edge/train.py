"""Pretraining (``lsm-edge train``): masked autoencoding with the LSM paper's recipe.

80 % random patch masking, MSE (or L1: ``loss``) on hidden cells that were observed, AdamW
(0.9, 0.95, weight decay 1e-4), linear warm-up then cosine decay to 0 (at ``decay_steps`` when a
run should stop part-way down a longer cosine), global gradient clipping
1.0, augmentations flip / stretch / noise.  Batch size and steps come from a recipe (train/*.toml).
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
import queue
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path

import keras
import numpy as np
from tqdm import tqdm

from .data import masks
from . import distributed, schema
from .data.dataset import Dataset
from .data.sharding import batch_indices
from .data.stats import NormStats
from .data.windows import fill_linear
from .errors import LsmEdgeError
from .io import atomic_path, atomic_write_text, sha256_file
from .models.conv import ConvStudent  # noqa: F401  (registers the student classes for loading)
from .models.intconv import IntStudent  # noqa: F401
from .models.mae import build_mae, count_params  # also registers the model class for loading
from .recipe import TrainConfig  # noqa: F401  (re-exported: lsm_edge.train.TrainConfig)

# -- batches ---------------------------------------------------------------------------------------
def augment(z: np.ndarray, rng, cfg: TrainConfig) -> np.ndarray:
    """Flip (time axis), stretch (time axis, then crop back to 300), Gaussian noise, and (with
    ``feature_drop_p``) features dropped for the whole window.  z: [B, 300, 26]."""
    if cfg.feature_drop_p > 0:
        z = drop_features(z, rng, cfg.feature_drop_p)
    B, T, _ = z.shape
    z = flip_time(z, rng, cfg.flip_p)
    if cfg.stretch_max > 1:
        f = rng.uniform(1.0, cfg.stretch_max, B)
        off = rng.uniform(0, 1, B) * (T * f - T)
        src = np.floor((np.arange(T)[None, :] + off[:, None]) / f[:, None]).astype(int).clip(0, T - 1)
        z = np.take_along_axis(z, src[:, :, None], axis=1)
    return (z + rng.normal(0, cfg.noise_std, z.shape)).astype(np.float32)


def flip_time(z: np.ndarray, rng, p: float) -> np.ndarray:
    """Each window of z [B, 300, 26] reversed in time with probability ``p`` (one draw per window)."""
    flip = rng.random(len(z)) < p
    return np.where(flip[:, None, None], z[:, ::-1], z)


def drop_features(z: np.ndarray, rng, p: float) -> np.ndarray:
    """A device that lacks sensors (ARCHITECTURE.md: it supplies those features as all-missing).  Each
    window, with probability ``p``, keeps k of the features it observes (k uniform in 1 .. their number
    - 1, which k at random) and loses the others for all 300 minutes.  z: [B, 300, 26], NaN = missing.

    Without it the simulator never shows a window whose heart rate comes without the PPG-derived and
    motion features, and a teacher trained on it fills a heart-rate-only gap (a Fitbit export) from its
    resting prior: 2.4x linear interpolation's error at 60 minutes on simulated windows
    (benchmarks/results/teacher/feature_drop/)."""
    drop = rng.random(len(z)) < p
    if not drop.any():
        return z
    z = z.copy()
    for i in np.flatnonzero(drop):
        have = np.flatnonzero(~np.isnan(z[i]).all(0))
        if len(have) < 2:
            continue
        lose = rng.permutation(have)[rng.integers(1, len(have)):]
        z[i, :, lose] = np.nan
    return z


def mae_batch(z: np.ndarray, rng, mask_ratio: float) -> tuple[dict, dict]:
    """z: [B, 300, 26] normalised, NaN = missing -> (model inputs, loss targets) for the training path.

    Tokens with no observed cell are masked first (nothing to show the encoder); the visible
    tokens are the ``n_keep`` with the lowest noise.
    """
    B = len(z)
    missing0 = np.isnan(z)
    grid_missing = masks.grid_missing(missing0)  # [B, 30, 6] token has no observed cell
    noise = rng.random((B, masks.GRID[0] * masks.GRID[1])) + grid_missing.reshape(B, -1)
    n_keep = noise.shape[1] - int(round(mask_ratio * noise.shape[1]))
    rank = np.argsort(np.argsort(noise, axis=1), axis=1)
    hidden = rank >= n_keep
    hide = masks.grid_to_cells(hidden.reshape(B, *masks.GRID))
    missing_in = missing0 | hide
    x = {"values": fill_linear(np.where(missing_in, np.nan, z)), "missing": missing_in.astype(np.float32),
         "noise": (noise + 2.0 * hidden).astype(np.float32)}
    y = {"target": np.nan_to_num(z).astype(np.float32), "weight": (hide & ~missing0).astype(np.float32)}
    return x, y


TRAIN_TASKS = ("interpolation", "extrapolation", "sensor")


def task_batch(z: np.ndarray, rng, max_minutes: int = 150, min_minutes: int = 5) -> tuple[dict, dict]:
    """z: [B, 300, 26] -> inference-path inputs and targets under evaluation-style masks.

    Each window gets one task (temporal interpolation, extrapolation, or sensor imputation over a
    random span of ``min_minutes``..``max_minutes`` minutes, not aligned to patches).  Unlike patch masking, these
    hide cells inside tokens that stay visible, and leave most tokens visible: exactly what the
    model faces when it imputes; with patch masking alone it never learns either (measured:
    worse than linear interpolation on every task, see benchmarks/results/teacher/README.md).
    """
    return hidden_batch(z, task_masks(len(z), rng, min_minutes, max_minutes))


def task_masks(n: int, rng, min_minutes: int, max_minutes: int) -> np.ndarray:
    """-> hide [n, 300, 26] bool: per window one of TRAIN_TASKS over a span of min..max minutes."""
    hide = np.zeros((n, schema.WINDOW_MINUTES, schema.N_FEATURES), bool)
    tasks = rng.integers(0, len(TRAIN_TASKS), n)
    minutes = rng.integers(min_minutes, max_minutes + 1, n)
    for i in range(n):
        hide[i] = masks.make_mask(TRAIN_TASKS[tasks[i]], rng, 1, int(minutes[i]))[0]
    return hide


def hidden_batch(z: np.ndarray, hide: np.ndarray) -> tuple[dict, dict]:
    """z: [B, 300, 26], hide: [B, 300, 26] bool -> inference-path inputs with ``hide`` masked, and the
    targets: every cell of z, weighted 1 where it was hidden and observed."""
    y = {"target": np.nan_to_num(z).astype(np.float32), "weight": (hide & ~np.isnan(z)).astype(np.float32)}
    return model_inputs(z, hide), y


def model_inputs(z: np.ndarray, hide: np.ndarray | None = None) -> dict:
    """Inference-path inputs from normalised windows (NaN = missing) and an optional hide mask:
    missing cells linearly filled along time (from visible cells only) and flagged.  The encoder
    never sees the fill (the model zeroes missing cells); the fill gate blends it into the output
    (models/mae.py), and it is the exported graph's input contract (the runtime computes it)."""
    missing = np.isnan(z) if hide is None else np.isnan(z) | hide
    return {"values": fill_linear(np.where(missing, np.nan, z)), "missing": missing.astype(np.float32)}


# -- the run ---------------------------------------------------------------------------------------
def continue_masked_student(data_dir, out, cfg: TrainConfig, init, init_cfg: dict, resume: bool, progress: bool,
                            stop_after_segments: int | None, refit_stats: bool = False) -> Path:
    """``train --init`` for a masked autoencoder of the conv family (trained on the masks alone, such as
    pretrained/real_conv96x5): the same objective through ``distill --use-teacher false --init``, in the
    init run's normalisation (``refit_stats``: this data's own, for the features it observes); the recipe's
    steps, batch, learning rate, warm-up, checkpoint interval and seed apply."""
    from .distill import distill
    from .recipe import DistillConfig

    d = DistillConfig(**init_cfg["distill"])
    d = replace(d, steps=cfg.steps, batch_size=cfg.batch_size, lr=cfg.lr, warmup_steps=cfg.warmup_steps,
                checkpoint_every=cfg.checkpoint_every, seed=cfg.seed, xla=cfg.xla, use_teacher=False)
    return distill(init, data_dir, out, d, resume=resume, progress=progress,
                   stop_after_segments=stop_after_segments, init=init, refit_stats=refit_stats)


def train(data_dir, out_dir, cfg: TrainConfig, resume: bool = False, progress: bool = True,
          stop_after_segments: int | None = None, stats_path=None, init=None, refit_stats: bool = False) -> Path:
    """Pretrain a teacher; returns the run folder.  ``stop_after_segments`` is for tests (simulated kill).

    ``cfg.devices`` / ``cfg.backend`` place the run (lsm_edge/distributed.py: the backend must already
    be the one Keras runs on); ``stats_path``: normalisation statistics computed beforehand
    (`lsm-edge data stats`), required when several processes each read only their share of the data.
    ``init``: a finished teacher run to continue from (adaptation to a user's data: same objective,
    its weights and size, a fresh optimizer; the statistics are recomputed on this data's training
    subjects and saved with the new run; features this data never observes keep the init run's).  A conv-family
    init run keeps its own statistics unless ``refit_stats`` (then as a teacher's are).
    """
    out = Path(out_dir)
    ckpt, state_path = out / "checkpoint" / "ckpt.keras", out / "checkpoint" / "state.json"
    if (out / "model.keras").exists() and not resume:
        raise LsmEdgeError(f"{out} already holds a trained model; choose another --out")
    if out.exists() and any(out.iterdir()) and not resume and not (out / "model.keras").exists():
        if state_path.exists():
            raise LsmEdgeError(f"{out} holds an interrupted run; pass --resume to continue it")
    if resume and not state_path.exists() and not (out / "model.keras").exists():
        raise LsmEdgeError(f"nothing to resume in {out}: no checkpoint/state.json")
    if resume and (out / "model.keras").exists():
        return out  # finished already
    if keras.backend.backend() != cfg.backend:
        raise LsmEdgeError(f"the recipe asks for the {cfg.backend} backend but Keras runs on "
                           f"{keras.backend.backend()}; start with KERAS_BACKEND={cfg.backend} (the CLI does)")

    if init is not None:
        init_cfg = json.loads((Path(init) / "config.json").read_text()) if (Path(init) / "config.json").is_file() else {}
        if init_cfg.get("kind") == "student" and not init_cfg.get("distill", {}).get("use_teacher", True):
            return continue_masked_student(data_dir, out, cfg, init, init_cfg, resume, progress, stop_after_segments,
                                           refit_stats)
        if init_cfg.get("kind", "teacher") != "teacher" or "train" not in init_cfg:  # older runs lack "kind"
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
            for x, y in _prefetch(segment_batches(z_train, cfg, seg, steps, local_batch, topo.process_index)):
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
                _append_log(out / "log.csv", row)
                tb.write(step, row)
                with atomic_path(ckpt) as tmp:
                    model.save(tmp)
                atomic_write_text(state_path, json.dumps({"segments_done": seg + 1, "config": asdict(cfg)}))
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


def write_manifest(out: Path, ds: Dataset) -> dict:
    m = {"kind": "teacher", "lsm_edge_version": _version(),
         "data": {"path": str(ds.dir), "dataset_json_sha256": sha256_file(ds.dir / "dataset.json")},
         "files": {f: sha256_file(out / f) for f in ("model.keras", "stats.json", "config.json")}}
    atomic_write_text(out / "manifest.json", json.dumps(m, indent=1))
    return m


def load_run(run_dir):
    """-> (model, stats, config dict) of a finished run."""
    run = Path(run_dir)
    if not (run / "model.keras").is_file():
        hint = " (interrupted: rerun `lsm-edge train ... --resume`)" if (run / "checkpoint").exists() else ""
        raise LsmEdgeError(f"{run} is not a finished lsm-edge run: no model.keras{hint}")
    model = keras.models.load_model(run / "model.keras", safe_mode=True, compile=False)
    return model, NormStats.load(run / "stats.json"), json.loads((run / "config.json").read_text())


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


def _prefetch(it, depth: int = 2):
    """Prepare the next batches on a thread while the model trains on this one (numpy releases the GIL)."""
    q: queue.Queue = queue.Queue(depth)
    done = object()

    def work():
        try:
            for item in it:
                q.put(item)
        except BaseException as e:  # hand the error to the consumer
            q.put(e)
        q.put(done)

    threading.Thread(target=work, daemon=True).start()
    while (item := q.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item


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


def _append_log(path: Path, row: dict) -> None:
    new = not path.exists()
    with open(path, "a") as f:
        if new:
            f.write(",".join(row) + "\n")
        f.write(",".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in row.values()) + "\n")


def _diff(a: dict, b: dict) -> str:
    return ", ".join(f"{k}: {a.get(k)} -> {b.get(k)}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))


def _version() -> str:
    from . import __version__

    return __version__


from .api import callable_module  # noqa: E402  (lsm_edge.train(...) is the API verb too)

callable_module(__name__)
