"""WAV silence helper and contact-sheet geometry (pure Python)."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from orchestrator.errors import MediaError
from orchestrator.media import contact_sheet_size, write_wav_silence


def test_write_wav_silence(tmp_path: Path) -> None:
    out = write_wav_silence(tmp_path / "s.wav", 1.5, rate=24000)
    with wave.open(str(out), "rb") as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        assert wav.getframerate() == 24000
        assert wav.getnframes() == 36000
        assert set(wav.readframes(wav.getnframes())) == {0}


def test_write_wav_silence_rejects_negative(tmp_path: Path) -> None:
    with pytest.raises(MediaError):
        write_wav_silence(tmp_path / "s.wav", -1)
    assert not (tmp_path / "s.wav").exists()


@pytest.mark.parametrize(
    ("count", "columns", "expected"),
    [
        (18, 6, (6 * 320 + 7 * 6, 3 * 180 + 4 * 6)),
        (4, 6, (4 * 320 + 5 * 6, 180 + 12)),
        (7, 6, (1962, 378)),
    ],
)
def test_contact_sheet_size(count: int, columns: int, expected: tuple[int, int]) -> None:
    assert contact_sheet_size(count, 320, 180, columns, 6) == expected
