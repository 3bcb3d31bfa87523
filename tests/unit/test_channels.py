"""Channels file: loading, inheritance, fallback, and errors that name the line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.channels import (
    DEFAULT_CHANNEL,
    STAGE_NAMES,
    ChannelConfig,
    Channels,
    ExportFormat,
    VideoDefaults,
    load_channels,
    parse_channels,
)
from orchestrator.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "channels.toml"
    path.write_text(text, encoding="utf-8")
    return path


# --- the shipped files --------------------------------------------------------------


def test_embedded_default_file() -> None:
    channels = load_channels(None)
    default = channels.get(DEFAULT_CHANNEL)
    assert default.name == "default"
    assert default.provider == "local"
    demo = channels.get("demo")
    assert demo.name == "demo"
    assert demo.provider == "local"
    assert demo.auto_approve == frozenset()
    assert not any(demo.auto_approves(stage) for stage in STAGE_NAMES)


def test_example_file_loads() -> None:
    channels = load_channels(REPO / "channels.example.toml")
    shorts = channels.get("shorts")
    assert shorts.provider == "google"
    assert shorts.defaults == VideoDefaults(clip_count=5, clip_seconds=6, aspect_ratio="9:16")
    assert shorts.exports == (
        ExportFormat(format="mp4", height=1080),
        ExportFormat(format="webm", height=720),
    )
    assert channels.get("drafts").provider == "local"


# --- inheritance and defaults -------------------------------------------------------


def test_field_defaults() -> None:
    config = ChannelConfig(name="x")
    assert config.provider == "local"
    assert config.defaults == VideoDefaults(clip_count=6, clip_seconds=8, aspect_ratio="16:9")
    assert config.auto_approve == frozenset()
    assert config.budget_usd is None
    assert config.max_review_rounds == 3
    assert config.storage is None
    assert config.exports == (ExportFormat(format="mp4", height=1080),)
    assert config.models.video is None


def test_channels_inherit_defaults_key_by_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[defaults]
provider = "google"
budget_usd = 20
voice = "Kore"
auto_approve = ["storyboard"]
models = { video = "veo-a", tts = "tts-a" }
exports = [{ format = "mp4", height = 720 }]

[defaults.defaults]
clip_count = 4
aspect_ratio = "9:16"

[channels.shorts]
budget_usd = 5.5
auto_approve = ["keyframes", "video"]
models.video = "veo-b"

[channels.shorts.defaults]
clip_seconds = 6

[channels.plain]
""",
    )
    channels = load_channels(path)
    shorts = channels.get("shorts")
    assert shorts.provider == "google"
    assert shorts.voice == "Kore"
    assert shorts.budget_usd == 5.5
    # Arrays replace, tables merge.
    assert shorts.auto_approve == {"keyframes", "video"}
    assert shorts.models.video == "veo-b"
    assert shorts.models.tts == "tts-a"
    assert shorts.defaults == VideoDefaults(clip_count=4, clip_seconds=6, aspect_ratio="9:16")
    assert shorts.exports == (ExportFormat(format="mp4", height=720),)

    plain = channels.get("plain")
    assert plain.budget_usd == 20.0
    assert plain.auto_approve == {"storyboard"}
    assert plain.defaults.clip_seconds == 8

    # No [channels.default]: the built-in one is [defaults] alone.
    default = channels.get("default")
    assert default.name == "default"
    assert default.provider == "google"
    assert default.defaults.clip_count == 4


