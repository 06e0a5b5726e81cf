#!/bin/sh
# perf/tls_qps.sh -- SELECT 1 QPS over TLS against plaintext, interleaved
# (plain, TLS, plain, TLS, ... per shape) so that the machine's load hits
# both alike; prints each run's CSV line (perf/qps.c's columns, with the
# server's CPU per query when the mariadbd pid is known) and the median
# TLS/plain ratio per shape.
# Needs the sandbox's env (tests/sandbox.sh env). Usage:
#   perf/tls_qps.sh [build dir] [reps] [seconds] [shapes: "CONNSxDEPTH ..."]
B=${1:-build}
REPS=${2:-5}
SECS=${3:-2}
SHAPES=${4:-"64x1 64x8 1x1"}
if [ -z "$PERF_SERVER_PID" ] && [ -n "$MYR_SANDBOX_DIR" ] && [ -f "$MYR_SANDBOX_DIR/mariadbd.pid" ]; then
    PERF_SERVER_PID=$(cat "$MYR_SANDBOX_DIR/mariadbd.pid")
    export PERF_SERVER_PID
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
echo "tls,shape,$("$B/perf_qps" --header --count 0 --conns 1 2>/dev/null | head -1)"
for rep in $(seq 1 "$REPS"); do
    for shape in $SHAPES; do
        conns=${shape%x*}
        depth=${shape#*x}
        for tls in 0 1; do
            line=$(env PERF_TLS=$tls "$B/perf_qps" --conns "$conns" --depth "$depth" --query select1 \
                       --seconds "$SECS" --warmup 0.5 | tail -1)
            echo "$tls,$shape,$line" | tee -a "$tmp"
        done
    done
done
# Ratio per rep (TLS qps / the plain run just before it), then the median.
awk -F, '
    $1 == 0 { plain[$2] = $10 }
    $1 == 1 && plain[$2] > 0 { r[$2, ++n[$2]] = $10 / plain[$2] }
    END {
        for (s in n) {
            m = n[s]
            for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
                if (r[s, j] < r[s, i]) { x = r[s, i]; r[s, i] = r[s, j]; r[s, j] = x }
            med = m % 2 ? r[s, (m + 1) / 2] : (r[s, m / 2] + r[s, m / 2 + 1]) / 2
            printf "%s: TLS/plain QPS median %.2f [%.2f-%.2f] over %d pairs\n", s, med, r[s, 1], r[s, m], m
        }
    }' "$tmp"
