"""Projects made from inputs (align/projects.py), shared by the app and the
command line: the sample found again by its hash, uploads and pasted text,
swapped files, imports, and the project list with progress."""

from __future__ import annotations

import pytest

from align import export, projects
from align.errors import InputError
from align.model import Alignment, Pair, Segment
from align.store import Store

JA = "これは最初の文です。これは二番目の文です。"
EN = "This is the first sentence. This is the second sentence."


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "p.sqlite3") as s:
        yield s


def test_the_sample_is_created_once(store):
    first = projects.sample_project(store)
    assert projects.sample_project(store) == first
    assert len(store.list_projects()) == 1
    assert store.open_project(first).current.mode == "headlines"


def test_uploads_and_pasted_text_become_projects(store):
    pid, al = projects.create_project(store, ja=projects.Upload("a_ja.txt", JA.encode("cp932")),
                                      en=projects.Upload("a_en.txt", EN.encode()), mode="document")
    info = store.project_info(pid)
    assert info.name == "a_ja + a_en" and [s.filename for s in info.sources] == ["a_ja.txt", "a_en.txt"]
    assert len(al.pairs) == 2
    pid, _ = projects.create_project(store, pasted_ja=JA, pasted_en=EN, name=" Mine ")
    assert store.project_info(pid).name == "Mine"


@pytest.mark.parametrize("kwargs, match", [
    ({}, "nothing to align"),
    ({"en": projects.Upload("e.txt", EN.encode())}, "Japanese file too"),
    ({"pasted_ja": JA}, "原題"),
    ({"ja": projects.Upload("big.txt", b"a" * (20 * 2**20 + 1))}, "too large"),
    ({"pasted_ja": "あ" * (7 * 2**20)}, "too large"),
])
def test_bad_inputs_say_what_is_wrong(store, kwargs, match):
    with pytest.raises(InputError, match=match):
        projects.create_project(store, **kwargs)
    assert store.list_projects() == []


def test_looks_swapped():
    assert projects.looks_swapped(EN, JA)
    assert not projects.looks_swapped(JA, EN)
    assert not projects.looks_swapped(JA, None)


def test_import_and_the_project_list(store):
    al = Alignment((Segment("一。"), Segment("二。")), (Segment("One."), Segment("Two.")),
                   (Pair((0,), (0,), 0.9, "confirmed"), Pair((1,), (1,), 0.4)))
    pid, imported = projects.import_project(store, projects.Upload("old.json", export.render(al, "json")))
    assert imported == al
    other = store.create_project("other", al)
    store.touch(pid)
    rows = projects.project_rows(store)
    assert [r.id for r in rows] == [pid, other]  # the most recently opened first
    assert rows[0].progress == "1 / 2 confirmed" and rows[0].name == "old"
