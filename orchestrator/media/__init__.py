"""Media handling (ffmpeg, PyAV, Pillow): probing, faststart, stills, assembly, export."""

from __future__ import annotations

from orchestrator.media.assemble import AUDIO_RATE, assemble
from orchestrator.media.audio import write_wav_silence
from orchestrator.media.export import (
    EXPORT_FORMATS,
    EXPORT_HEIGHTS,
    ExportFormat,
    ExportHeight,
    export,
)
from orchestrator.media.faststart import faststart
from orchestrator.media.ffmpeg import ffmpeg_exe, run_ffmpeg
from orchestrator.media.imagetype import sniff_image_type
from orchestrator.media.mp4boxes import Box, is_faststart, iter_top_level_boxes
from orchestrator.media.probe import MediaInfo, probe, probe_sync
from orchestrator.media.thumbs import contact_sheet, contact_sheet_size, first_frame, thumbnail

__all__ = [
    "AUDIO_RATE",
    "EXPORT_FORMATS",
    "EXPORT_HEIGHTS",
    "Box",
    "ExportFormat",
    "ExportHeight",
    "MediaInfo",
    "assemble",
    "contact_sheet",
    "contact_sheet_size",
    "export",
    "faststart",
    "ffmpeg_exe",
    "first_frame",
    "is_faststart",
    "iter_top_level_boxes",
    "probe",
    "probe_sync",
    "run_ffmpeg",
    "sniff_image_type",
    "thumbnail",
    "write_wav_silence",
]
