"""lsm-edge: take a wearable foundation model from pretraining to a phone.

Every CLI verb is a plain function here with the same options and defaults (``lsm_edge/api.py``):
``lsm_edge.data_import``, ``lsm_edge.train``, ``lsm_edge.distill``, ``lsm_edge.finetune``, ``lsm_edge.evaluate``,
``lsm_edge.evaluate_real``, ``lsm_edge.convert``, ``lsm_edge.inspect``, ``lsm_edge.bench``, ``lsm_edge.report``, ...
Where each step lives: docs/architecture.md (base -> data -> models, runtime -> core -> verbs -> api -> cli).
Apps that only run a ``.tflite`` import ``lsm_edge.runtime`` (numpy and LiteRT, no TensorFlow).
"""

from .api import (__all__, bench, convert, data_describe, data_import, data_import_fitbit,  # noqa: F401
                  data_import_long, data_simulate, data_stats, distill, evaluate, evaluate_people, evaluate_real,
                  fill, finetune, fit, inspect, report, train)
from .logs import quiet  # noqa: F401  (hide library log lines in a notebook, as the CLI does)
from .version import __version__  # noqa: F401
