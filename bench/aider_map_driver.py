"""Drive aider's repo map (``aider.repomap.RepoMap``) once, for bench/pack_bench.py.

Runs inside the separate bench virtualenv ``bench/.work/aider-venv`` (aider-chat pins its own tree-sitter,
tiktoken and numpy, which must not leak into the product's venv). Offline requirements, all satisfied by
registry packages: ``tree-sitter-language-pack`` 0.13.0 (pinned by aider-chat 0.86.2) ships its grammars
in the wheel (1.x would download them), and litellm ships tiktoken's cl100k/o200k files and points
``TIKTOKEN_CACHE_DIR`` at them; ``LITELLM_LOCAL_MODEL_COST_MAP`` stops litellm fetching its price list.

    aider-venv/bin/python bench/aider_map_driver.py ROOT --map-tokens 32768 --out MAP.txt [--cold]

Prints one JSON line: seconds (import + map), token counts of the map, number of files.
"""

from __future__ import annotations

import time

T_START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

# aider's main model only counts tokens here; gpt-4's tokenizer (cl100k) is bundled with litellm.
MODEL_NAME = "gpt-4"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("--map-tokens", type=int, default=32768)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cold", action="store_true", help="delete aider's tags cache first")
    args = parser.parse_args()
    root = args.root.resolve()
    if args.cold:
        for cache in root.glob(".aider.tags.cache.v*"):
            shutil.rmtree(cache)

    from aider.io import InputOutput
    from aider.models import Model
    from aider.repomap import RepoMap

    t_imported = time.perf_counter()
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True).stdout
    files = [str(root / p) for p in sorted(listed.decode().split("\0")) if p]
    io = InputOutput(pretty=False, yes=True, fancy_input=False)
    model = Model(MODEL_NAME)
    # max_context_window=None: the map gets exactly map_tokens (with a window and no chat files aider
    # would multiply the budget by map_mul_no_files=8).
    repo_map = RepoMap(map_tokens=args.map_tokens, root=str(root), main_model=model, io=io, refresh="auto")
    t_map = time.perf_counter()
    text = repo_map.get_repo_map(chat_files=[], other_files=files) or ""
    t_done = time.perf_counter()
    args.out.write_text(text, encoding="utf-8")

    import tiktoken

    exact = len(tiktoken.get_encoding("cl100k_base").encode_ordinary(text))
    print(
        json.dumps(
            {
                "seconds": t_done - T_START,
                "import_seconds": t_imported - T_START,
                "map_seconds": t_done - t_map,
                "files": len(files),
                "chars": len(text),
                "aider_estimate": round(repo_map.token_count(text)) if text else 0,
                "cl100k": exact,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
