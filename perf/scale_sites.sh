#!/usr/bin/env bash
# perf/scale_sites.sh [perf_scale options] -- where the memory of perf_scale's
# idle connections goes: its CSV line, then each mapping's Rss change, malloc's
# arena, and myring's live heap per allocation call chain (made after the loop,
# still live once every connection answered its SELECT 1), the chains resolved
# to function:line. Needs the sandbox's env (eval "$(tests/sandbox.sh env)")
# and max_connections above --conns (perf/run.sh sets it).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BIN=${PERF_BUILD_DIR:-$REPO/build}/perf_scale
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ERR=$(mktemp)
trap 'rm -f "$ERR"' EXIT
"$BIN" --header --sites --smaps "$@" 2>"$ERR"
grep -v "^sites\|^allocs" "$ERR" || true
echo "count,bytes,bytes_per_conn,chain"
grep '^sites,' "$ERR" | while IFS=, read -r _ count bytes per chain; do
  IFS=';' read -ra offs <<<"$chain"
  names=$(addr2line -f -s -e "$BIN" "${offs[@]}" | paste -d: - - | sed 's/ (discriminator [0-9]*)//' | paste -sd'<' -)
  echo "$count,$bytes,$per,$names"
done
grep '^sites-total' "$ERR"
echo "allocations since the first connect, by chain: count,bytes,peak_live_bytes,chain (largest peak first)"
grep '^allocs,' "$ERR" | sort -t, -k4,4nr | while IFS=, read -r _ count bytes peak chain; do
  IFS=';' read -ra offs <<<"$chain"
  names=$(addr2line -f -s -e "$BIN" "${offs[@]}" | paste -d: - - | sed 's/ (discriminator [0-9]*)//' | paste -sd'<' -)
  echo "$count,$bytes,$peak,$names"
done
