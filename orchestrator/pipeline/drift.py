"""Schema drift: a Notion property reelgate needs was renamed or deleted while it runs.

Found the moment a read or a write meets it:

- a read: a task page that lacks a required property (`TaskPage.missing`): the page
  is not interpreted at all (an absent Status is not "no status", an absent Error
  Log is not "no notes"), so nothing is reverted, bounced or lost;
- a write: Notion answers 400 validation_error "<name> is not a property that
  exists." (`notion_sync.schema.missing_property`); the write is dead-lettered, and
  replayed by itself once the property is back.

What people see:

- `/readyz` answers 503 naming each missing property and the fix
  (`schema_readiness`), on every replica: the state lives in the database
  (`sync_state` row "schema_drift");
- `reelgate_notion_schema_drift` counts the missing properties;
- one comment per affected task, mentioning its owner, per property and drift
  episode (an `events` row of kind "schema_drift" records that it was sent): not one
  per poll;
- `reelgate check-notion` prints the fix (rename it back, or map the new name).

The leader checks the data sources again on every poll while drift is recorded;
once every property is back the record is cleared, the dead letters it caused are
queued again, and the Tasks poll cursor is reset so that moves made meanwhile (a
schema change does not touch pages' edit times) are read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notion_sync.client import NotionClient
from notion_sync.schema import Kind, check_schema, fix_for_missing, property_names
from notion_sync.settings import NotionSettings
from orchestrator.db.models import Event, OutboxItem, SyncState, Task
from orchestrator.db.types import utcnow
from orchestrator.metrics import Metrics
from orchestrator.pipeline.notion_out import comment

__all__ = [
    "DRIFT_KEY",
    "drift_entries",
    "error_log_missing",
    "record_drift",
    "resolve_drift",
    "schema_readiness",
]

log = structlog.get_logger(__name__)

DRIFT_KEY = "schema_drift"
_LABEL: dict[Kind, str] = {"tasks": "Tasks", "videos": "Videos"}


def _key(kind: Kind, name: str) -> str:
    return f"{kind}:{name}"


async def drift_entries(session: AsyncSession) -> dict[str, dict[str, Any]]:
    """ "tasks:Error Log" -> {"kind", "property", "since", "seen"} for each missing one."""
    state = await session.get(SyncState, DRIFT_KEY)
    if state is None or not state.value:
        return {}
    return dict(state.value.get("missing", {}))


async def error_log_missing(session: AsyncSession, settings: NotionSettings) -> str | None:
    """The Error Log property's name when it is known to be missing, else None."""
    name = property_names("tasks", settings)["error_log"]
    return name if _key("tasks", name) in await drift_entries(session) else None


def _drift_comment(kind: Kind, name: str, seen: str, settings: NotionSettings) -> str:
    effect = (
        "I cannot read this task's review notes or status changes"
        if kind == "tasks"
        else "I cannot update this task's rows in the Videos table"
    )
    return (
        f'The {_LABEL[kind]} database has no property "{name}" any more (renamed or '
        f"deleted; I noticed it {seen}). Until it is back, {effect}; nothing is lost, "
        f"the task waits. To fix: {fix_for_missing(kind, name, settings)}. "
        "`reelgate check-notion` shows everything that is missing."
    )


async def record_drift(
    session: AsyncSession,
    kind: Kind,
    names: Iterable[str],
    *,
    seen: str,
    now: datetime,
    settings: NotionSettings,
    task: Task | None = None,
    metrics: Metrics | None = None,
) -> list[str]:
    """Record missing properties; comment once on `task` per property and episode.

    Returns the properties that were not recorded before (newly found drift).
    """
    names = list(dict.fromkeys(names))
    if not names:
        return []
    state = await session.get(SyncState, DRIFT_KEY)
    if state is None:
        state = SyncState(key=DRIFT_KEY, value={})
        session.add(state)
    missing: dict[str, dict[str, Any]] = dict((state.value or {}).get("missing", {}))
    new: list[str] = []
    for name in names:
        key = _key(kind, name)
        if key not in missing:
            missing[key] = {
                "kind": kind,
                "property": name,
                "since": now.isoformat(),
                "seen": seen,
            }
            new.append(name)
            log.error(
                "detect_schema_drift",
                database=_LABEL[kind],
                property=name,
                seen=seen,
                fix=fix_for_missing(kind, name, settings),
            )
    # A new dict: the JSON column sees the change.
    state.value = {"missing": missing}
    if metrics is not None:
        metrics.notion_schema_drift.set(len(missing))
    if task is not None:
        for name in names:
            await _notify_once(session, task, kind, name, missing[_key(kind, name)], settings)
    return new


