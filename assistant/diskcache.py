"""Pickled files in the user cache dir: read defensively, written atomically.

A cache file that is missing, truncated, from another version or unreadable is simply a miss; a cache
dir that is read-only or full costs speed, never correctness.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
from collections.abc import Mapping
from pathlib import Path

# Everything a damaged or foreign pickle can raise while loading.
_LOAD_ERRORS = (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError)


def read_pickle(path: Path, format_key: object) -> dict[str, object] | None:
    """The dict stored at ``path`` if its ``"format"`` entry equals ``format_key``, else None."""
    try:
        with path.open("rb") as fh:
            data = pickle.load(fh)
    except _LOAD_ERRORS:
        return None
    if not isinstance(data, dict) or data.get("format") != format_key:
        return None
    return data


def write_pickle(path: Path, payload: Mapping[str, object]) -> None:
    """Atomically replace ``path`` with ``payload`` (which should carry a ``"format"`` entry)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        pass
