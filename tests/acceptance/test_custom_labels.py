"""The demo scenario on a board with its own status labels (the channels file's `[statuses]`).

Every status has another name. setup-notion creates those options only, so a single
default label written by the daemon would be refused by Notion and stall the task;
the scripted reviewer acts only on the board's labels. Reaching the last label is the
proof; the comments are checked for the old names too.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from notion_sync.local_api.server import LocalNotionServer
from orchestrator.channels import parse_channels
from orchestrator.channels.load import EMBEDDED_FILE
from orchestrator.demo import default_script, run_demo
from orchestrator.state.status import Status, default_label
from tests.acceptance.test_demo_scenario import fast_loops
from tests.fixtures.labels import InstallLabels
from tests.helpers.notion_inspect import comments_of, data_source_id

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(300)]

LABELS = {
    "draft": "Idea",
    "queued": "Ready to Go",
    "planning": "Writing",
    "storyboard_ready": "Script Review",
    "storyboard_approved": "Script OK",
    "storyboard_error": "Script Changes",
    "generating_keyframes": "Drawing",
    "keyframes_ready": "Assets Ready",
    "keyframes_approved": "Assets OK",
    "keyframes_error": "Assets Changes",
    "generating_video": "Filming",
    "video_ready": "Videos Ready",
    "video_approved": "Videos OK",
    "video_error": "Videos Changes",
    "generating_audio": "Recording",
    "audio_ready": "Voice Review",
    "audio_approved": "Voice OK",
    "audio_error": "Voice Changes",
    "assembling": "Editing",
    "final_ready": "Cut Review",
    "done": "Published",
    "final_error": "Cut Changes",
    "failed": "Stuck",
    "cancelled": "Dropped",
}


def channels_file() -> str:
    """The embedded channels file (it has the demo channel) plus a [statuses] table."""
    text = resources.files("orchestrator.channels").joinpath(EMBEDDED_FILE).read_text("utf-8")
    table = "\n".join(f'{key} = "{label}"' for key, label in LABELS.items())
    return f"{text}\n[statuses]\n{table}\n"


async def test_demo_runs_end_to_end_on_the_boards_own_labels(
    tmp_path: Path, local_notion: LocalNotionServer, status_labels: InstallLabels
) -> None:
    assert set(LABELS) == {s.value for s in Status}
    local_notion.knobs.disable_rate_limit()
    channels = parse_channels(channels_file(), "channels.toml")

    status_labels(LABELS)  # to write the reviewer's script in them (run_demo does too)
    script = default_script()
    script[("Videos Ready", 1)] = ("Regenerate: clip 2 - too dark", "Videos Changes")

    summary = await run_demo(
        tmp_path / "demo",
        clips=2,
        script=script,
        seconds=4,
        server=local_notion,
        channels=channels,
        configure=fast_loops,
        review_interval_s=0.3,
    )

    assert summary.final_status == "Published"
    assert summary.timeline[:3] == ["Ready to Go", "Writing", "Script Review"]
    assert "Videos Changes" in summary.timeline
    assert summary.timeline[-1] == "Published"
    assert summary.reviewer_actions[0] == "Script Review -> Script OK"
    assert [c["attempts"] for c in summary.clips] == [1, 2]

    # The board holds the mapped labels only, in pipeline order.
    ds = local_notion.state.data_sources[data_source_id(local_notion, "Tasks")]
    (status,) = [p for p in ds["props"].values() if p["name"] == "Status"]
    assert [o["name"] for o in status["config"]["options"]] == list(LABELS.values())

    # What people read names the board's labels, never reelgate's defaults.
    comments = "\n".join(comments_of(local_notion, summary.task_page_id))
    assert "Set Status to Script OK" in comments
    assert "Set Status to Videos OK, or to Videos Changes" in comments
    for status in Status:
        if " " in default_label(status):  # two-word names cannot be ordinary prose
            assert default_label(status) not in comments, default_label(status)
