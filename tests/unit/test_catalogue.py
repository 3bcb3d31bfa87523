"""The model catalogue: ids, capabilities, prices, retirement, latency and quota."""

from __future__ import annotations

from datetime import date

import pytest

from orchestrator.errors import ConfigError
from orchestrator.providers import GoogleSettings
from orchestrator.providers.catalogue import (
    CATALOGUE,
    ENV_VARS,
    catalogued_ids,
    charge_for,
    model_entry,
    quote_clip,
    quote_image,
    quote_speech,
    quote_tokens,
    retirement_problem,
    unbilled,
)
from orchestrator.providers.google import check_models

TODAY = date(2026, 12, 1)


def test_default_google_models_are_current_and_of_their_capability() -> None:
    s = GoogleSettings(_env_file=None)  # type: ignore[call-arg]
    entries = check_models(s, today=TODAY)

    assert {cap: e.id for cap, e in entries.items()} == {
        "storyboard": "gemini-3.5-flash",
        "image": "gemini-3.1-flash-image",
        "video": "veo-3.1-generate-001",
        "tts": "gemini-2.5-flash-tts",
    }
    for entry in entries.values():
        assert entry.provider == "google"
        assert not entry.retired(TODAY)
        assert retirement_problem(entry, TODAY) is None
        assert entry.source


def test_veo_seconds_are_priced_by_resolution_and_audio() -> None:
    silent = quote_clip("veo-3.1-generate-001", 8)
    loud = quote_clip("veo-3.1-generate-001", 8, with_audio=True)

    assert silent.unit == "second"
    assert silent.units == 8
    assert silent.usd == pytest.approx(1.60)
    assert loud.usd == pytest.approx(3.20)
    assert quote_clip("veo-3.1-generate-001", 8, resolution="1080p").usd == pytest.approx(1.60)
    assert quote_clip("veo-3.1-generate-001", 8, resolution="4K", with_audio=True).usd == (
        pytest.approx(4.80)
    )
    assert quote_clip("veo-3.1-fast-generate-001", 6).usd == pytest.approx(0.60)
    assert quote_clip("veo-3.1-fast-generate-001", 8, with_audio=True).usd == pytest.approx(1.20)
    assert quote_clip("local-clip", 8).usd == 0.0


def test_a_combination_with_no_published_price_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"4k without audio.*REELGATE_GOOGLE_VIDEO_RESOLUTION"):
        quote_clip("veo-3.1-generate-001", 8, resolution="4k")
    with pytest.raises(ConfigError, match="2160p"):
        quote_clip("veo-3.1-generate-001", 8, resolution="2160p")


def test_veo_entries_carry_latency_quota_and_durations() -> None:
    for model in ("veo-3.1-generate-001", "veo-3.1-fast-generate-001"):
        entry = model_entry(model)
        assert entry.requests_per_minute == 50
        assert entry.latency_range_s == (11.0, 360.0)
        assert 11.0 <= entry.expected_latency_s <= 360.0
        assert entry.durations_s == (4, 6, 8)
        assert entry.durations_for("720p") == (4, 6, 8)
        assert entry.durations_for("1080p") == (8,)
        assert entry.durations_for(None) == (4, 6, 8)
    # Gemini runs on Dynamic Shared Quota: no fixed per-project RPM.
    assert model_entry("gemini-3.5-flash").requests_per_minute is None


def test_text_cost_is_token_true() -> None:
    charge = quote_tokens(
        "gemini-3.5-flash", prompt_tokens=1_000, output_tokens=2_000, thinking_tokens=500
    )

    assert charge.unit == "token"
    assert charge.units == 3_500
    assert charge.usd == pytest.approx((1_000 * 1.50 + 2_000 * 9.00 + 500 * 9.00) / 1e6)
    cheaper = quote_tokens("gemini-3.1-flash-lite", prompt_tokens=1_000, output_tokens=2_000)
    assert cheaper.usd == pytest.approx((1_000 * 0.25 + 2_000 * 1.50) / 1e6)


def test_tts_is_priced_as_tts() -> None:
    # From the response's own counts: text in, audio out.
    counted = quote_speech("gemini-2.5-flash-tts", audio_tokens=250, text_tokens=20)
    assert counted.unit == "token"
    assert counted.units == 270
    assert counted.usd == pytest.approx((20 * 0.50 + 250 * 10.00) / 1e6)
    # An estimate from seconds: 25 audio tokens a second (one minute = $0.015).
    assert quote_speech("gemini-2.5-flash-tts", seconds=60).usd == pytest.approx(0.015)
    assert quote_speech("local-narration", seconds=60).usd == 0.0


