"""Which files matter most: a reference graph between files and PageRank personalised to a focus.

An edge A → B means "A uses something B defines": A references a name that B defines, or A imports
B. Weights follow aider's repo map, with its magic numbers named here: generic names that many
files define link weakly, private names weakly, imports strongly. Personalisation puts the restart
mass on the focus files, so the ranking answers "what does the code *around here* depend on".

Pure functions over an ``IndexState``; the unpersonalised graph is memoised per index snapshot.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from assistant.index import MAX_DEFINERS, IndexState

DAMPING = 0.85
# Power iteration stops when the L1 change is below this, or after MAX_ITERATIONS.
# Only the order of files matters, and ranks below 1e-5 of the mass are the map's tail anyway.
TOLERANCE = 1e-5
MAX_ITERATIONS = 50
# Importing a file says more than sharing one name with it.
IMPORT_WEIGHT = 4.0
# `_helpers` are implementation details: they should not pull their file up the map.
PRIVATE_NAME_FACTOR = 0.1
# Names of one or two characters (`i`, `db`) link unrelated files.
MIN_NAME_LENGTH = 3

Graph = tuple[tuple[str, ...], list[list[tuple[int, float]]]]


def build_graph(state: IndexState) -> Graph:
    """Nodes (sorted rels) and, per node, its weighted out-edges (target index, weight), sorted."""
    nodes = tuple(sorted(state.files))
    position = {rel: i for i, rel in enumerate(nodes)}
    imports = state.imports_of()
    # name -> (weight, definer positions), for the names that can link files at all.
    linking: dict[str, tuple[float, tuple[int, ...]]] = {}
    for name, found in state.definers().items():
        if len(name) < MIN_NAME_LENGTH:
            continue
        targets = tuple(sorted({position[r] for r, _ in found}))
        if len(targets) > MAX_DEFINERS:
            continue
        w = 1.0 / math.sqrt(len(targets))
        if name.startswith("_"):
            w *= PRIVATE_NAME_FACTOR
        linking[name] = (w, targets)
    edges: list[list[tuple[int, float]]] = []
    for i, rel in enumerate(nodes):
        weights: dict[int, float] = {}
        for name in state.files[rel].facts.references:
            link = linking.get(name)
            if link is None:
                continue
            w, targets = link
            for j in targets:
                if j != i:
                    weights[j] = weights.get(j, 0.0) + w
        for t in imports.get(rel, ()):
            k = position.get(t)
            if k is not None:
                weights[k] = weights.get(k, 0.0) + IMPORT_WEIGHT
        edges.append(sorted(weights.items()))
    return nodes, edges


def graph_for(state: IndexState) -> Graph:
    return state.derived("rank.graph", lambda: build_graph(state))  # type: ignore[return-value]


def pagerank(graph: Graph, personalization: Mapping[str, float] | None = None) -> dict[str, float]:
    """Personalised PageRank by power iteration; deterministic (fixed node order, fixed iteration)."""
    nodes, edges = graph
    n = len(nodes)
    if n == 0:
        return {}
    index = {rel: i for i, rel in enumerate(nodes)}
    wanted = {index[k]: v for k, v in (personalization or {}).items() if k in index and v > 0}
    total = sum(wanted.values())
    if total > 0:
        restart = [0.0] * n
        for i, v in wanted.items():
            restart[i] = v / total
    else:
        restart = [1.0 / n] * n
    out_sum = [sum(w for _, w in row) for row in edges]
    rank = list(restart)
    for _ in range(MAX_ITERATIONS):
        nxt = [0.0] * n
        dangling = 0.0
        for i, row in enumerate(edges):
            r = rank[i]
            if not row:
                dangling += r
                continue
            share = DAMPING * r / out_sum[i]
            for j, w in row:
                nxt[j] += share * w
        base = 1.0 - DAMPING + DAMPING * dangling
        delta = 0.0
        for i in range(n):
            v = nxt[i] + base * restart[i]
            delta += abs(v - rank[i])
            nxt[i] = v
        rank = nxt
        if delta < TOLERANCE:
            break
    return dict(zip(nodes, rank, strict=False))


def global_rank(state: IndexState) -> dict[str, float]:
    """Unpersonalised centrality, memoised per snapshot (what `pack` uses without a focus)."""
    return state.derived("rank.global", lambda: pagerank(graph_for(state)))  # type: ignore[return-value]


def ranked_order(state: IndexState) -> list[str]:
    """All files by unpersonalised centrality, memoised with the ranking itself."""
    ranks = global_rank(state)
    return state.derived(  # type: ignore[return-value]
        "rank.order", lambda: sorted(state.files, key=lambda rel: (-round(ranks.get(rel, 0.0), 12), rel))
    )


def ranked_files(state: IndexState, focus: Iterable[str] = ()) -> list[str]:
    """All files, most central to ``focus`` first; ties broken by path so the order is stable."""
    focus = sorted({f for f in focus if f in state.files})
    if not focus or len(focus) == len(state.files):  # the unpersonalised ranking and order, memoised
        return list(ranked_order(state))
    ranks = pagerank(graph_for(state), dict.fromkeys(focus, 1.0))
    return sorted(state.files, key=lambda rel: (-round(ranks.get(rel, 0.0), 12), rel))
