"""Run every `bench/bench_*.py` module's `main()`: `python -m bench [-v] [--quick] [name ...]`.

`--quick` is passed to the benchmarks whose `main` takes `quick` (small operation
latency, fewer clips: a check that the rig works, not a measurement).
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import pkgutil
import sys
import time
import traceback
from collections.abc import Awaitable
from pathlib import Path


def discover() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        f"bench.{m.name}" for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_")
    )


def run(module_name: str, *, quick: bool = False) -> bool:
    module = importlib.import_module(module_name)
    main = getattr(module, "main", None)
    if main is None:
        print(f"-- {module_name}: no main(), skipped")
        return True
    print(f"== {module_name}", flush=True)
    started = time.perf_counter()
    try:
        takes_quick = "quick" in inspect.signature(main).parameters
        result = main(quick=quick) if takes_quick else main()
        if inspect.isawaitable(result):
            asyncio.run(_await(result))
    except Exception:
        traceback.print_exc()
        print(f"!! {module_name} failed after {time.perf_counter() - started:.1f}s", flush=True)
        return False
    print(f"== {module_name} done in {time.perf_counter() - started:.1f}s\n", flush=True)
    return True


async def _await(awaitable: Awaitable[object]) -> None:
    await awaitable


def _quiet_logs() -> None:
    # Benchmarks print tables; per-call info logs would bury them (-v keeps them).
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def cli(argv: list[str]) -> int:
    if "-v" not in argv:
        _quiet_logs()
    wanted = [a for a in argv if not a.startswith("-")]
    modules = [m for m in discover() if not wanted or any(w in m for w in wanted)]
    if not modules:
        print(f"no benchmark matches {wanted}", file=sys.stderr)
        return 2
    quick = "--quick" in argv
    failed = [m for m in modules if not run(m, quick=quick)]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
