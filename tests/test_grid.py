"""The review grid's protocol (align/grid.py) with a real store: operations
applied once however often they are resent, a refusal dropping the rest of
the batch, another tab's edit, undo/redo, bad messages; and what the grid
is sent."""

from __future__ import annotations

import pytest

from align import grid
from align.grid import BadMessage
from align.edits import History
from align.model import Alignment, Candidate, Pair, Segment
from align.store import ProjectNotFound, Store


def document(n: int = 5) -> Alignment:
    ja = tuple(Segment(f"これは{k}番目の文です。次の文。", 0, 15) for k in range(n))
    en = tuple(Segment(f"This is sentence {k}. Next one.") for k in range(n))
    return Alignment(ja, en, tuple(Pair((k,), (k,), 0.9 if k % 2 else 0.4) for k in range(n)))


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "p.sqlite3") as s:
        yield s


@pytest.fixture
def project(store):
    return store.open_project(store.create_project("doc", document()))


def ops(*items):
    return [{"seq": i + 1, "op": op, "args": list(args)} for i, (op, *args) in enumerate(items)]


def test_operations_are_applied_in_order_and_acknowledged(project):
    batch = ops(("confirm", 0), ("merge_next", 1), ("link", [3], [4]))
    ack = grid.apply_ops(project, "tab1", batch)
    assert ack.seq == 3 and ack.error is None
    al = project.current
    assert al.pairs[0].status == "confirmed"
    assert al.pairs[1].ja == (1, 2) and al.pairs[1].en == (1, 2)
    assert (3,) in [p.ja for p in al.pairs] and any(p.ja == (3,) and p.en == (4,) for p in al.pairs)
    assert project.store.client_seq(project.id, "tab1") == 3


def test_a_resent_batch_is_not_applied_twice(project, store):
    batch = ops(("merge_next", 0))
    grid.apply_ops(project, "tab1", batch)
    after = project.current
    # the same message again (a reconnect), and again from a new session after a restart
    assert grid.apply_ops(project, "tab1", batch).seq == 1
    fresh = store.open_project(project.id)
    assert grid.apply_ops(fresh, "tab1", batch + ops(("confirm", 0), ("confirm", 1))[1:]).seq == 2
    assert len(fresh.current.pairs) == len(after.pairs)
    assert fresh.current.pairs[1].status == "confirmed"  # only the new operation ran
    assert grid.apply_ops(project, "tab1", []) is None
    # another tab numbers its own operations
    assert grid.apply_ops(fresh, "tab2", ops(("confirm", 2))).seq == 1


def test_the_protocol_runs_on_a_history_in_memory_too():
    # one history, whichever log keeps it: the tab's numbers are the log's
    h = History(document())
    batch = ops(("confirm", 0), ("merge_next", 1), ("undo",), ("merge_next", 3))
    assert grid.apply_ops(h, "tab1", batch).seq == 4 and h.client_seq("tab1") == 4
    assert grid.apply_ops(h, "tab1", batch).seq == 4  # resent: not applied again
    assert [p.ja for p in h.current.pairs] == [(0,), (1,), (2,), (3, 4)] and len(h.steps) == 2
    ack = grid.apply_ops(h, "tab1", batch + ops(*[("confirm", 0)] * 5)[4:])
    assert ack.failed == 5 and h.client_seq("tab1") == 5


def test_a_refused_operation_drops_the_rest_of_the_batch(project, store):
    batch = ops(("confirm", 0), ("merge_next", 0), ("confirm", 3))
    ack = grid.apply_ops(project, "tab1", batch)
    assert ack.failed == 2 and ack.seq == 3 and "confirmed" in ack.error
    assert [p.status for p in project.current.pairs] == ["confirmed", "auto", "auto", "auto", "auto"]
    # the dropped ones are dealt with: resending them changes nothing
    assert grid.apply_ops(project, "tab1", batch).error is None
    assert store.client_seq(project.id, "tab1") == 3


def test_wrong_arguments_are_refused_not_raised(project):
    for bad in (("merge_next",), ("confirm", "x"), ("shift", 0, "ja", "left"), ("link", "1", [0]),
                ("edit_text", "ja", 0, 5)):
        ack = grid.apply_ops(project, f"t{len(bad)}{bad[0]}", ops(bad))
        assert ack.error and ack.failed == 1
    assert project.current == project.store.open_project(project.id).current


