"""`reelgate explain-review`: text and JSON, from an argument or stdin, with a channel."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from orchestrator.cli import app

runner = CliRunner()


def test_json_from_stdin_has_one_object_per_line() -> None:
    text = "Bad motion: 5,12,17\n\nthe sky in 5 is off\nall clips: warmer\n"
    result = runner.invoke(app, ["explain-review", "--clips", "20", "--json", "-"], input=text)
    assert result.exit_code == 1  # one line would be refused
    rows = json.loads(result.stdout)
    assert [r["line"] for r in rows] == [
        "Bad motion: 5,12,17",
        "",
        "the sky in 5 is off",
        "all clips: warmer",
    ]
    assert {k: rows[0][k] for k in ("clips", "notes", "route", "problem")} == {
        "clips": [5, 12, 17],
        "notes": "Bad motion",
        "route": "regenerate",
        "problem": None,
    }
    assert rows[1]["route"] == "ignored"
    assert rows[2]["route"] is None
    assert rows[2]["problem"] == "no clip numbers found"
    assert rows[3]["clips"] == "all"


def test_all_lines_readable_exits_zero() -> None:
    result = runner.invoke(app, ["explain-review", "--clips", "6", "narrative: shot 3"])
    assert result.exit_code == 0, result.output
    assert "shot 3 → re-plan storyboard, then keyframe 3 and clips 2–3" in result.stdout


def test_a_channel_brings_its_own_words(tmp_path: Path) -> None:
    channels = tmp_path / "channels.toml"
    channels.write_text('[channels.shorts.review_labels]\naudio = ["lip sync"]\n', encoding="utf-8")
    env = {"REELGATE_CHANNELS_FILE": str(channels)}
    args = ["explain-review", "--clips", "6", "--json", "lip sync: clip 2"]
    plain = json.loads(runner.invoke(app, args, env=env).stdout)
    shorts = json.loads(runner.invoke(app, [*args, "--channel", "shorts"], env=env).stdout)
    assert plain[0]["route"] == "regenerate"
    assert shorts[0]["route"] == "narration"
    missing = runner.invoke(app, [*args, "--channel", "nope"], env=env)
    assert missing.exit_code == 2
    assert "no channel 'nope'" in missing.output


def test_a_bad_stage_is_named() -> None:
    result = runner.invoke(app, ["explain-review", "--clips", "6", "--stage", "sound", "1"])
    assert result.exit_code == 2
    assert "--stage must be one of storyboard, keyframes, video, audio, final" in result.output
