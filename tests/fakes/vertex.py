"""A strict fake Vertex AI endpoint that the real google-genai SDK talks to over loopback.

Point a client at it with ``HttpOptions(base_url=fake.url)`` and ``vertexai=True``
(project + location with static-token credentials, or an express-mode api key).

Routes (any API version prefix, with or without ``projects/{p}/locations/{l}/``):
- ``.../models/{model}:predictLongRunning`` - Veo create; returns ``{"name": op}``
- ``.../models/{model}:fetchPredictOperation`` - Veo poll, body ``{"operationName"}``
- ``.../models/{model}:generateContent`` - Gemini text/JSON, IMAGE and AUDIO output;
  input images (``inlineData`` parts) are checked like Vertex does: count per model,
  7 MB each, an image type, and (stricter) a label that matches the bytes
- ``.../models/{model}:predict`` - Imagen
- ``GET .../publishers/google/models/{model}`` - models.get (google-genai sends it
  without the project prefix when vertexai=True: ``_api_client._build_request``)
- ``GET storage/v1/b/{bucket}/o/{object}?alt=media`` - Cloud Storage reads of clips
  written to ``parameters.storageUri`` (bearer token required, as on GCS)

Strict like Vertex: a model id that is not in the catalogue (or is retired) answers
404 NOT_FOUND; Veo parameters out of range answer 400 INVALID_ARGUMENT; a per-model
requests-per-minute quota answers 429 RESOURCE_EXHAUSTED; safety filters answer as
Vertex does (a 400 in its safety wording, a finished operation's error,
``promptFeedback.blockReason``, an ``IMAGE_SAFETY`` finish reason).

Wire shapes mirror Vertex: errors are ``{"error": {"code", "message", "status",
"details"}}``; a finished Veo operation carries ``response`` with ``@type``
``...GenerateVideoResponse``, ``videos[]`` (``bytesBase64Encoded``, or ``gcsUri`` when
the request named ``storageUri``) and ``raiMediaFilteredCount`` /
``raiMediaFilteredReasons``; a failed one carries ``error: {code, message}`` with a
google.rpc code; a pending one only its name.

Knobs are plain attributes and methods, safe to change while the server runs.
Counters (``create_calls`` per prompt on arrival, ``accepted_creates`` per prompt
that made an operation, ``poll_calls`` per operation, ``done_answers`` per operation
answered done) and the request log live in
the test process, so they also count a subprocess's calls.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import io
import json
import math
import re
import struct
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import MISSING, dataclass, field, fields
from datetime import date
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from PIL import Image as PILImage
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orchestrator.media.ffmpeg import ffmpeg_exe
from orchestrator.providers.catalogue import CATALOGUE
from reelgate.serving import ThreadedServer

__all__ = [
    "INPUT_BLOCK_MESSAGE",
    "REALISTIC_OPERATION_SECONDS",
    "RPC_STATUS",
    "FakeOperation",
    "FakeVertex",
    "RecordedRequest",
    "b64decode_any",
    "inline_images",
    "tiny_jpeg",
    "tiny_mp4",
    "tiny_png",
]

Action = Literal["create", "poll", "generate", "predict", "get_model"]

_ACTIONS: dict[str, Action] = {
    "predictLongRunning": "create",
    "fetchPredictOperation": "poll",
    "generateContent": "generate",
    "predict": "predict",
}

# HTTP status -> google.rpc status name, as Vertex puts it in error bodies.
RPC_STATUS: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

_VIDEO_RESPONSE_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"
_DEFAULT_RAI_REASON = (
    "Unable to show generated videos. All videos were filtered out because they "
    "violated Vertex AI's usage guidelines. Support codes: 58061214"
)
# Vertex's wording for a prompt refused before generation (support code 29310472 is
# "celebrity / prompt input" in the Vertex Gemini image RAI table, checked 2026-12-01).
INPUT_BLOCK_MESSAGE = (
    "The prompt could not be submitted. This prompt contains words that violate Vertex "
    "AI's usage guidelines. Try rephrasing the prompt. If you think this was an error, "
    "send feedback. Support codes: 29310472"
)
_IMAGE_SAFETY_MESSAGE = (
    "Unable to show the generated image. The image was filtered out because it violated "
    "Google's Generative AI Prohibited Use policy. Support codes: 17301594"
)
PCM_RATE = 24_000
# Gemini TTS bills 25 audio tokens per second of speech.
_AUDIO_TOKENS_PER_SECOND = 25
# Operations take seconds, not zero: what acceptance tests run with (Veo's published
# range is 11 s to 6 min; a few seconds keeps the suite short but exercises waiting).
REALISTIC_OPERATION_SECONDS = 3.0
_VEO_ASPECTS = ("16:9", "9:16")
_MODEL_DOCS = "https://cloud.google.com/vertex-ai/generative-ai/docs/learn/model-versions"


@functools.cache
def tiny_mp4() -> bytes:
    """A real 1 s, 64x36 H.264 MP4 (made once with ffmpeg, cached on disk)."""
    path = Path(tempfile.gettempdir()) / "reelgate-fake-veo-v1.mp4"
    if not path.exists() or path.stat().st_size == 0:
        tmp = path.with_suffix(f".{uuid.uuid4().hex}.mp4")
        subprocess.run(
            [
                ffmpeg_exe(),
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=64x36:rate=8:duration=1",
                "-pix_fmt",
                "yuv420p",
                "-c:v",
                "libx264",
                "-movflags",
                "+faststart",
                str(tmp),
            ],
            check=True,
            timeout=60,
        )
        tmp.replace(path)
    return path.read_bytes()


def b64decode_any(data: str) -> bytes:
    """Decode standard or URL-safe base64, padded or not.

    google-genai sends `Part` bytes URL-safe encoded (pydantic's base64 mode) but
    `Image.image_bytes` standard encoded; Vertex accepts both.
    """
    data = data.replace("-", "+").replace("_", "/")
    return base64.b64decode(data + "=" * (-len(data) % 4))


def _tiny_image(seed: str, size: tuple[int, int], fmt: str) -> bytes:
    digest = uuid.uuid5(uuid.NAMESPACE_OID, seed).bytes
    img = PILImage.new("RGB", size, (digest[0], digest[1], digest[2]))
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def tiny_png(seed: str, size: tuple[int, int] = (64, 36)) -> bytes:
    """A small solid-colour PNG whose colour depends on `seed`."""
    return _tiny_image(seed, size, "PNG")


def tiny_jpeg(seed: str, size: tuple[int, int] = (64, 36)) -> bytes:
    """A small solid-colour JPEG whose colour depends on `seed`."""
    return _tiny_image(seed, size, "JPEG")


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


# Vertex Gemini image input (checked 2026-12-01, docs.cloud.google.com/vertex-ai/
# generative-ai/docs/models/gemini/3-1-flash-image): 7 MB per inline image, these types.
INLINE_IMAGE_MAX_BYTES = 7 * 1024 * 1024
_INPUT_IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/heic", "image/heif")


def inline_images(body: dict[str, Any]) -> list[tuple[str, bytes]]:
    """(mimeType, bytes) of every inline image of a recorded generateContent body.

    google-genai sends `inlineData: {data, mime_type}` (the field's proto name, which
    Vertex's JSON parser takes like the lowerCamel `mimeType`): both are read.
    """
    found = []
    for content in body.get("contents") or []:
        for part in content.get("parts") or []:
            blob = part.get("inlineData") or part.get("inline_data")
            if not isinstance(blob, dict):
                continue
            mime = str(blob.get("mimeType") or blob.get("mime_type") or "")
            if mime.startswith("image/"):
                found.append((mime, b64decode_any(str(blob.get("data", "")))))
    return found


def _pcm_tone(seconds: float) -> bytes:
    """s16le mono 24 kHz: a quiet 220 Hz tone."""
    n = round(seconds * PCM_RATE)
    return b"".join(
        struct.pack("<h", int(3000 * math.sin(2 * math.pi * 220 * i / PCM_RATE))) for i in range(n)
    )


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    model: str
    action: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class FakeOperation:
    name: str
    model: str
    prompt: str
    attempt: int  # 1 = first create call for this prompt
    created_at: float
    request: dict[str, Any]
    outcome: Literal["video", "filtered", "error", "never", "empty"] = "video"
    reasons: tuple[str, ...] = ()
    error: dict[str, Any] | None = None
    polls: int = 0
    delivered: bool = False  # its clips were written to storageUri
    # The operation latency it was created with (`seconds_until_done` then), and the
    # time.monotonic() of each poll and of the first poll that answered "done".
    latency_s: float = 0.0
    poll_times: list[float] = field(default_factory=list)
    done_polled_at: float | None = None

    @property
    def finished_at(self) -> float:
        """When the operation finished (time.monotonic()), for "finished -> polled" delays."""
        return self.created_at + self.latency_s


@dataclass
class _PromptRule:
    pattern: re.Pattern[str]
    first_n: int | None  # None = every attempt
    reasons: tuple[str, ...] = ()
    error: dict[str, Any] | None = None

    def applies(self, prompt: str, attempt: int) -> bool:
        if not self.pattern.search(prompt):
            return False
        return self.first_n is None or attempt <= self.first_n


@dataclass
class _HttpFailure:
    status: int
    remaining: int
    message: str
    details: list[dict[str, Any]] | None = None


@dataclass
class _GenerateRule:
    pattern: re.Pattern[str]
    first_n: int | None
    kind: Literal["prompt_feedback", "image_safety", "invalid_argument"]

    def applies(self, prompt: str, attempt: int) -> bool:
        if not self.pattern.search(prompt):
            return False
        return self.first_n is None or attempt <= self.first_n


def _bad_request(field_name: str, description: str) -> list[dict[str, Any]]:
    return [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": field_name, "description": description}],
        }
    ]


def _retired_today() -> set[str]:
    today = date.today()
    return {e.id for e in CATALOGUE.values() if e.provider == "google" and e.retired(today)}


@dataclass
class FakeVertex:
    """Loopback Vertex AI. Use as a context manager or call start()/stop()."""

    # An operation is done after this many polls answered "pending" ...
    polls_until_done: int = 1
    # ... and no sooner than this many seconds after its create call: the operation
    # latency L (REALISTIC_OPERATION_SECONDS in acceptance tests, tens of seconds in
    # bench/). `polls_until_done = 0` makes an operation's end depend on time alone.
    seconds_until_done: float = 0.0
    # Added before every response (ms-scale in tests).
    latency_s: float = 0.0
    # The clock seconds_until_done is measured on (a test's fake clock, in seconds).
    clock: Callable[[], float] = time.monotonic
    # Replaces the JSON text generateContent returns (e.g. invalid JSON).
    json_text: str | None = None
    # Thinking tokens a JSON (storyboard) answer reports in usageMetadata.
    thoughts_tokens: int = 200
    # Seconds of speech per word of TTS input.
    tts_seconds_per_word: float = 0.4
    # Keyframes come back as PNG or (like current image models may) JPEG ...
    image_format: Literal["png", "jpeg"] = "png"
    # ... labelled with this MIME type (None: the true one).
    image_mime_label: str | None = None
    # Error messages repeat the caller's credentials (to test that we redact them).
    echo_credentials_in_errors: bool = False
    # Vertex rejects other durations for Veo 3.x with INVALID_ARGUMENT.
    allowed_durations: tuple[int, ...] = (4, 6, 8)
    # Model ids Vertex serves besides the catalogue's Google models, and those retired.
    extra_models: set[str] = field(default_factory=set)
    retired_models: set[str] = field(default_factory=_retired_today)
    # Requests per minute per model (create and generate calls), and the window.
    rpm_quota: dict[str, int] = field(default_factory=dict)
    quota_window_s: float = 60.0

    create_calls: Counter[str] = field(default_factory=Counter)
    accepted_creates: Counter[str] = field(default_factory=Counter)
    generate_calls: Counter[str] = field(default_factory=Counter)
    poll_calls: Counter[str] = field(default_factory=Counter)
    # Poll answers that said done (with a result or an error), per operation.
    done_answers: Counter[str] = field(default_factory=Counter)
    requests: list[RecordedRequest] = field(default_factory=list)
    operations: dict[str, FakeOperation] = field(default_factory=dict)
    # Objects written to storageUri buckets: gs:// URI -> bytes.
    gcs_objects: dict[str, bytes] = field(default_factory=dict)

    _rules: list[_PromptRule] = field(default_factory=list)
    _create_blocks: list[_PromptRule] = field(default_factory=list)
    _generate_rules: list[_GenerateRule] = field(default_factory=list)
    _failures: dict[str, list[_HttpFailure]] = field(default_factory=dict)
    _quota_hits: dict[str, list[float]] = field(default_factory=dict)
    # hold_creates(): creates arriving once this many were accepted wait for release.
    _hold_after: int | None = None
    _held: threading.Event = field(default_factory=threading.Event)
    _released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _http: ThreadedServer | None = None

    # ---- knobs -------------------------------------------------------------------

    def filter_prompts(
        self,
        pattern: str,
        *,
        first_n: int | None = None,
        reasons: tuple[str, ...] = (_DEFAULT_RAI_REASON,),
    ) -> None:
        """Finished operations for matching prompts carry no video, only RAI counts."""
        with self._lock:
            self._rules.append(_PromptRule(re.compile(pattern), first_n, reasons=reasons))

    def fail_operations(
        self, pattern: str, *, code: int, message: str = "", first_n: int | None = None
    ) -> None:
        """Operations for matching prompts finish with ``error: {code, message}``."""
        err = {"code": code, "message": message or f"operation failed with rpc code {code}"}
        with self._lock:
            self._rules.append(_PromptRule(re.compile(pattern), first_n, error=err))

    def block_prompts(
        self,
        pattern: str,
        *,
        at: Literal["create", "operation"] = "create",
        first_n: int | None = None,
        message: str = INPUT_BLOCK_MESSAGE,
    ) -> None:
        """Refuse matching Veo prompts as Vertex's input filter does.

        ``at="create"``: the create answers 400 INVALID_ARGUMENT in the safety wording
        (no operation). ``at="operation"``: the operation is created and finishes with
        ``error: {code: 3, message}`` ("the prompt could not be submitted").
        """
        with self._lock:
            if at == "create":
                rule = _PromptRule(re.compile(pattern), first_n, error={"message": message})
                self._create_blocks.append(rule)
            else:
                err = {"code": 3, "message": message}
                self._rules.append(_PromptRule(re.compile(pattern), first_n, error=err))

    def block_generate(
        self,
        pattern: str,
        *,
        kind: Literal["prompt_feedback", "image_safety", "invalid_argument"],
        first_n: int | None = None,
    ) -> None:
        """generateContent for matching prompts is blocked: ``promptFeedback.blockReason``,
        an ``IMAGE_SAFETY`` finish with no image, or a 400 in the safety wording."""
        with self._lock:
            self._generate_rules.append(_GenerateRule(re.compile(pattern), first_n, kind))

    def never_finish(self, pattern: str) -> None:
        """Operations for matching prompts stay pending forever."""
        with self._lock:
            self._rules.append(_PromptRule(re.compile(pattern), None, error={"never": True}))

    def finish_empty(self, pattern: str) -> None:
        """Operations for matching prompts finish with neither videos nor RAI counts."""
        with self._lock:
            self._rules.append(_PromptRule(re.compile(pattern), None, error={"empty": True}))

    def fail_next(
        self,
        action: Action,
        status: int,
        *,
        times: int = 1,
        message: str = "",
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        """Answer the next `times` requests of `action` with HTTP `status`."""
        msg = message or f"injected {status} {RPC_STATUS.get(status, '')}".strip()
        with self._lock:
            self._failures.setdefault(action, []).append(_HttpFailure(status, times, msg, details))

    def retire(self, *models: str) -> None:
        """Vertex answers 404 NOT_FOUND for these ids from now on."""
        with self._lock:
            self.retired_models.update(models)

    def limit_rpm(self, model: str, requests_per_minute: int, *, window_s: float = 60.0) -> None:
        """At most this many create/generate calls per `window_s` for `model`; then 429."""
        with self._lock:
            self.rpm_quota[model] = requests_per_minute
            self.quota_window_s = window_s

    def hold_creates(self, after: int) -> threading.Event:
        """Hold every create that arrives once `after` creates were accepted.

        A held create is recorded (it reached Vertex) but takes no operation: it waits
        until `release_creates()`, then answers 503 UNAVAILABLE. The returned event is
        set when the first create is held: a caller that kills its client then has
        killed it in the middle of a submit (bench/bench_recovery.py).
        """
        with self._lock:
            self._hold_after = after
            self._held.clear()
            self._released.clear()
        return self._held

    def release_creates(self) -> None:
        with self._lock:
            self._hold_after = None
        self._released.set()

    def seed_pending_operation(self, model: str, prompt: str) -> str:
        """An operation that stays pending, as if created by an earlier daemon run."""
        resource = f"projects/bench/locations/us-central1/publishers/google/models/{model}"
        name = f"{resource}/operations/{uuid.uuid4()}"
        op = FakeOperation(name, model, prompt, 1, self.clock(), {}, outcome="never")
        with self._lock:
            self.operations[name] = op
            self.accepted_creates[prompt] += 1
        return name

    def realistic(self) -> FakeVertex:
        """Operations take seconds to finish, as on Vertex (acceptance tests)."""
        self.seconds_until_done = REALISTIC_OPERATION_SECONDS
        return self

    def reset(self) -> None:
        """Back to default knobs and empty counters; the server keeps running."""
        keep = {"_lock", "_http"}
        self._released.set()  # a create still held answers now
        with self._lock:
            for f in fields(self):
                if f.name in keep:
                    continue
                if f.default_factory is not MISSING:
                    setattr(self, f.name, f.default_factory())
                else:
                    setattr(self, f.name, f.default)

    # ---- views -------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._http is None:
            raise RuntimeError("FakeVertex is not running")
        return f"{self._http.base_url}/"

    def requests_for(self, action: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.action == action]

    def counts(self) -> tuple[Counter[str], Counter[str]]:
        """Copies of (create_calls, done_answers), taken together under the lock."""
        with self._lock:
            return Counter(self.create_calls), Counter(self.done_answers)

    @property
    def total_creates(self) -> int:
        with self._lock:
            return sum(self.create_calls.values())

    @property
    def known_models(self) -> set[str]:
        google = {e.id for e in CATALOGUE.values() if e.provider == "google"}
        return (google | self.extra_models) - self.retired_models

    # ---- lifecycle ---------------------------------------------------------------

    def start(self) -> FakeVertex:
        tiny_mp4()  # build the sample before the first request needs it
        app = Starlette(routes=[Route("/{path:path}", self._dispatch, methods=["GET", "POST"])])
        self._http = ThreadedServer(app, name="fake-vertex").start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()
        self._http = None

    def __enter__(self) -> FakeVertex:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- HTTP ----------------------------------------------------------------------

    async def _dispatch(self, request: Request) -> Response:
        path = request.url.path.lstrip("/")
        headers = {k.lower(): v for k, v in request.headers.items()}
        if path.startswith("storage/v1/"):
            return self._gcs_read(path, headers)
        resource, colon, verb = path.rpartition(":")
        action: str | None
        if colon:
            action = _ACTIONS.get(verb)
        else:
            resource, verb = path, ""
            action = "get_model" if request.method == "GET" and "/models/" in path else None
        # Strip the version ("v1beta1/") so names look like Vertex's.
        resource = re.sub(r"^v1(beta1)?/", "", resource)
        model = resource.rsplit("/models/", 1)[-1]
        try:
            raw = await request.body()
        except ClientDisconnect:
            return Response(status_code=499)
        try:
            body: dict[str, Any] = json.loads(raw) if raw else {}
        except ValueError:
            return self._error(400, "request body is not JSON")
        with self._lock:
            self.requests.append(
                RecordedRequest(request.method, path, model, action or verb, body, headers)
            )
        # Count a create on arrival: rejected or timed-out creates still reached Vertex.
        attempt = self._count_create(body) if action == "create" else 0
        if action == "create" and await self._held_create():
            return self._error(503, "The service is currently unavailable.")
        if self.latency_s:
            # After recording: a client that times out still "sent" the request.
            await asyncio.sleep(self.latency_s)
        credential = headers.get("x-goog-api-key") or headers.get("authorization", "")
        if not credential:
            return self._error(401, "request had no credentials")
        if action is None:
            return self._error(404, f"unknown method {verb!r}")
        failure = self._take_failure(action)
        if failure is not None:
            message = failure.message
            if self.echo_credentials_in_errors:
                message = f"{message} (credential {credential})"
            return self._error(failure.status, message, failure.details)
        if action != "poll" and model not in self.known_models:
            return self._not_found(resource)
        if action in ("create", "generate", "predict"):
            limited = self._over_quota(model, resource)
            if limited is not None:
                return limited
        if action == "create":
            return self._create(resource, model, body, attempt)
        if action == "poll":
            return self._poll(body)
        if action == "generate":
            return self._generate(model, body)
        if action == "get_model":
            return self._get_model(model)
        return self._predict(model, body)

    def _take_failure(self, action: str) -> _HttpFailure | None:
        with self._lock:
            queue = self._failures.get(action, [])
            while queue and queue[0].remaining <= 0:
                queue.pop(0)
            if not queue:
                return None
            queue[0].remaining -= 1
            return queue[0]

    @staticmethod
    def _error(
        status: int, message: str, details: list[dict[str, Any]] | None = None
    ) -> JSONResponse:
        error: dict[str, Any] = {
            "code": status,
            "message": message,
            "status": RPC_STATUS.get(status, "UNKNOWN"),
        }
        if details:
            error["details"] = details
        return JSONResponse({"error": error}, status_code=status)

    def _not_found(self, resource: str) -> JSONResponse:
        # Vertex's words for an unknown or retired publisher model.
        return self._error(
            404,
            f"Publisher Model `{resource}` was not found or your project does not have "
            "access to it. Please ensure you are using a valid model version. For more "
            f"information, see: {_MODEL_DOCS}",
        )

    def _over_quota(self, model: str, resource: str) -> JSONResponse | None:
        limit = self.rpm_quota.get(model)
        if limit is None:
            return None
        now = time.monotonic()
        with self._lock:
            window = self.quota_window_s
            hits = [t for t in self._quota_hits.get(model, []) if now - t < window]
            if len(hits) < limit:
                hits.append(now)
                self._quota_hits[model] = hits
                return None
            self._quota_hits[model] = hits
            wait = max(0.0, window - (now - hits[0]))
        base = re.sub(r"-\d{3}$", "", model)
        metric = "aiplatform.googleapis.com/online_prediction_requests_per_base_model"
        return self._error(
            429,
            f"Quota exceeded for {metric} with base model: {base}. Please submit a quota "
            "increase request. https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.",
            [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "RATE_LIMIT_EXCEEDED",
                    "domain": "aiplatform.googleapis.com",
                    "metadata": {
                        "quota_metric": metric,
                        "quota_limit_value": str(limit),
                        "consumer": resource.split("/publishers/", 1)[0] or "express",
                    },
                },
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{wait:.3f}s"},
            ],
        )

    async def _held_create(self) -> bool:
        """True when this create was held (hold_creates) and must not take effect."""
        with self._lock:
            hold = self._hold_after is not None and sum(self.accepted_creates.values()) >= (
                self._hold_after or 0
            )
            if hold:
                self._held.set()
            released = self._released
        if not hold:
            return False
        await asyncio.to_thread(released.wait)
        return True

    def _count_create(self, body: dict[str, Any]) -> int:
        prompt = str((body.get("instances") or [{}])[0].get("prompt", ""))
        with self._lock:
            self.create_calls[prompt] += 1
            return self.create_calls[prompt]

    # ---- Veo -------------------------------------------------------------------------

    def _invalid(self, field_name: str, message: str) -> JSONResponse:
        return self._error(400, message, _bad_request(field_name, message))

    def _check_video_request(
        self, model: str, instance: dict[str, Any], params: dict[str, Any]
    ) -> JSONResponse | None:
        # Vertex's verified wording (a 2026-01 report of a real 400, hirokidaichi/ergon#11)
        # is the "out of bound" one; the others follow the same pattern.
        entry = CATALOGUE.get(model)
        duration = params.get("durationSeconds")
        resolution = str(params.get("resolution") or (entry and entry.default_resolution) or "")
        if duration is not None:
            if not 4 <= int(duration) <= 8:
                return self._invalid(
                    "parameters.durationSeconds",
                    "The number value for `durationSeconds` is out of bound. Please provide "
                    "a value between 4 and 8, inclusive.",
                )
            allowed = self.allowed_durations
            if entry is not None and entry.capability == "video":
                allowed = tuple(d for d in entry.durations_for(resolution) if d in allowed)
            if duration not in allowed:
                return self._invalid(
                    "parameters.durationSeconds",
                    f"Unsupported output video duration {duration} seconds for resolution "
                    f"{resolution or 'default'}, supported durations are {list(allowed)}.",
                )
        aspect = params.get("aspectRatio")
        if aspect is not None and aspect not in _VEO_ASPECTS:
            return self._invalid(
                "parameters.aspectRatio",
                f"Unsupported aspect ratio: {aspect}. Supported aspect ratios are "
                f"{', '.join(_VEO_ASPECTS)}.",
            )
        offered = entry.resolutions if entry is not None else ()
        if params.get("resolution") is not None and offered:
            requested = str(params["resolution"]).lower()
            if requested not in offered:
                return self._invalid(
                    "parameters.resolution",
                    f"Unsupported resolution: {params['resolution']}. Supported resolutions "
                    f"are {', '.join(offered)}.",
                )
        count = params.get("sampleCount")
        if count is not None and not 1 <= int(count) <= 4:
            return self._invalid(
                "parameters.sampleCount",
                "The number value for `sampleCount` is out of bound. Please provide a value "
                "between 1 and 4, inclusive.",
            )
        if "lastFrame" in instance and "image" not in instance:
            return self._invalid("instances[0].lastFrame", "lastFrame requires image.")
        for key in ("image", "lastFrame"):
            image = instance.get(key)
            if not isinstance(image, dict) or "bytesBase64Encoded" not in image:
                continue
            # Stricter than Vertex is known to be: a label that contradicts the bytes is
            # a bug of ours (a JPEG keyframe sent as PNG), so it fails loudly here.
            actual = _sniff(b64decode_any(str(image["bytesBase64Encoded"])))
            declared = image.get("mimeType")
            if actual is not None and declared is not None and declared != actual:
                return self._invalid(
                    f"instances[0].{key}.mimeType",
                    f"The {key} mimeType {declared} does not match its bytes ({actual}).",
                )
        return None

    def _create(self, resource: str, model: str, body: dict[str, Any], attempt: int) -> Response:
        instance = (body.get("instances") or [{}])[0]
        params = body.get("parameters") or {}
        prompt = str(instance.get("prompt", ""))
        invalid = self._check_video_request(model, instance, params)
        if invalid is not None:
            return invalid
        with self._lock:
            blocked = next((r for r in self._create_blocks if r.applies(prompt, attempt)), None)
        if blocked is not None and blocked.error is not None:
            message = str(blocked.error["message"])
            return self._error(400, message, _bad_request("instances[0].prompt", message))
        name = f"{resource}/operations/{uuid.uuid4()}"
        op = FakeOperation(
            name, model, prompt, attempt, self.clock(), body, latency_s=self.seconds_until_done
        )
        with self._lock:
            for rule in self._rules:
                if not rule.applies(prompt, attempt):
                    continue
                if rule.error is not None and rule.error.get("never"):
                    op.outcome = "never"
                elif rule.error is not None and rule.error.get("empty"):
                    op.outcome = "empty"
                elif rule.error is not None:
                    op.outcome, op.error = "error", dict(rule.error)
                else:
                    op.outcome, op.reasons = "filtered", rule.reasons
                break
            self.operations[name] = op
            self.accepted_creates[prompt] += 1
        return JSONResponse({"name": name})

    def _poll(self, body: dict[str, Any]) -> Response:
        name = str(body.get("operationName", ""))
        with self._lock:
            op = self.operations.get(name)
            if op is None:
                return self._error(404, f"Operation {name} not found.")
            now = self.clock()
            op.polls += 1
            op.poll_times.append(now)
            self.poll_calls[name] += 1
            pending = (
                op.outcome == "never"
                or op.polls <= self.polls_until_done
                or now - op.created_at < self.seconds_until_done
            )
            if not pending and op.done_polled_at is None:
                op.done_polled_at = now
        if pending:
            # proto3 JSON omits `done: false`.
            return JSONResponse({"name": name})
        with self._lock:
            self.done_answers[name] += 1
        if op.outcome == "error":
            return JSONResponse({"name": name, "done": True, "error": op.error})
        response: dict[str, Any] = {"@type": _VIDEO_RESPONSE_TYPE}
        if op.outcome == "filtered":
            response["raiMediaFilteredCount"] = 1
            response["raiMediaFilteredReasons"] = list(op.reasons)
        elif op.outcome == "video":
            params = op.request.get("parameters") or {}
            count = int(params.get("sampleCount", 1))
            storage_uri = params.get("storageUri")
            videos = []
            for i in range(count):
                if storage_uri:
                    # Honour storageUri: the clip goes to the bucket (once, when the
                    # operation finishes), and the answer names it.
                    prefix = str(storage_uri).rstrip("/")
                    uri = f"{prefix}/{name.rsplit('/', 1)[-1]}/sample_{i}.mp4"
                    with self._lock:
                        if not op.delivered:
                            self.gcs_objects[uri] = tiny_mp4()
                    videos.append({"gcsUri": uri, "mimeType": "video/mp4"})
                else:
                    data = base64.b64encode(tiny_mp4()).decode()
                    videos.append({"bytesBase64Encoded": data, "mimeType": "video/mp4"})
            response["videos"] = videos
            op.delivered = True
        return JSONResponse({"name": name, "done": True, "response": response})

    def _gcs_read(self, path: str, headers: dict[str, str]) -> Response:
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            # Cloud Storage takes OAuth tokens, not Vertex express-mode API keys.
            return self._error(401, "Anonymous caller does not have storage.objects.get access.")
        with self._lock:
            self.requests.append(RecordedRequest("GET", path, "", "gcs_read", {}, headers))
        match = re.fullmatch(r"storage/v1/b/([^/]+)/o/(.+)", path)
        if match is None:
            return self._error(404, "Not Found")
        uri = f"gs://{unquote(match.group(1))}/{unquote(match.group(2))}"
        with self._lock:
            data = self.gcs_objects.get(uri)
        if data is None:
            return self._error(404, f"No such object: {uri[len('gs://') :]}")
        return Response(data, media_type="video/mp4")

    # ---- models.get ----------------------------------------------------------------------

    def _get_model(self, model: str) -> Response:
        entry = CATALOGUE.get(model)
        version = model.rsplit("-", 1)[-1] if re.search(r"-\d{3}$", model) else "default"
        return JSONResponse(
            {
                "name": f"publishers/google/models/{model}",
                "versionId": version,
                "openSourceCategory": "PROPRIETARY",
                "launchStage": "GA",
                "publisherModelTemplate": f"projects/{{project}}/locations/{{location}}/"
                f"publishers/google/models/{model}",
                "supportedActions": {},
                "frameworks": [],
                **({"description": entry.source} if entry is not None else {}),
            }
        )

    # ---- Gemini ------------------------------------------------------------------------

    def _blocked_generate(self, prompt_text: str) -> Response | None:
        with self._lock:
            self.generate_calls[prompt_text] += 1
            attempt = self.generate_calls[prompt_text]
            rule = next((r for r in self._generate_rules if r.applies(prompt_text, attempt)), None)
        if rule is None:
            return None
        usage = {"promptTokenCount": len(prompt_text.split()), "totalTokenCount": 0}
        if rule.kind == "invalid_argument":
            return self._error(
                400, INPUT_BLOCK_MESSAGE, _bad_request("contents", INPUT_BLOCK_MESSAGE)
            )
        if rule.kind == "prompt_feedback":
            return JSONResponse(
                {
                    "promptFeedback": {
                        "blockReason": "PROHIBITED_CONTENT",
                        "blockReasonMessage": "The prompt was blocked (prohibited content).",
                    },
                    "usageMetadata": usage,
                }
            )
        return JSONResponse(
            {
                "candidates": [
                    {
                        "content": {"role": "model"},
                        "finishReason": "IMAGE_SAFETY",
                        "finishMessage": _IMAGE_SAFETY_MESSAGE,
                    }
                ],
                "usageMetadata": usage,
            }
        )

    def _check_input_images(self, model: str, body: dict[str, Any]) -> JSONResponse | None:
        images = inline_images(body)
        entry = CATALOGUE.get(model)
        limit = entry.max_input_images if entry is not None else None
        if limit is not None and len(images) > limit:
            # The fake's own wording: Vertex's exact text for this case is unverified.
            return self._invalid(
                "contents",
                f"The request has {len(images)} images; {model} accepts at most {limit} "
                "images per prompt.",
            )
        for n, (declared, data) in enumerate(images):
            where = f"contents.parts[{n}].inlineData"
            if declared not in _INPUT_IMAGE_TYPES:
                return self._invalid(f"{where}.mimeType", f"Unsupported MIME type: {declared}")
            if len(data) > INLINE_IMAGE_MAX_BYTES:
                return self._invalid(where, "Inline image data exceeds the 7 MB limit.")
            actual = _sniff(data)
            # Stricter than Vertex is known to be: a label contradicting the bytes is ours.
            if actual is not None and actual != declared:
                return self._invalid(
                    f"{where}.mimeType",
                    f"The image mimeType {declared} does not match its bytes ({actual}).",
                )
        return None

    def _generate(self, model: str, body: dict[str, Any]) -> Response:
        invalid = self._check_input_images(model, body)
        if invalid is not None:
            return invalid
        config = body.get("generationConfig") or {}
        modalities = [str(m).upper() for m in config.get("responseModalities") or []]
        prompt_text = " ".join(
            str(part.get("text", ""))
            for content in body.get("contents") or []
            for part in content.get("parts") or []
        )
        blocked = self._blocked_generate(prompt_text)
        if blocked is not None:
            return blocked
        prompt_tokens = len(prompt_text.split())
        output_tokens, thoughts = 10, 0
        parts: list[dict[str, Any]]
        if "AUDIO" in modalities:
            words = max(1, len(prompt_text.split()))
            seconds = max(0.5, words * self.tts_seconds_per_word)
            pcm = _pcm_tone(seconds)
            output_tokens = round(seconds * _AUDIO_TOKENS_PER_SECOND)
            parts = [
                {
                    "inlineData": {
                        "mimeType": f"audio/L16;codec=pcm;rate={PCM_RATE}",
                        "data": base64.b64encode(pcm).decode(),
                    }
                }
            ]
        elif "IMAGE" in modalities:
            image_cfg = config.get("imageConfig") or {}
            aspect = image_cfg.get("aspectRatio") or image_cfg.get("aspect_ratio") or "16:9"
            size = (36, 64) if aspect == "9:16" else (64, 36)
            if self.image_format == "jpeg":
                data, mime = tiny_jpeg(prompt_text, size), "image/jpeg"
            else:
                data, mime = tiny_png(prompt_text, size), "image/png"
            output_tokens = 1120  # one 1K image
            # Gemini image models often say something before the image.
            parts = [
                {"text": "Here is the image."},
                {
                    "inlineData": {
                        "mimeType": self.image_mime_label or mime,
                        "data": base64.b64encode(data).decode(),
                    }
                },
            ]
        elif config.get("responseMimeType") == "application/json":
            text = self.json_text
            if text is None:
                schema = config.get("responseSchema") or config.get("responseJsonSchema") or {}
                text = json.dumps(_sample_from_schema(schema, prompt_text))
            parts = [{"text": text}]
            output_tokens, thoughts = max(1, len(text) // 4), self.thoughts_tokens
        else:
            parts = [{"text": f"echo: {prompt_text[:200]}"}]
        usage: dict[str, Any] = {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens + thoughts,
        }
        if thoughts:
            usage["thoughtsTokenCount"] = thoughts
        return JSONResponse(
            {
                "candidates": [
                    {"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}
                ],
                "usageMetadata": usage,
                "modelVersion": model,
            }
        )

    def _predict(self, model: str, body: dict[str, Any]) -> Response:
        instances = body.get("instances") or [{}]
        prompt = str(instances[0].get("prompt", ""))
        count = int((body.get("parameters") or {}).get("sampleCount", 1))
        predictions = [
            {
                "bytesBase64Encoded": base64.b64encode(tiny_png(f"{prompt}{i}")).decode(),
                "mimeType": "image/png",
            }
            for i in range(count)
        ]
        return JSONResponse({"predictions": predictions})


def _sample_from_schema(schema: dict[str, Any], hint: str, key: str = "") -> Any:
    """Fill a Vertex `Schema` (or JSON schema) loosely with plausible values."""
    kind = str(schema.get("type", "OBJECT")).upper()
    if kind == "OBJECT":
        props: dict[str, Any] = schema.get("properties") or {}
        return {name: _sample_from_schema(sub, hint, name) for name, sub in props.items()}
    if kind == "ARRAY":
        low = schema.get("minItems", schema.get("min_items"))
        high = schema.get("maxItems", schema.get("max_items"))
        n = int(low if low is not None else (high if high is not None else 3))
        item = schema.get("items") or {"type": "STRING"}
        return [_sample_from_schema(item, f"{hint} #{i + 1}", key) for i in range(n)]
    if kind == "INTEGER":
        return int(schema.get("minimum", 1))
    if kind == "NUMBER":
        return float(schema.get("minimum", 1.0))
    if kind == "BOOLEAN":
        return True
    enum = schema.get("enum")
    if enum:
        return enum[0]
    return f"{key or 'text'}: {hint[:80]}".strip()
