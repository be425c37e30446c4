"""Edit operations: exact results on small alignments, every refusal, and
property tests over random edit/undo/redo sequences."""

import json
from dataclasses import replace

import pytest
from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from align import edits as E
from align.edits import EditError, History, MemoryLog, Step, check_invariants
from align.model import Alignment, Candidate, Pair, Segment


def P(ja, en, score=0.5, status="auto", candidates=()):
    return Pair(tuple(ja), tuple(en), score, status, tuple(candidates))


def doc(*pairs, ja=None, en=None):
    """A document alignment whose segments are named after their ids."""
    nja = sum(len(p.ja) for p in pairs)
    nen = sum(len(p.en) for p in pairs)
    ja = ja or tuple(Segment(f"文{i}。") for i in range(nja))
    en = en or tuple(Segment(f"Sentence {i}.") for i in range(nen))
    al = Alignment(tuple(ja), tuple(en), tuple(pairs))
    check_invariants(al)
    return al


def three():
    return doc(P([0], [0], 0.9), P([1], [1], 0.4), P([2], [2], 0.7))


def headlines(*pairs, nja=5):
    al = Alignment(tuple(Segment(f"文{i}。") for i in range(nja)),
                   tuple(Segment(f"HEADLINE {i}") for i in range(len(pairs))),
                   tuple(pairs), mode="headlines")
    check_invariants(al)
    return al


def refuses(fn, *args, match=None):
    with pytest.raises(EditError, match=match):
        fn(*args)


# -- merge -------------------------------------------------------------------

def test_merge_next_joins_two_pairs_keeping_the_lower_score():
    al = three()
    out = E.merge_next(al, 0)
    assert out.pairs == (P([0, 1], [0, 1], 0.4, "edited"), P([2], [2], 0.7))
    assert al == three()  # the input is untouched
    assert out.ja is al.ja and out.en is al.en


def test_merge_prev_is_merge_with_the_pair_above():
    assert E.merge_prev(three(), 2) == E.merge_next(three(), 1)
    assert E.merge_prev(three(), 2).pairs[1] == P([1, 2], [1, 2], 0.4, "edited")


def test_merge_an_insertion_with_a_deletion_makes_a_one_to_one():
    al = doc(P([0], []), P([], [0]))
    assert E.merge_next(al, 0).pairs == (P([0], [0], 0.5, "edited"),)


def test_merge_drops_candidates():
    al = doc(P([0], [0], candidates=[Candidate((1,), 0.3)]), P([1], [1]))
    assert E.merge_next(al, 0).pairs[0].candidates == ()


@pytest.mark.parametrize("fn,k,match", [
    (E.merge_next, 2, "last pair"), (E.merge_prev, 0, "first pair"),
    (E.merge_next, 3, "no pair 3"), (E.merge_next, -1, "no pair -1"),
    (E.merge_prev, 7, "no pair"), (E.merge_next, True, "number"), (E.merge_next, "0", "number")])
def test_merge_refusals(fn, k, match):
    refuses(fn, three(), k, match=match)


def test_merge_refuses_a_confirmed_pair_on_either_side():
    al = E.confirm(three(), 1)  # the message names the confirmed one of the two
    refuses(E.merge_next, al, 0, match="pair 2 is confirmed")
    refuses(E.merge_prev, al, 2, match="pair 2 is confirmed")
    refuses(E.merge_next, al, 1, match="pair 2 is confirmed")


# -- split_pair --------------------------------------------------------------

def test_split_pair_two_two_into_one_ones_by_default():
    al = doc(P([0, 1], [0, 1], 0.8), P([2], [2]))
    out = E.split_pair(al, 0)
    assert out.pairs == (P([0], [0], 0.8, "edited"), P([1], [1], 0.8, "edited"), P([2], [2]))


def test_split_pair_two_one_into_one_one_and_one_zero():
    al = doc(P([0, 1], [0], 0.8))
    assert E.split_pair(al, 0).pairs == (P([0], [0], 0.8, "edited"), P([1], [], 0.8, "edited"))


def test_split_pair_three_one_gives_the_odd_segment_to_the_first_part():
    al = doc(P([0, 1, 2], [0]))
    assert E.split_pair(al, 0).pairs == (P([0, 1], [0], status="edited"), P([2], [], status="edited"))


def test_split_pair_at_explicit_boundaries():
    al = doc(P([0, 1, 2], [0, 1]))
    assert E.split_pair(al, 0, ja_at=1, en_at=2).pairs == (
        P([0], [0, 1], status="edited"), P([1, 2], [], status="edited"))
    one = doc(P([0], [0]))
    assert E.split_pair(one, 0, ja_at=1, en_at=0).pairs == (
        P([0], [], status="edited"), P([], [0], status="edited"))


