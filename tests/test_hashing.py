"""Files (stage outputs for the manifest and the stamp, corpus exports) are hashed a block at a time:
the same digests as hashing the whole file at once."""

from __future__ import annotations

import hashlib

import pytest

from analysis import files


@pytest.mark.parametrize("size", [0, 1, 6, 7, 8, 13, 1000])
def test_streamed_hash_equals_the_whole_file_hash(tmp_path, monkeypatch, size):
    monkeypatch.setattr(files, "HASH_BLOCK", 7)  # files shorter, equal to and longer than a block
    path = tmp_path / "out.csv"
    data = bytes(range(256)) * 4
    path.write_bytes(data[:size])
    assert files.sha256_file(path) == hashlib.sha256(data[:size]).hexdigest()
