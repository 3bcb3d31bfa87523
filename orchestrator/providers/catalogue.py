"""The model catalogue: every model reelgate may call, what it costs and how it behaves.

One entry per model id (exact ids, plus the aliases an entry lists; there is no prefix
matching, so a text model's row can never price a TTS call). Each entry says its
capability (storyboard text, image, video, TTS), how Google bills it, when it retires,
how long a call typically takes and the published per-project create quota.

Prices are list prices in USD on Vertex AI; they feed the cost ledger and the budget
checks, not invoices. A model that is not here is a configuration error raised when a
provider is built (and by `reelgate doctor`), never a $0 ledger row for a paid call.

Sources, checked 2026-12-01 (the search tool's stored copies of the pages):
- Lifecycle and retirement dates: "Model versions and lifecycle",
  https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/model-versions
  (English page: Gemini 2.5 Pro/Flash/Flash-Lite retire October 16, 2026; some
  translated copies say October 20. Gemini 2.5 Flash Image retires October 2, 2026;
  Veo 3.0 Generate June 30, 2026; Veo 3.1 GA: "No retirement date announced").
- Veo 3.1 GA limits: https://docs.cloud.google.com/vertex-ai/generative-ai/docs/models/veo/3-1-generate
  ("Maximum API requests per minute per project: 50", 4/6/8 s clips).
- Veo latency: https://ai.google.dev/gemini-api/docs/video, Limitations: "Request
  latency: Min: 11 seconds; Max: 6 minutes (during peak hours)". Google publishes no
  typical figure; `expected_latency_s` is our estimate inside that range.
- Gemini on Vertex runs on Dynamic Shared Quota: no fixed per-project RPM
  (https://cloud.google.com/vertex-ai/generative-ai/docs/quotas), hence None.
- Prices: the Vertex pricing page (cloud.google.com/vertex-ai/generative-ai/pricing) was
  not in the stored corpus; figures are cross-checked from at least two copies of it
  (noted per entry). Veo 4K without audio has no price we could verify, so it is not
  offered (refused at start) rather than priced by guess.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from orchestrator.errors import ConfigError
from orchestrator.providers.base import Charge

__all__ = [
    "CAPABILITIES",
    "CATALOGUE",
    "ENV_VARS",
    "RETIREMENT_WARNING_DAYS",
    "Capability",
    "ClipPrice",
    "ModelEntry",
    "TokenPrices",
    "catalogued_ids",
    "charge_for",
    "model_entry",
    "quote_clip",
    "quote_image",
    "quote_speech",
    "quote_tokens",
    "retirement_problem",
    "unbilled",
]

Capability = Literal["storyboard", "image", "video", "tts"]
CAPABILITIES: tuple[Capability, ...] = ("storyboard", "image", "video", "tts")

# Where an operator chooses each model (GoogleSettings, env prefix REELGATE_GOOGLE_).
ENV_VARS: Mapping[Capability, str] = {
    "storyboard": "REELGATE_GOOGLE_STORYBOARD_MODEL",
    "image": "REELGATE_GOOGLE_IMAGE_MODEL",
    "video": "REELGATE_GOOGLE_VIDEO_MODEL",
    "tts": "REELGATE_GOOGLE_TTS_MODEL",
}

# `reelgate doctor` warns this many days before a configured model retires.
RETIREMENT_WARNING_DAYS = 30

_MILLION = 1_000_000


@dataclass(frozen=True)
class TokenPrices:
    """USD per 1M tokens. Thinking tokens are billed at the output rate on Vertex."""

    input: float
    output: float
    thinking: float


@dataclass(frozen=True)
class ClipPrice:
    """USD per second of video at one resolution, with or without generated audio."""

    resolution: str
    with_audio: bool
    usd_per_second: float


@dataclass(frozen=True)
class ModelEntry:
    """One model: what it does, what it costs, when it retires, how it behaves."""

    id: str
    capability: Capability
    provider: Literal["google", "local"]
    # The unit the cost ledger counts: "token" (text, speech), "image", "second"
    # (video), "request" / "minute" (local stand-ins).
    unit: str
    source: str
    # Flat price per `unit` (images, local models, video without `clip_prices`).
    usd_per_unit: float = 0.0
    # Text models: prompt / candidates / thinking tokens. Speech: text in, audio out.
    tokens: TokenPrices | None = None
    # Speech models: audio tokens per second of output (for estimates before a call).
    audio_tokens_per_second: float | None = None
    # Video models: per-second prices by resolution and audio.
    clip_prices: tuple[ClipPrice, ...] = ()
    default_resolution: str | None = None
    durations_s: tuple[int, ...] = ()
    # Resolutions that accept only some durations (Veo: 1080p and 4k are 8 s only).
    durations_by_resolution: tuple[tuple[str, tuple[int, ...]], ...] = ()
    released_on: date | None = None
    # The last day the model answers; None when Google has announced none.
    retires_on: date | None = None
    replacement: str | None = None
    # Typical submit -> result time of one call, and the published range if any.
    expected_latency_s: float = 0.0
    latency_range_s: tuple[float, float] | None = None
    # Published per-project create quota; None = no fixed quota (Dynamic Shared Quota).
    requests_per_minute: int | None = None
    aliases: tuple[str, ...] = ()
    # Images one request may carry as input (reference images and the previous
    # keyframe); None where unpublished, or in the thousands (text models).
    max_input_images: int | None = None

    @property
    def resolutions(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(p.resolution for p in self.clip_prices))

    def retired(self, today: date) -> bool:
        return self.retires_on is not None and today > self.retires_on

    def days_to_retirement(self, today: date) -> int | None:
        return None if self.retires_on is None else (self.retires_on - today).days

    def durations_for(self, resolution: str | None) -> tuple[int, ...]:
        """The clip lengths this model accepts at `resolution` (all, if unrestricted)."""
        for res, allowed in self.durations_by_resolution:
            if res == (resolution or self.default_resolution):
                return allowed
        return self.durations_s


def _veo(
    model_id: str,
    *,
    silent: float,
    loud: float,
    loud_4k: float,
    latency_s: float,
    rpm: int,
    released: date,
    retires: date | None = None,
    replacement: str | None = None,
    source: str,
) -> ModelEntry:
    prices = (
        ClipPrice("720p", False, silent),
        ClipPrice("720p", True, loud),
        ClipPrice("1080p", False, silent),
        ClipPrice("1080p", True, loud),
        ClipPrice("4k", True, loud_4k),
    )
    return ModelEntry(
        id=model_id,
        capability="video",
        provider="google",
        unit="second",
        clip_prices=prices,
        default_resolution="720p",
        durations_s=(4, 6, 8),
        durations_by_resolution=(("1080p", (8,)), ("4k", (8,))),
        released_on=released,
        retires_on=retires,
        replacement=replacement,
        expected_latency_s=latency_s,
        latency_range_s=(11.0, 360.0),
        requests_per_minute=rpm,
        source=source,
    )


_VEO_PRICE_SOURCE = (
    "Vertex pricing, Veo 3.1: $0.20/s video, $0.40/s video+audio at 720p/1080p, $0.60/s "
    "4K with audio; Fast $0.10/$0.15/$0.35 (copies of the pricing page quoted by "
    "aifreeapi.com 2026-03 and an ICVR model doc; 1080p and 4K are 8 s only per "
    "ArcReel#1333 citing the Vertex Veo docs)"
)

_ENTRIES: tuple[ModelEntry, ...] = (
    # ---- storyboard (text) ------------------------------------------------------------
    ModelEntry(
        id="gemini-3.5-flash",
        capability="storyboard",
        provider="google",
        unit="token",
        tokens=TokenPrices(input=1.50, output=9.00, thinking=9.00),
        released_on=date(2026, 5, 19),
        retires_on=date(2027, 5, 19),  # "May 19, 2027 or later"
        # ~4k output tokens (thinking included) at ~280 tokens/s (launch coverage).
        expected_latency_s=15.0,
        source="GA 2026-05-19 (model-versions page); $1.50 in / $9.00 out per 1M "
        "(Google pricing as quoted at launch by simonwillison.net and tinker-ai.com)",
    ),
    ModelEntry(
        id="gemini-3.1-flash-lite",
        capability="storyboard",
        provider="google",
        unit="token",
        tokens=TokenPrices(input=0.25, output=1.50, thinking=1.50),
        released_on=date(2026, 5, 7),
        retires_on=date(2027, 5, 7),  # "May 7, 2027 or later"
        expected_latency_s=8.0,
        source="GA 2026-05-07 (model-versions page); $0.25 in / $1.50 out per 1M "
        "(Google pricing as tabulated in 2026-05 launch coverage)",
    ),
    ModelEntry(
        id="gemini-2.5-flash",
        capability="storyboard",
        provider="google",
        unit="token",
        tokens=TokenPrices(input=0.30, output=2.50, thinking=2.50),
        released_on=date(2025, 6, 17),
        retires_on=date(2026, 10, 16),
        replacement="gemini-3.5-flash",
        expected_latency_s=10.0,
        source="retired 2026-10-16 (model-versions page)",
    ),
    ModelEntry(
        id="gemini-2.5-flash-lite",
        capability="storyboard",
        provider="google",
        unit="token",
        tokens=TokenPrices(input=0.10, output=0.40, thinking=0.40),
        released_on=date(2025, 7, 22),
        retires_on=date(2026, 10, 16),
        replacement="gemini-3.1-flash-lite",
        expected_latency_s=6.0,
        source="retired 2026-10-16 (model-versions page)",
    ),
    ModelEntry(
        id="gemini-2.5-pro",
        capability="storyboard",
        provider="google",
        unit="token",
        tokens=TokenPrices(input=1.25, output=10.00, thinking=10.00),
        released_on=date(2025, 6, 17),
        retires_on=date(2026, 10, 16),
        replacement="gemini-3.5-flash",
        expected_latency_s=30.0,
        source="retired 2026-10-16 (model-versions page)",
    ),
    # ---- keyframes (image) ------------------------------------------------------------
    ModelEntry(
        id="gemini-3.1-flash-image",
        capability="image",
        provider="google",
        unit="image",
        # "Maximum images per prompt: 14", 7 MB per inline image, PNG/JPEG/WebP/HEIC/HEIF
        # (docs.cloud.google.com/vertex-ai/generative-ai/docs/models/gemini/3-1-flash-image,
        # checked 2026-12-01).
        max_input_images=14,
        # 1,120 output image tokens per 1K image at $60 per 1M image tokens.
        usd_per_unit=0.067,
        released_on=date(2026, 5, 28),
        retires_on=date(2027, 5, 28),  # "May 28, 2027 or later"
        expected_latency_s=12.0,
        source="GA 2026-05-28 (model-versions page); $60/1M output image tokens = "
        "$0.067 per 1K image (pricing as quoted by aifreeapi.com and bifrost 2026)",
    ),
    ModelEntry(
        id="gemini-3-pro-image",
        capability="image",
        provider="google",
        unit="image",
        # "Maximum images per prompt: 14", 7 MB per inline image, PNG/JPEG/WebP/HEIC/HEIF
        # (Gemini 3 Pro Image row of docs.cloud.google.com/vertex-ai/generative-ai/docs/
        # multimodal/image-understanding, checked 2026-12-01).
        max_input_images=14,
        usd_per_unit=0.134,
        released_on=date(2026, 5, 28),
        retires_on=date(2027, 5, 28),
        expected_latency_s=20.0,
        source="GA 2026-05-28 (model-versions page); $0.134 per 1K/2K image",
    ),
    ModelEntry(
        id="gemini-2.5-flash-image",
        capability="image",
        provider="google",
        unit="image",
        usd_per_unit=0.039,
        released_on=date(2025, 10, 2),
        retires_on=date(2026, 10, 2),
        replacement="gemini-3.1-flash-image",
        expected_latency_s=10.0,
        source="retired 2026-10-02 (model-versions page)",
    ),
    # ---- clips (video) ----------------------------------------------------------------
    _veo(
        "veo-3.1-generate-001",
        silent=0.20,
        loud=0.40,
        loud_4k=0.60,
        latency_s=120.0,
        rpm=50,
        released=date(2025, 11, 17),
        source=_VEO_PRICE_SOURCE,
    ),
    _veo(
        "veo-3.1-fast-generate-001",
        silent=0.10,
        loud=0.15,
        loud_4k=0.35,
        latency_s=60.0,
        rpm=50,
        released=date(2025, 11, 17),
        source=_VEO_PRICE_SOURCE,
    ),
    _veo(
        "veo-3.0-generate-001",
        silent=0.20,
        loud=0.40,
        loud_4k=0.60,
        latency_s=120.0,
        rpm=10,
        released=date(2025, 7, 29),
        retires=date(2026, 6, 30),
        replacement="veo-3.1-generate-001",
        source="retired 2026-06-30 (model-versions page)",
    ),
    # ---- narration (TTS) --------------------------------------------------------------
    # Gemini-TTS bills text input tokens and audio output tokens; 25 audio tokens per
    # second of speech. The 3.8 TTS models are Preview on Vertex and served only from
    # the `global` location, so they are not offered yet.
    ModelEntry(
        id="gemini-2.5-flash-tts",
        capability="tts",
        provider="google",
        unit="token",
        tokens=TokenPrices(input=0.50, output=10.00, thinking=10.00),
        audio_tokens_per_second=25.0,
        expected_latency_s=3.0,
        source="GA on Vertex / Cloud TTS (docs.cloud.google.com/text-to-speech/docs/"
        "gemini-tts), no retirement date published; $0.50/1M text in, $10/1M audio out",
    ),
    ModelEntry(
        id="gemini-2.5-pro-tts",
        capability="tts",
        provider="google",
        unit="token",
        tokens=TokenPrices(input=1.00, output=20.00, thinking=20.00),
        audio_tokens_per_second=25.0,
        expected_latency_s=6.0,
        source="GA on Vertex / Cloud TTS; $1/1M text in, $20/1M audio out (Vertex price "
        "as listed by OpenRouter)",
    ),
    # ---- made on this machine (the `local` provider): free ----------------------------
    ModelEntry(
        id="local-storyboard",
        capability="storyboard",
        provider="local",
        unit="request",
        source="local",
    ),
    ModelEntry(
        id="local-keyframe", capability="image", provider="local", unit="image", source="local"
    ),
    ModelEntry(
        id="local-clip",
        capability="video",
        provider="local",
        unit="second",
        # ffmpeg on this machine: a few seconds per clip (the poll cadence follows it).
        expected_latency_s=3.0,
        source="local",
    ),
    ModelEntry(
        id="local-narration", capability="tts", provider="local", unit="minute", source="local"
    ),
    ModelEntry(id="local-tts", capability="tts", provider="local", unit="minute", source="local"),
)


def _index(entries: tuple[ModelEntry, ...]) -> dict[str, ModelEntry]:
    index: dict[str, ModelEntry] = {}
    for entry in entries:
        for name in (entry.id, *entry.aliases):
            if name in index:
                raise RuntimeError(f"model id {name!r} is catalogued twice")
            index[name] = entry
    return index


CATALOGUE: Mapping[str, ModelEntry] = _index(_ENTRIES)


def catalogued_ids(
    capability: Capability | None = None, *, provider: str | None = None
) -> tuple[str, ...]:
    """Catalogued model ids (not aliases), optionally of one capability or provider."""
    return tuple(
        e.id
        for e in _ENTRIES
        if (capability is None or e.capability == capability)
        and (provider is None or e.provider == provider)
    )


def _where(capability: Capability | None, setting: str | None) -> str:
    if setting:
        return setting
    if capability is not None:
        return f"{ENV_VARS[capability]} (or a channel's [channels.<name>.models] {capability})"
    return "the REELGATE_GOOGLE_*_MODEL variable (or a channel's [channels.<name>.models])"


def model_entry(
    model_id: str, *, capability: Capability | None = None, setting: str | None = None
) -> ModelEntry:
    """The catalogue entry of `model_id` (an exact id or a listed alias).

    ConfigError when it is unknown, or is not a `capability` model; the message names
    `setting` (default: the env var of `capability`) as the place to fix it.
    """
    entry = CATALOGUE.get(model_id)
    where = _where(capability, setting)
    if entry is None:
        hint = f" (current {capability} models: {_current(capability)})" if capability else ""
        raise ConfigError(
            f"unknown model {model_id!r}: it is not in the model catalogue "
            f"(orchestrator/providers/catalogue.py). Set {where} to a catalogued id{hint}"
        )
    if capability is not None and entry.capability != capability:
        raise ConfigError(
            f"model {model_id!r} is a {entry.capability} model, not a {capability} model: "
            f"set {where} to one of {_current(capability)}"
        )
    return entry


def _current(capability: Capability) -> str:
    today = date.today()
    return ", ".join(
        e.id
        for e in _ENTRIES
        if e.capability == capability and e.provider == "google" and not e.retired(today)
    )


def retirement_problem(
    entry: ModelEntry, today: date, *, setting: str | None = None
) -> tuple[Literal["retired", "retiring"], str] | None:
    """("retired" | "retiring", what to do), or None when the model is not near retirement."""
    days = entry.days_to_retirement(today)
    if days is None or days > RETIREMENT_WARNING_DAYS:
        return None
    where = setting or ENV_VARS[entry.capability]
    if entry.replacement is None:
        fix = f"set {where} to a newer {entry.capability} model"
    elif where.startswith("["):  # a channels.toml key
        fix = f'set {where} = "{entry.replacement}" in the channels file'
    else:
        fix = f"set {where}={entry.replacement}"
    if entry.retired(today):
        return (
            "retired",
            f"{entry.id} was retired on {entry.retires_on} (Vertex answers 404 NOT_FOUND). "
            f"Fix: {fix}",
        )
    return ("retiring", f"{entry.id} retires on {entry.retires_on}, in {days} days. Fix: {fix}")


def _charge(entry: ModelEntry, units: float, usd: float) -> Charge:
    return Charge(
        provider=entry.provider, model=entry.id, units=units, unit=entry.unit, usd=round(usd, 6)
    )


def unbilled(charge: Charge) -> Charge:
    """The same call recorded at $0 (a safety-filtered result is not billed)."""
    return dataclasses.replace(charge, usd=0.0)


def charge_for(model: str, units: float) -> Charge:
    """A call to a flat-priced model (images, local models): `units` x its unit price."""
    if units < 0:
        raise ValueError(f"units must be >= 0, got {units}")
    entry = model_entry(model)
    if entry.tokens is not None or entry.clip_prices:
        raise ConfigError(f"{model} is priced by tokens or per clip, not per {entry.unit}")
    return _charge(entry, units, units * entry.usd_per_unit)


def quote_image(model: str, count: int = 1) -> Charge:
    """The price of `count` generated images."""
    entry = model_entry(model, capability="image")
    return charge_for(entry.id, float(count))


def quote_tokens(
    model: str, *, prompt_tokens: int, output_tokens: int, thinking_tokens: int = 0
) -> Charge:
    """A text call priced from its token counts (usage_metadata: prompt, candidates, thoughts)."""
    if min(prompt_tokens, output_tokens, thinking_tokens) < 0:
        raise ValueError("token counts must be >= 0")
    entry = model_entry(model)
    total = prompt_tokens + output_tokens + thinking_tokens
    if entry.tokens is None:  # a flat-priced stand-in (local-storyboard): one request
        return _charge(entry, 1.0, entry.usd_per_unit)
    p = entry.tokens
    usd = (
        prompt_tokens * p.input + output_tokens * p.output + thinking_tokens * p.thinking
    ) / _MILLION
    return _charge(entry, float(total), usd)


def quote_speech(
    model: str,
    *,
    seconds: float | None = None,
    audio_tokens: int | None = None,
    text_tokens: int = 0,
) -> Charge:
    """A TTS call: text input tokens plus audio output tokens.

    Uses the audio token count the response reports when there is one; otherwise
    (estimates, or a response without usage) the seconds of speech x tokens per second.
    """
    entry = model_entry(model, capability="tts")
    if entry.tokens is None:  # local speech: priced per minute (free)
        minutes = (seconds or 0.0) / 60.0
        return _charge(entry, minutes, minutes * entry.usd_per_unit)
    if audio_tokens is None:
        if seconds is None:
            raise ValueError("quote_speech needs seconds or audio_tokens")
        audio_tokens = round(seconds * (entry.audio_tokens_per_second or 0.0))
    usd = (text_tokens * entry.tokens.input + audio_tokens * entry.tokens.output) / _MILLION
    return _charge(entry, float(text_tokens + audio_tokens), usd)


def quote_clip(
    model: str, seconds: float, *, resolution: str | None = None, with_audio: bool = False
) -> Charge:
    """The price of one clip create: fixed by what is submitted (model, length, options).

    ConfigError when the model does not offer that resolution / audio combination.
    """
    if seconds < 0:
        raise ValueError(f"seconds must be >= 0, got {seconds}")
    entry = model_entry(model, capability="video")
    if not entry.clip_prices:
        return _charge(entry, float(seconds), seconds * entry.usd_per_unit)
    res = (resolution or entry.default_resolution or "").lower()
    for price in entry.clip_prices:
        if price.resolution == res and price.with_audio == with_audio:
            return _charge(entry, float(seconds), seconds * price.usd_per_second)
    offered = ", ".join(
        f"{p.resolution}{' with audio' if p.with_audio else ''}" for p in entry.clip_prices
    )
    raise ConfigError(
        f"{entry.id} has no price for {res or 'the default resolution'}"
        f"{' with audio' if with_audio else ' without audio'}: set "
        "REELGATE_GOOGLE_VIDEO_RESOLUTION / REELGATE_GOOGLE_VIDEO_GENERATE_AUDIO to one of: "
        f"{offered}"
    )
