import csv
import difflib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.text.normalize import canonical_vi
from analysis.text.tokens import (
    PhraseMerger,
    PreparedDocument,
    TermCounter,
    TermRules,
    _underthesea_words,
    desegment,
    is_presegmented,
    proper_names,
    segment_en,
    segment_vi,
    split_sentences,
    term_sentences,
    token_kind,
    tokenize_en,
)
from tests.conftest import seed_text

NAMES_VI = ["Bùi Thanh Sơn", "Tập Cận Bình", "Việt Nam", "Trung Quốc", "Quảng Tây"]

# (canonical style, new style): each pair must segment to one identical word.
COMPOUNDS = [
    ("ủy ban", "uỷ ban"),
    ("hòa bình", "hoà bình"),
    ("thỏa thuận", "thoả thuận"),
    ("hòa giải", "hoà giải"),
    ("hòa hợp", "hoà hợp"),
    ("văn hóa", "văn hoá"),
    ("hiện đại hóa", "hiện đại hoá"),
    ("công nghiệp hóa", "công nghiệp hoá"),
    ("hàng hóa", "hàng hoá"),
    ("khỏe mạnh", "khoẻ mạnh"),
    ("sức khỏe", "sức khoẻ"),
    ("thủy sản", "thuỷ sản"),
    ("thủy điện", "thuỷ điện"),
    ("thủy lợi", "thuỷ lợi"),
    ("tùy thuộc", "tuỳ thuộc"),
    ("lũy kế", "luỹ kế"),
    ("thủy thủ", "thuỷ thủ"),
    ("hòa nhập", "hoà nhập"),
    ("hỏa hoạn", "hoả hoạn"),
    ("họa sĩ", "hoạ sĩ"),
    ("xóa bỏ", "xoá bỏ"),
    ("khóa học", "khoá học"),
    ("thỏa mãn", "thoả mãn"),
    ("hủy bỏ", "huỷ bỏ"),
    ("hòa thuận", "hoà thuận"),
    ("thủy triều", "thuỷ triều"),
    ("ủy viên", "uỷ viên"),
    ("ủy quyền", "uỷ quyền"),
    ("tòa án", "toà án"),
    ("tỏa sáng", "toả sáng"),
    ("lũy tiến", "luỹ tiến"),
    ("chính thức hóa", "chính thức hoá"),
    ("hòa hoãn", "hoà hoãn"),
    ("thỏa đáng", "thoả đáng"),
]


def words(text: str, merger=None) -> list[str]:
    paragraphs, _ = segment_vi(text, merger=merger)
    return [t for p in paragraphs for s in p for t in s]


def test_seed_sentence_tokens():
    sentence = (
        "Bộ trưởng Bùi Thanh Sơn khẳng định, Đảng, Nhà nước Việt Nam luôn ủng hộ, tạo điều kiện thuận lợi "
        "để các địa phương Việt Nam tăng cường hợp tác cùng có lợi với các địa phương Trung Quốc."
    )
    assert words(sentence, PhraseMerger(NAMES_VI)) == [
        "Bộ_trưởng",
        "Bùi_Thanh_Sơn",
        "khẳng_định",
        ",",
        "Đảng",
        ",",
        "Nhà_nước",
        "Việt_Nam",
        "luôn",
        "ủng_hộ",
        ",",
        "tạo",
        "điều_kiện",
        "thuận_lợi",
        "để",
        "các",
        "địa_phương",
        "Việt_Nam",
        "tăng_cường",
        "hợp_tác",
        "cùng",
        "có",
        "lợi",
        "với",
        "các",
        "địa_phương",
        "Trung_Quốc",
        ".",
    ]


def test_compounds_kept_whole_in_both_tone_styles():
    whole = 0
    for canonical, new_style in COMPOUNDS:
        a = words(f"Họ bàn về {canonical} hôm nay.")
        b = words(f"Họ bàn về {new_style} hôm nay.")
        assert a == b, (canonical, a, b)  # both spellings always give identical tokens
        whole += canonical.replace(" ", "_") in a
    assert len(COMPOUNDS) >= 30
    assert whole / len(COMPOUNDS) >= 0.9, whole


