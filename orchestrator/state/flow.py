"""The status flow as a Mermaid diagram, drawn from the transition table itself.

docs/notion-setup.md embeds the output; tests/unit/test_status_flow.py fails when the
two differ, so the picture cannot drift from `TRANSITIONS`. Moves into Failed and
Cancelled (from almost everywhere) become one note each, listing their sources, so
the arrows that remain are the pipeline people follow.
"""

from __future__ import annotations

from orchestrator.state.status import STAGES, TRANSITIONS, Status

__all__ = ["status_flow_mermaid"]

_ACTORS = {
    frozenset({"human"}): "human",
    frozenset({"daemon"}): "daemon",
    frozenset({"human", "daemon"}): "human or auto-approve",
}
_SUMMARISED = (Status.FAILED, Status.CANCELLED)


def _sources(target: Status) -> list[Status]:
    return [s for s in Status if (s, target) in TRANSITIONS and s is not target]


def _listed(target: Status, statuses: list[Status]) -> list[str]:
    """The sources as short note lines; "every status but X" when that is shorter."""
    others = [s for s in Status if s is not target and s not in statuses]
    head, named = (
        ("from every status but", others) if len(others) < len(statuses) else ("from", statuses)
    )
    lines, line = [], head
    for i, status in enumerate(named):
        word = f" {status.label}" + ("," if i < len(named) - 1 else "")
        if len(line) + len(word) > 60:
            lines.append(line)
            line = word.lstrip()
        else:
            line += word
    return [*lines, line]


def status_flow_mermaid() -> str:
    """`stateDiagram-v2` text of every edge in `TRANSITIONS`, in the current labels."""
    lines = ["stateDiagram-v2"]
    lines += [f'    state "{s.label}" as {s.value}' for s in Status]
    lines.append(f"    [*] --> {Status.DRAFT.value}")
    for (source, target), actors in TRANSITIONS.items():
        if target in _SUMMARISED:
            continue
        lines.append(f"    {source.value} --> {target.value}: {_ACTORS[actors]}")
    last = STAGES[-1].approved
    lines.append(f"    {last.value} --> [*]")
    lines.append(f"    {Status.CANCELLED.value} --> [*]")
    for target in _SUMMARISED:
        sources = _sources(target)
        who = _ACTORS[frozenset(a for s in sources for a in TRANSITIONS[(s, target)])]
        lines.append(f"    note right of {target.value}")
        lines.append(f"        {who}, {_listed(target, sources)[0]}")
        lines += [f"        {more}" for more in _listed(target, sources)[1:]]
        lines.append("    end note")
    return "\n".join(lines) + "\n"
