#!/usr/bin/env python3
"""funnel_ivf_ceiling_study.py: how close any IVF gets to HNSW on real sentence vectors (FAISS).

Issue 11 goal 2 asks the funnel (an IVF) for half of pgvector HNSW's p50 at
recall@10 0.95 on the built-in model's 256-dim vectors of real sentences.
This study asks whether any IVF can, with the best codes and kernels FAISS
has, or whether it takes a graph.  It reads the first N + Q vectors of the
corpus cache (test/bench/corpus_load.sh's binary COPY file, through
funnel_estimator_study.read_copy), normalises them, holds out the Q rows
after the first N as queries (if the file holds fewer than N + Q rows, the
last Q rows are the queries and N shrinks by Q), takes the exact top 10 by
inner product, and builds, one at a time (BUILD_THREADS threads, default 2):

  hnsw      IndexHNSWFlat, M 16, efConstruction 64 (pgvector's HNSW defaults); efSearch
            swept; then its graph walked on 1-bit codes (below)
  ivfflat   IndexIVFFlat, sqrt(N) lists (500 at 250k, 1,000 at 1M); nprobe swept
  ivfpqfs   IndexIVFPQFastScan, 4-bit PQ of PQ_M sub-vectors, reranked on the
            full vector by IndexRefineFlat; nprobe x k_factor swept
  prefix    IndexHNSWFlat on the first 64 dims (renormalised), the top C
            candidates reranked on the full vector in numpy (pgvectorscale's
            DiskANN-on-num_dimensions idea, with float prefixes); C swept
  nsg       IndexNSGFlat (R 32, NNDescent kNN graph); search_L swept

For each setting it prints recall@10, the p50 and mean latency of one query
at a time on one thread (the median over ROUNDS runs of the Q queries), and
the work a query does: distance computations for the graphs (FAISS 1.7.3
counts those of the bottom layer, hnsw_stats.n3), entries scanned for the
IVFs (the sizes of the probed lists) plus the rows reranked; then each
method's build time, index size, and fastest setting at recall >= TARGET
with the ratio to HNSW's.  Last, the HNSW graph walked in Python on 1-bit
codes of all dims (RaBitQ's estimator) with the best C of the beam
reranked, and on the exact vectors as a check of the walk against FAISS:
recall and the work (nodes expanded, codes estimated, rows reranked) of a
graph inside the funnel, no latency.

  /usr/bin/python3 test/bench/funnel_ivf_ceiling_study.py /var/tmp/mrl-corpus/emb-*-1000000.copy [N] [Q]
  METHODS="hnsw ivfflat ivfpqfs prefix nsg" ROUNDS=3 PQ_M=64 TARGET=0.95 BUILD_THREADS=2 \\
      EF_SEARCH="64 128 256" PROBES="0.1 0.2 0.3" K_FACTORS="8 16 32" CANDIDATES="400 1600" \\
      NSG_L="32 64 128" GRAPH_CODES="1-bit float" GRAPH_WIDTH="256 512" GRAPH_RERANK="100 200" ...

Defaults: N 250,000, Q 200, METHODS "hnsw ivfflat ivfpqfs" (about 10
minutes at 250k on 2 cores; prefix and nsg build slowly and lose by far).
PROBES are shares of the lists; GRAPH_WIDTH= skips the graph walk.
DUMP=DIR also writes the rows, queries and exact top 10 for
funnel_ivf_ceiling_faiss.cpp (METHODS= to do only that).  Needs numpy and
FAISS: on Debian, `apt-get install -y python3-faiss` (run with
/usr/bin/python3).  Debian's FAISS is built for baseline x86-64
(faiss.get_compile_options() says GENERIC): scalar float kernels, fast scan
on emulated SIMD, so its times rank the methods only roughly; the work
counts carry over, and funnel_ivf_ceiling_faiss.cpp times the same indexes
with AVX-512.
"""
import heapq
import os
import re
import sys
import time

import numpy as np

try:
    import faiss