@pytest.mark.parametrize("pair,kw,match", [
    (P([0], [0]), {}, "each part"),                      # 1-1 cut in the middle: nothing in part two
    (P([0, 1], [0, 1]), {"ja_at": 0, "en_at": 0}, "each part"),
    (P([0, 1], [0, 1]), {"ja_at": 2, "en_at": 2}, "each part"),
    (P([0, 1], [0]), {"ja_at": 3}, "ja_at must be between 0 and 2"),
    (P([0, 1], [0]), {"en_at": -1}, "en_at must be between 0 and 1"),
    (P([0, 1], [0]), {"ja_at": 1.5}, "number"),
])
def test_split_pair_refusals(pair, kw, match):
    refuses(lambda: E.split_pair(doc(pair), 0, **kw), match=match)


def test_split_pair_refuses_a_confirmed_pair_and_a_bad_index():
    al = E.confirm(doc(P([0, 1], [0, 1])), 0)
    refuses(E.split_pair, al, 0, match="confirmed")
    refuses(E.split_pair, al, 1, match="no pair 1")


# -- split_segment -----------------------------------------------------------

def en_two_sentences():
    src = "Talks resumed. Kyiv hopes.\nNext one."
    en = (Segment("Talks resumed. Kyiv hopes.", 0, 26), Segment("Next one.", 27, 36))
    ja = (Segment("協議が再開。キーウは期待。"), Segment("次。"))
    return src, doc(P([0], [0], 0.6, "confirmed"), P([1], [1], 0.3), ja=ja, en=en)


def test_split_segment_cuts_text_derives_offsets_and_renumbers():
    src, al = en_two_sentences()
    al = E.unconfirm(al, 0)
    out = E.split_segment(al, "en", 0, 14)  # at the space after "resumed."
    assert [s.text for s in out.en] == ["Talks resumed.", "Kyiv hopes.", "Next one."]
    assert all(src[s.start:s.end] == s.text for s in out.en)
    assert out.en[0] == Segment("Talks resumed.", 0, 14) and out.en[1] == Segment("Kyiv hopes.", 15, 26)
    assert out.pairs == (P([0], [0, 1], 0.6, "edited"), P([1], [2], 0.3))
    assert out.ja is al.ja


def test_split_segment_japanese_without_offsets_in_a_middle_segment():
    al = doc(P([0], [0]), P([1], [1]), P([2], [2]),
             ja=(Segment("一。"), Segment("協議が再開。キーウは期待。"), Segment("三。")))
    out = E.split_segment(al, "ja", 1, 6)
    assert [s.text for s in out.ja] == ["一。", "協議が再開。", "キーウは期待。", "三。"]
    assert out.ja[1].start is None and out.ja[2].start is None
    assert out.pairs == (P([0], [0]), P([1, 2], [1], status="edited"), P([3], [2]))


def test_split_segment_offsets_that_do_not_match_the_text_are_dropped():
    al = doc(P([0], [0]), en=(Segment("Ab cd.", 10, 99),))
    out = E.split_segment(al, "en", 0, 3)
    assert out.en == (Segment("Ab"), Segment("cd."))


def test_split_segment_renumbers_headline_links_and_candidates():
    al = headlines(P([3, 1], [0], candidates=[Candidate((1,), 0.8), Candidate((4, 0), 0.2)]),
                   P([1], [1]), nja=5)
    al = E.edit_text(al, "ja", 1, "前半。後半。")
    out = E.split_segment(al, "ja", 1, 3)
    assert out.pairs[0] == P([4, 1, 2], [0], status="edited",
                             candidates=[Candidate((1, 2), 0.8), Candidate((5, 0), 0.2)])
    assert out.pairs[1] == P([1, 2], [1], status="edited")
    assert len(out.ja) == 6


@pytest.mark.parametrize("at,match", [
    (0, "inside"), (26, "inside"), (-3, "inside"), (99, "inside"), ("5", "number")])
def test_split_segment_position_refusals(at, match):
    _, al = en_two_sentences()
    refuses(E.split_segment, E.unconfirm(al, 0), "en", 0, at, match=match)


def test_split_segment_refuses_a_whitespace_half():
    al = doc(P([0], [0]), en=(Segment("Done.   "),))
    refuses(E.split_segment, al, "en", 0, 5, match="both parts")
    al = doc(P([0], [0]), en=(Segment("  Done."),))
    refuses(E.split_segment, al, "en", 0, 1, match="both parts")


def test_split_segment_other_refusals():
    _, al = en_two_sentences()
    refuses(E.split_segment, al, "en", 2, 1, match="no English segment 2: the text has 2 segments")
    refuses(E.split_segment, al, "fr", 0, 1, match="side")
    refuses(E.split_segment, headlines(P([0], [0])), "en", 0, 3, match="headline")


# -- shift -------------------------------------------------------------------

