"""Preparation: a validated document in, a :class:`~analysis.text.tokens.PreparedDocument` out.

canonical text (NFC ...) -> boilerplate rules (logged) -> Vietnamese tone marks and segmentation,
or English tokenisation -> multi-word names merged -> sentences in paragraphs.

Scaling, in the shape gensim gives a corpus: a *re-iterable stream*, not a list.

* :func:`prepare_document` is pure and picklable; :func:`prepare_corpus` maps it over batches of
  documents, serially, in ``workers`` local processes, or on a Dask cluster (``scheduler``), with
  a bounded number of batches in flight so memory does not grow with the corpus.
* Each prepared document is written to the on-disk cache (:class:`analysis.files.PreparedCache`) as
  soon as it arrives, under a key made of the text and only the settings that change the output
  (:attr:`Preparation.key`): adding documents prepares only the new ones, changing the stopwords,
  ``top_n`` or the units prepares nothing, changing the rules, names or segmenter re-prepares.
* With a cache, the result is a :class:`PreparedSequence` that reads documents back lazily (a small
  LRU for random access), so stages that iterate over ``prepared`` hold one document at a time.
  Without a cache it is an in-memory list.

Every route returns the same documents in corpus order, byte for byte: workers and Dask only
change where a document is prepared, never what comes out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
from collections import OrderedDict
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import islice
from typing import Callable, Iterable, Iterator, Sequence, overload

from .. import threads
from ..corpus.documents import Document
from ..errors import InputError
from ..study.settings import raise_all, scheduler_problem
from . import tokens
from .clean import Rule, parse_rules, remove_boilerplate, split_headline
from .normalize import NORMALIZE_VERSION, canonical_text
from .tokens import PhraseMerger, PreparedDocument, segment_en, segment_vi, segmenter_id

log = logging.getLogger("analysis")

#: Bumped whenever preparation code changes its output, to invalidate caches.
PREPARE_VERSION = "3"  # 3: English numbers before a letter ("£1.8m") no longer split sentences

#: Batches in flight per worker: enough to keep every worker busy while the parent collects
#: results, few enough that memory stays flat however long the corpus is.
IN_FLIGHT_PER_WORKER = 3
#: Batches are cut by text volume, not document count: about 0.5 s of underthesea or 50 ms of
#: English tokenisation each. One task per document costs more in inter-process traffic than an
#: English document takes to prepare; much larger batches make the progress bar jumpy and leave
#: the last batch to one worker.
BATCH_CHARS = 100_000


@dataclass(frozen=True)
class Preparation:
    """Everything that determines a prepared document besides its text."""

    rules_text: str
    rules_label: str
    phrases_vi: tuple[str, ...]
    phrases_en: tuple[str, ...]
    segmenter: str | Callable[[str], list[str]] = (
        "underthesea"  # a registered name or a callable (tokens.get_segmenter)
    )
    resegment: bool = True

    @property
    def rules(self) -> tuple[Rule, ...]:
        return _parsed_rules(self.rules_text, self.rules_label)

    @cached_property
    def key(self) -> str:
        """SHA-256 of the settings that change the prepared tokens (and of the code versions).

        The rules' *label* (where the file lives) is left out on purpose: moving a rule file
        re-prepares nothing, editing it re-prepares everything.
        """
        return _sha256_json(self._settings(("vi", "en")))

    def key_for(self, language: str) -> str:
        """The part of :attr:`key` that documents in ``language`` depend on.

        English documents ignore the Vietnamese segmenter and name list (and vice versa), so
        switching to pyvi re-prepares the Vietnamese documents only. Cached per instance: it is
        hashed into the key of every document.
        """
        keys = self.__dict__.setdefault("_language_keys", {})
        if language not in keys:
            keys[language] = _sha256_json(self._settings((language,)))
        return keys[language]

    def _settings(self, languages: tuple[str, ...]) -> dict:
        settings: dict = {
            "prepare_version": PREPARE_VERSION,
            "normalize_version": NORMALIZE_VERSION,
            "rules": self.rules_text,
        }
        if "vi" in languages:
            settings.update(
                phrases_vi=sorted(self.phrases_vi), segmenter=segmenter_id(self.segmenter), resegment=self.resegment
            )
            # Paragraphs longer than this are segmented in pieces (analysis.text.tokens.bounded_pieces).
            settings.update(segment_chars=tokens.SEGMENT_CHARS)
        if "en" in languages:
            settings.update(phrases_en=sorted(self.phrases_en))
        return settings

    def describe(self) -> dict:
        return {
            "boilerplate_rules": self.rules_label,
            "phrases_vi": len(self.phrases_vi),
            "phrases_en": len(self.phrases_en),
            "segmenter": segmenter_id(self.segmenter),
            "resegment_presegmented": self.resegment,
            "settings_key": self.key,
        }


def _sha256_json(data: dict) -> str:
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@lru_cache(maxsize=8)
def _parsed_rules(text: str, label: str) -> tuple[Rule, ...]:
    return parse_rules(text, label)


@lru_cache(maxsize=8)
def _mergers(key: str, phrases_vi: tuple[str, ...], phrases_en: tuple[str, ...]) -> dict[str, PhraseMerger]:
    # Keyed by the settings key first: hashing a str caches its hash, a long tuple of phrases
    # would be re-hashed for every document.
    return {"vi": PhraseMerger(phrases_vi, "_"), "en": PhraseMerger(phrases_en, " ")}


def document_key(document: Document, preparation: Preparation) -> str:
    """Cache key of one document: its language's settings key, language, title and text's SHA-256.

    Not the doc_id: two documents with the same text share an entry (the doc_id is restored on
    reading), and renaming a document or its file re-prepares nothing.
    """
    digest = hashlib.sha256()
    digest.update(preparation.key_for(document.language).encode())
    digest.update(document.language.encode())
    digest.update((document.meta or {}).get("title", "").encode("utf-8", "surrogatepass") + b"\x00")
    digest.update(document.text_sha256.encode())
    if any(rule.outlets for rule in preparation.rules):  # outlet-scoped rules: the outlet changes the cleaning
        digest.update(b"\x00outlet\x00" + document_outlet(document).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


#: Where the corpus-learned rules begin in a preparation's rule text: :mod:`analysis.text.learned_boilerplate`
#: appends them, each a ``[[rule]]`` named ``learned: ...``, after the rule file's own rules.
LEARNED_RULES_START = '\n[[rule]]\nname = "learned: '
#: Version of the memo of which learned rules changed a document (:func:`document_keys`).
APPLIED_VERSION = "1"
#: Characters of cleaned text :func:`document_keys` keeps for preparation (about 64 MB as Python
#: strings of Vietnamese, about 15,000 VNTC articles); past it a document is cleaned again when
#: prepared, so memory stays bounded however long the corpus.
KEPT_CLEANED_CHARS = 32_000_000


def document_keys(
    documents: Sequence[Document], preparation: Preparation, *, cache=None, cleaned: dict | None = None
) -> list[str]:
    """Cache keys of ``documents`` (:func:`document_key`), the corpus-learned rules counted only in
    the keys of the documents they change.

    Why: the learned rules (``[text] learn_boilerplate``) are in the preparation's rule text, so
    with :func:`document_key` alone every document's key changed with them, and turning learning
    off (a multiverse specification) re-prepared every document although the rules cut lines
    from a few. A rule that removes nothing from a document leaves it exactly as it would be
    without the rule (:func:`analysis.text.clean.remove_boilerplate` applies rules in order, each
    to what the ones before it left; one that matches nothing changes nothing), so the document's
    key is made of the preparation *without* the learned rules (:func:`document_key` of it: the
    same key as with learning off) plus the definitions of the learned rules that removed
    something from it (:func:`clean_document`, whose removals name their rule). Keys of
    preparations without learned rules are :func:`document_key`'s, unchanged.

    Which learned rules change which document is worked out once (a boilerplate pass per
    document, about 1.5 ms) and kept in ``cache``, in one ``learned-applied-`` entry per set of
    rules (keyed by the rule file's text and the learned rules' definitions, not their
    descriptions, whose counts change with every added document), so a later run reads one file
    instead. A document the rules cannot clean (an error preparation reports) is keyed with every
    learned rule and not remembered.

    ``cleaned``: a dict that receives ``position -> (cleaned text, removals)`` of the documents this
    pass cleans (:func:`clean_document` with every rule, what preparation starts from), up to
    :data:`KEPT_CLEANED_CHARS` characters in all, so that preparing them does not apply the rules
    a second time (:func:`prepare_corpus`).
    """
    position = preparation.rules_text.find(LEARNED_RULES_START)
    if position < 0:
        return [document_key(d, preparation) for d in documents]
    base_text = preparation.rules_text[:position]
    base = dataclasses.replace(preparation, rules_text=base_text if base_text.strip() else "")
    learned = preparation.rules[len(base.rules) :]
    definitions = [
        [r.name, r.kind, r.pattern.pattern, list(r.languages), list(r.outlets)] for r in learned
    ]  # what decides a cut (not the description or the file name)
    memo_key = "learned-applied-" + _sha256_json(
        {
            "applied_version": APPLIED_VERSION,
            "prepare_version": PREPARE_VERSION,
            "normalize_version": NORMALIZE_VERSION,
            "rules": _sha256_text(base_text),
            "learned": definitions,
        }
    )
    stored = cache.get(memo_key) if cache is not None else None
    memo: dict[str, list[int]] = dict(stored.get("applied", {})) if isinstance(stored, dict) else {}
    remembered = len(memo)
    keys = []
    kept_chars = 0
    for position, document in enumerate(documents):
        outlet = document_outlet(document)
        identity = _sha256_json(
            {
                "language": document.language,
                "title": _sha256_text((document.meta or {}).get("title", "")),
                "text": document.text_sha256,
                "outlet": _sha256_text(outlet),
            }
        )[:32]
        applied = memo.get(identity)
        if applied is None:
            try:
                text, removals = clean_document(document, preparation)
            except InputError:
                applied = list(range(len(learned)))  # not remembered: preparation reports the error
            else:
                if cleaned is not None and kept_chars + len(text) <= KEPT_CLEANED_CHARS:
                    cleaned[position] = (text, removals)
                    kept_chars += len(text)
                names = {r.rule for r in removals}
                applied = [
                    j
                    for j, rule in enumerate(learned)
                    if rule.name in names
                    and document.language in rule.languages
                    and (not rule.outlets or outlet in rule.outlets)
                ]
                memo[identity] = applied
        key = document_key(document, base)
        if applied:
            key = _sha256_json({"key": key, "learned_rules": [definitions[j] for j in applied]})
        keys.append(key)
    if cache is not None and len(memo) > remembered:
        cache.put(memo_key, {"applied": memo})
    return keys


def document_outlet(document: Document) -> str:
    """The document's ``outlet`` metadata value (``""`` without one): what outlet-scoped rules match."""
    return (document.meta or {}).get("outlet", "") or ""


