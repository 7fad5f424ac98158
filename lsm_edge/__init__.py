"""lsm-edge: take a wearable foundation model from pretraining to a phone.

Every CLI verb is a function here with the same options and defaults (``lsm_edge/api.py``):
``lsm_edge.data_import``, ``lsm_edge.train``, ``lsm_edge.distill``, ``lsm_edge.finetune``, ``lsm_edge.evaluate``,
``lsm_edge.evaluate_real``, ``lsm_edge.convert``, ``lsm_edge.inspect``, ``lsm_edge.bench``, ``lsm_edge.report``, ...
Apps that only run a ``.tflite`` import ``lsm_edge.runtime`` (numpy and LiteRT, no TensorFlow).
"""

import importlib

__version__ = "0.1.0"

from .api import VERB_MODULES, __all__  # noqa: E402,F401
from .api import (data_describe, data_import, data_import_fitbit, data_import_long,  # noqa: E402,F401
                  data_simulate, data_stats, inspect)
from .logs import quiet  # noqa: E402,F401  (hide library log lines in a notebook, as the CLI does)



def __getattr__(name):
    """``lsm_edge.train`` and the other verbs named like a module: the module, which calls the verb
    (``lsm_edge.train(...)``) and still holds its functions (``lsm_edge.train.load_run``)."""
    if name in VERB_MODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'lsm_edge' has no attribute {name!r}")
