#!/bin/sh
# perf/tls_enters.sh -- io_uring_enter calls per SELECT 1 at 1 connection,
# depth 1, plaintext and TLS: perf stat over --count N queries minus the
# same program with --count 0 (connect + close). Needs the sandbox's env
# (tests/sandbox.sh env) and perf with the syscalls tracepoints.
# Usage: perf/tls_enters.sh [build dir] [N]
B=${1:-build}
N=${2:-20000}
count() {   # $1: PERF_TLS value, $2: query count
    perf stat -x, -e syscalls:sys_enter_io_uring_enter -o /tmp/tls_enters.$$ \
        env PERF_TLS="$1" "$B/perf_qps" --conns 1 --depth 1 --query select1 --count "$2" >/dev/null || exit 1
    awk -F, '/io_uring_enter/ {print $1}' /tmp/tls_enters.$$
    rm -f /tmp/tls_enters.$$
}
for tls in 0 1; do
    n1=$(count $tls "$N")
    n0=$(count $tls 0)
    case "$n1$n0" in ''|*[!0-9]*) echo "tls=$tls: a run failed" >&2; exit 1;; esac
    echo "tls=$tls queries=$N io_uring_enter=$((n1 - n0)) per_query=$(awk "BEGIN{printf \"%.3f\", ($n1-$n0)/$N}")"
done
