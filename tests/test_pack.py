from __future__ import annotations

import itertools
import os
import random
import threading
from pathlib import Path

import pytest
from repo_factory import SHOP, git, make_repo, write_files

from assistant import index as index_module
from assistant.config import Settings
from assistant.errors import InputError
from assistant.fim import build_completion_prompt, family_for
from assistant.gitdiff import diff_text
from assistant.index import ProjectIndex
from assistant.pack import CursorFocus, DiffFocus, PathsFocus, pack, pack_and_render, parse_diff, render
from assistant.tokens import OfflineCounter

COUNTER = OfflineCounter()


def shared_prefix(a: str, b: str) -> int:
    """Length of the common prefix of two prompts (what Ollama's KV cache can reuse)."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


@pytest.fixture
def shop(tmp_path: Path) -> ProjectIndex:
    root = make_repo(tmp_path / "shop", SHOP)
    return ProjectIndex.open(root, Settings())


def test_index_facts_and_imports(shop: ProjectIndex) -> None:
    state = shop.state
    assert "shop/models.py" in state.files
    assert state.imports_of()["shop/billing.py"] == ("shop/models.py",)
    assert state.imports_of()["shop/report.py"] == ("shop/billing.py",)
    assert state.imports_of()["web/app.ts"] == ("web/view.ts",)
    names = {d.name for d in state.files["shop/models.py"].facts.definitions}
    assert {"Invoice", "add_line", "format_money"} <= names


def test_cursor_context_has_cross_file_definitions(shop: ProjectIndex) -> None:
    text = shop.read("shop/billing.py")
    line = text.split("\n").index("    return format_money(invoice.total_cents)")
    p = pack(shop, CursorFocus("shop/billing.py", line, 10, text), 2000, COUNTER)
    snippets = {(i.path, i.symbol) for i in p.items if i.kind == "snippet"}
    assert ("shop/models.py", "format_money") in snippets
    assert ("shop/models.py", "Invoice") in snippets
    assert all(i.path != "shop/billing.py" for i in p.items)  # the cursor's file comes from the buffer
    kinds = [i.kind for i in p.items]
    assert kinds == sorted(kinds, key=["outline", "snippet"].index)  # stable outlines before local snippets
    assert p.tokens <= 2000


def test_unsaved_buffer_is_used(shop: ProjectIndex) -> None:
    buffer = "from shop.billing import bill\n\nprint(monthly_report([]))\nbill(\n"
    shop.update_text("shop/report.py", buffer)
    p = pack(shop, CursorFocus("shop/report.py", 3, 5, buffer), 2000, COUNTER)
    assert ("shop/billing.py", "bill") in {(i.path, i.symbol) for i in p.items if i.kind == "snippet"}
    assert shop.read("shop/report.py") == buffer


def test_paths_focus_full_then_dependencies_then_map(shop: ProjectIndex) -> None:
    p = pack(shop, PathsFocus(("shop/billing.py",)), 4000, COUNTER)
    by_path = {i.path: i.kind for i in p.items}
    assert by_path["shop/billing.py"] == "full"
    assert by_path["shop/models.py"] == "outline"
    assert p.items[-1].path == "shop/billing.py"  # most local last
    with pytest.raises(InputError):
        pack(shop, PathsFocus(("nope.py",)), 4000, COUNTER)
    with pytest.raises(InputError, match="too small"):
        pack(shop, PathsFocus(("shop",)), 10, COUNTER)


def test_budget_never_exceeded_and_output_deterministic(shop: ProjectIndex) -> None:
    rng = random.Random(7)
    text = shop.read("shop/billing.py")
    for budget in sorted(rng.sample(range(64, 6000), 40)):
        for fmt in ("markdown", "xml", "json"):
            for focus in (
                PathsFocus((".",)),
                PathsFocus(("shop/billing.py",)),
                CursorFocus("shop/billing.py", 5, 8, text),
            ):
                p, rendered = pack_and_render(shop, focus, budget, COUNTER, fmt)  # type: ignore[arg-type]
                assert COUNTER.count(rendered) <= budget, (budget, fmt, focus)
                assert p.tokens <= budget
                again = pack_and_render(ProjectIndex.open(shop.root, Settings()), focus, budget, COUNTER, fmt)
                assert again[1] == rendered


def test_whole_small_project_upgrades_to_full_text(shop: ProjectIndex) -> None:
    p = pack(shop, PathsFocus((".",)), 30000, COUNTER)
    assert {i.kind for i in p.items} == {"full"}
    assert {i.path for i in p.items} == set(shop.files()) - {
        "shop/__init__.py"
    }  # empty file: nothing to show


def test_diff_focus_hunks_enclosing_definitions_and_files(shop: ProjectIndex) -> None:
    models = shop.root / "shop/models.py"
    models.write_text(
        models.read_text().replace("self.total_cents += cents", "self.total_cents += abs(cents)")
    )
    diff = diff_text(shop.root)
    hunks = parse_diff(diff)
    assert [h.path for h in hunks] == ["shop/models.py"]
    shop.refresh([models])
    p = pack(shop, DiffFocus(diff), 3000, COUNTER)
    kinds = {(i.path, i.kind, i.symbol) for i in p.items}
    assert ("shop/models.py", "hunk", None) in kinds
    assert ("shop/models.py", "snippet", "add_line") in kinds
    assert ("shop/models.py", "full", None) in kinds
    assert p.items[-1].kind == "hunk"
    with pytest.raises(InputError, match="empty"):
        pack(shop, DiffFocus(""), 3000, COUNTER)


def test_second_open_reparses_only_changed_files(shop: ProjectIndex) -> None:
    again = ProjectIndex.open(shop.root, Settings())
    assert again.last_refresh.parsed == 0 and again.last_refresh.reused == len(shop.files())
    (shop.root / "shop/billing.py").write_text("def bill():\n    return 1\n")
    os.utime(shop.root / "shop/billing.py", ns=(1, 1))
    third = ProjectIndex.open(shop.root, Settings())
    assert third.last_refresh.parsed == 1
    assert not any(p.name.endswith(".pickle") for p in shop.root.rglob("*"))  # cache never in the project
    assert shop.cache_path().is_file()


def test_cold_index_saved_from_worker_shards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cold index parsed in worker processes is cached from their pickled results: the next open
    reuses every file with identical facts, and a damaged cache is only a miss."""
    monkeypatch.setattr(index_module, "PARALLEL_MIN_FILES", 1)
    monkeypatch.setattr(index_module, "PARALLEL_WORKERS", 2)
    root = make_repo(tmp_path / "shop", SHOP)
    cold = ProjectIndex.open(root, Settings())
    assert cold.last_refresh.parsed == len(cold.files()) > 0
    warm = ProjectIndex.open(root, Settings())
    assert (warm.last_refresh.parsed, warm.last_refresh.reused) == (0, len(cold.files()))
    assert warm.state.files == cold.state.files
    cold.cache_path().write_bytes(b"\x80\x05 not a pickle")
    damaged = ProjectIndex.open(root, Settings())
    assert damaged.last_refresh.parsed == len(cold.files())
    assert damaged.state.files == cold.state.files