def test_an_edit_from_another_tab_that_moved_pairs_makes_the_grid_take_the_server_state(project, store):
    other = store.open_project(project.id)
    other.apply("merge_next", 3)
    ack = grid.apply_ops(project, "tab1", ops(("confirm", 0)))
    assert "another window" in ack.error
    assert len(project.current.pairs) == 4  # reloaded
    assert project.current.pairs[0].status == "auto"
    assert grid.apply_ops(project, "tab1", ops(("confirm", 0), ("confirm", 1))).seq == 2


def test_an_edit_from_another_tab_that_left_the_pairs_in_place_does_not_lose_this_tabs(project, store):
    other = store.open_project(project.id)
    other.apply("confirm", 4)
    other.apply("edit_text", "en", 3, "Changed elsewhere.")
    ack = grid.apply_ops(project, "tab1", ops(("edit_text", "en", 1, "Typed here."), ("merge_next", 0)))
    assert ack.error is None and ack.seq == 2
    al = project.current
    assert al.en[1].text == "Typed here." and al.en[3].text == "Changed elsewhere."
    assert al.pairs[0].ja == (0, 1) and al.pairs[3].status == "confirmed"


def test_an_operation_refused_after_another_tabs_change_says_so(project, store):
    # The other window confirmed pair 0; this one, out of date, merges it with pair 1.
    store.open_project(project.id).apply("confirm", 0)
    ack = grid.apply_ops(project, "tab1", ops(("merge_next", 0)))
    assert ack.failed == 1
    assert ack.error.startswith("the pair was changed in another window; the grid now shows the saved state")
    assert "confirmed" in ack.error  # and what stands in the way there
    assert project.current.pairs[0].status == "confirmed" and len(project.current.pairs) == 5


def test_a_tab_back_in_view_takes_another_window_s_changes(project, store):
    asked = {"client": "tab1", "ops": [], "sync": True}
    assert grid.sync(project, asked) is None                    # nothing changed: nothing to say
    store.open_project(project.id).apply("merge_next", 0)        # another window
    assert grid.sync(project, {**asked, "ops": [{"seq": 1}]}) is None  # operations answer for themselves
    assert grid.sync(project, {"client": "tab1", "ops": []}) is None   # not asked
    assert len(project.current.pairs) == 5
    assert grid.sync(project, asked) == grid.SYNCED
    assert len(project.current.pairs) == 4 and project.moved_at == project.reloads == 1
    assert grid.sync(project, asked) is None                    # told once
    assert grid.apply_ops(project, "tab1", ops(("confirm", 0))).error is None  # no conflict left
    assert not History(document()).refresh()                    # one session's history


def test_keys_pressed_before_a_tab_took_the_synced_state_are_not_applied_to_other_pairs(project, store):
    shown = grid.payload(project)["epoch"]                      # the state the tab has
    store.open_project(project.id).apply("merge_next", 0)        # another window: pairs 0 and 1 merged
    assert grid.sync(project, {"client": "tab1", "ops": [], "sync": True}) == grid.SYNCED
    # M on pair 2 pressed on the old view, before the synced state arrived (or resent
    # after it, still queued): on the new state index 2 is another pair, so it is
    # refused, not applied to sentences 3 and 4
    ack = grid.apply_ops(project, "tab1", ops(("merge_next", 2)), base=shown)
    assert ack.failed == 1 and "changed in another window" in ack.error
    assert [p.ja for p in project.current.pairs] == [(0, 1), (2,), (3,), (4,)]
    # once the tab has taken the new state, its keys apply
    ack = grid.apply_ops(project, "tab1", [{"seq": 2, "op": "merge_next", "args": [2]}],
                         base=grid.payload(project)["epoch"])
    assert ack.error is None and [p.ja for p in project.current.pairs] == [(0, 1), (2,), (3, 4)]