def test_shift_up_moves_the_first_segment_to_the_previous_pair():
    out = E.shift(three(), 1, "en", "up")
    assert out.pairs == (P([0], [0, 1], 0.9, "edited"), P([1], [], 0.4, "edited"), P([2], [2], 0.7))


def test_shift_down_moves_the_last_segment_to_the_next_pair():
    al = doc(P([0, 1], [0]), P([2], [1]))
    out = E.shift(al, 0, "ja", "down")
    assert out.pairs == (P([0], [0], status="edited"), P([1, 2], [1], status="edited"))


def test_shift_removes_a_pair_left_empty():
    al = doc(P([0], [0]), P([], [1]), P([1], [2]))
    assert E.shift(al, 1, "en", "up").pairs == (P([0], [0, 1], status="edited"), P([1], [2]))
    assert E.shift(al, 1, "en", "down").pairs == (P([0], [0]), P([1], [1, 2], status="edited"))


@pytest.mark.parametrize("k,side,direction,match", [
    (0, "en", "up", "first pair"), (2, "ja", "down", "last pair"),
    (1, "ja", "left", "direction"), (1, "xx", "up", "side"), (5, "ja", "up", "no pair 5")])
def test_shift_refusals(k, side, direction, match):
    refuses(E.shift, three(), k, side, direction, match=match)


def test_shift_refuses_an_empty_side_and_confirmed_pairs():
    refuses(E.shift, doc(P([0], [0]), P([], [1])), 1, "ja", "up", match="no Japanese segment")
    al = E.confirm(three(), 0)
    refuses(E.shift, al, 1, "ja", "up", match="the pair it would move into is confirmed")
    refuses(E.shift, al, 0, "ja", "down", match="this pair is confirmed")
    assert E.shift(al, 1, "ja", "down").pairs[0] == al.pairs[0]


# -- insert_empty / delete_pair ----------------------------------------------

def test_insert_empty_puts_the_chosen_side_first_with_an_empty_counterpart():
    al = doc(P([0], [0]), P([1, 2], [1], 0.3))
    assert E.insert_empty(al, 1, "ja").pairs == (
        P([0], [0]), P([1, 2], [], 0.3, "edited"), P([], [1], 0.3, "edited"))
    assert E.insert_empty(al, 1, "en").pairs == (
        P([0], [0]), P([], [1], 0.3, "edited"), P([1, 2], [], 0.3, "edited"))


def test_insert_empty_refusals():
    refuses(E.insert_empty, doc(P([0], [])), 0, "ja", match="already has an empty side")
    refuses(E.insert_empty, E.confirm(three(), 0), 0, "en", match="confirmed")
    refuses(E.insert_empty, three(), 0, "de", match="side")
    refuses(E.insert_empty, three(), 3, "ja", match="no pair")


def test_delete_pair_unlinks_every_segment_japanese_first():
    al = doc(P([0], [0]), P([1, 2], [1], 0.3))
    assert E.delete_pair(al, 1).pairs == (
        P([0], [0]), P([1], [], 0.3, "edited"), P([2], [], 0.3, "edited"), P([], [1], 0.3, "edited"))
    assert E.delete_pair(doc(P([0, 1], [])), 0).pairs == (
        P([0], [], status="edited"), P([1], [], status="edited"))


def test_delete_pair_refusals():
    refuses(E.delete_pair, doc(P([0], []), P([], [0])), 1, match="already unlinked")
    refuses(E.delete_pair, E.confirm(three(), 2), 2, match="confirmed")
    refuses(E.delete_pair, three(), -1, match="no pair")


# -- edit_text ---------------------------------------------------------------

def test_edit_text_replaces_text_and_drops_offsets():
    al = doc(P([0], [0]), P([1], [1]), en=(Segment("Old.", 0, 4), Segment("Two.", 5, 9)))
    out = E.edit_text(al, "en", 0, "  New text.\n")
    assert out.en == (Segment("New text."), Segment("Two.", 5, 9))
    assert out.pairs == (P([0], [0], status="edited"), P([1], [1]))


def test_edit_text_in_headline_mode_marks_every_linking_pair():
    al = headlines(P([1], [0]), P([1, 2], [1]), P([0], [2]))
    out = E.edit_text(al, "ja", 1, "新しい文。")
    assert [p.status for p in out.pairs] == ["edited", "edited", "auto"]
    assert E.edit_text(al, "en", 2, "NEW HEADLINE").pairs[2].status == "edited"


@pytest.mark.parametrize("text,match", [("", "empty"), ("  \n", "empty"), (None, "empty"),
                                         ("Sentence 0.", "unchanged"), (" Sentence 0. ", "unchanged")])
def test_edit_text_refusals(text, match):
    refuses(E.edit_text, three(), "en", 0, text, match=match)


