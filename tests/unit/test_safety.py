"""The bounded, deterministic rephrase used after a provider's safety filter."""

from __future__ import annotations

import pytest

from orchestrator.providers import GoogleSettings
from orchestrator.providers.safety import rephrase_for_safety, should_rephrase

PROMPT = "A soldier with a gun walks through a bloody battlefield. Smoke rises. Crows circle."


def test_first_rephrase_softens_words_and_adds_a_note() -> None:
    out = rephrase_for_safety(PROMPT, ["violence"], 1)

    assert "gun" not in out
    assert "bloody" not in out
    assert "Family-friendly" in out
    assert "Crows circle." in out  # attempt 1 keeps the whole scene


def test_is_deterministic() -> None:
    assert rephrase_for_safety(PROMPT, ["x"], 1) == rephrase_for_safety(PROMPT, ["x"], 1)


def test_later_attempts_shorten_and_do_not_stack_notes() -> None:
    once = rephrase_for_safety(PROMPT, [], 1)
    twice = rephrase_for_safety(once, [], 2)

    assert "Crows circle." not in twice
    assert twice.count("Family-friendly") == 1
    assert "documentary" in twice


def test_reasons_add_hints() -> None:
    out = rephrase_for_safety("a crowd at a concert", ["celebrity likeness detected"], 1)
    assert "fictional adults" in out
    out = rephrase_for_safety("a playground", ["child safety"], 1)
    assert "Only adults" in out


def test_attempt_is_one_based() -> None:
    with pytest.raises(ValueError, match="1-based"):
        rephrase_for_safety(PROMPT, [], 0)


def test_retry_bound_comes_from_settings() -> None:
    retries = GoogleSettings(_env_file=None).rai_rephrase_retries  # type: ignore[call-arg]
    assert retries == 1
    assert should_rephrase(0, retries)
    assert not should_rephrase(1, retries)
    assert not should_rephrase(0, 0)