def test_keys_made_on_the_old_view_apply_when_the_other_change_moved_no_pair(project, store):
    shown = grid.payload(project)["epoch"]
    store.open_project(project.id).apply("confirm", 4)           # the pairs stay where they were
    grid.sync(project, {"client": "tab1", "ops": [], "sync": True})
    # a batch from the old view: each operation means the same on the new state,
    # the tab's own earlier ones in it included
    ack = grid.apply_ops(project, "tab1", ops(("merge_next", 0), ("confirm", 0)), base=shown)
    assert ack.error is None and project.current.pairs[0].ja == (0, 1)
    assert [p.status for p in project.current.pairs] == ["confirmed", "auto", "auto", "confirmed"]
    # still queued on that view when the next message goes: applied too
    ack = grid.apply_ops(project, "tab1", [{"seq": 3, "op": "confirm", "args": [1]}], base=shown)
    assert ack.error is None and project.current.pairs[1].status == "confirmed"


def test_after_a_conflict_on_writing_the_rest_of_the_queue_is_judged_alike(project, store):
    store.open_project(project.id).apply("confirm", 4)           # no sync: found on writing
    ack = grid.apply_ops(project, "tab1", ops(("merge_next", 0)), base=0)
    assert ack.error is None and project.reloads == 1
    ack = grid.apply_ops(project, "tab1", [{"seq": 2, "op": "confirm", "args": [0]},
                                           {"seq": 3, "op": "undo", "args": []}], base=0)
    assert ack.failed == 3 and "another window" in ack.error  # an undo would take back the other's step
    assert project.current.pairs[0].status == "confirmed"
    # the tab takes that state: its next keys, undo included, are its own again
    ack = grid.apply_ops(project, "tab1", [{"seq": 4, "op": "undo", "args": []}], base=1)
    assert ack.error is None and project.current.pairs[0].status == "edited"  # the merge stays


def test_a_resent_batch_does_not_hide_the_refusal_of_its_first_sending(project, store):
    store.open_project(project.id).apply("merge_next", 0)
    refused = grid.apply_ops(project, "tab1", ops(("merge_next", 2)), base=0)
    resent = grid.apply_ops(project, "tab1", ops(("merge_next", 2)), base=0)
    assert refused.error and resent.error is None          # nothing new to apply, nothing to say
    # given the acknowledgement it sent last, the session sends it again: the tab still hears why
    assert grid.apply_ops(project, "tab1", ops(("merge_next", 2)), base=0, kept=refused) is refused
    assert grid.apply_ops(project, "tab1", [], kept=refused) is None  # a view alone: nothing to send
    later = grid.apply_ops(project, "tab1", [{"seq": 2, "op": "confirm", "args": [0]}], base=1, kept=refused)
    assert later.error is None and later.seq == 2
    assert grid.apply_ops(project, "tab1", ops(("merge_next", 2)), base=0, kept=later) is later
    other = grid.apply_ops(project, "tab2", ops(("confirm", 1)), base=1, kept=later)  # another tab's
    assert other.client == "tab2" and other.error is None


def test_keys_sent_behind_a_refused_one_before_the_tab_heard_of_it_are_refused_too(project):
    refused = grid.apply_ops(project, "tab1", ops(("unconfirm", 0)))   # not confirmed: refused
    # a second key, sent with the first again before the refusal reached the tab:
    # made on a state where the first was applied, so it is not applied either
    again = grid.apply_ops(project, "tab1", ops(("unconfirm", 0), ("merge_next", 3)), kept=refused)
    assert (again.seq, again.error, again.failed) == (2, refused.error, 1)
    assert len(project.current.pairs) == 5
    assert grid.apply_ops(project, "tab1", ops(("unconfirm", 0)), kept=refused) is refused
    # once the tab has taken the refusal, its next keys (numbered on) are its own
    ack = grid.apply_ops(project, "tab1", [{"seq": 3, "op": "merge_next", "args": [3]}], kept=again)
    assert ack.error is None and len(project.current.pairs) == 4


def test_an_old_key_is_refused_after_any_taken_change_that_moved_pairs(project, store):
    other = store.open_project(project.id)
    other.apply("merge_next", 0)                                  # moves the pairs
    grid.sync(project, {"client": "tab1", "ops": [], "sync": True})
    other.apply("confirm", 3)                                     # and then only confirms
    grid.sync(project, {"client": "tab1", "ops": [], "sync": True})
    assert (project.reloads, project.moved_at) == (2, 1)
    ack = grid.apply_ops(project, "tab1", ops(("merge_next", 2)), base=0)  # made before both
    assert ack.failed == 1 and [p.ja for p in project.current.pairs] == [(0, 1), (2,), (3,), (4,)]
    ack = grid.apply_ops(project, "tab1", [{"seq": 2, "op": "merge_next", "args": [1]}], base=1)
    assert ack.error is None and [p.ja for p in project.current.pairs] == [(0, 1), (2, 3), (4,)]