@pytest.mark.parametrize("prefix", ["000", "001"])
def test_resegmenting_the_presegmented_seeds_gives_their_tokens_back(prefix):
    text = seed_text(prefix)
    assert is_presegmented(text)
    reference = [canonical_vi(w) for w in text.split()]
    ours = _underthesea_words(desegment(text))
    agreement = difflib.SequenceMatcher(a=reference, b=ours, autojunk=False).ratio()
    assert agreement >= 0.99, agreement
    # the same characters in the same order: only word boundaries may differ
    assert "".join(reference).replace("_", "") == "".join(ours).replace("_", "")


def test_presegmented_detection():
    assert not is_presegmented(seed_text("003"))
    assert not is_presegmented(seed_text("002"))
    assert desegment("Bộ_trưởng Bùi_Thanh_Sơn file_2") == "Bộ trưởng Bùi Thanh Sơn file_2"


def test_phrase_merger_joins_across_segmentation_choices():
    merger = PhraseMerger(["Tập Cận Bình", "Biển Đông"])
    assert merger.merge(["Chủ_tịch", "Tập", "Cận_Bình", "nói"]) == ["Chủ_tịch", "Tập_Cận_Bình", "nói"]
    assert merger.merge(["Tập_Cận", "Bình"]) == ["Tập_Cận_Bình"]
    assert merger.merge(["ở", "biển", "Đông"]) == ["ở", "biển_Đông"]
    # a phrase must end on a token boundary
    assert merger.merge(["Tập", "Cận_Bình_Minh"]) == ["Tập", "Cận_Bình_Minh"]


def test_phrase_merger_is_stateless_between_calls():
    merger = PhraseMerger(["Lưu Ninh"])
    assert merger.merge(["Lưu", "Ninh"]) == ["Lưu_Ninh"]
    assert merger.merge(["Lưu", "trữ"]) == ["Lưu", "trữ"]


def test_english_tokens():
    assert tokenize_en("Vietnam-China ties, people-to-people exchanges and China's U.S. policy in 1982.") == [
        "Vietnam-China",
        "ties",
        ",",
        "people-to-people",
        "exchanges",
        "and",
        "China",
        "'s",
        "U.S.",
        "policy",
        "in",
        "1982",
        ".",
    ]
    assert tokenize_en("Mr. Wang don't agree") == ["Mr.", "Wang", "don't", "agree"]


def test_english_sentences_and_names():
    paragraphs = segment_en(
        "Wang Yi met Bui Thanh Son. They agreed.\nNew line.", PhraseMerger(["Wang Yi", "Bui Thanh Son"], " ")
    )
    assert paragraphs == [[["Wang Yi", "met", "Bui Thanh Son", "."], ["They", "agreed", "."]], [["New", "line", "."]]]


def test_split_sentences_keeps_closing_quotes():
    assert split_sentences(["Ông", "nói", ".", '"', "Hai", "bên", "."]) == [
        ["Ông", "nói", ".", '"'],
        ["Hai", "bên", "."],
    ]


@pytest.mark.parametrize(
    "token,kind",
    [
        ("hợp_tác", "word"),
        ("175,56", "number"),
        ("3-4", "number"),
        ("18/1/1950", "number"),
        ("16th", "number"),
        (",", "punct"),
        ("(", "punct"),
        ("U.S.", "word"),
    ],
)
def test_token_kind(token, kind):
    assert token_kind(token) == kind


def test_terms_drop_stopwords_numbers_punctuation_and_lemmatise_english():
    rules = TermRules({"vi": frozenset({"các", "với"}), "en": frozenset({"the", "of", "'s"})})
    vi = PreparedDocument("v", "vi", [[["Các", "địa_phương", "hợp_tác", "với", "Quảng_Tây", "năm", "2023", "."]]])
    # a name keeps its capitals in Vietnamese as in English (written so inside the sentence, never in lower case)
    assert term_sentences(vi, rules) == [[None, "địa_phương", "hợp_tác", None, "Quảng_Tây", "năm", None, None]]
    en = PreparedDocument(
        "e", "en", [[["The", "agreements", "of", "China", "'s", "border", "gates", "."], ["China", "signs", "."]]]
    )
    assert term_sentences(en, rules) == [
        [None, "agreement", None, "China", None, "border", "gate", None],
        ["China", "sign", None],
    ]