def test_changed_files_are_appended_to_the_disk_cache(
    shop: ProjectIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that re-parsed a few files appends them as one shard (later shards win on load); a
    removed file, or too many shards, rewrites the cache as one."""
    from assistant import __version__
    from assistant.diskcache import read_pickle

    def shards() -> int:
        data = read_pickle(shop.cache_path(), (index_module.CACHE_FORMAT, __version__))
        assert data is not None
        return len(data["shards"])  # type: ignore[arg-type]

    root = shop.root
    assert shards() == 1
    (root / "shop/billing.py").write_text("def bill():\n    return 2\n")
    again = ProjectIndex.open(root, Settings())
    assert again.last_refresh.parsed == 1 and shards() == 2
    third = ProjectIndex.open(root, Settings())
    assert (third.last_refresh.parsed, third.last_refresh.removed) == (0, 0)
    assert third.state.files == ProjectIndex.open(root, Settings(), use_disk_cache=False).state.files
    assert [d.name for d in third.state.files["shop/billing.py"].facts.definitions] == ["bill"]
    monkeypatch.setattr(index_module, "CACHE_MAX_SHARDS", 2)
    (root / "shop/billing.py").write_text("def bill():\n    return 33\n")
    ProjectIndex.open(root, Settings())
    assert shards() == 1
    (root / "shop/billing.py").unlink()
    fourth = ProjectIndex.open(root, Settings())
    assert fourth.last_refresh.removed == 1 and shards() == 1
    assert "shop/billing.py" not in ProjectIndex.open(root, Settings()).state.files


def test_refresh_handles_new_deleted_and_ignored_files(shop: ProjectIndex) -> None:
    root = shop.root
    write_files(
        root,
        {
            "shop/tax.py": "def vat(x):\n    return x * 0.2\n",
            ".gitignore": "tmp/\n",
            "tmp/scratch.py": "s = 1\n",
        },
    )
    (root / "shop/report.py").unlink()
    stats = shop.refresh([root / "shop/tax.py", root / "shop/report.py", root / "tmp/scratch.py"])
    assert stats.parsed == 1 and stats.removed == 1
    assert "shop/tax.py" in shop.files() and "shop/report.py" not in shop.files()
    assert "tmp/scratch.py" not in shop.files()
    assert shop.refresh([Path("/etc/hostname")]).parsed == 0


def test_concurrent_refresh_and_pack(shop: ProjectIndex) -> None:
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        try:
            for i in range(30):
                (shop.root / "shop/gen.py").write_text(f"def f{i}():\n    return {i}\n")
                os.utime(shop.root / "shop/gen.py", ns=(i + 10, i + 10))
                shop.refresh([shop.root / "shop/gen.py"])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            stop.set()

    t = threading.Thread(target=writer)
    t.start()
    while not stop.is_set():
        p = pack(shop, PathsFocus((".",)), 3000, COUNTER)
        assert p.tokens <= 3000
        render(p)
    t.join()
    assert not errors
    assert "f29" in shop.read("shop/gen.py")


def test_completion_prompt_layout_and_prefix_stability(shop: ProjectIndex) -> None:
    fam = family_for("qwen2.5-coder:14b")
    assert fam is not None and fam.name == "qwen"
    base = shop.read("shop/billing.py")
    marker = "    return format_money(invoice.total_cents)\n"
    line_no = base.split("\n").index(marker.rstrip("\n"))
    typed = "    total = format_money(invoice.total_cents) if invoice else 'n/a'"
    prompts = []
    for n in range(8, len(typed) + 1):
        text = base.replace(marker, typed[:n] + "\n" + marker)
        cp = build_completion_prompt(
            shop, CursorFocus("shop/billing.py", line_no, n, text), 1500, COUNTER, fam, repo_name="shop"
        )
        assert cp.tokens <= 1500
        prompts.append(cp.prompt)
    first = prompts[-1]
    assert first.startswith("<|repo_name|>shop\n<|file_sep|>")
    assert "<|file_sep|>shop/billing.py\n<|fim_prefix|>" in first
    assert first.endswith("<|fim_middle|>")
    assert "def format_money(cents: int) -> str:" in first  # cross-file definition
    shared = [shared_prefix(a, b) / max(len(a), len(b)) for a, b in itertools.pairwise(prompts)]
    assert min(shared) >= 0.9


def test_special_tokens_in_source_are_neutralised(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "p", {"a.py": "s = '<|fim_middle|><|endoftext|>'\nx = 1\n"})
    index = ProjectIndex.open(root, Settings())
    cp = build_completion_prompt(
        index, CursorFocus("a.py", 1, 5), 1000, COUNTER, family_for("qwen3-coder"), repo_name="p"
    )
    assert cp.prompt.count("<|fim_middle|>") == 1 and "<|endoftext|>" not in cp.prompt


def test_non_git_folder_and_syntax_errors(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    write_files(
        root,
        {
            "ok.py": "def good():\n    return 1\n",
            "bad.py": "def broken(:\n    return\nclass Fine:\n    pass\n",
        },
    )
    index = ProjectIndex.open(root, Settings())
    assert not index.state.is_git
    names = {d.name for d in index.state.files["bad.py"].facts.definitions}
    assert "Fine" in names
    p = pack(index, PathsFocus((".",)), 2000, COUNTER)
    assert {i.path for i in p.items} == {"ok.py", "bad.py"}


def test_staged_diff(shop: ProjectIndex) -> None:
    (shop.root / "shop/models.py").write_text(
        shop.read("shop/models.py") + "\n\ndef extra():\n    return 2\n"
    )
    git(shop.root, "add", "shop/models.py")
    diff = diff_text(shop.root, staged=True)
    assert "+def extra():" in diff
    with pytest.raises(InputError, match="git diff failed"):
        diff_text(shop.root, "no-such-rev")
    with pytest.raises(InputError, match="not a git repository"):
        diff_text(shop.root.parent)


def test_completion_prompt_never_exceeds_budget_on_real_code(tmp_path: Path) -> None:
    """Counted as a whole (not by parts, as the builder does), every prompt fits its budget."""
    import httpx

    source = Path(httpx.__file__).resolve().parent
    files = {f"httpx/{p.name}": p.read_text(encoding="utf-8") for p in sorted(source.glob("_*.py"))}
    root = make_repo(tmp_path / "real", files)
    index = ProjectIndex.open(root, Settings())
    rng = random.Random(3)
    fam = family_for("qwen2.5-coder")
    for _ in range(60):
        rel = rng.choice(sorted(files))
        lines = files[rel].split("\n")
        line = rng.randrange(len(lines))
        column = rng.randrange(len(lines[line]) + 1)
        budget = rng.choice([128, 300, 1000, 2500, 4096, 8000])
        for family in (fam, None):
            cp = build_completion_prompt(
                index, CursorFocus(rel, line, column), budget, COUNTER, family, repo_name="real"
            )
            assert COUNTER.count(cp.prompt) <= budget, (rel, line, column, budget)
            assert cp.prefix.endswith(lines[line][:column])


def test_persisted_tables_follow_changes_between_runs(shop: ProjectIndex) -> None:
    """Imports and ranking are cached on disk; a changed file's imports are resolved again."""
    assert shop.state.imports_of()["shop/billing.py"] == ("shop/models.py",)
    pack(shop, PathsFocus((".",)), 2000, COUNTER)  # computes (and persists) the ranking
    billing = shop.root / "shop/billing.py"
    billing.write_text("from shop.report import monthly_report\n" + billing.read_text())
    os.utime(billing, ns=(5, 5))
    again = ProjectIndex.open(shop.root, Settings())
    assert again.state.imports_of()["shop/billing.py"] == ("shop/models.py", "shop/report.py")
    (shop.root / "shop/tax.py").write_text("from shop.models import Invoice\n")
    third = ProjectIndex.open(shop.root, Settings())  # a new file: the table is rebuilt
    assert third.state.imports_of()["shop/tax.py"] == ("shop/models.py",)
