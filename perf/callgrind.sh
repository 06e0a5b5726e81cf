#!/usr/bin/env bash
# perf/callgrind.sh [OUTDIR] -- user-space instructions per query and per row,
# myring vs libmariadb, with valgrind --tool=callgrind (repeatable on a noisy
# machine). Against perf/minisrv (started here on a free port, stopped at the
# end), one connection, no pipelining, no per-query clock reads (--nolat):
#   Ir per SELECT 1        = (Ir of 20,000 SELECT 1 - Ir of 0 queries) / 20,000
#   Ir per SELECT 1 pipelined: the same, 16 queries in flight (myring only;
#                             libmariadb's blocking API has one at a time)
#   Ir per 100-row query   = (Ir of 2,000 x "SELECT seq, seq*2, CONCAT('row',seq)
#                             FROM seq_1_to_100" - Ir of 0 queries) / 2,000
#   Ir per 1-row 3-col     = the same with seq_1_to_1
#   Ir per extra row       = (Ir per 100-row - Ir per 1-row 3-col) / 99
# The 0-query run connects and closes, so the difference is the query loop.
# Writes OUTDIR/callgrind.csv (impl,measure,value) and, for myring, the
# function-level breakdown (callgrind_annotate) of each loop.
# Needs the programs built (perf/run.sh builds them; $PERF_BUILD_DIR or build/).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${PERF_BUILD_DIR:-$REPO/build}
PEERS=$BUILD/perf-peers
OUT=${1:-$REPO/perf/results/callgrind-$(date +%Y-%m-%d_%H%M%S)}
N1=${CG_SELECT1_COUNT:-20000}
N100=${CG_ROWS_COUNT:-2000}
mkdir -p "$OUT" "$PEERS"
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 1; }
if [ ! -x "$BUILD/perf_qps" ] || [ ! -x "$BUILD/perf_minisrv" ]; then
  echo "callgrind.sh: build first (perf/run.sh, or cmake --build $BUILD)" >&2; exit 1
fi
if [ ! -x "$PEERS/qps_mariadb" ]; then
  # shellcheck disable=SC2046
  gcc -O2 -g -Wall -Wextra -Werror -o "$PEERS/qps_mariadb" "$REPO/perf/peers/qps_mariadb.c" \
    $(pkg-config --cflags --libs libmariadb) -lpthread
fi

SRV_LOG=$(mktemp)
"$BUILD/perf_minisrv" --port 0 --max-seconds 1800 > "$SRV_LOG" &
SRV=$!
trap 'kill $SRV 2>/dev/null || true; rm -f "$SRV_LOG"' EXIT
for _ in $(seq 1 50); do grep -q listening "$SRV_LOG" && break; sleep 0.1; done
PORT=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$SRV_LOG")
[ -n "$PORT" ] || { echo "callgrind.sh: minisrv did not start" >&2; exit 1; }
export MYR_TEST_HOST=127.0.0.1 MYR_TEST_PORT=$PORT MYR_TEST_USER=bench MYR_TEST_PASSWORD=x
unset PERF_DB MYR_TEST_DB

ir() {   # $1 name; rest: command. Prints the total Ir.
  local name=$1 f; shift
  f=$OUT/callgrind.out.$name
  if ! valgrind --tool=callgrind --callgrind-out-file="$f" "$@" >"$OUT/callgrind.$name.stdout" 2>"$OUT/callgrind.$name.log"; then
    echo "callgrind.sh: $name failed under valgrind (see $OUT/callgrind.$name.log)" >&2
    echo 0; return
  fi
  awk '/^(summary|totals):/ {print $2; exit}' "$f"
}

echo "impl,measure,value" > "$OUT/callgrind.csv"
for impl in myring libmariadb; do
  if [ $impl = myring ]; then cmd=("$BUILD/perf_qps" --depth 1); else cmd=("$PEERS/qps_mariadb" --mode block); fi
  cmd+=(--conns 1 --nolat)
  z=$(ir "$impl.zero" "${cmd[@]}" --count 0)
  s1=$(ir "$impl.select1" "${cmd[@]}" --count "$N1" --query select1)
  p1=0
  if [ $impl = myring ]; then
    p1=$(ir "$impl.select1p" "$BUILD/perf_qps" --depth 16 --conns 1 --nolat --count "$N1" --query select1)
  fi
  r100=$(ir "$impl.rows100" "${cmd[@]}" --count "$N100" --query rows100)
  r1=$(ir "$impl.rows1" "${cmd[@]}" --count "$N100" --query rows1)
  awk -v i=$impl -v z="$z" -v s1="$s1" -v p1="$p1" -v r100="$r100" -v r1="$r1" -v n1="$N1" -v n100="$N100" 'BEGIN {
    a = (s1 - z) / n1; b = (r100 - z) / n100; c = (r1 - z) / n100
    if (p1 > 0) printf "%s,Ir per SELECT 1 pipelined (16 deep),%.0f\n", i, (p1 - z) / n1
    printf "%s,Ir per SELECT 1,%.0f\n%s,Ir per 100-row query,%.0f\n%s,Ir per 1-row 3-col query,%.0f\n%s,Ir per extra row,%.1f\n%s,Ir connect+close,%.0f\n",
      i, a, i, b, i, c, i, (b - c) / 99, i, z }' >> "$OUT/callgrind.csv"
done
# Allocator calls (myring only: counted through myr_set_allocator, no valgrind).
allocs() { "$BUILD/perf_qps" --conns 1 --nolat --count 2000 --allocs --query "$1" 2>&1 >/dev/null \
             | sed -n 's/^allocs: \([0-9.]*\) malloc.*/\1/p'; }
a1=$(allocs select1); a100=$(allocs rows100); ar1=$(allocs rows1)
awk -v a="$a1" -v b="$a100" -v c="$ar1" 'BEGIN {
  printf "myring,malloc+realloc calls per SELECT 1,%.2f\nmyring,malloc+realloc calls per 100-row query,%.2f\nmyring,malloc+realloc calls per extra row,%.3f\n", a, b, (b - c) / 99 }' >> "$OUT/callgrind.csv"
for w in select1 select1p rows100; do
  callgrind_annotate --inclusive=no "$OUT/callgrind.out.myring.$w" 2>/dev/null | head -60 > "$OUT/callgrind_myring_$w.txt" || true
  [ -f "$OUT/callgrind.out.libmariadb.$w" ] || continue
  callgrind_annotate --inclusive=no "$OUT/callgrind.out.libmariadb.$w" 2>/dev/null | head -60 > "$OUT/callgrind_libmariadb_$w.txt" || true
done
rm -f "$OUT"/callgrind.out.*.zero "$OUT"/callgrind.out.*.rows1
cat "$OUT/callgrind.csv"
