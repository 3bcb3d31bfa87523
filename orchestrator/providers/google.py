"""The `google` provider: Gemini, Veo and Gemini TTS on Vertex AI via google-genai.

Implements all four provider protocols. Holds no database state: the only memory
is a per-process hint of how many seconds each started clip asked for (used to
price a finished clip; a fresh process probes the returned video instead).

Paid create calls (`start_clip`) are sent exactly once: no SDK retry, and no retry
here except after 429 RESOURCE_EXHAUSTED, which means Vertex did not take the request
(nothing created, nothing billed). Any other failure raises `ProviderTransientError` /
`ProviderPermanentError` (or `SubmitOutcomeUnknown` when the request may have arrived:
a timeout, a dropped connection, 500/502/504); the caller must not resubmit
automatically, because a second create can bill twice.

Safety filters: a request refused for its content (400 INVALID_ARGUMENT in Vertex's
safety wording, `promptFeedback.blockReason`, an IMAGE_SAFETY-like finish reason)
raises `ContentFiltered`; a finished operation whose error says the prompt could not
be submitted is a `ClipFiltered`. Neither is billed.

Every model comes from the catalogue (`catalogue.py`): an unknown or retired model is a
`ConfigError` when the provider is built, naming the setting to change.
"""

from __future__ import annotations

import asyncio
import io
import re
import wave
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

import google.auth.credentials
import structlog
from google import genai
from google.genai import types
from pydantic import BaseModel, Field, ValidationError, create_model

from orchestrator.errors import (
    ConfigError,
    ContentFiltered,
    ProviderPermanentError,
    ProviderTransientError,
    SubmitOutcomeUnknown,
)
from orchestrator.media.imagetype import sniff_image_type
from orchestrator.providers.base import (
    Aspect,
    Charge,
    ClipDone,
    ClipFailed,
    ClipFiltered,
    ClipOutcomeUnknown,
    ClipPending,
    ClipPoll,
    ClipRequest,
    Image,
    Narration,
    Shot,
    Storyboard,
)
from orchestrator.providers.catalogue import (
    CAPABILITIES,
    CATALOGUE,
    ENV_VARS,
    Capability,
    ModelEntry,
    model_entry,
    quote_clip,
    quote_image,
    quote_speech,
    quote_tokens,
    retirement_problem,
    unbilled,
)
from orchestrator.providers.gcs import GcsReader
from orchestrator.providers.google_client import (
    build_client,
    create_http_options,
    error_message,
    hide_secrets_in_sdk_logs,
    is_rate_limited,
    is_safety_block,
    is_safety_text,
    load_credentials,
    map_error,
    read_http_options,
    redact,
    retry_delay_s,
)
from orchestrator.providers.settings import GoogleSettings

__all__ = [
    "CLIP_SECONDS",
    "GoogleProvider",
    "RateLimitListener",
    "check_models",
    "rpc_code_name",
]

log = structlog.get_logger(__name__)

T = TypeVar("T")

# Hears a 429 on a paid create: (model, seconds to hold back, reason).
RateLimitListener = Callable[[str, float, str], Awaitable[object]]

# Veo 3.x accepts 4, 6 or 8 second clips; Vertex answers 400 for anything else.
CLIP_SECONDS = frozenset({4, 6, 8})
# Finish reasons and block reasons that mean "a safety filter withheld the output"
# (google-genai 3.x FinishReason / BlockedReason; Vertex Gemini image RAI docs).
_SAFETY_FINISH = frozenset(
    {
        "SAFETY",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "MODEL_ARMOR",
    }
)
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


def _image_parts(images: Sequence[Image]) -> list[types.Part]:
    # Sent inline (`inlineData {mimeType, data}`): Vertex takes up to 7 MB per inline
    # image, which orchestrator.references checks before any request.
    return [types.Part.from_bytes(data=i.data, mime_type=i.mime_type) for i in images]


def _references_note(count: int, *, then_previous: bool) -> str:
    if count == 1:
        which = "The first image is" if then_previous else "The image is"
        what = "the creator's reference image"
    else:
        which = f"The first {count} images are" if then_previous else f"The {count} images are"
        what = "the creator's reference images"
    return (
        f"{which} {what} (a product, a character or a style): keep what they show "
        "recognisable and faithful in this frame."
    )


def rpc_code_name(code: int) -> str:
    return _RPC_NAMES.get(code, f"RPC_{code}")


def _enum_name(value: object) -> str:
    return str(getattr(value, "value", value) or "")