def clean_document(document: Document, preparation: Preparation) -> tuple[str, list]:
    """The checks and cleaning before segmentation: canonical text, headline, boilerplate rules.

    Raises the :class:`InputError` that preparation would (a control character, a text of
    invisible characters only, nothing left after the boilerplate rules), so ``validate`` can run
    the same checks (:func:`check_documents`) without segmenting anything.
    """
    where = document.meta.get("file", document.doc_id) if document.meta else document.doc_id
    text = canonical_text(document.text, where=f"{where}")
    if not text.strip():
        raise InputError(
            where,
            "the text is only invisible characters (zero-width or bidirectional marks)",
            "remove it from the metadata or add its text",
        )
    title = canonical_text(document.meta.get("title", ""), where=f"{where} title") if document.meta else ""
    text = split_headline(text, title) if title else text
    cleaned, removals = remove_boilerplate(
        text, preparation.rules, document.language, where=where, outlet=document_outlet(document)
    )
    if not cleaned.strip():
        raise InputError(where, "no text left after boilerplate removal", "check the rules in the boilerplate file")
    return cleaned, removals


#: Bad records ``validate`` lists one line each; the rest are counted in one more line.
LISTED_PROBLEMS = 20


def check_documents(documents: Iterable[Document], preparation: Preparation) -> int:
    """Run :func:`clean_document` on every document (what ``validate`` checks); return the count.

    A bad record does not stop the pass: an export with several (a control character here, an
    empty text there) is reported at once, the first :data:`LISTED_PROBLEMS` one line each and
    then how many more, rather than one record per run of ``validate``.
    """
    problems: list[InputError] = []
    more = count = 0
    for document in documents:
        try:
            clean_document(document, preparation)
        except InputError as exc:
            if len(problems) < LISTED_PROBLEMS:
                problems.append(exc)
            else:
                more += 1
        count += 1
    if more:
        problems.append(
            InputError(
                "corpus",
                f"{more} more record{'s' if more > 1 else ''} with problems not listed here",
                "fix the records above, then run validate again",
            )
        )
    raise_all(problems)
    return count


