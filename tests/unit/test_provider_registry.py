"""`ProviderRegistry`: one `ProviderSet` per distinct channel request, shared and priced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from orchestrator.channels import ChannelConfig, ModelOverrides
from orchestrator.providers import (
    GoogleProvider,
    LocalProvider,
    LocalProviderSettings,
    ProviderRegistry,
    ProviderSet,
    price_for,
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
    for model in providers.models.values():
        price_for(model)  # raises for a model the price table does not know


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
