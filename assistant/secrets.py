"""What must never reach a prompt: secret files, and secret values inside ordinary files.

Two layers, both on by default:

* ``is_secret_file`` — files that exist to hold credentials (``.env*``, private keys, keystores,
  cloud and package-registry credentials) are left out of discovery entirely unless
  ``files.include_secrets`` is set.
* ``redact`` — in every text that goes out, private-key blocks and well-known token formats are
  replaced by ``[REDACTED:<kind>]``. Replacements stay on the same line, so line numbers (which review
  findings point at) are unchanged.
"""

from __future__ import annotations

import functools
import re
from functools import lru_cache

from assistant.globs import compile_patterns

# gitignore syntax, matched against the path relative to the project root.
SECRET_FILE_PATTERNS: tuple[str, ...] = (
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "*.gpg",
    "*.asc",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".ssh/",
    ".aws/",
    ".gnupg/",
    "**/.docker/config.json",
    ".netrc",
    "_netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".htpasswd",
    "credentials",
    "credentials.json",
    "credentials.yml",
    "credentials.yaml",
    "*credentials*.json",
    "service-account*.json",
    "*.tfstate",
    "*.tfstate.backup",
    "*.tfvars",
    "secrets.yml",
    "secrets.yaml",
    "secrets.json",
    "*.secret",
    "*.secrets",
)


@lru_cache(maxsize=1)
def _secret_regex() -> re.Pattern[str]:
    return compile_patterns(SECRET_FILE_PATTERNS)


def is_secret_file(rel_path: str) -> bool:
    """True for files whose purpose is to hold credentials (relative posix path)."""
    return _secret_regex().match(rel_path) is not None


_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN (?P<what>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----.*?(?:-----END (?P=what)-----|\Z)",
    re.DOTALL,
)