def test_one_case_rule_for_both_languages():
    rules = TermRules({"vi": frozenset({"và"}), "en": frozenset({"and", "the"})})
    # the same sentence in each language: names inside the sentence keep their capitals, the first word
    # of a sentence is lower-cased, a word also written in lower case in the document is lower-cased
    vi = PreparedDocument(
        "v",
        "vi",
        [
            [["Hợp_tác", "giữa", "Việt_Nam", "và", "Trung_Quốc", "."], ["Chính_phủ", "nói", "."]],
            [["chính_phủ", "gặp", "Bộ_trưởng", "Vương_Nghị", "."]],
        ],
    )
    en = PreparedDocument(
        "e",
        "en",
        [
            [["Cooperation", "between", "Vietnam", "and", "China", "."], ["Government", "say", "."]],
            [["government", "meet", "minister", "Wang Yi", "."]],
        ],
    )
    assert term_sentences(vi, rules) == [
        ["hợp_tác", "giữa", "Việt_Nam", None, "Trung_Quốc", None],
        ["chính_phủ", "nói", None],
        ["chính_phủ", "gặp", "bộ_trưởng", "Vương_Nghị", None],  # a title is capitalised on its first syllable only
    ]
    assert term_sentences(en, rules) == [
        ["cooperation", "between", "Vietnam", None, "China", None],
        ["government", "say", None],
        ["government", "meet", "minister", "Wang Yi", None],
    ]
    # acronyms keep their form in both; in a headline in capitals, stopwords go and the rest keep their form
    vi_caps = PreparedDocument(
        "v", "vi", [[["Tại", "TP", "HCM", "hôm_nay", "trời", "mưa", "."], ["VIỆT_NAM", "VÀ", "WTO", "."]]]
    )
    assert term_sentences(vi_caps, rules) == [
        ["tại", "TP", "HCM", "hôm_nay", "trời", "mưa", None],
        ["VIỆT_NAM", None, "WTO", None],
    ]


def test_units_and_single_letters_are_not_terms_in_either_language():
    rules = TermRules({"vi": frozenset(), "en": frozenset()})
    vi = PreparedDocument(
        "v", "vi", [[["Gừng", "tươi", "200", "g", ",", "đường", "5", "kg", ",", "200g", ",", "5", "xe", "."]]]
    )
    en = PreparedDocument(
        "e", "en", [[["It", "cost", "£", "1.8", "m", "for", "5", "km", "and", "2", "GB", "in", "GB", "."]]]
    )
    assert [t for t in term_sentences(vi, rules)[0] if t] == ["gừng", "tươi", "đường", "xe"]
    assert [t for t in term_sentences(en, rules)[0] if t] == ["it", "cost", "for", "and", "in", "GB"]


def test_proper_names_truecase_per_document():
    sentences = [["The", "Party", "met", "China", "."], ["China", "and", "the", "party", "."], ["ASEAN", "met", "."]]
    assert proper_names(sentences) == {"China", "ASEAN"}


@given(st.lists(st.sampled_from(["Tập", "Cận", "Bình", "Cận_Bình", "Tập_Cận", "nói", "Lưu", "Ninh"]), max_size=12))
def test_merging_never_changes_the_syllables(tokens):
    merged = PhraseMerger(["Tập Cận Bình", "Lưu Ninh"]).merge(tokens)
    assert "_".join(merged).split("_") == "_".join(tokens).split("_") or not tokens


def test_acronyms_glued_by_the_segmenter_are_split():
    from analysis.text.tokens import split_acronyms

    assert split_acronyms(["ASEAN_thúc_đẩy", "XX_Đảng", "TP_HCM", "Bộ_trưởng"]) == [
        "ASEAN",
        "thúc_đẩy",
        "XX",
        "Đảng",
        "TP_HCM",
        "Bộ_trưởng",
    ]


def test_known_names_are_split_off_glued_words_but_compounds_stay():
    merger = PhraseMerger(["Việt Nam", "Đảng Cộng sản Việt Nam", "Trung Quốc"])
    assert merger.split_glued(["nông_sản_Việt_Nam", "Đảng_Cộng_sản_Việt_Nam", "Trung_Quốc_đạt"]) == [
        "nông_sản",
        "Việt_Nam",
        "Đảng_Cộng_sản_Việt_Nam",
        "Trung_Quốc",
        "đạt",
    ]


