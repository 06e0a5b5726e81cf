#!/usr/bin/env bash
# tests/integration/test_layers.sh BUILD_DIR -- the library's structure, read
# from its object files with nm: which file calls (or reads) which other
# file's symbols. Fails when
#   - files call each other in a circle (every module has a place in a layer
#     order: it may call only files below it; callbacks go through function
#     pointers);
#   - the engine (uring/) calls anything outside uring/ (it knows no MySQL);
#   - the codec (src/proto/) calls anything but itself, the byte buffer and
#     the allocator (no I/O, no ring, no connection).
set -uo pipefail
BUILD=${1:?build dir}
OBJ=$BUILD/CMakeFiles/myring_obj.dir
[ -d "$OBJ" ] || { echo "FAIL: no objects in $OBJ"; exit 1; }
command -v nm >/dev/null || { echo "FAIL: nm not found"; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
exec "$PY" - "$OBJ" <<'PYEOF'
import collections, os, subprocess, sys
objdir = sys.argv[1]
defs, undefs = {}, {}
for root, _, files in os.walk(objdir):
    for f in files:
        if not f.endswith('.c.o'):
            continue
        path = os.path.join(root, f)
        name = os.path.relpath(path, objdir)[:-len('.c.o')]
        out = subprocess.run(['nm', path], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            p = line.split()
            if len(p) == 3 and p[1] in 'TDBRVW':
                defs[p[2]] = name
            elif len(p) == 2 and p[0] == 'U':
                undefs.setdefault(name, set()).add(p[1])
graph = collections.defaultdict(set)
why = {}
for mod, syms in undefs.items():
    for s in syms:
        d = defs.get(s)
        if d and d != mod:
            graph[mod].add(d)
            why.setdefault((mod, d), s)
bad = 0
def allowed_proto(dep):
    return dep.startswith('src/proto/') or dep in ('src/buf', 'src/alloc', 'uring/alloc')
for mod in sorted(graph):
    for dep in sorted(graph[mod]):
        if mod.startswith('uring/') and not dep.startswith('uring/'):
            print(f"FAIL: the engine calls outside it: {mod} -> {dep} ({why[(mod, dep)]})"); bad += 1
        if mod.startswith('src/proto/') and not allowed_proto(dep):
            print(f"FAIL: the codec calls outside it: {mod} -> {dep} ({why[(mod, dep)]})"); bad += 1
# Strongly connected components (Tarjan).
index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def visit(v):
    index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
    for w in graph.get(v, ()):
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(sorted(comp))
for v in list(graph):
    if v not in index:
        visit(v)
for comp in sccs:
    bad += 1
    print("FAIL: files call each other in a circle: " + " ".join(comp))
    for a in comp:
        for b in sorted(graph[a]):
            if b in comp:
                print(f"    {a} -> {b} ({why[(a, b)]})")
mods = sorted(set(graph) | {d for ds in graph.values() for d in ds})
if bad:
    sys.exit(1)
print(f"ok - {len(mods)} files, no cycle; engine and codec self-contained")
PYEOF
