"""Every notebook runs top to bottom on the seed study; notebooks are committed without outputs."""

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_is_a_notebook_series():
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(1, len(NOTEBOOKS) + 1)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_stripped(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: run `make strip-notebooks`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_use_only_the_public_api(path):
    """``import analysis as va`` and ``va.<public name>``: no module path, no private helper."""
    import re

    import analysis as va

    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert not re.search(r"^\s*from analysis|^\s*import analysis\.", source, re.M), path.name
    used = set(re.findall(r"\bva\.(\w+)", source))
    assert used and used <= set(va.__all__), sorted(used - set(va.__all__))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_on_the_seed_study(path, seed_study_dir, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("VNEN_STUDY", str(seed_study_dir / "study.toml"))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend shows figures
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()  # raises CellExecutionError on any error
    images = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    if "va.plot_" in "".join(c.source for c in notebook.cells):
        assert images, "figures are shown inline"
    for cell in notebook.cells:  # each figure once: the cell's value, not again by the inline backend
        shown = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        assert len(shown) <= cell.source.count("new_figure("), (path.name, cell.source[:80])
    stderr = [
        o.get("text", "")
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.get("name") == "stderr"
    ]
    assert not any("missing from font" in s for s in stderr), "Vietnamese glyphs render"