def check_models(
    settings: GoogleSettings,
    *,
    today: date | None = None,
    where: Mapping[Capability, str] | None = None,
) -> dict[Capability, ModelEntry]:
    """The catalogue entry of each configured model; ConfigError naming what to change.

    Refuses a model that is unknown, of another capability, not a Vertex model, or
    retired (a retired id answers 404), and video options the model has no price for.
    `where` names the setting of each capability (default: its REELGATE_GOOGLE_ env var).
    """
    today = today or date.today()
    places = dict(where or {})
    models = {
        "storyboard": settings.storyboard_model,
        "image": settings.image_model,
        "video": settings.video_model,
        "tts": settings.tts_model,
    }
    entries: dict[Capability, ModelEntry] = {}
    for capability in CAPABILITIES:
        setting = places.get(capability, ENV_VARS[capability])
        entry = model_entry(models[capability], capability=capability, setting=setting)
        if entry.provider != "google":
            raise ConfigError(
                f"{entry.id} is made on this machine, not on Vertex: set {setting} to a "
                f"Google {capability} model"
            )
        problem = retirement_problem(entry, today, setting=setting)
        if problem is not None and problem[0] == "retired":
            raise ConfigError(problem[1])
        entries[capability] = entry
    # Priced at start, so a resolution / audio combination with no price fails now.
    quote_clip(
        entries["video"].id,
        8,
        resolution=settings.video_resolution,
        with_audio=settings.video_generate_audio,
    )
    return entries


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
        today: date | None = None,
        on_rate_limited: RateLimitListener | None = None,
        on_retry: Callable[[str, str], None] | None = None,
    ) -> None:
        self.settings = settings if settings is not None else GoogleSettings()
        # Told of every 429 on a paid create (model, seconds to wait, why), before the
        # retry here: the daemon stores it so every replica holds back.
        self._on_rate_limited = on_rate_limited
        # Told of every call sent again after a 429 (the metrics count them).
        self._on_retry = on_retry
        s = self.settings
        # An unknown or retired model is a configuration error: fail at start, not at
        # the first paid call.
        self.models = check_models(s, today=today)
        self._gcs: GcsReader | None = None
        if s.output_gcs_uri:
            if s.api_key.get_secret_value() and credentials is None:
                raise ConfigError(
                    "REELGATE_GOOGLE_OUTPUT_GCS_URI needs project credentials "
                    "(REELGATE_GOOGLE_CREDENTIALS_FILE or application default credentials): "
                    "an express-mode API key cannot read Cloud Storage"
                )
            if credentials is None:
                credentials = load_credentials(s)
            self._gcs = GcsReader(
                credentials, base_url=s.gcs_base_url, timeout_s=s.timeout_ms / 1000
            )
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
        if self._gcs is not None:
            await self._gcs.aclose()

    # ---- plumbing ------------------------------------------------------------------------

    async def _call(
        self,
        action: str,
        call: Callable[[], Awaitable[T]],
        *,
        model: str,
        submit: bool = False,
        retry_rate_limit: bool = True,
    ) -> T:
        s = self.settings
        attempt = 0
        while True:
            try:
                return await call()
            except Exception as exc:
                limited = is_rate_limited(exc)
                delay = retry_delay_s(exc) if limited else None
                if delay is None:
                    delay = min(s.rate_limit_max_s, s.rate_limit_initial_s * 2.0**attempt)
                if limited and submit and self._on_rate_limited is not None:
                    # Told before the retry (or the give-up): every replica holds back.
                    await self._on_rate_limited(
                        model, delay, f"{action}: 429 RESOURCE_EXHAUSTED from Vertex"
                    )
                if retry_rate_limit and limited and attempt < s.rate_limit_retries:
                    # 429 RESOURCE_EXHAUSTED: Vertex refused the request before doing any
                    # work (quota or shared capacity), so no operation was created and
                    # nothing billed; sending it again cannot pay twice. This is the only
                    # error a paid create is retried on: a timeout or 5xx may have started it.
                    attempt += 1
                    self._log.warning(
                        "provider_rate_limited", operation=action, attempt=attempt, wait_s=delay
                    )
                    if self._on_retry is not None:
                        self._on_retry("google", action)
                    await asyncio.sleep(delay)
                    continue
                if is_safety_block(exc):
                    reason = self._redact(error_message(exc))
                    self._log.warning("provider_blocked_input", operation=action, reason=reason)
                    raise ContentFiltered(
                        f"{action}: blocked by the safety filter: {reason}",
                        reasons=(reason,),
                        model=model,
                    ) from None
                err = map_error(exc, action=action, secrets=self._secrets, submit=submit)
                if err is None:
                    raise
                self._log.warning(
                    "provider_call_failed",
                    operation=action,
                    error=str(err),
                    transient=err.transient,
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
            return f"prompt blocked ({_enum_name(response.prompt_feedback.block_reason)})"
        if response.candidates and response.candidates[0].finish_reason is not None:
            return f"finish reason {_enum_name(response.candidates[0].finish_reason)}"
        return "no candidates"

    def _blocked(self, response: types.GenerateContentResponse) -> tuple[str, ...]:
        """Why a safety filter withheld the answer (promptFeedback / finish reason); () if not."""
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason:
            reason = f"prompt blocked: {_enum_name(feedback.block_reason)}"
            if feedback.block_reason_message:
                reason += f" ({feedback.block_reason_message})"
            return (self._redact(reason),)
        for candidate in response.candidates or []:
            finish = _enum_name(candidate.finish_reason)
            if finish in _SAFETY_FINISH:
                reason = f"output blocked: {finish}"
                if candidate.finish_message:
                    reason += f" ({candidate.finish_message})"
                return (self._redact(reason),)
        return ()

    def _filtered(self, action: str, model: str, reasons: tuple[str, ...]) -> ContentFiltered:
        self._log.warning("provider_blocked_output", operation=action, reasons=list(reasons))
        return ContentFiltered(
            f"{action}: blocked by the safety filter: {'; '.join(reasons)}",
            reasons=reasons,
            model=model,
        )

    def _token_charge(
        self, model: str, response: types.GenerateContentResponse, prompt: str
    ) -> Charge:
        """What a text call cost: prompt, candidates and thinking tokens at their rates."""
        usage = response.usage_metadata
        if usage is None or usage.prompt_token_count is None:
            # No usage block: estimate at ~4 characters a token rather than record $0.
            self._log.warning("usage_metadata_missing", model=model)
            return quote_tokens(
                model,
                prompt_tokens=len(prompt) // 4 + 1,
                output_tokens=len(response.text or "") // 4 + 1,
            )
        return quote_tokens(
            model,
            prompt_tokens=usage.prompt_token_count or 0,
            output_tokens=usage.candidates_token_count or 0,
            thinking_tokens=usage.thoughts_token_count or 0,
        )

    # ---- storyboard ------------------------------------------------------------------------

    async def plan_storyboard(
        self,
        brief: str,
        n_shots: int,
        seconds: int,
        aspect: Aspect,
        notes: dict[int, str] | None = None,
        references: Sequence[Image] = (),
    ) -> Storyboard:
        if n_shots < 1:
            raise ProviderPermanentError(f"n_shots must be >= 1, got {n_shots}")
        model = self.settings.storyboard_model
        schema = _board_schema(n_shots)
        lines = [
            f"Brief: {brief}",
            f"Plan exactly {n_shots} shots of {seconds} seconds each, aspect ratio {aspect}.",
        ]
        if references:
            which = (
                "The attached image is the creator's reference image"
                if len(references) == 1
                else f"The {len(references)} attached images are the creator's reference images"
            )
            lines.append(
                f"{which} (products, characters or a style). Feature what they show, and "
                "describe it concretely in the visual prompts: each keyframe is drawn with them."
            )
        for number, note in sorted((notes or {}).items()):
            lines.append(f"Reviewer note for shot {number}: {note}")
        prompt = "\n".join(lines)
        # Images first, then the text: the model reads the brief with the images.
        contents: str | list[types.Content] = (
            [
                types.Content(
                    role="user",
                    parts=[*_image_parts(references), types.Part.from_text(text=prompt)],
                )
            ]
            if references
            else prompt
        )
        config = types.GenerateContentConfig(
            system_instruction=_STORYBOARD_SYSTEM,
            response_mime_type="application/json",
            response_schema=schema,
        )
        response = await self._call(
            "plan_storyboard",
            lambda: self._client.aio.models.generate_content(
                model=model, contents=contents, config=config
            ),
            model=model,
        )
        text = response.text or ""
        blocked = self._blocked(response)
        if blocked and not text.strip():
            raise self._filtered("plan_storyboard", model, blocked)
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
        charge = self._token_charge(model, response, prompt)
        self._log.info(
            "storyboard_planned", model=model, shots=len(shots), tokens=charge.units, usd=charge.usd
        )
        return Storyboard(title=str(data["title"]), shots=shots, charge=charge)

    # ---- keyframes ------------------------------------------------------------------------

    async def render_keyframe(
        self,
        prompt: str,
        aspect: Aspect,
        reference: Image | None = None,
        references: Sequence[Image] = (),
    ) -> Image:
        model = self.settings.image_model
        limit = self.models["image"].max_input_images
        sent = len(references) + (reference is not None)
        if limit is not None and sent > limit:
            raise ProviderPermanentError(
                f"{model} takes at most {limit} input images a request, not {sent}: "
                "remove some References"
            )
        # The creator's references first, then the previous keyframe, then the text.
        parts = _image_parts(references)
        notes = [_references_note(len(references), then_previous=reference is not None)]
        if not references:
            notes = []
        if reference is not None:
            # The previous keyframe, as an image part, so characters, palette and
            # lighting carry over to this one.
            parts.append(types.Part.from_bytes(data=reference.data, mime_type=reference.mime_type))
            notes.append(
                "Keep the characters, palette, lighting and style of the "
                + ("last image (the previous frame)." if references else "reference image.")
            )
        text = " ".join([*notes, f"New frame: {prompt}"]) if notes else prompt
        parts.append(types.Part.from_text(text=text))
        config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio=aspect),
        )
        response = await self._call(
            "render_keyframe",
            lambda: self._client.aio.models.generate_content(
                model=model, contents=[types.Content(role="user", parts=parts)], config=config
            ),
            model=model,
        )
        for part in self._parts(response):
            blob = part.inline_data
            if blob is not None and blob.data and (blob.mime_type or "").startswith("image/"):
                # The bytes decide the type: current image models may answer JPEG, and
                # a JPEG must never be stored or sent to Veo labelled as PNG.
                mime = sniff_image_type(blob.data) or blob.mime_type or "image/png"
                if blob.mime_type and mime != blob.mime_type:
                    self._log.warning(
                        "keyframe_mime_mislabelled", declared=blob.mime_type, actual=mime
                    )
                charge = quote_image(model)
                self._log.info(
                    "keyframe_rendered",
                    model=model,
                    bytes=len(blob.data),
                    mime_type=mime,
                    referenced=reference is not None,
                    references=len(references),
                )
                return Image(data=blob.data, mime_type=mime, charge=charge)
        blocked = self._blocked(response)
        if blocked:
            raise self._filtered("render_keyframe", model, blocked)
        said = " ".join(p.text for p in self._parts(response) if p.text)
        raise ProviderPermanentError(
            f"image model returned no image ({self._why_empty(response)})", detail=said or None
        )

    # ---- clips ------------------------------------------------------------------------------

    async def start_clip(self, request: ClipRequest) -> str:
        """Submit one Veo generation; return its operation name. Sent exactly once."""
        seconds, aspect = request.seconds, request.aspect
        s = self.settings
        entry = self.models["video"]
        allowed = entry.durations_for(s.video_resolution)
        if seconds not in allowed:
            *most, last = map(str, allowed)
            lengths = f"{', '.join(most)} or {last}" if most else last
            raise ProviderPermanentError(
                f"{entry.id} renders {s.video_resolution or entry.default_resolution} clips of "
                f"{lengths} seconds, not {seconds}: change the task's Clip Seconds"
                + (" or REELGATE_GOOGLE_VIDEO_RESOLUTION" if allowed != entry.durations_s else "")
            )
        if aspect not in _ASPECTS:
            raise ProviderPermanentError(f"Veo aspect ratio must be 16:9 or 9:16, not {aspect!r}")
        start_frame, end_frame = request.start_frame, request.end_frame
        config = types.GenerateVideosConfig(
            # Vertex: parameters.{sampleCount,durationSeconds,aspectRatio,negativePrompt,
            # resolution,generateAudio,storageUri} and instances[0].lastFrame
            # {bytesBase64Encoded, mimeType}.
            number_of_videos=1,
            duration_seconds=seconds,
            aspect_ratio=aspect,
            negative_prompt=request.negative_prompt or None,
            last_frame=types.Image(image_bytes=end_frame.data, mime_type=end_frame.mime_type),
            generate_audio=s.video_generate_audio,
            resolution=s.video_resolution,
            output_gcs_uri=s.output_gcs_uri,
            http_options=create_http_options(),
        )
        # `source=` (not the deprecated prompt=/image= keywords, which warn).
        source = types.GenerateVideosSource(
            prompt=request.prompt,
            image=types.Image(image_bytes=start_frame.data, mime_type=start_frame.mime_type),
        )
        operation = await self._call(
            "start_clip",
            lambda: self._client.aio.models.generate_videos(
                model=s.video_model, source=source, config=config
            ),
            model=s.video_model,
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

    def _clip_charge(self, model: str, seconds: float) -> Charge:
        s = self.settings
        return quote_clip(
            model, seconds, resolution=s.video_resolution, with_audio=s.video_generate_audio
        )

    async def poll_clip(self, operation_name: str) -> ClipPoll:
        """One status read; rebuilt from the saved name, so it works in a new process."""
        # On Vertex, operations.get posts {operationName} to
        # {resource}:fetchPredictOperation, where resource is the name before
        # "/operations/"; any name from predictLongRunning works with any client.
        model = self._model_of(operation_name)
        operation = await self._call(
            "poll_clip",
            lambda: self._client.aio.operations.get(
                # `name` lives on the Operation mixin, which the pydantic plugin misses.
                types.GenerateVideosOperation(name=operation_name),  # type: ignore[call-arg]
                config=types.GetOperationConfig(http_options=read_http_options(self.settings)),
            ),
            model=model,
            retry_rate_limit=False,  # reads are retried by the SDK (read_http_options)
        )
        log = self._log.bind(operation_name=operation_name)
        if not operation.done:
            log.debug("clip_polled", state="pending")
            return ClipPending()
        seconds_hint = self._clip_seconds.get(operation_name)
        if operation.error:
            self._clip_seconds.pop(operation_name, None)
            code = int(operation.error.get("code", 2))
            message = self._redact(str(operation.error.get("message", "")))
            if is_safety_text(message):
                # "The prompt could not be submitted ... Support codes: ...": the input
                # was refused; nothing was generated or billed.
                log.info("clip_polled", state="filtered", input_side=True)
                charge = unbilled(self._clip_charge(model, float(seconds_hint or 0)))
                return ClipFiltered(reasons=(message,), charge=charge)
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
            data, uri = video.video_bytes, video.uri
            if not data and uri and uri.startswith("gs://"):
                data, uri = await self._download(uri), None
            seconds = self._billed_seconds(seconds_hint, data, operation_name)
            self._clip_seconds.pop(operation_name, None)
            charge = self._clip_charge(model, seconds)
            log.info("clip_polled", state="done", seconds=seconds, usd=charge.usd)
            return ClipDone(
                video=data, uri=uri, mime_type=video.mime_type or "video/mp4", charge=charge
            )
        self._clip_seconds.pop(operation_name, None)
        filtered = response.rai_media_filtered_count if response is not None else None
        reasons = tuple(response.rai_media_filtered_reasons or ()) if response is not None else ()
        if filtered or reasons:
            # Filtered generations are not billed.
            charge = unbilled(self._clip_charge(model, float(seconds_hint or 0)))
            log.info("clip_polled", state="filtered", reasons=list(reasons))
            return ClipFiltered(reasons=reasons, charge=charge)
        log.warning("clip_polled", state="empty")
        # Done, yet neither a video nor a filter reason: the clip may have been made
        # (and billed) and its result lost. Flag it like a lost submission.
        return ClipOutcomeUnknown(
            message="the operation finished with no video and no filter reason; it may "
            "have been generated and billed, so it was not resubmitted"
        )

    async def _download(self, uri: str) -> bytes:
        if self._gcs is None:
            raise ProviderPermanentError(
                f"download_clip {uri}: a gs:// result needs project credentials "
                "(REELGATE_GOOGLE_OUTPUT_GCS_URI with a credentials file or ADC)"
            )
        data = await self._gcs.read(uri)
        self._log.info("clip_downloaded", uri=uri, bytes=len(data))
        return data

    def _model_of(self, operation_name: str) -> str:
        match = _OP_MODEL.search(operation_name)
        if match:
            entry = CATALOGUE.get(match.group("model"))
            if entry is not None and entry.capability == "video":
                return entry.id
        return self.settings.video_model  # not catalogued: bill as the configured model

    def _billed_seconds(self, hint: int | None, video: bytes | None, operation_name: str) -> float:
        if hint is not None:
            return float(hint)
        if video:
            probed = _probe_seconds(video)
            if probed is not None:
                return float(max(1, round(probed)))
        # Unreadable in a fresh process: assume the longest clip rather than $0.
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
            lambda: self._client.aio.models.generate_content(
                model=model, contents=text, config=config
            ),
            model=model,
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
            usage = response.usage_metadata
            # TTS is billed as TTS: text input tokens plus audio output tokens.
            charge = quote_speech(
                model,
                seconds=seconds,
                audio_tokens=usage.candidates_token_count if usage is not None else None,
                text_tokens=(usage.prompt_token_count or 0) if usage is not None else 0,
            )
            self._log.info(
                "narration_synthesized", model=model, seconds=round(seconds, 3), usd=charge.usd
            )
            return Narration(wav=wav, seconds=seconds, charge=charge, extra={"voice": voice})
        blocked = self._blocked(response)
        if blocked:
            raise self._filtered("narrate", model, blocked)
        raise ProviderTransientError(
            f"speech model returned no audio ({self._why_empty(response)})"
        )
