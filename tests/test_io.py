import os

import pytest

from lsm_edge.io import atomic_path, atomic_write_text


def test_atomic_write_has_umask_permissions_and_leaves_nothing_on_error(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.json", "{}")
        assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
        with pytest.raises(RuntimeError):
            with atomic_path(tmp_path / "b.bin") as tmp:
                tmp.write_bytes(b"half")
                raise RuntimeError("killed")
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]