def test_a_queue_kept_across_a_reload_applies_only_if_no_other_window_wrote_since(project, store):
    since = grid.payload(project)["version"]                     # the saved state the tab's keys were made on
    queue = ops(("merge_next", 0), ("confirm", 0), ("merge_next", 2))
    grid.apply_ops(project, "tab1", queue[:1], base=0)           # the first reached the server, then a reload
    reopened = store.open_project(project.id)                    # the reloaded page's session: epoch 0 again
    ack = grid.apply_ops(reopened, "tab1", queue, since=since)   # the queue sent again from the browser
    assert ack.error is None and ack.seq == 3
    assert [p.ja for p in reopened.current.pairs] == [(0, 1), (2,), (3, 4)]
    # a queue made, then the page reloaded, while another window merged pairs 0 and 1:
    # pair 1 of the queue's view is not pair 1 now, whatever the new session's epoch says
    since = grid.payload(reopened)["version"]
    store.open_project(project.id).apply("merge_next", 1)
    later = store.open_project(project.id)
    ack = grid.apply_ops(later, "tab1", [{"seq": 4, "op": "confirm", "args": [1]}], since=since)
    assert ack.failed == 4 and ack.error == grid.RESTORED_STALE
    assert [p.status for p in later.current.pairs] == ["confirmed", "edited"]  # not confirmed
    assert later.client_seq("tab1") == 4                         # dealt with: a resend is not applied later
    assert grid.apply_ops(later, "tab1", [{"seq": 4, "op": "confirm", "args": [1]}], since=since).error is None
    assert later.current.pairs[1].status == "edited"


def test_typing_made_before_another_window_moved_pairs_lands_on_its_sentence(project, store):
    other = store.open_project(project.id)
    other.apply("merge_next", 0)                                  # pairs move, not the sentences
    typed = [{"seq": 1, "op": "edit_text", "args": ["en", 3, "Typed meanwhile.", "This is sentence 3. Next one."],
              "n": 5}]                                            # the English side had 5 sentences
    ack = grid.apply_ops(project, "tab1", typed, base=0)          # the editor was open on the old view
    assert ack.error is None and project.current.en[3].text == "Typed meanwhile."
    # the same sentence retyped in the other window: written over by neither, the tab is told
    store.open_project(project.id).apply("edit_text", "en", 4, "Their text.")
    ack = grid.apply_ops(project, "tab1", [{"seq": 2, "op": "edit_text", "n": 5,
                                            "args": ["en", 4, "My text.", "This is sentence 4. Next one."]}], base=1)
    assert "English sentence 5 was changed in another window" in ack.error
    assert project.current.en[4].text == "Their text."
    # a cut above moved the sentences: the index alone is not trusted, even where the same
    # text stands there now (a repeated line), so it is refused for the grid to place it
    store.open_project(project.id).apply("edit_text", "en", 1, "This is sentence 2. Next one.")  # twice now
    store.open_project(project.id).apply("split_segment", "en", 0, 8)  # en 1 moves to en 2, en 2 to en 3
    project.refresh()
    assert [s.text for s in project.current.en[2:4]] == ["This is sentence 2. Next one."] * 2
    ack = grid.apply_ops(project, "tab1", [{"seq": 3, "op": "edit_text", "n": 5,
                                            "args": ["en", 2, "Meant for en 2.", "This is sentence 2. Next one."]}],
                         base=1)
    assert ack.error and "Meant for en 2." not in [s.text for s in project.current.en]


def test_an_operation_the_tab_s_earlier_session_applied_meanwhile_is_not_applied_twice(project, store):
    # a reload while the old session still works through the queue: both sessions send op 1
    earlier = store.open_project(project.id)
    reads = []  # the new session reads the tab's number just before the old one's write
    real = project.client_seq
    project.client_seq = lambda client: real(client) if reads.append(client) or len(reads) > 1 else 0
    assert grid.apply_ops(earlier, "tab1", ops(("merge_next", 0)), base=0).error is None
    ack = grid.apply_ops(project, "tab1", ops(("merge_next", 0)), base=0)
    assert ack.error is None and [p.ja for p in project.current.pairs] == [(0, 1), (2,), (3,), (4,)]