def test_pyvi_is_the_recorded_fast_alternative():
    from analysis.text.tokens import segmenter_id

    paragraphs, _ = segment_vi("Hai nước ký thỏa thuận hợp tác kinh tế.", segmenter="pyvi")
    tokens = [t for p in paragraphs for s in p for t in s]
    assert "hợp_tác" in tokens and "kinh_tế" in tokens and tokens[-1] == "."
    assert segmenter_id("pyvi").startswith("pyvi ") and segmenter_id("pyvi") != segmenter_id("underthesea")


def test_a_callable_segmenter_is_used_and_recorded():
    from analysis.text.tokens import get_segmenter, register_segmenter, segment_vi, segmenter_id

    def syllables(text: str) -> list[str]:
        return text.split()

    paragraphs, _ = segment_vi("Hai nước hợp tác.", segmenter=syllables)
    assert paragraphs == [[["Hai", "nước", "hợp", "tác."]]]
    assert segmenter_id(syllables).endswith("test_a_callable_segmenter_is_used_and_recorded.<locals>.syllables")
    register_segmenter("syllables", syllables, "syllables 1.0")
    try:
        assert segmenter_id("syllables") == "syllables 1.0" and get_segmenter("syllables").words is syllables
    finally:
        from analysis.text.tokens import SEGMENTERS

        SEGMENTERS.pop("syllables")
    with pytest.raises(ValueError, match="unknown segmenter 'vncorenlp'"):
        get_segmenter("vncorenlp")


def test_an_acronym_in_ordinary_text_is_not_its_lower_case_stopword():
    rules = TermRules({"en": frozenset({"us", "who", "the", "and", "told"})})
    en = PreparedDocument(
        "e", "en", [[["The", "US", "and", "WHO", "told", "us", "."], ["THE", "US", "AND", "CHINA", "TALK", "."]]]
    )
    # "US" and "WHO" in ordinary text are counted as written; the pronoun "us" is still a stopword;
    # in a headline in capitals, capitals mark no acronym: its stopwords (THE, US, AND) go; its other
    # words keep their capitals as names, as before (proper_names takes every all-capital word)
    assert term_sentences(en, rules) == [
        [None, "US", None, "WHO", None, None, None],
        [None, None, None, "CHINA", "TALK", None],
    ]


# ---------------------------------------------------------------- counted terms without the terms


def _counted(doc, rules):
    return sum(t is not None for sentence in term_sentences(doc, rules) for t in sentence)


def test_term_counter_counts_by_hand():
    rules = TermRules({"vi": frozenset({"và"}), "en": frozenset({"be", "we", "the"})})
    counter = TermCounter(rules)
    # Vietnamese: "và" a stopword, "ASEAN" an acronym (counted), "km" after a number a unit symbol, "5" a number,
    # "ổ" one letter: hai, nước, ASEAN -> 3 terms; 6 word tokens (5 and . are not words)
    vi = PreparedDocument("v", "vi", [[["Hai", "nước", "và", "ASEAN", "5", "km", "ổ", "."]]])
    assert counter.count(vi) == (1, 6, ["hai", "nước", "và", "asean", "km", "ổ"], 3)
    # "VÀ" in ordinary text is an acronym (counted); in a sentence in capitals it is the stopword "và"
    caps = PreparedDocument("c", "vi", [[["Hai", "nước", "ký", "VÀ", "."], ["HAI", "NƯỚC", "VÀ", "ASEAN", "."]]])
    assert counter.count(caps)[3] == 4 + 3  # hai, nước, ký, VÀ; HAI, NƯỚC, ASEAN
    # English: "Is" inside a sentence and never in lower case is a name, kept as "Is" (counted); its lemma "be"
    # is a stopword, so where "is" is also written in lower case it is not counted
    named = PreparedDocument("e", "en", [[["We", "saw", "Is", "."]]])
    assert counter.count(named)[3] == 2  # saw, Is
    plain = PreparedDocument("f", "en", [[["We", "saw", "Is", "."], ["It", "is", "here", "."]]])
    assert counter.count(plain)[3] == 3  # saw, it, here
    for doc in (vi, caps, named, plain):
        assert counter.count(doc)[3] == _counted(doc, rules)


