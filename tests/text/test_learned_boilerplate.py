"""Corpus-learned boilerplate, teasers and dropped near-duplicates (analysis/text/learned_boilerplate.py)."""

from __future__ import annotations

import csv
import logging
import random
import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.cli import main
from analysis.text.clean import parse_rules, remove_boilerplate
from analysis.text.learned_boilerplate import (
    TEASER_NAME,
    TEASER_PATTERN,
    duplicates_to_drop,
    learn_lines,
    normalise_line,
    rules_toml,
)
from analysis.text.normalize import canonical_text
from tests.conftest import SHARED
from tests.corpus.test_sources import csv_text, table_study

FOOTER = "Bản quyền © 2024 Báo Mẫu. Ghi rõ nguồn khi phát hành lại."
SUBJECTS = [
    "Hà Nội",
    "Đà Nẵng",
    "Huế",
    "Cần Thơ",
    "Hải Phòng",
    "Nha Trang",
    "Vinh",
    "Quy Nhơn",
    "Đà Lạt",
    "Buôn Ma Thuột",
    "Pleiku",
    "Sa Pa",
]


def article(i: int, footer: bool) -> str:
    body = (
        f"Thành phố {SUBJECTS[i % len(SUBJECTS)]} khởi công dự án số {i} về giao thông.\nDự "
        f"án {i} dự kiến hoàn thành sau {i + 2} năm.\n"
    )
    return body + (f"{FOOTER}\nChia sẻ bài viết\nBình luận ({i * 7})\n" if footer else "")


def outlet_docs():
    """Outlet A: 10 articles with a footer and a comment counter; outlet B: 40 without."""
    docs = [("vi", "A", article(i, True)) for i in range(10)]
    docs += [("vi", "B", article(i, False)) for i in range(40)]
    docs.append(("vi", "B", article(99, False) + "Xem thêm tin tức\n"))  # once: not a pattern
    return docs


def test_a_repeated_footer_of_one_outlet_is_learned_with_its_counts():
    learned = learn_lines(outlet_docs(), min_documents=5, min_share=0.1)
    assert [(x.outlet, x.line, x.documents, x.outlet_documents) for x in learned] == [
        ("A", normalise_line(FOOTER), 10, 10),
        ("A", "chia sẻ bài viết", 10, 10),
    ]  # "Bình luận (n)" differs in its number: digits are kept, so it is not learned


def test_both_thresholds_are_needed():
    docs = [("vi", "A", article(i, i < 4)) for i in range(10)]  # footer in 4 documents (40%)
    assert learn_lines(docs, 5, 0.1) == []
    docs = [("vi", "A", article(i, i < 6)) for i in range(100)]  # in 6 documents but 6% of the outlet
    assert learn_lines(docs, 5, 0.1) == []
    assert [x.documents for x in learn_lines(docs, 5, 0.05)] == [6, 6]
    docs = [("vi", "A", article(i, False) + "***\n2024\n") for i in range(10)]
    assert learn_lines(docs, 5, 0.1) == []  # lines without a letter are never learned
    docs = [("vi", "A", article(i, False) + ("Lặp lại.\n" * 3 if i == 0 else "")) for i in range(10)]
    assert learn_lines(docs, 2, 0.1) == []  # repeated inside one article: counted once
    with pytest.raises(ValueError):
        learn_lines(docs, 1, 0.1)


def test_learned_rules_remove_and_log_every_copy():
    learned = learn_lines(outlet_docs(), 5, 0.1)
    rules = parse_rules(rules_toml(learned), "learned")
    assert [r.name for r in rules] == [TEASER_NAME, "learned: A"]
    text = canonical_text(article(3, True).replace("Chia sẻ bài viết", "CHIA  SẺ bài viết "))
    cleaned, removals = remove_boilerplate(text, rules, "vi", outlet="A")
    assert cleaned == canonical_text(article(3, False)).strip() + "\nBình luận (21)"
    assert [(r.rule, r.line, r.text) for r in removals] == [
        ("learned: A", 3, FOOTER),
        ("learned: A", 4, "CHIA  SẺ bài viết"),
    ]
    # a sentence that merely contains the footer's words is kept
    kept, none = remove_boilerplate(f"Ông nói: {FOOTER}", rules, "vi", outlet="A")
    assert none == [] and kept == f"Ông nói: {FOOTER}"
    assert remove_boilerplate(FOOTER, rules, "en", outlet="A")[1] == []  # a rule learned on Vietnamese outlets
    # scoped to the outlet that taught it: the same line in outlet B (or with no outlet) is kept
    assert rules[1].outlets == ("A",) and rules[0].outlets == ()
    assert remove_boilerplate(text, rules, "vi", outlet="B")[1] == [] and remove_boilerplate(text, rules, "vi")[1] == []


