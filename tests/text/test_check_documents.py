"""``validate``'s pass over the texts reports every bad record at once, not the first only."""

from __future__ import annotations

import pytest

from analysis.corpus.documents import Document
from analysis.errors import InputError
from analysis.study.settings import StudyErrors
from analysis.text import prepare
from analysis.text.prepare import Preparation, check_documents

PREPARATION = Preparation("", "none", (), ())


def _documents(bad: set[int], n: int = 30) -> list[Document]:
    return [Document(f"d{i}", "vi", ("Tin \x14 xấu." if i in bad else f"Bài số {i} về kinh tế.")) for i in range(n)]


def test_clean_documents_are_counted():
    assert check_documents(_documents(set(), n=7), PREPARATION) == 7


def test_one_bad_record_is_its_own_line():
    with pytest.raises(InputError) as caught:
        check_documents(_documents({4}), PREPARATION)
    assert not isinstance(caught.value, StudyErrors)
    assert (
        str(caught.value)
        == "d4: control character U+0014 at character 4 (fix: remove it from the file (it is not text))"
    )


def test_every_bad_record_is_listed():
    with pytest.raises(StudyErrors) as caught:
        check_documents(_documents({3, 17, 29}), PREPARATION)
    assert [p.where for p in caught.value.problems] == ["d3", "d17", "d29"]
    assert len(str(caught.value).splitlines()) == 3


def test_past_the_listed_ones_the_rest_are_counted(monkeypatch):
    monkeypatch.setattr(prepare, "LISTED_PROBLEMS", 2)
    with pytest.raises(StudyErrors) as caught:
        check_documents(_documents({1, 2, 5, 8, 9}), PREPARATION)
    problems = caught.value.problems
    assert [p.where for p in problems] == ["d1", "d2", "corpus"]
    assert problems[-1].problem == "3 more records with problems not listed here"


@pytest.mark.parametrize("workers", [1, 2])
def test_preparation_lists_every_bad_record_too(workers):
    """The prepare stage stops at a bad record, then lists every one (not the first only)."""
    with pytest.raises(StudyErrors) as caught:
        prepare.prepare_corpus(_documents({3, 17, 29}), PREPARATION, workers=workers)
    assert [p.where for p in caught.value.problems] == ["d3", "d17", "d29"]


def test_preparation_with_one_bad_record_reports_it_alone():
    with pytest.raises(InputError) as caught:
        prepare.prepare_corpus(_documents({11}), PREPARATION, workers=1)
    assert not isinstance(caught.value, StudyErrors)
    assert caught.value.where == "d11"
