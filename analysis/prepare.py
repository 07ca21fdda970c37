"""Preparation: a validated document in, a :class:`~analysis.tokens.PreparedDocument` out.

canonical text (NFC ...) -> boilerplate rules (logged) -> Vietnamese tone marks and segmentation,
or English tokenisation -> multi-word names merged -> sentences in paragraphs.

:func:`prepare_document` is pure and picklable, so :func:`prepare_corpus` can map it over worker
processes; results are cached on disk by :class:`analysis.io.PreparedCache` under a key made of
the text and the settings that change the output (:attr:`Preparation.key`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator, Sequence

from .clean import Rule, parse_rules, remove_boilerplate, split_headline
from .corpus import Document
from .errors import InputError
from .normalize import NORMALIZE_VERSION, canonical_text
from .tokens import PhraseMerger, PreparedDocument, segment_en, segment_vi, segmenter_id

log = logging.getLogger("analysis")

#: Bumped whenever preparation code changes its output, to invalidate caches.
PREPARE_VERSION = "1"


@dataclass(frozen=True)
class Preparation:
    """Everything that determines a prepared document besides its text."""

    rules_text: str
    rules_label: str
    phrases_vi: tuple[str, ...]
    phrases_en: tuple[str, ...]
    segmenter: str = "underthesea"
    resegment: bool = True

    @property
    def rules(self) -> tuple[Rule, ...]:
        return _parsed_rules(self.rules_text, self.rules_label)

    @property
    def key(self) -> str:
        """SHA-256 of the settings that change the prepared tokens (and of the code versions)."""
        settings = {
            "prepare_version": PREPARE_VERSION,
            "normalize_version": NORMALIZE_VERSION,
            "rules": self.rules_text,
            "phrases_vi": sorted(self.phrases_vi),
            "phrases_en": sorted(self.phrases_en),
            "segmenter": segmenter_id(self.segmenter),
            "resegment": self.resegment,
        }
        return hashlib.sha256(json.dumps(settings, ensure_ascii=False, sort_keys=True).encode()).hexdigest()

    def describe(self) -> dict:
        return {
            "boilerplate_rules": self.rules_label,
            "phrases_vi": len(self.phrases_vi),
            "phrases_en": len(self.phrases_en),
            "segmenter": segmenter_id(self.segmenter),
            "resegment_presegmented": self.resegment,
            "settings_key": self.key,
        }


@lru_cache(maxsize=8)
def _parsed_rules(text: str, label: str) -> tuple[Rule, ...]:
    return parse_rules(text, label)


@lru_cache(maxsize=8)
def _merger(phrases: tuple[str, ...], joiner: str) -> PhraseMerger:
    return PhraseMerger(phrases, joiner)


def document_key(document: Document, preparation: Preparation) -> str:
    digest = hashlib.sha256()
    digest.update(preparation.key.encode())
    digest.update(document.language.encode())
    digest.update((document.meta or {}).get("title", "").encode("utf-8", "surrogatepass") + b"\x00")
    digest.update(document.text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def prepare_document(document: Document, preparation: Preparation) -> PreparedDocument:
    """Clean, normalise and segment one document (pure; no file access).

    >>> prep = Preparation("", "none", ("Bùi Thanh Sơn",), ())
    >>> doc = Document("d1", "vi", "Bộ trưởng Bùi Thanh Sơn hội đàm.")
    >>> list(prepare_document(doc, prep).tokens())
    ['Bộ_trưởng', 'Bùi_Thanh_Sơn', 'hội_đàm', '.']
    """
    where = document.meta.get("file", document.doc_id) if document.meta else document.doc_id
    text = canonical_text(document.text, where=f"{where}")
    title = canonical_text(document.meta.get("title", ""), where=f"{where} title") if document.meta else ""
    text = split_headline(text, title) if title else text
    cleaned, removals = remove_boilerplate(text, preparation.rules, document.language)
    if not cleaned.strip():
        raise InputError(where, "no text left after boilerplate removal", "check the rules in the boilerplate file")
    presegmented = False
    if document.language == "vi":
        merger = _merger(tuple(preparation.phrases_vi), "_")
        paragraphs, presegmented = segment_vi(cleaned, preparation.segmenter, merger, preparation.resegment)
    else:
        merger = _merger(tuple(preparation.phrases_en), " ")
        paragraphs = segment_en(cleaned, merger)
    return PreparedDocument(
        doc_id=document.doc_id,
        language=document.language,
        paragraphs=paragraphs,
        presegmented=presegmented,
        removals=[r.__dict__ for r in removals],
    )


def _prepare_one(args: tuple[Document, Preparation]) -> dict:
    document, preparation = args
    return prepare_document(document, preparation).to_json()


def resolve_workers(workers: int) -> int:
    return workers if workers > 0 else (os.cpu_count() or 1)


def prepare_corpus(
    documents: Sequence[Document],
    preparation: Preparation,
    cache=None,
    workers: int = 1,
    progress: bool = False,
) -> list[PreparedDocument]:
    """Prepare every document, in corpus order, using and filling ``cache`` when given.

    Only documents missing from the cache are prepared; with ``workers > 1`` they are prepared in
    worker processes (the result does not depend on the number of workers).
    """
    keys = [document_key(d, preparation) for d in documents]
    results: list[dict | None] = [cache.get(k) if cache is not None else None for k in keys]
    todo = [i for i, r in enumerate(results) if r is None]
    log.info("prepare: %d documents, %d from cache, %d to prepare", len(documents), len(documents) - len(todo), len(todo))
    if todo:
        jobs = [(documents[i], preparation) for i in todo]
        for i, prepared in zip(todo, _map(jobs, resolve_workers(workers), progress)):
            results[i] = prepared
            if cache is not None:
                cache.put(keys[i], prepared)
    return [PreparedDocument.from_json(r) for r in results]


def _map(jobs: list, workers: int, progress: bool) -> Iterator[dict]:
    bar = _progress(len(jobs), progress)
    try:
        if workers <= 1 or len(jobs) < 2:
            for job in jobs:
                yield _prepare_one(job)
                bar.update(1)
        else:
            chunksize = max(1, min(64, len(jobs) // (workers * 8) or 1))
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for result in pool.map(_prepare_one, jobs, chunksize=chunksize):
                    yield result
                    bar.update(1)
    finally:
        bar.close()


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="prepare", unit="doc", disable=not enabled or total < 2, leave=False)


def iter_prepared(documents: Iterable[Document], preparation: Preparation) -> Iterator[PreparedDocument]:
    for document in documents:
        yield prepare_document(document, preparation)
