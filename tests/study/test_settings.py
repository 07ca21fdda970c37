from pathlib import Path

import pytest

from analysis.errors import InputError
from analysis.files import read_study
from analysis.study.settings import load_study_text

ROOT = Path(__file__).resolve().parents[2]


def test_default_study_reads():
    study = read_study(ROOT / "study.toml")
    assert study.corpus.folder == "seeds"
    assert study.units.kind == "sentences" and study.units.window == 3
    assert study.output_dir == (ROOT / "figures").resolve()


@pytest.mark.parametrize(
    "text,expected",
    [
        ("[corpus]\nfolderr = 'x'\n", "unknown key 'folderr' in [corpus]"),
        ("[corpuss]\n", "unknown key 'corpuss'"),
        ("[units]\nkind = 'chapter'\n", "[units] kind = 'chapter' is not known"),
        ("[frequencies]\ntop_n = 'ten'\n", "[frequencies] top_n must be a int"),
        ("[frequencies]\ngroup_by = 'language'\n", "group_by must be a list"),
        ("[text]\nsegmenter = 'vncorenlp'\n", "segmenter = 'vncorenlp' is not known"),
        ("[corpus\n", "not valid TOML"),
    ],
)
def test_study_errors_name_the_key(text, expected):
    with pytest.raises(InputError) as info:
        load_study_text(text, Path("my.toml"))
    assert expected in str(info.value)
    assert str(info.value).startswith("my.toml: ")


def test_paths_are_relative_to_the_study_file(tmp_path):
    study = load_study_text("[corpus]\nfolder = 'articles'\n", tmp_path / "s.toml")
    assert study.path(study.corpus.folder) == (tmp_path / "articles").resolve()


def test_study_toml_lists_every_setting_and_says_where_it_leaves_the_default():
    """study.toml is the documented example: every key of study.py, and each value that is not
    study.py's default says the default in its comment."""
    import dataclasses
    import tomllib

    from analysis.study.settings import SECTIONS

    text = (ROOT / "study.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    # The keys of the other corpus forms are shown commented out (a copied study sets one form), and
    # the TOML tables of their own ([corpus.columns], [[corpus.source]]) are named in a comment.
    commented = {("corpus", k): f"# {k} = " for k in ("table", "format", "delimiter", "language", "newsplease", "html")}
    commented |= {("corpus", "columns"): "# [corpus.columns]", ("corpus", "source"): "# [[corpus.source]]"}
    from analysis.study.settings import OPTIONAL_SECTIONS

    for section in OPTIONAL_SECTIONS:  # an optional section is shown commented out, every key of it
        assert section not in raw and f"# [{section}]" in text, section
        for f in dataclasses.fields(SECTIONS[section]):
            assert f"# {f.name} = " in text, (section, f.name)
    for section, cls in ((s, c) for s, c in SECTIONS.items() if s not in OPTIONAL_SECTIONS):
        keys = sorted(f.name for f in dataclasses.fields(cls) if (section, f.name) not in commented)
        assert sorted(raw[section]) == keys, section
    for shown in commented.values():
        assert shown in text, shown
        for key, value in raw[section].items():
            default = getattr(cls(), key)
            if (list(default) if isinstance(default, tuple) else default) != value:
                line = next(line for line in text.splitlines() if line.startswith(f"{key} ="))
                assert "default" in line, f"[{section}] {key}: say the default in the comment"


def test_a_study_without_an_output_folder_gets_one_of_its_own(tmp_path):
    """study.toml writes into figures/; any other study file into figures/<its stem>, in the study,
    in the output-safety check and in the make fragment alike; a named [run] output wins."""
    from analysis.study.makefile import make_fragment
    from analysis.study.safety import output_folder

    body = '[corpus]\nfolder = "seeds"\n'
    for name, expected in (("study.toml", "figures"), ("mine.toml", "figures/mine")):
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        assert read_study(path).output_dir == (tmp_path / expected).resolve()
        assert output_folder(path, {}) == (tmp_path / expected).resolve()
        assert f"{tmp_path / expected}/top_terms_by_language.csv" in make_fragment(path)
    named = tmp_path / "named.toml"
    named.write_text(body + '[run]\noutput = "out"\n', encoding="utf-8")
    assert read_study(named).output_dir == (tmp_path / "out").resolve()
