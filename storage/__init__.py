"""storage: where media goes (R2, Notion file uploads, a local folder).

Backends are imported from their modules (``storage.r2``, ``storage.local``,
``storage.notion``, ``storage.file_server``) so that importing ``storage`` does not
pull in boto3 or uvicorn; this package exports the shared contract and helpers.
"""

from __future__ import annotations

from storage.base import ExpiringURLs, ObjectURL, Storage, StoredObject
from storage.errors import StorageError, StoragePermanentError, StorageTransientError
from storage.factory import build_storage
from storage.keys import (
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
    reference_file_name,
    reference_key,
    slugify,
    thumb_file_name,
    thumb_key,
    validate_key,
)
from storage.settings import StorageSettings

__all__ = [
    "ExpiringURLs",
    "ObjectURL",
    "Storage",
    "StorageError",
    "StoragePermanentError",
    "StorageSettings",
    "StorageTransientError",
    "StoredObject",
    "build_storage",
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
