"""Who measured: a short description of the machine, stored with every committed result."""

from lsm_edge.core.measure import machine  # noqa: F401  (one definition, shared with `lsm-edge bench`)

if __name__ == "__main__":
    import json

    print(json.dumps(machine()))
