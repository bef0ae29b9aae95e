"""Modelfile text → the structured ``/api/create`` request.

Ollama's create API no longer takes a Modelfile string: it takes ``model``, ``from``, ``parameters``
(typed values), ``template``, ``system``, ``license``, ``messages`` and ``adapters`` (blob digests).
This module parses the Modelfile syntax (``FROM``, ``PARAMETER``, ``TEMPLATE``, ``SYSTEM``, ``ADAPTER``,
``LICENSE``, ``MESSAGE``; ``#`` comments; values bare, ``"quoted"`` or ``\"\"\"multi-line\"\"\"``) and
types parameter values the way the server expects them (``num_ctx`` an integer, ``temperature`` a float,
``stop`` a list).

Shipped Modelfiles may declare the role they serve in a header comment ``# assist-role: analysis``;
``assist models setup`` then creates them under the model name configured for that role (default
``assist-coder`` / ``assist-completion``), so the file can keep the name users know from the seed
(``Coder.Modelfile``) while the config keeps stable role names. Other Modelfiles are created under their
file stem (lower-cased), unless ``--name`` says otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import AssistError, InputError

MODELFILE_SUFFIX = ".Modelfile"
INSTRUCTIONS = ("FROM", "PARAMETER", "TEMPLATE", "SYSTEM", "ADAPTER", "LICENSE", "MESSAGE")
MESSAGE_ROLES = ("system", "user", "assistant", "tool")
_ROLE_COMMENT = re.compile(r"^#\s*assist-role:\s*(\w+)\s*$", re.I)

# Parameter types as Ollama's api.Options declares them; unknown keys are typed by their look.
INT_PARAMETERS = frozenset(
    {
        "num_ctx",
        "num_predict",
        "num_gpu",
        "num_thread",
        "num_batch",
        "num_keep",
        "seed",
        "top_k",
        "repeat_last_n",
        "mirostat",
        "main_gpu",
    }
)
FLOAT_PARAMETERS = frozenset(
    {
        "temperature",
        "top_p",
        "min_p",
        "typical_p",
        "repeat_penalty",
        "presence_penalty",
        "frequency_penalty",
        "mirostat_tau",
        "mirostat_eta",
        "tfs_z",
    }
)
BOOL_PARAMETERS = frozenset({"use_mmap", "use_mlock", "numa", "penalize_newline", "low_vram", "vocab_only"})
LIST_PARAMETERS = frozenset({"stop"})


@dataclass
class Modelfile:
    """A parsed Modelfile. ``parameters`` holds typed values; ``stop`` is a list."""

    from_: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    template: str | None = None
    system: str | None = None
    adapters: list[str] = field(default_factory=list)
    license: list[str] = field(default_factory=list)
    messages: list[dict[str, str]] = field(default_factory=list)
    role: str | None = None  # from a "# assist-role: …" comment
    path: Path | None = None

    def create_kwargs(self, model: str) -> dict[str, Any]:
        """Keyword arguments for ``ollama.AsyncClient.create`` (adapters are resolved by the caller)."""
        kwargs: dict[str, Any] = {"model": model, "from_": self.from_}
        if self.parameters:
            kwargs["parameters"] = dict(self.parameters)
        if self.template is not None:
            kwargs["template"] = self.template
        if self.system is not None:
            kwargs["system"] = self.system
        if self.license:
            kwargs["license"] = self.license[0] if len(self.license) == 1 else list(self.license)
        if self.messages:
            kwargs["messages"] = [dict(m) for m in self.messages]
        return kwargs


def _where(path: Path | None, line: int) -> str:
    return f"{path}:{line}" if path else f"line {line}"


def typed_parameter(key: str, value: str, where: str = "") -> Any:
    """A PARAMETER value as the create API wants it."""
    prefix = f"{where}: " if where else ""
    try:
        if key in INT_PARAMETERS:
            return int(value)
        if key in FLOAT_PARAMETERS:
            return float(value)
    except ValueError as exc:
        kind = "an integer" if key in INT_PARAMETERS else "a number"
        raise InputError(f"{prefix}PARAMETER {key} must be {kind}, got {value!r}") from exc
    if key in BOOL_PARAMETERS:
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise InputError(f"{prefix}PARAMETER {key} must be true or false, got {value!r}")
    for convert in (int, float):
        try:
            return convert(value)
        except ValueError:
            pass
    return value


def _read_value(lines: list[str], i: int, rest: str, where: str) -> tuple[str, int]:
    """The value starting in ``rest`` (line ``i``): bare, quoted or triple-quoted. Returns (value, next i)."""
    rest = rest.strip()
    if rest.startswith('"""'):
        body = rest[3:]
        if '"""' in body:
            return body[: body.index('"""')], i + 1
        parts = [body]
        j = i + 1
        while j < len(lines):
            line = lines[j]
            if '"""' in line:
                parts.append(line[: line.index('"""')])
                return "\n".join(parts), j + 1
            parts.append(line)
            j += 1
        raise InputError(f'{where}: unterminated """ string')
    if rest.startswith('"') and rest.endswith('"') and len(rest) >= 2:
        return rest[1:-1].replace('\\"', '"').replace("\\\\", "\\"), i + 1
    return rest, i + 1


