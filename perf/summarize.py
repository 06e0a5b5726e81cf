#!/usr/bin/env python3
"""perf/summarize.py RESULTS_DIR -- turn the CSVs of one perf/run.sh run into
a Markdown summary (stdout) and a gnuplot script + data files for chart.png
(written into RESULTS_DIR). Medians with min-max over the repetitions; ratios
myring / peer are ratios of medians, with the range of the per-repetition
(paired, interleaved) ratios in brackets."""
import csv
import os
import statistics
import sys

D = sys.argv[1]
out = []
p = out.append

NAMES = {
    "myring_d1": "myring, depth 1",
    "myring_d8": "myring, pipelined 8 deep",
    "mdb_block": "libmariadb blocking, thread/conn",
    "mdb_nonblock": "libmariadb non-blocking + poll",
    "sysbench": "sysbench (libmariadb, threads)",
    "node_d8": "Node mariadb, pipelined 8 deep",
}
ORDER = list(NAMES)


def rows(name):
    path = os.path.join(D, name)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f))


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt(x, nd=0):
    if x != x:
        return "-"
    if nd == 0:
        return f"{x:,.0f}"
    return f"{x:,.{nd}f}"


def mmr(xs, nd=0):
    if not xs:
        return "-"
    return f"{fmt(med(xs), nd)} ({fmt(min(xs), nd)}–{fmt(max(xs), nd)})"


def ratio_str(a, b):
    """a, b: dict rep -> value. Ratio of medians [range of paired ratios]."""
    if not a or not b:
        return "-"
    r = med(list(a.values())) / med(list(b.values())) if med(list(b.values())) else float("nan")
    pairs = [a[k] / b[k] for k in a if k in b and b[k]]
    if pairs:
        return f"{r:.2f}x [{min(pairs):.2f}–{max(pairs):.2f}]"
    return f"{r:.2f}x"


with open(os.path.join(D, "machine.txt")) if os.path.exists(os.path.join(D, "machine.txt")) else open(os.devnull) as f:
    machine = f.read().strip()
p("# myring performance: perf/run.sh results\n")
p("```\n" + machine + "\n```\n")
p("Medians of the repetitions with (min–max); contenders interleaved in the same run. "
  "Ratios are myring / peer (ratio of medians, [range of per-repetition ratios]).\n")

