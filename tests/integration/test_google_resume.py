"""Resume after a restart: operation names saved by one process, polled by another."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

from orchestrator.providers import ClipPending, ClipRequest, GoogleProvider, Image
from tests.fakes.vertex import FakeVertex, tiny_mp4, tiny_png
from tests.fixtures.vertex import MakeGoogleSettings, static_credentials

REPO = Path(__file__).resolve().parents[2]

RESUME_SCRIPT = textwrap.dedent(
    """
    import asyncio, hashlib, json, sys

    from orchestrator.providers import ClipDone, GoogleProvider, GoogleSettings
    from tests.fixtures.vertex import static_credentials
    from tests.helpers.clips import poll_until_finished

    state = json.loads(open(sys.argv[1]).read())

    async def main() -> None:
        settings = GoogleSettings(
            _env_file=None,
            project="test-project",
            location="us-central1",
            base_url=state["base_url"],
            timeout_ms=10_000,
            read_retry_initial_s=0.01,
            read_retry_max_s=0.02,
            read_retry_jitter_s=0.0,
        )
        # A brand-new client in a brand-new process: only the saved names connect
        # it to the clips started before the "crash".
        provider = GoogleProvider(settings, credentials=static_credentials())
        try:
            results = await asyncio.gather(*(
                poll_until_finished(provider, name, deadline_s=20)
                for name in state["operations"]
            ))
        finally:
            await provider.aclose()
        out = []
        for name, r in zip(state["operations"], results):
            out.append({
                "name": name,
                "state": r.state,
                "sha256": hashlib.sha256(r.video).hexdigest()
                if isinstance(r, ClipDone) and r.video else None,
                "seconds": r.charge.units if isinstance(r, ClipDone) and r.charge else None,
            })
        with open(sys.argv[2], "w") as fh:
            json.dump(out, fh)

    asyncio.run(main())
    """
)


def test_resume_six_clips_in_a_fresh_process(
    fake_vertex: FakeVertex, google_settings: MakeGoogleSettings, tmp_path: Path
) -> None:
    fake_vertex.polls_until_done = 2  # first process sees them pending
    start, end = Image(tiny_png("a")), Image(tiny_png("b"))

    async def submit_six() -> list[str]:
        provider = GoogleProvider(google_settings(), credentials=static_credentials())
        try:
            requests = [
                ClipRequest(
                    start_frame=start, end_frame=end, prompt=f"clip {i}", seconds=8, aspect="16:9"
                )
                for i in range(1, 7)
            ]
            names = [await provider.start_clip(request) for request in requests]
            for name in names:
                assert isinstance(await provider.poll_clip(name), ClipPending)
        finally:
            await provider.aclose()
        return names

    # Own event loop and client, both discarded before the resume.
    names = asyncio.run(submit_six())
    state = tmp_path / "operations.json"
    state.write_text(json.dumps({"base_url": fake_vertex.url, "operations": names}))
    out = tmp_path / "results.json"

    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", RESUME_SCRIPT, str(state), str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=90,
    )

    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())
    assert [r["name"] for r in results] == names
    assert {r["state"] for r in results} == {"done"}
    assert {r["sha256"] for r in results} == {hashlib.sha256(tiny_mp4()).hexdigest()}
    # No seconds hint in the new process: priced by probing the returned MP4 (1 s).
    assert {r["seconds"] for r in results} == {1.0}
    # Exactly one create per clip across both processes; the resume only polled.
    assert fake_vertex.total_creates == 6
    assert fake_vertex.create_calls == {f"clip {i}": 1 for i in range(1, 7)}
    assert all(fake_vertex.poll_calls[name] >= 3 for name in names)