def prepare_document(document: Document, preparation: Preparation) -> PreparedDocument:
    """Clean, normalise and segment one document (pure; no file access).

    >>> prep = Preparation("", "none", ("Bùi Thanh Sơn",), ())
    >>> doc = Document("d1", "vi", "Bộ trưởng Bùi Thanh Sơn hội đàm.")
    >>> list(prepare_document(doc, prep).tokens())
    ['Bộ_trưởng', 'Bùi_Thanh_Sơn', 'hội_đàm', '.']
    """
    cleaned, removals = clean_document(document, preparation)
    return _segment_cleaned(document, preparation, cleaned, removals)


def _segment_cleaned(document: Document, preparation: Preparation, cleaned: str, removals: list) -> PreparedDocument:
    """:func:`prepare_document` after :func:`clean_document` (``cleaned``, ``removals``)."""
    presegmented = False
    merger = _mergers(preparation.key, tuple(preparation.phrases_vi), tuple(preparation.phrases_en))[document.language]
    if document.language == "vi":
        paragraphs, presegmented = segment_vi(
            cleaned, segmenter=preparation.segmenter, merger=merger, resegment=preparation.resegment
        )
    else:
        paragraphs = segment_en(cleaned, merger)
    return PreparedDocument(
        doc_id=document.doc_id,
        language=document.language,
        paragraphs=paragraphs,
        presegmented=presegmented,
        removals=[r.__dict__ for r in removals],
    )


