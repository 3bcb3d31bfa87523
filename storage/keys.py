"""Object keys: how media is named in every backend.

Keys look like ``{channel}/{task}/clips/clip_05_a2.mp4``. The attempt number is part
of the key, so an object is never overwritten with different bytes: that is what
lets R2 serve everything with ``Cache-Control: immutable``.

This module is the one home of artifact names: the ``*_file_name`` functions name
the files in a task's work folder and the files Notion shows (``clip_05_a2.mp4``),
and the ``*_key`` functions put those names into a channel/task folder. Nothing
else formats ``clip_{n:02d}_a{attempt}`` by hand.

Channel and task names come from Notion text that anybody in the workspace can type,
so they are reduced to a bounded lowercase slug before they reach a key, and every
backend re-checks the finished key with :func:`validate_key` (defence in depth: a
key built elsewhere, or by hand, gets the same scrutiny).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Final, Literal

from storage.errors import StoragePermanentError

__all__ = [
    "MAX_KEY_BYTES",
    "MAX_SLUG_LENGTH",
    "clip_file_name",
    "clip_key",
    "contact_sheet_file_name",
    "contact_sheet_key",
    "content_type_for",
    "export_key",
    "final_file_name",
    "final_key",
    "image_extension",
    "keyframe_file_name",
    "keyframe_key",
    "keyframe_reference_file_name",
    "narration_key",
    "narration_line_file_name",
    "narration_line_key",
    "narration_track_file_name",
    "reference_file_name",
    "reference_key",
    "slugify",
    "thumb_file_name",
    "thumb_key",
    "validate_key",
]

# S3 (and R2) limit object keys to 1024 bytes of UTF-8.
MAX_KEY_BYTES: Final = 1024
MAX_SLUG_LENGTH: Final = 48

_NON_SLUG = re.compile(r"[^a-z0-9]+")
# One key segment: starts with an alphanumeric (so never "." / ".." / hidden files),
# then a conservative set that needs no URL escaping anywhere. No "%" at all, so a
# percent-encoded "%2e%2e" can never be decoded into ".." by a server on the way.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

_CONTENT_TYPES: Final[dict[str, str]] = {
    "mp4": "video/mp4",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "m4a": "audio/mp4",
    "srt": "application/x-subrip",
    "vtt": "text/vtt",
    "json": "application/json",
}

NarrationFormat = Literal["wav", "mp3", "m4a"]

# Image types a keyframe may be stored as, and the extension each is named with.
_IMAGE_EXTENSIONS: Final[dict[str, str]] = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
}


def slugify(text: str, *, max_length: int = MAX_SLUG_LENGTH) -> str:
    """Reduce free text (a Notion channel name, a task title) to a safe key segment.

    Lowercase ASCII letters, digits and single hyphens only; never empty; at most
    ``max_length`` characters. Text that slugs to nothing (emoji, only punctuation)
    or has to be cut short gets a short hash of the original appended, so two
    different names never silently share a folder.
    """
    if max_length < 12:
        raise ValueError("max_length must leave room for the hash suffix (>= 12)")
    # NFKD splits accents off their letters ("é" -> "e" + U+0301); the ASCII
    # encode then drops the combining marks, control characters and anything exotic.
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NON_SLUG.sub("-", ascii_text.lower()).strip("-")
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    if not slug:
        return f"x-{digest}"
    if len(slug) > max_length:
        return f"{slug[: max_length - 9].rstrip('-')}-{digest}"
    return slug


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a safe relative object key, else raise.

    Rejected: empty keys, absolute keys, backslashes, ``.``/``..``/empty segments,
    percent signs, control characters (NUL included), anything outside
    ``[A-Za-z0-9._-]`` per segment, and keys over 1024 bytes.
    """
    if not isinstance(key, str) or not key:
        raise StoragePermanentError("storage key is empty")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise StoragePermanentError(f"storage key is longer than {MAX_KEY_BYTES} bytes")
    if key.startswith("/"):
        raise StoragePermanentError(f"storage key must be relative: {key!r}")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise StoragePermanentError(f"storage key has an empty or dot segment: {key!r}")
        if not _SEGMENT.fullmatch(segment):
            raise StoragePermanentError(f"storage key has unsafe characters: {key!r}")
    return key


def _positive(name: str, value: int, *, minimum: int) -> int:
    # bool is an int subclass; True as a clip number is a bug upstream, not clip 1.
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise StoragePermanentError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _base(channel: str, task: str) -> str:
    return f"{slugify(channel)}/{slugify(task)}"


# File names: a task's work folder, and the names Notion shows for attached files.


def image_extension(mime_type: str) -> str:
    """``png`` / ``jpg`` / ``webp``: the extension an image of `mime_type` is named with."""
    ext = _IMAGE_EXTENSIONS.get(mime_type.split(";", 1)[0].strip().lower())
    if ext is None:
        raise StoragePermanentError(f"not a keyframe image type: {mime_type!r}")
    return ext


def keyframe_file_name(number: int, attempt: int, mime_type: str = "image/png") -> str:
    """``kf_03_a1.png``: keyframe 3, attempt 1 (``kf_03_a1.jpg`` for a JPEG)."""
    n = _positive("keyframe number", number, minimum=0)
    a = _positive("attempt", attempt, minimum=1)
    return f"kf_{n:02d}_a{a}.{image_extension(mime_type)}"


def keyframe_reference_file_name(number: int, mime_type: str = "image/png") -> str:
    """``kf_03.png``: the newest attempt of keyframe 3, the look the next keyframe follows."""
    n = _positive("keyframe number", number, minimum=0)
    return f"kf_{n:02d}.{image_extension(mime_type)}"