def test_edit_text_refuses_a_missing_segment():
    refuses(E.edit_text, three(), "ja", 3, "新。", match="no Japanese segment 3")


def test_edit_text_naming_the_text_it_replaces_is_refused_once_that_text_changed():
    al = three()
    assert E.edit_text(al, "en", 1, "Mine.", " Sentence 1. ").en[1].text == "Mine."  # still reads so
    changed = E.edit_text(al, "en", 1, "Theirs.")
    with pytest.raises(E.StaleText, match="English sentence 2 was changed in another window"):
        E.edit_text(changed, "en", 1, "Mine.", "Sentence 1.")


def test_typing_in_a_confirmed_pair_unconfirms_it_in_the_same_undoable_step():
    # What the translator typed is never refused: the pair goes back to "edited"
    # (to be confirmed again), and one undo restores both the text and the confirm.
    h = History(E.confirm(three(), 0))
    h.apply("edit_text", "en", 0, "Sentence zero, corrected.")
    assert h.current.en[0].text == "Sentence zero, corrected."
    assert h.current.pairs[0].status == "edited" and h.current.pairs[0].edited
    h.apply("split_segment", "en", 0, 14)  # Enter in the editor of a confirmed pair
    h.apply("confirm", 0)
    h.apply("split_segment", "en", 0, 8)
    assert [s.text for s in h.current.en[:3]] == ["Sentence", "zero,", "corrected."]
    assert h.current.pairs[0] == P([0], [0, 1, 2], 0.9, "edited")
    # the grouping of a confirmed pair stays locked
    refuses(E.join_segments, E.confirm(h.current, 0), "en", [0, 1], match="confirmed")
    h.undo()
    assert h.current.pairs[0].status == "confirmed" and h.current.en[0].text == "Sentence zero,"
    h.undo(), h.undo(), h.undo()
    assert h.current == E.confirm(three(), 0)


# -- confirm -----------------------------------------------------------------

def test_confirm_unconfirm_keep_the_score():
    al = E.confirm(three(), 1)
    assert al.pairs[1] == P([1], [1], 0.4, "confirmed")
    # an untouched pair goes back to "auto"; one changed by hand to "edited"
    assert E.unconfirm(al, 1).pairs[1] == P([1], [1], 0.4, "auto")
    merged = E.confirm(E.merge_next(three(), 0), 0)
    assert merged.pairs[0].status == "confirmed" and merged.pairs[0].edited
    assert E.unconfirm(merged, 0).pairs[0].status == "edited"
    # and the flag survives the JSON round trip of a confirmed pair
    assert Alignment.loads(merged.dumps()) == merged
    assert Alignment.loads(merged.dumps()).pairs[0].edited


def test_confirm_many_confirms_only_the_listed_pairs():
    al = E.confirm(three(), 0)
    out = E.confirm_many(al, [0, 2])
    assert [p.status for p in out.pairs] == ["confirmed", "auto", "confirmed"]
    refuses(E.confirm_many, out, [0, 2], match="already confirmed")
    refuses(E.confirm_many, al, [5], match="no pair 5")
    refuses(E.confirm_many, al, "02", match="list")


def test_confirm_through_confirms_every_pair_up_to_k():
    al = E.confirm(three(), 0)
    out = E.confirm_through(al, 1)
    assert [p.status for p in out.pairs] == ["confirmed", "confirmed", "auto"]
    assert [p.score for p in out.pairs] == [0.9, 0.4, 0.7]


def test_confirm_refusals():
    al = E.confirm(three(), 0)
    refuses(E.confirm, al, 0, match="already confirmed")
    refuses(E.unconfirm, al, 1, match="not confirmed")
    refuses(E.confirm_through, al, 0, match="already confirmed")
    refuses(E.confirm, al, 3, match="no pair")
    refuses(E.confirm_through, al, -1, match="no pair")


# -- headline mode -----------------------------------------------------------

def test_relink_sets_the_sentences_of_a_headline():
    al = headlines(P([0], [0], 0.7, candidates=[Candidate((2,), 0.6)]), P([1], [1]))
    out = E.relink(al, 0, [3, 2])  # kept in document order, scored as candidate (2,), which it holds
    assert out.pairs[0] == P([2, 3], [0], 0.6, "edited", [Candidate((2,), 0.6)])
    exact = E.relink(al, 0, [2]).pairs[0]
    assert (exact.score, exact.rescored) == (0.6, True)   # the aligner's confidence in this very link
    alone = E.relink(al, 0, [4]).pairs[0]
    assert (alone.score, alone.rescored) == (0.0, False)  # no candidate stands behind it
    assert E.relink(al, 1, []).pairs[1] == P([], [1], 0.0, status="edited")
    assert E.confirm(out, 0).pairs[0].status == "confirmed"


@pytest.mark.parametrize("ids,match", [([5], "no Japanese sentence 5"), ([-1], "no Japanese"),
                                       ([1, 1], "twice"), ([0], "already links"), (["a"], "number")])
