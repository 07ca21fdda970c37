"""The output registry: one declaration per output, read by the stages, make and the appendix."""

from __future__ import annotations

import json
from pathlib import Path

from analysis.files import read_study
from analysis.stages.appendix import run_appendix
from analysis.study import outputs
from analysis.study.settings import Study
from tests.conftest import ROOT


def test_every_output_has_one_entry_and_its_captions_format():
    study = read_study(ROOT / "study.toml")
    assert len(outputs.OUTPUTS) == len(outputs.REGISTRY)
    extras = {"source": "codebook.yaml", "pair_a": "vi", "pair_b": "en", "c_v_caveat": "c_v", "resampled": "documents"}
    extras["coded_note"] = ""  # codebook_audit_precision: the validation stage says whether there are codes
    for entry in outputs.REGISTRY:
        assert entry.stage in outputs.STAGE_ORDER and entry.kind in (
            "table",
            "csv",
            "figure",
            "figure+table",
            "files",
            "file",
        )
        for values in outputs.expand(entry, study):
            if entry.caption:
                assert "{" not in outputs.caption(entry.stem, study, **values, **extras)
            if entry.kind in ("figure", "figure+table"):
                assert entry.figure_caption, entry.stem
                assert "{" not in outputs.caption(entry.stem, study, figure=True, **values)


def test_placeholders_expand_over_the_settings():
    study = Study(root=Path("."), source=Path("s.toml"))
    entry = outputs.OUTPUTS["keyness_words_{lang}_by_{within}"]
    assert [v for v in outputs.expand(entry, study)] == [
        {"lang": "vi", "within": "event"},
        {"lang": "vi", "within": "outlet"},
        {"lang": "en", "within": "event"},
        {"lang": "en", "within": "outlet"},
    ]
    assert outputs.expand(outputs.OUTPUTS["topic_ldavis_{model}.html"], study) == []
    names = outputs.declared_outputs({"topics": {"ldavis": True}, "corpus": {"languages": ["vi"]}})["topics"]
    assert "topic_ldavis_vi.html" in names and "topic_prevalence_by_language.csv" not in names


def test_numbers_and_the_appendix_name_a_quoted_table_whose_stage_has_not_run(tmp_path, caplog):
    # The appendix stage works whichever stages have run: no stop, one sentence per missing section,
    # numbers.tex names the quoted tables it could not read (a macro the paper uses is then undefined).
    (tmp_path / "study.toml").write_text('[run]\noutput = "out"\n', encoding="utf-8")
    (tmp_path / "out").mkdir()
    manifest = {
        "study": {"file": "study.toml", "sha256": "0" * 64},
        **{"inputs": {}, "segmenter": "underthesea", "seeds": {}, "settings": {}, "packages": {}},
    }
    (tmp_path / "out" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    run_appendix(read_study(tmp_path / "study.toml"))
    numbers = (tmp_path / "out" / "numbers.tex").read_text(encoding="utf-8")
    assert "% not available yet (its stage has not run): corpus_summary.csv" in numbers
    appendix = (tmp_path / "out" / "appendix.tex").read_text(encoding="utf-8")
    assert "the prepare stage has not run for this study (corpus\\_summary.csv is" in appendix
    assert "Stages not run for this study: prepare, frequencies, framing, topics" in appendix
    assert any("appendix: prepare:" in r.getMessage() for r in caplog.records)
