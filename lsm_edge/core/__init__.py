"""The shared core the verbs stand on: the run folder, model inputs, the .tflite file, scoring, measuring.

Nothing here imports a verb (lsm_edge/verbs/) or the API; see docs/architecture.md for the layers."""