def test_relink_refusals(ids, match):
    refuses(E.relink, headlines(P([0], [0])), 0, ids, match=match)


def test_relink_refuses_a_confirmed_headline_and_document_mode():
    refuses(E.relink, E.confirm(headlines(P([0], [0])), 0), 0, [1], match="confirmed")
    refuses(E.relink, three(), 0, [1], match="headlines")


@pytest.mark.parametrize("fn,args", [
    (E.merge_next, (0,)), (E.merge_prev, (1,)), (E.split_pair, (0,)),
    (E.shift, (0, "ja", "down")), (E.insert_empty, (0, "ja")), (E.delete_pair, (0,))])
def test_document_only_ops_refuse_headlines(fn, args):
    refuses(fn, headlines(P([0, 1], [0]), P([2], [1])), *args, match="full texts")


# -- check_invariants --------------------------------------------------------

@pytest.mark.parametrize("pairs,match", [
    ((P([0], [0]),), "ja segments"),                                  # ja 1 missing
    ((P([1], [0]), P([0], [1])), "Japanese order"),                   # out of order
    ((P([1, 0], [0, 1]),), "ascending"),
    ((P([0], [0]), P([], []), P([1], [1])), "no segment on either side"),
    ((P([0], [0]), P([1], [1, 1])), "en segments"),                   # twice
    ((P([0], [0]), P([1, 2], [1])), "does not exist"),
])
def test_check_invariants_document(pairs, match):
    al = Alignment((Segment("a"), Segment("b")), (Segment("A"), Segment("B")), pairs)
    with pytest.raises(ValueError, match=match):
        check_invariants(al)


@pytest.mark.parametrize("pairs,match", [
    ((P([0], [0, 1]),), "exactly one headline"),
    ((P([0], [0]),), "each in exactly one pair"),
    ((P([0], [0]), P([1], [0])), "each in exactly one pair"),
    ((P([0, 0], [0]), P([], [1])), "twice"),
    ((P([0], [0]), P([], [1], candidates=[Candidate((9,), 0.1)])), "does not exist"),
])
def test_check_invariants_headlines(pairs, match):
    al = Alignment((Segment("a"), Segment("b")), (Segment("A"), Segment("B")), pairs, mode="headlines")
    with pytest.raises(ValueError, match=match):
        check_invariants(al)


def test_check_invariants_accepts_headlines_in_any_order():
    check_invariants(headlines(P([2, 0], [0]), P([], [1])).with_pairs([P([], [1]), P([2, 0], [0])]))


# -- History and Step --------------------------------------------------------

def test_history_undo_redo_and_branch():
    h = History(three())
    a1 = h.apply("merge_next", 0)
    a2 = h.apply(E.confirm, 1)
    assert h.cursor == 2 and h.can_undo and not h.can_redo
    assert h.undo() == a1 and h.undo() == three() and not h.can_undo
    assert h.redo() == a1 and h.can_redo
    a3 = h.apply("split_pair", 0)  # drops the redo branch (a2)
    assert not h.can_redo and h.current == a3 != a2
    assert h.steps == (Step("merge_next", (0,)), Step("split_pair", (0,)))


def test_a_rescoring_hook_is_part_of_the_step():
    seen = []

    def hook(al, ks):
        seen.append(list(ks))
        return al.with_pairs([replace(p, score=0.99, rescored=True) if k in ks else p
                              for k, p in enumerate(al.pairs)])

    h = History(three())
    h.apply("confirm", 2, rescore=hook)  # changes no pair by hand: nothing to rescore
    out = h.apply("merge_next", 0, rescore=hook)
    assert seen == [[], [0]] and out.pairs[0].score == 0.99 and out.pairs[0].rescored
    assert len(h.steps) == 2 and h.undo().pairs[:2] == three().pairs[:2]  # one undo: both
    assert h.redo() == out
    # an edit undoes the rescoring of the pair it changes again
    assert not E.split_pair(out, 0).pairs[0].rescored
    # a hook that breaks the alignment is refused like a broken op: nothing recorded
    with pytest.raises(ValueError):
        h.apply("split_pair", 0, rescore=lambda al, ks: al.with_pairs(al.pairs[1:]))
    assert h.current == out and len(h.steps) == 2


def test_history_refusals_leave_it_unchanged():
    h = History(three())
    refuses(h.undo, match="nothing to undo")
    refuses(h.redo, match="nothing to redo")
    refuses(h.apply, "merge_next", 2, match="last pair")
    refuses(h.apply, "frobnicate", match="unknown edit")
    refuses(h.apply, lambda al: al, match="unknown edit")
    assert h.current == three() and h.steps == () and h.cursor == 0


