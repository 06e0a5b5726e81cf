#!/usr/bin/env bash
# perf/batch_wait.sh [REPS] -- batched waits (myr_loop_opts.batch_wait_us) on
# against off, interleaved, REPS times (default 3), against the sandbox:
#   1. syscalls per query (perf stat, the raw_syscalls and io_uring_enter
#      tracepoints; N queries minus a 0-query run) at 64 connections x 8 deep
#      and 1 x 1;
#   2. SELECT 1 QPS, p50, p99 at 1x1, 64x1, 64x8, 1x8 (perf_qps);
#   3. the fairness benchmark, window (--refill 0) and eager (--refill -1), at
#      64 and 1024 connections (perf_fairness).
# Prints CSV lines "part,setting,rep,..." and the load average before each
# repetition. Environment: PERF_BUILD_DIR (default build), BW_ON (the value
# tested, default 0 = the library default), BW_COUNT (queries for part 1,
# default 50000), BW_SECS (seconds per timed run, default 3), BW_PARTS
# ("syscalls qps fairness"). Needs the sandbox's environment
# (eval "$(tests/sandbox.sh env)").
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${PERF_BUILD_DIR:-$REPO/build}
REPS=${1:-3}
ON=${BW_ON:-0}
COUNT=${BW_COUNT:-50000}
SECS=${BW_SECS:-3}
PARTS=" ${BW_PARTS:-syscalls qps fairness} "
QPS=$BUILD/perf_qps
FAIR=$BUILD/perf_fairness

# perf stat's counts of every syscall and of io_uring_enter for the command.
count() {
  local tf; tf=$(mktemp)
  perf stat -x, -e raw_syscalls:sys_enter -e syscalls:sys_enter_io_uring_enter -o "$tf" "$@" >/dev/null
  awk -F, '/raw_syscalls/ {t=$1} /io_uring_enter/ {u=$1} END {print t, u}' "$tf"
  rm -f "$tf"
}

echo "part,setting,rep,shape,result..."
for rep in $(seq 1 "$REPS"); do
  echo "# rep $rep, load $(cut -d' ' -f1-3 /proc/loadavg)"
  for setting in off on; do
    bw=-1; [ $setting = on ] && bw=$ON
    export PERF_BATCH_WAIT_US=$bw
    if [[ $PARTS == *" syscalls "* ]]; then
      for shape in "64 8" "1 1"; do
        set -- $shape
        n=$COUNT; [ "$1" = 1 ] && n=$((COUNT / 2))
        read -r t1 u1 < <(count "$QPS" --conns "$1" --depth "$2" --query select1 --nolat --count "$n")
        read -r t0 u0 < <(count "$QPS" --conns "$1" --depth "$2" --query select1 --nolat --count 0)
        awk -v s=$setting -v r=$rep -v c="$1x$2" -v n=$n -v t1=$t1 -v t0=$t0 -v u1=$u1 -v u0=$u0 \
          'BEGIN { printf "syscalls,%s,%d,%s,per_q=%.3f,enter_per_q=%.3f\n", s, r, c, (t1-t0)/n, (u1-u0)/n }'
      done
    fi
    if [[ $PARTS == *" qps "* ]]; then
      for shape in "1 1" "64 1" "64 8" "1 8"; do
        set -- $shape
        line=$("$QPS" --conns "$1" --depth "$2" --query select1 --seconds "$SECS" --warmup 0.5)
        # impl,mode,query,conns,depth,seconds,queries,qps,p50_us,p99_us,...
        echo "$line" | awk -F, -v s=$setting -v r=$rep -v c="$1x$2" \
          '{ printf "qps,%s,%d,%s,qps=%d,p50_us=%s,p99_us=%s,cpu_us_per_q=%s\n", s, r, c, $8, $9, $10, $11 }'
      done
    fi
    if [[ $PARTS == *" fairness "* ]]; then
      for conns in 64 1024; do
        for refill in 0 -1; do
          echo "fairness,$setting,$rep,${conns}_refill$refill,$("$FAIR" --conns "$conns" --depth 8 --refill "$refill" --seconds "$SECS" --warmup 1)"
        done
      done
    fi
  done
done