def test_a_project_deleted_in_another_window_is_said_not_crashed_on(project, store):
    store.delete_project(project.id)
    with pytest.raises(ProjectNotFound):
        grid.sync(project, {"client": "tab1", "ops": [], "sync": True})
    with pytest.raises(ProjectNotFound):
        grid.apply_ops(project, "tab1", ops(("confirm", 0)), base=0)


def test_undo_and_redo_as_operations(project):
    grid.apply_ops(project, "tab1", ops(("merge_next", 2)))
    ack = grid.apply_ops(project, "tab1", ops(("merge_next", 2), ("undo",)))
    assert ack.seq == 2 and ack.focus == 2
    assert len(project.current.pairs) == 5
    ack = grid.apply_ops(project, "tab1", ops(("merge_next", 2), ("undo",), ("redo",)))
    assert len(project.current.pairs) == 4 and ack.focus == 2
    ack = grid.apply_ops(project, "tab1", ops(*[("merge_next", 2), ("undo",), ("redo",)] + [("undo",)] * 3))
    assert ack.error == "nothing to undo"


@pytest.mark.parametrize("message, match", [
    ("ops", "not a grid message"),
    ({"ops": []}, "client"),
    ({"client": "a b", "ops": []}, "client"),
    ({"client": "t", "ops": "confirm"}, "list"),
    ({"client": "t", "ops": [{"seq": 1, "op": "drop_table", "args": []}]}, "not a grid operation"),
    ({"client": "t", "ops": [{"seq": "1", "op": "confirm", "args": [0]}]}, "not a grid operation"),
    ({"client": "t", "ops": [{"seq": True, "op": "confirm", "args": [0]}]}, "not a grid operation"),
    ({"client": "t", "ops": [{"seq": 1, "op": "confirm", "args": 0}]}, "not a grid operation"),
    ({"client": "t", "ops": [{"seq": 1, "op": "undo"}] * (grid.MAX_OPS + 1)}, "at most"),
])
def test_bad_messages_are_refused(message, match):
    with pytest.raises(BadMessage, match=match):
        grid.parse(message)


def test_a_message_nested_beyond_reason_is_refused():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(BadMessage, match="plain JSON"):
        grid.parse({"client": "t", "ops": [], "x": deep})


def test_an_undo_s_ack_names_the_step_it_took_back_and_its_pair(project):
    # the grid names it: a step made before the page opened, or in another window, is not in its stacks
    grid.apply_ops(project, "earlier", ops(("confirm", 4)))
    ack = grid.apply_ops(project, "tab1", [{"seq": 1, "op": "undo", "args": []}])
    assert (ack.step, ack.focus) == ("confirm", 4) and project.current.pairs[4].status != "confirmed"
    ack = grid.apply_ops(project, "tab1", [{"seq": 2, "op": "redo", "args": []}])
    assert (ack.step, ack.focus) == ("confirm", 4) and project.current.pairs[4].status == "confirmed"
    assert grid.apply_ops(project, "tab1", [{"seq": 3, "op": "confirm", "args": [2]}]).step is None


def test_parse_sorts_operations_and_keeps_the_view():
    client, parsed, view = grid.parse({"client": "tab-1", "view": {"pair": 3},
                                       "ops": [{"seq": 2, "op": "undo"}, {"seq": 1, "op": "confirm", "args": [0]}]})
    assert client == "tab-1" and [o["seq"] for o in parsed] == [1, 2] and view == {"pair": 3}
    assert parsed[1] == {"seq": 2, "op": "undo", "args": []}


def test_payload_carries_segments_pairs_reasons_and_the_ack(project):
    ack = grid.apply_ops(project, "tab1", ops(("merge_next", 3)))
    data = grid.payload(project, ack=ack, view={"pair": 2})
    assert data["project"] == project.id and data["mode"] == "document"
    assert data["ack"] == {"client": "tab1", "seq": 1, "error": None, "failed": None, "focus": 3, "step": None}
    assert data["view"] == {"pair": 2} and data["can_undo"] and not data["can_redo"]
    text, start, end, cuts = data["ja"][0]
    assert (text, start, end) == ("これは0番目の文です。次の文。", 0, 15) and cuts == [11]
    assert data["en"][0][3] == [19]
    merged = data["pairs"][3]
    assert merged["ja"] == [3, 4] and merged["status"] == "edited" and merged["reasons"] == ["edited", "m-n"]
    assert data["pairs"][0]["reasons"] == ["low"] and data["pairs"][1]["reasons"] == []