def test_history_rejects_a_broken_start():
    with pytest.raises(ValueError):
        History(Alignment((Segment("a"),), (), ()))


class Index:
    """Like a NumPy integer: not an int, but has __index__."""

    def __index__(self):
        return 1


def test_ops_accept_integer_like_indices():
    al = doc(P([0], [0]), P([1], [1]), en=(Segment("Ab cd."), Segment("Ef.")))
    assert E.split_segment(al, "en", Index(), 1) == E.split_segment(al, "en", 1, 1)
    assert E.merge_prev(al, Index()) == E.merge_next(al, 0)
    assert E.edit_text(al, "ja", Index(), "新。").ja[1] == Segment("新。")


def test_step_records_plain_json_args_that_replay_exactly():
    step = Step.make(E.relink, (Index(), [2, Index()]))
    assert step == Step("relink", (1, (2, 1)))
    assert Step.from_json(json.loads(json.dumps(step.to_json()))) == step
    al = headlines(P([0], [0]), P([1], [1]))
    assert step.run(al) == E.relink(al, 1, (2, 1))


# -- property tests ----------------------------------------------------------

TEXTS = st.lists(st.sampled_from(["協議", "。", "Kyiv", " ", "ab", "、", "x y"]),
                 min_size=1, max_size=5).map("".join).filter(str.strip)
BEADS = st.sampled_from([(1, 1), (1, 1), (1, 0), (0, 1), (2, 1), (1, 2), (2, 2), (3, 1)])
SCORES = st.sampled_from([0.0, 0.25, 0.5, 0.9])


def _segments(draw, n):
    """n segments with offsets into a source text kept in meta (some without)."""
    texts = [draw(TEXTS) for _ in range(n)]
    source, segs = "", []
    for t in texts:
        has_offsets = draw(st.booleans())
        segs.append(Segment(t, len(source), len(source) + len(t)) if has_offsets else Segment(t))
        source += t + "\n"
    return tuple(segs), source


@st.composite
def documents(draw):
    beads = draw(st.lists(BEADS, min_size=1, max_size=7))
    ja, ja_src = _segments(draw, sum(b[0] for b in beads))
    en, en_src = _segments(draw, sum(b[1] for b in beads))
    pairs, i, j = [], 0, 0
    for nj, ne in beads:
        pairs.append(Pair(tuple(range(i, i + nj)), tuple(range(j, j + ne)), draw(SCORES),
                          draw(st.sampled_from(["auto", "auto", "auto", "confirmed"]))))
        i, j = i + nj, j + ne
    return Alignment(ja, en, tuple(pairs), meta={"ja": ja_src, "en": en_src})


@st.composite
def headline_sets(draw):
    nja, nen = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    ja, ja_src = _segments(draw, nja)
    en, en_src = _segments(draw, nen)
    ids = st.lists(st.integers(0, nja - 1), max_size=3, unique=True)
    pairs = [Pair(tuple(draw(ids)), (h,), draw(SCORES), draw(st.sampled_from(["auto", "auto", "confirmed"])),
                  tuple(Candidate(tuple(draw(ids)), draw(SCORES)) for _ in range(draw(st.integers(0, 2)))))
             for h in range(nen)]
    return Alignment(ja, en, tuple(pairs), mode="headlines", meta={"ja": ja_src, "en": en_src})


def _rarely(draw, usual, odd):
    """Mostly ``usual``, one draw in eight ``odd``: refusals get exercised
    without starving the edits that succeed."""
    return draw(odd) if draw(st.integers(0, 7)) == 0 else draw(usual)


def _index(draw, n):
    return _rarely(draw, st.integers(0, n - 1), st.sampled_from([-1, n])) if n else -1


def draw_call(draw, al: Alignment) -> tuple[str, tuple]:
    """An op with arguments sized to ``al``."""
    k = _index(draw, len(al.pairs))
    side = _rarely(draw, st.sampled_from(["ja", "en"]), st.just("xx"))
    segs = getattr(al, side, ())
    seg = _index(draw, len(segs))
    name = draw(st.sampled_from(sorted(E.OPS)))
    if name == "split_pair":
        cut = st.none() | st.integers(-1, 3)
        return name, (k, draw(cut), draw(cut))
    if name == "split_segment":
        size = len(segs[seg].text) if 0 <= seg < len(segs) else 3
        return name, (side, seg, _rarely(draw, st.integers(1, max(size - 1, 1)), st.just(size)))
    if name == "shift":
        return name, (k, side, _rarely(draw, st.sampled_from(["up", "down"]), st.just("left")))
    if name == "insert_empty":
        return name, (k, side)
    if name == "edit_text":
        return name, (side, seg, draw(st.sampled_from(["新しい文。", "New one.", "ab", " "])))
    if name == "link":
        pick = lambda n: st.lists(st.integers(0, max(n - 1, 0)), max_size=2, unique=True)
        return name, (tuple(draw(pick(len(al.ja)))), tuple(draw(pick(len(al.en)))))
    if name == "detach":
        return name, (side, seg)
    if name == "join_segments":
        return name, (side, (seg, seg + draw(st.sampled_from([1, 1, 2]))))
    if name == "confirm_many":
        return name, (tuple(draw(st.lists(st.integers(0, max(len(al.pairs) - 1, 0)), max_size=3))),)
    if name == "relink":
        ids = st.lists(st.integers(0, max(len(al.ja) - 1, 0)), max_size=3)
        return name, (k, tuple(_rarely(draw, ids, st.just([-1]))))
    return name, (k,)


