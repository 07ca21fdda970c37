import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import InputError
from analysis.files import RESOURCES
from analysis.text.clean import parse_rules, remove_boilerplate, split_headline
from analysis.text.normalize import canonical_text
from tests.conftest import seed_text

RULES = parse_rules((RESOURCES / "boilerplate.toml").read_text(encoding="utf-8"), "boilerplate.toml")


def clean(prefix: str, language: str = "vi"):
    return remove_boilerplate(canonical_text(seed_text(prefix)), RULES, language)


def test_vtv_chrome_removed_from_003_and_logged():
    text, removals = clean("003")
    for chrome in (
        "Cùng chuyên mục",
        "TIN MỚI",
        "ĐANG PHÁT",
        "Mời quý độc giả",
        "GMT+7",
        "(Ảnh: TTXVN)",
        "Ảnh: Tiến Trung",
        "Trần Lưu Quang",
        "- Ảnh 1.",
        "VTV.vn",
    ):
        assert chrome not in text, chrome
    assert {r.rule for r in removals} == {
        "related-block",
        "promo",
        "dateline",
        "related-teaser",
        "image-placeholder",
        "photo-caption-with-credit",
        "site-prefix",
    }
    # the teaser headline and its lead are two logged removals; the article body is intact
    assert sum(r.rule == "related-teaser" for r in removals) == 2
    assert "Về vấn đề trên biển, Trưởng Ban Đối ngoại Trung ương Lê Hoài Trung đề nghị" in text
    assert text.startswith("Tiếp tục phát triển lành mạnh")


def test_inline_photo_credit_and_byline_in_presegmented_seeds():
    text, removals = clean("000")
    assert "Ảnh : Bộ Ngoại_giao" not in text and not text.endswith("Như Tâm")
    assert "Vương_Nghị . Hai bộ_trưởng nhất_trí" in " ".join(text.split())
    assert [(r.rule, r.text) for r in removals] == [
        ("photo-credit-known-source", "Ảnh : Bộ Ngoại_giao"),
        ("trailing-byline", "Như Tâm"),
    ]
    text, removals = clean("001")
    assert [(r.rule, r.text) for r in removals] == [
        ("photo-credit-known-source", "Ảnh : BNG"),
        ("trailing-byline", "Thanh_Tâm"),
    ]


def test_english_footer_and_caption_lines():
    text, removals = clean("002", "en")
    assert [r.text for r in removals] == ["Source", "Comment (0)"]
    assert text.endswith("Duc Thien (China).")
    text, removals = clean("004")
    assert [r.rule for r in removals] == ["photo-caption-bar", "photo-caption-bar"]
    assert "Quang cảnh buổi làm việc" not in text


def test_rules_respect_languages_and_line_numbers():
    rules = parse_rules(
        '[[rule]]\nname = "f"\nkind = "drop_line"\npattern = "^Source$"\nlanguages = ["en"]\n', "r.toml"
    )
    assert remove_boilerplate("a\nSource", rules, "vi")[0] == "a\nSource"
    text, removals = remove_boilerplate("a\n\nSource", rules, "en")
    assert text == "a" and removals[0].line == 3


@pytest.mark.parametrize(
    "toml,fragment",
    [
        ('[[rule]]\nname = "x"\nkind = "erase"\npattern = "a"\n', "unknown kind 'erase'"),
        ('[[rule]]\nname = "x"\nkind = "strip"\npattern = "("\n', "bad regular expression"),
        ('[[rule]]\nname = "x"\nkind = "strip"\n', "missing 'pattern'"),
        ('[[rule]]\nname = "x"\nkind = "strip"\npattern = "a"\ncolour = 1\n', "unknown key 'colour'"),
        ("[rules]\n", "unknown key 'rules'"),
    ],
)
def test_rule_file_errors(toml, fragment):
    with pytest.raises(InputError) as info:
        parse_rules(toml, "my_rules.toml")
    assert fragment in str(info.value) and "my_rules.toml" in str(info.value)


def test_split_headline_ignores_spacing_and_underscores():
    text = "Việt - Trung_thúc_đẩy quan_hệ theo định_hướng ' 6 hơn ' Bộ_trưởng Ngoại_giao nói ."
    title = "Việt - Trung thúc đẩy quan hệ theo định hướng '6 hơn'"
    assert (
        split_headline(text, title)
        == "Việt - Trung_thúc_đẩy quan_hệ theo định_hướng ' 6 hơn '\nBộ_trưởng Ngoại_giao nói ."
    )
    assert split_headline("Other text here.", title) == "Other text here."
    assert split_headline("Title.\nBody", "Title.") == "Title.\nBody"


# ------------------------------------------------ one joined search before the line-by-line search

_TRICKY_RULES = parse_rules(
    "\n".join(
        f"[[rule]]\nname = 'r{i}'\nkind = '{kind}'\npattern = '''{pattern}'''\n"
        for i, (kind, pattern) in enumerate(
            [
                ("drop_line", r"^\s*Nguồn\s*:?\s*$"),  # anchored both ends: a joined search must not miss it
                ("drop_line", r"\s\|\s*$"),
                ("strip", r"\(?\s*Ảnh\s*:[^)]*\)?"),  # [^)] and \s may run across a line end when joined
                ("drop_line_and_next", r"^Xem thêm\b"),
                ("truncate_from", r"^(?i:tin liên quan)"),
                ("strip_last_line", r"\s[A-Z]\w+$"),
                ("drop_line", r"(?<=\.)\s*Nguồn"),  # lookbehind: line by line only
                ("drop_line", r"^(?=.{3,9}$)a+ b"),  # lookahead: line by line only
                ("strip", r"\Aa"),  # the start of the line, not of the text
                ("drop_line", r"(b|c)\1x$|c\s*$"),  # a back-reference
            ]
        )
    ),
    "test rules",
)


_PIECES = ["a", "b", "c", " ", "\n", "\n", ".", "|", "(", ")", ":", "x", "A", "Bc", "Nguồn", "Ảnh", "Xem thêm",
           "Tin liên quan", "   "]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
def test_a_joined_search_first_removes_what_the_line_by_line_search_removes(text):
    from analysis.text import clean as cleaning

    fast = remove_boilerplate(text, _TRICKY_RULES, "vi")
    cleaning._may_match, real = (lambda rule, lines: True), cleaning._may_match
    try:
        every_line = remove_boilerplate(text, _TRICKY_RULES, "vi")
    finally:
        cleaning._may_match = real
    assert fast == every_line


def test_which_patterns_are_searched_joined():
    from analysis.text.clean import _line_local

    joined = {rule.pattern.pattern: _line_local(rule.pattern) is not None for rule in _TRICKY_RULES}
    assert [joined[rule.pattern.pattern] for rule in _TRICKY_RULES] == [True] * 6 + [False] * 3 + [True]
    packaged = parse_rules((RESOURCES / "boilerplate.toml").read_text(encoding="utf-8"), "boilerplate.toml")
    assert sum(_line_local(rule.pattern) is not None for rule in packaged) >= 10  # most rules gain


def test_a_joined_search_out_of_time_falls_back_to_the_lines(monkeypatch):
    from analysis.text import clean as cleaning

    rules = parse_rules("[[rule]]\nname = 'n'\nkind = 'drop_line'\npattern = '^Nguồn$'\n", "r")
    monkeypatch.setattr(cleaning, "_limit", lambda line: 0.0 if "\n" in line else 1.0)  # the joined search times out
    assert remove_boilerplate("Hai bên.\nNguồn\nBa.", rules, "vi")[0] == "Hai bên.\nBa."
