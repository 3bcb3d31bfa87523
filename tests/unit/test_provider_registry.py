"""`ProviderRegistry`: one `ProviderSet` per distinct channel request, shared and catalogued."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from orchestrator.channels import ChannelConfig, ModelOverrides
from orchestrator.errors import ConfigError
from orchestrator.providers import (
    GoogleProvider,
    LocalProvider,
    LocalProviderSettings,
    ProviderRegistry,
    ProviderSet,
    model_entry,
)
from orchestrator.providers.settings import GoogleSettings

# Express mode against a closed loopback port: building a client sends nothing.
GOOGLE = GoogleSettings(
    _env_file=None,  # type: ignore[call-arg]
    api_key="test-key",  # type: ignore[arg-type]
    base_url="http://127.0.0.1:9",
)


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[ProviderRegistry]:
    made = ProviderRegistry(GOOGLE, LocalProviderSettings(work_dir=tmp_path / "local"))
    try:
        yield made
    finally:
        await made.aclose()


def _priced(providers: ProviderSet) -> None:
    for capability, model in providers.models.items():
        # Raises for a model the catalogue does not know, or of another capability.
        model_entry(model, capability=capability)  # type: ignore[arg-type]


async def test_local_channels_share_one_local_provider(registry: ProviderRegistry) -> None:
    one = registry.for_channel(ChannelConfig(name="one"))
    other = registry(ChannelConfig(name="other"))  # callable, as PipelineContext.providers_for

    assert one is other
    assert one.name == "local"
    assert isinstance(one.clips, LocalProvider)
    assert {id(one.storyboard), id(one.keyframes), id(one.narration)} == {id(one.clips)}
    assert one.models == {
        "storyboard": "local-storyboard",
        "image": "local-keyframe",
        "video": "local-clip",
        "tts": "local-narration",
    }
    assert one.rai_rephrase_retries == 1
    _priced(one)


async def test_a_given_local_provider_is_used(tmp_path: Path) -> None:
    local = LocalProvider(LocalProviderSettings(work_dir=tmp_path / "shared"))
    registry = ProviderRegistry(GOOGLE, LocalProviderSettings(), local_provider=local)
    try:
        assert registry.for_channel(ChannelConfig(name="x")).clips is local
        # A different rephrase bound is another set, over the same provider instance.
        strict = registry.for_channel(ChannelConfig(name="y", rai_rephrase_retries=0))
        assert strict.clips is local
        assert strict.rai_rephrase_retries == 0
    finally:
        await registry.aclose()


async def test_google_channel_takes_model_overrides(registry: ProviderRegistry) -> None:
    fast = ChannelConfig(
        name="fast", provider="google", models=ModelOverrides(video="veo-3.1-fast-generate-001")
    )
    default = ChannelConfig(name="default", provider="google", rai_rephrase_retries=3)

    providers = registry.for_channel(fast)

    assert providers.name == "google"
    assert isinstance(providers.clips, GoogleProvider)
    assert providers.clips.settings.video_model == "veo-3.1-fast-generate-001"
    assert providers.models == {
        "storyboard": GOOGLE.storyboard_model,
        "image": GOOGLE.image_model,
        "video": "veo-3.1-fast-generate-001",
        "tts": GOOGLE.tts_model,
    }
    assert providers.rai_rephrase_retries == GOOGLE.rai_rephrase_retries
    _priced(providers)
    # Same request, same instance; other models or bounds get their own.
    assert registry.for_channel(fast.model_copy(update={"name": "fast2"})) is providers
    other = registry.for_channel(default)
    assert other is not providers
    assert other.models["video"] == GOOGLE.video_model
    assert other.rai_rephrase_retries == 3


def test_check_names_the_channel_key_of_an_unknown_override(registry: ProviderRegistry) -> None:
    typo = ChannelConfig(
        name="shorts", provider="google", models=ModelOverrides(video="veo-3.1-generate-01")
    )

    with pytest.raises(ConfigError) as info:
        registry.check([ChannelConfig(name="default"), typo])

    message = str(info.value)
    assert "channel 'shorts'" in message
    assert "veo-3.1-generate-01" in message
    assert "[channels.shorts.models] video" in message


def test_check_refuses_a_retired_default_naming_its_env_var(tmp_path: Path) -> None:
    old = GOOGLE.model_copy(update={"storyboard_model": "gemini-2.5-flash"})
    registry = ProviderRegistry(old, LocalProviderSettings(work_dir=tmp_path))

    with pytest.raises(ConfigError) as info:
        registry.check([ChannelConfig(name="g", provider="google")], today=date(2026, 12, 1))

    message = str(info.value)
    assert "retired on 2026-10-16" in message
    assert "REELGATE_GOOGLE_STORYBOARD_MODEL=gemini-3.5-flash" in message


def test_check_passes_current_models_and_skips_local_channels(registry: ProviderRegistry) -> None:
    registry.check(
        [ChannelConfig(name="local"), ChannelConfig(name="g", provider="google")],
        today=date(2026, 12, 1),
    )


def test_google_set_carries_its_clip_options(tmp_path: Path) -> None:
    loud = GOOGLE.model_copy(update={"video_resolution": "1080p", "video_generate_audio": True})
    registry = ProviderRegistry(loud, LocalProviderSettings(work_dir=tmp_path))
    providers = registry.for_channel(ChannelConfig(name="g", provider="google"))

    assert providers.video_resolution == "1080p"
    assert providers.video_audio is True
