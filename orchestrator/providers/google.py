"""The `google` provider: Gemini, Veo and Gemini TTS on Vertex AI via google-genai.

Implements all four provider protocols. Holds no database state: the only memory
is a per-process hint of how many seconds each started clip asked for (used to
price a finished clip; a fresh process probes the returned video instead).

Paid create calls (`start_clip`) are sent exactly once: no SDK retry, no retry
here. A failure raises `ProviderTransientError` / `ProviderPermanentError` (or
`SubmitOutcomeUnknown` when the request may have arrived); the caller must not
resubmit automatically, because a second create can bill twice.
"""

from __future__ import annotations

import io
import re
import wave
from collections.abc import Awaitable
from typing import Any, TypeVar

import google.auth.credentials
import structlog
from google import genai
from google.genai import types
from pydantic import BaseModel, Field, ValidationError, create_model

from orchestrator.errors import (
    ConfigError,
    ProviderPermanentError,
    ProviderTransientError,
    SubmitOutcomeUnknown,
)
from orchestrator.providers.base import (
    Aspect,
    ClipDone,
    ClipFailed,
    ClipFiltered,
    ClipPending,
    ClipPoll,
    ClipRequest,
    Image,
    Narration,
    Shot,
    Storyboard,
)
from orchestrator.providers.google_client import (
    build_client,
    create_http_options,
    hide_secrets_in_sdk_logs,
    map_error,
    read_http_options,
    redact,
)
from orchestrator.providers.pricing import charge_for, price_for
from orchestrator.providers.settings import GoogleSettings

__all__ = ["CLIP_SECONDS", "GoogleProvider", "rpc_code_name"]

log = structlog.get_logger(__name__)

T = TypeVar("T")

# Veo 3.x accepts 4, 6 or 8 second clips; Vertex answers 400 for anything else.
CLIP_SECONDS = frozenset({4, 6, 8})
_ASPECTS = frozenset({"16:9", "9:16"})

# google.rpc.Code numbers, as they appear in a finished operation's `error.code`.
_RPC_NAMES = {
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}
_RPC_TRANSIENT = frozenset({2, 4, 8, 10, 13, 14})

# Operation names look like
# projects/{p}/locations/{l}/publishers/google/models/{model}/operations/{id}.
_OP_MODEL = re.compile(r"/models/(?P<model>[^/]+)/operations/")
# Gemini TTS answers `audio/L16;codec=pcm;rate=24000`: raw s16le mono PCM.
_PCM_RATE = re.compile(r"rate=(\d+)")
_DEFAULT_PCM_RATE = 24_000

_STORYBOARD_SYSTEM = (
    "You are a storyboard artist for short AI-generated videos. Each shot becomes one "
    "video clip that starts on its keyframe and ends on the next shot's keyframe, so "
    "neighbouring shots must flow into each other visually. Write concrete, filmable "
    "visual prompts (subject, setting, lighting, lens), a motion prompt describing "
    "camera and subject movement during the clip, and one narration line that can "
    "be spoken within the clip's length. Answer with JSON only."
)


def rpc_code_name(code: int) -> str:
    return _RPC_NAMES.get(code, f"RPC_{code}")


class _ShotOut(BaseModel):
    visual_prompt: str
    motion_prompt: str
    narration: str


def _board_schema(n_shots: int) -> type[BaseModel]:
    # min/max items travel to Vertex as the response schema's min_items/max_items.
    return create_model(
        "StoryboardOut",
        title=(str, ...),
        shots=(list[_ShotOut], Field(min_length=n_shots, max_length=n_shots)),
    )


def _pcm_to_wav(pcm: bytes, rate: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return buf.getvalue()


def _wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data), "rb") as wav:
        return wav.getnframes() / float(wav.getframerate())


def _probe_seconds(video: bytes) -> float | None:
    """Duration of an MP4 in memory, or None if it cannot be read."""
    try:
        import av

        container: Any = av.open(io.BytesIO(video))
        with container:
            if container.duration is None:
                return None
            return float(container.duration) / 1_000_000
    except Exception:  # a clip we cannot probe is still a clip; price falls back
        return None


