import pytest

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