except ImportError:
    sys.exit("funnel_ivf_ceiling_study.py needs FAISS: apt-get install -y python3-faiss "
             "(and run it with Debian's /usr/bin/python3)")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from funnel_estimator_study import read_copy, sign_code  # noqa: E402

K = 10
PREFIX_DIMS = 64


def env_list(name, default, kind=float):
    return [kind(v) for v in os.environ.get(name, default).split()]


def rows_in_file(path):
    """corpus_load.sh names its cache emb-KEY-ROWS.copy; None if the name says nothing."""
    m = re.search(r"-(\d+)\.copy$", path)
    return int(m.group(1)) if m else None


def load(path, n, nq):
    """Unit rows and held-out queries: the Q rows after the first N of the file."""
    total = rows_in_file(path)
    if total is not None and n + nq > total:
        print(f"# the file holds {total} rows: the last {nq} are the queries, {total - nq} the rows")
        n = total - nq
    x = read_copy(path, n + nq)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x[:n]), np.ascontiguousarray(x[n:])


def exact_top(rows, queries):
    flat = faiss.IndexFlatIP(rows.shape[1])
    flat.add(rows)
    return flat.search(queries, K)[1]


def dump(directory, rows, queries, truth):
    """The rows, queries and exact top 10 for funnel_ivf_ceiling_faiss.cpp: int32 shape, then the values."""
    os.makedirs(directory, exist_ok=True)
    for name, a in (("rows.f32", rows), ("queries.f32", queries), ("truth.i64", truth.astype(np.int64))):
        with open(os.path.join(directory, name), "wb") as f:
            f.write(np.array(a.shape, np.int32).tobytes())
            f.write(np.ascontiguousarray(a).tobytes())


def recall(found, truth):
    return np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth)])


def size_mb(index):
    """Bytes of the serialised index (what it holds in memory, near enough)."""
    return len(faiss.serialize_index(index)) / 1e6


class Timer:
    """One query at a time through search_c, ROUNDS times: median p50 and mean."""

    def __init__(self, queries, rounds):
        self.queries = queries
        self.rounds = rounds

    def run(self, search):
        """search(i) -> the ids found for query i; returns (ids, p50 ms, mean ms)."""
        p50s, means, found = [], [], None
        for _ in range(self.rounds):
            times, ids = [], []
            for i in range(len(self.queries)):
                t0 = time.perf_counter_ns()
                ids.append(search(i))
                times.append(time.perf_counter_ns() - t0)
            p50s.append(np.median(times) / 1e6)
            means.append(np.mean(times) / 1e6)
            found = ids
        return found, float(np.median(p50s)), float(np.median(means))


def faiss_searcher(index, queries, k=K):
    """A search of query i through the C entry point, with preallocated outputs."""
    dist = np.empty((1, k), np.float32)
    ids = np.empty((1, k), np.int64)

    def search(i):
        index.search_c(1, faiss.swig_ptr(queries[i:i + 1]), k, faiss.swig_ptr(dist), faiss.swig_ptr(ids))
        return ids[0].copy()
    return search


def entries_probed(ivf, queries, nprobe):
    """Mean size of the nprobe lists nearest each query: the entries an IVF scan reads."""
    lists = ivf.quantizer.search(queries, nprobe)[1]
    sizes = np.array([ivf.invlists.list_size(j) for j in range(ivf.nlist)])
    return float(sizes[lists].sum(1).mean())


def sweep_hnsw(index, hnsw, timer, truth, settings):
    """efSearch sweep of an HNSW index; work = distance computations a query."""
    out = []
    search = faiss_searcher(index, timer.queries)
    for ef in settings:
        hnsw.efSearch = int(ef)
        faiss.cvar.hnsw_stats.reset()
        found, p50, mean = timer.run(search)
        ndis = faiss.cvar.hnsw_stats.n3 / (timer.rounds * len(timer.queries))
        out.append((f"efSearch {int(ef)}", recall(found, truth), p50, mean, ndis))
    return out


