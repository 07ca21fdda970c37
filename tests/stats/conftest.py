"""Fixtures shared by the statistics tests."""

from __future__ import annotations

import pytest

from analysis.stats import clustered


@pytest.fixture
def lowrank(monkeypatch):
    """Force the low-rank path for every cluster and record, per call, whether it gave a result (not a fallback)."""
    used = []
    original = clustered._cr2_block_lowrank

    def spy(*args, **kwargs):
        block = original(*args, **kwargs)
        used.append(block is not None)
        return block

    monkeypatch.setattr(clustered, "_cr2_block_lowrank", spy)
    monkeypatch.setattr(clustered, "EIGH_MAX_ROWS", 0)
    return used
