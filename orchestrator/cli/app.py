"""The `reelgate` Typer application; command modules register on it."""

from __future__ import annotations

import re
import sys

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError

from notion_sync.settings import NotionSettings
from orchestrator.config import AppConfig
from orchestrator.daemon.webhook import WebhookSettings
from orchestrator.logging import configure_logging
from orchestrator.providers.local_settings import LocalProviderSettings
from orchestrator.providers.settings import GoogleSettings
from orchestrator.settings import Settings
from storage.settings import StorageSettings

__all__ = ["app", "config_from", "fail", "settings_problems"]

_SETTINGS_CLASSES = (
    Settings,
    NotionSettings,
    StorageSettings,
    GoogleSettings,
    LocalProviderSettings,
    WebhookSettings,
)

app = typer.Typer(
    name="reelgate",
    help="Notion-driven AI video production daemon.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold secrets
)


def fail(message: str, code: int = 2) -> typer.Exit:
    """The one-line error of a command (`raise fail(...)`); with --debug, called while
    handling an exception, its traceback is printed first (secrets removed)."""
    from orchestrator.cli.errors import print_debug_traceback, redact

    print_debug_traceback(sys.exc_info()[1])
    typer.secho(f"error: {redact(message)}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _env_name(model: str, loc: tuple[int | str, ...]) -> str:
    """The environment variable behind a settings field (`NotionSettings`,
    ("requests_per_second",) -> REELGATE_NOTION_REQUESTS_PER_SECOND)."""
    for cls in _SETTINGS_CLASSES:
        if cls.__name__ == model:
            prefix = str(cls.model_config.get("env_prefix", ""))
            return f"{prefix}{'_'.join(str(p) for p in loc)}".upper()
    return ".".join(str(p) for p in loc)


def settings_problems(exc: ValidationError) -> str:
    """One line naming each bad variable, what is wrong, and the value given
    (never for a secret: those fields are SecretStr and their value is not shown)."""
    problems = []
    for err in exc.errors():
        name = _env_name(exc.title, err["loc"])
        given = err.get("input")
        secret = any(w in name for w in ("TOKEN", "SECRET", "KEY", "PASSWORD", "DATABASE_URL"))
        shown = "" if secret or isinstance(given, dict) else f" (got {given!r})"
        problems.append(f"{name}: {err['msg']}{shown}")
    return "; ".join(problems)


def settings_parse_problem(exc: SettingsError) -> str:
    """pydantic-settings' 'error parsing value for field "x"', with the variable named."""
    text = str(exc)
    found = re.search(r'field "([^"]+)"', text)
    field = found.group(1) if found else None
    names = [
        f"{cls.model_config.get('env_prefix', '')}{field}".upper()
        for cls in _SETTINGS_CLASSES
        if field and field in cls.model_fields
    ]
    if len(names) == 1:
        return f"{names[0]}: not valid JSON (write a JSON object, e.g. {{}})"
    return text.splitlines()[0] if text else "a setting could not be parsed"


@app.callback()
def _root(
    ctx: typer.Context,
    debug: bool = typer.Option(
        False, "--debug", help="On an error, print the traceback too (or REELGATE_DEBUG=1)."
    ),
) -> None:
    """Build the settings once; every command reads them from the context."""
    from orchestrator.cli.errors import remember

    try:
        config = AppConfig()
    except ValidationError as exc:
        raise fail(f"invalid settings: {settings_problems(exc)}") from None
    except SettingsError as exc:  # a JSON-valued setting that is not JSON
        raise fail(f"invalid settings: {settings_parse_problem(exc)}") from None
    ctx.obj = config
    remember(
        debug=debug or config.settings.debug,
        secrets=config.secrets(),
        database_url=config.settings.database_url,
        notion_base_url=config.notion.base_url,
    )
    # Commands print data on stdout (status --json, setup-notion's .env lines):
    # their log lines go to stderr. `reelgate run` logs to stdout instead.
    configure_logging(
        level=config.settings.log_level,
        json=config.settings.log_json,
        secrets=config.secrets(),
        stream=sys.stderr,
    )


def config_from(ctx: typer.Context) -> AppConfig:
    obj = ctx.find_root().obj
    if not isinstance(obj, AppConfig):
        raise fail("settings were not loaded")
    return obj