# ------------------------------------------------------------------------ the prepared stream


def _encode(document: PreparedDocument) -> str:
    """The cache format: compact JSON of :meth:`PreparedDocument.to_json` (never pickle)."""
    return json.dumps(document.to_json(), ensure_ascii=False, separators=(",", ":"))


def _decode(payload: str, doc_id: str) -> PreparedDocument:
    document = PreparedDocument.from_json(json.loads(payload))
    # Documents with identical text share a cache entry: the entry keeps the id of whichever was
    # prepared first, the reader restores its own.
    document.doc_id = doc_id
    return document


class PreparedSequence(Sequence[PreparedDocument]):
    """Prepared documents in corpus order, read lazily from the cache: a re-iterable stream.

    Behaves like a read-only list (``len``, indexing with negative indices and slices, iteration
    any number of times, ``==`` with any sequence) while holding only the cache keys in memory.
    Iteration reads one document at a time; random access goes through a small LRU. A document
    whose cache entry has vanished or is unreadable is prepared again (and stored again).

    Parameters
    ----------
    cache : analysis.files.PreparedCache
    keys : list of str, one cache key per document (:func:`document_key`)
    documents : sequence of Document, the same order (only used to re-prepare a lost entry)
    preparation : Preparation
    lru_size : int, documents kept for random access
    """

    def __init__(
        self, cache, keys: Sequence[str], documents: Sequence[Document], preparation: Preparation, lru_size: int = 32
    ):
        if len(keys) != len(documents):
            raise ValueError("one key per document")
        self._cache = cache
        self._keys = list(keys)
        self._documents = documents
        self._preparation = preparation
        self._lru: OrderedDict[int, PreparedDocument] = OrderedDict()
        self._lru_size = lru_size

    def __len__(self) -> int:
        return len(self._keys)

    @overload
    def __getitem__(self, index: int) -> PreparedDocument: ...

    @overload
    def __getitem__(self, index: slice) -> list[PreparedDocument]: ...

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._load(i) for i in range(*index.indices(len(self)))]
        try:
            position = index.__index__()
        except AttributeError:
            raise TypeError(f"indices must be integers or slices, not {type(index).__name__}") from None
        if position < 0:
            position += len(self)
        if not 0 <= position < len(self):
            raise IndexError("prepared document index out of range")
        if position in self._lru:
            self._lru.move_to_end(position)
            return self._lru[position]
        document = self._load(position)
        self._lru[position] = document
        if len(self._lru) > self._lru_size:
            self._lru.popitem(last=False)
        return document

    def __iter__(self) -> Iterator[PreparedDocument]:
        # Sequential reads bypass the LRU: a full pass would only evict what random access wants.
        for position in range(len(self)):
            yield self._load(position)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]  # mutable-looking container, like list

    def __repr__(self) -> str:
        return f"<PreparedSequence of {len(self)} documents from {self._cache!r}>"

    @property
    def doc_ids(self) -> list[str]:
        return [d.doc_id for d in self._documents]

    @property
    def keys(self) -> list[str]:
        return list(self._keys)

    def _load(self, position: int) -> PreparedDocument:
        document = self._documents[position]
        payload = self._cache.get_text(self._keys[position])
        if payload is not None:
            try:
                return _decode(payload, document.doc_id)
            except (ValueError, KeyError, TypeError):
                log.warning("prepare: unreadable cache entry for %s; preparing it again", document.doc_id)
        prepared = prepare_document(document, self._preparation)
        self._cache.put_text(self._keys[position], _encode(prepared))
        return prepared