def graph_of(hnsw):
    """FAISS's HNSW adjacency as numpy arrays (neighbours, offsets, level bounds)."""
    return (faiss.vector_to_array(hnsw.neighbors), faiss.vector_to_array(hnsw.offsets).astype(np.int64),
            faiss.vector_to_array(hnsw.cum_nneighbor_per_level).astype(np.int64), hnsw.entry_point,
            hnsw.max_level)


def walk(graph, estimate, width, visited):
    """Beam search of the given width over the graph, ranking by estimate(ids).

    Greedy through the upper levels, then a beam on the bottom level, as
    HNSW's search; returns the beam (ids, estimates) and the work done:
    nodes expanded (a page each, with the neighbours' codes in the node) and
    estimates computed."""
    neighbors, offsets, cum, node, top = graph
    best = estimate(np.array([node]))[0]
    expanded, estimated = 0, 1

    def adjacent(i, level):
        ids = neighbors[offsets[i] + cum[level]:offsets[i] + cum[level + 1]]
        return ids[ids >= 0]
    for level in range(top, 0, -1):
        moved = True
        while moved:
            ids = adjacent(node, level)
            est = estimate(ids)
            expanded, estimated, moved = expanded + 1, estimated + len(ids), False
            if len(ids) and est.max() > best:
                node, best, moved = ids[est.argmax()], est.max(), True
    visited[:] = False
    visited[node] = True
    frontier = [(-best, node)]
    beam = [(best, node)]
    while frontier:
        neg, i = heapq.heappop(frontier)
        if len(beam) >= width and -neg < beam[0][0]:
            break
        expanded += 1
        ids = adjacent(i, 0)
        ids = ids[~visited[ids]]
        visited[ids] = True
        estimated += len(ids)
        for est, j in zip(estimate(ids), ids):
            if len(beam) < width or est > beam[0][0]:
                heapq.heappush(frontier, (-est, j))
                heapq.heappush(beam, (est, j))
                if len(beam) > width:
                    heapq.heappop(beam)
    return np.array([j for _, j in beam]), np.array([e for e, _ in beam]), expanded, estimated


def run_graph_codes(graph, rows, queries, truth, env):
    """The HNSW graph searched on compact codes, the best C of the beam reranked.

    What a graph inside the funnel would do: walk on 1-bit codes of all
    dims (sign bits and one scale, RaBitQ's estimator, 36 bytes) or on the
    exact vectors (which checks this walk against FAISS's own search), then
    fetch C rows to rerank.  Python, so no latency: the work a query is
    nodes expanded / codes estimated / rows reranked."""
    signs = np.empty_like(rows)
    for start in range(0, len(rows), 65536):
        signs[start:start + 65536] = sign_code(rows[start:start + 65536])
    codes = {"1-bit": signs, "float": rows}
    visited = np.zeros(len(rows), bool)
    out = []
    for code in env["graph_codes"]:
        for width in env["graph_width"]:
            width = int(width)
            reranks = [K] if code == "float" else [c for c in env["graph_rerank"] if c <= width]
            found = {int(c): [] for c in reranks}
            work = np.zeros(2)
            for q, query in enumerate(queries):
                ids, est, expanded, estimated = walk(graph, lambda ids: codes[code][ids] @ query, width, visited)
                work += (expanded, estimated)
                order = ids[np.argsort(-est)]
                for cand, lists in found.items():
                    short = order[:cand]
                    lists.append(short[np.argsort(-(rows[short] @ query))[:K]])
            expanded, estimated = work / len(queries)
            for cand, lists in found.items():
                out.append((f"walk on {code} codes, beam {width}, rerank {cand}", recall(lists, truth),
                            expanded, estimated, cand))
    return out


def hnsw_flat(x):
    """pgvector's HNSW defaults: M 16, efConstruction 64."""
    index = faiss.IndexHNSWFlat(x.shape[1], 16)
    index.hnsw.efConstruction = 64
    index.add(x)
    return index