class GoogleProvider:
    """Storyboards, keyframes, clips and narration from Google models on Vertex AI."""

    name = "google"

    def __init__(
        self,
        settings: GoogleSettings | None = None,
        *,
        credentials: google.auth.credentials.Credentials | None = None,
        client: genai.Client | None = None,
    ) -> None:
        self.settings = settings if settings is not None else GoogleSettings()
        s = self.settings
        # An unpriced model is a configuration error: fail at startup, not mid-run.
        for model in (s.storyboard_model, s.image_model, s.video_model, s.tts_model):
            price_for(model)
        self._client = client if client is not None else build_client(s, credentials=credentials)
        secrets = [s.api_key.get_secret_value()]
        token = getattr(credentials, "token", None)
        if isinstance(token, str):
            secrets.append(token)
        self._secrets = tuple(x for x in secrets if x)
        hide_secrets_in_sdk_logs(self._secrets)
        self._clip_seconds: dict[str, int] = {}
        self._log = log.bind(provider=self.name)

    async def aclose(self) -> None:
        await self._client.aio.aclose()

    # ---- plumbing ------------------------------------------------------------------------

    async def _call(self, action: str, call: Awaitable[T], *, submit: bool = False) -> T:
        try:
            return await call
        except Exception as exc:
            err = map_error(exc, action=action, secrets=self._secrets, submit=submit)
            if err is None:
                raise
            self._log.warning(
                "provider_call_failed", operation=action, error=str(err), transient=err.transient
            )
            # Chain the library error unless its text carries a secret (tracebacks
            # print causes, and logs print tracebacks).
            leaky = any(secret in repr(exc) for secret in self._secrets)
            raise err from (None if leaky else exc)

    def _redact(self, text: str) -> str:
        return redact(text, self._secrets)

    @staticmethod
    def _parts(response: types.GenerateContentResponse) -> list[types.Part]:
        if not response.candidates:
            return []
        content = response.candidates[0].content
        return list(content.parts or []) if content is not None else []

    @staticmethod
    def _why_empty(response: types.GenerateContentResponse) -> str:
        if response.prompt_feedback is not None and response.prompt_feedback.block_reason:
            return f"prompt blocked ({response.prompt_feedback.block_reason})"
        if response.candidates and response.candidates[0].finish_reason is not None:
            return f"finish reason {response.candidates[0].finish_reason}"
        return "no candidates"

    # ---- storyboard ------------------------------------------------------------------------

    async def plan_storyboard(
        self,
        brief: str,
        n_shots: int,
        seconds: int,
        aspect: Aspect,
        notes: dict[int, str] | None = None,
    ) -> Storyboard:
        if n_shots < 1:
            raise ProviderPermanentError(f"n_shots must be >= 1, got {n_shots}")
        model = self.settings.storyboard_model
        schema = _board_schema(n_shots)
        lines = [
            f"Brief: {brief}",
            f"Plan exactly {n_shots} shots of {seconds} seconds each, aspect ratio {aspect}.",
        ]
        for number, note in sorted((notes or {}).items()):
            lines.append(f"Reviewer note for shot {number}: {note}")
        config = types.GenerateContentConfig(
            system_instruction=_STORYBOARD_SYSTEM,
            response_mime_type="application/json",
            response_schema=schema,
        )
        response = await self._call(
            "plan_storyboard",
            self._client.aio.models.generate_content(
                model=model, contents="\n".join(lines), config=config
            ),
        )
        text = response.text or ""
        if not text.strip():
            raise ProviderPermanentError(
                f"storyboard model returned no text ({self._why_empty(response)})", detail=text
            )
        try:
            board = schema.model_validate_json(text)
        except ValidationError as exc:
            raise ProviderPermanentError(
                f"storyboard model returned invalid JSON: {exc.error_count()} error(s)",
                detail=text,
            ) from exc
        data: dict[str, Any] = board.model_dump()
        shots = tuple(
            Shot(
                number=i + 1,
                visual_prompt=shot["visual_prompt"],
                motion_prompt=shot["motion_prompt"],
                narration=shot["narration"],
                seconds=seconds,
            )
            for i, shot in enumerate(data["shots"])
        )
        charge = charge_for(self.name, model, 1)
        self._log.info("storyboard_planned", model=model, shots=len(shots), usd=charge.usd)
        return Storyboard(title=str(data["title"]), shots=shots, charge=charge)

    # ---- keyframes ------------------------------------------------------------------------

    async def render_keyframe(
        self, prompt: str, aspect: Aspect, reference: Image | None = None
    ) -> Image:
        model = self.settings.image_model
        parts: list[types.Part] = []
        if reference is not None:
            # The previous keyframe goes first, as an image part, so characters,
            # palette and lighting carry over to this one.
            parts.append(types.Part.from_bytes(data=reference.data, mime_type=reference.mime_type))
            text = (
                "Keep the characters, palette, lighting and style of the reference image. "
                f"New frame: {prompt}"
            )
        else:
            text = prompt
        parts.append(types.Part.from_text(text=text))
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio=aspect),
        )
        response = await self._call(
            "render_keyframe",
            self._client.aio.models.generate_content(
                model=model, contents=[types.Content(role="user", parts=parts)], config=config
            ),
        )
        for part in self._parts(response):
            blob = part.inline_data
            if blob is not None and blob.data and (blob.mime_type or "").startswith("image/"):
                charge = charge_for(self.name, model, 1)
                self._log.info(
                    "keyframe_rendered",
                    model=model,
                    bytes=len(blob.data),
                    referenced=reference is not None,
                )
                return Image(data=blob.data, mime_type=blob.mime_type or "image/png", charge=charge)
        said = " ".join(p.text for p in self._parts(response) if p.text)
        raise ProviderPermanentError(
            f"image model returned no image ({self._why_empty(response)})", detail=said or None
        )

    # ---- clips ------------------------------------------------------------------------------

    async def start_clip(self, request: ClipRequest) -> str:
        """Submit one Veo generation; return its operation name. Sent exactly once."""
        seconds, aspect = request.seconds, request.aspect
        if seconds not in CLIP_SECONDS:
            raise ProviderPermanentError(f"Veo clips must be 4, 6 or 8 seconds long, not {seconds}")
        if aspect not in _ASPECTS:
            raise ProviderPermanentError(f"Veo aspect ratio must be 16:9 or 9:16, not {aspect!r}")
        s = self.settings
        start_frame, end_frame = request.start_frame, request.end_frame
        config = types.GenerateVideosConfig(
            # Vertex: parameters.{sampleCount,durationSeconds,aspectRatio,negativePrompt}
            # and instances[0].lastFrame {bytesBase64Encoded, mimeType}.
            number_of_videos=1,
            duration_seconds=seconds,
            aspect_ratio=aspect,
            negative_prompt=request.negative_prompt or None,
            last_frame=types.Image(image_bytes=end_frame.data, mime_type=end_frame.mime_type),
            generate_audio=s.video_generate_audio,
            resolution=s.video_resolution,
            http_options=create_http_options(),
        )
        # `source=` (not the deprecated prompt=/image= keywords, which warn).
        source = types.GenerateVideosSource(
            prompt=request.prompt,
            image=types.Image(image_bytes=start_frame.data, mime_type=start_frame.mime_type),
        )
        operation = await self._call(
            "start_clip",
            self._client.aio.models.generate_videos(
                model=s.video_model, source=source, config=config
            ),
            submit=True,
        )
        if not operation.name:
            raise SubmitOutcomeUnknown(
                "start_clip: Vertex accepted the request but returned no operation name"
            )
        self._clip_seconds[operation.name] = seconds
        self._log.info(
            "clip_submitted", model=s.video_model, operation_name=operation.name, seconds=seconds
        )
        return operation.name

    async def poll_clip(self, operation_name: str) -> ClipPoll:
        """One status read; rebuilt from the saved name, so it works in a new process."""
        # On Vertex, operations.get posts {operationName} to
        # {resource}:fetchPredictOperation, where resource is the name before
        # "/operations/"; any name from predictLongRunning works with any client.
        operation = await self._call(
            "poll_clip",
            self._client.aio.operations.get(
                # `name` lives on the Operation mixin, which the pydantic plugin misses.
                types.GenerateVideosOperation(name=operation_name),  # type: ignore[call-arg]
                config=types.GetOperationConfig(http_options=read_http_options(self.settings)),
            ),
        )
        log = self._log.bind(operation_name=operation_name)
        if not operation.done:
            log.debug("clip_polled", state="pending")
            return ClipPending()
        seconds_hint = self._clip_seconds.pop(operation_name, None)
        model = self._model_of(operation_name)
        if operation.error:
            code = int(operation.error.get("code", 2))
            message = self._redact(str(operation.error.get("message", "")))
            result = ClipFailed(
                code=rpc_code_name(code), message=message, transient=code in _RPC_TRANSIENT
            )
            log.info("clip_polled", state="failed", code=result.code, transient=result.transient)
            return result
        response = operation.response or operation.result
        videos = list(response.generated_videos or []) if response is not None else []
        for generated in videos:
            video = generated.video
            if video is None or not (video.video_bytes or video.uri):
                continue
            seconds = self._billed_seconds(seconds_hint, video.video_bytes, operation_name)
            charge = charge_for(
                self.name, model, seconds, with_audio=self.settings.video_generate_audio
            )
            log.info("clip_polled", state="done", seconds=seconds, usd=charge.usd)
            return ClipDone(
                video=video.video_bytes,
                uri=video.uri,
                mime_type=video.mime_type or "video/mp4",
                charge=charge,
            )
        filtered = response.rai_media_filtered_count if response is not None else None
        reasons = tuple(response.rai_media_filtered_reasons or ()) if response is not None else ()
        if filtered or reasons:
            # Filtered generations are not billed.
            charge = charge_for(self.name, model, 0, billed=False)
            log.info("clip_polled", state="filtered", reasons=list(reasons))
            return ClipFiltered(reasons=reasons, charge=charge)
        log.warning("clip_polled", state="empty")
        return ClipFailed(
            code="EMPTY_RESULT",
            message="operation finished with no video and no filter reason",
            transient=True,
        )

    def _model_of(self, operation_name: str) -> str:
        match = _OP_MODEL.search(operation_name)
        if match:
            try:
                price_for(match.group("model"))
            except ConfigError:
                return self.settings.video_model  # unpriced: bill as the configured model
            return match.group("model")
        return self.settings.video_model

    def _billed_seconds(self, hint: int | None, video: bytes | None, operation_name: str) -> float:
        if hint is not None:
            return float(hint)
        if video:
            probed = _probe_seconds(video)
            if probed is not None:
                return float(max(1, round(probed)))
        # A gs:// result in a fresh process: assume the longest clip rather than $0.
        self._log.warning(
            "clip_seconds_estimated", operation_name=operation_name, seconds=max(CLIP_SECONDS)
        )
        return float(max(CLIP_SECONDS))

    # ---- narration ------------------------------------------------------------------------

    async def narrate(self, text: str, voice: str) -> Narration:
        model = self.settings.tts_model
        config = types.GenerateContentConfig(
            response_modalities=["AUDIO"],
            speech_config=types.SpeechConfig(
                voice_config=types.VoiceConfig(
                    prebuilt_voice_config=types.PrebuiltVoiceConfig(
                        voice_name=voice or self.settings.default_voice
                    )
                )
            ),
        )
        response = await self._call(
            "narrate",
            self._client.aio.models.generate_content(model=model, contents=text, config=config),
        )
        for part in self._parts(response):
            blob = part.inline_data
            if blob is None or not blob.data:
                continue
            mime = (blob.mime_type or "").lower()
            if mime in ("audio/wav", "audio/x-wav", "audio/wave"):
                wav = blob.data
            elif mime.startswith("audio/l16") or mime.startswith("audio/pcm"):
                rate_match = _PCM_RATE.search(mime)
                rate = int(rate_match.group(1)) if rate_match else _DEFAULT_PCM_RATE
                wav = _pcm_to_wav(blob.data, rate)
            else:
                continue
            seconds = _wav_seconds(wav)
            charge = charge_for(self.name, model, seconds / 60.0)
            self._log.info(
                "narration_synthesized", model=model, seconds=round(seconds, 3), usd=charge.usd
            )
            return Narration(wav=wav, seconds=seconds, charge=charge, extra={"voice": voice})
        raise ProviderTransientError(
            f"speech model returned no audio ({self._why_empty(response)})"
        )