def test_no_prefix_falls_through_to_another_row() -> None:
    # A TTS id is its own row, never gemini-2.5-flash's text price.
    assert model_entry("gemini-2.5-flash-tts").capability == "tts"
    for unknown in ("gemini-3.5-flash-tts", "veo-3.1-generate-002", "gemini-3.5-flash-exp"):
        with pytest.raises(ConfigError, match="not in the model catalogue"):
            model_entry(unknown)


def test_unknown_model_names_the_env_var_to_fix() -> None:
    with pytest.raises(ConfigError) as info:
        model_entry("sora-9", capability="video")
    message = str(info.value)
    assert "'sora-9'" in message
    assert ENV_VARS["video"] in message
    assert "veo-3.1-generate-001" in message  # the known choices


def test_a_model_of_another_capability_is_refused() -> None:
    with pytest.raises(ConfigError, match="is a tts model, not a storyboard model"):
        model_entry("gemini-2.5-flash-tts", capability="storyboard")
    with pytest.raises(ConfigError, match="REELGATE_GOOGLE_IMAGE_MODEL"):
        check_models(
            GoogleSettings(_env_file=None, image_model="veo-3.1-generate-001"),  # type: ignore[call-arg]
            today=TODAY,
        )


def test_retirement_is_reported_with_its_fix() -> None:
    retired = retirement_problem(model_entry("gemini-2.5-flash"), TODAY)
    assert retired is not None
    assert retired[0] == "retired"
    assert "retired on 2026-10-16" in retired[1]
    assert "REELGATE_GOOGLE_STORYBOARD_MODEL" in retired[1]
    assert "gemini-3.5-flash" in retired[1]

    entry = model_entry("gemini-3.5-flash")
    soon = retirement_problem(entry, date(2027, 5, 1), setting="[channels.x.models] storyboard")
    assert soon is not None
    assert soon[0] == "retiring"
    assert "in 18 days" in soon[1]
    assert "[channels.x.models] storyboard" in soon[1]
    assert retirement_problem(entry, date(2027, 4, 18)) is None  # 31 days ahead


def test_a_retired_default_fails_the_settings_check() -> None:
    s = GoogleSettings(_env_file=None, storyboard_model="gemini-2.5-flash")  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match=r"REELGATE_GOOGLE_STORYBOARD_MODEL=gemini-3\.5-flash"):
        check_models(s, today=TODAY)
    # Before its retirement date the same id was fine.
    assert check_models(s, today=date(2026, 9, 1))["storyboard"].id == "gemini-2.5-flash"


def test_local_models_are_free_and_not_for_vertex() -> None:
    for model in ("local-storyboard", "local-keyframe", "local-narration", "local-tts"):
        charge = charge_for(model, 8)
        assert charge.usd == 0.0
        assert charge.provider == "local"
    with pytest.raises(ConfigError, match="made on this machine"):
        check_models(
            GoogleSettings(_env_file=None, video_model="local-clip"),  # type: ignore[call-arg]
            today=TODAY,
        )


def test_images_and_filtered_results() -> None:
    image = quote_image("gemini-3.1-flash-image", 2)
    assert image.unit == "image"
    assert image.usd == pytest.approx(2 * 0.067)
    assert unbilled(image).usd == 0.0
    assert unbilled(image).units == 2
    with pytest.raises(ConfigError, match="priced by tokens"):
        charge_for("gemini-3.5-flash", 1)
    with pytest.raises(ValueError, match="units"):
        charge_for("local-keyframe", -1)


def test_every_entry_is_complete() -> None:
    assert len(set(CATALOGUE.values())) == len(catalogued_ids())
    for entry in CATALOGUE.values():
        assert entry.source
        if entry.provider != "google":
            continue
        assert entry.expected_latency_s > 0
        if entry.capability in ("storyboard", "tts"):
            assert entry.tokens is not None
        if entry.capability == "video":
            assert entry.clip_prices
        if entry.retires_on is not None and entry.retires_on < TODAY:
            assert entry.replacement in CATALOGUE
            assert not CATALOGUE[entry.replacement].retired(TODAY)
