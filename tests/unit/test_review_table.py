"""Reviewer lines written the way people write them, read the way the daemon reads them.

Each row: the line, then what the daemon must understand from it at the video
review of a 20-clip task: the clips, the note, the route (or the reason it
refuses the line). The reading is `explain_review`, the one code path behind the
daemon, its comment and `reelgate explain-review`.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

from orchestrator.review import explain_review, issue_classes

CLIPS = 20


class Row(NamedTuple):
    line: str
    clips: list[int] | str  # "all" for every clip
    notes: str
    route: str | None  # None: refused
    problem: str | None = None  # part of the reason, when refused


TABLE: list[Row] = [
    # The brief's two formats.
    Row("Regenerate: clips 5, 12, 17", [5, 12, 17], "", "regenerate"),
    Row("Bad motion: 5,12,17", [5, 12, 17], "Bad motion", "regenerate"),
    # Labels before a colon or a dash.
    Row("Timing - clips 3-4", [3, 4], "Timing", "regenerate"),
    Row("too dark: clip 5", [5], "too dark", "regenerate"),
    Row("Too dark — clip 5", [5], "Too dark", "regenerate"),
    Row("Flicker at the end: #7", [7], "Flicker at the end", "regenerate"),
    Row("Bad motion: 5 - jittery pan", [5], "Bad motion: jittery pan", "regenerate"),
    Row("Bad motion: regenerate clip 9", [9], "Bad motion", "regenerate"),
    Row("Video review: clips 5, 12", [5, 12], "", "regenerate"),
    Row("Notes: clip 2", [2], "", "regenerate"),
    Row("colour grade off: all clips", "all", "colour grade off", "regenerate"),
    # Scenes and shots are clips.
    Row("scene 6 has artifacts", [6], "has artifacts", "regenerate"),
    Row("scenes 2-4: too slow", [2, 3, 4], "too slow", "regenerate"),
    Row("Shot 8 – horizon tilts", [8], "horizon tilts", "regenerate"),
    # Timestamps (the product's own style too) and bullets are stripped.
    Row("[2026-12-01 10:02] Video review: clips 5, 12", [5, 12], "", "regenerate"),
    Row("[2026-12-01 10:02] Bad motion: 5,12,17", [5, 12, 17], "Bad motion", "regenerate"),
    Row("2026-12-01: clip 5 too dark", [5], "too dark", "regenerate"),
    Row("2026-12-01 10:02 - clip 3", [3], "", "regenerate"),
    Row("10:02 clip 4: blurry", [4], "blurry", "regenerate"),
    Row("(09:15) #11", [11], "", "regenerate"),
    Row("- clip 3", [3], "", "regenerate"),
    Row("• clips 1 and 2 - too bright", [1, 2], "too bright", "regenerate"),
    Row("* 12: too dark", [12], "too dark", "regenerate"),
    Row("1) clip 5: too dark", [5], "too dark", "regenerate"),
    Row("2. Bad motion: 14", [14], "Bad motion", "regenerate"),
    Row("– [2026-12-01] clip 19", [19], "", "regenerate"),
    # Unicode dashes in ranges and before notes.
    Row("clips 5–7", [5, 6, 7], "", "regenerate"),
    Row("clips 5—7 — too dark", [5, 6, 7], "too dark", "regenerate"),
    Row("Regenerate: 2 − 4", [2, 3, 4], "", "regenerate"),
    Row("clip 12 – sky is green", [12], "sky is green", "regenerate"),
    # Issue classes route upstream.
    Row("narrative: shot 3 doesn't follow", [3], "doesn't follow", "re-plan"),
    Row("Story: scenes 4-5", [4, 5], "", "re-plan"),
    Row("plot hole - shot 9", [9], "plot hole", "re-plan"),
    Row("audio: clip 4 mumbles", [4], "mumbles", "narration"),
    Row("dialogue: clip 6 - too fast", [6], "too fast", "narration"),
    Row("Voice – clips 1, 2", [1, 2], "", "narration"),
    Row("bad audio: clip 3", [3], "bad audio", "narration"),
    Row("keyframe: clip 4", [4], "", "keyframes"),
    Row("continuity: clip 4", [4], "", "keyframes"),
    Row("visual continuity - clips 7 and 8", [7, 8], "", "keyframes"),
    Row("Continuity error: clip 10", [10], "Continuity error", "keyframes"),
    Row("kf 3: too blue", [], "too blue", "keyframes"),
    # Refusals: nothing is guessed.
    Row("the sky in 5 is off", [], "", None, "no clip numbers found"),
    Row("too dark: the sky in 5", [], "", None, "no clip numbers after 'too dark:'"),
    Row("all good", [], "", None, "no clip numbers found"),
    Row("Looks great overall - no changes", [], "", None, "no clip numbers after"),
    Row("3) too dark", [], "", None, "list number"),
    Row("clip 25", [], "", None, "clip 25 is out of range: this task has clips 1–20"),
    Row("Bad motion: 18-24", [], "", None, "clips 18–24 are out of range"),
    Row("all clips except 3", [], "", None, "exceptions to 'all' are not understood"),
    Row("the 2nd clip", [], "", None, "no clip numbers found"),
    Row("narrative: the ending", [], "", None, "no clip numbers after 'narrative:'"),
]


@pytest.mark.parametrize("row", TABLE, ids=[r.line for r in TABLE])
def test_reviewer_line(row: Row) -> None:
    (explanation,) = explain_review(row.line, CLIPS, "video")
    got = explanation.as_json()
    if row.route is None:
        assert got["route"] is None
        assert row.problem is not None
        assert row.problem in (got["problem"] or "")
        assert not explanation.actions
        return
    assert got["problem"] is None
    assert got["clips"] == row.clips
    assert got["notes"] == row.notes
    assert got["route"] == row.route


def test_the_table_is_big_enough() -> None:
    assert len(TABLE) >= 40
    assert sum(r.route is None for r in TABLE) >= 8


def test_a_channel_adds_its_own_words() -> None:
    classes = issue_classes({"audio": ["lip sync"], "narrative": ["pacing"]})
    (lip,) = explain_review("lip sync: clip 4", CLIPS, "video", classes)
    assert lip.route == "narration"
    (pacing,) = explain_review("Pacing - shots 2-3", CLIPS, "video", classes)
    assert pacing.route == "re-plan"
    # Without them, the same labels are notes for the clips.
    (plain,) = explain_review("lip sync: clip 4", CLIPS, "video")
    assert plain.route == "regenerate"
    assert plain.reading.note == "lip sync"
    with pytest.raises(ValueError, match="unknown issue class"):
        issue_classes({"lighting": ["dim"]})


def test_a_label_alone_heads_the_lines_below_it() -> None:
    text = "Too dark:\n2, 3\nclip 4: fine otherwise\n\n5"
    explained = explain_review(text, CLIPS)
    assert [e.route for e in explained] == [
        "header",
        "regenerate",
        "regenerate",
        "ignored",
        "regenerate",
    ]
    assert explained[1].reading.note == "Too dark"
    assert explained[2].reading.note == "Too dark: fine otherwise"
    assert explained[4].reading.note == ""  # a blank line ends the heading


def test_routes_depend_on_the_stage_under_review() -> None:
    # At the audio review plain lines redo narration; at the storyboard one they re-plan.
    (audio,) = explain_review("clip 4: slower", CLIPS, "audio")
    assert audio.route == "narration"
    (board,) = explain_review("shot 2: more suspense", CLIPS, "storyboard")
    assert board.route == "re-plan"
    # At the keyframes review plain numbers are keyframes (1..N+1).
    (kfs,) = explain_review(f"{CLIPS + 1}: warmer", CLIPS, "keyframes")
    assert kfs.route == "keyframes"
    assert kfs.actions[0].numbers == (CLIPS + 1,)
    # A keyframe problem named at the audio review still goes back to keyframes.
    (cont,) = explain_review("continuity: clip 2", CLIPS, "audio")
    assert cont.route == "keyframes"
    assert cont.actions[0].numbers == (2, 3)


def test_descriptions_say_what_happens_downstream() -> None:
    described = {
        line: explain_review(line, CLIPS)[0].description
        for line in (
            "Bad motion: 5,12,17",
            "narrative: shot 3 doesn't follow",
            "narrative: shot 20",
            "audio: clip 4 mumbles",
            "continuity: clip 4",
        )
    }
    assert described == {
        "Bad motion: 5,12,17": "clips 5, 12, 17 → regenerate (note: Bad motion)",
        "narrative: shot 3 doesn't follow": (
            "shot 3 → re-plan storyboard, then keyframe 3 and clips 2–3 (note: doesn't follow)"
        ),
        "narrative: shot 20": (
            "shot 20 → re-plan storyboard, then keyframes 20–21 and clips 19–20"
        ),
        "audio: clip 4 mumbles": "clip 4 → redo narration only (note: mumbles)",
        "continuity: clip 4": "clip 4: keyframes 4–5 → redo, then clips 3–5",
    }