async def _notify_once(
    session: AsyncSession,
    task: Task,
    kind: Kind,
    name: str,
    entry: Mapping[str, Any],
    settings: NotionSettings,
) -> None:
    since = datetime.fromisoformat(str(entry["since"]))
    note = _key(kind, name)
    told = (
        (
            await session.execute(
                select(Event.at).where(
                    Event.task_id == task.id, Event.kind == DRIFT_KEY, Event.note == note
                )
            )
        )
        .scalars()
        .all()
    )
    if any(_aware(at) >= _aware(since) for at in told):
        return  # this episode's comment was sent already
    comment(session, task, _drift_comment(kind, name, str(entry.get("seen", "")), settings))
    session.add(
        Event(
            task_id=task.id,
            kind=DRIFT_KEY,
            actor="daemon",
            from_status=task.status,
            to_status=task.status,
            note=note,
            at=max(_aware(since), utcnow()),
        )
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def resolve_drift(
    sessions: async_sessionmaker[AsyncSession],
    client: NotionClient,
    settings: NotionSettings,
    *,
    metrics: Metrics | None = None,
) -> list[str]:
    """While drift is recorded: read both data sources again (2 requests) and clear
    what is back. Returns the properties found again. Does nothing (no request)
    without recorded drift."""
    async with sessions() as session:
        entries = await drift_entries(session)
    if not entries:
        return []
    report = await check_schema(client, settings)
    present = {
        "tasks": set(report.tasks_properties),
        "videos": set(report.videos_properties),
    }
    back = {
        key: entry for key, entry in entries.items() if entry["property"] in present[entry["kind"]]
    }
    if not back:
        return []
    async with sessions() as session, session.begin():
        state = await session.get(SyncState, DRIFT_KEY)
        current = dict((state.value if state else {}).get("missing", {}))
        for key in back:
            current.pop(key, None)
        if state is not None:
            state.value = {"missing": current}
        for entry in back.values():
            # The writes refused for this property go out again, in their order.
            await session.execute(
                update(OutboxItem)
                .where(
                    OutboxItem.dead.is_(True),
                    OutboxItem.sent_at.is_(None),
                    OutboxItem.last_error.contains(
                        f"{entry['property']} is not a property that exists"
                    ),
                )
                .values(dead=False, attempts=0, next_attempt_at=None)
                .execution_options(synchronize_session=False)
            )
        if any(entry["kind"] == "tasks" for entry in back.values()):
            # Pages edited while the property was missing were not interpreted, and
            # a schema change does not touch their edit times: read them all again.
            tasks_state = await session.get(SyncState, "tasks")
            if tasks_state is not None:
                tasks_state.cursor = None
        if metrics is not None:
            metrics.notion_schema_drift.set(len(current))
    names = [str(entry["property"]) for entry in back.values()]
    log.info("resolve_schema_drift", properties=names, still_missing=len(current))
    return names


def schema_readiness(
    sessions: async_sessionmaker[AsyncSession],
) -> Any:
    """A readiness check: not ready while a property reelgate needs is missing."""

    async def check() -> tuple[bool, dict[str, Any]]:
        async with sessions() as session:
            entries = await drift_entries(session)
        if not entries:
            return True, {"notion_schema": "ok"}
        missing = [
            f'{_LABEL[e["kind"]]} property "{e["property"]}" is missing' for e in entries.values()
        ]
        return False, {
            "notion_schema": "drift",
            "missing_properties": sorted(missing),
            "fix": "rename the property back, or map its new name "
            "(REELGATE_NOTION_PROPERTY_NAMES / REELGATE_NOTION_VIDEO_PROPERTY_NAMES); "
            "`reelgate check-notion` prints the exact fix",
        }

    return check
