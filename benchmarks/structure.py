"""The import graph of ``lsm_edge/`` and its layers: no circle, and no import that runs back up a layer.

    python benchmarks/structure.py [--out benchmarks/results/structure]

writes ``layers.md`` (the layers, each module's imports and the checks) and ``graph.png`` (the modules in their
layers, ``data/`` and ``models/`` drawn as one box each).  ``tests/test_structure.py`` runs the same checks on
every ``make test``.  The graph is read from the source (every ``import`` statement, at the top of a module or
inside a function), never by importing the package.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lsm_edge"

# (layer, what lives there, module-name prefixes), lowest first: a module may import its own layer and the ones
# below, never one above.  docs/architecture.md draws the same table.
LAYERS = [
    ("base", "names, units and errors; atomic files; recipes; the version",
     ("lsm_edge.errors", "lsm_edge.schema", "lsm_edge.logs", "lsm_edge.io", "lsm_edge.recipe", "lsm_edge.version")),
    ("data", "one reader per file format, the minute timeline, windows, masks, statistics, datasets",
     ("lsm_edge.data",)),
    ("models and runtime", "the Keras models (teacher, students, heads); the app runtime (numpy + LiteRT)",
     ("lsm_edge.models", "lsm_edge.runtime")),
    ("core", "the run folder, model inputs, the .tflite file, task model, scoring, measuring, ARM emulation",
     ("lsm_edge.core",)),
    ("verbs", "one module per verb that trains, scores or converts; verbs never import one another",
     ("lsm_edge.verbs",)),
    ("api", "the published functions (lsm_edge.train, ...): options checked, verbs called", ("lsm_edge.api",)),
    ("cli", "the command line, built over the API; the package's own __init__", ("lsm_edge.cli", "lsm_edge")),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str, path: Path, known) -> set[str]:
    """The package's modules that ``name`` imports (``from . import x`` counts as the module ``x``)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            subs = [f"{target}.{a.name}" for a in node.names if f"{target}.{a.name}" in known]
            found.update(subs)
            if target in known and len(subs) < len(node.names):  # a name defined in the module itself
                found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
    return found - {name}


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {m: imports(m, p, mods) for m, p in mods.items()}


def layer_of(module: str) -> int:
    best = None
    for rank, (_, _, prefixes) in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and (best is None or len(p) > best[1]):
                best = (rank, len(p))
    if best is None:
        raise ValueError(f"{module} is in no layer of benchmarks/structure.py LAYERS")
    return best[0]


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), each sorted."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def upward(g: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports from a lower layer into a higher one."""
    return sorted((a, b) for a, deps in g.items() for b in deps if layer_of(b) > layer_of(a))


def between_verbs(g: dict[str, set[str]]) -> list[tuple[str, str]]:
    """A verb module importing another verb module (they share code through the core instead)."""
    return sorted((a, b) for a, deps in g.items() for b in deps
                  if a.startswith("lsm_edge.verbs.") and b.startswith("lsm_edge.verbs."))


def _box(module: str) -> str:
    """The box a module is drawn in: data/ and models/ as one box each, else the module's name in its layer."""
    for pkg in ("lsm_edge.data", "lsm_edge.models"):
        if module == pkg or module.startswith(pkg + "."):
            return pkg.split(".")[1] + "/"
    return "lsm_edge" if module == "lsm_edge" else module.removeprefix("lsm_edge.").split(".")[-1]


def plot(g: dict[str, set[str]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    linked = {m for m, deps in g.items() if deps} | {d for deps in g.values() for d in deps}
    boxes = {}
    for m in sorted(linked):  # a package's empty __init__ (core/, verbs/) is left out
        boxes.setdefault(_box(m), layer_of(m))
    rows = {}
    for b, rank in sorted(boxes.items()):
        rows.setdefault(rank, []).append(b)
    pos = {}
    for rank, names in rows.items():
        for i, b in enumerate(names):  # a crowded row alternates up and down so its names do not overlap
            pos[b] = ((i + 0.5) / len(names), rank + (0.14 * (-1) ** i if len(names) > 8 else 0))
    edges = {(_box(a), _box(b)) for a, deps in g.items() for b in deps if _box(a) != _box(b)}
    fig, ax = plt.subplots(figsize=(15, 8))
    for a, b in sorted(edges):
        (x0, y0), (x1, y1) = pos[a], pos[b]
        ax.annotate("", xy=(x1, y1 + 0.12), xytext=(x0, y0 - 0.12),
                    arrowprops=dict(arrowstyle="->", color="#888888" if round(y1) < round(y0) else "#1f77b4", lw=0.6,
                                    alpha=0.5))
    for b, (x, y) in pos.items():
        ax.text(x, y, b, ha="center", va="center", fontsize=7.5,
                bbox=dict(boxstyle="round,pad=0.25", fc="#fff7e0" if round(y) == 3 else "white", ec="#555555", lw=0.7))
    for rank, (label, _, _) in enumerate(LAYERS):
        ax.text(-0.02, rank, label, ha="right", va="center", fontsize=10, weight="bold")
    ax.set_xlim(-0.16, 1.01)
    ax.set_ylim(-0.6, len(LAYERS) - 0.4)
    ax.axis("off")
    ax.set_title("lsm_edge/: who imports whom (arrows point at the imported module: grey down a layer, blue within "
                 "one; none points up)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def report(g: dict[str, set[str]]) -> str:
    lines = ["# The layers of lsm_edge/ and who imports whom", "",
             "Written by `python benchmarks/structure.py` from the source (every import statement, lazy ones "
             "included); `tests/test_structure.py` checks the same on every `make test`.", "",
             "| layer | what lives there | modules |", "|---|---|---|"]
    for rank, (label, what, _) in enumerate(LAYERS):
        mods = sorted(m.removeprefix("lsm_edge.") for m in g if layer_of(m) == rank)
        lines.append(f"| {rank} {label} | {what} | {', '.join(mods)} |")
    sizes = sorted(((len(p.read_text().splitlines()), m) for m, p in modules().items()), reverse=True)
    lines += ["", f"- modules: {len(g)}; imports between them: {sum(map(len, g.values()))}",
              f"- circles: {len(cycles(g))}; imports running up a layer: {len(upward(g))}; "
              f"imports between two verbs: {len(between_verbs(g))}",
              "- largest modules (lines): " + ", ".join(f"{m.removeprefix('lsm_edge.')} {n}" for n, m in sizes[:6]),
              "", "## Each module's imports (inside the package)", ""]
    for m in sorted(g, key=lambda m: (layer_of(m), m)):
        deps = ", ".join(sorted(d.removeprefix("lsm_edge.") for d in g[m])) or "-"
        lines.append(f"- `{m.removeprefix('lsm_edge.') if m != 'lsm_edge' else 'lsm_edge'}` "
                     f"({LAYERS[layer_of(m)][0]}): {deps}")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "structure")
    args = ap.parse_args()
    g = graph()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "layers.md").write_text(report(g))
    plot(g, args.out / "graph.png")
    bad = cycles(g), upward(g), between_verbs(g)
    print(f"{len(g)} modules; circles {bad[0]}; upward {bad[1]}; between verbs {bad[2]}; written to {args.out}")
    return 1 if any(bad) else 0


if __name__ == "__main__":
    sys.exit(main())
