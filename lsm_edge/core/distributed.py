"""Scale-out for ``lsm-edge train``: the engines' own distribution, nothing home-made.

    backend      devices / hosts                         engine
    jax          N devices of each process, P processes  keras.distribution.DataParallel over all of them;
                                                         ModelParallel + LayoutMap when model_parallel > 1
    tensorflow   N devices, one process                  tf.distribute.MirroredStrategy
    tensorflow   TF_CONFIG names several workers         tf.distribute.MultiWorkerMirroredStrategy

Multi-host start-up is the engine's: on JAX ``keras.distribution.initialize()`` (which calls
``jax.distributed.initialize``) reads ``KERAS_DISTRIBUTION_JOB_ADDRESSES`` (the coordinator's
host:port), ``KERAS_DISTRIBUTION_NUM_PROCESSES`` and ``KERAS_DISTRIBUTION_PROCESS_ID``; on TensorFlow
``TF_CONFIG`` names the workers and this one's index.  Each process then reads only its own share of
the data (``lsm_edge.data.sharding``) and feeds its local batch; the engine assembles the global one.

On a machine without accelerators ``devices = N`` splits the CPU into N virtual devices (XLA's
``--xla_force_host_platform_device_count`` / TensorFlow logical devices): that is how the tests run
data parallelism on two cores.  It has to happen before the engine starts, so ``select_backend`` is
called before Keras is imported (the CLI does it first thing).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import dataclass, field

from ..errors import LsmEdgeError


def select_backend(backend: str, devices: int = 1) -> None:
    """Choose the Keras backend (and, on a CPU host, ``devices`` virtual devices) before Keras starts."""
    if "keras" in sys.modules:
        import keras

        if keras.backend.backend() != backend:
            raise LsmEdgeError(f"Keras already runs on {keras.backend.backend()!r} in this process; the backend "
                               f"{backend!r} has to be chosen before Keras is imported (set KERAS_BACKEND={backend})")
    os.environ["KERAS_BACKEND"] = backend
    if backend == "jax" and devices > 1:
        flags = [f for f in os.environ.get("XLA_FLAGS", "").split() if "host_platform_device_count" not in f]
        os.environ["XLA_FLAGS"] = " ".join(flags + [f"--xla_force_host_platform_device_count={devices}"])
    if backend == "tensorflow" and devices > 1:
        _split_cpu(devices)


def _split_cpu(devices: int) -> None:
    """N logical CPU devices, if TensorFlow has not started and there is no GPU to use instead."""
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return
    try:
        tf.config.set_logical_device_configuration(tf.config.list_physical_devices("CPU")[0],
                                                   [tf.config.LogicalDeviceConfiguration()] * devices)
    except RuntimeError:  # TensorFlow already started: setup() checks the count it has
        pass


@dataclass
class Topology:
    """Where a run executes.  ``devices`` counts every device of every process."""

    backend: str
    devices: int = 1
    process_index: int = 0
    process_count: int = 1
    strategy: object = None  # tf.distribute strategy (TensorFlow)
    distribution: object = None  # keras.distribution (JAX)
    names: list = field(default_factory=list)

    @property
    def is_chief(self) -> bool:
        """The one process that writes checkpoints, logs and the final model."""
        return self.process_index == 0

    def scope(self):
        """Build and load models inside this (tf.distribute needs it; JAX's distribution is global)."""
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def describe(self) -> dict:
        return {"backend": self.backend, "devices": self.devices, "processes": self.process_count,
                "engine": type(self.strategy or self.distribution).__name__ if (self.strategy or self.distribution)
                else "single device", "device_names": self.names}


def setup(devices: int = 1, model_parallel: int = 1) -> Topology:
    """Start the engine's distribution for ``devices`` devices per process; returns the topology."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        return _setup_jax(devices, model_parallel)
    if backend == "tensorflow":
        if model_parallel > 1:
            raise LsmEdgeError("model_parallel > 1 needs the JAX backend (keras.distribution.ModelParallel); "
                               "on TensorFlow use data parallelism only")
        return _setup_tf(devices)
    raise LsmEdgeError(f"lsm-edge trains on the tensorflow or jax backend, not {backend!r}")


def _setup_jax(devices: int, model_parallel: int) -> Topology:
    import jax
    import keras

    if os.environ.get("KERAS_DISTRIBUTION_NUM_PROCESSES", "1") not in ("", "1"):
        keras.distribution.initialize()  # jax.distributed.initialize from the KERAS_DISTRIBUTION_* variables
    local = jax.local_devices()
    if devices > len(local):
        raise LsmEdgeError(f"asked for {devices} devices per process, this process has {len(local)} "
                           f"({local[0].platform}); on a CPU pass --devices before Keras starts (the CLI does)")
    n_proc, me = jax.process_count(), jax.process_index()
    # the same number of devices from every process, in the order of their ids
    by_process: dict = {}
    for d in jax.devices():
        by_process.setdefault(d.process_index, []).append(d)
    chosen = [d for p in sorted(by_process) for d in by_process[p][:devices]]
    topo = Topology("jax", len(chosen), me, n_proc, names=[str(d) for d in chosen])
    if len(chosen) == 1:
        keras.distribution.set_distribution(None)
        return topo
    if model_parallel == 1:
        dist = keras.distribution.DataParallel(devices=chosen)
    else:
        mesh = keras.distribution.DeviceMesh((len(chosen) // model_parallel, model_parallel),
                                             ["batch", "model"], devices=chosen)
        dist = keras.distribution.ModelParallel(layout_map=layout_map(mesh), batch_dim_name="batch")
    keras.distribution.set_distribution(dist)
    topo.distribution = dist
    return topo


def layout_map(mesh):
    """Megatron-style sharding of the transformer's Dense kernels over the "model" axis: the first
    Dense of each MLP and the attention projections split their outputs, the second Dense of the MLP
    and the attention output split their inputs; everything else (norms, embeddings) is replicated."""
    import keras

    lm = keras.distribution.LayoutMap(mesh)
    lm[r".*mlp_in.*kernel"] = (None, "model")
    lm[r".*mlp_in.*bias"] = ("model",)
    lm[r".*mlp_out.*kernel"] = ("model", None)
    lm[r".*(query|key|value).*kernel"] = (None, "model", None)
    lm[r".*attention_output.*kernel"] = ("model", None, None)
    return lm


def _setup_tf(devices: int) -> Topology:
    import tensorflow as tf

    if os.environ.get("TF_CONFIG"):
        cluster = json.loads(os.environ["TF_CONFIG"])
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        task = cluster.get("task", {})
        n_workers = len(cluster.get("cluster", {}).get("worker", [])) or 1
        return Topology("tensorflow", strategy.num_replicas_in_sync, int(task.get("index", 0)), n_workers,
                        strategy=strategy)
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        if devices > len(gpus):
            raise LsmEdgeError(f"asked for {devices} devices, this machine has {len(gpus)} GPUs")
        names = [f"/gpu:{i}" for i in range(devices)]
    else:
        if devices > 1:
            _split_cpu(devices)
        names = [d.name for d in tf.config.list_logical_devices("CPU")]
        if len(names) < devices:
            raise LsmEdgeError(f"asked for {devices} CPU devices but TensorFlow started with {len(names)}; "
                               f"choose --devices before anything runs on TensorFlow (the CLI does)")
        names = names[:devices]
    if devices == 1:
        return Topology("tensorflow", 1, names=names)
    strategy = tf.distribute.MirroredStrategy(names)
    return Topology("tensorflow", devices, strategy=strategy, names=names)


def train_on_batch(model, topo: Topology, x: dict, y: dict) -> float:
    """One optimizer step on this process's share (x, y) of the global batch -> the step's loss.

    JAX: Keras assembles the global batch from every process's share and shards it over the
    devices (``make_array_from_process_local_data``).  tf.distribute: the share is cut into one slice
    per local replica; each replica's loss is scaled by 1 / replicas (Keras' rule) and the gradients
    are summed, so a step equals one step on the whole batch.  (Keras clips gradients per replica
    before that sum: with ``clipnorm`` the two differ on steps whose gradient norm lies between the
    clip and replicas x the clip.)
    """
    if topo.strategy is None or topo.strategy.num_replicas_in_sync == 1:
        return float(model.train_on_batch(x, y))
    strategy = topo.strategy
    local = strategy.num_replicas_in_sync // topo.process_count
    n = len(next(iter(x.values())))
    if n % local:
        raise LsmEdgeError(f"a batch of {n} windows does not split over {local} replicas")

    def replica_slice(ctx):
        i = ctx.replica_id_in_sync_group % local
        part = slice(i * n // local, (i + 1) * n // local)
        return ({k: v[part] for k, v in x.items()}, {k: v[part] for k, v in y.items()})

    data = strategy.experimental_distribute_values_from_function(replica_slice)
    model.make_train_function()
    logs = model.train_function(iter([data]))
    return float(logs["loss"])