def test_fallback_to_default(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[channels.default]
voice = "fallback"
[channels.Shorts]
voice = "shorts"
""",
    )
    channels = load_channels(path)
    assert channels.get(None).voice == "fallback"
    assert channels.get("").voice == "fallback"
    assert channels.get("   ").voice == "fallback"
    assert channels.get("unknown channel").voice == "fallback"
    assert channels.get("unknown channel").name == "default"
    assert channels.get("Shorts").voice == "shorts"
    # Notion select values are typed by people: case does not matter.
    assert channels.get("shorts").voice == "shorts"
    assert channels.get(" SHORTS ").voice == "shorts"
    assert "shorts" in channels
    assert "nope" not in channels
    assert set(channels.names) == {"default", "Shorts"}
    assert len(channels) == 2
    assert {c.name for c in channels} == {"default", "Shorts"}


def test_empty_file_has_the_builtin_default(tmp_path: Path) -> None:
    channels = load_channels(_write(tmp_path, ""))
    assert channels.names == ("default",)
    assert channels.get("anything") == ChannelConfig(name="default")


def test_channels_requires_default() -> None:
    with pytest.raises(ValueError):
        Channels({"x": ChannelConfig(name="x")}, "test")


def test_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "channels.toml"
    path.write_bytes(b'\xef\xbb\xbf[channels.a]\nvoice = "x"\n')
    assert load_channels(path).get("a").voice == "x"


def test_auto_approves() -> None:
    config = ChannelConfig(name="x", auto_approve=frozenset({"storyboard", "keyframes"}))
    assert config.auto_approves("storyboard")
    assert not config.auto_approves("video")


def test_config_is_immutable() -> None:
    config = ChannelConfig(name="x")
    with pytest.raises(ValueError):
        config.voice = "y"  # type: ignore[misc]


# --- errors name the file, the line and the key ---------------------------------------


def _error(tmp_path: Path, text: str) -> str:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_channels(path)
    message = str(info.value)
    prefix = f"{path}:"
    assert all(line.startswith(prefix) for line in message.splitlines()), message
    return "\n".join(line.removeprefix(prefix) for line in message.splitlines())


SHORTS_BAD_SECONDS = """\
[defaults]
provider = "local"

[defaults.defaults]
clip_count = 6

[channels.default]

[channels.shorts]
budget_usd = 10

[channels.shorts.defaults]
clip_count = 5
clip_seconds = 5
aspect_ratio = "9:16"
"""


def test_error_example_from_the_design(tmp_path: Path) -> None:
    assert _error(tmp_path, SHORTS_BAD_SECONDS) == (
        "14: channels.shorts.defaults.clip_seconds: must be one of 4, 6, 8 (got 5)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Unknown keys, at every level, with a suggestion when one is close.
        (
            "\n\ncolour = 1\n",
            "3: colour: unknown key (expected one of: defaults, channels, statuses)",
        ),
        (
            '[defaults]\n\nprovder = "local"\n',
            '3: defaults.provder: unknown key (did you mean "provider"?)',
        ),
        (
            "[channels.a]\nvoice = 'x'\n[channels.a.models]\nvidoe = 'veo'\n",
            '4: channels.a.models.vidoe: unknown key (did you mean "video"?)',
        ),
        (
            "[channels.a]\nclip_count = 3\n",
            "2: channels.a.clip_count: unknown key here "
            '(clip_count goes in the "defaults" table: defaults.clip_count)',
        ),
        (
            "[channels.a]\nname = 'b'\n",
            "2: channels.a.name: unknown key (the table name is the channel name)",
        ),
        # Wrong values and types.
        (
            "[channels.a]\nprovider = 'openai'\n",
            '2: channels.a.provider: must be one of "local", "google" (got "openai")',
        ),
        (
            "[channels.a]\n\n\nbudget_usd = 0\n",
            "4: channels.a.budget_usd: must be greater than 0 (got 0)",
        ),
        (
            "[channels.a]\nbudget_usd = true\n",
            "2: channels.a.budget_usd: must be a number (got true)",
        ),
        (
            "[channels.a]\nbudget_usd = inf\n",
            "2: channels.a.budget_usd: must be a finite number (got inf)",
        ),
        (
            "[channels.a]\nmax_review_rounds = '3'\n",
            '2: channels.a.max_review_rounds: must be an integer (got "3")',
        ),
        (
            "[channels.a]\nmax_review_rounds = 0\n",
            "2: channels.a.max_review_rounds: must be at least 1 (got 0)",
        ),
        (
            "[channels.a]\nstorage = 's3'\n",
            '2: channels.a.storage: must be one of "local", "r2", "notion" (got "s3")',
        ),
        (
            "[channels.a]\nvoice = 5\n",
            "2: channels.a.voice: must be a string (got 5)",
        ),
        (
            "[channels.a.defaults]\nclip_count = 61\n",
            "2: channels.a.defaults.clip_count: must be at most 60 (got 61)",
        ),
        (
            "[channels.a.defaults]\naspect_ratio = '4:3'\n",
            '2: channels.a.defaults.aspect_ratio: must be one of "16:9", "9:16" (got "4:3")',
        ),
        (
            "[channels.a]\ndefaults = 6\n",
            "2: channels.a.defaults: must be a table (got 6)",
        ),
        (
            "[channels.a]\nrai_rephrase_retries = -1\n",
            "2: channels.a.rai_rephrase_retries: must be at least 0 (got -1)",
        ),
        (
            "[channels]\na = 5\n",
            "2: channels.a: must be a table (got 5)",
        ),
        # The key found wherever TOML lets it be written.
        (
            "[channels.a]\ndefaults.clip_seconds = 5\n",
            "2: channels.a.defaults.clip_seconds: must be one of 4, 6, 8 (got 5)",
        ),
        (
            "[channels.a]\nvoice = 'x'\ndefaults = { clip_count = 6, clip_seconds = 7 }\n",
            "3: channels.a.defaults.clip_seconds: must be one of 4, 6, 8 (got 7)",
        ),
        (
            "[channels]\na.defaults.clip_seconds = 5\n",
            "2: channels.a.defaults.clip_seconds: must be one of 4, 6, 8 (got 5)",
        ),
        (
            '[channels."my shorts"]\n# note\nbudget_usd = -2\n',
            '3: channels."my shorts".budget_usd: must be greater than 0 (got -2)',
        ),
        (
            "[channels.a]\nauto_approve = [\n  'storyboard',  # fine\n  'everything',\n]\n",
            '4: channels.a.auto_approve[1]: must be one of "storyboard", "keyframes", '
            '"video", "audio", "final" (got "everything")',
        ),
        (
            "[channels.a]\nexports = [\n  { format = 'mp4', height = 720 },\n"
            "  { format = 'avi', height = 720 },\n]\n",
            '4: channels.a.exports[1].format: must be one of "mp4", "webm", "mov" (got "avi")',
        ),
        (
            "[channels.a]\n[[channels.a.exports]]\nformat = 'mp4'\nheight = 720\n"
            "[[channels.a.exports]]\nformat = 'mp4'\nheight = 2160\n",
            "7: channels.a.exports[1].height: must be one of 480, 720, 1080 (got 2160)",
        ),
        (
            "[channels.a]\n[[channels.a.exports]]\nformat = 'mp4'\n",
            "2: channels.a.exports[0].height: missing required key",
        ),
        # Strings that look like keys do not confuse the line count.
        (
            '[channels.a]\nnegative_prompt = """\nbudget_usd = 1\n"""\nbudget_usd = -1\n',
            "5: channels.a.budget_usd: must be greater than 0 (got -1)",
        ),
        (
            "[channels.a]\nnegative_prompt = '''x\n\n'''\nvoice = 'v' # budget_usd = 1\n"
            "budget_usd = -1\n",
            "6: channels.a.budget_usd: must be greater than 0 (got -1)",
        ),
    ],
)
def test_errors_name_the_line(tmp_path: Path, text: str, expected: str) -> None:
    assert _error(tmp_path, text) == expected


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("[defaults]\nprovider = \n", 2, 12),
        ('[defaults]\nvoice = "Kore"\nnegative_prompt = "unterminated\n', 3, 32),
        ("[channels.a]\nvoice = 'x'\n[channels.a]\n", 3, 12),
        ("[channels.a\n", 1, 12),
    ],
)
def test_syntax_errors_name_line_and_column(
    tmp_path: Path, text: str, line: int, column: int
) -> None:
    # tomllib's own wording varies between Python versions; the position does not.
    message = _error(tmp_path, text)
    assert message.startswith(f"{line}: invalid TOML: "), message
    assert message.endswith(f"(column {column})"), message


def test_invalid_inherited_value_is_reported_once_at_defaults(tmp_path: Path) -> None:
    text = """\
[defaults]
budget_usd = -1
[channels.a]
[channels.b]
[channels.c]
budget_usd = 0
"""
    assert _error(tmp_path, text) == (
        "2: defaults.budget_usd: must be greater than 0 (got -1)\n"
        "6: channels.c.budget_usd: must be greater than 0 (got 0)"
    )


def test_all_errors_are_reported_in_line_order(tmp_path: Path) -> None:
    text = """\
[channels.b]
voice = 1
[channels.a]
provider = "x"
[defaults]
storage = "ftp"
"""
    assert _error(tmp_path, text) == (
        "2: channels.b.voice: must be a string (got 1)\n"
        '4: channels.a.provider: must be one of "local", "google" (got "x")\n'
        '6: defaults.storage: must be one of "local", "r2", "notion" (got "ftp")'
    )


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml: channels file not found"):
        load_channels(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "channels.toml"
    path.write_bytes(b"[channels.a]\nvoice = '\xff'\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_channels(path)


def test_parse_channels_names_the_source() -> None:
    with pytest.raises(ConfigError, match=r"^inline:1: invalid TOML"):
        parse_channels("= 1", "inline")


# --- the line finder, on random layouts ------------------------------------------------

_PADDING = st.lists(st.sampled_from(["", "# comment", "   ", "# budget_usd = 1"]), max_size=3)


@st.composite
def layouts(draw: st.DrawFn) -> tuple[str, int, str]:
    """A file with one bad clip_seconds somewhere, its line, and its displayed path."""
    names = draw(
        st.lists(
            st.sampled_from(["a", "shorts", "my shorts", "x.y", "long-form"]),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    bad = draw(st.sampled_from(names))
    lines: list[str] = []
    bad_line = 0
    for name in names:
        key = name if name.replace("-", "").isalnum() else f'"{name}"'
        value = 5 if name == bad else 6
        lines.extend(draw(_PADDING))
        style = draw(st.sampled_from(["header", "dotted", "inline", "channels-dotted"]))
        if style == "header":
            lines.append(f"[channels.{key}.defaults]")
            lines.extend(draw(_PADDING))
            lines.append(f"clip_seconds = {value}")
        elif style == "dotted":
            lines.append(f"[channels.{key}]")
            lines.extend(draw(_PADDING))
            lines.append(f"defaults.clip_seconds = {value}")
        elif style == "inline":
            lines.append(f"[channels.{key}]")
            lines.append(f"defaults = {{ clip_count = 2, clip_seconds = {value} }}")
        elif not lines or all(not x or x.startswith("#") or x.isspace() for x in lines):
            # [channels] with dotted keys: only as the first table (it may appear once).
            lines.append("[channels]")
            lines.append(f"{key}.defaults.clip_seconds = {value}")
        else:
            lines.append(f"[channels.{key}]")
            lines.append(f"defaults.clip_seconds = {value}")
        if name == bad:
            bad_line = len(lines)
        lines.extend(draw(_PADDING))
    shown = bad if bad.replace("-", "").isalnum() else f'"{bad}"'
    return "\n".join(lines) + "\n", bad_line, f"channels.{shown}.defaults.clip_seconds"


@settings(max_examples=60, deadline=None)
@given(layouts())
def test_line_found_in_any_layout(case: tuple[str, int, str]) -> None:
    text, line, path = case
    with pytest.raises(ConfigError) as info:
        parse_channels(text, "f.toml")
    assert str(info.value) == f"f.toml:{line}: {path}: must be one of 4, 6, 8 (got 5)", text


# --- key -> line, beyond what a channels file uses ---------------------------------------


@pytest.mark.parametrize(
    ("text", "path", "line"),
    [
        # A sub-table of an array-of-tables element belongs to the latest element.
        ("[[a]]\nx = 1\n[a.b]\ny = 2\n[[a]]\n[a.b]\ny = 3\n", ("a", 1, "b", "y"), 7),
        ("[[a]]\nx = 1\n[a.b]\ny = 2\n[[a]]\n[a.b]\ny = 3\n", ("a", 0, "b", "y"), 4),
        # Nested arrays over several lines: an element is placed where it is finished.
        ("x = [\n  [1,\n   2],\n  [3],\n]\n", ("x", 1), 4),
        # Keys inside strings, and a quoted key with a dot in it.
        ('s = """\n[t]\nk = 1\n"""\n"a.b" = 2\n', ("a.b",), 5),
        ("s = 'x = 1'  # y = 2\ny = 3\n", ("y",), 2),
        # Unknown paths fall back to their longest known prefix.
        ("[t]\n\nk = 1\n", ("t", "k", "deeper"), 3),
        ("[t]\n", ("u",), None),
    ],
)
def test_key_lines(text: str, path: tuple[str | int, ...], line: int | None) -> None:
    from orchestrator.channels.lines import KeyLines

    assert KeyLines(text).line_of(path) == line
