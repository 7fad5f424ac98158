"""Recipes: ``TrainConfig`` (train/*.toml, pretraining), ``DistillConfig`` (distill/*.toml, students) and
``FinetuneConfig`` (finetune/*.toml, task heads): one dataclass per verb that trains, one option per field.

The recipes lsm-edge ships live in ``lsm_edge/recipes/<verb>/`` (in the wheel too): ``--recipe train/micro.toml``
names one from any folder; a path to a file of your own is read as it is.  Kept apart from the verbs (which
import Keras) so that the CLI can build one option per field without starting TensorFlow.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .errors import LsmEdgeError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RECIPES = Path(__file__).parent / "recipes"


def recipe_path(path, verb: str) -> Path:
    """A recipe file: ``path`` itself when it is a file, else the one lsm-edge ships under that name
    (``train/micro.toml``, ``micro.toml`` or ``micro`` for ``verb`` "train": lsm_edge/recipes/train/micro.toml)."""
    p = Path(path)
    if p.is_file():
        return p
    shipped = RECIPES / verb / (p.name if p.suffix == ".toml" else f"{p.name}.toml")
    if shipped.is_file() and p.parent in (Path("."), Path(verb)):
        return shipped
    names = ", ".join(f"{verb}/{q.name}" for q in sorted((RECIPES / verb).glob("*.toml")))
    raise LsmEdgeError(f"recipe {path} not found: not a file, nor one of the {verb} recipes lsm-edge ships ({names})")


def read_recipe(path, verb: str) -> tuple[dict, str]:
    """(the recipe's fields, where they came from) of a TOML recipe; its fields may sit under a ``[verb]`` table."""
    p = recipe_path(path, verb)
    try:
        d = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as e:
        raise LsmEdgeError(f"recipe {p} is not valid TOML: {e}") from None
    return d.get(verb, d), str(p)


class Recipe:
    """A verb's recipe: a dataclass read from a TOML file (``from_toml``: the file, or one lsm-edge ships, its
    fields under a ``[<VERB>]`` table or at the top) or from a dict (``from_dict``), then checked (``check``)."""

    VERB = ""

    @classmethod
    def from_toml(cls, path):
        return cls.from_dict(*read_recipe(path, cls.VERB))

    @classmethod
    def from_dict(cls, d: dict, where: str = "config"):
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise LsmEdgeError(f"{where}: unknown option(s) {', '.join(unknown)}; expected some of {', '.join(known)}")
        cfg = cls(**d)
        cfg.check(where)
        return cfg

    def check(self, where: str) -> None:
        """Raise :class:`LsmEdgeError` naming the first field whose value is out of its range (``where``: the file)."""


@dataclass
class TrainConfig(Recipe):
    size: str = "nano"
    steps: int = 300
    batch_size: int = 64
    lr: float = 1e-3
    warmup_steps: int = 30
    decay_steps: int = 0  # the cosine's length, warm-up included (0 = steps: it reaches 0 at the last step);
    # longer than steps stops the run part-way down a longer cosine (benchmarks/results/teacher/steps_4800/)
    weight_decay: float = 1e-4
    beta_1: float = 0.9
    beta_2: float = 0.95
    clipnorm: float = 1.0
    mask_ratio: float = 0.8
    flip_p: float = 0.5
    stretch_max: float = 1.2
    noise_std: float = 0.05
    feature_drop_p: float = 0.0  # share of windows that keep only some of their features (train.drop_features)
    task_mask_p: float = 0.5  # share of steps trained through the inference path on evaluation-task masks
    loss: str = "mse"  # "mse" (the paper) or "l1" (the metric the evaluation scores)
    fill_gate: bool = False  # blend the output with the input's linear fill through a learned gate (models/mae.py)
    ema: float = 0.0  # momentum of an exponential moving average of the weights (0 = off); the EMA is saved
    checkpoint_every: int = 100
    val_windows: int = 256
    seed: int = 0
    # scale-out (lsm_edge/core/distributed.py); the first three may change when a run is resumed
    backend: str = "tensorflow"  # "tensorflow" (tf.distribute) or "jax" (keras.distribution)
    devices: int = 1  # devices of each process: data parallel over all of them
    model_parallel: int = 1  # jax: also shard Dense kernels over this many of them (ModelParallel)
    precision: str = "float32"  # or "mixed_bfloat16" (accelerators), "mixed_float16" (GPUs with fp16 units)
    device_batch: int = 0  # > 0: global batch = device_batch x all devices; 0: batch_size is the global batch
    lr_scaling: str = "none"  # "none", "linear" or "sqrt": lr is set for batch_size; scaled to the global batch
    sampling: str = "replacement"  # or "epoch": every window of a process's shard once per epoch
    xla: bool = True  # XLA-compile the train step: ~20 % faster steps on the CPU, ~10 s more to start;
    # off for runs of a few steps (tests) and always off under tf.distribute (train.new_model)

    # fields a resumed run may change: where it runs, not what it learns
    PLACEMENT = ("backend", "devices", "model_parallel", "xla")

    def global_batch(self, n_devices: int) -> int:
        """Windows per step over all processes and devices."""
        return self.device_batch * n_devices if self.device_batch else self.batch_size

    def scaled_lr(self, n_devices: int) -> float:
        r = self.global_batch(n_devices) / self.batch_size
        return self.lr * {"none": 1.0, "linear": r, "sqrt": r ** 0.5}[self.lr_scaling]

    def learning(self) -> dict:
        """The fields that decide what the run learns (compared on --resume)."""
        return {k: v for k, v in asdict(self).items() if k not in self.PLACEMENT}

    VERB = "train"

    def check(self, where: str) -> None:
        for name, allowed in (("backend", BACKENDS), ("precision", PRECISIONS), ("lr_scaling", LR_SCALINGS),
                              ("sampling", SAMPLINGS)):
            if getattr(self, name) not in allowed:
                raise LsmEdgeError(f"{where}: {name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        _check_shares(self, ("feature_drop_p", "task_mask_p", "flip_p"), where)
        if self.decay_steps and self.decay_steps < self.steps:
            raise LsmEdgeError(f"{where}: decay_steps must be 0 (= steps) or at least steps ({self.steps}), got "
                               f"{self.decay_steps}: a shorter cosine would leave the last steps at learning rate 0")
        if self.devices < 1 or self.model_parallel < 1 or self.devices % self.model_parallel:
            raise LsmEdgeError(f"{where}: devices ({self.devices}) must be a positive multiple of model_parallel "
                               f"({self.model_parallel})")
        if not self.device_batch and self.batch_size % (self.devices // self.model_parallel):
            raise LsmEdgeError(f"{where}: batch_size {self.batch_size} does not split over "
                               f"{self.devices // self.model_parallel} data-parallel devices")


def _check_shares(cfg, names, where: str) -> None:
    """Recipe fields that are probabilities: each must lie in [0, 1]."""
    for name in names:
        if not 0 <= getattr(cfg, name) <= 1:
            raise LsmEdgeError(f"{where}: {name} must be in [0, 1], got {getattr(cfg, name)}")


BACKENDS = ("tensorflow", "jax")
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
LR_SCALINGS = ("none", "linear", "sqrt")
SAMPLINGS = ("replacement", "epoch")


FAMILIES = ("vit", "conv", "intconv")


@dataclass
class DistillConfig(Recipe):
    family: str = "vit"
    size: str = "pico"  # vit: a named size of models/mae.py
    dim: int = 64  # conv: channels, blocks, kernel, minutes per token
    depth: int = 5
    kernel: int = 3
    step: int = 5
    norm: bool = False  # intconv: batch norm before each conv (folded to a per-channel affine at inference)
    qat: bool = False  # intconv: quantization-aware training (activations fake-quantized to int8; with --init)
    steps: int = 600
    batch_size: int = 64
    lr: float = 2e-3
    warmup_steps: int = 50
    weight_decay: float = 1e-4
    clipnorm: float = 1.0
    use_teacher: bool = True  # false: the ablation (ground truth only, the teacher never runs)
    w_teacher: float = 1.0
    w_truth: float = 1.0
    w_embed: float = 0.1
    random_p: float = 0.25  # share of windows with the paper's 80 % random patch masking; the rest eval-task masks
    feature_drop_p: float = 0.0  # share of windows that keep only some of their features (train.drop_features)
    checkpoint_every: int = 100
    seed: int = 0
    xla: bool = True  # XLA-compile the step and the teacher's targets (off for runs of a few steps: tests)

    VERB = "distill"

    def check(self, where: str) -> None:
        _check_shares(self, ("feature_drop_p",), where)
        if self.family not in FAMILIES:
            raise LsmEdgeError(f"{where}: family must be one of {', '.join(FAMILIES)}, got {self.family!r}")


POOLS = ("mean", "stats")


@dataclass
class FinetuneConfig(Recipe):
    epochs: int = 30
    batch_size: int = 64
    lr: float = 1e-3  # peak learning rate of a probe head (and of probe_epochs)
    weight_decay: float = 1e-4
    warmup_frac: float = 0.15
    dropout: float = 0.3
    noise_std: float = 0.05
    full_epochs: int = 30  # 8 left both the teacher (76.2% -> 82.2% activity) and the students underfit
    full_lr: float = 3e-4
    max_train_windows: int = 4000
    shots: int | None = None  # labelled windows per class (few-shot); None = all
    # epochs count this many windows (few-shot: the full training set's), so a head fitted on 40 windows
    # takes as many optimizer steps as one fitted on all of them (30 epochs of 40 = 30 steps: untrained)
    epoch_windows: int | None = None
    kd_temperature: float = 2.0  # distillation from a fine-tuned teacher's logits (``kd_from``)
    kd_alpha: float = 0.5  # weight of the labels; 1 - kd_alpha on the teacher's softened logits
    layer_decay: float = 1.0  # full: lr x decay^(depth below the top) per encoder block (1 = one lr for all)
    probe_epochs: int = 0  # full: first train the linear head on the frozen encoder for this many epochs (LP-FT)
    pool: str = "mean"  # linear / full heads: "mean" or "stats" (mean, max, std of the tokens)
    flip_p: float = 0.0  # full: fraction of training windows shown reversed in time (``augment_batch``)
    hide_p: float = 0.0  # full: fraction of training windows with one 5-60 minute span hidden
    seed: int = 0
    xla: bool = True  # XLA-compile full fine-tuning (~20 % faster steps; off for runs of a few steps: tests)

    VERB = "finetune"

    def check(self, where: str) -> None:
        _check_shares(self, ("flip_p", "hide_p", "kd_alpha"), where)
        if self.pool not in POOLS:
            raise LsmEdgeError(f"{where}: pool must be one of {', '.join(POOLS)}, got {self.pool!r}")
        for name, ok, want in (("epochs", self.epochs >= 1, "at least 1"),
                               ("full_epochs", self.full_epochs >= 1, "at least 1"),
                               ("batch_size", self.batch_size >= 1, "at least 1"),
                               ("shots", self.shots is None or self.shots >= 1, "at least 1 (or unset: every window)"),
                               ("probe_epochs", self.probe_epochs >= 0, "at least 0"), ("lr", self.lr > 0, "above 0"),
                               ("full_lr", self.full_lr > 0, "above 0"),
                               ("layer_decay", 0 < self.layer_decay <= 1, "in (0, 1]"),
                               ("kd_temperature", self.kd_temperature >= 0.1, "at least 0.1")):
            if not ok:
                raise LsmEdgeError(f"{where}: {name} must be {want}, got {getattr(self, name)}")
