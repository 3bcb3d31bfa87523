"""Object keys: formats, slugging of Notion text, and traversal resistance."""

from __future__ import annotations

import posixpath
import unicodedata
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.errors import StoragePermanentError
from storage.keys import (
    MAX_SLUG_LENGTH,
    clip_file_name,
    clip_key,
    contact_sheet_file_name,
    contact_sheet_key,
    content_type_for,
    export_key,
    final_file_name,
    final_key,
    image_extension,
    keyframe_file_name,
    keyframe_key,
    keyframe_reference_file_name,
    narration_key,
    narration_line_file_name,
    narration_line_key,
    narration_track_file_name,
    slugify,
    thumb_file_name,
    thumb_key,
    validate_key,
)


def test_key_formats() -> None:
    assert keyframe_key("Space Facts", "Mars", 3, 1) == "space-facts/mars/keyframes/kf_03_a1.png"
    assert clip_key("Space Facts", "Mars", 5, 2) == "space-facts/mars/clips/clip_05_a2.mp4"
    assert thumb_key("Space Facts", "Mars", 5, 2) == "space-facts/mars/thumbs/clip_05_a2.jpg"
    assert final_key("Space Facts", "Mars", 1) == "space-facts/mars/final/final_r1.mp4"
    assert contact_sheet_key("ch", "t", 2) == "ch/t/sheets/contact_r2.jpg"
    assert narration_key("ch", "t", 3) == "ch/t/audio/narration_a3.wav"
    assert narration_key("ch", "t", 1, fmt="mp3") == "ch/t/audio/narration_a1.mp3"
    assert clip_key("c", "t", 123, 10) == "c/t/clips/clip_123_a10.mp4"
    assert narration_line_key("ch", "t", 5, 1) == "ch/t/audio/clip_05_n1.wav"
    assert export_key("ch", "t", 2, 720, "webm") == "ch/t/final/final_r2_720p.webm"


def test_file_names() -> None:
    # The names in a task's work folder and on the files Notion shows.
    assert keyframe_file_name(3, 1) == "kf_03_a1.png"
    assert keyframe_reference_file_name(3) == "kf_03.png"
    assert keyframe_reference_file_name(0) == "kf_00.png"  # keyframe 1 has no predecessor
    assert clip_file_name(5, 2) == "clip_05_a2.mp4"
    assert thumb_file_name(5, 2) == "clip_05_a2.jpg"
    assert narration_line_file_name(5, 1) == "narration_05_n1.wav"
    assert narration_track_file_name(2) == "narration_r2.wav"
    assert contact_sheet_file_name(1) == "contact_r1.jpg"
    assert final_file_name(3) == "final_r3.mp4"
    assert final_file_name(3, "srt") == "final_r3.srt"


def test_keyframes_are_named_for_their_real_image_type() -> None:
    # Image models may answer JPEG: its file and key say so, never ".png".
    assert keyframe_file_name(3, 1, "image/jpeg") == "kf_03_a1.jpg"
    assert keyframe_reference_file_name(2, "image/jpeg") == "kf_02.jpg"
    assert keyframe_key("c", "t", 3, 1, "image/jpeg") == "c/t/keyframes/kf_03_a1.jpg"
    assert keyframe_file_name(3, 1, "image/webp") == "kf_03_a1.webp"
    assert image_extension("image/PNG") == "png"
    assert content_type_for(keyframe_key("c", "t", 3, 1, "image/jpeg")) == "image/jpeg"
    with pytest.raises(StoragePermanentError, match="not a keyframe image type"):
        keyframe_file_name(3, 1, "video/mp4")


@settings(max_examples=100, deadline=None)
@given(number=st.integers(1, 999), attempt=st.integers(1, 99))
def test_keys_end_in_the_file_names(number: int, attempt: int) -> None:
    # One naming home: a stored object and its local file always share a name.
    assert clip_key("c", "t", number, attempt).endswith("/" + clip_file_name(number, attempt))
    assert thumb_key("c", "t", number, attempt).endswith("/" + thumb_file_name(number, attempt))
    assert keyframe_key("c", "t", number, attempt).endswith(
        "/" + keyframe_file_name(number, attempt)
    )
    assert final_key("c", "t", attempt).endswith("/" + final_file_name(attempt))
    assert contact_sheet_key("c", "t", attempt).endswith("/" + contact_sheet_file_name(attempt))


def test_content_types() -> None:
    assert content_type_for("a/b/clip_01_a1.mp4") == "video/mp4"
    assert content_type_for("a/b/kf_01_a1.png") == "image/png"
    assert content_type_for("a/b/clip_01_a1.jpg") == "image/jpeg"
    assert content_type_for("a/b/narration_a1.wav") == "audio/wav"
    assert content_type_for("a/b/noext") == "application/octet-stream"


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Space Facts", "space-facts"),
        ("  Crème Brûlée!! ", "creme-brulee"),
        ("../../etc/passwd", "etc-passwd"),
        ("..", None),
        ("a/b\\c", "a-b-c"),
        ("%2e%2e%2f", "2e-2e-2f"),
        ("evil\x00name", "evil-name"),
        ("line\nbreak\ttab", "line-break-tab"),
        ("🎬🎥", None),
    ],
)
def test_slugify_examples(text: str, slug: str | None) -> None:
    result = slugify(text)
    if slug is None:
        assert result.startswith("x-")
        assert len(result) == 10
    else:
        assert result == slug