_TOKENS = st.sampled_from(
    [
        "Hai", "nước", "và", "VÀ", "ASEAN", "US", "us", "5", "2024", "km", "KM", "g", "200g", "ổ", "Ý", ".", ",", '"',
        "Việt_Nam", "Bộ_trưởng", "bộ_trưởng", "The", "the", "Is", "is", "was", "Was", "agreements", "United Nations",
        "China", "china", "WHO", "who", "I", "a", "A", "people", "People", "m", "5km", "THE", "OF", "dogs", ":", "'",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)  # the first example loads simplemma's English dictionary
@given(
    st.sampled_from(["vi", "en"]),
    st.lists(st.lists(st.lists(_TOKENS, min_size=0, max_size=9), min_size=1, max_size=3), min_size=1, max_size=3),
    st.booleans(),
)
def test_term_counter_equals_term_sentences_and_document_counts(language, paragraphs, lemmatize):
    from analysis.text.textstat import document_counts, summary_counts

    rules = TermRules(
        {"vi": frozenset({"và", "nước", "us"}), "en": frozenset({"the", "be", "who", "of", "us", "a", "people"})},
        lemmatize,
    )
    doc = PreparedDocument("d", language, paragraphs)
    type_ids, others = {}, {}
    (sentences, words, ids), terms = summary_counts(doc, TermCounter(rules), type_ids)
    expected = document_counts(doc, others)
    assert (sentences, words, ids.tolist(), type_ids) == (expected[0], expected[1], sorted(expected[2]), others)
    assert terms == _counted(doc, rules)


def test_term_counter_on_the_seed_corpus():
    # every seed text, prepared: the counter gives term_sentences' count, document by document
    from analysis.corpus.documents import Document
    from analysis.text.prepare import Preparation, prepare_document
    from tests.conftest import SEEDS

    rules = TermRules({"vi": frozenset({"và", "các", "của"}), "en": frozenset({"the", "of", "be", "and"})})
    counter = TermCounter(rules)
    rows = list(csv.DictReader(open(SEEDS / "metadata.csv", encoding="utf-8")))
    assert {r["language"] for r in rows} == {"vi", "en"}
    for row in rows:
        text = (SEEDS / row["file"]).read_text(encoding="utf-8")
        doc = prepare_document(Document(row["doc_id"], row["language"], text), Preparation("", "none", (), ()))
        assert counter.count(doc)[3] == _counted(doc, rules) > 0, row["file"]


def _term_sentences_token_by_token(doc, rules):
    """``term_sentences`` as it was written before the table of verdicts (every rule asked of every
    token in turn, the document's proper names worked out first): the reference for it."""
    from analysis.text.tokens import every_part_capitalised, is_acronym, is_symbol, lemma_en, mostly_upper_case

    sentences = list(doc.sentences())
    names = proper_names(sentences)
    out = []
    for sentence in sentences:
        terms = []
        in_caps = mostly_upper_case(sentence)
        for position, token in enumerate(sentence):
            if token_kind(token) != "word" or is_symbol(token, sentence[position - 1] if position else None):
                terms.append(None)
            elif not in_caps and is_acronym(token):
                terms.append(token)
            elif rules.is_stopword(token.lower(), doc.language):
                terms.append(None)
            elif doc.language == "en":
                if token in names or " " in token:
                    term = token
                else:
                    term = lemma_en(token.lower()) if rules.lemmatize_en else token.lower()
                terms.append(None if rules.is_stopword(term, "en") else term)
            else:
                terms.append(token if token in names and every_part_capitalised(token) else token.lower())
        out.append(terms)
    return out


#: One set of rules per switch for every example: the table of verdicts each keeps is reused from
#: document to document, as in a stage.
_SHARED_RULES = {
    lemmatize: TermRules(
        {"vi": frozenset({"và", "nước", "us"}), "en": frozenset({"the", "be", "who", "of", "us", "a", "people"})},
        lemmatize,
    )
    for lemmatize in (True, False)
}


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["vi", "en"]),
    st.lists(st.lists(st.lists(_TOKENS, min_size=0, max_size=9), min_size=1, max_size=3), min_size=1, max_size=3),
    st.booleans(),
)
def test_term_sentences_equals_the_rules_asked_token_by_token(language, paragraphs, lemmatize):
    doc = PreparedDocument("d", language, paragraphs)
    rules = _SHARED_RULES[lemmatize]
    expected = _term_sentences_token_by_token(doc, rules)
    assert term_sentences(doc, rules) == expected
    assert TermCounter(rules).count(doc)[3] == sum(t is not None for s in expected for t in s)