# ------------------------------------------------------------------ qps
def qps_section(fname, title, intro):
    data = rows(fname)
    if not data:
        return {}
    p(f"## {title}\n")
    p(intro + "\n")
    by = {}
    for r in data:
        key = (r["query"], int(r["conns"]), r["contender"])
        by.setdefault(key, []).append(r)
    queries = sorted({k[0] for k in by}, key=lambda q: (q != "select1", q))
    conns = sorted({k[1] for k in by})
    med_tab = {}
    for q in queries:
        p(f"### {q}\n")
        p("| conns | contender | QPS | p50 µs | p99 µs | client CPU µs/query | usr / sys µs | QPS per client CPU-second | server CPU µs/query |")
        p("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        for n in conns:
            for c in ORDER:
                rs = by.get((q, n, c))
                if not rs:
                    continue
                qps = [float(r["qps"]) for r in rs]
                cpu = [float(r["cpu_us_per_q"]) for r in rs]
                eff = [1e6 / x for x in cpu if x > 0]
                med_tab[(q, n, c)] = {
                    "qps": {r["rep"]: float(r["qps"]) for r in rs},
                    "cpu": {r["rep"]: float(r["cpu_us_per_q"]) for r in rs},
                    "eff": {r["rep"]: 1e6 / float(r["cpu_us_per_q"]) for r in rs if float(r["cpu_us_per_q"]) > 0},
                }
                p(f"| {n} | {NAMES.get(c, c)} | {mmr(qps)} | {fmt(med([float(r['p50_us']) for r in rs]), 0) if c != 'sysbench' else '-'} "
                  f"| {fmt(med([float(r['p99_us']) for r in rs]), 0)} | {mmr(cpu, 1)} "
                  f"| {fmt(med([float(r['usr_us_per_q']) for r in rs]), 1)} / {fmt(med([float(r['sys_us_per_q']) for r in rs]), 1)} "
                  f"| {mmr(eff)} | {fmt(med([float(r['server_cpu_us_per_q']) for r in rs if r.get('server_cpu_us_per_q')]), 1)} |")
        p("")
        p("| conns | myring d1 / libmariadb non-blocking (QPS) | myring d8 / best peer (QPS) | best peer | CPU per query: myring d1 / libmariadb non-blocking | myring d8 / libmariadb non-blocking |")
        p("|---:|---:|---:|---|---:|---:|")
        for n in conns:
            g = lambda c, k: med_tab.get((q, n, c), {}).get(k, {})
            peers = [c for c in ORDER if not c.startswith("myring") and (q, n, c) in med_tab]
            best = max(peers, key=lambda c: med(list(g(c, "qps").values()))) if peers else None
            p(f"| {n} | {ratio_str(g('myring_d1', 'qps'), g('mdb_nonblock', 'qps'))} "
              f"| {ratio_str(g('myring_d8', 'qps'), g(best, 'qps')) if best else '-'} | {NAMES.get(best, '-') if best else '-'} "
              f"| {ratio_str(g('myring_d1', 'cpu'), g('mdb_nonblock', 'cpu'))} | {ratio_str(g('myring_d8', 'cpu'), g('mdb_nonblock', 'cpu'))} |")
        p("")
    return med_tab


qps_tab = qps_section(
    "qps.csv", "Small-query throughput against the sandbox (MariaDB)",
    "QPS over the measured window; latency from submit to result; client CPU is getrusage(RUSAGE_SELF) of the client "
    "over the window (sysbench: /usr/bin/time over the whole run, connects included; its p99 is per event). "
    "The server shares the 2 cores with the client.")
srv_tab = qps_section(
    "minisrv.csv", "Client-bound throughput against perf/minisrv (a minimal one-thread epoll MySQL server)",
    "The server answers every COM_QUERY from a precomputed buffer, so the client is the bottleneck: "
    "the column that matters is QPS per client CPU-second.")

# ------------------------------------------------------------- syscalls
sc = rows("syscalls.csv")
if sc:
    p("## Syscalls per query (SELECT 1)\n")
    p("Counted over a fixed number of queries minus the same program with 0 queries (connect + close). "
      "strace slows the client, which lets more completions gather per io_uring_enter; the perf column counts the "
      "raw_syscalls tracepoint without strace (empty where perf cannot).\n")
    p("| conns | contender | strace -c -f: syscalls/query | of which io_uring_enter | perf stat: syscalls/query |")
    p("|---:|---|---:|---:|---:|")
    for r in sc:
        p(f"| {r['conns']} | {NAMES.get(r['contender'], r['contender'])} | {float(r['strace_per_q']):.2f} | "
          f"{float(r['strace_uring_enter_per_q']):.2f} | {r['perf_per_q'] or '-'} |")
    p("")

# ------------------------------------------------------------- creator
cr = rows("creator.csv")
creator_med = {}
if cr:
    tables = cr[0]["tables"]
    p(f"## The reference document's table creator ({tables} tables: DROP IF EXISTS + CREATE, then DROP; SHOW TABLES checks)\n")
    by = {}
    for r in cr:
        by.setdefault((r["impl"], r["mode"]), {})[r["rep"]] = float(r["seconds"])
    modes = []
    for r in cr:
        if r["mode"] not in modes:
            modes.append(r["mode"])
    doc = {"sync": "25.86 s", "batch:3": "19.09 s (26%)", "batch:12": "13.15 s (49%)"}
    p("| mode | myring s | myring saved vs sync | libmariadb s | libmariadb saved vs sync | myring / libmariadb | document (aiomysql, 511 tables) |")
    p("|---|---:|---:|---:|---:|---:|---|")
    for m in modes:
        cells = []
        for impl in ("myring", "libmariadb"):
            v = by.get((impl, m))
            s = by.get((impl, "sync"))
            if v:
                creator_med[(impl, m)] = med(list(v.values()))
                saved = 100 * (1 - med(list(v.values())) / med(list(s.values()))) if s and m != "sync" else None
                cells += [mmr(list(v.values()), 2), f"{saved:.0f}%" if saved is not None else "-"]
            else:
                cells += ["-", "-"]
        rr = ratio_str(by.get(("myring", m), {}), by.get(("libmariadb", m), {}))
        p(f"| {m} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} | {rr} | {doc.get(m, '')} |")
    p("")

# ------------------------------------------------------------- callgrind
cg = rows("callgrind.csv")
if cg:
    p("## Instructions (callgrind, user space, client only)\n")
    p("Ir of a loop of queries minus a run with 0 queries (connect + close), divided by the queries; "
      "per extra row = (Ir per 100-row query − Ir per 1-row query of the same 3 columns) / 99. Server: perf/minisrv.\n")
    p("| measure | myring | libmariadb | myring / libmariadb |")
    p("|---|---:|---:|---:|")
    vals = {}
    for r in cg:
        vals[(r["impl"], r["measure"])] = float(r["value"])
    for m in ["Ir per SELECT 1", "Ir per 100-row query", "Ir per 1-row 3-col query", "Ir per extra row",
              "Ir connect+close", "malloc+realloc calls per SELECT 1", "malloc+realloc calls per 100-row query",
              "malloc+realloc calls per extra row"]:
        a, b = vals.get(("myring", m)), vals.get(("libmariadb", m))
        if a is None and b is None:
            continue
        nd = 2 if m.startswith("malloc") else 0
        p(f"| {m} | {fmt(a, nd) if a is not None else '-'} | {fmt(b, nd) if b is not None else '-'} | "
          f"{(f'{a / b:.2f}x' if a is not None and b else '-')} |")
    p("")

# ------------------------------------------------------------- scale
scl = rows("scale.csv")
if scl:
    p("## Scale and memory: many idle connections\n")
    p("Each connects, runs SELECT 1 and stays open (set-up at most 1,000 at a time, on one thread: myring one loop, "
      "libmariadb its non-blocking API + poll). Memory per connection = (RSS with all open − RSS before) / N; heap = bytes "
      "the library holds per connection (myring: counted through myr_set_allocator; libmariadb: mallinfo2), which "
      "exceeds RSS where big buffers are allocated but never touched.\n")
    p("| impl | server | connections | time to connect all s | peak RSS MiB | RSS KiB per idle connection | heap KiB per idle connection |")
    p("|---|---|---:|---:|---:|---:|---:|")
    by = {}
    for r in scl:
        by.setdefault((r["impl"], r["server"], r["conns"]), []).append(r)
    for k, rs in by.items():
        p(f"| {k[0]} | {k[1]} | {k[2]} | {mmr([float(r['connect_s']) for r in rs], 2)} | "
          f"{mmr([float(r['maxrss_kib']) / 1024 for r in rs], 1)} | {mmr([float(r['kib_per_conn']) for r in rs], 1)} | "
          f"{mmr([float(r['heap_bytes_per_conn']) / 1024 for r in rs if r.get('heap_bytes_per_conn')], 1)} |")
    p("")

# ------------------------------------------------------------- big
big = rows("big.csv")
if big:
    p("## Large result: one query, 1,000,000 rows\n")
    p("| impl | mode | rows | MB (values) | seconds | MB/s | peak RSS MiB | client CPU s |")
    p("|---|---|---:|---:|---:|---:|---:|---:|")
    by = {}
    for r in big:
        by.setdefault((r["impl"], r["mode"]), []).append(r)
    for k, rs in by.items():
        p(f"| {k[0]} | {k[1]} | {rs[0]['rows']} | {float(rs[0]['mb']):.1f} | {mmr([float(r['seconds']) for r in rs], 2)} | "
          f"{mmr([float(r['mb_per_s']) for r in rs])} | {mmr([float(r['maxrss_kib']) / 1024 for r in rs])} | "
          f"{mmr([float(r['cpu_s']) for r in rs], 2)} |")
    p("")

# ------------------------------------------------------------- stream
stm = rows("stream.csv")
if stm:
    p("## Streaming rows: 1,000,000 rows, streamed vs buffered (text protocol and prepared statements)\n")
    p("myring: myr_query_stream / myr_query (and over TLS), myr_stmt_execute_stream / myr_stmt_execute; libmariadb: mysql_use_result / mysql_store_result, a prepared "
      "statement fetched row by row / after mysql_stmt_store_result; Node: queryStream / query, executeStream / execute. "
      "One process per run. Peak RSS growth = peak RSS of the process after the query − its peak before it (connected, "
      "warmed up).\n")
    p("| impl | mode | rows | MB (values) | seconds | rows/s | client CPU s | peak RSS MiB | peak RSS growth MiB |")
    p("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    by = {}
    for r in stm:
        by.setdefault((r["impl"], r["mode"]), []).append(r)
    impls = ["myring", "libmariadb", "node-mariadb"]
    smodes = ["stream", "buffered", "stream+tls", "buffered+tls", "stmt-stream", "stmt-buffered", "stmt-stream+tls"]
    rank = lambda k: (impls.index(k[0]) if k[0] in impls else 9, smodes.index(k[1]) if k[1] in smodes else 99, k)
    for k in sorted(by, key=rank):
        rs = by[k]
        p(f"| {k[0]} | {k[1]} | {rs[0]['rows']} | {float(rs[0]['mb']):.1f} | {mmr([float(r['seconds']) for r in rs], 2)} | "
          f"{mmr([float(r['rows_per_s']) for r in rs])} | {mmr([float(r['cpu_s']) for r in rs], 3)} | "
          f"{fmt(med([float(r['maxrss_kib']) / 1024 for r in rs]), 1)} | {mmr([float(r['growth_kib']) / 1024 for r in rs], 1)} |")
    p("")

# ------------------------------------------------------------- stmt
STMT_TITLES = {   # perf/stmt_bench.h: the names of MariaDB Connector/C's benchmark suite
    "do1": "DO 1", "select1": "SELECT 1", "rows1000": "SELECT 1000 rows (int + char(32))",
    "cols100": "SELECT 100 int cols", "insert100": "batch insert of 100 rows",
}
STMT_MODES = {
    "text": "text protocol (COM_QUERY)",
    "binary": "binary, prepared once: execute only",
    "prepare": "binary: prepare + execute + close each time",
    "cached": "binary through the statement cache (myr_query_params; Node: execute)",
    "direct": "binary: prepare and execute sent together + close (myring: myr_query_params, cache off)",
    "loop": "prepared once, 100 executes",
    "bulk": "prepared once, one bulk execute of 100 rows",
}
STMT_NAMES = {
    "myring_d1": "myring, depth 1", "myring_d8": "myring, 8 deep", "mdb_block": "libmariadb (mysql_query / mysql_stmt_*)",
    "node_d1": "Node mariadb, depth 1", "node_d8": "Node mariadb, 8 deep",
}


def stmt_pipelined(c, q, m):
    """What travels together on the wire for contender c."""
    if c in ("myring_d8", "node_d8"):
        return "yes: 8 operations in flight" + ("; 100 executes each" if m == "loop" else "")
    if m == "loop" and c != "mdb_block":
        return "the 100 executes of an operation"
    if m == "direct":
        return "prepare + execute (+ close)"
    return "no"


stmt = rows("stmt.csv")
if stmt:
    eng = ""
    if os.path.exists(os.path.join(D, "stmt_engine.txt")):
        eng = open(os.path.join(D, "stmt_engine.txt")).read().strip()
    p("## Prepared statements vs the text protocol (perf/stmt.c, 1 connection)\n")
    p("The statements of MariaDB Connector/C's benchmark suite (perf/stmt_bench.h). Operations per second over the "
      "measured window (an operation: one statement; for the batch insert, 100 rows, so rows/s = 100 × ops/s); every "
      "value read (integers as numbers). libmariadb is blocking and cannot pipeline: one operation, one command at a "
      "time; myring and Node run 1 or 8 operations in flight. `text` of the batch insert is one 100-row INSERT; "
      f"the batch table's engine: {eng or '?'}.\n")
    by = {}
    for r in stmt:
        by.setdefault((r["query"], r["mode"], r["contender"]), []).append(r)
    cont = [c for c in STMT_NAMES] + sorted({k[2] for k in by} - set(STMT_NAMES))
    modes = list(STMT_MODES) + sorted({k[1] for k in by} - set(STMT_MODES))
    stmt_med = {}
    # At a glance: median ops/s (client CPU µs/op) per contender, one row per statement and mode.
    p("| statement | mode | " + " | ".join(STMT_NAMES.get(c, c) for c in cont if any(k[2] == c for k in by)) + " |")
    p("|---|---|" + "---:|" * sum(1 for c in cont if any(k[2] == c for k in by)))
    for q in STMT_TITLES:
        for m in modes:
            if not any((q, m, c) in by for c in cont):
                continue
            cells = []
            for c in cont:
                if not any(k[2] == c for k in by):
                    continue
                rs = by.get((q, m, c))
                cells.append(f"{fmt(med([float(r['qps']) for r in rs]))} ({fmt(med([float(r['cpu_us_per_q']) for r in rs]), 1)})"
                             if rs else "-")
            p(f"| {STMT_TITLES[q]} | {m} | " + " | ".join(cells) + " |")
    p("")
    p("Cells: median ops/s (median client CPU µs per operation). Modes: " +
      "; ".join(f"`{k}` {v}" for k, v in STMT_MODES.items()) + ". In full, with ranges:\n")
    p("| statement | mode | contender | pipelined | ops/s | p50 µs | client CPU µs/op | server CPU µs/op |")
    p("|---|---|---|---|---:|---:|---:|---:|")
    for q in STMT_TITLES:
        for m in modes:
            for c in cont:
                rs = by.get((q, m, c))
                if not rs:
                    continue
                stmt_med[(q, m, c)] = {r["rep"]: float(r["qps"]) for r in rs}
                srv = [float(r["server_cpu_us_per_q"]) for r in rs if r.get("server_cpu_us_per_q")]
                p(f"| {STMT_TITLES[q]} | {STMT_MODES.get(m, m)} | {STMT_NAMES.get(c, c)} | {stmt_pipelined(c, q, m)} "
                  f"| {mmr([float(r['qps']) for r in rs])} | {fmt(med([float(r['p50_us']) for r in rs]), 0)} "
                  f"| {mmr([float(r['cpu_us_per_q']) for r in rs], 1)} | {fmt(med(srv), 1)} |")
    p("")
    p("| statement | mode | myring depth 1 / libmariadb | myring 8 deep / libmariadb | myring 8 deep / Node 8 deep | myring depth 1: this mode / text |")
    p("|---|---|---:|---:|---:|---:|")
    for q in STMT_TITLES:
        for m in modes:
            g = lambda c, mm=m: stmt_med.get((q, mm, c), {})
            if not (g("myring_d1") or g("myring_d8")):
                continue
            vs_text = ratio_str(g("myring_d1"), g("myring_d1", "text")) if m != "text" else "-"
            p(f"| {STMT_TITLES[q]} | {STMT_MODES.get(m, m)} | {ratio_str(g('myring_d1'), g('mdb_block'))} "
              f"| {ratio_str(g('myring_d8'), g('mdb_block'))} | {ratio_str(g('myring_d8'), g('node_d8'))} | {vs_text} |")
    p("")

# ------------------------------------------------------------- fairness
FAIR_NAMES = {
    "myring_window": "myring, refill 0 (window policy)",
    "myring_eager": "myring, refill -1 (eager)",
    "myring_appbatch": "myring eager, application refills whole windows (reference)",
    "mdb_fair": "libmariadb non-blocking, 1 in flight",
    "node_fair": "Node mariadb, pipelined",
}
fair = rows("fairness.csv")
fair_med = {}
if fair:
    p("## Fairness under pipelining (SELECT 1, 8 deep, one query refilled per completion)\n")
    p("Every connection is kept 8 queries deep by queueing one new query on it from each completion "
      "(libmariadb cannot pipeline: 1 in flight). Completions per connection over the window (min / median / max) "
      "show starvation; latency (queue to resolution) shows stalls even when the counts look fair. Server context "
      "switches are summed over the threads of mariadbd (voluntary: a thread blocked, e.g. in read(); involuntary: "
      "it was preempted). Target for myring with the window policy: p99 ≤ 4 × p50 at every size, max ≤ 1 s at 64 "
      "connections, QPS no lower than eager in the same run. The reference row does the window policy in the "
      "application (a connection is refilled with 8 queries once all 8 resolved) over the eager library.\n")
    p("| conns | contender | depth | QPS | per-conn min / median / max | p50 µs | p99 µs | p99.9 µs | max µs | p99 / p50 | client CPU µs/query | server CPU µs/query | server csw/s vol / invol |")
    p("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    by = {}
    for r in fair:
        by.setdefault((int(r["conns"]), r["contender"]), []).append(r)
    fconns = sorted({k[0] for k in by})
    forder = list(FAIR_NAMES) + sorted({k[1] for k in by} - set(FAIR_NAMES))
    for n in fconns:
        for c in forder:
            rs = by.get((n, c))
            if not rs:
                continue
            g = lambda k: med([float(r[k]) for r in rs])
            fair_med[(n, c)] = {k: g(k) for k in ("qps", "p50_us", "p99_us", "p999_us", "max_us")}
            fair_med[(n, c)]["qps_by_rep"] = {r["rep"]: float(r["qps"]) for r in rs}
            ratio = g("p99_us") / g("p50_us") if g("p50_us") > 0 else float("nan")
            p(f"| {n} | {FAIR_NAMES.get(c, c)} | {rs[0]['depth']} | {mmr([float(r['qps']) for r in rs])} "
              f"| {fmt(g('conn_min'))} / {fmt(g('conn_median'))} / {fmt(g('conn_max'))} "
              f"| {fmt(g('p50_us'))} | {fmt(g('p99_us'))} | {fmt(g('p999_us'))} | {fmt(g('max_us'))} | {fmt(ratio, 1)} "
              f"| {fmt(g('cpu_us_per_q'), 1)} | {fmt(g('server_cpu_us_per_q'), 1)} "
              f"| {fmt(g('server_vcsw_per_s'))} / {fmt(g('server_ivcsw_per_s'))} |")
    p("")
    if any(c == "myring_window" for (_, c) in fair_med):
        p("| conns | myring window: p99 / p50 (≤ 4) | max µs (≤ 1 s at 64) | QPS window / eager [paired range] (≥ 1) | reference (application batches): p99 / p50, QPS / eager |")
        p("|---:|---:|---:|---:|---:|")
        for n in fconns:
            w, e = fair_med.get((n, "myring_window")), fair_med.get((n, "myring_eager"))
            if not w:
                continue
            ratio = w["p99_us"] / w["p50_us"] if w["p50_us"] > 0 else float("nan")
            r = fair_med.get((n, "myring_appbatch"))
            ref = "-"
            if r:
                ref = (f"{fmt(r['p99_us'] / r['p50_us'], 1) if r['p50_us'] > 0 else '-'}, "
                       f"{ratio_str(r['qps_by_rep'], e['qps_by_rep']) if e else '-'}")
            p(f"| {n} | {fmt(ratio, 1)} | {fmt(w['max_us'])} | "
              f"{ratio_str(w['qps_by_rep'], e['qps_by_rep']) if e else '-'} | {ref} |")
        p("")

# ------------------------------------------------------------- loops
lp = rows("loops.csv")
if lp:
    p("## One loop per thread\n")
    p("L loops on their own threads (each made on the main thread and handed over), 32 connections each, "
      "SELECT 1 8 deep. Efficiency = QPS(L) / (L × QPS(1)). perf/minisrv has one thread: with two cores the "
      "client gets at most one core's worth beside it, so efficiency past one loop says how much of the second "
      "core the client can take, not how far myring scales on a bigger machine.\n")
    p("| server | loops | QPS | QPS per loop (slowest / fastest) | efficiency | client CPU µs/query |")
    p("|---|---:|---:|---:|---:|---:|")
    by = {}
    for r in lp:
        by.setdefault((r["server"], int(r["loops"])), []).append(r)
    for srv in sorted({k[0] for k in by}, key=lambda x: x != "minisrv"):
        base = by.get((srv, 1))
        bq = med([float(r["qps"]) for r in base]) if base else None
        for L in sorted(k[1] for k in by if k[0] == srv):
            rs = by[(srv, L)]
            q = med([float(r["qps"]) for r in rs])
            eff = f"{q / (L * bq):.2f}" if bq else "-"
            p(f"| {srv} | {L} | {mmr([float(r['qps']) for r in rs])} | {fmt(med([float(r['qps_loop_min']) for r in rs]))} / "
              f"{fmt(med([float(r['qps_loop_max']) for r in rs]))} | {eff} | {fmt(med([float(r['cpu_us_per_q']) for r in rs]), 2)} |")
    p("")

# ------------------------------------------------------------- TLS
tls = rows("tls.csv")
if tls:
    p("## TLS connection storms and TLS throughput\n")
    p("N connections opened at once on one thread (connect, greeting, SSLRequest, TLS handshake, login), "
      "timed until all are logged in. libmariadb is given the sandbox's CA file (without one it loads the "
      "system's CA store for every connection) and keeps no TLS session between connections (no resumed "
      "row). Target: myring's resumed connects ≥ 3 × its full ones.\n")
    p("| impl | mode | conns | connects/s | client CPU µs/connect | server CPU µs/connect |")
    p("|---|---|---:|---:|---:|---:|")
    by = {}
    for r in tls:
        by.setdefault((r["impl"], r["mode"]), []).append(r)
    for (impl, mode), rs in sorted(by.items(), key=lambda kv: (kv[0][0] != "myring", ["plain", "full", "resumed"].index(kv[0][1]))):
        srv = [float(r["server_cpu_us_per_conn"]) for r in rs if r["server_cpu_us_per_conn"]]
        p(f"| {impl} | {mode} | {rs[0]['conns']} | {mmr([float(r['connects_per_s']) for r in rs])} "
          f"| {fmt(med([float(r['cpu_us_per_conn']) for r in rs]), 1)} | {fmt(med(srv), 1) if srv else '-'} |")
    full = {r["rep"]: float(r["connects_per_s"]) for r in by.get(("myring", "full"), [])}
    res = {r["rep"]: float(r["connects_per_s"]) for r in by.get(("myring", "resumed"), [])}
    mfull = {r["rep"]: float(r["connects_per_s"]) for r in by.get(("libmariadb", "full"), [])}
    p("")
    if full and res:
        p(f"myring resumed / full: {ratio_str(res, full)}" + (f"; myring full / libmariadb full: {ratio_str(full, mfull)}" if mfull else "") + "\n")
tq = rows("tls_qps.csv")
if tq:
    p("SELECT 1 at 64 connections, TLS vs plaintext (target: TLS within 15 % of plaintext):\n")
    p("| contender | depth | QPS plaintext | QPS TLS | TLS / plaintext [paired range] | client CPU µs/q plain / TLS |")
    p("|---|---:|---:|---:|---:|---:|")
    byc = {}
    for r in tq:
        byc.setdefault(r["contender"], []).append(r)
    for plain, tlsn, label, depth in (("myring_d1", "myring_d1_tls", "myring", 1), ("myring_d8", "myring_d8_tls", "myring", 8),
                                      ("mdb_nonblock", "mdb_nonblock_tls", "libmariadb non-blocking", 1)):
        a, b = byc.get(plain, []), byc.get(tlsn, [])
        if not a or not b:
            continue
        qa = {r["rep"]: float(r["qps"]) for r in a}
        qb = {r["rep"]: float(r["qps"]) for r in b}
        p(f"| {label} | {depth} | {mmr(list(qa.values()))} | {mmr(list(qb.values()))} | {ratio_str(qb, qa)} "
          f"| {fmt(med([float(r['cpu_us_per_q']) for r in a]), 1)} / {fmt(med([float(r['cpu_us_per_q']) for r in b]), 1)} |")
    p("")

print("\n".join(out))

# ------------------------------------------------------------- chart
panels = []
def write_dat(name, header, lines):
    with open(os.path.join(D, name), "w") as f:
        f.write("# " + " ".join(header) + "\n")
        for l in lines:
            f.write(" ".join(str(x) for x in l) + "\n")

if qps_tab:
    conns = sorted({k[1] for k in qps_tab if k[0] == "select1"})
    cont = [c for c in ORDER if any((("select1", n, c) in qps_tab) for n in conns)]
    lines_q, lines_c = [], []
    for n in conns:
        lq, lc = [n], [n]
        for c in cont:
            t = qps_tab.get(("select1", n, c))
            lq.append(med(list(t["qps"].values())) if t else "NaN")
            lc.append(med(list(t["cpu"].values())) if t else "NaN")
        lines_q.append(lq)
        lines_c.append(lc)
    write_dat("chart_qps.dat", ["conns"] + cont, lines_q)
    write_dat("chart_cpu.dat", ["conns"] + cont, lines_c)
    plots_q = ", ".join(f"'chart_qps.dat' using 1:{i + 2} with linespoints lw 2 title '{NAMES[c]}'" for i, c in enumerate(cont))
    plots_c = ", ".join(f"'chart_cpu.dat' using 1:{i + 2} with linespoints lw 2 title '{NAMES[c]}'" for i, c in enumerate(cont))
    panels.append(f"set title 'SELECT 1 against MariaDB: queries/s (median)'\nset logscale x 2\nset xlabel 'connections'\n"
                  f"set ylabel 'QPS'\nset key top left font ',8'\nset yrange [0:*]\nset offsets 0,0,graph 0.4,0\nplot {plots_q}\nunset logscale x")
    panels.append(f"set offsets 0,0,0,0\nset title 'SELECT 1: client CPU per query (µs, median)'\nset logscale x 2\nset xlabel 'connections'\n"
                  f"set ylabel 'µs'\nset key top right font ',8'\nset yrange [0:*]\nplot {plots_c}\nunset logscale x")
if creator_med:
    modes = []
    for (impl, m) in creator_med:
        if m not in modes:
            modes.append(m)
    lines = []
    for i, m in enumerate(modes):
        a = creator_med.get(("myring", m), "NaN")
        b = creator_med.get(("libmariadb", m), "NaN")
        lines.append([i, f'"{m}"', a, b])
    write_dat("chart_creator.dat", ["i", "mode", "myring", "libmariadb"], lines)
    panels.append("set title 'Table creator: seconds per mode (median)'\nunset xlabel\nset ylabel 's'\nset style data histograms\n"
                  "set style histogram clustered gap 1\nset style fill solid 0.8 border -1\nset boxwidth 0.9\nset xtics rotate by -30 font ',8'\n"
                  "set key top right font ',8'\nset yrange [0:*]\n"
                  "plot 'chart_creator.dat' using 3:xtic(2) title 'myring', '' using 4 title 'libmariadb'\n"
                  "set style data lines\nset xtics norotate font ''")
if srv_tab:
    cont = [c for c in ORDER if any(k[2] == c for k in srv_tab)]
    lines = []
    q = "select1"
    ns = sorted({k[1] for k in srv_tab if k[0] == q})
    for i, c in enumerate(cont):
        for n in ns:
            t = srv_tab.get((q, n, c))
            if t:
                lines.append([len(lines), f'"{c} ({n})"', med(list(t["eff"].values())) / 1000, med(list(t["qps"].values())) / 1000])
    write_dat("chart_minisrv.dat", ["i", "who", "kq_per_cpu_s", "kqps"], lines)
    panels.append("set title 'Client-bound (perf/minisrv), SELECT 1: thousands of queries'\nunset xlabel\nset ylabel 'k'\n"
                  "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
                  "set xtics rotate by -30 font ',8'\nset key top right font ',8'\nset yrange [0:*]\nset rmargin 6\n"
                  "plot 'chart_minisrv.dat' using 3:xtic(2) title 'per client CPU-second', '' using 4 title 'per second'\n"
                  "set style data lines\nset xtics norotate font ''")
if fair_med:
    lines = []
    for (n, c), t in sorted(fair_med.items(), key=lambda kv: (kv[0][0], list(FAIR_NAMES).index(kv[0][1]) if kv[0][1] in FAIR_NAMES else 99)):
        lines.append([len(lines), f'"{c} ({n})"'] + [t[k] / 1000 for k in ("p50_us", "p99_us", "p999_us", "max_us")])
    write_dat("chart_fairness.dat", ["i", "who", "p50_ms", "p99_ms", "p999_ms", "max_ms"], lines)
    panels.append("set title 'Fairness, SELECT 1 8 deep refilled per completion: latency (ms, log scale)'\nunset xlabel\nset ylabel 'ms'\n"
                  "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n"
                  "set xtics rotate by -30 font ',8'\nset key top left font ',8'\nset logscale y\nset yrange [*:*]\n"
                  "plot 'chart_fairness.dat' using 3:xtic(2) title 'p50', '' using 4 title 'p99', '' using 5 title 'p99.9', '' using 6 title 'max'\n"
                  "unset logscale y\nset style data lines\nset xtics norotate font ''")
if panels:
    cols = 2
    rws = (len(panels) + 1) // 2
    with open(os.path.join(D, "chart.gp"), "w") as f:
        f.write(f"set terminal pngcairo noenhanced size {700 * cols},{480 * rws} font 'sans,10'\n")
        f.write("set output 'chart.png'\nset grid ytics\n")
        f.write(f"set multiplot layout {rws},{cols}\n")
        for s in panels:
            f.write(s + "\n")
        f.write("unset multiplot\n")
