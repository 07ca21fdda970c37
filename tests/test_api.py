"""The public API: ``import analysis as va`` names about thirty documented functions by step."""

from __future__ import annotations

import inspect
import pkgutil
import pydoc
import subprocess
import sys

import matplotlib as mpl
import pytest

import analysis as va

from .conftest import ROOT


def test_every_public_name_is_documented_and_loads():
    for name in va.__all__:
        value = getattr(va, name)
        doc = inspect.getdoc(value) or ""
        assert doc and len(doc.splitlines()[0]) > 10, name
        assert name in va.__doc__, f"{name} is missing from the guide"


def test_no_public_name_shadows_a_module():
    modules = {m.name for m in pkgutil.iter_modules(va.__path__)}
    assert not modules & set(va.__all__)


def test_help_reads_as_a_guide_by_step():
    text = pydoc.render_doc(va, renderer=pydoc.plaintext)
    steps = [
        text.index(marker)
        for marker in ("open_study", "study.prepare()", "corpus.annotate()", "keyness_by_group", "plot_keyness")
    ]
    assert steps == sorted(steps)


def test_importing_analysis_leaves_the_callers_style_alone():
    code = (
        "import matplotlib as mpl; mpl.rcParams['font.size'] = 13; import analysis as va; "
        "va.new_figure; va.plot_keyness; va.figure_keyness; print(mpl.rcParams['font.size'])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "13.0"
    with va.style():
        assert mpl.rcParams["font.size"] == 9
    assert mpl.rcParams["font.size"] != 9 or mpl.rcParamsDefault["font.size"] == 9


def test_import_is_cheap_and_needs_only_the_standard_library():
    code = "import sys, analysis; print(sorted(m for m in ('pandas', 'numpy', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"


def test_open_study_prepare_and_keyness_from_a_notebook(tiny_study):
    study = va.open_study(tiny_study)
    corpus = study.prepare()
    assert list(corpus.docvars.index) == ["v1", "e1"]
    table = va.keyness_by_group(
        va.concept_counts(corpus.annotate()), corpus.docvars["language"], order=["vi", "en"], min_docs=1
    )
    assert set(table["comparison"]) == {"vi vs en"}
    top = va.top_keyness(table, 3)
    assert len(top) <= 6 and (top["group_a"] == "vi").all()


def test_open_study_names_the_bad_key(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text("[framing]\npermutations = 0\n", encoding="utf-8")
    with pytest.raises(va.InputError, match=r"\[framing\] permutations = 0"):
        va.open_study(path)
