"""The bilingual codebook: validation messages with lines, matching, concept map, phrases, coverage."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from analysis.errors import InputError
from analysis.files import RESOURCES, read_study
from analysis.framing.codebook import (
    Hit,
    Matcher,
    codebook_audit,
    codebook_phrases,
    concept_map,
    coverage_report,
    parse_codebook,
    sentence_keys,
    stopword_exemptions,
    validate_codebook,
)
from analysis.prepared import load_preparation, load_term_rules, prepared_corpus
from analysis.stages.framing import load_codebook
from analysis.text.tokens import PreparedDocument, TermRules
from tests.conftest import write_study

NO_STOP = TermRules({})


def error_of(text: str, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        parse_codebook(text, source="cb.yaml", **kwargs)
    return str(info.value)


# ------------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("frames:\n  issue:\n    trade: {vi: [thương_mại]\n", 4, "not valid YAML"),
        ("frame:\n  issue: {}\n", 1, "unknown key 'frame' at the top level"),
        ("concepts:\n  trade: {vi: [thương_mại], fr: [commerce]}\n", 2, "unknown key 'fr' in concepts/trade"),
        ("concepts:\n  trade: {vi: [thương_mại]}\n  trade: {en: [trade]}\n", 3, "duplicate key 'concepts/trade'"),
        ("concepts:\n  Trade-Deal: {vi: [thương_mại]}\n", 2, "concept id 'Trade-Deal' is not lower-case"),
        ("concepts:\n  trade: {vi: [], en: [trade]}\n", 2, "empty pattern list 'concepts/trade/vi'"),
        ("concepts:\n", 1, "'concepts' is empty"),
        ("frames:\n  issue:\n", 2, "'frames/issue' is empty"),
        (
            "concepts:\n  negation:\n    en:\n      - not\n      - no\n",
            5,
            "pattern 'no' in 'concepts/negation/en' is read as true/false, not text (fix: quote it: 'no')",
        ),
        (
            "concepts:\n  peace:\n    vi:\n      - hòa_bình\n      - hoà_bình\n",
            5,
            "duplicate pattern 'hoà_bình' in 'concepts/peace/vi' (same as 'hòa_bình' once normalised), first on line 4",
        ),
        (
            "concepts:\n  trade: {vi: [thương_mại]}\n  commerce:\n    vi: [thương_mại]\n",
            4,
            "duplicate pattern 'thương_mại' in 'concepts/commerce/vi': already used by 'trade' on line 2",
        ),
        (
            "concepts:\n  year: {en: ['2024']}\n",
            2,
            "pattern '2024' in 'concepts/year/en' can match nothing after normalisation: it has no letter",
        ),
        ("concepts:\n  defence: {vi: [quốc-phòng]}\n", 2, "can match nothing after normalisation: it contains '-'"),
        ("concepts:\n  anything: {en: ['*']}\n", 2, "a bare '*' would match every term"),
        ("actors:\n  wang_yi: {kind: minister, en: [Wang Yi]}\n", 2, "actor actors/wang_yi has kind 'minister'"),
        (
            "actors:\n  china: {kind: country, en: [China]}\nconcepts:\n  china: {vi: [trung_hoa]}\n",
            4,
            "concept id 'china' is also an actor id",
        ),
        ("concepts:\n  trade: {label: Trade}\n", 2, "'concepts/trade' has no vi: or en: patterns"),
    ],
)
def test_each_validation_error_names_its_line(text, line, message):
    text_of_error = error_of(text)
    assert text_of_error.startswith(f"cb.yaml line {line}: ")
    assert message in text_of_error


def test_stopword_patterns_are_exempted_and_reported_the_same_way_in_both_languages():
    stopwords = {"vi": frozenset({"người", "của"}), "en": frozenset({"the", "of", "people", "two", "side"})}
    text = (
        "concepts:\n  people: {vi: [người], en: [people]}\n  sides: {vi: [hai_bên], en: [two "
        "sides]}\n  only_en: {en: [the]}\n"
    )
    assert validate_codebook(text, stopwords=stopwords) == []  # no longer a validation error ...
    cb = parse_codebook(text, stopwords=stopwords)
    # ... but exempted from the stopword lists (single words only) ...
    assert stopword_exemptions(cb) == {"vi": frozenset({"người", "hai_bên"}), "en": frozenset({"people", "the"})}
    # ... and listed in the audit, with the one-sided entry flagged
    audit = codebook_audit(cb, stopwords).set_index("entry")
    assert audit.loc["people", "stopword_vi"] == "người" and audit.loc["people", "stopword_en"] == "people"
    assert not audit.loc["people", "one_sided"] and audit.loc["only_en", "one_sided"]
    assert audit.loc["sides", "stopword_en"] == ""  # a phrase exempts nothing: it matches anyway
    rules = TermRules(stopwords)
    hits = cb.matcher("concepts", "en").find(keys(["the", "two", "sides"], "en", rules))
    assert [(h.entry, h.counted, h.pattern) for h in hits] == [("sides", 0, "two sides")]


def test_all_problems_are_listed_and_the_first_is_raised():
    text = "concepts:\n  a: {vi: []}\n  b: {en: ['42']}\nbogus: 1\n"
    problems = validate_codebook(text)
    assert [p[0] for p in problems] == [2, 3, 4]
    assert "(2 more problems after this one)" in error_of(text)


def test_packaged_codebook_is_valid_with_the_seed_stopwords(seed_study_dir):
    study = read_study(seed_study_dir / "study.toml")
    codebook = load_codebook(study)
    issue = [e.id for e in codebook.frames if e.family == "issue"]
    generic = [e.id for e in codebook.frames if e.family == "generic"]
    assert len(issue) == 10 and "maritime_law" in issue and "party_ideology" in issue
    assert generic == ["conflict", "economic_consequences", "responsibility", "human_interest", "morality"]
    actors = {e.id: e for e in codebook.actors}
    assert {"bui_thanh_son", "wang_yi", "xi_jinping", "liu_jianchao", "guangxi", "asean"} <= set(actors)
    assert actors["wang_yi"].patterns["vi"][0].words == ("vương", "nghị")
    assert {p.text for p in codebook.speech_verbs["vi"]} >= {"đề_nghị", "khẳng_định", "nhấn_mạnh", "cho rằng"}
    assert (
        validate_codebook(
            (RESOURCES / "codebook.yaml").read_text(encoding="utf-8"), stopwords=load_term_rules(study).stopwords
        )
        == []
    )


# -------------------------------------------------------------------------------- matching


def keys(tokens, language="vi", rules=NO_STOP):
    return sentence_keys(PreparedDocument("d", language, [[tokens]]), rules)[0]


def test_vietnamese_matching_is_on_syllables_at_token_boundaries():
    cb = parse_codebook(
        (
            "actors:\n  xi: {kind: person, vi: [tập_cận_bình]}\nconcepts:\n  farm: {vi: "
            "[nông_sản*]}\n  trade: {vi: [thương_mại]}\n"
        )
    )
    actors = cb.matcher("actors", "vi")
    assert [(h.entry, h.start, h.end) for h in actors.find(keys(["Chủ_tịch", "Tập", "Cận_Bình", "."]))] == [
        ("xi", 1, 3)
    ]
    assert actors.find(keys(["Tập_Cận_Bình"]))[0].end == 1
    # "thương" alone is half a word: a pattern may not end inside a token
    assert cb.matcher("concepts", "vi").find(keys(["thương_mại_điện_tử"])) == []
    assert [h.entry for h in cb.matcher("concepts", "vi").find(keys(["nông_sản_việt_nam", "thương_mại"]))] == [
        "farm",
        "trade",
    ]


def test_matching_is_leftmost_longest_without_overlap():
    cb = parse_codebook(
        (
            "concepts:\n  coop: {vi: [hợp_tác]}\n  cswp: {vi: [đối_tác hợp_tác chiến_lược "
            "toàn_diện]}\n  strat: {vi: [chiến_lược]}\n"
        )
    )
    hits = cb.matcher("concepts", "vi").find(
        keys(["đối_tác", "hợp_tác", "chiến_lược", "toàn_diện", ",", "hợp_tác", "chiến_lược"])
    )
    assert [(h.entry, h.start, h.end) for h in hits] == [("cswp", 0, 4), ("coop", 5, 6), ("strat", 6, 7)]


def test_english_patterns_match_lemmas_and_phrases_but_not_across_punctuation():
    rules = TermRules({"en": frozenset({"of", "the"})})
    cb = parse_codebook(
        "concepts:\n  gate: {en: [border gate]}\n  coc: {en: [Code of Conduct]}\n  the_only: {en: [border]}\n",
        stopwords=rules.stopwords,
    )
    m = cb.matcher("concepts", "en")
    assert [h.entry for h in m.find(keys(["smart", "border", "gates"], "en", rules))] == ["gate"]
    assert [(h.entry, h.counted) for h in m.find(keys(["the", "Code", "of", "Conduct"], "en", rules))] == [("coc", 2)]
    assert [h.entry for h in m.find(keys(["Code of Conduct"], "en", rules))] == ["coc"]  # merged by preparation
    assert [h.entry for h in m.find(keys(["border", ",", "gates"], "en", rules))] == ["the_only"]


def test_a_match_made_only_of_stopwords_is_dropped():
    rules = TermRules({"vi": frozenset({"ông"})})
    matcher = Matcher([("sir", parse_codebook("concepts:\n  sir: {vi: [ông_sơn]}\n").concepts[0].patterns["vi"][0])])
    assert matcher.find(keys(["ông"], "vi", rules)) == []
    hit = matcher.find(keys(["Ông", "Sơn"], "vi", rules))[0]
    assert (hit.start, hit.end, hit.counted) == (0, 2, 1)


# ----------------------------------------------------------------------- map and phrases


def test_concept_map_has_the_agreed_shape():
    cb = parse_codebook(
        "actors:\n  china: {kind: country, vi: [trung_quốc], en: [China]}\n"
        "concepts:\n  sea: {vi: [Biển Đông], en: [East Sea, maritime*]}\n  gate: {en: [Border Gates]}\n"
    )
    assert concept_map(cb) == {
        "vi": {"biển_đông": "sea", "trung_quốc": "china"},
        "en": {"border gate": "gate", "border gates": "gate", "china": "china", "east sea": "sea"},
    }
    expanded = concept_map(cb, vocab=["maritime", "sea", "Maritime", "East Seas", "Chinas", "biển_đông"])["en"]
    assert expanded["maritime"] == "sea" and expanded["east seas"] == "sea" and expanded["chinas"] == "china"
    assert "biển_đông" not in expanded and "sea" not in expanded


def test_codebook_phrases_are_multi_word_patterns():
    cb = parse_codebook(
        (
            "concepts:\n  a: {vi: [đảng cộng_sản việt_nam, hai_bên, nông_sản*], en: [Code of "
            "Conduct, agricultural product, two Foreign Ministers]}\n"
        )
    )
    assert codebook_phrases(cb) == (("đảng cộng_sản việt_nam",), ("Code of Conduct",))


def test_load_preparation_merges_codebook_phrases(tmp_path):
    codebook = tmp_path / "my_codebook.yaml"
    codebook.write_text("concepts:\n  trade_fair: {vi: [hội_chợ thương_mại], en: [Trade Fair]}\n", encoding="utf-8")
    study_path = write_study(
        tmp_path,
        [("v1", "vi", "Hai nước mở hội chợ thương mại.\n"), ("e1", "en", "The Trade Fair opened.\n")],
        study_text='[corpus]\nfolder = "corpus"\nmetadata = "corpus/metadata.csv"\n[run]\noutput = '
        '"out"\ncache = ".cache"\nworkers = 1\n'
        '[framing]\ncodebook = "my_codebook.yaml"\n',
    )
    study = read_study(study_path)
    preparation = load_preparation(study)
    assert "hội_chợ thương_mại" in preparation.phrases_vi and "Trade Fair" in preparation.phrases_en
    tokens = {d.doc_id: list(d.tokens()) for d in prepared_corpus(study, progress=False).prepared}
    assert "hội_chợ_thương_mại" in tokens["v1"]
    assert "Trade Fair" in tokens["e1"]


def test_a_broken_user_codebook_stops_preparation_with_its_line(tmp_path):
    (tmp_path / "cb.yaml").write_text("concepts:\n  x: {vi: [hợp_tác]}\n  y: {vi: [hợp_tác]}\n", encoding="utf-8")
    study_path = write_study(
        tmp_path,
        [("v1", "vi", "Hợp tác.\n")],
        study_text='[corpus]\nfolder = "corpus"\nmetadata = "corpus/metadata.csv"\n[framing]\ncodebook = "cb.yaml"\n',
    )
    with pytest.raises(InputError, match=r"cb.yaml line 3: duplicate pattern 'hợp_tác'"):
        load_preparation(read_study(study_path))


# ---------------------------------------------------------------------------------- coverage


def test_coverage_report_counts_mapped_tokens_by_hand():
    rules = TermRules({"vi": frozenset({"và"})})
    cb = parse_codebook(
        "frames:\n  issue:\n    coop: {vi: [hợp_tác]}\nconcepts:\n  coop: {vi: [hợp_tác]}\n  economy: {vi: [kinh_tế]}\n"
    )
    doc = PreparedDocument("v1", "vi", [[["Hợp_tác", "kinh_tế", "và", "du_lịch", "."], ["Du_lịch", "hợp_tác", "."]]])
    coverage, unmapped = coverage_report({"v1": ("vi", sentence_keys(doc, rules))}, cb)
    row = coverage.iloc[0]
    # counted: hợp_tác, kinh_tế, du_lịch, du_lịch, hợp_tác = 5 tokens, 3 types; mapped 3 tokens, 2 types
    assert (row["tokens"], row["types"], row["mapped_tokens"], row["mapped_types"], row["frame_tokens"]) == (
        5,
        3,
        3,
        2,
        2,
    )
    assert row["mapped_share"] == pytest.approx(0.6)
    assert unmapped[["term", "count"]].values.tolist() == [["du_lịch", 2]]


# ---------------------------------------------------------------- the index against brute force


def brute_force_find(matcher: Matcher, sentence, require_counted: bool = True) -> list[Hit]:
    """The matcher's rule with no index: every exact pattern and every glob tried at every token."""
    hits, i, n = [], 0, len(sentence)
    while i < n:
        best = None
        for words, entry_id in matcher.exact.items():
            parts, j = (), i
            while j < n and sentence[j] is not None and len(parts) < len(words):
                parts += sentence[j].parts
                j += 1
            if parts == words and (best is None or j > best[0]):
                best = (j, entry_id, matcher.source[words])
        for g, (regexes, entry_id) in enumerate(matcher.globs):
            end = i + len(regexes)
            if end > n or (best is not None and end <= best[0]):
                continue
            if all(sentence[k] is not None and r.match(sentence[k].joined) for k, r in zip(range(i, end), regexes)):
                best = (end, entry_id, matcher.source[g])
        if best is not None:
            end, entry_id, text = best
            counted = sum(1 for k in range(i, end) if sentence[k].counted)
            if counted or not require_counted or end - i > 1:
                hits.append(Hit(entry_id, i, end, counted, text))
                i = end
                continue
        i += 1
    return hits


