"""One error family for everything `assist` reports to a user.

    AssistError                 base; ``str(err)`` is one line a user can act on
    ├── ConfigError             a bad config file, key, value or flag
    ├── InputError              bad user input: missing path, line out of range, budget too small
    ├── FileAccessError         a file that cannot be read (reported and skipped where possible)
    ├── BackendError            anything between us and Ollama
    │   ├── BackendUnavailable  connection refused / DNS / every host down
    │   ├── BackendTimeout      connect, first-token or idle timeout
    │   ├── ModelNotFound       the server answered 404 for the model
    │   └── ContextOverflow     a prompt longer than the model's window (or silently truncated)
    └── GenerationError         a model answer we cannot use (bad JSON, cut stream after retries)

Front ends (CLI, language server) catch ``AssistError`` at their boundary and print or show the
message; anything else is a bug and keeps its traceback. Lower layers map foreign exceptions with
``raise ... from exc`` so the cause is kept for ``--verbose``.
"""

from __future__ import annotations


class AssistError(Exception):
    """Base of every error `assist` shows to a user. ``hint`` is the command or step that fixes it."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(AssistError):
    """A configuration file, key, value, environment variable or flag is wrong."""


class InputError(AssistError):
    """The user asked for something that cannot be done with the given input."""


class FileAccessError(AssistError):
    """A file could not be read; callers usually report it and go on."""


class BackendError(AssistError):
    """A problem talking to the model server."""


class BackendUnavailable(BackendError):
    """No configured host answered."""


class BackendTimeout(BackendError):
    """The server did not answer (or stopped streaming) within the configured time."""


class ModelNotFound(BackendError):
    """The server does not have the requested model."""


class ContextOverflow(BackendError):
    """The prompt does not fit the model's context window, or the server truncated it."""


class GenerationError(AssistError):
    """The model answered, but not with something usable."""
