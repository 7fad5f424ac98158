"""The package's layers (docs/architecture.md): no import circle, no import running back up a layer, no verb
importing another verb.  The graph is read from the source by benchmarks/structure.py."""

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location("structure", Path(__file__).parents[1] / "benchmarks" / "structure.py")
structure = importlib.util.module_from_spec(spec)
spec.loader.exec_module(structure)


def test_the_package_has_no_circle_no_upward_import_and_no_verb_importing_a_verb():
    g = structure.graph()
    assert len(g) > 50 and g["lsm_edge.api"] and "lsm_edge.core.run" in g["lsm_edge.verbs.train"]
    assert structure.cycles(g) == []
    assert structure.upward(g) == []
    assert structure.between_verbs(g) == []


def test_the_checks_catch_a_circle_an_upward_import_and_a_verb_importing_a_verb():
    g = {m: set(d) for m, d in structure.graph().items()}
    g["lsm_edge.core.run"].add("lsm_edge.verbs.train")       # core -> verb: up a layer, and a circle
    g["lsm_edge.verbs.report"].add("lsm_edge.verbs.convert")  # verb -> verb
    assert ["lsm_edge.core.run", "lsm_edge.verbs.train"] in structure.cycles(g)
    assert ("lsm_edge.core.run", "lsm_edge.verbs.train") in structure.upward(g)
    assert structure.between_verbs(g) == [("lsm_edge.verbs.report", "lsm_edge.verbs.convert")]


def test_lazy_and_relative_imports_are_read(tmp_path, monkeypatch):
    pkg = tmp_path / "lsm_edge"
    (pkg / "core").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "schema.py").write_text("X = 1\n")
    (pkg / "core" / "__init__.py").write_text("")
    (pkg / "core" / "a.py").write_text("from .. import schema\n\ndef f():\n    from .b import g\n")
    (pkg / "core" / "b.py").write_text("def g():\n    from . import a\n")
    monkeypatch.setattr(structure, "ROOT", tmp_path)
    monkeypatch.setattr(structure, "PACKAGE", pkg)
    g = structure.graph()
    assert g["lsm_edge.core.a"] == {"lsm_edge.schema", "lsm_edge.core.b"}
    assert structure.cycles(g) == [["lsm_edge.core.a", "lsm_edge.core.b"]]
