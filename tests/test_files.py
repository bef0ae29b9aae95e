from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from repo_factory import git, make_repo, write_files

from assistant.config import FilesSettings
from assistant.files import decode, discover, project_root_for


def rels(discovery) -> list[str]:
    return [f.rel for f in discovery.files]


def reasons(discovery) -> dict[str, str]:
    return {s.rel: s.reason for s in discovery.skipped}


def test_git_repo_honours_every_ignore_source(tmp_path: Path) -> None:
    global_ignore = tmp_path / "global-ignore"
    global_ignore.write_text("*.globalignored\n")
    repo = make_repo(
        tmp_path / "repo",
        {
            ".gitignore": "build/\n*.log\n",
            "src/.gitignore": "generated_*.py\n!generated_keep.py\n",
            "src/main.py": "print(1)\n",
            "src/generated_x.py": "x = 1\n",
            "src/generated_keep.py": "y = 2\n",
            "build/out.py": "z = 3\n",
            "app.log": "log\n",
            "notes.globalignored": "n\n",
            "local.excluded": "e\n",
            "vendor/lib.js": "var a;\n",
            ".assistignore": "vendor/\n",
        },
        commit=False,  # untracked files are where ignore rules apply
    )
    git(repo, "config", "core.excludesFile", str(global_ignore))
    (repo / ".git" / "info" / "exclude").write_text("*.excluded\n")
    (repo / "untracked.py").write_text("u = 1\n")  # untracked but not ignored: included
    git(repo, "add", "src/main.py")
    git(repo, "commit", "-q", "-m", "one tracked file")
    d = discover(repo, FilesSettings())
    assert d.is_git
    assert rels(d) == [
        ".assistignore",
        ".gitignore",
        "src/.gitignore",
        "src/generated_keep.py",
        "src/main.py",
        "untracked.py",
    ]
    assert reasons(d)["vendor/lib.js"] == "ignored"


