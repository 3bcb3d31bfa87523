"""A fake Vertex AI endpoint that the real google-genai SDK talks to over loopback.

Point a client at it with ``HttpOptions(base_url=fake.url)`` and ``vertexai=True``
(project + location with static-token credentials, or an express-mode api key).

Routes (any API version prefix, with or without ``projects/{p}/locations/{l}/``):
- ``.../models/{model}:predictLongRunning`` - Veo create; returns ``{"name": op}``
- ``.../models/{model}:fetchPredictOperation`` - Veo poll, body ``{"operationName"}``
- ``.../models/{model}:generateContent`` - Gemini text/JSON, IMAGE and AUDIO output
- ``.../models/{model}:predict`` - Imagen

Wire shapes mirror Vertex: errors are ``{"error": {"code", "message", "status"}}``;
a finished Veo operation carries ``response`` with ``@type``
``...GenerateVideoResponse``, ``videos[]`` (``bytesBase64Encoded`` or ``gcsUri``)
and ``raiMediaFilteredCount`` / ``raiMediaFilteredReasons``; a failed one carries
``error: {code, message}`` with a google.rpc code; a pending one only its name.

Knobs are plain attributes and methods, safe to change while the server runs.
Counters (``create_calls`` per prompt, ``poll_calls`` per operation) and the
request log live in the test process, so they also count a subprocess's calls.
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
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from PIL import Image as PILImage
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from orchestrator.media.ffmpeg import ffmpeg_exe
from reelgate.serving import ThreadedServer

__all__ = [
    "RPC_STATUS",
    "FakeOperation",
    "FakeVertex",
    "RecordedRequest",
    "b64decode_any",
    "tiny_mp4",
    "tiny_png",
]

Action = Literal["create", "poll", "generate", "predict"]

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
PCM_RATE = 24_000


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


def tiny_png(seed: str, size: tuple[int, int] = (64, 36)) -> bytes:
    """A small solid-colour PNG whose colour depends on `seed`."""
    digest = uuid.uuid5(uuid.NAMESPACE_OID, seed).bytes
    img = PILImage.new("RGB", size, (digest[0], digest[1], digest[2]))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


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
    outcome: Literal["video", "filtered", "error", "never"] = "video"
    reasons: tuple[str, ...] = ()
    error: dict[str, Any] | None = None
    polls: int = 0


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


@dataclass
class FakeVertex:
    """Loopback Vertex AI. Use as a context manager or call start()/stop()."""

    # An operation is done after this many polls answered "pending" ...
    polls_until_done: int = 1
    # ... and no sooner than this many seconds after its create call.
    seconds_until_done: float = 0.0
    # Where finished videos are: inline bytes or a gs:// URI.
    video_delivery: Literal["bytes", "gcs"] = "bytes"
    # Added before every response (ms-scale in tests).
    latency_s: float = 0.0
    # Replaces the JSON text generateContent returns (e.g. invalid JSON).
    json_text: str | None = None
    # Seconds of speech per word of TTS input.
    tts_seconds_per_word: float = 0.4
    # Error messages repeat the caller's credentials (to test that we redact them).
    echo_credentials_in_errors: bool = False
    # Vertex rejects other durations for Veo 3.x with INVALID_ARGUMENT.
    allowed_durations: tuple[int, ...] = (4, 6, 8)

    create_calls: Counter[str] = field(default_factory=Counter)
    poll_calls: Counter[str] = field(default_factory=Counter)
    requests: list[RecordedRequest] = field(default_factory=list)
    operations: dict[str, FakeOperation] = field(default_factory=dict)

    _rules: list[_PromptRule] = field(default_factory=list)
    _failures: dict[str, list[_HttpFailure]] = field(default_factory=dict)
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

    def never_finish(self, pattern: str) -> None:
        """Operations for matching prompts stay pending forever."""
        with self._lock:
            self._rules.append(_PromptRule(re.compile(pattern), None, error={"never": True}))

    def fail_next(self, action: Action, status: int, *, times: int = 1, message: str = "") -> None:
        """Answer the next `times` requests of `action` with HTTP `status`."""
        msg = message or f"injected {status} {RPC_STATUS.get(status, '')}".strip()
        with self._lock:
            self._failures.setdefault(action, []).append(_HttpFailure(status, times, msg))

    def reset(self) -> None:
        """Back to default knobs and empty counters; the server keeps running."""
        keep = {"_lock", "_http"}
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

    @property
    def total_creates(self) -> int:
        with self._lock:
            return sum(self.create_calls.values())

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
        resource, _, verb = path.rpartition(":")
        action = _ACTIONS.get(verb)
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
        headers = {k.lower(): v for k, v in request.headers.items()}
        with self._lock:
            self.requests.append(
                RecordedRequest(request.method, path, model, action or verb, body, headers)
            )
        # Count a create on arrival: rejected or timed-out creates still reached Vertex.
        attempt = self._count_create(body) if action == "create" else 0
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
            return self._error(failure.status, message)
        if action == "create":
            return self._create(resource, model, body, attempt)
        if action == "poll":
            return self._poll(body)
        if action == "generate":
            return self._generate(model, body)
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
    def _error(status: int, message: str) -> JSONResponse:
        body = {
            "error": {
                "code": status,
                "message": message,
                "status": RPC_STATUS.get(status, "UNKNOWN"),
            }
        }
        return JSONResponse(body, status_code=status)

    def _count_create(self, body: dict[str, Any]) -> int:
        prompt = str((body.get("instances") or [{}])[0].get("prompt", ""))
        with self._lock:
            self.create_calls[prompt] += 1
            return self.create_calls[prompt]

    # ---- Veo -------------------------------------------------------------------------

    def _create(self, resource: str, model: str, body: dict[str, Any], attempt: int) -> Response:
        instance = (body.get("instances") or [{}])[0]
        params = body.get("parameters") or {}
        prompt = str(instance.get("prompt", ""))
        duration = params.get("durationSeconds")
        if duration is not None and duration not in self.allowed_durations:
            return self._error(400, f"Unsupported duration {duration}s for model {model}.")
        if "lastFrame" in instance and "image" not in instance:
            return self._error(400, "lastFrame requires image.")
        name = f"{resource}/operations/{uuid.uuid4()}"
        op = FakeOperation(name, model, prompt, attempt, time.monotonic(), body)
        with self._lock:
            for rule in self._rules:
                if not rule.applies(prompt, attempt):
                    continue
                if rule.error is not None and rule.error.get("never"):
                    op.outcome = "never"
                elif rule.error is not None:
                    op.outcome, op.error = "error", dict(rule.error)
                else:
                    op.outcome, op.reasons = "filtered", rule.reasons
                break
            self.operations[name] = op
        return JSONResponse({"name": name})

    def _poll(self, body: dict[str, Any]) -> Response:
        name = str(body.get("operationName", ""))
        with self._lock:
            op = self.operations.get(name)
            if op is None:
                return self._error(404, f"Operation {name} not found.")
            op.polls += 1
            self.poll_calls[name] += 1
            pending = (
                op.outcome == "never"
                or op.polls <= self.polls_until_done
                or time.monotonic() - op.created_at < self.seconds_until_done
            )
        if pending:
            # proto3 JSON omits `done: false`.
            return JSONResponse({"name": name})
        if op.outcome == "error":
            return JSONResponse({"name": name, "done": True, "error": op.error})
        response: dict[str, Any] = {"@type": _VIDEO_RESPONSE_TYPE}
        if op.outcome == "filtered":
            response["raiMediaFilteredCount"] = 1
            response["raiMediaFilteredReasons"] = list(op.reasons)
        else:
            count = int((op.request.get("parameters") or {}).get("sampleCount", 1))
            videos = []
            for i in range(count):
                if self.video_delivery == "gcs":
                    uri = f"gs://fake-veo-output/{name.rsplit('/', 1)[-1]}/sample_{i}.mp4"
                    videos.append({"gcsUri": uri, "mimeType": "video/mp4"})
                else:
                    data = base64.b64encode(tiny_mp4()).decode()
                    videos.append({"bytesBase64Encoded": data, "mimeType": "video/mp4"})
            response["videos"] = videos
        return JSONResponse({"name": name, "done": True, "response": response})

    # ---- Gemini ------------------------------------------------------------------------

    def _generate(self, model: str, body: dict[str, Any]) -> Response:
        config = body.get("generationConfig") or {}
        modalities = [str(m).upper() for m in config.get("responseModalities") or []]
        prompt_text = " ".join(
            str(part.get("text", ""))
            for content in body.get("contents") or []
            for part in content.get("parts") or []
        )
        parts: list[dict[str, Any]]
        if "AUDIO" in modalities:
            words = max(1, len(prompt_text.split()))
            pcm = _pcm_tone(max(0.5, words * self.tts_seconds_per_word))
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
            png = base64.b64encode(tiny_png(prompt_text, size)).decode()
            # Gemini image models often say something before the image.
            parts = [
                {"text": "Here is the image."},
                {"inlineData": {"mimeType": "image/png", "data": png}},
            ]
        elif config.get("responseMimeType") == "application/json":
            text = self.json_text
            if text is None:
                schema = config.get("responseSchema") or config.get("responseJsonSchema") or {}
                text = json.dumps(_sample_from_schema(schema, prompt_text))
            parts = [{"text": text}]
        else:
            parts = [{"text": f"echo: {prompt_text[:200]}"}]
        return JSONResponse(
            {
                "candidates": [
                    {"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}
                ],
                "usageMetadata": {
                    "promptTokenCount": len(prompt_text.split()),
                    "candidatesTokenCount": 10,
                    "totalTokenCount": len(prompt_text.split()) + 10,
                },
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
