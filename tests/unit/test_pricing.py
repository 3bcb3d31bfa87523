"""The price table and `charge_for`."""

from __future__ import annotations

import pytest

from orchestrator.errors import ConfigError
from orchestrator.providers import GoogleSettings, charge_for, price_for
from orchestrator.providers.pricing import PRICES


def test_veo_seconds_are_priced_with_and_without_audio() -> None:
    silent = charge_for("google", "veo-3.1-generate-001", 8)
    loud = charge_for("google", "veo-3.1-generate-001", 8, with_audio=True)

    assert silent.unit == "second"
    assert silent.units == 8
    assert silent.usd == pytest.approx(1.60)
    assert loud.usd == pytest.approx(3.20)
    assert charge_for("google", "veo-3.1-fast-generate-001", 6).usd == pytest.approx(0.60)


def test_longest_prefix_wins() -> None:
    assert price_for("veo-3.1-fast-generate-preview") == PRICES["veo-3.1-fast-generate"]
    assert price_for("veo-3.1-generate-002") == PRICES["veo-3.1-generate"]
    assert price_for("gemini-2.5-flash-image") == PRICES["gemini-2.5-flash-image"]
    assert price_for("gemini-2.5-flash-lite") == PRICES["gemini-2.5-flash-lite"]
    assert price_for("gemini-2.5-flash") == PRICES["gemini-2.5-flash"]
    assert price_for("gemini-2.5-flash-tts").unit == "minute"


def test_filtered_results_cost_nothing() -> None:
    charge = charge_for("google", "veo-3.1-generate-001", 8, billed=False)
    assert charge.usd == 0.0
    assert charge.units == 8


def test_units_per_kind() -> None:
    assert charge_for("google", "gemini-2.5-flash-image", 1).usd == pytest.approx(0.039)
    assert charge_for("google", "gemini-2.5-flash", 1).unit == "request"
    speech = charge_for("google", "gemini-2.5-flash-tts", 2.0)
    assert speech.unit == "minute"
    assert speech.usd == pytest.approx(0.03)


@pytest.mark.parametrize(
    "model", ["local-storyboard", "local-keyframe", "local-clip", "local-narration", "local-tts"]
)
def test_local_models_are_free(model: str) -> None:
    charge = charge_for("local", model, 8)
    assert charge.usd == 0.0
    assert charge.provider == "local"


def test_unknown_model_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no price for model 'sora-9'"):
        price_for("sora-9")


def test_negative_units_are_rejected() -> None:
    with pytest.raises(ValueError, match="units"):
        charge_for("google", "veo-3.1-generate-001", -1)


def test_default_google_models_are_priced() -> None:
    s = GoogleSettings(_env_file=None)  # type: ignore[call-arg]
    for model in (s.storyboard_model, s.image_model, s.video_model, s.tts_model):
        assert price_for(model).usd > 0
