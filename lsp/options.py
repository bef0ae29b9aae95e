"""Editor settings (``initializationOptions`` / ``workspace/didChangeConfiguration``) → core settings.

The editor sends the ``assist`` settings object of the VS Code extension (Neovim users write the same
object in Lua). Every key is optional, and an empty string means "not set here: use the config files and
environment". Editors send whatever their users typed, so a wrong value is never fatal: it is reported
as one warning naming the key and that key alone falls back, while the rest still applies.

Mapping onto ``assistant.config`` (dotted keys passed to ``load_settings(root, overrides=…)``)::

    ollamaHost               ollama.host (+ roles.completion.hosts, roles.analysis.hosts)
    ollamaHeaders            ollama.headers
    completion.enable        completion.enabled
    completion.model         roles.completion.model
    completion.debounceMs    completion.debounce_ms
    completion.maxTokens     completion.max_tokens
    completion.contextTokens completion.context_tokens
    completion.languages     completion.languages
    analysis.model           roles.analysis.model
    timeoutSeconds           ollama.first_token_timeout
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Settings, load_settings
from assistant.errors import ConfigError

SECTION = "assist"


@dataclass
class CompletionOptions:
    enable: bool | None = None
    model: str = ""
    debounce_ms: int | None = None
    max_tokens: int | None = None
    context_tokens: int | None = None
    languages: dict[str, bool] = field(default_factory=dict)


@dataclass
class AnalysisOptions:
    model: str = ""


@dataclass
class EditorOptions:
    """The ``assist`` settings object, every field defaulted to "not set"."""

    ollama_host: str = ""
    ollama_headers: dict[str, str] = field(default_factory=dict)
    completion: CompletionOptions = field(default_factory=CompletionOptions)
    analysis: AnalysisOptions = field(default_factory=AnalysisOptions)
    timeout_seconds: float | None = None

    def overrides(self) -> dict[str, Any]:
        """Dotted overrides for ``load_settings``; unset fields are left out so lower layers win."""
        out: dict[str, Any] = {}
        if self.ollama_host:
            out["ollama.host"] = self.ollama_host
            # A role-specific host list in a config file would otherwise still win over the editor.
            out["roles.completion.hosts"] = [self.ollama_host]
            out["roles.analysis.hosts"] = [self.ollama_host]
        if self.ollama_headers:
            out["ollama.headers"] = dict(self.ollama_headers)
        c = self.completion
        if c.enable is not None:
            out["completion.enabled"] = c.enable
        if c.model:
            out["roles.completion.model"] = c.model
        if c.debounce_ms is not None:
            out["completion.debounce_ms"] = c.debounce_ms
        if c.max_tokens is not None:
            out["completion.max_tokens"] = c.max_tokens
        if c.context_tokens is not None:
            out["completion.context_tokens"] = c.context_tokens
        if c.languages:
            out["completion.languages"] = dict(c.languages)
        if self.analysis.model:
            out["roles.analysis.model"] = self.analysis.model
        if self.timeout_seconds is not None:
            out["ollama.first_token_timeout"] = self.timeout_seconds
        return out


def _str(value: Any, key: str, warnings: list[str]) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    warnings.append(f"assist.{key}: expected a string, got {value!r}; ignored")
    return ""


def _int(value: Any, key: str, warnings: list[str], *, minimum: int) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON from JavaScript has no integer type
    if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
        return value
    warnings.append(f"assist.{key}: expected an integer ≥ {minimum}, got {value!r}; ignored")
    return None


def _bool(value: Any, key: str, warnings: list[str]) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    warnings.append(f"assist.{key}: expected true or false, got {value!r}; ignored")
    return None


def _str_map(value: Any, key: str, warnings: list[str]) -> dict[str, str]:
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping) and all(isinstance(v, str) for v in value.values()):
        return {str(k): v for k, v in sorted(value.items())}
    warnings.append(f"assist.{key}: expected an object of strings, got {value!r}; ignored")
    return {}


def _bool_map(value: Any, key: str, warnings: list[str]) -> dict[str, bool]:
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping) and all(isinstance(v, bool) for v in value.values()):
        return {str(k): v for k, v in sorted(value.items())}
    warnings.append(f"assist.{key}: expected an object of languageId → true/false, got {value!r}; ignored")
    return {}


def _table(value: Any, key: str, warnings: list[str]) -> Mapping[str, Any]:
    if value is None or value == "":
        return {}
    if isinstance(value, Mapping):
        return value
    warnings.append(f"assist.{key}: expected an object, got {value!r}; ignored")
    return {}


def _unknown(table: Mapping[str, Any], known: tuple[str, ...], prefix: str, warnings: list[str]) -> None:
    for key in sorted(str(k) for k in table):
        if key not in known:
            warnings.append(f"assist.{prefix}{key}: unknown setting; ignored (known: {', '.join(known)})")


def settings_object(payload: Any) -> Any:
    """Find the ``assist`` object in what a client sent: ``{"assist": {...}}``, ``{"settings": {"assist":
    {...}}}`` (didChangeConfiguration), or the object itself."""
    if isinstance(payload, Mapping):
        if "settings" in payload and isinstance(payload["settings"], Mapping):
            payload = payload["settings"]
        if SECTION in payload and isinstance(payload[SECTION], Mapping):
            return payload[SECTION]
    return payload


def parse_options(payload: Any) -> tuple[EditorOptions, list[str]]:
    """Parse the editor's settings; never raises. Returns the options and one warning per bad key."""
    warnings: list[str] = []
    options = EditorOptions()
    data = settings_object(payload)
    if data is None:
        return options, warnings
    if not isinstance(data, Mapping):
        warnings.append(f"assist settings: expected an object, got {type(data).__name__}; using defaults")
        return options, warnings
    _unknown(data, ("ollamaHost", "ollamaHeaders", "completion", "analysis", "timeoutSeconds"), "", warnings)
    options.ollama_host = _str(data.get("ollamaHost"), "ollamaHost", warnings)
    options.ollama_headers = _str_map(data.get("ollamaHeaders"), "ollamaHeaders", warnings)
    timeout = data.get("timeoutSeconds")
    if timeout is not None and timeout != "":
        if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
            options.timeout_seconds = float(timeout)
        else:
            warnings.append(f"assist.timeoutSeconds: expected a positive number, got {timeout!r}; ignored")

    comp = _table(data.get("completion"), "completion", warnings)
    _unknown(
        comp,
        ("enable", "model", "debounceMs", "maxTokens", "contextTokens", "languages"),
        "completion.",
        warnings,
    )
    c = options.completion
    c.enable = _bool(comp.get("enable"), "completion.enable", warnings)
    c.model = _str(comp.get("model"), "completion.model", warnings)
    c.debounce_ms = _int(comp.get("debounceMs"), "completion.debounceMs", warnings, minimum=0)
    c.max_tokens = _int(comp.get("maxTokens"), "completion.maxTokens", warnings, minimum=1)
    c.context_tokens = _int(comp.get("contextTokens"), "completion.contextTokens", warnings, minimum=64)
    c.languages = _bool_map(comp.get("languages"), "completion.languages", warnings)

    analysis = _table(data.get("analysis"), "analysis", warnings)
    _unknown(analysis, ("model",), "analysis.", warnings)
    options.analysis.model = _str(analysis.get("model"), "analysis.model", warnings)
    return options, warnings


def effective_settings(
    root: Path | None, options: EditorOptions, environ: Mapping[str, str] | None = None
) -> tuple[Settings, list[str]]:
    """``load_settings`` with the editor's overrides; a config error degrades step by step, never raises.

    First without the editor overrides (one of them may be the bad value, e.g. an unparsable host),
    then with built-in defaults only, each time with a warning that says what was dropped.
    """
    warnings: list[str] = []
    try:
        return load_settings(root, overrides=options.overrides(), environ=environ), warnings
    except ConfigError as exc:
        warnings.append(f"editor settings rejected: {exc}; using config files and environment only")
    try:
        return load_settings(root, environ=environ), warnings
    except ConfigError as exc:
        warnings.append(f"configuration rejected: {exc}; using built-in defaults")
    return Settings(sources=["defaults"]), warnings


def language_enabled(settings: Settings, language_id: str | None) -> bool:
    """Per-language switch: the language's own entry, else ``"*"``, else on."""
    languages = settings.completion.languages
    if language_id and language_id in languages:
        return languages[language_id]
    return languages.get("*", True)
