"""Reference images: the check (from the bytes), the limits, names, and the page reading."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image as PILImage

from notion_sync.mapping import ReferenceFile, read_references, task_from_page
from notion_sync.schema import TASK_FIELDS
from orchestrator.references import (
    DEFAULT_MAX_REFERENCES,
    CheckedImage,
    ReferenceLimits,
    check_image,
    describe_bytes,
    human_bytes,
    limits_for,
    too_many,
)
from storage.errors import StoragePermanentError
from storage.keys import reference_file_name, reference_key
from tests.helpers.references import image_bytes

SHA = "3fa9c2d1" + "0" * 56


def encoded(fmt: str, size: tuple[int, int] = (30, 20)) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", size, (90, 10, 200)).save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_png_jpeg_and_webp_are_accepted_with_their_real_type(fmt: str, mime: str) -> None:
    assert check_image(encoded(fmt), ReferenceLimits()) == CheckedImage(mime, 30, 20)


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"%PDF-1.7\n" + bytes(100), "it is a PDF document"),
        (encoded("GIF"), "it is a GIF image"),
        (b"\x00\x00\x00\x18ftypheic" + bytes(40), "it is a HEIC/HEIF image"),
        (b"\x00\x00\x00\x18ftypmp42" + bytes(40), "it is a video or other media file"),
        (b"  <!doctype html><html>", "it is a web page"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "it is an SVG or other XML document"),
        (b"", "the file is empty"),
        (b"hello world", "its bytes are not an image"),
    ],
)
def test_anything_else_is_not_an_image_whatever_it_is_called(data: bytes, what: str) -> None:
    reason = check_image(data, ReferenceLimits())
    assert isinstance(reason, str)
    assert reason.startswith("not an image reelgate can use (")
    assert what in reason
    assert reason.endswith("; use PNG, JPEG or WebP)")
    assert describe_bytes(data).startswith(what)


def test_a_damaged_image_with_a_good_header_is_refused() -> None:
    png = image_bytes((1, 2, 3), (64, 64))
    reason = check_image(png[: len(png) // 2], ReferenceLimits())
    assert isinstance(reason, str)
    assert reason.startswith("not an image reelgate can use (a damaged PNG file: ")


def test_too_large_in_bytes_and_in_pixels() -> None:
    png = encoded("PNG", (300, 200))
    assert check_image(png, ReferenceLimits(max_bytes=len(png) - 1)) == (
        f"too large ({human_bytes(len(png))}; at most {human_bytes(len(png) - 1)})"
    )
    assert check_image(png, ReferenceLimits(max_pixels=50_000)) == (
        "too large (300x200 pixels; at most 0.05 megapixels)"
    )


def test_human_bytes_reads_cleanly() -> None:
    assert human_bytes(7_000_000) == "7 MB"
    assert human_bytes(8_400_000) == "8.4 MB"
    assert human_bytes(12_000) == "12 KB"
    assert human_bytes(1_500) == "1.5 KB"
    assert human_bytes(999) == "999 bytes"


def test_limits_follow_the_channels_image_model() -> None:
    # 14 images a request, one of them the previous keyframe.
    assert limits_for({"image": "gemini-3.1-flash-image"}) == ReferenceLimits(
        max_count=13, model="gemini-3.1-flash-image"
    )
    assert limits_for({"image": "gemini-3-pro-image"}).max_count == 13
    # The local provider has no limit of its own: production's default applies.
    local = limits_for({"image": "local-keyframe"})
    assert local.max_count == DEFAULT_MAX_REFERENCES == 13
    assert local.max_bytes == 7_000_000
    assert limits_for({}).max_count == DEFAULT_MAX_REFERENCES


def test_too_many_names_the_position_the_limit_and_the_model() -> None:
    limits = ReferenceLimits(max_count=13, model="gemini-3.1-flash-image")
    assert too_many(15, 15, limits) == (
        "too many references: the channel takes at most 13 (gemini-3.1-flash-image reads "
        "14 images a request, one of them the previous keyframe), and this is number 15 of "
        "15. Remove 2"
    )
    assert "(" not in too_many(3, 3, ReferenceLimits(max_count=2))


def test_reference_names_carry_position_type_and_content() -> None:
    assert reference_file_name(1, SHA) == "ref_01_3fa9c2d1.png"
    assert reference_file_name(12, SHA.upper(), "image/jpeg") == "ref_12_3fa9c2d1.jpg"
    assert reference_key("Promo Spots", "task-7-ab12cd34", 2, SHA, "image/webp") == (
        "promo-spots/task-7-ab12cd34/references/ref_02_3fa9c2d1.webp"
    )
    with pytest.raises(StoragePermanentError):
        reference_file_name(0, SHA)
    with pytest.raises(StoragePermanentError):
        reference_file_name(1, "not-hex!")
    with pytest.raises(StoragePermanentError):
        reference_file_name(1, SHA, "image/gif")


# -- the page's References property ------------------------------------------------------

HOSTED = {
    "name": "bottle.png",
    "type": "file",
    "file": {
        "url": "https://prod-files-secure.s3.us-west-2.amazonaws.com/ws/9bc6/bottle.png"
        "?X-Amz-Signature=abc&X-Amz-Expires=3600",
        "expiry_time": "2026-12-01T13:00:00.000Z",
    },
}
LINKED = {
    "name": "label",
    "type": "external",
    "external": {"url": "https://cdn.example.com/label.jpg?w=800"},
}


def test_files_items_are_read_with_their_hosting_and_expiry() -> None:
    refs = read_references({"id": "x", "type": "files", "files": [HOSTED, LINKED]})
    assert refs == (
        ReferenceFile(
            name="bottle.png",
            url=HOSTED["file"]["url"],  # type: ignore[index]
            hosted="notion",
            expires_at=datetime(2026, 12, 1, 13, 0, tzinfo=UTC),
        ),
        ReferenceFile(
            name="label", url="https://cdn.example.com/label.jpg?w=800", hosted="external"
        ),
    )
    # A signed URL changes on every read; the file it points at does not.
    assert (
        refs[0].identity
        == "https://prod-files-secure.s3.us-west-2.amazonaws.com/ws/9bc6/bottle.png"
    )
    assert refs[1].identity == "https://cdn.example.com/label.jpg?w=800"
    assert ReferenceFile.from_json(refs[0].to_json()) == refs[0]
    assert read_references({"type": "rich_text", "rich_text": []}) == ()
    assert read_references(None) == ()


def _page(files: list[dict[str, object]] | None) -> dict[str, object]:
    props: dict[str, object] = {
        "Name": {"type": "title", "title": [{"plain_text": "Glow"}]},
        "Status": {"type": "status", "status": {"name": "Draft"}},
    }
    if files is not None:
        props["References"] = {"type": "files", "files": files}
    return {"id": "p1", "properties": props, "last_edited_time": "2026-12-01T12:00:00.000Z"}


def test_fingerprint_sees_which_files_not_their_signed_urls() -> None:
    names = {logical: spec.name for logical, spec in TASK_FIELDS.items()}
    without = task_from_page(_page(None), names)
    empty = task_from_page(_page([]), names)
    one = task_from_page(_page([HOSTED]), names)
    resigned = dict(HOSTED, file={"url": HOSTED["file"]["url"].split("?")[0] + "?sig=new"})  # type: ignore[index]
    again = task_from_page(_page([resigned]), names)
    two = task_from_page(_page([HOSTED, LINKED]), names)
    # Boards without References (or with none set) keep the fingerprints they had.
    assert without.fingerprint == empty.fingerprint
    assert one.fingerprint != empty.fingerprint
    assert again.fingerprint == one.fingerprint
    assert two.fingerprint != one.fingerprint
    assert [r.name for r in two.references] == ["bottle.png", "label"]