def rebuilt(base: list, change: dict) -> list:
    """What the grid does with a change: the rows kept at either end around the new ones."""
    return base[:change["at"]] + change["rows"] + base[change["at"] + change["drop"]:]


def test_an_acknowledgement_carries_only_the_pairs_that_changed(project):
    sent = {}
    first = grid.payload(project, sent=sent)
    assert first["pairs_change"] is None and len(first["pairs"]) == 5
    have = {"ja": first["ja_rev"], "en": first["en_rev"], "pairs": first["pairs_rev"]}
    ack = grid.apply_ops(project, "tab1", ops(("merge_next", 1)))
    data = grid.payload(project, ack=ack, have=have, sent=sent)
    change = data["pairs_change"]
    assert data["pairs"] is None and data["ja"] is None and change["base"] == first["pairs_rev"]
    assert (change["at"], change["drop"], len(change["rows"])) == (1, 2, 1)
    assert rebuilt(first["pairs"], change) == grid.payload(project)["pairs"]
    assert data["pairs_rev"] != first["pairs_rev"]
    # nothing changed (the grid only moved): an empty change
    same = grid.payload(project, have={**have, "pairs": data["pairs_rev"]}, sent=sent)["pairs_change"]
    assert (same["drop"], same["rows"]) == (0, [])
    # pairs this session did not send, or no longer remembers, come whole
    assert grid.payload(project, have={"pairs": "5-000000000000"}, sent=sent)["pairs"] is not None
    for k in range(grid.SENT_KEPT):  # as many newer lists sent: the first is forgotten
        project.apply("confirm", k)
        grid.payload(project, sent=sent)
    assert len(sent) == grid.SENT_KEPT and first["pairs_rev"] not in sent
    assert grid.payload(project, have=have, sent=sent)["pairs"] == grid.payload(project)["pairs"]


def test_a_change_of_a_pair_list_rebuilds_the_new_list():
    import random

    rnd = random.Random(3)
    for _ in range(300):
        old = [{"k": rnd.randrange(4)} for _ in range(rnd.randrange(8))]
        new = [dict(r) for r in old]
        for _ in range(rnd.randrange(4)):
            at = rnd.randrange(len(new) + 1)
            new[at:at + rnd.randrange(3)] = [{"k": rnd.randrange(4)} for _ in range(rnd.randrange(3))]
        change = grid.pairs_change(old, new)
        assert rebuilt(old, change) == new
        assert len(change["rows"]) <= len(new) and change["drop"] <= len(old)


def test_payload_of_headlines_has_candidates_and_no_cuts_in_headlines(store):
    al = Alignment((Segment("協議は進展した。次だ。"), Segment("別の文。")), (Segment("TALKS PROGRESS. MORE"),),
                   (Pair((0,), (0,), 0.7, candidates=(Candidate((0,), 0.7), Candidate((1,), 0.2))),),
                   mode="headlines")
    data = grid.payload(store.open_project(store.create_project("h", al)))
    assert data["pairs"][0]["cands"] == [[[0], 0.7], [[1], 0.2]]
    assert data["en"][0][3] == [] and data["ja"][0][3] == [8]


def test_the_view_and_when_a_project_was_opened_are_kept(store, project):
    assert store.load_view(project.id) == {} and store.project_info(project.id).last_opened is None
    store.save_view(project.id, {"pair": 3, "filter": {"review": True}})
    store.touch(project.id)
    assert store.load_view(project.id) == {"pair": 3, "filter": {"review": True}}
    assert store.project_info(project.id).last_opened is not None
    with pytest.raises(Exception, match="at most"):
        store.save_view(project.id, {"x": "a" * 10_000})
    info = store.project_info(project.id)
    assert (info.confirmed, info.total) == (0, 5)
    project.apply("confirm", 1)
    info = store.project_info(project.id)
    assert (info.confirmed, info.total) == (1, 5)
