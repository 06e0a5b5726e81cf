#!/usr/bin/env bash
# tests/integration/test_examples.sh BUILD_DIR -- the examples against the
# sandbox: the basic query prints the server version; the three jobs run
# gathered in about the longest job's time and sequentially in the sum; the
# table creator leaves the expected tables in every mode (it checks SHOW
# TABLES itself and exits 1 otherwise); the epoll and libuv daemons complete;
# the streaming export writes 1M rows in bounded memory.
set -uo pipefail
build=${1:?build dir}
: "${MYR_TEST_HOST:?run through scripts/test.sh (sandbox env missing)}"
passed=0 failed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }

out=$("$build/example_basic_query" 2>&1)
if [[ $? -eq 0 && $out == *MariaDB* && $out == *$'\t42'* ]]; then ok basic_query; else bad "basic_query: $out"; fi

out=$("$build/example_three_jobs" 0.1 2>&1)
if [[ $? -eq 0 ]]; then
    # Gathered: END_MYSQL_OPS before END_SLEEP before END_IO (completion order).
    first=$(printf '%s\n' "$out" | sed -n '1,/Elapsed/p' | grep -o 'END_[A-Z_]*' | tr '\n' ' ')
    if [[ $first == "END_MYSQL_OPS END_SLEEP END_IO " ]]; then ok "three_jobs order"; else bad "three_jobs order: $first"; fi
    # Timings: gathered ~0.5 s (longest job), sequential ~1.0 s (sum).
    read -r g s < <(printf '%s\n' "$out" | awk '/^gathered:/ {print $2, $7}')
    if awk -v g="$g" -v s="$s" 'BEGIN { exit !(g >= 0.45 && g < s && s >= 0.95) }'; then
        ok "three_jobs timing (gathered $g s, sequential $s s)"
    else
        bad "three_jobs timing: gathered $g, sequential $s"
    fi
else
    bad "three_jobs: $out"
fi

# The epoll daemon: every chain's answers, closes and timer ticks (it exits 1 otherwise).
if out=$("$build/example_epoll_daemon" 200 20 2>&1); then ok "epoll_daemon: $out"; else bad "epoll_daemon: $out"; fi

# libuv: the same chains driven from uv_run, pings queued from a libuv timer.
if out=$("$build/example_libuv_daemon" 100 20 2>&1); then ok "libuv_daemon: $out"; else bad "libuv_daemon: $out"; fi

# Export in bounded memory: 1,000,000 rows of ~110 bytes (~110 MB of text)
# through a pipe, every row there, peak RSS under 32 MiB (buffered whole,
# the result alone would need more than 100 MiB).
# Under ASan freed memory sits in a quarantine (256 MiB by default) and would
# count as RSS: run without one, so the bound measures myring, not ASan.
tmp=$(mktemp)
if ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" "$build/example_export_table" "SELECT seq, REPEAT('x', 100) FROM seq_1_to_1000000" 2>"$tmp.err" |
   awk -F'\t' 'NR == 1 && $1 != 1 { bad = 1 } { n++; last = $1 } END { exit !(n == 1000000 && last == 1000000 && !bad) }'; then
    rss=$(sed -n 's/.*peak RSS \([0-9]*\) KiB.*/\1/p' "$tmp.err")
    if [[ -n $rss && $rss -lt 32768 ]]; then ok "export_table: 1M rows, peak RSS $rss KiB"; else bad "export_table: peak RSS '$rss' KiB: $(cat "$tmp.err")"; fi
else
    bad "export_table: rows missing or out of order: $(cat "$tmp.err")"
fi
rm -f "$tmp" "$tmp.err"

if out=$("$build/example_table_creator" 30 sync batch:3 batch:12 window:3 window:12 pipeline:1 pipeline:4 2>&1); then
    ok "table_creator all modes"
else
    bad "table_creator: $out"
fi
echo "$out"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
