"""What kind of image some bytes are, from their magic numbers (not from a label).

Image models may answer JPEG where PNG was usual, and a label can be wrong: the bytes
decide the MIME type a keyframe is stored and sent to Veo with.
"""

from __future__ import annotations

__all__ = ["sniff_image_type"]


def sniff_image_type(data: bytes) -> str | None:
    """ "image/png" | "image/jpeg" | "image/webp" by signature; None if none matches."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None
