"""``python -m analysis init``: a study file for a new corpus, written from what the corpus holds.

The default ``study.toml`` is the seed study; copying it for another corpus fails late (its
grouping columns and KWIC terms belong to the seed articles). ``init`` looks at the table (or
folder) instead and writes a study that fits it:

* columns detected and mapped (``[corpus.columns]``): the toolkit's names (doc_id, text,
  language, date, outlet, title, url) found among the table's headers under their common export
  names (Media Cloud's ``stories_id``/``media_name``/``publish_date``, news-please's
  ``maintext``/``source_domain``, ``body``, ``headline`` ...), the text column otherwise the one
  with the longest values;
* a table without a language column gets ``language = "vi"`` (or ``"en"``) when every sampled
  text looks like that language;
* grouping variables from the columns present: ``language``, ``outlet`` if there is one, and up to
  two other columns with few distinct values (2 to 20, at most half the number of documents);
* KWIC terms empty (the researcher's words, not ours);
* units and the topic-number range scaled to the corpus by
  :func:`analysis.topics.lda.suggest_topic_settings` (the rule a study with an empty ``k_range``
  also uses: K from 2 to about ``sqrt(N / 2)`` documents per model, a starting point to widen,
  not a tuned value; sentence windows below 200 documents per model);
* a comment on every key.

:func:`study_text` is pure (a :class:`Detected` in, TOML text out); :func:`detect` reads a sample
of the corpus through :mod:`analysis.corpus.sources`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .study.settings import MIN_GROUP_DOCS, TopicSettings
from .topics.lda import suggest_topic_settings

#: Common export names of each toolkit column, in order of preference: English and Vietnamese
#: exports (``mã bài``, ``ngôn ngữ``, ``tên báo``, ``ngày đăng``, ``tiêu đề``, ``nội dung``). A
#: header is compared NFC-lower-cased with spaces and hyphens as ``_`` (:func:`header_key`), then
#: with its diacritics stripped (``ngay_dang`` typed without tone marks is ``ngày đăng``).
ALIASES: dict[str, tuple[str, ...]] = {
    "doc_id": (
        "doc_id",
        "id",
        "stories_id",
        "story_id",
        "article_id",
        "guid",
        "uuid",
        "key",
        "mã_bài",
        "mã_bài_viết",
        "mã_tin",
        "mã_số",
        "mã",
        "id_bài",
    ),
    "text": (
        "text",
        "maintext",
        "body",
        "content",
        "article",
        "full_text",
        "fulltext",
        "story_text",
        "article_text",
        "nội_dung",
        "nộidung",
        "nội_dung_bài",
        "nội_dung_bài_viết",
        "văn_bản",
        "toàn_văn",
    ),
    "language": ("language", "lang", "language_code", "ngôn_ngữ"),
    "date": (
        "date",
        "publish_date",
        "date_publish",
        "published",
        "publication_date",
        "pub_date",
        "published_at",
        "datetime",
        "ngày_đăng",
        "ngày_xuất_bản",
        "ngày_đăng_bài",
        "thời_gian_đăng",
        "ngày",
        "thời_gian",
    ),
    "outlet": (
        "outlet",
        "media_name",
        "source_domain",
        "publisher",
        "source",
        "media",
        "sitename",
        "site",
        "domain",
        "newspaper",
        "tên_báo",
        "báo",
        "tờ_báo",
        "cơ_quan_báo",
        "nguồn",
        "nguồn_tin",
        "trang",
    ),
    "title": ("title", "headline", "tiêu_đề", "tiêuđề", "tít", "tựa_đề", "đầu_đề"),
    "url": ("url", "link", "href", "permalink", "đường_dẫn", "liên_kết"),
}
SAMPLE = 2000  # records looked at to detect columns
SEARCH_UNITS = TopicSettings.search_units  # written into [topics]: what a study without the key gets
#: Distinct values kept per column while every record streams past (languages are read over the
#: whole table, not the first SAMPLE rows: an export sorted by language would otherwise look
#: monolingual); a column with more is not a language column, and its values are dropped.
DISTINCT_CAP = 50
MAX_LEVELS = 20


@dataclass
class Detected:
    """What :func:`detect` found: the source key, columns mapped, languages, grouping columns."""

    source_key: str  # table | folder | newsplease | html
    source_path: str
    n_documents: int
    columns: dict[str, str] = field(default_factory=dict)  # toolkit name -> table column (only where they differ)
    language: str = ""  # constant language for a table without a language column
    languages: tuple[str, ...] = ("vi", "en")
    groups: tuple[str, ...] = ("language",)
    has_date: bool = False
    date_span_days: int = 0  # last minus first date among the sampled records (0: one day or none)
    parallel: str = ""  # [equivalence] parallel: a translated sample's folder, relative to the study
    notes: list[str] = field(default_factory=list)


def header_key(name: str) -> str:
    """A header as compared with :data:`ALIASES`: NFC, lower case, spaces and hyphens as ``_``.

    >>> header_key("  Ngày  đăng ")
    'ngày_đăng'
    """
    import unicodedata

    return "_".join(unicodedata.normalize("NFC", str(name)).lower().replace("-", " ").split())


def strip_marks(key: str) -> str:
    """``key`` without diacritics (``đ`` as ``d``): the fallback comparison of a header typed without them.

    >>> strip_marks("ngày_đăng")
    'ngay_dang'
    """
    import unicodedata

    key = key.replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize(
        "NFC", "".join(c for c in unicodedata.normalize("NFD", key) if not unicodedata.combining(c))
    )


def has_letters(value) -> bool:
    """Whether a cell holds a letter (a text column of numbers, dates or nothing holds none)."""
    return isinstance(value, str) and any(c.isalpha() for c in value)


def map_columns(header: list[str], rows: list[dict]) -> tuple[dict[str, str], list[str]]:
    """Toolkit name -> header name, by :data:`ALIASES` (exact key first, then without diacritics);
    the text column falls back to the column with the longest values that hold letters.

    >>> map_columns(["stories_id", "media_name", "body"], [])[0]
    {'doc_id': 'stories_id', 'text': 'body', 'outlet': 'media_name'}
    >>> map_columns(["Mã bài", "Ngôn ngữ", "Tên báo", "Ngày đăng", "Tiêu đề", "Nội dung"], [])[0]["text"]
    'Nội dung'
    """
    exact: dict[str, str] = {}
    loose: dict[str, str] = {}
    for h in header:
        exact.setdefault(header_key(h), h)
        loose.setdefault(strip_marks(header_key(h)), h)
    mapping: dict[str, str] = {}
    notes = []
    used = set()
    for name, aliases in ALIASES.items():
        for table in (exact, loose):
            for alias in aliases:
                key = alias if table is exact else strip_marks(alias)
                if key in table and table[key] not in used:
                    mapping[name] = table[key]
                    used.add(table[key])
                    break
            if name in mapping:
                break
    if "text" not in mapping and rows:
        lengths = {
            h: sum(len(r.get(h, "")) for r in rows if has_letters(r.get(h, ""))) for h in header if h not in used
        }
        lengths = {h: n for h, n in lengths.items() if n}
        if lengths:
            longest = max(lengths, key=lambda h: (lengths[h], h))
            mapping["text"] = longest
            notes.append(f"text: no usual name found; '{longest}' has the longest values")
    return mapping, notes


def group_columns(
    rows: list[dict],
    mapping: dict[str, str],
    exclude: set[str],
    levels_over_all: dict[str, set[str] | None] | None = None,
    n_rows: int = 0,
) -> list[str]:
    """``language``, ``outlet`` (if mapped), then up to two columns with 2..20 distinct values.

    With ``levels_over_all`` (a column's distinct values over every row, None past
    :data:`DISTINCT_CAP`) and ``n_rows``, the levels are counted over the whole table, not the
    sample ``rows``: a column constant in the sample but not in the table is still found."""
    groups = ["language"]
    if "outlet" in mapping:
        groups.append("outlet")
    taken = set(mapping.values()) | exclude
    candidates = []
    for column in rows[0] if rows else {}:
        if column in taken:
            continue
        if levels_over_all is not None and column in levels_over_all:
            levels, n = levels_over_all[column], n_rows
            if levels is None:  # more than DISTINCT_CAP values in the table: not a grouping column
                continue
        else:
            levels, n = {r.get(column, "") for r in rows}, len(rows)
        if 2 <= len(levels) <= MAX_LEVELS and len(levels) <= n / 2 and all(len(v) <= 60 for v in levels):
            candidates.append(column)
    return groups + candidates[:2]


class _Spread:
    """Every ``step``-th record of a stream, ``step`` doubling whenever ``2 * size`` are kept: a
    sample of ``size`` to ``2 * size`` records spread evenly over the whole table, read in one
    pass without knowing its length (an export sorted by language, outlet or date is sampled
    from beginning to end, not from its first rows); and each column's distinct values over
    every record (at most :data:`DISTINCT_CAP`, then None)."""

    def __init__(self, size: int = SAMPLE):
        self.size, self.step, self.n = size, 1, 0
        self.rows: list[dict] = []
        self.distinct: dict[str, set[str] | None] = {}

    def add(self, fields: dict) -> None:
        if self.n % self.step == 0:
            self.rows.append(fields)
            if len(self.rows) >= 2 * self.size:
                self.rows, self.step = self.rows[::2], self.step * 2
        for column, value in fields.items():
            seen = self.distinct.setdefault(column, set())
            if seen is not None:
                seen.add(str(value if value is not None else "").strip())
                if len(seen) > DISTINCT_CAP:
                    self.distinct[column] = None
        self.n += 1


def detect(path: Path, study_root: Path, kind: str) -> Detected:
    """Look at ``path`` (a table, or a folder) and say how to read it: columns from a sample of
    :data:`SAMPLE` to twice as many records spread over the whole table (:class:`_Spread`),
    languages and grouping columns' levels from every record (streamed; memory bounded by
    :data:`DISTINCT_CAP` values a column)."""
    from .corpus import sources
    from .corpus.documents import guess_language

    relative = _relative(path, study_root)
    if kind == "folder" and not (path / "metadata.csv").is_file():
        if any(p.is_file() for p in path.rglob("*.json")):  # news-please's own layout: a subfolder per site
            kind = "newsplease"
        elif any(p.suffix.lower() in {".html", ".htm"} for p in path.rglob("*")):
            kind = "html"
        else:
            raise InputError(
                path,
                "no metadata.csv, *.json or *.html in the folder",
                (
                    "give a folder with metadata.csv (doc_id,file,language,...), news-please JSON or "
                    "HTML pages, or --table"
                ),
            )
    if kind == "folder":
        with open(path / "metadata.csv", encoding="utf-8-sig", newline="") as handle:
            import csv

            spread, all_languages = _Spread(), set()
            for row in csv.DictReader(handle):
                spread.add(row)
                all_languages.add((row.get("language") or "").strip())
        rows, n = spread.rows, spread.n
        header = list(rows[0]) if rows else []
        detected = Detected("folder", relative, n)
        detected.has_date, detected.date_span_days = _date_span([r.get("date") for r in rows])
        detected.groups = tuple(
            group_columns(
                rows,
                {"outlet": "outlet"} if "outlet" in header else {},
                {"doc_id", "file", "path", "language", "date", "title", "encoding", "url", "notes"},
                spread.distinct,
                n,
            )
        )
        languages = sorted(all_languages - {""})
        detected.languages = tuple(lang for lang in ("vi", "en") if lang in languages) or ("vi", "en")
        return detected
    source = sources.Source(kind=kind, path=str(path), label="init")
    records = sources._records_at(source, path)
    spread = _Spread()
    for record in records:
        spread.add(record.fields)
    rows, n, distinct = spread.rows, spread.n, spread.distinct
    if not rows:
        raise InputError(path, "no records", "export at least one article")
    header = list(dict.fromkeys(c for r in rows for c in r))
    detected = Detected(kind, relative, n)
    if kind == "table":
        mapping, notes = map_columns(header, rows)
        detected.notes += notes
        detected.columns = {k: v for k, v in mapping.items() if k != v}
        for name in ("doc_id", "text"):
            if name not in mapping:
                raise InputError(
                    path,
                    f"no column looks like the {name}"
                    + (" (no column holds letters: numbers or empty cells only)" if name == "text" else ""),
                    f"name it in [corpus.columns] by hand; the columns are: {', '.join(header[:12])}",
                )
    else:
        mapping = (
            {**{k: v for k, v in sources.NEWSPLEASE_COLUMNS.items()}, "doc_id": "doc_id"}
            if kind == "newsplease"
            else {
                k: k
                for k in ("doc_id", "text", "title", "date", "outlet", "url", "language")
                if k != "language" or "language" in header  # <html lang> when the pages declare it
            }
        )
    text_column = mapping["text"]
    if not any(has_letters(r.get(text_column, "")) for r in rows):
        raise InputError(
            path,
            f"the text column '{text_column}' holds no letters in the first {len(rows)} records "
            "(numbers or empty cells)",
            "export the article texts in a column of their own (text, body, nội dung ...) and run init again",
        )
    if "language" in mapping:
        over_all = distinct.get(mapping["language"])  # every record's value, when the column has few
        languages = sorted(
            {
                v.lower()
                for v in (
                    over_all if over_all is not None else {str(r.get(mapping["language"], "")).strip() for r in rows}
                )
            }
            - {""}
        )
        detected.languages = tuple(lang for lang in ("vi", "en") if lang in languages) or ("vi", "en")
        unknown = [lang for lang in languages if lang not in ("vi", "en")]
        if unknown:
            detected.notes.append(
                f"language: values other than vi/en in the sample ({', '.join(unknown[:5])}); such rows stop the run"
            )
    else:
        guessed = {guess_language(str(r.get(text_column, ""))[:4000]) for r in rows}
        if len(guessed) == 1:
            detected.language = guessed.pop()
            detected.languages = (detected.language,)
        else:
            detected.notes.append("language: no language column and the texts look mixed: add one (vi/en) to the table")
    detected.has_date, detected.date_span_days = _date_span(
        [r.get(mapping["date"]) for r in rows] if "date" in mapping else []
    )
    exclude = {
        text_column,
        mapping.get("doc_id", ""),
        mapping.get("date", ""),
        mapping.get("title", ""),
        mapping.get("url", ""),
        mapping.get("language", ""),
        "file",
        "sitename",
    }
    outlet = {"outlet": mapping["outlet"]} if "outlet" in mapping else {}
    if kind != "table":
        exclude |= set(header) - {mapping.get("outlet", "")}  # news-please / HTML fields are not groups
    detected.groups = tuple(group_columns(rows, outlet, exclude, distinct, n))
    return detected


def _date_span(values: list) -> tuple[bool, int]:
    """(any date?, days from the first to the last) of sampled date cells; unreadable ones are
    ``validate``'s to name, not init's."""
    from .corpus.dates import DateError, parse_date

    dates = []
    for value in values:
        try:
            date = None if value is None else parse_date(str(value))
        except DateError:
            continue
        if date is not None:
            dates.append(date)
    return (bool(dates), (max(dates) - min(dates)).days if dates else 0)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path.resolve())


def _toml(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def study_text(detected: Detected, name: str) -> str:
    """The study file for ``detected`` (TOML with a comment on every key; pure)."""
    groups = list(detected.groups)
    within = [g for g in groups if g != "language"]
    suggestion = suggest_topic_settings(detected.n_documents, len(detected.languages))
    cluster = _toml(
        "outlet" if "outlet" in detected.groups else ""
    )  # each outlet writes in one language: outlets are the unit
    lines = [
        (
            f"# Study file written by `python -m analysis init` for {detected.source_path} "
            f"({detected.n_documents} documents)."
        ),
        "# Check every key; `python -m analysis validate --study <this file>` reads the whole corpus and checks it.",
        '# Paths are relative to this file. "" for a resource file means the default in analysis/resources.',
        *[f"# note: {note}" for note in detected.notes],
        f"name = {_toml(name)}",
        "",
        "[corpus]",
    ]
    key = {"table": "table", "folder": "folder", "newsplease": "newsplease", "html": "html"}[detected.source_key]
    comment = {
        "table": "the table (.csv .tsv .jsonl .parquet)",
        "folder": "one text file per article",
        "newsplease": "news-please JSON files",
        "html": "saved HTML pages (main text by trafilatura)",
    }[key]
    lines.append(f"{key} = {_toml(detected.source_path)}  # {comment}")
    if key == "folder":
        lines.append(
            (
                f"metadata = {_toml(detected.source_path.rstrip('/') + '/metadata.csv')}  # "
                "doc_id,file,language,... (a column 'path' is read as 'file')"
            )
        )
    lines.append(
        'encoding = "utf-8"           # declared encoding of the texts (cp1258, viscii ...); decoding is strict'
    )
    lines.append(f"languages = {_toml(list(detected.languages))}  # language codes a document may have (vi, en)")
    if detected.language:
        lines.append(
            (
                f"language = {_toml(detected.language)}            # every document of this table is "
                "in this language (no language column)"
            )
        )
    lines.append("dayfirst = true              # a date 3/4/2024 is 3 April (false: 4 March)")
    lines.append(
        "drop_duplicates = false      # true = drop near-duplicate copies before counting (first kept, logged)"
    )
    if detected.columns:
        lines.append("")
        lines.append("[corpus.columns]              # the toolkit's names = the table's columns")
        for canonical, column in detected.columns.items():
            lines.append(f"{canonical} = {_toml(column)}")
    lines += [
        "",
        "[text]",
        'boilerplate = ""             # rules file of lines to remove; "" = analysis/resources/boilerplate.toml',
        'phrases = ""                 # your multi-word names, one a line (joined into one token)',
        'segmenter = "underthesea"    # Vietnamese word segmenter, or "pyvi" (faster, different counts)',
        "resegment = true             # re-segment pre-segmented (underscore) input with the same segmenter",
        "use_stopwordsiso = true      # stopwords-iso lists, plus the project's additions below",
        'stopwords_vi = ""            # project stopword additions; "" = analysis/resources/stopwords_vi.txt',
        'stopwords_en = ""',
        "lemmatize_en = true          # English terms as lemmas (simplemma)",
        "learn_boilerplate = true     # lines recurring in many documents of one outlet are site chrome (logged)",
        "learned_min_documents = 5    # ... in at least this many documents",
        "learned_min_share = 0.1      # ... and at least this share of the outlet's documents",
        "",
        "[units]",
        (
            f"kind = {_toml(suggestion['units']['kind'])}  # document | paragraph | sentences: "
            "the units of topics and per-unit framing"
        ),
        f"window = {suggestion['units']['window']}                   # sentences per unit",
        "",
        "[frequencies]",
        "top_n = 15                   # terms per group in the top-terms tables and charts",
        f"group_by = {_toml(groups)}  # columns to count terms by (each must exist in the corpus)",
        (
            'kwic_terms = []              # terms to show in context, e.g. ["hợp_tác", '
            '"cooperation"] (Vietnamese words joined by _)'
        ),
        "kwic_window = 6              # tokens either side in a KWIC line",
        "min_count_bigram = 2         # bigrams seen fewer times are left out",
        "",
        "[run]",
        f"output = {_toml(output_folder(name))}  # this study's own folder for every figure and table",
        'cache = ".cache"             # prepared documents and text packs (safe to delete)',
        "workers = 0                  # 0 = all cores",
        "seed = 20240403              # every random step has its own seed; this one for the run",
        'scheduler = ""               # Dask scheduler address; "" = no Dask',
        'figure_formats = ["pdf", "png"]',
        "blas_threads = 1             # BLAS threads per process: 1 = the same bytes on any machine",
        "",
        "[framing]",
        'codebook = ""                # bilingual frame codebook (YAML); "" = analysis/resources/codebook.yaml',
        'compare_by = "language"      # the groups frame and actor tests compare',
        "min_hits = 1                 # a frame is present in a unit with at least this many hits",
        "bootstrap = 2000             # bootstrap resamples of documents for 95% intervals",
        "permutations = 5000          # permutation-test resamples",
        "seed = 20240404",
        (
            f"min_group_docs = {MIN_GROUP_DOCS}          # groups with fewer documents are "
            'flagged "too small" (95% intervals cover < 93% below it)'
        ),
        "lead_sentences = 2           # headline + lead = the first N sentences",
        "voice_window = 8             # tokens between an actor and a speech verb attributed to it",
        f"keyness_within = {_toml(within)}  # word keyness within each language, by these columns",
        'keyness_correction = "none"  # none | yates | williams',
        (
            f"cluster = {cluster:<18} # outlets: the unit between languages (each outlet writes "
            'in one language); "" = documents'
        ),
        (
            'keyness_cluster = ""         # "" = [framing] cluster for concepts between groups; '
            "word keyness by outlet keeps documents"
        ),
        "keyness_top_n = 15",
        "keyness_budget = 20000       # most permutations for a keyness term still undecided (decided = False past it)",
        "keyness_min_docs = 2         # word keyness tests words in at least this many documents (1 = every word)",
        "fightin_alpha0 = 100.0       # Fightin' Words prior strength",
        "shingle_size = 5             # near-duplicate detection: word shingles",
        "duplicate_jaccard = 0.5      # near-duplicates at or above this shingle Jaccard",
        'omission_ratio = 3.0         # "much weaker" in the other language: rate at most 1/3',
        "omission_min_count = 2",
        "",
        "[topics]",
        'engine = "tomotopy"          # tomotopy (collapsed Gibbs, the default) | gensim (online variational Bayes)',
        "k = 0                        # 0 = choose K by coherence and stability over k_range",
        (
            f"k_range = {_toml(suggestion['topics']['k_range'])}  # scaled to "
            f"{detected.n_documents} documents (topics.suggest_topic_settings); widen it if you "
            "like"
        ),
        "seeds = [1, 2, 3]            # seeds of the K-selection fits (stability across seeds)",
        (
            f"search_units = {SEARCH_UNITS:<14} # K-selection fits on a sample of about this many units "
            "(whole documents, by language; faster, may choose a smaller K); 0 = every unit"
        ),
        (
            'search = "full"              # K search on every unit; "scaled" = every unit up to 2,000 documents '
            "a model, above that max(2,000, units / 5) units with 2 seeds"
        ),
        "seed = 20240405              # final fit, inference, bootstrap, the K-selection sample",
        "no_below = 2                 # dictionary: terms in at least 2 units ...",
        "no_above = 0.8               # ... and in at most 80% of units",
        "keep_n = 0                   # then the keep_n most frequent (0 = all)",
        "max_iterations = 1000        # at most this many Gibbs iterations per fit",
        "tolerance = 0.001            # stop when a window's log-likelihood per token beats the last by less",
        "window = 100                 # Gibbs iterations per convergence window",
        'alpha = "symmetric"          # symmetric | asymmetric | "0.1" (gensim also: auto)',
        'eta = "symmetric"            # symmetric | "0.01" (gensim also: auto)',
        '# engine = "gensim" reads its own keys too: passes, iterations, chunksize, eval_every, multicore, shuffle',
        "ldavis = false               # true = also an interactive LDAvis page per model",
        "coherence_topn = 10",
        "stability_min = 0.6          # K with mean matched similarity across seeds below this is not chosen",
        "top_n = 10",
        "relevance_lambda = 0.6       # Sievert & Shirley (2014)",
        "representative_n = 3",
        f"prevalence_by = {_toml(groups)}  # topic prevalence by these columns",
        "bootstrap = 2000",
        'bootstrap_by = "document"    # document (cluster bootstrap) | unit',
        f"cluster = {cluster:<18} # outlets as clusters beside topic prevalence by group",
        "",
        *equivalence_lines(detected),
        *design_lines(detected),
    ]
    return "\n".join(lines) + "\n"


def output_folder(name: str) -> str:
    """``figures/<study name>``: each study its own output folder, so two studies never mix
    (``make`` of one would otherwise take the other's files as its own, up to date).

    >>> output_folder("mystudy")
    'figures/mystudy'
    """
    return f"figures/{name}"


def equivalence_lines(detected: Detected) -> list[str]:
    """``[equivalence]``: the translated sample ``init --parallel`` named, or none."""
    return [
        "[equivalence]",
        (
            f"parallel = {_toml(detected.parallel)}  # translated sample: line-aligned en.txt / vi.txt "
            '(+ docs.csv); "" = none'
        ),
        "bootstrap = 2000             # resamples of the translated pairs for ratio intervals",
        "permutations = 5000          # sign flips of the paired test",
        "seed = 20240406",
        "margin = 1.25                # non-equivalent: the vi/en ratio's interval outside [1/margin, margin]",
    ]


def time_frequency(span_days: int, *, documents_per_language: float = math.inf) -> str:
    """Periods of ``[time]`` for dates spanning ``span_days``: the finest of day, week and month whose
    periods hold on average at least ``MIN_GROUP_DOCS`` documents of a language (a rate per period
    needs documents to be estimated from: below that most periods are flagged sparse and their
    intervals unbounded), else months; with no count, days up to a month and weeks up to a year.

    >>> [time_frequency(d) for d in (0, 31, 200, 1000)]
    ['day', 'day', 'week', 'month']
    >>> time_frequency(355, documents_per_language=400), time_frequency(366, documents_per_language=5000)
    ('month', 'week')
    """
    limits = {"day": 31, "week": 366, "month": math.inf}
    for freq, days in (("day", 1), ("week", 7), ("month", 30.4375)):
        periods = span_days // days + 1
        if span_days <= limits[freq] and documents_per_language / periods >= MIN_GROUP_DOCS:
            return freq
    return "month"


def design_lines(detected: Detected) -> list[str]:
    """The design layer (``[[compare]]``, ``[time]``, ``[model]``) the corpus supports: vi against
    en (outlets as clusters when there is an outlet column) when both languages are present,
    rates over time when there are dates."""
    cross = "vi" in detected.languages and "en" in detected.languages
    outlet = "outlet" in detected.groups
    cluster = _toml("outlet" if outlet else "")
    lines: list[str] = []
    if cross:
        lines += [
            "",
            "[[compare]]",
            'name = "vi-vs-en"',
            'groups = [{ language = "vi" }, { language = "en" }]   # two or more groups; each a set of column = value',
            'measures = ["frames"]        # frames | actors | concepts | topics | words (words: one language only)',
            'correction = "holm"          # across every pair and item of this contrast: holm | bh',
            f"cluster = {cluster:<18} # design effect, effective clusters and a cluster bootstrap by it",
            'exposure = "sentences"       # per 100 sentences (the cross-language rate) | "tokens": per 1,000',
        ]
    if detected.has_date:
        freq = time_frequency(
            detected.date_span_days, documents_per_language=detected.n_documents / max(1, len(detected.languages))
        )
        lines += [
            "",
            "[time]",
            (
                f"freq = {_toml(freq)}  # day | week | month, about {MIN_GROUP_DOCS}+ documents a language and period "
                f"(the sampled dates span {detected.date_span_days} days)"
            ),
            'by = "language"              # one line per value of this column',
            'measures = ["frames"]        # frames | actors | concepts | topics',
            'exposure = "sentences"       # sentences (per 100) | tokens (per 1,000)',
            "bootstrap = 1000             # document resamples for the 95% intervals",
            "seed = 20240406",
            "max_lag = 7                  # days either side for the cross-correlation of daily volumes",
        ]
    if cross:
        lines += [
            "",
            "[model]",
            'formula = "language"         # right-hand side, e.g. "language + spline(date, 4) + section"',
            'family = "quasipoisson"      # quasipoisson | negbin',
            f'cluster = {cluster:<18} # clustered standard errors by this column ("" = none)',
            'exposure = "sentences"       # offset log(sentences) | log(tokens)',
            f"mixed = {'true' if outlet else 'false'}{'':<13} # also a random intercept by cluster (enough clusters)",
            "min_clusters = 5",
            "min_docs = 20                # fewer documents: every row flagged too small",
            "topics = false               # true = topic prevalence on the same formula (needs the topics stage)",
            "draws = 100",
            "seed = 20240407",
        ]
    return lines


def run_init(args) -> int:
    """The ``init`` command: detect, then write the study file (never over an existing file)."""
    from . import files

    if bool(args.table) == bool(args.folder):
        raise InputError(
            "init",
            "give one of --table FILE or --folder FOLDER",
            "python -m analysis init --table articles.csv --study mystudy.toml",
        )
    target = Path(args.study)
    if target.exists():
        raise InputError(
            target, "already exists (init never overwrites a study file)", "give a new name with --study mystudy.toml"
        )
    given = Path(args.table or args.folder)
    if args.table and not given.is_file():
        raise InputError(given, "table not found", "give the path of a .csv, .tsv, .jsonl or .parquet file")
    if args.folder and not given.is_dir():
        raise InputError(given, "folder not found", "give the folder of the corpus")
    parallel = Path(getattr(args, "parallel", "") or "")
    if str(parallel) not in ("", "."):
        from .corpus.folder import read_parallel

        read_parallel(parallel)  # en.txt and vi.txt present, line-aligned, UTF-8: refused here, not at make
    detected = detect(given, target.resolve().parent, "table" if args.table else "folder")
    if str(parallel) not in ("", "."):
        detected.parallel = _relative(parallel, target.resolve().parent)
    files.write_text(target, study_text(detected, target.stem))
    print(
        (
            f"wrote {target}: {detected.n_documents} documents, groups "
            f"{', '.join(detected.groups)}; check it, then run: python -m analysis validate "
            f"--study {target}"
        )
    )
    return 0
