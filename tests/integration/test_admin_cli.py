"""The admin commands against a database with a history, on SQLite and PostgreSQL.

`status TASK`, `retry`, `cancel`, `resume` and `dead-letters`, run through the CLI
as an admin types them; every refusal is checked for naming the allowed moves.
The same commands against a running daemon and Notion: test_admin_daemon.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from notion_sync.ops import op_adapter
from orchestrator.cli import app
from orchestrator.db import Event, OutboxItem, Task
from orchestrator.state.claims import WOKEN
from tests.helpers.admin_seed import (
    OPERATION,
    PAGE_ID,
    PAGE_URL,
    Seeded,
    rows,
    seed_story,
    set_task,
)

runner = CliRunner()


def _run(url: str, *args: str) -> Result:
    return runner.invoke(app, list(args), env={"REELGATE_DATABASE_URL": url, "COLUMNS": "160"})


def _task(url: str, task_id: int) -> Task:
    (task,) = rows(url, Task, id=task_id)
    return task


def _outbox(url: str, task_id: int) -> list[tuple[str, dict[str, Any], bool, bool]]:
    """(kind, op, sent, dead) of every outbox row of the task, oldest first.

    A Status write's `changed_at` (the transition's time, for Status Changed) is left
    out: it differs on every run."""
    return [
        (
            item.kind,
            {k: v for k, v in item.op.items() if k != "changed_at"},
            item.sent_at is not None,
            item.dead,
        )
        for item in rows(url, OutboxItem, task_id=task_id)
    ]


# -- status TASK --------------------------------------------------------------------------


def test_status_of_one_task_tells_its_whole_story_as_json(db_url: str) -> None:
    seeded = seed_story(db_url)
    result = _run(db_url, "status", str(seeded.task_id), "--json")
    assert result.exit_code == 0, result.output
    story = json.loads(result.stdout)
    assert list(story) == [
        "task",
        "clips",
        "keyframes",
        "costs",
        "review",
        "notion_writes",
        "timeline",
    ]
    task = story["task"]
    assert (task["id"], task["page_id"], task["status"]) == (
        seeded.task_id,
        PAGE_ID,
        "Generating Video",
    )
    assert task["stuck"] is True
    assert task["stuck_after_minutes"] == 90

    clips = {c["number"]: c for c in story["clips"]}
    assert clips[1]["operation_name"] == OPERATION.format(12)
    assert clips[1]["storage_key"] == "default/lighthouse-1a2b3c4d/clips/clip_01_a2.mp4"
    assert clips[1]["attempt"] == 2
    # Both paid operations of clip 1: the filtered first attempt ($0), then the good one.
    assert [(c["operation_name"], c["usd"]) for c in clips[1]["charges"]] == [
        (OPERATION.format(11), 0.0),
        (OPERATION.format(12), 3.2),
    ]
    assert clips[2]["status"] == "polling"
    assert clips[3]["error"] == "INVALID_ARGUMENT: image too small"

    assert story["costs"]["by_kind"]["keyframe"] == {"calls": 5, "usd": 0.2}
    review = story["review"]
    assert [v["verdict"] for v in review["verdicts"]][:2] == [
        "Storyboard Error",
        "Done (refused, set back)",
    ]
    assert review["lines_acted_on"][0]["line"] == "Regenerate: shot 2 - more suspense"

    writes = story["notion_writes"]
    assert [w["id"] for w in writes["pending"]] == [seeded.pending_id]
    assert [w["id"] for w in writes["dead_letters"]] == [
        seeded.dead_status_id,
        seeded.dead_fields_id,
    ]
    assert "archived" in writes["dead_letters"][0]["error"]

    timeline = story["timeline"]
    moves = [e for e in timeline["events"] if e["kind"] == "transition"]
    assert (moves[1]["from"], moves[1]["to"]) == ("Draft", "Queued")
    assert moves[1]["seconds_in_status"] == 60.0  # Queued from 06:32 to 06:33
    assert timeline["seconds_by_status"]["Storyboard Ready"] == 54 * 60.0
    assert timeline["seconds_by_status"]["Generating Video"] >= 100 * 60.0


@pytest.mark.parametrize(
    "ref",
    [PAGE_ID, PAGE_ID.replace("-", ""), PAGE_ID.upper(), PAGE_URL, "notion.so/x/" + PAGE_ID],
    ids=["page-id", "no-dashes", "upper", "url", "bare-url"],
)
def test_status_finds_the_task_by_page_id_or_url(sqlite_url: str, ref: str) -> None:
    seeded = seed_story(sqlite_url)
    result = _run(sqlite_url, "status", ref, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["task"]["id"] == seeded.task_id


def test_status_renders_every_section_for_people(db_url: str) -> None:
    seeded = seed_story(db_url)
    result = _run(db_url, "status", PAGE_URL)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for expected in (
        "Task 1: Lighthouse",
        "Generating Video for 1 h 40 min",
        "STUCK",
        "…/operations/op-12",
        "clip_01_a2.mp4",
        "Review history",
        "Regenerate: shot 2 - more suspense",
        "Notion writes waiting",
        "Dead-lettered Notion writes",
        "Can't edit block that is archived",
        "Timeline",
        "Time by status",
    ):
        assert expected in out, expected
    assert str(seeded.dead_fields_id) in out


def test_status_of_an_unknown_task_says_what_it_accepts(db_url: str) -> None:
    seed_story(db_url)
    for ref in ("999", "ffffffffffffffffffffffffffffffff", "no-such-thing"):
        result = _run(db_url, "status", ref)
        assert result.exit_code == 1, result.output
        assert f"no task matches '{ref}'" in result.output
        assert "task id, a Notion page id or the page's URL" in result.output


def test_status_list_flags_stuck_tasks_and_dead_letters(db_url: str) -> None:
    seed_story(db_url)
    rows_json = json.loads(_run(db_url, "status", "--json").stdout)
    assert rows_json[0]["stuck"] is True
    assert rows_json[0]["dead_letters"] == 2
    table = _run(db_url, "status").stdout
    assert "STUCK" in table
    assert "1 stuck task(s)" in table
    assert "2 Notion write(s) failed for good" in table


def test_a_task_under_its_stuck_after_is_not_flagged(sqlite_url: str) -> None:
    seeded = seed_story(sqlite_url, minutes_in_status=30)
    assert json.loads(_run(sqlite_url, "status", "--json").stdout)[0]["stuck"] is False
    story = json.loads(_run(sqlite_url, "status", str(seeded.task_id), "--json").stdout)
    assert story["task"]["stuck"] is False


# -- cancel / resume ------------------------------------------------------------------------


def test_cancel_then_resume_go_through_the_guarded_moves_with_audit_and_notion_writes(
    db_url: str,
) -> None:
    seeded = seed_story(db_url)
    cancelled = _run(db_url, "cancel", PAGE_ID)
    assert cancelled.exit_code == 0, cancelled.output
    assert "Generating Video -> Cancelled" in cancelled.stdout
    task = _task(db_url, seeded.task_id)
    assert task.status == "cancelled"
    # Where Cancelled -> Queued picks up again.
    assert task.resume_status == "generating_video"
    event = rows(db_url, Event, task_id=seeded.task_id)[-1]
    assert (event.kind, event.actor, event.from_status, event.to_status) == (
        "transition",
        "human",
        "generating_video",
        "cancelled",
    )
    assert event.note.startswith("reelgate cancel by ")
    # Notion is told through the outbox: the Status, and a comment to the owner.
    new_writes = [w for w in _outbox(db_url, seeded.task_id) if not w[2] and not w[3]]
    assert (
        "set_task_status",
        {"kind": "set_task_status", "page_id": PAGE_ID, "status_label": "Cancelled"},
        False,
        False,
    ) in new_writes
    comments = [op for kind, op, _, _ in new_writes if kind == "comment"]
    assert any("An admin cancelled this task" in c["text"] for c in comments)
    assert all(c["mention_user_ids"] == ["user-cory"] for c in comments if "admin" in c["text"])

    resumed = _run(db_url, "resume", str(seeded.task_id))
    assert resumed.exit_code == 0, resumed.output
    assert "Cancelled -> Queued" in resumed.stdout
    assert "resumes at Generating Video, reusing everything already made" in resumed.stdout
    task = _task(db_url, seeded.task_id)
    assert (task.status, task.resume_status, task.not_before) == (
        "queued",
        "generating_video",
        WOKEN,  # "look now": a step running at that moment can't overwrite it
    )
    labels = [
        op["status_label"]
        for kind, op, sent, dead in _outbox(db_url, seeded.task_id)
        if kind == "set_task_status" and not sent and not dead
    ]
    # The Cancelled write was never sent: the newer human move supersedes it.
    assert labels == ["Queued"]


def test_cancel_supersedes_unsent_daemon_status_writes(sqlite_url: str) -> None:
    seeded = seed_story(sqlite_url, status="video_ready")
    import asyncio

    from orchestrator.db import create_engine, session_factory

    async def queue_status_write() -> None:
        engine = create_engine(sqlite_url)
        async with session_factory(engine)() as session, session.begin():
            session.add(
                OutboxItem(
                    task_id=seeded.task_id,
                    page_id=PAGE_ID,
                    kind="set_task_status",
                    op={
                        "kind": "set_task_status",
                        "page_id": PAGE_ID,
                        "status_label": "Video Ready",
                    },
                )
            )
        await engine.dispose()

    asyncio.run(queue_status_write())
    assert _run(sqlite_url, "cancel", PAGE_ID).exit_code == 0
    unsent = [
        op["status_label"]
        for kind, op, sent, dead in _outbox(sqlite_url, seeded.task_id)
        if kind == "set_task_status" and not sent and not dead
    ]
    assert unsent == ["Cancelled"]


# One seeded task per database: a test may check several commands' refusals on it.
_SEEDED: dict[str, Seeded] = {}

CANCEL_REFUSALS = [
    ("done", "task 1 is Done. From Done nothing can change it: the task is finished."),
    (
        "cancelled",
        "task 1 is already Cancelled. From Cancelled you can choose: Queued (`reelgate resume`).",
    ),
]


def _refusals(
    url: str, command: tuple[str, ...], cases: list[tuple[str, str]], **task_values: Any
) -> None:
    """Each (status, message): the command is refused with the message, changing nothing."""
    seeded = _SEEDED.get(url) or _SEEDED.setdefault(url, seed_story(url))
    for status, expected in cases:
        set_task(url, seeded.task_id, status=status, **task_values)
        before = (_outbox(url, seeded.task_id), len(rows(url, Event, task_id=seeded.task_id)))
        result = _run(url, command[0], PAGE_ID, *command[1:])
        assert result.exit_code == 1, (status, result.output)
        assert expected in " ".join(result.output.split()), status
        task = _task(url, seeded.task_id)
        assert task.status == status
        after = (_outbox(url, seeded.task_id), len(rows(url, Event, task_id=seeded.task_id)))
        assert after == before  # nothing queued for Notion, no event


def test_cancel_refusals_name_the_allowed_moves(db_url: str) -> None:
    _refusals(db_url, ("cancel",), CANCEL_REFUSALS)


RESUME_REFUSALS = [
    (
        "video_ready",
        "task 1 is Video Ready, not Cancelled: there is nothing to resume. From Video "
        "Ready you can choose: Storyboard Error (in Notion), Keyframes Error (in Notion), "
        "Video Approved (in Notion), Video Error (in Notion), Cancelled (`reelgate cancel`).",
    ),
    (
        "failed",
        "task 1 is Failed, not Cancelled: there is nothing to resume; a failed task is "
        "retried with `reelgate retry`. From Failed you can choose: Queued (`reelgate "
        "retry`), Cancelled (`reelgate cancel`).",
    ),
    (
        "generating_video",
        "From Generating Video you can choose: Cancelled (`reelgate cancel`), have a "
        "worker look at it now (`reelgate retry`).",
    ),
]


def test_resume_refusals_name_the_allowed_moves(db_url: str) -> None:
    _refusals(db_url, ("resume",), RESUME_REFUSALS)


# -- retry ------------------------------------------------------------------------------------


def test_retry_a_failed_task_queues_it_from_its_last_good_stage(db_url: str) -> None:
    seeded = seed_story(db_url, status="failed")
    set_task(db_url, seeded.task_id, resume_status="generating_video", error="Veo said no")
    result = _run(db_url, "retry", PAGE_ID)
    assert result.exit_code == 0, result.output
    assert "Failed -> Queued; it resumes at Generating Video" in result.stdout
    task = _task(db_url, seeded.task_id)
    assert (task.status, task.resume_status) == ("queued", "generating_video")
    event = rows(db_url, Event, task_id=seeded.task_id)[-1]
    assert (event.actor, event.from_status, event.to_status) == ("human", "failed", "queued")
    assert "reelgate retry by" in event.note
    unsent = [
        op for kind, op, sent, dead in _outbox(db_url, seeded.task_id) if not sent and not dead
    ]
    assert {"kind": "set_task_status", "page_id": PAGE_ID, "status_label": "Queued"} in unsent


def test_retry_with_an_earlier_stage_goes_back_to_it(db_url: str) -> None:
    seeded = seed_story(db_url, status="failed")
    set_task(db_url, seeded.task_id, resume_status="generating_video")
    result = _run(db_url, "retry", PAGE_ID, "--stage", "keyframes")
    assert result.exit_code == 0, result.output
    assert "resumes at Generating Keyframes" in result.stdout
    assert _task(db_url, seeded.task_id).resume_status == "generating_keyframes"


def test_retry_stage_refusals(db_url: str) -> None:
    _refusals(
        db_url,
        ("retry", "--stage", "audio"),
        [
            (
                "failed",
                "task 1 failed in video: --stage may go back, not ahead (choose one of "
                "storyboard, keyframes, video)",
            )
        ],
        resume_status="generating_video",
    )
    _refusals(
        db_url,
        ("retry", "--stage", "sound"),
        [
            (
                "failed",
                "--stage must be one of storyboard, keyframes, video, audio, final (got 'sound')",
            )
        ],
        resume_status="generating_video",
    )


def test_retry_stage_refused_for_a_task_that_never_started(sqlite_url: str) -> None:
    _refusals(
        sqlite_url,
        ("retry", "--stage", "storyboard"),
        [
            (
                "failed",
                "task 1 failed before it started, so it has no stage to go back to: retry it "
                "without --stage",
            )
        ],
        resume_status=None,
    )


def test_retry_refuses_a_task_that_failed_on_its_page_values(db_url: str) -> None:
    seeded = seed_story(db_url, status="failed")
    set_task(
        db_url,
        seeded.task_id,
        resume_status=None,
        clip_seconds=5,
        error="Not started: Clip Seconds must be 4, 6 or 8 (it is 5).",
    )
    result = _run(db_url, "retry", PAGE_ID)
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "failed before it started: Not started: Clip Seconds must be 4, 6 or 8" in message
    assert "set Status to Queued in Notion" in message
    assert _task(db_url, seeded.task_id).status == "failed"


def test_retry_wakes_a_task_waiting_on_a_back_off(db_url: str) -> None:
    from datetime import timedelta

    from orchestrator.db import utcnow

    seeded = seed_story(db_url)
    set_task(db_url, seeded.task_id, not_before=utcnow() + timedelta(minutes=20))
    result = _run(db_url, "retry", str(seeded.task_id))
    assert result.exit_code == 0, result.output
    assert "Generating Video; a worker picks it up now." in result.stdout
    task = _task(db_url, seeded.task_id)
    assert (task.status, task.not_before) == ("generating_video", WOKEN)
    event = rows(db_url, Event, task_id=seeded.task_id)[-1]
    assert (event.kind, event.actor, event.from_status) == ("retry", "human", "generating_video")
    assert "it was waiting until" in event.note


RETRY_REFUSALS = [
    (
        "storyboard_ready",
        "task 1 is Storyboard Ready: retry does not apply. From Storyboard Ready you can "
        "choose: Storyboard Approved (in Notion), Storyboard Error (in Notion), "
        "Cancelled (`reelgate cancel`).",
    ),
    (
        "cancelled",
        "task 1 is Cancelled: `reelgate resume` queues it again. From Cancelled you can "
        "choose: Queued (`reelgate resume`).",
    ),
    ("done", "From Done nothing can change it: the task is finished."),
    (
        "draft",
        "task 1 is Draft: retry does not apply. From Draft you can choose: Queued (in "
        "Notion), Cancelled (`reelgate cancel`).",
    ),
]


def test_retry_refusals_name_the_allowed_moves(db_url: str) -> None:
    _refusals(db_url, ("retry",), RETRY_REFUSALS)
    _refusals(
        db_url,
        ("retry", "--stage", "storyboard"),
        [("generating_video", "--stage applies to a Failed task; task 1 is Generating Video.")],
    )


def test_actions_on_an_unknown_task_fail_without_writing(db_url: str) -> None:
    seed_story(db_url)
    for command in ("retry", "cancel", "resume"):
        result = _run(db_url, command, "4242")
        assert result.exit_code == 1
        assert "no task matches '4242'" in result.output


def test_actions_on_an_unreachable_database_say_so_in_one_line() -> None:
    url = "postgresql+asyncpg://u:s3cretpass@127.0.0.1:1/nope"
    for args in (
        ("retry", "1"),
        ("cancel", "1"),
        ("resume", "1"),
        ("dead-letters",),
        ("status", "1"),
    ):
        result = _run(url, *args)
        assert result.exit_code == 2, args
        assert "cannot use the database" in result.output
        assert "s3cretpass" not in result.output
        assert "Traceback" not in result.output


# -- dead letters ---------------------------------------------------------------------------


def test_dead_letters_lists_each_with_its_error(db_url: str) -> None:
    seeded = seed_story(db_url)
    listed = json.loads(_run(db_url, "dead-letters", "--json").stdout)
    assert [(r["id"], r["kind"], r["summary"]) for r in listed] == [
        (seeded.dead_status_id, "set_task_status", "Status -> Keyframes Ready"),
        (seeded.dead_fields_id, "update_task", "set progress='0/3 clips', estimated_cost=9.9"),
    ]
    assert listed[1]["error"] == "503 service_unavailable (8 tries)"
    table = _run(db_url, "dead-letters").stdout
    assert "Dead-lettered Notion writes (2)" in table
    assert "reelgate dead-letters --replay ID" in table


def test_replaying_a_dead_status_write_sends_the_current_status(db_url: str) -> None:
    seeded = seed_story(db_url)
    result = _run(db_url, "dead-letters", "--replay", str(seeded.dead_status_id))
    assert result.exit_code == 0, result.output
    assert "Status -> Keyframes Ready (now: Status -> Generating Video): queued again" in (
        result.stdout
    )
    (item,) = rows(db_url, OutboxItem, id=seeded.dead_status_id)
    assert (item.dead, item.sent_at, item.attempts, item.next_attempt_at) == (False, None, 0, None)
    assert item.op["status_label"] == "Generating Video"  # never back to an old status
    assert "was: 400 validation_error" in (item.last_error or "")
    event = rows(db_url, Event, task_id=seeded.task_id)[-1]
    assert event.kind == "dead_letter_replay"
    assert f"outbox #{seeded.dead_status_id}" in event.note


def test_replaying_keeps_only_the_fields_nobody_wrote_since(db_url: str) -> None:
    seeded = seed_story(db_url)
    # The sent row #sent rewrote `progress` after the dead one; `estimated_cost` is still owed.
    result = _run(db_url, "dead-letters", "--replay", str(seeded.dead_fields_id))
    assert result.exit_code == 0, result.output
    assert "(now: set estimated_cost=9.9)" in result.stdout
    (item,) = rows(db_url, OutboxItem, id=seeded.dead_fields_id)
    op = op_adapter.validate_python(item.op)
    assert op.model_dump()["fields"] == {"estimated_cost": 9.9}


def test_replay_all_then_nothing_is_left(db_url: str) -> None:
    seeded = seed_story(db_url)
    result = _run(db_url, "dead-letters", "--all")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("queued again") == 2
    assert json.loads(_run(db_url, "dead-letters", "--json").stdout) == []
    kinds = [e.kind for e in rows(db_url, Event, task_id=seeded.task_id)]
    assert kinds.count("dead_letter_replay") == 2
    again = _run(db_url, "dead-letters", "--all")
    assert again.exit_code == 1
    assert "there are no dead letters to replay" in again.output


def test_drop_settles_a_dead_letter_for_good_with_an_audit_event(db_url: str) -> None:
    seeded = seed_story(db_url)
    result = _run(db_url, "dead-letters", "--drop", str(seeded.dead_status_id))
    assert result.exit_code == 0, result.output
    assert "dropped; it will not be sent" in result.stdout
    (item,) = rows(db_url, OutboxItem, id=seeded.dead_status_id)
    assert item.sent_at is not None
    assert (item.last_error or "").startswith("dropped by ")
    remaining = json.loads(_run(db_url, "dead-letters", "--json").stdout)
    assert [r["id"] for r in remaining] == [seeded.dead_fields_id]
    event = rows(db_url, Event, task_id=seeded.task_id)[-1]
    assert event.kind == "dead_letter_drop"


@pytest.mark.parametrize("flag", ["--replay", "--drop"])
def test_dead_letter_refusals_list_the_current_dead_letters(db_url: str, flag: str) -> None:
    seeded = seed_story(db_url)
    listed = f"Dead letters now: #{seeded.dead_status_id}, #{seeded.dead_fields_id}."
    for item_id, state in (
        (seeded.pending_id, "not dead-lettered (it is still queued)"),
        (seeded.sent_id, "already settled"),
        (9999, "no such outbox row"),
    ):
        result = _run(db_url, "dead-letters", flag, str(item_id))
        assert result.exit_code == 1, result.output
        message = " ".join(result.output.split())
        assert f"#{item_id} is {state}. {listed}" in message
    events = [e.kind for e in rows(db_url, Event, task_id=seeded.task_id)]
    assert not any(k.startswith("dead_letter") for k in events)


def test_dead_letter_options_are_exclusive(sqlite_url: str) -> None:
    seed_story(sqlite_url)
    result = _run(sqlite_url, "dead-letters", "--replay", "1", "--drop", "2")
    assert result.exit_code == 2
    assert "choose one of --replay ID, --all or --drop ID" in result.output


# -- logs -----------------------------------------------------------------------------------


def test_logs_finds_a_tasks_lines_by_id_page_or_url(db_url: str, tmp_path: Path) -> None:
    seeded = seed_story(db_url)
    log = tmp_path / "reelgate.log"
    entries = [
        {
            "timestamp": "2026-12-01T09:00:00.5Z",
            "level": "info",
            "event": "transition_task",
            "task": seeded.task_id,
            "page": PAGE_ID,
            "from_status": "Queued",
            "to_status": "Planning",
            "actor": "daemon",
        },
        {
            "timestamp": "2026-12-01T09:00:01.5Z",
            "level": "info",
            "event": "submit_clip",
            "task": seeded.task_id + 1,
            "page": "ffffffff-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        },
        {
            "timestamp": "2026-12-01T09:00:02.5Z",
            "level": "warning",
            "event": "send_notion_op_later",
            "page": PAGE_ID,
            "error": "429",
        },
    ]
    (tmp_path / "reelgate.log.1").write_text(json.dumps(entries[0]) + "\n")
    log.write_text("".join(json.dumps(e) + "\n" for e in entries[1:]))
    env = {"REELGATE_DATABASE_URL": db_url, "REELGATE_LOG_FILE": str(log)}
    for ref in (str(seeded.task_id), PAGE_ID, PAGE_URL):
        result = runner.invoke(app, ["logs", ref], env=env)
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines() == [
            "2026-12-01T09:00:00Z  info     transition_task  from_status=Queued "
            "to_status=Planning actor=daemon",
            "2026-12-01T09:00:02Z  warning  send_notion_op_later  error=429",
        ]
    unknown = runner.invoke(app, ["logs", "4242"], env=env)
    assert unknown.exit_code == 1
    assert "no task matches '4242'" in unknown.output
    quiet = runner.invoke(app, ["logs", str(seeded.task_id), "--level", "error"], env=env)
    assert quiet.exit_code == 0
    assert quiet.stdout == ""
    assert "no log lines about task" in quiet.stderr