SYLLABLES = ["ab", "abc", "b", "ba", "c"]
WORD = st.lists(st.sampled_from(SYLLABLES), min_size=1, max_size=2).map("_".join)
GLOB = (
    st.tuples(st.sampled_from(["", "a", "ab", "b", "abc"]), st.sampled_from(["", "_b", "c"]))
    .map(lambda p: p[0] + "*" + p[1])
    .filter(lambda g: g != "*")
)


@settings(max_examples=200, deadline=None)
@given(
    exact=st.lists(st.lists(WORD, min_size=1, max_size=3).map(" ".join), max_size=6, unique=True),
    globs=st.lists(st.lists(GLOB, min_size=1, max_size=2).map(" ".join), max_size=5, unique=True),
    tokens=st.lists(st.one_of(WORD, st.just(",")), max_size=12),
    stop=st.sets(st.sampled_from(SYLLABLES)),
)
def test_indexed_matcher_finds_what_brute_force_finds(exact, globs, tokens, stop):
    # Entries numbered in codebook order; a pattern written twice is a validation error, so each once.
    body = "".join(f"  e{i}: {{vi: ['{p}']}}\n" for i, p in enumerate(dict.fromkeys(exact + globs)))
    if not body:
        return
    try:
        cb = parse_codebook("concepts:\n" + body)
    except InputError:  # a pattern that normalises to nothing is refused before any matching
        assume(False)
    matcher = cb.matcher("concepts", "vi")
    sentence = keys(tokens, "vi", TermRules({"vi": frozenset(stop)}))
    for require_counted in (True, False):
        assert matcher.find(sentence, require_counted) == brute_force_find(matcher, sentence, require_counted)


