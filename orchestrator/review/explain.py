"""What review text asks for, line by line, and where each request goes.

`explain_review` is the one reading of review text: the daemon acts on its result
(pipeline/review.py), the comment it posts quotes its descriptions, and
`reelgate explain-review` prints it. Pure functions, no I/O.

Routes (`Route`), by the stage that owns the items they redo:

| route        | stage      | what is made again                                          |
|--------------|------------|-------------------------------------------------------------|
| `re-plan`    | storyboard | the shot, then its keyframe and the clips on both sides     |
| `keyframes`  | keyframes  | the keyframes, then the clips that start or end on them     |
| `regenerate` | video      | the clips                                                   |
| `narration`  | audio      | the clips' narration lines only                             |
| `reassemble` | final      | the final video, from what is there                         |

A line without an issue label, or with any label outside the classes, takes the
route of the stage under review. A class label (`narrative:`, `audio:`,
`continuity:`) routes upstream to its stage; at a stage before its own (audio
lines at the video review) it is recorded for when that stage runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from orchestrator.limits import summarise_numbers
from orchestrator.review.classes import IssueClass, IssueClasses
from orchestrator.review.parser import DEFAULT_CLASSES, LineReading, join_notes, read_lines

__all__ = [
    "STAGE_ORDER",
    "Action",
    "LineExplanation",
    "RedoPlan",
    "Route",
    "compact_numbers",
    "explain_review",
    "plan_review",
    "route_description",
]

Route = Literal["re-plan", "keyframes", "regenerate", "narration", "reassemble"]
StageName = Literal["storyboard", "keyframes", "video", "audio", "final"]
STAGE_ORDER: tuple[StageName, ...] = ("storyboard", "keyframes", "video", "audio", "final")

ROUTE_STAGE: dict[Route, StageName] = {
    "re-plan": "storyboard",
    "keyframes": "keyframes",
    "regenerate": "video",
    "narration": "audio",
    "reassemble": "final",
}
STAGE_ROUTE: dict[StageName, Route] = {stage: route for route, stage in ROUTE_STAGE.items()}
_CLASS_ROUTE: dict[IssueClass, Route] = {
    "narrative": "re-plan",
    "keyframe": "keyframes",
    "audio": "narration",
}


@dataclass(frozen=True)
class Action:
    """One thing a line asks for: `route` applied to `numbers` with `note`.

    `numbers` are shots/clips for `re-plan`, `regenerate` and `narration`, and
    keyframe numbers for `keyframes`; empty for `reassemble`.
    """

    route: Route
    numbers: tuple[int, ...]
    note: str = ""


@dataclass(frozen=True)
class LineExplanation:
    """One line of review text: how it was read, where it goes, in words."""

    reading: LineReading
    route: Route | Literal["header", "ignored"] | None
    actions: tuple[Action, ...] = ()
    description: str = ""

    @property
    def problem(self) -> str | None:
        return self.reading.problem

    def as_json(self) -> dict[str, Any]:
        """The `explain-review --json` object of this line."""
        reading = self.reading
        clips: list[int] | str = "all" if reading.all_selected else list(reading.clips)
        return {
            "line": reading.line,
            "clips": clips,
            "keyframes": list(reading.keyframes),
            "notes": reading.note,
            "issue": reading.issue,
            "route": self.route,
            "problem": reading.problem,
            "description": self.description,
        }


@dataclass
class RedoPlan:
    """Everything a review asks for, per stage: stage name -> item number -> note."""

    targets: dict[StageName, dict[int, str]] = field(default_factory=dict)
    whole: bool = False
    descriptions: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.whole and not any(self.targets.values())

    def add(self, stage: StageName, number: int, note: str) -> None:
        items = self.targets.setdefault(stage, {})
        items[number] = join_notes([items.get(number, ""), note])

    def stages(self) -> list[StageName]:
        """The stages with something to redo, in pipeline order."""
        return [s for s in STAGE_ORDER if self.targets.get(s)] + (
            ["final"] if self.whole and not self.targets.get("final") else []
        )


def compact_numbers(numbers: Iterable[int]) -> str:
    """[2, 3, 4, 7] -> "2–4, 7"."""
    runs: list[tuple[int, int]] = []
    for n in sorted(set(numbers)):
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs)


def _named(word: str, numbers: Sequence[int]) -> str:
    # Past 20 runs the rest is counted, not listed (5,000 odd numbers, one line).
    return summarise_numbers(numbers, word)


def _clips_around_keyframes(keyframes: Iterable[int], clip_count: int) -> list[int]:
    # Keyframe k ends clip k-1 and starts clip k.
    return sorted({c for k in keyframes for c in (k - 1, k) if 1 <= c <= clip_count})


def route_description(route: Route, numbers: Sequence[int], clip_count: int) -> str:
    """What a route does to `numbers`, downstream effects included."""
    if route == "regenerate":
        return f"{_named('clip', numbers)} → regenerate"
    if route == "narration":
        return f"{_named('clip', numbers)} → redo narration only"
    if route == "reassemble":
        return "→ assemble the final video again"
    if route == "keyframes":
        clips = _clips_around_keyframes(numbers, clip_count)
        then = f", then {_named('clip', clips)}" if clips else ""
        return f"{_named('keyframe', numbers)} → redo{then}"
    # re-plan: the shot's start keyframe (and the closing one after the last shot),
    # and the clips that start or end on them.
    keyframes = sorted({*numbers, *([clip_count + 1] if clip_count in numbers else [])})
    clips = _clips_around_keyframes(keyframes, clip_count)
    return (
        f"{_named('shot', numbers)} → re-plan storyboard, then "
        f"{_named('keyframe', keyframes)} and {_named('clip', clips)}"
    )


def _route_for(issue: IssueClass, stage: StageName) -> Route:
    default = STAGE_ROUTE[stage]
    if issue == "clip" or stage in ("final", "storyboard"):
        return default
    route = _CLASS_ROUTE[issue]
    owner = STAGE_ORDER.index(ROUTE_STAGE[route])
    here = STAGE_ORDER.index(stage)
    # Upstream routes always; narration also from the video review, ahead of its
    # stage (recorded with its note, made when the audio stage runs).
    if owner <= here or (route == "narration" and stage == "video"):
        return route
    return default


def _explain_line(reading: LineReading, stage: StageName, clip_count: int) -> LineExplanation:
    if reading.kind in ("ignored", "header"):
        description = ""
        if reading.kind == "header" and reading.label:
            description = f"heading: '{reading.label}' applies to the lines below it"
        return LineExplanation(reading, reading.kind, description=description)
    if reading.problem is not None:
        return LineExplanation(reading, None, description=f"not read: {reading.problem}")
    note = reading.note
    route = _route_for(reading.issue, stage)
    if route == "reassemble":
        return LineExplanation(
            reading, route, (Action(route, (), note),), route_description(route, (), clip_count)
        )
    if stage == "keyframes" and route == "re-plan":
        shots = tuple(range(1, clip_count + 1)) if reading.all_selected else reading.clips
        beyond = [n for n in shots if n > clip_count]
        if beyond or not shots:
            problem = (
                f"shot {compact_numbers(beyond)} is out of range: this task has shots "
                f"1–{clip_count}"
                if beyond
                else "no shot numbers found"
            )
            refused = replace(reading, kind="refused", problem=problem)
            return LineExplanation(refused, None, description=f"not read: {problem}")
        action = Action("re-plan", shots, note)
        text = route_description("re-plan", shots, clip_count)
        return LineExplanation(reading, "re-plan", (action,), _with_note(text, note))
    if stage == "keyframes":
        # At the keyframes review plain numbers are keyframes (a task with N clips
        # has keyframes 1..N+1), and the numbers were read against N + 1.
        count = clip_count + 1
        numbers = tuple(range(1, count + 1)) if reading.all_selected else reading.clips
        numbers = tuple(sorted({*numbers, *reading.keyframes}))
        action = Action("keyframes", numbers, note)
        text = route_description("keyframes", numbers, clip_count)
        return LineExplanation(reading, "keyframes", (action,), _with_note(text, note))
    clips = tuple(range(1, clip_count + 1)) if reading.all_selected else reading.clips
    actions: list[Action] = []
    if route == "keyframes" and clips:
        # A keyframe problem on clip n: the frames at both of its ends.
        actions.append(
            Action("keyframes", tuple(sorted({k for c in clips for k in (c, c + 1)})), note)
        )
    elif clips:
        actions.append(Action(route, clips, note))
    if reading.keyframes:
        actions.append(Action("keyframes", reading.keyframes, note))
    texts = [route_description(a.route, a.numbers, clip_count) for a in actions]
    if route == "keyframes" and clips:
        texts[0] = f"{_named('clip', clips)}: " + texts[0]
    description = _with_note("; ".join(texts), note)
    main: Route = actions[0].route if actions else route
    return LineExplanation(reading, main, tuple(actions), description)


def _with_note(text: str, note: str) -> str:
    return f"{text} (note: {note})" if note else text


def explain_review(
    lines: Sequence[str] | str,
    clip_count: int,
    stage: StageName = "video",
    classes: IssueClasses = DEFAULT_CLASSES,
) -> list[LineExplanation]:
    """Read review text for a task of `clip_count` clips under review at `stage`.

    One explanation per line of the text (blank lines included, as `ignored`).
    """
    texts = [lines] if isinstance(lines, str) else list(lines)
    count = clip_count + 1 if stage == "keyframes" else clip_count
    readings = read_lines(texts, count, classes)
    return [_explain_line(r, stage, clip_count) for r in readings]


def plan_review(explanations: Sequence[LineExplanation]) -> RedoPlan:
    """The items each stage must redo, from explained lines (refused lines add nothing)."""
    plan = RedoPlan()
    for explanation in explanations:
        if explanation.problem is not None:
            continue
        for action in explanation.actions:
            if action.route == "reassemble":
                plan.whole = True
                continue
            stage = ROUTE_STAGE[action.route]
            for number in action.numbers:
                plan.add(stage, number, action.note)
        if explanation.actions:
            plan.descriptions.append(explanation.description)
    return plan