def test_a_footer_of_one_outlet_is_not_cut_from_another_outlets_body(tmp_path):
    """Outlet A prints the footer under every article; outlet B quotes the same line once, in its
    body text: only A's copies are cut (and logged), B's article keeps its line."""
    rows = [(f"a{i}", "vi", "A", article(i, True)) for i in range(10)]
    rows += [(f"b{i}", "vi", "B", article(i + 20, False)) for i in range(10)]
    quoted = f"Báo B đưa tin về bản quyền.\n{FOOTER}\nÔng Nam nói thêm về dự án.\n"
    rows.append(("b_quote", "vi", "B", quoted))
    study = table_study(tmp_path, "a.csv", csv_text(rows), 'languages = ["vi"]\n')
    assert main(["prepare", "--study", str(study), "--quiet"]) == 0
    cleaning = pd.read_csv(tmp_path / "out" / "cleaning_log.csv", dtype=str, keep_default_na=False)
    cut = cleaning[cleaning["text"] == FOOTER]
    assert sorted(cut["doc_id"]) == sorted(f"a{i}" for i in range(10)) and set(cut["rule"]) == {"learned: A"}
    assert "b_quote" not in set(cleaning["doc_id"])


@pytest.mark.parametrize(
    "line, is_teaser",
    [
        ("Chùm ảnh hoa Đà Lạt(30/11/2004)", True),
        ("Hà Nội sắp ngừng đăng ký xe máy tại 3 quận (08/12/2004)", True),
        ("Lễ cưới tập thể tại Đà Lạt: 70 đôi đã đăng ký(23/11)", True),
        ("Hội nghị sẽ họp tại Hà Nội (30/11/2004).", False),  # a sentence
        ("Hội nghị kết thúc.(30/11/2004)", False),
        ("(30/11/2004)", False),  # a date alone is no headline
        ("Giá vàng tăng (32/11/2004)", False),  # not a date
        ("Giá vàng tăng (3 triệu đồng)", False),
    ],
)
def test_teaser_lines(line, is_teaser):
    assert bool(re.search(TEASER_PATTERN, line)) is is_teaser


def test_duplicates_first_copy_kept():
    base = " ".join(f"từ{i}" for i in range(60))
    docs = [
        ("a", "vi", base),
        ("b", "vi", "khác hẳn " * 30),
        ("c", "vi", base + " thêm"),
        ("d", "en", base),
        ("e", "vi", base + " nữa"),
    ]
    dropped = duplicates_to_drop(docs, 5, 0.5)
    assert [(d, kept) for d, kept, _ in dropped] == [("c", "a"), ("e", "a")]  # d is another language
    assert dropped[0][2] == pytest.approx(56 / 57)  # 56 shingles shared; c has one more


def test_prepare_logs_learned_cuts_and_drops_duplicates(tmp_path, caplog):
    rows = [(f"a{i}", "vi", "A", article(i, True)) for i in range(10)] + [
        (f"b{i}", "vi", "B", article(i + 10, False)) for i in range(10)
    ]
    rows.append(("copy", "vi", "B", article(10, False)))  # the same text as b0
    study = table_study(tmp_path, "a.csv", csv_text(rows), 'drop_duplicates = true\nlanguages = ["vi"]\n')
    with caplog.at_level(logging.INFO, logger="analysis"):
        assert main(["prepare", "--study", str(study)]) == 0
    assert "drop_duplicates: copy dropped (near-duplicate of b0" in caplog.text
    cleaning = pd.read_csv(tmp_path / "out" / "cleaning_log.csv", dtype=str, keep_default_na=False)
    learned = cleaning[cleaning["rule"] == "learned: A"]
    assert sorted(learned["doc_id"]) == sorted([f"a{i}" for i in range(10)] * 2)
    assert set(learned["text"]) == {FOOTER, "Chia sẻ bài viết"}
    summary = pd.read_csv(tmp_path / "out" / "corpus_summary.csv", dtype=str, keep_default_na=False)
    assert summary.iloc[-1]["documents"] == "20"
    terms = pd.read_csv(tmp_path / "out" / "preparation_by_document.csv", dtype=str)
    assert "copy" not in set(terms["doc_id"])