def test_the_glob_index_tries_only_globs_whose_literal_start_the_token_has():
    cb = parse_codebook("concepts:\n  farm: {vi: [nông_sản*]}\n  any: {vi: ['*_tác']}\n  trade: {vi: [thương*]}\n")
    m = cb.matcher("concepts", "vi")
    assert m.glob_index == {"nông_sản": [0], "": [1], "thương": [2]}
    assert m._glob_candidates("nông_sản_sạch") == [0, 1]
    assert m._glob_candidates("hợp_tác") == [1]
    assert [h.entry for h in m.find(keys(["nông_sản_sạch", "hợp_tác", "thương_mại"]))] == ["farm", "any", "trade"]


def test_released_key_cache_is_empty_and_keys_come_back_equal():
    from analysis.framing import codebook as cbmod

    doc = PreparedDocument("d", "en", [[["China", "said", "trade", "grew", "5", "."]]])
    rules = TermRules({"en": frozenset({"said"})})
    before = cbmod.sentence_keys(doc, rules)
    assert cbmod._token_key.cache_info().currsize >= 4  # one key per distinct token seen
    cbmod.release_key_cache()
    assert cbmod._token_key.cache_info().currsize == 0
    after = cbmod.sentence_keys(doc, rules)
    assert after == before and [k is None for k in after[0]] == [False, False, False, False, True, True]