def test_slugify_keeps_distinct_long_names_distinct() -> None:
    a = slugify("a" * 200 + " one")
    b = slugify("a" * 200 + " two")
    assert a != b
    assert len(a) <= MAX_SLUG_LENGTH
    assert len(b) <= MAX_SLUG_LENGTH


def test_emoji_only_names_do_not_collide() -> None:
    assert slugify("🎬") != slugify("🎥")


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../../etc/passwd",
        "a/../../etc/passwd",
        "a/./b.mp4",
        "a//b.mp4",
        "a/b/",
        "..",
        ".",
        "a\\..\\..\\b",
        "..\\..\\windows\\win.ini",
        "a/%2e%2e/b",
        "%2e%2e/%2e%2e/etc/passwd",
        "a/%2fetc",
        "a\x00b/c.mp4",
        "a/b\x00.mp4",
        "a/b\n.mp4",
        "a/.hidden",
        "a/b c.mp4",
        "C:/windows/x",
        "a/" + "b" * 1100,
        "ａ/ｂ.mp4",  # fullwidth letters normalise to ASCII elsewhere: refuse them
    ],
)
def test_validate_key_rejects(key: str) -> None:
    with pytest.raises(StoragePermanentError):
        validate_key(key)


@pytest.mark.parametrize(
    "key", ["a/b/clips/clip_01_a1.mp4", "ch/t/final/final_r2.mp4", "x.png", "A-b_c.d/e"]
)
def test_validate_key_accepts(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(
    "bad", [0, -1, True, 1.5, "3"], ids=["zero", "negative", "bool", "float", "str"]
)
def test_numbers_are_checked(bad: object) -> None:
    with pytest.raises(StoragePermanentError):
        clip_key("c", "t", bad, 1)  # type: ignore[arg-type]
    with pytest.raises(StoragePermanentError):
        clip_key("c", "t", 1, bad)  # type: ignore[arg-type]
    with pytest.raises(StoragePermanentError):
        clip_file_name(1, bad)  # type: ignore[arg-type]
    with pytest.raises(StoragePermanentError):
        final_file_name(bad)  # type: ignore[arg-type]
    with pytest.raises(StoragePermanentError):
        narration_line_file_name(bad, 1)  # type: ignore[arg-type]


# -- properties -----------------------------------------------------------------------

_hostile_text = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from(["..", ".", "/", "\\", "%2e", "%2f", "\x00", "\n", "~", "C:", "é", " "]),
        max_size=40,
    ).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(channel=_hostile_text, task=_hostile_text, number=st.integers(1, 999))
def test_built_keys_are_always_safe(channel: str, task: str, number: int) -> None:
    for key in (
        clip_key(channel, task, number, 1),
        keyframe_key(channel, task, number, 2),
        thumb_key(channel, task, number, 3),
        final_key(channel, task, number),
    ):
        assert validate_key(key) == key
        segments = key.split("/")
        assert len(segments) == 4
        assert all(s not in ("", ".", "..") for s in segments)
        # Nothing a server could decode or normalise into something else.
        assert unquote(key) == key
        assert posixpath.normpath(key) == key
        assert key == key.lower()
        assert len(segments[0]) <= MAX_SLUG_LENGTH
        assert len(segments[1]) <= MAX_SLUG_LENGTH


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_slug_is_a_fixed_point(text: str) -> None:
    slug = slugify(text)
    assert slugify(slug) == slug
    assert slug.isascii()
    assert slug == unicodedata.normalize("NFKC", slug)


@settings(max_examples=500, deadline=None)
@given(key=st.text(max_size=80))
def test_any_accepted_key_stays_inside_its_root(key: str) -> None:
    try:
        validate_key(key)
    except StoragePermanentError:
        return
    assert not key.startswith("/")
    for forbidden in ("\\", "\x00", "%"):
        assert forbidden not in key
    assert ".." not in key.split("/")
    joined = posixpath.normpath(posixpath.join("/root", key))
    assert joined.startswith("/root/")


@settings(max_examples=200, deadline=None)
@given(
    prefix=st.lists(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), max_size=3),
    suffix=st.lists(st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True), max_size=3),
    dots=st.sampled_from(["..", ".", ""]),
)
def test_dot_segments_anywhere_are_rejected(
    prefix: list[str], suffix: list[str], dots: str
) -> None:
    key = "/".join([*prefix, dots, *suffix])
    with pytest.raises(StoragePermanentError):
        validate_key(key)