def build_hnsw(rows, _):
    return hnsw_flat(rows)


def run_hnsw(index, timer, truth, env):
    if env["graph_width"]:
        env["graph_walks"] = run_graph_codes(graph_of(index.hnsw), env["rows"], timer.queries, truth, env)
    return sweep_hnsw(index, index.hnsw, timer, truth, env["ef"])


def trained(rows, spec):
    index = faiss.index_factory(rows.shape[1], spec)
    index.train(rows)
    index.add(rows)
    return index


def build_ivfflat(rows, nlist):
    return trained(rows, f"IVF{nlist},Flat")


def build_ivfpqfs(rows, nlist):
    return trained(rows, f"IVF{nlist},PQ{int(os.environ.get('PQ_M', '64'))}x4fs,RFlat")


def run_ivf(index, timer, truth, env):
    """nprobe swept, and under a refine (IndexRefine) k_factor too."""
    out = []
    refine = hasattr(index, "k_factor")
    ivf = faiss.downcast_index(index.base_index) if refine else index
    search = faiss_searcher(index, timer.queries)
    for share in env["probes"]:
        ivf.nprobe = max(1, round(share * ivf.nlist))
        scanned = entries_probed(ivf, timer.queries, ivf.nprobe)
        for kf in env["k_factors"] if refine else [0]:
            setting = f"nprobe {ivf.nprobe}"
            if refine:
                index.k_factor = kf
                setting += f", k_factor {int(kf)}"
            found, p50, mean = timer.run(search)
            out.append((setting, recall(found, truth), p50, mean, scanned + kf * K))
    return out


def build_prefix(rows, _):
    prefix = np.ascontiguousarray(rows[:, :PREFIX_DIMS])
    prefix /= np.linalg.norm(prefix, axis=1, keepdims=True)
    return hnsw_flat(prefix)


def run_prefix(index, timer, truth, env):
    """The top C of the prefix graph (efSearch = C), reranked on the full vectors."""
    out = []
    rows = env["rows"]
    qprefix = np.ascontiguousarray(timer.queries[:, :PREFIX_DIMS])
    qprefix /= np.linalg.norm(qprefix, axis=1, keepdims=True)
    for cand in env["candidates"]:
        cand = int(cand)
        index.hnsw.efSearch = cand
        shortlist = faiss_searcher(index, qprefix, cand)

        def search(i):
            ids = shortlist(i)
            ids = ids[ids >= 0]
            return ids[np.argsort(-(rows[ids] @ timer.queries[i]))[:K]]
        faiss.cvar.hnsw_stats.reset()
        found, p50, mean = timer.run(search)
        ndis = faiss.cvar.hnsw_stats.n3 / (timer.rounds * len(timer.queries))
        out.append((f"candidates {cand} (efSearch {cand})", recall(found, truth), p50, mean, ndis + cand))
    return out


def build_nsg(rows, _):
    index = faiss.IndexNSGFlat(rows.shape[1], 32)
    index.build_type = 1
    index.add(rows)
    return index


def run_nsg(index, timer, truth, env):
    out = []
    search = faiss_searcher(index, timer.queries)
    for length in env["nsg_l"]:
        index.nsg.search_L = int(length)
        found, p50, mean = timer.run(search)
        out.append((f"search_L {int(length)}", recall(found, truth), p50, mean, None))
    return out