def check_offsets(al: Alignment) -> None:
    for side in ("ja", "en"):
        for s in getattr(al, side):
            if s.start is not None:
                assert al.meta[side][s.start:s.end] == s.text


class HistoryMachine(RuleBasedStateMachine):
    """Random edits, undos and redos, checked against a plain list of states.
    ``make_history`` picks the log: in memory here, SQLite in test_store. Each
    call carries a client number, which the log must record with it (and only
    when the call did something)."""

    def make_history(self, al):
        return History(MemoryLog(al))

    alignments = documents()

    @initialize(data=st.data())
    def start(self, data):
        al = data.draw(self.alignments)
        self.h = self.make_history(al)
        self.states, self.cursor = [self.h.current], 0
        self.sent = self.recorded = 0

    def client(self):
        self.sent += 1
        return ("tab", self.sent)

    @rule(data=st.data())
    def edit(self, data):
        before = self.h.current
        name, args = data.draw(st.composite(draw_call)(before))
        try:
            new = self.h.apply(name, *args, client=self.client())
        except EditError:
            assert self.h.current == before and self.h.cursor == self.cursor
            return
        assert new != before
        stored = Step.from_json(json.loads(json.dumps(self.h.steps[self.cursor].to_json())))
        assert stored.run(before) == new  # the recorded step replays exactly
        del self.states[self.cursor + 1:]
        self.states.append(new)
        self.cursor += 1
        self.recorded = self.sent

    @rule()
    def undo(self):
        if self.cursor == 0:
            refuses(self.h.undo, self.client(), match="nothing to undo")
        else:
            self.cursor -= 1
            assert self.h.undo(self.client()) == self.states[self.cursor]
            self.recorded = self.sent

    @rule()
    def redo(self):
        if self.cursor == len(self.states) - 1:
            refuses(self.h.redo, self.client(), match="nothing to redo")
        else:
            self.cursor += 1
            assert self.h.redo(self.client()) == self.states[self.cursor]
            self.recorded = self.sent

    @invariant()
    def consistent(self):
        al = self.h.current
        check_invariants(al)
        check_offsets(al)
        assert al == self.states[self.cursor]
        assert self.h.can_undo == (self.cursor > 0)
        assert self.h.can_redo == (self.cursor < len(self.states) - 1)
        assert len(self.h.steps) == len(self.states) - 1
        assert self.h.client_seq("tab") == self.recorded


class HeadlineMachine(HistoryMachine):
    alignments = headline_sets()


STATEFUL = settings(max_examples=200, stateful_step_count=30, deadline=None)
TestDocumentEdits = pytest.mark.slow(HistoryMachine.TestCase)
TestDocumentEdits.settings = STATEFUL
TestHeadlineEdits = pytest.mark.slow(HeadlineMachine.TestCase)
TestHeadlineEdits.settings = STATEFUL


# -- direct links, one-side edits ---------------------------------------------

def test_link_swapped_sentences_as_two_crossing_pairs_in_japanese_order():
    al = doc(P([0], [0], 0.9), P([1, 2], [1, 2], 0.6), P([3], [3], 0.8))
    out = E.link(al, [1], [2])
    assert out.pairs == (P([0], [0], 0.9), P([1], [2], 0.6, "edited"), P([2], [1], 0.6, "edited"),
                         P([3], [3], 0.8))
    check_invariants(out)
    # the Japanese text reads in order, the English crosses
    assert [al.ja_text(p) for p in out.pairs] == [s.text for s in al.ja]


def test_link_takes_segments_out_of_their_old_pairs_and_drops_emptied_ones():
    al = doc(P([0], [0]), P([1], [1]), P([2], [2]), P([3], [3]))
    out = E.link(al, [3], [0])
    assert out.pairs[0] == P([0], [], 0.5, "edited")
    assert out.pairs[-1] == P([3], [0], 0.5, "edited")
    assert out.pairs[1:3] == (P([1], [1]), P([2], [2]))
    # a non-contiguous pick is one pair too; undo is the store's history
    out = E.link(al, [0, 2], [1])
    assert P([0, 2], [1], 0.5, "edited") in out.pairs
    check_invariants(out)


