"""How `reelgate status TASK` shows a task's story (orchestrator/admin/story.py) on a terminal.

One renderer per section; a section without one is shown as a generic table, so
a section added to the story is visible before anyone writes its renderer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from orchestrator.admin.stuck import human_duration

__all__ = ["RENDERERS", "render_story"]


def _when(value: str | None) -> str:
    """`2026-12-01T10:02:03.123+00:00` -> `2026-12-01 10:02:03`."""
    if not value:
        return ""
    return value.replace("T", " ")[:19]


def _operation(name: str | None) -> str:
    """Vertex operation names are long; the table shows their distinctive end
    (`--json` has them whole)."""
    if not name:
        return ""
    head, sep, tail = name.rpartition("/operations/")
    return f"…/operations/{tail}" if sep and head else name


def _usd(value: float | None) -> str:
    return "" if value is None else f"${value:.2f}"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _task(console: Console, _name: str, t: dict[str, Any]) -> None:
    since = human_duration(float(t["seconds_in_status"]))
    stuck = ""
    if t["stuck"]:
        stuck = f"  [bold red]STUCK[/] (over {t['stuck_after_minutes']} min)"
    console.print(f"[bold]Task {t['id']}[/]: {t['title'] or '(untitled)'}")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column(overflow="fold")
    rows: list[tuple[str, str]] = [
        ("status", f"[bold]{t['status']}[/] for {since}{stuck}"),
        ("page", f"{t['page_id']}  {t['url'] or ''}".rstrip()),
        ("channel", t["channel"]),
        ("clips", f"{t['clips']} x {t['clip_seconds']} s, {t['aspect_ratio']}"),
        (
            "cost",
            f"{_usd(t['cost_usd'])} (estimate {_usd(t['estimated_cost_usd'])}"
            + (f", budget {_usd(t['budget_usd'])})" if t["budget_usd"] is not None else ")"),
        ),
    ]
    if t["review_rounds"]:
        rounds = ", ".join(f"{k} {v}" for k, v in t["review_rounds"].items())
        rows.append(("review rounds", rounds))
    if t["error"]:
        rows.append(("error", f"[red]{t['error']}[/]"))
    if t["resume_status"]:
        rows.append(("resumes at", t["resume_status"]))
    if t["lease_owner"]:
        rows.append(("worker", f"{t['lease_owner']} (lease until {_when(t['lease_expires_at'])})"))
    if t["not_before"]:
        rows.append(("next look", _when(t["not_before"])))
    if t["brief"]:
        brief = " ".join(t["brief"].split())
        rows.append(("brief", brief if len(brief) <= 160 else brief[:159] + "…"))
    for key, value in rows:
        grid.add_row(key, value)
    console.print(grid)


def _clips(console: Console, _name: str, clips: list[dict[str, Any]]) -> None:
    if not clips:
        console.print("[bold]Clips[/]: none yet")
        return
    table = Table(title="Clips", title_justify="left", title_style="bold")
    for column in ("#", "status", "try", "operation", "charges", "cost", "stored as", "error"):
        numeric = column in ("#", "try", "charges", "cost")
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    for clip in clips:
        table.add_row(
            str(clip["number"]),
            clip["status"],
            str(clip["attempt"]),
            _operation(clip["operation_name"]),
            str(len(clip["charges"])),
            _usd(clip["cost_usd"]),
            clip["storage_key"] or "",
            clip["error"] or "",
        )
    console.print(table)


def _keyframes(console: Console, _name: str, keyframes: list[dict[str, Any]]) -> None:
    if not keyframes:
        return
    counts: dict[str, int] = {}
    for kf in keyframes:
        counts[kf["status"]] = counts.get(kf["status"], 0) + 1
    redone = [f"{kf['number']} (try {kf['attempt']})" for kf in keyframes if kf["attempt"] > 1]
    cost = sum(kf["cost_usd"] for kf in keyframes)
    console.print(
        f"[bold]Keyframes[/]: {len(keyframes)}, "
        + ", ".join(f"{n} {s}" for s, n in counts.items())
        + f", {_usd(cost)}"
        + (f"; made again: {', '.join(redone)}" if redone else "")
    )


def _costs(console: Console, _name: str, costs: dict[str, Any]) -> None:
    if not costs["by_kind"]:
        console.print("[bold]Cost[/]: nothing paid yet")
        return
    parts = [
        f"{kind} {_usd(row['usd'])} ({row['calls']} call{'s' if row['calls'] != 1 else ''})"
        for kind, row in costs["by_kind"].items()
    ]
    console.print(f"[bold]Cost[/]: {_usd(costs['ledger_usd'])} = " + " + ".join(parts))


def _review(console: Console, _name: str, review: dict[str, Any]) -> None:
    if not review["verdicts"] and not review["lines_acted_on"]:
        console.print("[bold]Review[/]: no review yet")
        return
    table = Table(title="Review history", title_justify="left", title_style="bold")
    for column in ("at", "gate", "verdict", "by", "note"):
        table.add_column(column, overflow="fold")
    for v in review["verdicts"]:
        table.add_row(_when(v["at"]), v["gate"] or "", v["verdict"] or "", v["actor"], v["note"])
    console.print(table)
    for line in review["lines_acted_on"]:
        console.print(f"  round {line['round']}  {_when(line['at'])}  > {line['line']}")


def _writes_table(title: str, rows: list[dict[str, Any]], error_style: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    for column in ("id", "kind", "what", "queued", "tries", "error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["kind"],
            row["summary"],
            _when(row["created_at"]),
            str(row["attempts"]),
            f"[{error_style}]{row['error'] or ''}[/]",
        )
    return table


def _notion_writes(console: Console, _name: str, writes: dict[str, Any]) -> None:
    pending, dead = writes["pending"], writes["dead_letters"]
    if not pending and not dead:
        console.print("[bold]Notion writes[/]: all sent")
        return
    if pending:
        console.print(_writes_table("Notion writes waiting", pending, "yellow"))
    if dead:
        console.print(_writes_table("Dead-lettered Notion writes", dead, "red"))
        console.print(
            "  replay them with `reelgate dead-letters --replay ID` once the cause is fixed"
        )


def _timeline(console: Console, _name: str, timeline: dict[str, Any]) -> None:
    table = Table(title="Timeline", title_justify="left", title_style="bold")
    for column in ("at", "by", "event", "note", "lasted"):
        table.add_column(column, overflow="fold")
    for e in timeline["events"]:
        if e["kind"] == "transition":
            what = f"{e['from'] or '-'} -> {e['to']}"
        else:
            what = e["kind"] + (f" ({e['from']})" if e["from"] else "")
        lasted = e["seconds_in_status"]
        table.add_row(
            _when(e["at"]),
            e["actor"],
            what,
            e["note"],
            human_duration(lasted) if lasted is not None else "",
        )
    console.print(table)
    totals = timeline["seconds_by_status"]
    if totals:
        console.print(
            "[bold]Time by status[/]: "
            + ", ".join(f"{k} {human_duration(v)}" for k, v in totals.items())
        )


def _generic(console: Console, name: str, data: Any) -> None:
    title = name.replace("_", " ").capitalize()
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        table = Table(title=title, title_justify="left", title_style="bold")
        columns = list(dict.fromkeys(k for row in data for k in row))
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in data:
            table.add_row(*(_cell(row.get(c)) for c in columns))
        console.print(table)
    else:
        console.print(f"[bold]{title}[/]: {_cell(data)}")


Renderer = Callable[[Console, str, Any], None]

RENDERERS: dict[str, Renderer] = {
    "task": _task,
    "clips": _clips,
    "keyframes": _keyframes,
    "costs": _costs,
    "review": _review,
    "notion_writes": _notion_writes,
    "timeline": _timeline,
}


def render_story(console: Console, story: dict[str, Any]) -> None:
    for name, data in story.items():
        RENDERERS.get(name, _generic)(console, name, data)