def test_non_git_walk_applies_nested_gitignores(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    write_files(
        root,
        {
            ".gitignore": "*.tmp\nout/\n",
            "a/.gitignore": "secret_dir/\n*.gen.py\n",
            "a/keep.py": "k = 1\n",
            "a/x.gen.py": "g = 1\n",
            "a/secret_dir/s.py": "s = 1\n",
            "out/o.py": "o = 1\n",
            "b/c.tmp": "t\n",
            "b/d.py": "d = 1\n",
        },
    )
    d = discover(root, FilesSettings(exclude=["b/d.py"]))
    assert not d.is_git
    assert rels(d) == [".gitignore", "a/.gitignore", "a/keep.py"]
    assert project_root_for(root / "a" / "keep.py") == (root / "a").resolve()


def test_skips_binaries_large_lock_and_secret_files(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r",
        {
            "ok.py": "a = 1\n",
            "blob.dat": b"abc\x00def",
            "image.png": b"\x89PNG....",
            "big.txt": "x" * 5000,
            "package-lock.json": "{}",
            "app.min.js": "var a=1;",
            ".env": "TOKEN=abc\n",
            ".env.production": "TOKEN=abc\n",
            "deploy/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\n",
            "certs/server.pem": "pem\n",
            "config/credentials.json": "{}",
        },
    )
    d = discover(repo, FilesSettings(max_file_bytes=4000))
    # blob.dat has no known binary extension: it is found here and NUL-sniffed when read.
    assert rels(d) == ["blob.dat", "ok.py"]
    r = reasons(d)
    assert r["image.png"] == "binary"
    assert r["big.txt"].startswith("too large")
    assert r["package-lock.json"] == r["app.min.js"] == "generated or lock file"
    for secret in (".env", ".env.production", "deploy/id_rsa", "certs/server.pem", "config/credentials.json"):
        assert r[secret] == "secret"
    assert decode((repo / "blob.dat").read_bytes()).binary
    d = discover(repo, FilesSettings(max_file_bytes=4000, include_secrets=True))
    assert ".env" in rels(d)


def test_symlink_loops_and_special_files_are_survived(tmp_path: Path) -> None:
    root = tmp_path / "links"
    write_files(root, {"real.py": "r = 1\n", "sub/inner.py": "i = 1\n"})
    os.symlink("loop_b", root / "loop_a")
    os.symlink("loop_a", root / "loop_b")
    os.symlink(".", root / "sub" / "self")  # a directory link to itself
    os.symlink("real.py", root / "alias.py")
    os.symlink("/etc/hostname", root / "outside.txt")
    os.symlink("missing.py", root / "dangling.py")
    os.mkfifo(root / "pipe")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock"))
    try:
        d = discover(root, FilesSettings())
        assert rels(d) == ["alias.py", "real.py", "sub/inner.py"]
        r = reasons(d)
        assert r["loop_a"] == r["loop_b"] == "link loop"
        assert r["outside.txt"] == "link outside the project"
        assert r["dangling.py"].startswith("unreadable")
        assert r["pipe"] == "not a regular file"
        # The same tree under git: git lists links as files; the classification is the same.
        make_repo(root, {})
        d = discover(root, FilesSettings())
        assert "real.py" in rels(d) and "loop_a" not in rels(d)
    finally:
        sock.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_reported_and_skipped(tmp_path: Path) -> None:
    root = tmp_path / "perm"
    write_files(root, {"a.py": "a = 1\n", "b.py": "b = 1\n"})
    (root / "b.py").chmod(0)
    from assistant.config import Settings
    from assistant.index import ProjectIndex

    index = ProjectIndex.open(root, Settings())
    assert index.files() == ["a.py"]
    assert any(s.rel == "b.py" and s.reason.startswith("unreadable") for s in index.state.skipped)


def test_decode_non_utf8_crlf_bom_and_minified() -> None:
    c = decode("\ufeffa = 'é'\r\nb = 2\r\n".encode("utf-8"))
    assert c.text == "a = 'é'\nb = 2\n" and not c.decoded_with_replacement
    c = decode(b"name = '\xe9t\xe9'\n")
    assert c.decoded_with_replacement and "\ufffd" in c.text
    assert decode(("x=1;" * 3000).encode()).generated
    assert decode(("x=1;" * 600 + "\n").encode() * 6).generated  # long on average, every line long
    assert not decode(("a = 1\n" * 2000 + "s = '" + "x" * 3000 + "'\n").encode()).generated  # one long line
    assert not decode(("y" * 600 + "\n").encode() * 20).generated  # long lines, none minified-long
    assert decode(b"// Code generated by protoc-gen-go. DO NOT EDIT.\npackage x\n").generated


def test_compiled_pattern_lists_agree_with_pathspec() -> None:
    """The one-regex forms of the secret and noise lists answer exactly as pathspec does, on every
    path of this repository and on paths built to hit each pattern at several depths."""
    import pathspec

    from assistant.files import NOISE_PATTERNS
    from assistant.globs import compile_patterns
    from assistant.secrets import SECRET_FILE_PATTERNS

    repo = Path(__file__).resolve().parent.parent
    paths = [p.relative_to(repo).as_posix() for p in repo.rglob("*") if ".venv" not in p.parts][:5000]
    for patterns in (SECRET_FILE_PATTERNS, NOISE_PATTERNS, ("docs/*.md", "build/", "*.log", "a/**/b")):
        names = [p.strip("*/").replace("*", "x") for p in patterns]
        crafted = [
            f"{pre}{n}{post}" for n in names for pre in ("", "sub/", "a/b/") for post in ("", "/f", "x")
        ]
        spec = pathspec.GitIgnoreSpec.from_lines(list(patterns))
        regex = compile_patterns(patterns)
        for path in paths + crafted + ["a/x/b", "a/b", "docs/x.md", "x/docs/y.md", "build/o.o", ".env.local"]:
            assert (regex.match(path) is not None) == spec.match_file(path), (patterns[0], path)
