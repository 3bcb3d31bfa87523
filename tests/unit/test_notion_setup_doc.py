"""docs/notion-setup.md cannot go stale: its tables and diagram are checked against the code."""

from __future__ import annotations

import re
from pathlib import Path

from notion_sync.schema import TASK_FIELDS, VIDEO_FIELDS, FieldSpec
from orchestrator.state.flow import status_flow_mermaid
from orchestrator.state.status import (
    TRANSITIONS,
    WAITING_ON_HUMAN,
    Status,
    notion_status_options,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "notion-setup.md"
TYPE_WORDS = {
    "title": "Title",
    "status": "Status",
    "select": "Select",
    "rich_text": "Text",
    "number": "Number",
    "people": "Person",
    "date": "Date",
    "files": "Files & media",
    "relation": "Relation",
    "url": "URL",
}


def section(heading: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(heading)
    end = text.find("\n#", start + len(heading))
    return text[start : end if end != -1 else len(text)]


def table_rows(heading: str) -> list[list[str]]:
    rows = []
    for line in section(heading).splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows[1:]  # the header row


def documented(fields: dict[str, FieldSpec]) -> list[tuple[str, str]]:
    return [(spec.name, TYPE_WORDS[spec.type]) for spec in fields.values()]


def test_property_tables_list_every_property_with_its_type() -> None:
    tasks = [(r[0], r[1]) for r in table_rows("### Tasks properties")]
    videos = [(r[0], r[1]) for r in table_rows("### Videos properties")]
    assert tasks == documented(TASK_FIELDS), "docs/notion-setup.md: Tasks properties table"
    assert videos == documented(VIDEO_FIELDS), "docs/notion-setup.md: Videos properties table"


def test_status_table_matches_the_status_machine() -> None:
    rows = table_rows("## Status labels")
    expected = [
        [status.value, label, colour, group, "yes" if status in WAITING_ON_HUMAN else ""]
        for status, (label, colour, group) in zip(Status, notion_status_options(), strict=True)
    ]
    assert rows == expected


def test_mermaid_diagram_is_the_transition_table() -> None:
    match = re.search(r"```mermaid\n(.*?)```", section("## Status flow"), re.DOTALL)
    assert match is not None
    assert match.group(1) == status_flow_mermaid(), (
        "regenerate the diagram: python -c 'from orchestrator.state.flow import "
        'status_flow_mermaid; print(status_flow_mermaid(), end="")\''
    )


def test_the_diagram_draws_every_edge_of_the_table() -> None:
    diagram = status_flow_mermaid()
    drawn = set(re.findall(r"^    (\w+) --> (\w+):", diagram, re.MULTILINE))
    summarised = {Status.FAILED, Status.CANCELLED}
    arrows = {(s.value, t.value) for (s, t) in TRANSITIONS if t not in summarised}
    assert drawn == arrows
    # The rest are in the two notes, which name who takes them.
    assert "daemon, from every status but Draft" in diagram
    assert "human, from every status but Done" in diagram