def parse_modelfile(text: str, path: Path | None = None) -> Modelfile:
    """Parse Modelfile ``text``; errors name the file and line."""
    mf = Modelfile(path=path)
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        line = raw.strip()
        where = _where(path, i + 1)
        if not line:
            i += 1
            continue
        if line.startswith("#"):
            m = _ROLE_COMMENT.match(line)
            if m:
                mf.role = m.group(1).lower()
            i += 1
            continue
        word, _, rest = line.partition(" ")
        instruction = word.upper()
        if instruction not in INSTRUCTIONS:
            raise InputError(
                f"{where}: unknown Modelfile instruction {word!r} (known: {', '.join(INSTRUCTIONS)})"
            )
        if instruction == "PARAMETER":
            key, _, value_text = rest.strip().partition(" ")
            if not key or not value_text.strip():
                raise InputError(f"{where}: PARAMETER needs a name and a value")
            value, i = _read_value(lines, i, value_text, where)
            key = key.lower()
            if key in LIST_PARAMETERS:
                mf.parameters.setdefault(key, []).append(value)
            else:
                mf.parameters[key] = typed_parameter(key, value, where)
            continue
        if instruction == "MESSAGE":
            role, _, content_text = rest.strip().partition(" ")
            if role.lower() not in MESSAGE_ROLES:
                raise InputError(
                    f"{where}: MESSAGE role must be one of {', '.join(MESSAGE_ROLES)}, got {role!r}"
                )
            content, i = _read_value(lines, i, content_text, where)
            mf.messages.append({"role": role.lower(), "content": content})
            continue
        value, i = _read_value(lines, i, rest, where)
        if not value and instruction in ("FROM", "ADAPTER"):
            raise InputError(f"{where}: {instruction} needs a value")
        if instruction == "FROM":
            mf.from_ = value
        elif instruction == "TEMPLATE":
            mf.template = value
        elif instruction == "SYSTEM":
            mf.system = value
        elif instruction == "ADAPTER":
            mf.adapters.append(value)
        elif instruction == "LICENSE":
            mf.license.append(value)
    if not mf.from_:
        raise InputError(f"{path or 'Modelfile'}: no FROM line (which model or file to build on)")
    return mf


def load_modelfile(path: Path) -> Modelfile:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"{path}: no such Modelfile") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
    return parse_modelfile(text, path)


def shipped_modelfiles() -> list[Path]:
    """The Modelfiles shipped in ``modelfiles/``, sorted by name."""
    from assistant.resources import data_dir

    return sorted(p for p in data_dir("modelfiles").glob(f"*{MODELFILE_SUFFIX}") if p.is_file())


def default_model_name(mf: Modelfile, role_models: dict[str, str] | None = None) -> str:
    """The model a Modelfile creates: its role's configured model, else its file stem lower-cased."""
    if mf.role and role_models and mf.role in role_models:
        return role_models[mf.role]
    if mf.path is None:
        raise InputError("a Modelfile without a file name needs --name")
    name = mf.path.name
    if name.endswith(MODELFILE_SUFFIX):
        name = name[: -len(MODELFILE_SUFFIX)]
    elif name == "Modelfile":
        raise InputError(f"{mf.path}: a file called just 'Modelfile' needs --name")
    else:
        name = mf.path.stem
    return name.lower()


def shipped_model_names(role_models: dict[str, str] | None = None) -> list[str]:
    """Names ``assist models setup`` creates from the shipped Modelfiles (default role names if None)."""
    if role_models is None:
        from assistant.config import Settings

        defaults = Settings()
        role_models = {
            "analysis": defaults.roles.analysis.model,
            "completion": defaults.roles.completion.model,
        }
    names: list[str] = []
    try:
        files = shipped_modelfiles()
    except AssistError:  # a broken install must not hide the error being reported
        return names
    for path in files:
        try:
            names.append(default_model_name(load_modelfile(path), role_models))
        except InputError:
            continue
    return sorted(names)