# --------------------------------------------------------------------------------- execution

_WORKER_PREPARATION: Preparation | None = None

# A batch is a list of (position, document, cleaned) with ``cleaned`` the (text, removals) of
# :func:`clean_document` when :func:`document_keys` kept it, else None; a result a list of (position, ok, payload) with
# payload the cache JSON, or (where, problem, fix) of an InputError. Errors travel as plain
# tuples because InputError cannot be rebuilt by pickle (its __init__ takes three arguments).
Batch = list[tuple[int, Document, tuple[str, list] | None]]
Result = list[tuple[int, bool, object]]


def _init_worker(preparation: Preparation, parent: int | None = None) -> None:
    """Process-pool initializer: the preparation goes once per worker, not once per batch.

    A worker must not outlive the run: after a SIGKILL or SIGTERM of the parent, workers were
    left blocked on their pipe (once still alive 16 minutes later). So each worker asks Linux to
    send it SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), and, on every system, a daemon
    thread checks once a second that the parent is still its parent and ends the worker if not.
    Ctrl-C reaches the whole process group: workers ignore it and the parent stops them.
    """
    global _WORKER_PREPARATION
    _WORKER_PREPARATION = preparation
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is None:
        return
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    import threading

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _die_with_parent() -> None:
    """Linux: SIGTERM to this process when its parent dies (prctl PR_SET_PDEATHSIG); else nothing."""
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # the polling thread still ends the worker


def _prepare_batch(batch: Batch, preparation: Preparation | None = None) -> Result:
    """Prepare a batch and return each document's cache JSON; the caller stores it.

    Workers do not write the cache themselves: processes creating files in one file system at
    once pay for each other's journal locks and a worker's writes delay its next batch, while the
    parent, otherwise idle, writes entries as results arrive (the measurements are in
    ``benchmarks/README.md``, "Design measurements").
    """
    preparation = preparation if preparation is not None else _WORKER_PREPARATION
    out: Result = []
    for position, document, cleaned in batch:
        try:
            if cleaned is None:
                prepared = prepare_document(document, preparation)
            else:
                prepared = _segment_cleaned(document, preparation, *cleaned)
            out.append((position, True, _encode(prepared)))
        except InputError as exc:
            out.append((position, False, (exc.where, exc.problem, exc.fix)))
    return out


