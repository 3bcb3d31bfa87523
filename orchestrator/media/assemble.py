"""Join approved clips into the final video with narration and optional subtitles."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import structlog

from orchestrator.errors import MediaError
from orchestrator.media._atomic import atomic_target
from orchestrator.media.faststart import faststart, muxer_for
from orchestrator.media.ffmpeg import run_ffmpeg
from orchestrator.media.probe import MediaInfo, probe

__all__ = ["AUDIO_RATE", "assemble", "can_stream_copy"]

log = structlog.get_logger(__name__)

AUDIO_RATE = 48000
"""Sample rate of the assembled audio track (narration is resampled to it)."""


@dataclass(frozen=True, slots=True)
class _VideoSignature:
    """Everything that must match for the concat demuxer to join clips without re-encode."""

    codec: str | None
    width: int | None
    height: int | None
    fps: float | None
    pix_fmt: str | None
    time_base: str | None
    extradata: bytes


def _signature(path: Path, info: MediaInfo) -> _VideoSignature:
    # Identical codec parameters alone are not enough for H.264: a stream-copied join
    # carries only the first clip's SPS/PPS, so those bytes must match too.
    try:
        with av.open(str(path)) as container:
            extradata = bytes(container.streams.video[0].codec_context.extradata or b"")
    except (av.FFmpegError, IndexError) as exc:
        raise MediaError(f"cannot read codec parameters of {path.name}: {exc}") from exc
    return _VideoSignature(
        info.codec, info.width, info.height, info.fps, info.pix_fmt, info.time_base, extradata
    )


def can_stream_copy(signatures: Sequence[_VideoSignature]) -> bool:
    return len(set(signatures)) == 1


def _concat_line(path: Path, duration_s: float) -> str:
    # The concat demuxer's quoting: single quotes, and ' written as '\''.
    quoted = str(path.resolve()).replace("'", "'\\''")
    # An explicit duration (the video stream's) keeps a clip whose audio runs longer
    # than its video from opening a gap before the next clip.
    return f"file '{quoted}'\nduration {duration_s:.6f}\n"


def _rate(fps: float) -> str:
    frac = Fraction(fps).limit_denominator(1001)
    return f"{frac.numerator}/{frac.denominator}"


def _even(value: int) -> int:
    return value - (value % 2)


async def assemble(
    clips: Sequence[Path],
    narration: Path | None,
    out: Path,
    subtitles: Path | None = None,
    *,
    timeout_s: float = 900.0,
) -> Path:
    """Concatenate `clips` in order into `out` (MP4, faststart) and return `out`.

    - Video: stream-copied through the concat demuxer when every clip shares codec,
      size, frame rate, pixel format, time base and codec headers; otherwise
      re-encoded (H.264) through the concat filter at the first clip's size and rate,
      other clips letterboxed to fit.
    - Audio: the narration (any format ffmpeg reads, e.g. WAV) becomes the only audio
      track, AAC 48 kHz stereo, padded with silence or trimmed to the video length.
      Without narration a silent AAC track is written so players show normal audio
      controls. The clips' own audio is not used.
    - Subtitles: an SRT file is added as a soft `mov_text` track.
    The output duration equals the sum of the clips' video durations.
    """
    if not clips:
        raise MediaError("assemble needs at least one clip")
    clips = [Path(c) for c in clips]
    out = Path(out)
    infos = list(await asyncio.gather(*(probe(c) for c in clips)))
    for clip, info in zip(clips, infos, strict=True):
        if not info.has_video:
            raise MediaError(f"assemble: {clip.name} has no video stream")
    if narration is not None:
        narration_info = await probe(narration)
        if not narration_info.has_audio:
            raise MediaError(f"assemble: narration {Path(narration).name} has no audio stream")
    if subtitles is not None and not Path(subtitles).is_file():
        raise MediaError(f"assemble: subtitles file {subtitles} not found")

    total_s = sum(i.duration_s for i in infos)
    signatures = await asyncio.gather(
        *(asyncio.to_thread(_signature, c, i) for c, i in zip(clips, infos, strict=True))
    )
    copy = can_stream_copy(signatures)
    if narration is not None and narration_info.duration_s > total_s + 0.05:
        log.warning(
            "narration_trimmed",
            narration_s=round(narration_info.duration_s, 3),
            video_s=round(total_s, 3),
        )

    with tempfile.TemporaryDirectory(prefix="reelgate-assemble-") as work:
        args: list[str | Path] = []
        filters: list[str] = []
        if copy:
            listing = Path(work) / "clips.txt"
            listing.write_text(
                "ffconcat version 1.0\n"
                + "".join(_concat_line(c, i.duration_s) for c, i in zip(clips, infos, strict=True)),
                encoding="utf-8",
            )
            args += ["-f", "concat", "-safe", "0", "-i", listing]
            video_map = "0:v:0"
            next_input = 1
        else:
            first = infos[0]
            width, height = _even(first.width or 2), _even(first.height or 2)
            rate = _rate(first.fps or 24.0)
            for index, clip in enumerate(clips):
                args += ["-i", clip]
                filters.append(
                    f"[{index}:v:0]scale={width}:{height}:force_original_aspect_ratio=decrease,"
                    f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,"
                    f"fps={rate},format=yuv420p[v{index}]"
                )
            joined = "".join(f"[v{i}]" for i in range(len(clips)))
            filters.append(f"{joined}concat=n={len(clips)}:v=1:a=0[vout]")
            video_map = "[vout]"
            next_input = len(clips)

        if narration is not None:
            args += ["-i", narration]
            filters.append(
                f"[{next_input}:a:0]aresample={AUDIO_RATE},aformat=channel_layouts=stereo,"
                f"apad=whole_dur={total_s:.6f},atrim=duration={total_s:.6f}[aout]"
            )
            audio_map = "[aout]"
        else:
            args += [
                "-f",
                "lavfi",
                "-t",
                f"{total_s:.6f}",
                "-i",
                f"anullsrc=r={AUDIO_RATE}:cl=stereo",
            ]
            audio_map = f"{next_input}:a:0"
        next_input += 1

        maps: list[str] = ["-map", video_map, "-map", audio_map]
        if subtitles is not None:
            args += ["-i", subtitles]
            maps += ["-map", f"{next_input}:s:0"]
        if filters:
            args += ["-filter_complex", ";".join(filters)]
        args += maps
        if copy:
            args += ["-c:v", "copy"]
        else:
            args += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]
        args += ["-c:a", "aac", "-b:a", "160k", "-ar", str(AUDIO_RATE), "-ac", "2"]
        if subtitles is not None:
            args += ["-c:s", "mov_text"]
        with atomic_target(out) as tmp:
            await run_ffmpeg(
                *args,
                "-movflags",
                "+faststart",
                "-f",
                muxer_for(out),
                tmp,
                timeout_s=timeout_s,
            )
    await faststart(out)  # no-op unless the muxer could not honour +faststart

    result = await probe(out)
    frame_s = 1.0 / (infos[0].fps or 24.0)
    if abs(result.duration_s - total_s) > frame_s:
        log.warning("assemble_duration_mismatch", expected_s=total_s, got_s=result.duration_s)
    log.info(
        "assembled",
        out=str(out),
        clips=len(clips),
        duration_s=round(result.duration_s, 3),
        stream_copy=copy,
        narration=narration is not None,
        subtitles=subtitles is not None,
    )
    return out
