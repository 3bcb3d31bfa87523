"""The board's own status labels: the mapping, installing it, and `[statuses]` in a file."""

from __future__ import annotations

import pytest

from orchestrator.channels import parse_channels
from orchestrator.errors import ConfigError
from orchestrator.state.labels import (
    StatusLabels,
    install_labels,
    render_labels,
    status_ref,
)
from orchestrator.state.status import (
    STAGES,
    TRANSITIONS,
    WAITING_ON_HUMAN,
    Status,
    notion_status_options,
)
from tests.fixtures.labels import InstallLabels


def test_installed_labels_drive_label_and_from_label(status_labels: InstallLabels) -> None:
    assert Status.VIDEO_READY.label == "Video Ready"
    status_labels({"video_ready": "Videos Ready", "keyframes_ready": "Assets Ready"})
    assert Status.VIDEO_READY.label == "Videos Ready"
    assert Status.from_label("  videos   READY ") is Status.VIDEO_READY
    assert Status.from_label("Assets Ready") is Status.KEYFRAMES_READY
    with pytest.raises(KeyError):
        Status.from_label("Video Ready")  # the old name is no longer a status
    assert Status.DONE.label == "Done"  # not renamed: the default
    # setup-notion's options follow, in pipeline order.
    assert [o[0] for o in notion_status_options()] == [s.label for s in Status]
    assert "Videos Ready" in render_labels(f"Set Status to {status_ref(Status.VIDEO_READY)}.")


def test_a_mapping_needs_distinct_labels() -> None:
    with pytest.raises(ValueError, match="is already the label of keyframes_ready"):
        StatusLabels.with_overrides({"keyframes_ready": "video ready"})
    with pytest.raises(ValueError, match="not a reelgate status"):
        StatusLabels.with_overrides({"videos_ready": "X"})
    swapped = StatusLabels.with_overrides(
        {"video_ready": "Keyframes Ready", "keyframes_ready": "Video Ready"}
    )
    assert swapped.parse("Video Ready") is Status.KEYFRAMES_READY


def test_install_none_means_the_defaults() -> None:
    install_labels(StatusLabels.with_overrides({"done": "Shipped"}))
    assert Status.DONE.label == "Shipped"
    install_labels(None)
    assert Status.DONE.label == "Done"


def test_render_labels_leaves_other_braces_alone() -> None:
    text = "Error Log said {status:nope} and {x}; set {status:queued}."
    assert render_labels(text) == "Error Log said {status:nope} and {x}; set Queued."


def test_statuses_waiting_on_a_human_are_the_gates_and_failed() -> None:
    assert set(WAITING_ON_HUMAN) == {s.ready for s in STAGES} | {Status.FAILED}
    for status in WAITING_ON_HUMAN:  # nothing the daemon does on its own moves them on
        moves = [t for (s, t), actors in TRANSITIONS.items() if s is status]
        assert all("human" in TRANSITIONS[(status, t)] for t in moves)


def test_statuses_table_in_a_channels_file() -> None:
    text = '[channels.shorts]\nbudget_usd = 5.0\n\n[statuses]\nvideo_ready = "Videos Ready"\n'
    channels = parse_channels(text, "c.toml")
    assert channels.status_labels.label(Status.VIDEO_READY) == "Videos Ready"
    assert channels.status_labels.overrides() == {"video_ready": "Videos Ready"}
    assert parse_channels("", "c.toml").status_labels == StatusLabels.default()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[statuses]\nvideo_redy = "Videos Ready"\n',
            'c.toml:2: statuses.video_redy: unknown key (did you mean "video_ready"?)',
        ),
        ("statuses = 1\n", "c.toml:1: statuses: must be a table"),
        ('[statuses]\n\ndone = ""\n', "c.toml:3: statuses.done: must be the label as a non-empty"),
        (
            '[statuses]\ndone = "Done, dusted"\n',
            "c.toml:2: statuses.done: Notion does not allow a comma in a status label",
        ),
        (
            '[statuses]\nkeyframes_ready = "Assets"\nvideo_ready = "assets"\n',
            'c.toml:3: statuses.video_ready: "assets" is already the label of keyframes_ready',
        ),
        (
            '[statuses]\nkeyframes_ready = "Video Ready"\n',
            'c.toml:2: statuses.keyframes_ready: "Video Ready" is already the label of '
            "video_ready: each status needs its own label (rename video_ready too",
        ),
    ],
)
def test_statuses_mistakes_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_channels(text, "c.toml")
    assert message in str(info.value)