def test_term_sentences_by_hand_in_every_context():
    rules = TermRules({"vi": frozenset({"và"}), "en": frozenset({"be", "us"})})
    vi = PreparedDocument(
        "v",
        "vi",
        [
            [
                ["Ông", "Bộ_trưởng", "Việt_Nam", "và", "bộ_trưởng", "5", "km", "ha", "."],
                ["HAI", "NƯỚC", "VÀ", "WTO", "."],
            ]
        ],
    )
    # "Ông" opens its sentence, so it is no name; "Bộ_trưởng" is written in lower case too, and is not a name of
    # capitalised syllables; "km" after a number is a symbol, "ha" (not after a number) a word; in capitals, "VÀ"
    # is the stopword, and the other capitals are names of the document (proper_names keeps every acronym)
    assert term_sentences(vi, rules) == [
        ["ông", "bộ_trưởng", "Việt_Nam", None, "bộ_trưởng", None, None, "ha", None],
        ["HAI", "NƯỚC", None, "WTO", None],
    ]
    en = PreparedDocument("e", "en", [[["They", "told", "US", "and", "Is", "dogs", "."], ["It", "is", "."]]])
    # "US" an acronym in ordinary text (not the stopword "us"); "Is" inside a sentence is no name where "is" is
    # written too, so it is the stopword lemma "be"; "dogs" -> "dog"
    assert term_sentences(en, rules) == [["they", "tell", "US", "and", None, "dog", None], ["it", None, None]]


def test_the_rules_keep_their_table_of_verdicts_out_of_pickles_and_comparisons():
    import dataclasses
    import pickle

    rules = TermRules({"vi": frozenset({"và"})})
    term_sentences(PreparedDocument("v", "vi", [[["Hai", "nước", "và", "5", "km"]]]), rules)
    assert rules.verdicts("vi") is rules.verdicts("vi") and rules.verdicts("vi") is not rules.verdicts("en")
    copy = pickle.loads(pickle.dumps(rules))
    assert "_verdicts" in vars(rules) and "_verdicts" not in vars(copy)
    assert copy == rules == TermRules({"vi": frozenset({"và"})})
    other = dataclasses.replace(rules, stopwords={"vi": frozenset()})
    assert other.verdicts("vi") is not rules.verdicts("vi")
    assert term_sentences(PreparedDocument("v", "vi", [[["và"]]]), other) == [["và"]]


def _merge_one_token_at_a_time(merger, tokens):
    """The phrase merger as it was written first (every token tried in turn): the reference for merge."""
    from analysis.text.tokens import _syllables

    out, i, n = [], 0, len(tokens)
    while i < n:
        best_end, syllables, j = -1, (), i
        while j < n:
            syllables = syllables + _syllables(tokens[j])
            j += 1
            if syllables in merger._phrases:
                best_end = j
            if syllables not in merger._prefixes:
                break
        if best_end > i + 1:
            out.append(merger.joiner.join(p for t in tokens[i:best_end] for p in t.replace(" ", "_").split("_") if p))
            i = best_end
        else:
            out.append(tokens[i])
            i += 1
    return out


@given(
    st.lists(st.sampled_from(["Tập", "Cận", "Bình", "Cận_Bình", "Tập_Cận", "biển", "Đông", "Lưu", "Ninh", "nói", "."])),
    st.sampled_from(["_", " "]),
)
def test_merge_tries_only_where_a_phrase_may_start_and_merges_as_before(tokens, joiner):
    merger = PhraseMerger(["Tập Cận Bình", "Biển Đông", "Lưu Ninh", "Cận Bình Đông", "Tập Cận"], joiner)
    assert merger.merge(tokens) == _merge_one_token_at_a_time(merger, tokens)
    # a phrase may start inside one merged already (Cận of Tập Cận Bình): it is not tried again
    merged = merger.merge(["nói", "Tập", "Cận", "Bình", "Đông", "Lưu", "Ninh"])
    assert merged == ["nói", joiner.join(["Tập", "Cận", "Bình"]), "Đông", joiner.join(["Lưu", "Ninh"])]
