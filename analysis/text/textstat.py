"""Term statistics as tidy DataFrames: frequencies by group, top terms, TF-IDF, bigrams,
key-word-in-context and the corpus summary.

All ties are broken by the term itself so every table is fully determined by its input.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .tokens import PreparedDocument, TermCounter, TermRules, term_sentences, token_kind

if TYPE_CHECKING:  # scipy.sparse loads only where a matrix is built (not in the prepare stage)
    from .dtm import DocTermMatrix

FREQUENCY_COLUMNS = ["group_by", "group", "term", "count", "per_1000", "doc_freq", "doc_share", "rank"]


def frequency_table(dtm: DocTermMatrix, by: str) -> pd.DataFrame:
    """Per group of ``by``: count, relative frequency per 1,000 counted tokens, document frequency.

    Columns: ``group_by, group, term, count, per_1000, doc_freq`` (rows of the group containing the
    term), ``doc_share`` (doc_freq / rows in group) and ``rank`` (1 = most frequent; ties broken
    alphabetically). Only terms with a positive count in the group are listed.

    ``per_1000 = 1000 * count / total counted tokens of the group``.

    Parameters
    ----------
    dtm : DocTermMatrix
        Counts (documents × terms) with ``docvars`` holding the column ``by``.
    by : str
        The grouping column (``language``, ``outlet`` ...).

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.text.dtm import build_dtm
    >>> docvars = pd.DataFrame({"language": ["vi", "vi", "en"]}, index=["v1", "v2", "e1"])
    >>> dtm = build_dtm([("v1", ["hợp_tác", "hợp_tác", "biển"]), ("v2", ["hợp_tác"]), ("e1", ["cooperation"])], docvars)
    >>> print(frequency_table(dtm, "language")[["group", "term", "count", "per_1000",
    ...     "doc_freq"]].to_string(index=False))
    group        term  count  per_1000  doc_freq
       en cooperation      1    1000.0         1
       vi     hợp_tác      3     750.0         2
       vi        biển      1     250.0         1
    """
    from .dtm import group_dtm

    grouped = group_dtm(dtm, by)
    labels = dtm.docvars[by].astype(str).to_numpy()
    frames = []
    for g, group in enumerate(grouped.row_ids):
        counts = np.asarray(grouped.counts[g].todense()).ravel()
        total = counts.sum()
        members = np.flatnonzero(labels == group)
        df = np.asarray((dtm.counts[members] > 0).sum(axis=0)).ravel()
        present = np.flatnonzero(counts)
        frame = pd.DataFrame(
            {
                "group_by": by,
                "group": group,
                "term": [dtm.vocab[j] for j in present],
                "count": counts[present],
                "per_1000": 1000.0 * counts[present] / total if total else 0.0,
                "doc_freq": df[present],
                "doc_share": df[present] / len(members),
            }
        )
        frame = frame.sort_values(["count", "term"], ascending=[False, True], kind="mergesort")
        frame["rank"] = np.arange(1, len(frame) + 1)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=FREQUENCY_COLUMNS)
    return pd.concat(frames, ignore_index=True)[FREQUENCY_COLUMNS]


def top_terms(table: pd.DataFrame, n: int) -> pd.DataFrame:
    """The ``n`` highest-ranked rows of each group of a frequency (or bigram) table.

    >>> table = pd.DataFrame({"group": ["vi", "vi", "en"], "term": ["hợp_tác", "biển", "sea"], "rank": [1, 2, 1]})
    >>> top_terms(table, 1)["term"].tolist()
    ['hợp_tác', 'sea']
    """
    return table[table["rank"] <= n].reset_index(drop=True)


def tfidf_top_terms(dtm: DocTermMatrix, n: int) -> pd.DataFrame:
    """Per row, the ``n`` terms with the highest TF-IDF (``count * log10(N/df)``).

    Columns: ``row_id, term, count, doc_freq, tfidf, rank``. By hand for the example: in ``v1``,
    ``hợp_tác`` (2 times, in 2 of 3 documents) weighs 2 · log10(3/2) = 0.352 and ``biển`` (once,
    in 1 document) 1 · log10(3) = 0.477, so ``biển`` ranks first.

    >>> import pandas as pd
    >>> from analysis.text.dtm import build_dtm
    >>> docvars = pd.DataFrame({"language": ["vi", "vi", "en"]}, index=["v1", "v2", "e1"])
    >>> dtm = build_dtm([("v1", ["hợp_tác", "hợp_tác", "biển"]), ("v2", ["hợp_tác"]), ("e1", ["cooperation"])], docvars)
    >>> print(tfidf_top_terms(dtm, 1).round(3).to_string(index=False))
    row_id        term  count  doc_freq  tfidf  rank
        v1        biển      1         1  0.477     1
        v2     hợp_tác      1         2  0.176     1
        e1 cooperation      1         1  0.477     1
    """
    from .dtm import document_frequency, tfidf

    weights = tfidf(dtm)
    df = document_frequency(dtm)
    records = []
    for i, row_id in enumerate(dtm.row_ids):
        row = weights.getrow(i)
        counts = dtm.counts.getrow(i)
        pairs = sorted(zip(row.indices, row.data), key=lambda p: (-p[1], dtm.vocab[p[0]]))
        count_of = dict(zip(counts.indices, counts.data))
        for rank, (j, w) in enumerate([p for p in pairs if p[1] > 0][:n], start=1):
            records.append((row_id, dtm.vocab[j], int(count_of[j]), int(df[j]), float(w), rank))
    return pd.DataFrame(records, columns=["row_id", "term", "count", "doc_freq", "tfidf", "rank"])


def bigram_table(
    prepared: Sequence[PreparedDocument], rules: TermRules, docvars: pd.DataFrame, by: str, *, min_count: int = 1
) -> pd.DataFrame:
    """Bigrams of adjacent content terms within a sentence, counted per group of ``by``.

    Two terms form a bigram only if they are adjacent in the text (no stopword, number or
    punctuation between them). Columns: ``group_by, group, bigram, count, per_1000, rank``;
    ``per_1000`` is per 1,000 bigrams of the group. In the example the stopword ``và`` breaks
    ``kinh_tế và biển`` into no bigram, so the group has 3 bigrams and ``hợp_tác kinh_tế``
    (twice) is 2/3 of them.

    >>> from analysis.text.tokens import PreparedDocument, TermRules
    >>> docs = [PreparedDocument("v1", "vi", [[["thúc_đẩy", "hợp_tác", "kinh_tế", "."]]]),
    ...         PreparedDocument("v2", "vi", [[["hợp_tác", "kinh_tế", "và", "biển", "."]]])]
    >>> docvars = pd.DataFrame({"language": ["vi", "vi"]}, index=["v1", "v2"])
    >>> table = bigram_table(docs, TermRules({"vi": frozenset({"và"})}), docvars, "language")
    >>> print(table[["group", "bigram", "count", "per_1000", "rank"]].round(1).to_string(index=False))
    group           bigram  count  per_1000  rank
       vi  hợp_tác kinh_tế      2     666.7     1
       vi thúc_đẩy hợp_tác      1     333.3     2
    """
    counters: dict[str, Counter] = {}
    for doc in prepared:
        group = str(docvars.loc[doc.doc_id, by])
        counter = counters.setdefault(group, Counter())
        for terms in term_sentences(doc, rules):
            for left, right in zip(terms, terms[1:]):
                if left is not None and right is not None:
                    counter[f"{left} {right}"] += 1
    frames = []
    for group in sorted(counters):
        counter = counters[group]
        total = sum(counter.values())
        items = sorted(((b, c) for b, c in counter.items() if c >= min_count), key=lambda p: (-p[1], p[0]))
        frame = pd.DataFrame(items, columns=["bigram", "count"])
        frame.insert(0, "group", group)
        frame.insert(0, "group_by", by)
        frame["per_1000"] = 1000.0 * frame["count"] / total if total else 0.0
        frame["rank"] = np.arange(1, len(frame) + 1)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["group_by", "group", "bigram", "count", "per_1000", "rank"])
    return pd.concat(frames, ignore_index=True)


def kwic_query(term: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """What a typed KWIC term matches: whole-token forms and the word sequence.

    The term is normalised as the text was (NFC, Vietnamese tone-mark placement, lower case), so
    ``kinh tế`` (typed with a space), ``kinh_tế`` and ``Kinh tế`` are the same query; its forms are
    the token with ``_`` and with spaces (``kinh_tế``, ``kinh tế``: Vietnamese compounds are
    segmented with ``_``, English names merged with a space, ``East Sea``), and its words
    (``("kinh", "tế")``) match a run of consecutive tokens when the text was split differently
    (``United States`` written as two tokens).
    """
    from .normalize import canonical_term

    canonical = canonical_term(term, "vi")  # NFC, tone marks, spaces -> "_", lower case
    words = tuple(w for w in canonical.split("_") if w)
    forms = frozenset({canonical, " ".join(words)})
    return forms, words


def _words(token: str) -> list[str]:
    return [w for w in token.lower().replace(" ", "_").split("_") if w]


def kwic(prepared: Iterable[PreparedDocument], term: str, rules: TermRules, *, window: int = 6) -> pd.DataFrame:
    """Key word in context: every token (or run of tokens) that is ``term``.

    A token matches when its lower-cased form or its counted term (the English lemma) is one of
    the forms of :func:`kwic_query`; a run of consecutive tokens of one sentence matches when their
    words, in order, are exactly the term's words (then ``keyword`` is the run, joined by spaces).
    Context is cut from the full token stream (stopwords, numbers and punctuation included) within
    the sentence's document. Columns: ``doc_id, sentence, position, left, keyword, right``.

    >>> from analysis.text.tokens import PreparedDocument, TermRules
    >>> doc = PreparedDocument("v1", "vi", [[["Hai", "nước", "thúc_đẩy", "hợp_tác", "kinh_tế", "."]]])
    >>> print(kwic([doc], "hợp_tác", TermRules({}), window=2).to_string(index=False))
    doc_id  sentence  position          left keyword     right
        v1         0         3 nước thúc_đẩy hợp_tác kinh_tế .
    """
    forms, words = kwic_query(term)
    records = []
    for doc in prepared:
        sentences = list(doc.sentences())
        terms = term_sentences(doc, rules)
        flat = [tok for s in sentences for tok in s]
        offsets = np.cumsum([0] + [len(s) for s in sentences])
        for s, (sentence, sentence_terms) in enumerate(zip(sentences, terms)):
            p = 0
            while p < len(sentence):
                token, token_term = sentence[p], sentence_terms[p]
                length = 0
                if token.lower() in forms or (token_term is not None and token_term.lower() in forms):
                    length = 1
                elif len(words) > 1:
                    got, q = [], p
                    while q < len(sentence) and len(got) < len(words):
                        got += _words(sentence[q])
                        q += 1
                    if tuple(got) == words:
                        length = q - p
                if not length:
                    p += 1
                    continue
                at = offsets[s] + p
                records.append(
                    (
                        doc.doc_id,
                        s,
                        p,
                        " ".join(flat[max(0, at - window) : at]),
                        " ".join(sentence[p : p + length]),
                        " ".join(flat[at + length : at + length + window]),
                    )
                )
                p += length
    return pd.DataFrame(records, columns=["doc_id", "sentence", "position", "left", "keyword", "right"])


def kwic_absent(prepared: Iterable[PreparedDocument], term: str, n: int = 5) -> str:
    """The line saying a KWIC term does not occur, with the closest tokens of the corpus.

    ``'kinh te' is not in the corpus (looked for the token kinh_te and the words kinh te in a
    row); closest: kinh_tế, kinh_doanh``.
    """
    import difflib

    _, words = kwic_query(term)
    vocabulary = sorted({tok.lower() for doc in prepared for tok in doc.tokens() if token_kind(tok) == "word"})
    close = difflib.get_close_matches("_".join(words), vocabulary, n=n, cutoff=0.6)
    looked = f"the token {'_'.join(words)}" + (f" and the words {' '.join(words)} in a row" if len(words) > 1 else "")
    return f"{term!r} is not in the corpus (looked for {looked}); " + (
        f"closest: {', '.join(close)}" if close else "no close token"
    )


def corpus_summary(
    prepared: Sequence[PreparedDocument],
    dtm: DocTermMatrix,
    docvars: pd.DataFrame,
    by: Sequence[str] = ("language", "outlet"),
) -> pd.DataFrame:
    """Documents, sentences, word tokens, word types, type/token ratio and counted terms by group.

    ``tokens`` counts word tokens (stopwords included; numbers and punctuation excluded);
    ``types`` distinct lower-cased word tokens; ``ttr = types / tokens``; ``terms`` the tokens
    left after stopword removal (what the frequency tables count). Rows with ``all`` are totals:
    each value of the first key over the others (a language over its outlets), then the whole corpus.

    By hand for the example: the Vietnamese document has 5 word tokens (punctuation left out) of 4
    lower-cased types (``Hợp_tác`` = ``hợp_tác``), so ttr = 0.8; the English one has 4 (the number
    2024 is not a word); ``terms`` are the document-term matrix's totals.

    >>> from analysis.text.dtm import build_dtm
    >>> from analysis.text.tokens import PreparedDocument
    >>> docs = [PreparedDocument("v1", "vi", [[["Hai", "nước", "hợp_tác", "."], ["Hợp_tác", "kinh_tế", "."]]]),
    ...         PreparedDocument("e1", "en", [[["Two", "countries", "cooperate", "in", "2024", "."]]])]
    >>> docvars = pd.DataFrame({"doc_id": ["v1", "e1"], "language": ["vi", "en"]}, index=["v1", "e1"])
    >>> dtm = build_dtm([("v1", ["nước", "hợp_tác", "hợp_tác", "kinh_tế"]), ("e1", ["country", "cooperate"])], docvars)
    >>> print(corpus_summary(docs, dtm, docvars, by=("language",)).round(3).to_string(index=False))
    language  documents  sentences  tokens  types   ttr  terms
          en          1          1       4      4 1.000      2
          vi          1          2       5      4 0.800      4
         all          2          3       9      8 0.889      6
    """
    type_ids: dict[str, int] = {}
    counts = {doc.doc_id: document_counts(doc, type_ids) for doc in prepared}
    term_totals = dict(zip(dtm.row_ids, dtm.totals())) if dtm.docvars.index.equals(pd.Index(dtm.row_ids)) else {}
    doc_terms = Counter()
    for row_id, total in term_totals.items():
        doc_terms[str(dtm.docvars.loc[row_id, "doc_id"])] += int(total)
    return summary_table(counts, doc_terms, docvars.loc[list(counts), list(by)])


def document_counts(doc: PreparedDocument, type_ids: dict[str, int]) -> tuple[int, int, np.ndarray]:
    """A document's sentences, word tokens and the ids of its distinct lower-cased word types
    (``type_ids`` numbers the types of a corpus as they are met), what :func:`summary_table` adds up.

    Ids, not words: an archive's words do not fit in memory (10,000 articles held 5 million strings).
    """
    n_words, ids = 0, set()
    for t in doc.tokens():
        if token_kind(t) == "word":
            n_words += 1
            ids.add(type_ids.setdefault(t.lower(), len(type_ids)))
    return sum(1 for _ in doc.sentences()), n_words, np.fromiter(ids, dtype=np.int64, count=len(ids))


def summary_counts(
    doc: PreparedDocument, counter: TermCounter, type_ids: dict[str, int]
) -> tuple[tuple[int, int, np.ndarray], int]:
    """:func:`document_counts` of ``doc`` and its number of counted terms (what a row of the
    document-term matrix adds up to), in one pass over its tokens (:class:`~analysis.text.tokens.TermCounter`).

    Type ids are given in the order of each type's first occurrence, as :func:`document_counts` does.
    """
    n_sentences, n_words, words, n_terms = counter.count(doc)
    ids = [type_ids.setdefault(w, len(type_ids)) for w in dict.fromkeys(words)]
    return (n_sentences, n_words, np.array(ids, dtype=np.int64)), n_terms


def summary_table(
    counts: dict[str, tuple[int, int, np.ndarray]], doc_terms: Mapping[str, int], table: pd.DataFrame
) -> pd.DataFrame:
    """The rows of :func:`corpus_summary` from each document's :func:`document_counts` and counted
    terms (``doc_terms``; 0 when absent); ``table`` holds the grouping columns, indexed by doc_id in
    corpus order."""
    keys = list(table.columns)
    table = table.astype(str)
    records = []
    groups = sorted(set(map(tuple, table[keys].to_numpy().tolist())))
    # Subtotals for every leading key (e.g. each language over all outlets), then the grand total;
    # types are not additive, so every total row is computed from its own documents.
    subtotals = sorted({(*g[:depth], *("all",) * (len(keys) - depth)) for g in groups for depth in range(1, len(keys))})
    ordered = sorted(set(groups) | set(subtotals), key=lambda g: tuple((v == "all", v) for v in g))
    for group in [*ordered, ("all",) * len(keys)]:
        mask = np.all(
            [table[k].to_numpy() == v for k, v in zip(keys, group) if v != "all"] or [np.ones(len(table), bool)], axis=0
        )
        members = list(table.index[mask])
        tokens = sum(counts[d][1] for d in members)
        types = len(np.unique(np.concatenate([counts[d][2] for d in members]))) if members else 0
        records.append(
            (
                *group,
                len(members),
                sum(counts[d][0] for d in members),
                tokens,
                types,
                types / tokens if tokens else 0.0,
                sum(doc_terms.get(d, 0) for d in members),
            )
        )
    return pd.DataFrame(records, columns=[*keys, "documents", "sentences", "tokens", "types", "ttr", "terms"])


# ------------------------------------------------------------------------------ preparation

CLEANING_COLUMNS = ["doc_id", "rule", "kind", "line", "chars", "text"]
PREPARATION_COLUMNS = ["doc_id", "language", "presegmented", "segmentation", "paragraphs", "sentences", "tokens"]


def cleaning_log(prepared: Iterable[PreparedDocument]) -> pd.DataFrame:
    """One row per removal by a cleaning rule: ``doc_id, rule, kind, line, chars, text``.

    >>> from analysis.text.tokens import PreparedDocument
    >>> doc = PreparedDocument("v1", "vi", [[["Hợp_tác", "."]]], removals=[{"rule": "photo_credit", "kind": "line",
    ...     "line": 2, "text": "Ảnh: TTXVN"}])
    >>> cleaning_log([doc]).to_dict("records")
    [{'doc_id': 'v1', 'rule': 'photo_credit', 'kind': 'line', 'line': 2, 'chars': 10, 'text': 'Ảnh: TTXVN'}]
    """
    return cleaning_frame([row for doc in prepared for row in cleaning_rows(doc)])


def cleaning_frame(rows: list[tuple]) -> pd.DataFrame:
    """The cleaning log from rows of :func:`cleaning_rows`."""
    return pd.DataFrame(rows, columns=CLEANING_COLUMNS)


def cleaning_rows(doc: PreparedDocument) -> list[tuple]:
    """The :func:`cleaning_log` rows of one document."""
    return [
        (doc.doc_id, r["rule"], r["kind"], r["line"], len(r["text"]), r["text"].replace("\n", " / "))
        for r in doc.removals
    ]


def preparation_table(prepared: Iterable[PreparedDocument], resegment: bool) -> pd.DataFrame:
    """Per document: how it was segmented and its paragraphs, sentences and tokens."""
    return preparation_frame([preparation_row(d, resegment) for d in prepared])


def preparation_frame(rows: list[tuple]) -> pd.DataFrame:
    """The preparation table from rows of :func:`preparation_row`."""
    return pd.DataFrame(rows, columns=PREPARATION_COLUMNS)


def preparation_row(d: PreparedDocument, resegment: bool) -> tuple:
    """The :func:`preparation_table` row of one document."""
    if d.presegmented:
        segmentation = "re-segmented" if resegment else "kept"
    else:
        segmentation = "segmented" if d.language == "vi" else "tokenised"
    return (
        d.doc_id,
        d.language,
        d.presegmented,
        segmentation,
        len(d.paragraphs),
        sum(1 for _ in d.sentences()),
        sum(1 for _ in d.tokens()),
    )