METHODS = {
    "hnsw": ("IndexHNSWFlat M 16, efC 64", build_hnsw, run_hnsw, "distances"),
    "ivfflat": ("IndexIVFFlat", build_ivfflat, run_ivf, "entries"),
    "ivfpqfs": ("IndexIVFPQFastScan 4-bit + RefineFlat", build_ivfpqfs, run_ivf, "entries + reranks"),
    "prefix": (f"IndexHNSWFlat on {PREFIX_DIMS} dims + rerank", build_prefix, run_prefix,
               "distances + reranks"),
    "nsg": ("IndexNSGFlat R 32", build_nsg, run_nsg, "-"),
}


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 250000
    nq = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    methods = os.environ.get("METHODS", "hnsw ivfflat ivfpqfs").split()
    target = float(os.environ.get("TARGET", "0.95"))
    build_threads = int(os.environ.get("BUILD_THREADS", "2"))
    env = {
        "ef": env_list("EF_SEARCH", "64 128 192 256 384 512"),
        "probes": env_list("PROBES", "0.1 0.2 0.25 0.3 0.4"),
        "k_factors": env_list("K_FACTORS", "16 32 64"),
        "candidates": env_list("CANDIDATES", "400 1600 3200"),
        "nsg_l": env_list("NSG_L", "32 64 128 256"),
        "graph_codes": os.environ.get("GRAPH_CODES", "1-bit float").split(),
        "graph_width": env_list("GRAPH_WIDTH", "256 512 1024"),
        "graph_rerank": env_list("GRAPH_RERANK", "100 200 400", int),
    }
    rows, queries = load(path, n, nq)
    env["rows"] = rows
    nlist = max(1, round(np.sqrt(len(rows))))
    truth = exact_top(rows, queries)
    if os.environ.get("DUMP"):
        dump(os.environ["DUMP"], rows, queries, truth)
    if not methods:
        return
    timer = Timer(queries, int(os.environ.get("ROUNDS", "3")))
    print(f"# {len(rows)} rows x {rows.shape[1]} dims, {len(queries)} held-out queries, top-{K} inner product "
          f"on unit vectors; FAISS {faiss.__version__} ({faiss.get_compile_options()}), search on 1 thread, "
          f"median of {timer.rounds} runs; {nlist} lists; load average {os.getloadavg()[0]:.1f}")
    print("method | setting | recall@10 | p50 ms | mean ms | work a query")
    print("---|---|---|---|---|---")
    best = {}
    builds = []
    for key in methods:
        name, build, run, work = METHODS[key]
        faiss.omp_set_num_threads(build_threads)
        t0 = time.perf_counter()
        index = build(rows, nlist)
        secs = time.perf_counter() - t0
        faiss.omp_set_num_threads(1)
        builds.append((name, secs, size_mb(index)))
        for setting, rec, p50, mean, ops in run(index, timer, truth, env):
            done = "-" if ops is None else f"{ops:,.0f} {work}"
            print(f"{name} | {setting} | {rec:.4f} | {p50:.3f} | {mean:.3f} | {done}", flush=True)
            if rec >= target and (key not in best or p50 < best[key][2]):
                best[key] = (setting, rec, p50, ops)
        del index
    print(f"\nmethod | build s ({build_threads} threads) | index MB "
          f"(the rows alone: {rows.nbytes / 1e6:.0f} MB)")
    print("---|---|---")
    for name, secs, mb in builds:
        print(f"{name} | {secs:.1f} | {mb:,.0f}")
    print(f"\nfastest setting at recall@10 >= {target} | recall@10 | p50 ms | work a query | p50 / HNSW's")
    print("---|---|---|---|---")
    for key in methods:
        if key not in best:
            print(f"{METHODS[key][0]} | did not reach {target} | | | |")
            continue
        setting, rec, p50, ops = best[key]
        ratio = f"{p50 / best['hnsw'][2]:.2f}" if "hnsw" in best else "-"
        done = "-" if ops is None else f"{ops:,.0f}"
        print(f"{METHODS[key][0]}, {setting} | {rec:.4f} | {p50:.3f} | {done} | {ratio}")
    if env.get("graph_walks"):
        print("\nthe HNSW graph walked on codes (Python: work, not time) | recall@10 | nodes expanded "
              "| codes estimated | rows reranked")
        print("---|---|---|---|---")
        for setting, rec, expanded, estimated, cand in env["graph_walks"]:
            print(f"{setting} | {rec:.4f} | {expanded:,.0f} | {estimated:,.0f} | {cand}")


if __name__ == "__main__":
    main()
