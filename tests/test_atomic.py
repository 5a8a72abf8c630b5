"""Writes are whole or absent: a failure leaves the old file and no temporary behind."""
import os

import pytest

from tinyeit import atomic


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out" / "a.json"
    atomic.write_json(target, {"b": 1, "a": 2}, sort_keys=True)
    assert target.read_text() == '{\n  "a": 2,\n  "b": 1\n}\n'
    with pytest.raises(RuntimeError):
        with atomic.replacing(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text().startswith('{\n  "a": 2')
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.json"]


def test_files_get_the_usual_mode(tmp_path):
    old = os.umask(0o022)
    try:
        atomic.write_bytes(tmp_path / "x.bin", b"\x00\x01")
    finally:
        os.umask(old)
    assert (tmp_path / "x.bin").stat().st_mode & 0o777 == 0o644
