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

import re
from functools import lru_cache

import pathspec

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
    ".docker/config.json",
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
def _secret_spec() -> pathspec.PathSpec:
    return pathspec.GitIgnoreSpec.from_lines(SECRET_FILE_PATTERNS)


def is_secret_file(rel_path: str) -> bool:
    """True for files whose purpose is to hold credentials (relative posix path)."""
    return _secret_spec().match_file(rel_path)


_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN (?P<what>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----.*?(?:-----END (?P=what)-----|\Z)",
    re.DOTALL,
)

# (kind, pattern). A pattern's group "secret" (or the whole match) is replaced.
_TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Key material seen without its BEGIN/END lines (a diff hunk or a snippet cut out of a key block):
    # DER-encoded keys in base64 start with "MII", OpenSSH keys with "b3BlbnNzaC1rZXktdjE", and PEM
    # bodies are 64-character lines of mixed-case base64.
    ("key-material", re.compile(r"(?P<secret>\bMII[A-Za-z0-9+/]{20,}={0,2})")),
    ("key-material", re.compile(r"(?P<secret>\bb3BlbnNzaC1rZXktdjE[A-Za-z0-9+/=]*)")),
    (
        "key-material",
        re.compile(
            r"(?m)^[ \t+\-\"']*"
            r"(?P<secret>(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[A-Z])[A-Za-z0-9+/]{64})"
            r"[\"',]*$"
        ),
    ),
    ("aws-access-key", re.compile(r"\b(?P<secret>(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA)[0-9A-Z]{16})\b")),
    (
        "aws-secret-key",
        re.compile(
            r"(?i)\baws_?(?:secret_?access_?key|secret_?key)\b[\"']?\s*[:=]\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{40})"
        ),
    ),
    ("github-token", re.compile(r"\b(?P<secret>gh[pousr]_[A-Za-z0-9]{36,255})\b")),
    ("github-token", re.compile(r"\b(?P<secret>github_pat_[A-Za-z0-9_]{22,255})\b")),
    ("gitlab-token", re.compile(r"\b(?P<secret>glpat-[A-Za-z0-9_\-]{20,})")),
    ("slack-token", re.compile(r"\b(?P<secret>xox[abposr]-[A-Za-z0-9-]{10,})")),
    (
        "slack-webhook",
        re.compile(r"(?P<secret>https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_\-]+)"),
    ),
    ("google-api-key", re.compile(r"\b(?P<secret>AIza[0-9A-Za-z_\-]{35})")),
    ("openai-key", re.compile(r"\b(?P<secret>sk-(?:proj-)?[A-Za-z0-9_\-]{20,})")),
    ("stripe-key", re.compile(r"\b(?P<secret>(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,})")),
    ("jwt", re.compile(r"\b(?P<secret>eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{10,})")),
    (
        "url-password",
        re.compile(r"(?i)\b[a-z][a-z0-9+.\-]*://[^\s:/@\"']+:(?P<secret>[^\s@/\"']{3,})@"),
    ),
    (
        "assigned-secret",
        # api_key = "…", "client_secret": "…", PASSWORD='…' — a quoted value of 8+ characters.
        re.compile(
            r"""(?ix)
            \b[\w.\-]*(?:api[_\-]?key|apikey|secret|token|passw(?:or)?d|passwd|pwd|access[_\-]?key|
                 auth[_\-]?key|private[_\-]?key|client[_\-]?secret|credentials?)[\w.\-]*
            ["']?\s*(?::=|=>|[:=])\s*
            (?P<q>["'`])(?!\[REDACTED)(?P<secret>[^"'`\s]{8,})(?P=q)
            """
        ),
    ),
    (
        "assigned-secret",
        # Unquoted KEY=value lines as in shell and .ini files: SECRET_KEY=abc123… (no spaces in value).
        re.compile(
            r"""(?imx)
            ^\s*(?:export\s+)?[A-Z0-9_]*(?:API_KEY|APIKEY|SECRET|TOKEN|PASSWORD|PASSWD|ACCESS_KEY|PRIVATE_KEY)
            [A-Z0-9_]*\s*=\s*(?!\[REDACTED)(?P<secret>[^\s"'`#]{8,})
            """
        ),
    ),
)

_QUICK_CHECK = re.compile(
    r"(?i)PRIVATE KEY|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|aws_?secret|gh[pousr]_|github_pat_|glpat-|"
    r"xox[abposr]-|MII|b3BlbnNzaC1rZXktdjE|[A-Za-z0-9+/]{64}|"
    r"hooks\.slack|AIza|sk-|sk_|rk_|eyJ|://[^\s:/@]+:[^\s@/]+@|key|secret|token|passw|pwd|credential"
)


def _mask(kind: str, secret: str) -> str:
    # Keep the line breaks of a multi-line secret so line numbers do not move.
    return "\n".join(f"[REDACTED:{kind}]" for _ in secret.split("\n"))


def redact(text: str) -> str:
    """Replace private-key blocks and known token formats with ``[REDACTED:<kind>]``.

    Cheap on clean text (one regex scan decides whether the full set of patterns runs), because every
    file that goes into a prompt passes through here.
    """
    if not text or not _QUICK_CHECK.search(text):
        return text
    text = _PRIVATE_KEY_BLOCK.sub(lambda m: _mask("private-key", m.group(0)), text)
    for kind, pattern in _TOKEN_PATTERNS:
        text = pattern.sub(lambda m, kind=kind: _replace_group(m, kind), text)
    return text


def _replace_group(match: re.Match[str], kind: str) -> str:
    whole = match.group(0)
    start, end = match.span("secret")
    offset = match.start(0)
    return whole[: start - offset] + _mask(kind, match.group("secret")) + whole[end - offset :]