# (kind, triggers, pattern). A pattern runs only when one of its trigger strings occurs in the text
# (checked case-insensitively when the pattern is): plain substring tests cost almost nothing, so clean
# text — nearly all code — passes through without a single regex scan. Group "secret" is replaced.
_KEY_NAMES = (
    "api_key|api-key|apikey|secret|token|password|passwd|pwd|access_key|access-key|auth_key|auth-key|"
    "private_key|private-key|credential"
)
_TOKEN_PATTERNS: tuple[tuple[str, tuple[str, ...], bool, re.Pattern[str]], ...] = (
    # Key material seen without its BEGIN/END lines (a diff hunk or a snippet cut out of a key block):
    # DER-encoded keys in base64 start with "MII", OpenSSH keys with "b3BlbnNzaC1rZXktdjE", and PEM
    # bodies are 64-character lines of mixed-case base64.
    ("key-material", ("MII",), False, re.compile(r"(?P<secret>\bMII[A-Za-z0-9+/]{20,}={0,2})")),
    (
        "key-material",
        ("b3BlbnNzaC1rZXktdjE",),
        False,
        re.compile(r"(?P<secret>\bb3BlbnNzaC1rZXktdjE[A-Za-z0-9+/=]*)"),
    ),
    (
        "key-material",
        ("",),
        False,
        re.compile(
            r"(?m)^[ \t+\-\"']*"
            r"(?P<secret>(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[A-Z])[A-Za-z0-9+/]{64})"
            r"[\"',]*$"
        ),
    ),
    (
        "aws-access-key",
        ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA"),
        False,
        re.compile(r"\b(?P<secret>(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA)[0-9A-Z]{16})\b"),
    ),
    (
        "aws-secret-key",
        ("aws",),
        True,
        re.compile(
            r"(?i)\baws_?(?:secret_?access_?key|secret_?key)\b[\"']?\s*[:=]\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{40})"
        ),
    ),
    ("github-token", ("gh",), False, re.compile(r"\b(?P<secret>gh[pousr]_[A-Za-z0-9]{36,255})\b")),
    ("github-token", ("github_pat_",), False, re.compile(r"\b(?P<secret>github_pat_[A-Za-z0-9_]{22,255})\b")),
    ("gitlab-token", ("glpat-",), False, re.compile(r"\b(?P<secret>glpat-[A-Za-z0-9_\-]{20,})")),
    ("slack-token", ("xox",), False, re.compile(r"\b(?P<secret>xox[abposr]-[A-Za-z0-9-]{10,})")),
    (
        "slack-webhook",
        ("hooks.slack.com",),
        False,
        re.compile(r"(?P<secret>https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_\-]+)"),
    ),
    ("google-api-key", ("AIza",), False, re.compile(r"\b(?P<secret>AIza[0-9A-Za-z_\-]{35})")),
    ("openai-key", ("sk-",), False, re.compile(r"\b(?P<secret>sk-(?:proj-)?[A-Za-z0-9_\-]{20,})")),
    (
        "stripe-key",
        ("_live_", "_test_"),
        False,
        re.compile(r"\b(?P<secret>(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,})"),
    ),
    (
        "jwt",
        ("eyJ",),
        False,
        re.compile(r"\b(?P<secret>eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,})"),
    ),
    (
        "url-password",
        ("@",),
        False,
        re.compile(r"(?i)\b[a-z][a-z0-9+.\-]*://[^\s:/@\"']+:(?P<secret>[^\s@/\"']{3,})@"),
    ),
    (
        "assigned-secret",
        # api_key = "…", "client_secret": "…", PASSWORD='…' — a quoted value of 8+ characters.
        tuple(_KEY_NAMES.split("|")),
        True,
        re.compile(
            r"""(?ix)
            (?:api[_\-]?key|apikey|secret|token|passw(?:or)?d|passwd|pwd|access[_\-]?key|
               auth[_\-]?key|private[_\-]?key|credentials?)[\w.\-]*
            ["']?[ \t]*(?::=|=>|[:=])[ \t]*
            (?P<q>["'`])(?!\[REDACTED)(?P<secret>[^"'`\s]{8,})(?P=q)
            """
        ),
    ),
    (
        "assigned-secret",
        # Unquoted KEY=value lines as in shell and .ini files: SECRET_KEY=abc123… (no spaces in value).
        ("API_KEY", "APIKEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "ACCESS_KEY", "PRIVATE_KEY"),
        False,
        re.compile(
            r"""(?mx)
            ^[ \t]*(?:export[ \t]+)?[A-Z0-9_]*
            (?:API_KEY|APIKEY|SECRET|TOKEN|PASSWORD|PASSWD|ACCESS_KEY|PRIVATE_KEY)
            [A-Z0-9_]*[ \t]*=[ \t]*(?!\[REDACTED)(?P<secret>[^\s"'`#]{8,})
            """
        ),
    ),
)
_PEM_LINE = re.compile(r"[A-Za-z0-9+/]{64}")


def _mask(kind: str, secret: str) -> str:
    # Keep the line breaks of a multi-line secret so line numbers do not move.
    return "\n".join(f"[REDACTED:{kind}]" for _ in secret.split("\n"))


def redact(text: str) -> str:
    """Replace private-key blocks and known token formats with ``[REDACTED:<kind>]``.

    Every file that goes into a prompt passes through here, so each pattern first checks for a
    literal that any match must contain; most code runs no regex at all.
    """
    if not text:
        return text
    if "PRIVATE KEY" in text:
        text = _PRIVATE_KEY_BLOCK.sub(lambda m: _mask("private-key", m.group(0)), text)
    lowered = text.lower()
    for kind, triggers, ignore_case, pattern in _TOKEN_PATTERNS:
        haystack = lowered if ignore_case else text
        if triggers == ("",):
            if not _PEM_LINE.search(text):
                continue
        elif not any(t in haystack for t in triggers):
            continue
        text = pattern.sub(functools.partial(_replace_group, kind=kind), text)
        lowered = text.lower()
    return text


def _replace_group(match: re.Match[str], kind: str) -> str:
    whole = match.group(0)
    start, end = match.span("secret")
    offset = match.start(0)
    return whole[: start - offset] + _mask(kind, match.group("secret")) + whole[end - offset :]
