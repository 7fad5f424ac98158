"""Recipes: ``TrainConfig`` (train/*.toml, pretraining) and ``DistillConfig`` (distill/*.toml, students).

Kept apart from ``train.py`` (which imports Keras) so that the CLI can build one option per field
without starting TensorFlow.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields
from pathlib import Path

from .errors import LsmEdgeError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass
class TrainConfig:
    size: str = "nano"
    steps: int = 300
    batch_size: int = 64
    lr: float = 1e-3
    warmup_steps: int = 30
    weight_decay: float = 1e-4
    beta_1: float = 0.9
    beta_2: float = 0.95
    clipnorm: float = 1.0
    mask_ratio: float = 0.8
    flip_p: float = 0.5
    stretch_max: float = 1.2
    noise_std: float = 0.05
    task_mask_p: float = 0.5  # share of steps trained through the inference path on evaluation-task masks
    loss: str = "mse"  # "mse" (the paper) or "l1" (the metric the evaluation scores)
    fill_gate: bool = False  # blend the output with the input's linear fill through a learned gate (models/mae.py)
    ema: float = 0.0  # momentum of an exponential moving average of the weights (0 = off); the EMA is saved
    checkpoint_every: int = 100
    val_windows: int = 256
    seed: int = 0

    @classmethod
    def from_toml(cls, path) -> "TrainConfig":
        path = Path(path)
        if not path.is_file():
            raise LsmEdgeError(f"recipe {path} not found; recipes live in train/*.toml")
        try:
            d = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as e:
            raise LsmEdgeError(f"recipe {path} is not valid TOML: {e}") from None
        return cls.from_dict(d.get("train", d), where=str(path))

    @classmethod
    def from_dict(cls, d: dict, where: str = "config") -> "TrainConfig":
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise LsmEdgeError(f"{where}: unknown option(s) {', '.join(unknown)}; expected some of {', '.join(known)}")
        return cls(**d)


FAMILIES = ("vit", "conv")


@dataclass
class DistillConfig:
    family: str = "vit"
    size: str = "pico"  # vit: a named size of models/mae.py
    dim: int = 64  # conv: channels, blocks, kernel, minutes per token
    depth: int = 5
    kernel: int = 3
    step: int = 5
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
    checkpoint_every: int = 100
    seed: int = 0

    @classmethod
    def from_toml(cls, path) -> "DistillConfig":
        path = Path(path)
        if not path.is_file():
            raise LsmEdgeError(f"student recipe {path} not found; recipes live in distill/*.toml")
        try:
            d = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as e:
            raise LsmEdgeError(f"student recipe {path} is not valid TOML: {e}") from None
        return cls.from_dict(d.get("distill", d), where=str(path))

    @classmethod
    def from_dict(cls, d: dict, where: str = "config") -> "DistillConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise LsmEdgeError(f"{where}: unknown option(s) {', '.join(unknown)}; expected some of {', '.join(known)}")
        cfg = cls(**d)
        if cfg.family not in FAMILIES:
            raise LsmEdgeError(f"{where}: family must be one of {', '.join(FAMILIES)}, got {cfg.family!r}")
        return cfg