def test_link_refusals():
    al = doc(P([0], [0]), P([1], [1], status="confirmed"))
    refuses(E.link, al, [], [], match="pick")
    refuses(E.link, al, [0], [0], match="already form one pair")
    refuses(E.link, al, [0], [1], match="confirmed")
    refuses(E.link, al, [7], [0], match="no Japanese segment 7")
    refuses(E.link, al, [0, 0], [], match="twice")
    refuses(E.link, al, "0", [], match="list")


def test_link_in_headline_mode_relinks_the_one_headline():
    al = headlines(P([0], [0]), P([1], [1]))
    assert E.link(al, [3, 2], [1]).pairs[1] == P([2, 3], [1], 0.0, "edited")
    refuses(E.link, al, [1], [0, 1], match="one headline")


def test_ops_keep_japanese_order_on_a_crossing_alignment():
    al = E.link(doc(P([0], [0]), P([1], [1]), P([2], [2])), [0], [2])  # ja0-en2 crosses
    for name in ("delete_pair", "split_pair", "merge_next"):
        for k in range(len(al.pairs)):
            try:
                check_invariants(E.OPS[name](al, k))
            except EditError:
                pass
    for k in range(len(al.pairs)):
        for side in ("ja", "en"):
            for d in ("up", "down"):
                try:
                    check_invariants(E.shift(al, k, side, d))
                except EditError:
                    pass


def test_detach_unlinks_one_segment_of_one_side():
    al = doc(P([0], [0, 1], 0.7), P([1], [2]))
    out = E.detach(al, "en", 1)
    assert out.pairs == (P([0], [0], 0.7, "edited"), P([], [1], 0.7, "edited"), P([1], [2]))
    out = E.detach(doc(P([0, 1], [0]), P([2], [1])), "ja", 0)
    assert out.pairs[:2] == (P([0], [], 0.5, "edited"), P([1], [0], 0.5, "edited"))
    refuses(E.detach, doc(P([0], []), P([1], [0])), "ja", 0, match="alone")
    refuses(E.detach, headlines(P([0], [0])), "ja", 0, match="full texts")


def test_join_segments_makes_one_segment_and_renumbers():
    ja = (Segment("前半", 0, 2), Segment("後半。", 2, 5), Segment("次。", 6, 8))
    al = doc(P([0, 1], [0]), P([2], [1]), ja=ja)
    out = E.join_segments(al, "ja", [0, 1])
    assert out.ja == (Segment("前半後半。", 0, 5), Segment("次。", 6, 8))
    assert out.pairs == (P([0], [0], 0.5, "edited"), P([1], [1]))
    en = E.join_segments(doc(P([0], [0, 1]), P([1], [2])), "en", [1, 0])
    assert en.en[0] == Segment("Sentence 0. Sentence 1.")  # a space between, offsets dropped
    assert en.pairs[1] == P([1], [1])



def test_a_sentence_cut_inside_a_word_reads_whole_again_once_joined():
    al = doc(P([0], [0]), P([1], [1]), en=(Segment("That is all.", 0, 12), Segment("Next.", 13, 18)))
    cut = E.split_segment(al, "en", 0, 2)                      # "Th" | "at is all."
    assert cut.en[:2] == (Segment("Th", 0, 2), Segment("at is all.", 2, 12))
    assert cut.en_text(cut.pairs[0]) == "That is all."          # what TSV, TMX and the grid show
    assert E.join_segments(cut, "en", [0, 1]).en[0] == Segment("That is all.", 0, 12)
    merged = E.merge_next(cut, 0)                               # a sentence apart is still spaced
    assert merged.en_text(merged.pairs[0]) == "That is all. Next."


def test_join_segments_refusals():
    al = doc(P([0], [0]), P([1], [1]), P([2, 3], [2]))
    refuses(E.join_segments, al, "ja", [0, 1], match="different pairs")
    refuses(E.join_segments, al, "ja", [2], match="at least two")
    refuses(E.join_segments, doc(P([0, 1, 2], [0])), "ja", [0, 2], match="neighbouring")
    refuses(E.join_segments, headlines(P([0], [0]), P([1], [1])), "en", [0, 1], match="headline")
    refuses(E.join_segments, E.confirm(al, 2), "ja", [2, 3], match="confirmed")


def test_retype_applies_a_pair_s_edits_whole_or_not_at_all():
    al = three()
    texts = [s.text for s in al.en]
    retyped = [(0, [("en", 0, "Changed.", texts[0])]),
               (1, [("en", 1, "Also changed.", texts[1]), ("en", 2, "No.", "not its text")])]  # the second fails
    after, done, made = E.retype(al, retyped)
    assert done == [0] and made == retyped[0][1]
    assert [s.text for s in after.en] == ["Changed.", *texts[1:]]  # pair 2's first edit not kept alone
