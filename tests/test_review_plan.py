"""Review planning without a model: changed lines of a diff, listings, splitting by definitions, passes
within a budget, the token-count cache. Real git, real tree-sitter, real tiktoken."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from repo_factory import git, make_repo

from assistant.config import load_settings
from assistant.index import ProjectIndex
from assistant.review import (
    CountCache,
    Listing,
    TargetFile,
    collect_target,
    parse_changed_lines,
    plan_passes,
    split_ranges,
)
from assistant.tokens import default_counter


def functions(n: int, body_lines: int = 3) -> str:
    out = ['"""Many functions."""', ""]
    for i in range(n):
        out += (
            ["", f"def f{i}(x):"]
            + [f"    x = x + {j}  # step {j}" for j in range(body_lines)]
            + ["    return x"]
        )
    return "\n".join(out) + "\n"


def index_for(root: Path, tmp_path: Path) -> ProjectIndex:
    settings = load_settings(root, environ={"ASSIST_CACHE_DIR": str(tmp_path / "cache")})
    return ProjectIndex.open(root, settings)


def test_parse_changed_lines() -> None:
    diff = (
        "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n"
        "@@ -1,3 +1,4 @@\n x = 1\n-y = 2\n+y = 3\n+z = 4\n w = 5\n"
        "@@ -10,2 +11,2 @@\n k = 1\n-gone = 1\n m = 2\n"
        "diff --git a/old.py b/old.py\n--- a/old.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
        "diff --git a/new.py b/new.py\n--- /dev/null\n+++ b/new.py\n@@ -0,0 +1,2 @@\n+a\n+b\n"
    )
    assert parse_changed_lines(diff) == {"a.py": {2, 3, 12}, "new.py": {1, 2}}


def test_listing_numbers_marks_and_redacts() -> None:
    text = 'KEY = "ghp_' + "b" * 36 + '"\nx = 1\n'
    listing = Listing(TargetFile("k.py", text, frozenset({2})), default_counter())
    rendered = listing.render(1, 2)
    assert rendered.splitlines() == [
        "### k.py (lines 1-2 of 2)",
        "```",
        '1 | KEY = "[REDACTED:github-token]"',
        "2 + x = 1",
        "```",
    ]
    assert listing.estimate(1, 2) == listing.tokens


def test_split_ranges_keeps_definitions_whole(tmp_path: Path) -> None:
    text = functions(30)
    listing = Listing(TargetFile("m.py", text), default_counter())
    ranges = split_ranges(listing, listing.tokens // 3, diff_mode=False)
    assert len(ranges) >= 3
    assert ranges[0][0] == 1 and ranges[-1][1] == listing.n
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(ranges))  # contiguous, no gaps
    lines = text.split("\n")
    for start, _end in ranges[1:]:
        # Each part starts at a definition (or the blank line before one), never inside a body.
        assert not lines[start - 1].startswith("    ")
    for start, end in ranges:
        assert listing.estimate(start, end) <= listing.tokens // 3


def test_split_ranges_in_a_diff_shows_the_enclosing_definitions() -> None:
    text = functions(30)
    lines = text.split("\n")
    changed = frozenset({lines.index("def f7(x):") + 2})
    listing = Listing(TargetFile("m.py", text, changed), default_counter())
    (only,) = split_ranges(listing, listing.tokens // 4, diff_mode=True)
    assert lines[only[0] - 1] == "def f7(x):" and lines[only[1] - 1] == "    return x"


def test_passes_fit_the_budget_and_cover_every_line(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "p", {f"pkg/m{i}.py": functions(25, 4) for i in range(4)})
    index = index_for(root, tmp_path)
    target = collect_target(index, ["pkg"], cwd=root)
    counter = default_counter()
    budget = 3000
    passes = plan_passes(target, index, budget, counter, project="p")
    assert len(passes) > 4
    for p in passes:
        assert counter.count(p.prompt) <= p.tokens <= budget  # the planned count bounds the real one
    covered: dict[str, set[int]] = {}
    for p in passes:
        for u in p.units:
            covered.setdefault(u.path, set()).update(range(u.start, u.end + 1))
    for f in target.files:
        assert covered[f.path] == set(range(1, len(f.text.splitlines()) + 1))
    # Every pass shares one context, so the prompts share a long common prefix (KV-cache reuse).
    prefixes = {p.prompt.split("## Code under review")[0] for p in passes}
    assert len(prefixes) == 1


def test_single_pass_when_it_fits(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "s", {"a.py": functions(3), "b.py": functions(2)})
    index = index_for(root, tmp_path)
    target = collect_target(index, ["."], cwd=root)
    passes = plan_passes(target, index, 30_000, default_counter(), project="s")
    assert len(passes) == 1 and [u.path for u in passes[0].units] == ["a.py", "b.py"]
    assert all(u.whole_file for u in passes[0].units)
    assert "several parts" not in passes[0].prompt


def test_too_small_budget_is_a_clear_error(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "t", {"a.py": functions(3)})
    index = index_for(root, tmp_path)
    target = collect_target(index, ["a.py"], cwd=root)
    with pytest.raises(Exception, match="too small to review anything"):
        plan_passes(target, index, 500, default_counter(), project="t")


def test_staged_target_reads_the_staged_blob(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "g", {"a.py": "x = 1\n"})
    (root / "a.py").write_text("x = 2\n")
    git(root, "add", "a.py")
    (root / "a.py").write_text("x = 3\n")
    target = collect_target(index_for(root, tmp_path), staged=True, cwd=root)
    assert [(f.path, f.text, sorted(f.changed)) for f in target.files] == [("a.py", "x = 2\n", [1])]
    assert target.description == "staged changes"


def test_count_cache_round_trip(tmp_path: Path) -> None:
    counter = default_counter()
    path = tmp_path / "counts.json"
    cache = CountCache(path, counter)
    assert cache.count(counter, "def f(): pass") == counter.count("def f(): pass")
    cache.save()
    again = CountCache(path, counter)
    assert again.data == cache.data and not again.dirty
    path.write_text("not json")
    assert CountCache(path, counter).data == {}  # a broken cache is only slower


def test_staged_non_ascii_file_names(tmp_path: Path) -> None:
    """git C-quotes such paths in diff headers (core.quotePath); the review still finds the file."""
    root = make_repo(tmp_path / "u", {"café.py": "x = 1\n"})
    (root / "café.py").write_text("x = 2\n")
    git(root, "add", "café.py")
    target = collect_target(index_for(root, tmp_path), staged=True, cwd=root)
    assert [(f.path, f.text) for f in target.files] == [("café.py", "x = 2\n")]
    assert target.notes == ()