def test_learning_can_be_switched_off(tmp_path):
    rows = [(f"a{i}", "vi", "A", article(i, True)) for i in range(10)]
    study = table_study(tmp_path, "a.csv", csv_text(rows), 'languages = ["vi"]\n')
    study.write_text(study.read_text(encoding="utf-8") + "[text]\nlearn_boilerplate = false\n", encoding="utf-8")
    assert main(["prepare", "--study", str(study), "--quiet"]) == 0
    cleaning = pd.read_csv(tmp_path / "out" / "cleaning_log.csv", dtype=str, keep_default_na=False)
    assert not cleaning["rule"].str.startswith("learned").any()


@pytest.mark.corpus
def test_real_corpora_teasers_and_learned_lines_cut_only_chrome():
    """VNTC: the teaser rule's cuts, read in a seeded sample, are headline + date lines; neither
    corpus (cleaned sets, one group per category) teaches a recurring line; no article loses its body."""
    rules = parse_rules(rules_toml([]), "learned")
    for name, language in (("vntc_sample", "vi"), ("bbc_news", "en")):
        root = SHARED / "corpora" / name
        if not (root / "metadata.csv").is_file():
            pytest.skip("shared corpora absent")
        with open(root / "metadata.csv", encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        rows = [rows[i] for i in range(0, len(rows), max(1, len(rows) // 800))]
        docs = [(language, r["category"], canonical_text((root / r["path"]).read_text(encoding="utf-8"))) for r in rows]
        assert learn_lines(docs, 5, 0.1) == []
        cuts = []
        for _, _, text in docs:
            cleaned, removals = remove_boilerplate(text, rules, language)
            cuts += [r.text for r in removals]
            assert len(cleaned) >= 0.5 * len(text)
        if language == "en":
            assert cuts == []
            continue
        assert len(cuts) > 50
        for cut in random.Random(13).sample(cuts, 40):
            assert (
                re.search(r"\(\d{1,2}/\d{1,2}(/\d{2,4})?\)$", cut)
                and len(cut) <= 210
                and not re.search(r"[.!?]\s*\(", cut)
            ), cut


@pytest.mark.parametrize("form", ["folder", "csv"])
def test_validate_reports_documents_the_learned_rules_would_empty(tmp_path, capsys, form):
    """Outlet C's two short items are only lines C repeats (its footer and share line): the
    learned rules would leave them empty and preparation would stop; validate says so, one
    line per document, exit 2, and writes nothing (not even a text pack)."""
    rows = [(f"a{i}", "vi", "C", article(i, True)) for i in range(10)]
    rows += [
        ("c_short1", "vi", "C", f"{FOOTER}\nChia sẻ bài viết\n"),
        ("c_short2", "vi", "C", f"Chia sẻ bài viết\n{FOOTER}\n"),
    ]
    study = table_study(tmp_path, "a.csv", csv_text(rows), 'languages = ["vi"]\n')
    if form == "folder":
        from analysis.files import write_study

        (tmp_path / "a.csv").unlink()
        for doc_id, _, _, text in rows:
            (tmp_path / "docs").mkdir(exist_ok=True)
            (tmp_path / "docs" / f"{doc_id}.txt").write_text(text, encoding="utf-8")
        settings = study.read_text(encoding="utf-8").replace(
            'table = "a.csv"\n', 'folder = "docs"\nmetadata = "docs/metadata.csv"\n'
        )
        write_study(
            tmp_path,
            settings,
            metadata=[{"doc_id": d, "file": f"{d}.txt", "language": lang, "outlet": o} for d, lang, o, _ in rows],
            metadata_name="docs/metadata.csv",
        )
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert main(["validate", "--study", str(study)]) == 2
    err = [line for line in capsys.readouterr().err.strip().splitlines() if line.startswith("error")]
    assert len(err) == 2 and all(
        "no text left after boilerplate removal (with the boilerplate learned from the corpus)" in line for line in err
    )
    assert ("c_short1" in err[0] or "record 11" in err[0]) and ("c_short2" in err[1] or "record 12" in err[1])
    assert "learned_min_share" in err[0]
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    study.write_text(study.read_text(encoding="utf-8") + "[text]\nlearn_boilerplate = false\n", encoding="utf-8")
    assert main(["validate", "--study", str(study), "--quiet"]) == 0


@given(st.text(alphabet="aBẻe\u0301 \t\u00a0\u3000\u2028\x1c\x85\u200b", max_size=20) | st.text(max_size=20))
def test_normalise_line_splits_on_the_whitespace_a_regular_expression_would(line):
    # str.split() and \s are the same set of Unicode whitespace characters (not the zero-width space)
    import unicodedata

    assert normalise_line(line) == re.sub(r"\s+", " ", unicodedata.normalize("NFC", line)).strip().casefold()