def reference_file_name(position: int, sha256: str, mime_type: str = "image/png") -> str:
    """``ref_01_3fa9c2d1.png``: the task's first reference image, named for its bytes.

    A reference has no attempts: a changed image is a different file, so the start of
    its SHA-256 stands in for the attempt and a stored object is never overwritten.
    """
    n = _positive("reference position", position, minimum=1)
    digest = sha256[:8].lower()
    if len(digest) != 8 or any(c not in "0123456789abcdef" for c in digest):
        raise StoragePermanentError(f"reference sha256 must be hex, got {sha256!r}")
    return f"ref_{n:02d}_{digest}.{image_extension(mime_type)}"


def clip_file_name(number: int, attempt: int) -> str:
    """``clip_05_a2.mp4``: clip 5, attempt 2."""
    n = _positive("clip number", number, minimum=1)
    a = _positive("attempt", attempt, minimum=1)
    return f"clip_{n:02d}_a{a}.mp4"


def thumb_file_name(number: int, attempt: int) -> str:
    """``clip_05_a2.jpg``: the poster frame of that clip attempt."""
    return clip_file_name(number, attempt).removesuffix(".mp4") + ".jpg"


def narration_line_file_name(number: int, attempt: int) -> str:
    """``narration_05_n1.wav``: clip 5's narration line, take 1 (in the work folder).

    Stored under :func:`narration_line_key`, which files it as ``audio/clip_05_n1.wav``.
    """
    n = _positive("clip number", number, minimum=1)
    a = _positive("attempt", attempt, minimum=1)
    return f"narration_{n:02d}_n{a}.wav"


def narration_track_file_name(round: int) -> str:
    """``narration_r1.wav``: every line of an assembly round on one track."""
    r = _positive("round", round, minimum=1)
    return f"narration_r{r}.wav"


def contact_sheet_file_name(round: int) -> str:
    """``contact_r1.jpg``: a review round's clips on one image."""
    r = _positive("round", round, minimum=1)
    return f"contact_r{r}.jpg"


def final_file_name(round: int, ext: Literal["mp4", "srt"] = "mp4") -> str:
    """``final_r1.mp4`` (or its subtitles, ``final_r1.srt``): an assembly round."""
    r = _positive("round", round, minimum=1)
    return f"final_r{r}.{ext}"


# Keys: those names in their channel/task folder.


def keyframe_key(
    channel: str, task: str, number: int, attempt: int, mime_type: str = "image/png"
) -> str:
    """``{channel}/{task}/keyframes/kf_03_a1.png`` (``.jpg`` for a JPEG)."""
    name = keyframe_file_name(number, attempt, mime_type)
    return validate_key(f"{_base(channel, task)}/keyframes/{name}")


def reference_key(
    channel: str, task: str, position: int, sha256: str, mime_type: str = "image/png"
) -> str:
    """``{channel}/{task}/references/ref_01_3fa9c2d1.png``: a creator's reference image."""
    name = reference_file_name(position, sha256, mime_type)
    return validate_key(f"{_base(channel, task)}/references/{name}")


def clip_key(channel: str, task: str, number: int, attempt: int) -> str:
    """``{channel}/{task}/clips/clip_05_a2.mp4``"""
    return validate_key(f"{_base(channel, task)}/clips/{clip_file_name(number, attempt)}")


def thumb_key(channel: str, task: str, number: int, attempt: int) -> str:
    """``{channel}/{task}/thumbs/clip_05_a2.jpg`` (poster frame of that clip attempt)."""
    return validate_key(f"{_base(channel, task)}/thumbs/{thumb_file_name(number, attempt)}")


def final_key(channel: str, task: str, round: int) -> str:
    """``{channel}/{task}/final/final_r1.mp4``"""
    return validate_key(f"{_base(channel, task)}/final/{final_file_name(round)}")


def export_key(channel: str, task: str, round: int, height: int, fmt: str) -> str:
    """``{channel}/{task}/final/final_r1_720p.webm``: a delivery rendition of that round."""
    h = _positive("height", height, minimum=1)
    stem = final_key(channel, task, round).removesuffix(".mp4")
    return validate_key(f"{stem}_{h}p.{fmt}")


def contact_sheet_key(channel: str, task: str, round: int) -> str:
    """``{channel}/{task}/sheets/contact_r1.jpg`` (all keyframes of a round on one image)."""
    return validate_key(f"{_base(channel, task)}/sheets/{contact_sheet_file_name(round)}")


def narration_key(
    channel: str,
    task: str,
    attempt: int,
    *,
    fmt: NarrationFormat = "wav",
) -> str:
    """``{channel}/{task}/audio/narration_a1.wav``"""
    a = _positive("attempt", attempt, minimum=1)
    if fmt not in ("wav", "mp3", "m4a"):
        raise StoragePermanentError(f"unsupported narration format {fmt!r}")
    return validate_key(f"{_base(channel, task)}/audio/narration_a{a}.{fmt}")


def narration_line_key(channel: str, task: str, number: int, attempt: int) -> str:
    """``{channel}/{task}/audio/clip_05_n1.wav``: one narration line per clip and take."""
    n = _positive("clip number", number, minimum=1)
    a = _positive("attempt", attempt, minimum=1)
    return validate_key(f"{_base(channel, task)}/audio/clip_{n:02d}_n{a}.wav")


def content_type_for(key: str, default: str = "application/octet-stream") -> str:
    """The MIME type for a key's extension (a fixed table: no platform mime.types)."""
    _, dot, ext = key.rpartition(".")
    if not dot:
        return default
    return _CONTENT_TYPES.get(ext.lower(), default)