def resolve_workers(workers: int) -> int:
    """``0`` means every core this process may run on; otherwise ``workers`` itself."""
    if workers < 0:
        raise InputError(
            "[run] workers / --workers", f"worker count {workers} is negative", "use 0 (all cores) or a positive count"
        )
    if workers > 0:
        return workers
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _batches(
    todo: Sequence[int], documents: Sequence[Document], workers: int, cleaned: dict | None = None
) -> Iterator[Batch]:
    """Consecutive documents, about ``BATCH_CHARS`` of text a batch (and at least 8 batches a worker),
    each with its cleaned text when ``cleaned`` holds it (taken out of ``cleaned`` as it goes)."""
    cleaned = {} if cleaned is None else cleaned
    target = min(BATCH_CHARS, sum(documents[i].size for i in todo) // (workers * 8) + 1)
    batch: Batch = []
    size = 0
    for i in todo:
        batch.append((i, documents[i], cleaned.pop(i, None)))
        size += documents[i].size
        if size >= target:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _serial(batches: Iterator[Batch], preparation: Preparation) -> Iterator[Result]:
    yield []
    for batch in batches:
        yield _prepare_batch(batch, preparation)


def _pool(batches: Iterator[Batch], preparation: Preparation, workers: int) -> Iterator[Result]:
    """Local worker processes with at most ``IN_FLIGHT_PER_WORKER * workers`` batches pending."""

    def submit(batch: Batch):
        return pool.submit(_prepare_batch, batch)

    pool = threads.worker_pool(workers, initializer=_init_worker, initargs=(preparation, os.getpid()))
    finished = False
    try:
        pending = {submit(b) for b in islice(batches, IN_FLIGHT_PER_WORKER * workers)}
        yield []  # the worker processes exist now: the caller may start threads (progress bar)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            pending.update(submit(b) for b in islice(batches, len(done)))
            for future in done:
                yield future.result()
        finished = True
    finally:
        if not finished:
            # Stopped early (a bad document, Ctrl-C, an error): what the workers are doing now
            # would be thrown away, and a long batch would hold up the exit, so stop them now.
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def _dask(batches: Iterator[Batch], preparation: Preparation, address: str) -> Iterator[Result]:
    """Batches on a Dask cluster, at most two per worker thread in flight.

    Dask is imported here and nowhere else, so a run without a scheduler address imports and
    starts nothing of it. The workers need this package installed (same version) to unpickle
    :func:`_prepare_batch`; they return JSON text, so the result cannot depend on where it ran.
    """
    where = "[run] scheduler"
    client = dask_client(address, where=where)
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    # Texts travel with the batch: a cluster's workers need not see this machine's corpus folder.
    batches = ([(i, d if isinstance(d, Document) else d.loaded(), c) for i, d, c in batch] for batch in batches)
    try:
        threads = max(1, sum(client.nthreads().values()))
        shared = client.scatter(preparation, broadcast=True, hash=False)
        first = [
            client.submit(_prepare_batch, b, shared, pure=False)
            for b in islice(batches, IN_FLIGHT_PER_WORKER * threads)
        ]
        queue = as_completed(first, loop=client.loop)  # this client, not a global default one
        yield []
        for future in queue:
            try:
                result = future.result()
            except (OSError, TimeoutError, KilledWorker) as exc:  # the cluster, not the batch
                raise InputError(
                    where,
                    f"the Dask cluster at '{address}' failed during the run ({type(exc).__name__}: {exc})",
                    'run again when the cluster is up (finished documents are cached), or set scheduler = ""',
                ) from None
            future.release()
            for batch in islice(batches, 1):
                queue.add(client.submit(_prepare_batch, batch, shared, pure=False))
            yield result
    except (OSError, TimeoutError) as exc:  # scatter or submit to a cluster that went away
        raise InputError(
            where,
            f"the Dask cluster at '{address}' failed during the run ({type(exc).__name__}: {exc})",
            'run again when the cluster is up (finished documents are cached), or set scheduler = ""',
        ) from None
    finally:
        client.close()


#: Seconds to connect to a Dask scheduler, to hear its handshake and to find a worker.
SCHEDULER_TIMEOUT = 20


def dask_client(address: str, *, where: str = "[run] scheduler"):
    """A ``distributed.Client`` of the Dask scheduler at ``address`` with at least one worker, or one
    :class:`~analysis.errors.InputError` line naming ``where``: a malformed address, ``distributed``
    not installed, a port that does not answer as a scheduler (:func:`probe_scheduler`), no
    connection, or no worker within :data:`SCHEDULER_TIMEOUT` seconds. Every stage that runs on Dask
    (preparation, topic fits, the robustness grid, the framing annotation) connects through it;
    ``distributed`` is imported here, so a study without a scheduler imports nothing of it. The
    caller closes the client.
    """
    problem = scheduler_problem(address)  # also an address given with --scheduler
    if problem:
        raise InputError(where, problem, 'give the address the scheduler prints (tcp://host:8786), or "" for no Dask')
    try:
        from distributed import Client
    except ImportError:
        raise InputError(
            where, "Dask's 'distributed' package is not installed", 'install it or set scheduler = ""'
        ) from None
    probe_scheduler(address, where)
    try:
        client = Client(address, timeout=f"{SCHEDULER_TIMEOUT}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(
            where, f"cannot reach the Dask scheduler at '{address}' ({exc})", 'start it or set scheduler = ""'
        ) from None
    try:
        client.wait_for_workers(1, timeout=SCHEDULER_TIMEOUT)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise InputError(
            where,
            f"the Dask scheduler at '{address}' has no worker after {SCHEDULER_TIMEOUT} s ({type(exc).__name__})",
            'start workers (dask worker <address>) or set scheduler = ""',
        ) from None
    return client


def probe_scheduler(address: str, where: str, timeout: float = SCHEDULER_TIMEOUT) -> None:
    """Connect to a ``tcp://`` scheduler address and wait for the first bytes of its handshake: a
    Dask scheduler writes it as soon as a connection opens; a port that accepts and never answers
    (or an HTTP server, which waits for a request) would otherwise hang Dask's client, whose
    timeout covers the connection but not the handshake. Other protocols (TLS) are left to Dask.
    """
    import socket

    if "://" in address and not address.startswith("tcp://"):
        return
    rest = address.split("://", 1)[-1]
    host, _, port = rest.rpartition(":") if rest.rsplit(":", 1)[-1].isdigit() else (rest, "", "8786")
    host = host.strip("[]")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as connection:
            connection.settimeout(timeout)
            if not connection.recv(1):
                raise ConnectionResetError("closed the connection")
    except TimeoutError:
        raise InputError(
            where,
            f"'{address}' accepted a connection but did not answer as a Dask scheduler within {timeout} s",
            'check the address and port (dask scheduler prints them), or set scheduler = ""',
        ) from None
    except OSError as exc:
        raise InputError(
            where, f"cannot reach the Dask scheduler at '{address}' ({exc})", 'start it or set scheduler = ""'
        ) from None


def _progress(total: int, enabled: bool):
    """tqdm on stderr: documents done, rate (documents/s) and the estimated time left."""
    from tqdm.auto import tqdm

    from .. import progress  # --quiet turns every progress display off

    return tqdm(
        total=total,
        desc="prepare",
        unit="doc",
        disable=not enabled or not progress.ENABLED or total < 2,
        leave=False,
        mininterval=0.5,
    )


def prepare_corpus(
    documents: Sequence[Document],
    preparation: Preparation,
    *,
    cache=None,
    workers: int = 1,
    progress: bool = False,
    scheduler: str = "",
) -> Sequence[PreparedDocument]:
    """Prepare every document, in corpus order, using and filling ``cache`` when given.

    Parameters
    ----------
    documents : sequence of Document
    preparation : Preparation, the settings that change the output
    cache : analysis.files.PreparedCache or None
        With a cache, only documents whose key is missing are prepared, each is stored as soon as
        it is ready, and the result is a lazy :class:`PreparedSequence`; without, a list.
    workers : int, local worker processes (0 = all cores; 1 = in this process)
    progress : bool, show a progress bar on stderr (documents/s, time left)
    scheduler : str, a Dask scheduler address (``tcp://host:8786``); "" = no Dask at all

    Returns
    -------
    Sequence of PreparedDocument, one per document, in order. Identical (same tokens, same cache
    bytes) for any ``workers`` or ``scheduler``.

    Raises
    ------
    InputError
        A document that cannot be prepared (e.g. nothing left after boilerplate removal): every
        document to prepare is then cleaned once more and each bad one listed (as
        :func:`check_documents`: the first :data:`LISTED_PROBLEMS`, then how many more); the
        documents prepared before the stop stay cached, so the re-run after the fix resumes.
    """
    workers = resolve_workers(workers)
    cleaned: dict[int, tuple[str, list]] = {}  # documents the key pass cleaned: not cleaned again
    keys = document_keys(documents, preparation, cache=cache, cleaned=cleaned)
    # One preparation per distinct key: duplicate articles (wire copies) are prepared once.
    first: dict[str, int] = {}
    for position, key in enumerate(keys):
        first.setdefault(key, position)
    if cache is not None:
        todo = [position for key, position in first.items() if key not in cache]
    else:
        todo = list(first.values())
    cleaned = {i: cleaned[i] for i in todo if i in cleaned}  # the rest (cached, duplicates) is not needed
    log.info(
        "prepare: %d documents (%d distinct), %d from cache, %d to prepare%s",
        len(documents),
        len(first),
        len(first) - len(todo),
        len(todo),
        f" on Dask at {scheduler}" if scheduler and todo else f" with {workers} worker(s)" if todo else "",
    )
    payloads: dict[str, str] = {}

    def store(position: int, payload: str) -> None:
        if cache is not None:
            cache.put_text(keys[position], payload)
        else:
            payloads[keys[position]] = payload

    if todo:
        todo_keys = {keys[i] for i in todo}
        uncached = [i for i, key in enumerate(keys) if key in todo_keys]
        try:
            _run(todo, documents, preparation, workers, scheduler, progress=progress, store=store, cleaned=cleaned)
        except InputError:
            # A bad record rarely comes alone in an export: clean (not segment) every record that
            # was to be prepared, copies included, and list every bad one as validate does (a few
            # ms a record, paid only on this path); a problem cleaning does not see is raised as it came.
            check_documents((documents[i] for i in uncached), preparation)
            raise
    if cache is not None:
        return PreparedSequence(cache, keys, documents, preparation)
    return [_decode(payloads[key], d.doc_id) for key, d in zip(keys, documents)]


def _run(
    todo: list[int],
    documents: Sequence[Document],
    preparation: Preparation,
    workers: int,
    scheduler: str,
    *,
    progress: bool,
    store: Callable[[int, str], None],
    cleaned: dict | None = None,
) -> None:
    batches = _batches(todo, documents, workers, cleaned)
    if scheduler:
        results = _dask(batches, preparation, scheduler)
    elif workers > 1 and len(todo) > 1:
        results = _pool(batches, preparation, min(workers, len(todo)))
    else:
        results = _serial(batches, preparation)
    errors: list[tuple[int, tuple]] = []
    bar = None
    started = time.perf_counter()
    try:
        for result in results:
            # Created after the first (empty) result: worker processes are forked before the
            # progress bar starts its monitor thread.
            if bar is None:
                bar = _progress(len(todo), progress)
            for position, ok, payload in result:
                if ok:
                    store(position, payload)
                else:
                    errors.append((position, payload))
            bar.update(len(result))
            if errors:
                break  # stop submitting; finished documents are already stored
    finally:
        results.close()
        if bar is not None:
            bar.close()
    if errors:
        _, (where, problem, fix) = min(errors)
        raise InputError(where, problem, fix)
    seconds = time.perf_counter() - started
    log.info(
        "prepare: %d documents in %.1f s (%.1f documents/s)",
        len(todo),
        seconds,
        len(todo) / seconds if seconds else 0.0,
    )
