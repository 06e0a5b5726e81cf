#!/usr/bin/env bash
# perf/run.sh [quick|full] -- myring against its peers, side by side.
#
#   quick   (default) fewer sizes and shorter runs; under 5 minutes
#   full    every row of the issue: 1..1024 connections, the 511-table creator,
#           callgrind, 10,000 connections, 1,000,000-row result
#
# Installs what is missing (Debian packages: libmariadb-dev sysbench gnuplot-nox
# valgrind strace; Node's `mariadb` connector into perf/node/ when npm works),
# builds (build/, or $PERF_BUILD_DIR), starts the MariaDB sandbox if it is not
# running (and stops it again at the end only then; $MYR_SANDBOX_DIR picks
# another sandbox), runs every benchmark with the contenders interleaved and
# repeated ($PERF_REPS, default 3), prints the comparison table and writes
# perf/results/<date>/*.csv, summary.md and chart.png.
#
# Environment: PERF_BUILD_DIR, PERF_REPS, PERF_ONLY="qps creator ..." (run only
# these parts: qps sysbench syscalls creator minisrv callgrind scale big
# stream stmt fairness tls loops), PERF_QPS_CONNS="64" / PERF_QPS_QUERIES="select1" / PERF_SECS=3
# (override the qps sizes), PERF_FAIR_CONNS="64 1024" / PERF_FAIR_SECS=5
# (override the fairness sizes), PERF_NO_INSTALL=1 (never call apt-get/npm),
# PERF_PUBLISH=1 (also write the summary to perf/RESULTS.md and the chart to
# perf/RESULTS.png, to commit).
set -euo pipefail

# The whole script is one function, parsed before it runs: editing this file
# while a run is going on cannot derail that run.
main() {
REPO=$(cd "$(dirname "$0")/.." && pwd)
PERF=$REPO/perf
MODE=${1:-quick}
case "$MODE" in quick|full) ;; *) echo "usage: $0 [quick|full]" >&2; exit 2 ;; esac
BUILD=${PERF_BUILD_DIR:-$REPO/build}
REPS=${PERF_REPS:-3}
STAMP=$(date +%Y-%m-%d_%H%M%S)
OUT=$PERF/results/$STAMP
PEERS=$BUILD/perf-peers
mkdir -p "$OUT" "$PEERS"
T_START=$(date +%s)

log() { printf '[%4ds] %s\n' "$(( $(date +%s) - T_START ))" "$*" >&2; }
want() { [ -z "${PERF_ONLY:-}" ] || [[ " $PERF_ONLY " == *" $1 "* ]]; }

# --------------------------------------------------------------- packages
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
MISSING=()
for p in libmariadb-dev sysbench gnuplot-nox valgrind strace python3; do
  installed "$p" || MISSING+=("$p")
done
if [ ${#MISSING[@]} -gt 0 ]; then
  if [ "${PERF_NO_INSTALL:-0}" = 1 ]; then
    log "missing packages (not installing: PERF_NO_INSTALL=1): ${MISSING[*]}"
  else
    log "installing: ${MISSING[*]}"
    SUDO=(); [ "$(id -u)" -ne 0 ] && SUDO=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq >/dev/null
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null
  fi
fi
have() { command -v "$1" >/dev/null 2>&1; }

# Node's mariadb connector (optional).
NODE_OK=0
if have node && [ -f "$PERF/node/package.json" ]; then
  if [ -d "$PERF/node/node_modules/mariadb" ]; then
    NODE_OK=1
  elif [ "${PERF_NO_INSTALL:-0}" != 1 ] && have npm; then
    if (cd "$PERF/node" && npm install --no-audit --no-fund --silent >/dev/null 2>&1); then
      NODE_OK=1
    else
      log "note: npm install of the mariadb connector failed: Node is skipped"
    fi
  fi
fi
[ $NODE_OK = 1 ] || log "note: Node's mariadb connector is not available: Node is skipped"

# ------------------------------------------------------------------ build
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  if [ "$BUILD" = "$REPO/build" ]; then
    "$REPO/scripts/setup.sh"
  else
    cmake -S "$REPO" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DMYR_TESTS=OFF >/dev/null
  fi
fi
log "building in $BUILD"
cmake -S "$REPO" -B "$BUILD" >/dev/null
TARGETS=(example_table_creator)
for src in "$PERF"/*.c; do TARGETS+=("perf_$(basename "$src" .c)"); done
cmake --build "$BUILD" -j2 --target "${TARGETS[@]}" >"$OUT/build.log" 2>&1 \
  || { tail -30 "$OUT/build.log" >&2; echo "perf: build failed" >&2; exit 1; }
MDB_FLAGS=$(pkg-config --cflags --libs libmariadb)
for src in "$PERF"/peers/*.c; do
  # shellcheck disable=SC2086
  gcc -O2 -g -Wall -Wextra -Werror -o "$PEERS/$(basename "$src" .c)" "$src" $MDB_FLAGS -lpthread \
    || { echo "perf: building $src failed" >&2; exit 1; }
done

# ----------------------------------------------------------------- sandbox
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 20000 2>/dev/null || true
SANDBOX=$REPO/tests/sandbox.sh
STARTED_SANDBOX=0
cleanup() {
  if [ -n "${MINISRV_PID:-}" ]; then kill "$MINISRV_PID" 2>/dev/null || true; fi
  if [ $STARTED_SANDBOX = 1 ]; then "$SANDBOX" stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! "$SANDBOX" status >/dev/null 2>&1; then
  log "starting the sandbox"
  "$SANDBOX" start >/dev/null 2>&1 || { "$SANDBOX" start; exit 1; }
  STARTED_SANDBOX=1
fi
eval "$("$SANDBOX" env)"
export PERF_DB=perf
# The server's pid: the programs report its CPU per query over their window.
SANDBOX_PID=$(tr -dc '0-9' < "$MYR_SANDBOX_DIR/mariadbd.pid" 2>/dev/null || true)
export PERF_SERVER_PID=$SANDBOX_PID
CNF=$("$SANDBOX" cnf)
rootsql() { mariadb --defaults-file="$CNF" --batch --skip-column-names -e "$1"; }
rootsql "SET GLOBAL max_connections = GREATEST(@@max_connections, 3000)"
rootsql "CREATE DATABASE IF NOT EXISTS perf"
if [ "$(rootsql "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='perf' AND table_name='sbtest1'")" = 0 ] \
   || [ "$(rootsql "SELECT COUNT(*) FROM perf.sbtest1")" != 10000 ]; then
  log "creating perf.sbtest1 (10,000 rows, sysbench's layout)"
  rootsql "USE perf; DROP TABLE IF EXISTS perf.sbtest1;
    CREATE TABLE perf.sbtest1 (id INT NOT NULL AUTO_INCREMENT, k INT NOT NULL DEFAULT 0,
      c CHAR(120) NOT NULL DEFAULT '', pad CHAR(60) NOT NULL DEFAULT '', PRIMARY KEY (id), KEY k_1 (k));
    INSERT INTO perf.sbtest1 (id, k, c, pad)
      SELECT seq, (seq * 7919) % 10000, LEFT(REPEAT(CONCAT(LPAD(seq * 31, 11, '0'), '-'), 10), 119),
             LEFT(REPEAT(CONCAT(LPAD(seq * 17, 11, '0'), '-'), 5), 59) FROM seq_1_to_10000;"
fi
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "mode: $MODE, repetitions: $REPS"
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "kernel: $(uname -r)"
  echo "server: MariaDB $(rootsql 'SELECT VERSION()') (sandbox, 127.0.0.1 TCP)"
  echo "libmariadb: $(dpkg-query -W -f='${Version}' libmariadb3 2>/dev/null || echo '?')"
  echo "sysbench: $(sysbench --version 2>/dev/null || echo none)"
  [ $NODE_OK = 1 ] && echo "node: $(node --version), mariadb connector $(node -p "require('$PERF/node/node_modules/mariadb/package.json').version" 2>/dev/null)"
  echo "build: ${BUILD#"$REPO"/} ($(grep -m1 CMAKE_BUILD_TYPE: "$BUILD/CMakeCache.txt" | cut -d= -f2))"
  echo "commit: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
} > "$OUT/machine.txt"

# ---------------------------------------------------------------- settings
if [ "$MODE" = full ]; then
  QPS_CONNS="1 8 64 256 1024"; QPS_QUERIES="select1 point"; SECS=3; WARM=0.5; SB_SECS=3
  CREATOR_TABLES=511; SYSCALL_COUNT=20000
else
  QPS_CONNS="1 64"; QPS_QUERIES="select1 point"; SECS=1.2; WARM=0.2; SB_SECS=1
  CREATOR_TABLES=100; SYSCALL_COUNT=5000
fi
QPS_CONNS=${PERF_QPS_CONNS:-$QPS_CONNS}; QPS_QUERIES=${PERF_QPS_QUERIES:-$QPS_QUERIES}; SECS=${PERF_SECS:-$SECS}
QPS=$BUILD/perf_qps
QPS_HEADER=impl,mode,query,conns,depth,seconds,queries,qps,p50_us,p99_us,cpu_us_per_q,usr_us_per_q,sys_us_per_q,maxrss_kib,server_cpu_us_per_q
MDB=$PEERS/qps_mariadb

# One throughput run; prints "<contender>,<rep>,<bench CSV line>" to $2.
# $1 contender name, $2 csv file, $3 rep, rest: command.
run_one() {
  local who=$1 csv=$2 rep=$3 line; shift 3
  if line=$("$@" 2>>"$OUT/errors.log" | tail -1) && [ -n "$line" ]; then
    echo "$who,$rep,$line" >> "$csv"
  else
    echo "FAILED: $who rep $rep: $*" >> "$OUT/errors.log"
    log "  failed: $who ($*)"
  fi
}

# sysbench as a contender: same CSV shape (p50 not reported by sysbench: 0;
# client and server CPU over the whole run, connects included).
sysbench_run() {   # $1 query $2 conns $3 seconds
  local q=$1 n=$2 s=$3 script out tf
  if [ "$q" = select1 ]; then script=$PERF/peers/sysbench_select1.lua; else script=oltp_point_select; fi
  tf=$(mktemp)
  local s0 s1
  s0=$(awk '{print $14 + $15}' "/proc/$PERF_SERVER_PID/stat" 2>/dev/null || echo -1)
  out=$(/usr/bin/time -f '%U %S' -o "$tf" sysbench "$script" --db-driver=mysql \
        --mysql-host="$MYR_TEST_HOST" --mysql-port="$MYR_TEST_PORT" --mysql-user="$MYR_TEST_USER" \
        --mysql-password="$MYR_TEST_PASSWORD" --mysql-db=perf --tables=1 --table-size=10000 \
        --db-ps-mode=disable --threads="$n" --time="$s" --percentile=99 --rand-type=uniform run 2>&1) || { rm -f "$tf"; return 1; }
  s1=$(awk '{print $14 + $15}' "/proc/$PERF_SERVER_PID/stat" 2>/dev/null || echo -1)
  awk -v q="$q" -v n="$n" -v s="$s" -v cpu="$(cat "$tf")" -v s0="$s0" -v s1="$s1" -v hz="$(getconf CLK_TCK)" '
    /queries:/ && /per sec/ { total=$2 }
    /total time:/ { t=$3; sub("s","",t) }
    /99th percentile:/ { p99=$3 }
    END { split(cpu, c, " "); cq = total > 0 ? (c[1]+c[2])*1e6/total : 0
          srv = (s0 >= 0 && s1 >= 0 && total > 0) ? sprintf("%.2f", (s1 - s0) / hz * 1e6 / total) : ""
          printf "sysbench,threads,%s,%d,1,%.3f,%d,%.0f,0,%.1f,%.2f,%.2f,%.2f,0,%s\n", q, n, t, total, total/t, p99*1000, cq, c[1]*1e6/total, c[2]*1e6/total, srv }' <<<"$out"
  rm -f "$tf"
}

node_run() {   # $1 query $2 conns $3 depth $4 seconds
  node "$PERF/node/qps.js" --query "$1" --conns "$2" --depth "$3" --seconds "$4" --warmup "$WARM"
}

# ------------------------------------------------------------- 1. qps
if want qps; then
  CSV=$OUT/qps.csv
  echo "contender,rep,$QPS_HEADER" > "$CSV"
  log "small-query throughput: conns {$QPS_CONNS} x {$QPS_QUERIES}, ${SECS}s runs, $REPS reps"
  for rep in $(seq 1 "$REPS"); do
    for q in $QPS_QUERIES; do
      for n in $QPS_CONNS; do
        common=(--conns "$n" --query "$q" --seconds "$SECS" --warmup "$WARM")
        run_one myring_d1 "$CSV" "$rep" "$QPS" "${common[@]}" --depth 1
        run_one myring_d8 "$CSV" "$rep" "$QPS" "${common[@]}" --depth 8
        run_one mdb_block "$CSV" "$rep" "$MDB" "${common[@]}" --mode block
        run_one mdb_nonblock "$CSV" "$rep" "$MDB" "${common[@]}" --mode nonblock
        if want sysbench || [ -z "${PERF_ONLY:-}" ]; then
          run_one sysbench "$CSV" "$rep" sysbench_run "$q" "$n" "$SB_SECS"
        fi
        if [ $NODE_OK = 1 ]; then
          run_one node_d8 "$CSV" "$rep" node_run "$q" "$n" 8 "$SECS"
        fi
      done
    done
    log "  rep $rep done"
  done
fi

# ------------------------------------------------------- 2. syscalls
# strace -c -f over a fixed number of queries minus the same program with 0
# queries (connect + close); and, where perf can read the raw_syscalls
# tracepoint, the same difference counted by the kernel without strace.
syscalls_of() {   # prints "total io_uring_enter" calls for the command
  local tf; tf=$(mktemp)
  strace -c -f -o "$tf" "$@" >/dev/null 2>>"$OUT/errors.log" || true
  awk '$NF=="total" {t=$4} $NF=="io_uring_enter" {u=$4} END {printf "%d %d\n", t, u}' "$tf"
  rm -f "$tf"
}
perfcount_of() {
  local tf; tf=$(mktemp)
  if perf stat -x, -e raw_syscalls:sys_enter -o "$tf" "$@" >/dev/null 2>>"$OUT/errors.log"; then
    awk -F, '/raw_syscalls/ {print $1}' "$tf"
  else
    echo -1
  fi
  rm -f "$tf"
}
PERF_OK=0
if have perf && perf stat -x, -e raw_syscalls:sys_enter -o /dev/null true >/dev/null 2>&1; then PERF_OK=1; fi
if want syscalls; then
  CSV=$OUT/syscalls.csv
  echo "contender,query,conns,queries,strace_per_q,strace_uring_enter_per_q,perf_per_q" > "$CSV"
  log "syscalls per query ($SYSCALL_COUNT queries minus a 0-query run; strace -c -f$( [ $PERF_OK = 1 ] && echo ' and perf stat'))"
  for n in 1 64; do
    for c in myring_d1 myring_d8 mdb_block mdb_nonblock; do
      case $c in
        myring_d1) cmd=("$QPS" --depth 1) ;;
        myring_d8) cmd=("$QPS" --depth 8) ;;
        mdb_block) cmd=("$MDB" --mode block) ;;
        mdb_nonblock) cmd=("$MDB" --mode nonblock) ;;
      esac
      cmd+=(--conns "$n" --query select1 --nolat)
      read -r t1 u1 < <(syscalls_of "${cmd[@]}" --count "$SYSCALL_COUNT")
      read -r t0 u0 < <(syscalls_of "${cmd[@]}" --count 0)
      p1=-1; p0=0
      if [ $PERF_OK = 1 ]; then
        p1=$(perfcount_of "${cmd[@]}" --count "$SYSCALL_COUNT")
        p0=$(perfcount_of "${cmd[@]}" --count 0)
      fi
      awk -v c="$c" -v n="$n" -v q="$SYSCALL_COUNT" -v t1="$t1" -v t0="$t0" -v u1="$u1" -v u0="$u0" \
          -v p1="$p1" -v p0="$p0" 'BEGIN { printf "%s,select1,%d,%d,%.3f,%.3f,%s\n", c, n, q,
            (t1-t0)/q, (u1-u0)/q, (p1 < 0 ? "" : sprintf("%.3f", (p1-p0)/q)) }' >> "$CSV"
    done
  done
fi

# ------------------------------------------------ 3. table creator
if want creator; then
  CSV=$OUT/creator.csv
  echo "rep,impl,mode,tables,seconds" > "$CSV"
  MYR_MODES="sync batch:3 batch:12 window:3 window:12 window:32 pipeline:1 pipeline:12"
  MDB_MODES="sync batch:3 batch:12 window:3 window:12 window:32"
  log "table creator: $CREATOR_TABLES tables, modes {$MYR_MODES}, $REPS reps"
  for rep in $(seq 1 "$REPS"); do
    for m in $MYR_MODES; do
      if s=$("$BUILD/example_table_creator" "$CREATOR_TABLES" "$m" 2>>"$OUT/errors.log" \
             | awk -v m="$m" '$1==m {print $2}'); [ -n "$s" ]; then
        echo "$rep,myring,$m,$CREATOR_TABLES,$s" >> "$CSV"
      else
        log "  failed: myring creator $m"
      fi
      if [[ " $MDB_MODES " == *" $m "* ]]; then
        if s=$("$PEERS/creator_mariadb" "$CREATOR_TABLES" "$m" 2>>"$OUT/errors.log" | cut -d, -f4); [ -n "$s" ]; then
          echo "$rep,libmariadb,$m,$CREATOR_TABLES,$s" >> "$CSV"
        else
          log "  failed: libmariadb creator $m"
        fi
      fi
    done
  done
fi

# ------------------------------------------- 4. client-bound (minisrv)
start_minisrv() {
  local f; f=$(mktemp)
  "$BUILD/perf_minisrv" --port 0 --max-seconds 3000 > "$f" &
  MINISRV_PID=$!
  for _ in $(seq 1 50); do grep -q listening "$f" && break; sleep 0.1; done
  MINISRV_PORT=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$f")
  rm -f "$f"
  [ -n "$MINISRV_PORT" ]
}
stop_minisrv() { [ -n "${MINISRV_PID:-}" ] && kill "$MINISRV_PID" 2>/dev/null; wait "$MINISRV_PID" 2>/dev/null || true; MINISRV_PID=""; }
if want minisrv; then
  if [ "$MODE" = full ]; then SRV_CONNS="1 64 256"; SRV_QUERIES="select1 rows100"; else SRV_CONNS="64"; SRV_QUERIES="select1"; fi
  if start_minisrv; then
    CSV=$OUT/minisrv.csv
    echo "contender,rep,$QPS_HEADER" > "$CSV"
    log "client-bound against perf/minisrv (port $MINISRV_PORT): conns {$SRV_CONNS} x {$SRV_QUERIES}, $REPS reps"
    for rep in $(seq 1 "$REPS"); do
      for q in $SRV_QUERIES; do
        for n in $SRV_CONNS; do
          common=(--conns "$n" --query "$q" --seconds "$SECS" --warmup "$WARM")
          run_one myring_d1 "$CSV" "$rep" env MYR_TEST_PORT="$MINISRV_PORT" PERF_SERVER_PID="$MINISRV_PID" "$QPS" "${common[@]}" --depth 1
          run_one myring_d8 "$CSV" "$rep" env MYR_TEST_PORT="$MINISRV_PORT" PERF_SERVER_PID="$MINISRV_PID" "$QPS" "${common[@]}" --depth 8
          run_one mdb_block "$CSV" "$rep" env MYR_TEST_PORT="$MINISRV_PORT" PERF_SERVER_PID="$MINISRV_PID" "$MDB" "${common[@]}" --mode block
          run_one mdb_nonblock "$CSV" "$rep" env MYR_TEST_PORT="$MINISRV_PORT" PERF_SERVER_PID="$MINISRV_PID" "$MDB" "${common[@]}" --mode nonblock
          if [ $NODE_OK = 1 ]; then
            run_one node_d8 "$CSV" "$rep" env MYR_TEST_PORT="$MINISRV_PORT" PERF_SERVER_PID="$MINISRV_PID" node "$PERF/node/qps.js" \
              --query "$q" --conns "$n" --depth 8 --seconds "$SECS" --warmup "$WARM"
          fi
        done
      done
    done
    stop_minisrv
  else
    log "  minisrv did not start: skipped"
  fi
fi

# ------------------------------------------------------ 5. callgrind
if want callgrind && have valgrind; then
  log "callgrind: instructions per query and per row"
  PERF_BUILD_DIR=$BUILD "$PERF/callgrind.sh" "$OUT" >/dev/null 2>>"$OUT/errors.log" || log "  callgrind.sh failed"
fi

# ---------------------------------------------------- 6. scale / memory
if want scale; then
  CSV=$OUT/scale.csv
  echo "rep,impl,server,conns,connect_s,rss_before_kib,rss_after_kib,maxrss_kib,kib_per_conn,heap_bytes_per_conn" > "$CSV"
  if [ "$MODE" = full ]; then BIG_N=10000; else BIG_N=1000; fi
  SCALE_SERVER=mariadb
  if [ "$BIG_N" -gt 1000 ]; then
    rootsql "SET GLOBAL max_connections = GREATEST(@@max_connections, $((BIG_N + 1000)))"
    if [ "$(rootsql 'SELECT @@open_files_limit')" -lt $((BIG_N + 500)) ] || [ "$(ulimit -n)" -lt $((BIG_N + 500)) ]; then
      log "  the sandbox or this shell cannot open $BIG_N connections (open_files_limit $(rootsql 'SELECT @@open_files_limit'), ulimit -n $(ulimit -n)): using perf/minisrv"
      SCALE_SERVER=minisrv
    fi
  fi
  log "scale: myring $BIG_N connections ($SCALE_SERVER), libmariadb 1000, $REPS reps"
  start_minisrv || true
  for rep in $(seq 1 "$REPS"); do
    runs=("myring mariadb 1000" "libmariadb mariadb 1000" "myring $SCALE_SERVER $BIG_N")
    [ "$MODE" = full ] && [ -n "${MINISRV_PORT:-}" ] && runs+=("myring minisrv $BIG_N" "libmariadb minisrv 1000")
    for r in "${runs[@]}"; do
      read -r impl srv n <<<"$r"
      if [ "$srv" = minisrv ]; then port=$MINISRV_PORT; else port=$MYR_TEST_PORT; fi
      if [ "$impl" = myring ]; then prog=$BUILD/perf_scale; else prog=$PEERS/scale_mariadb; fi
      if line=$(MYR_TEST_PORT=$port "$prog" --conns "$n" --server "$srv" 2>>"$OUT/errors.log" | tail -1) && [ -n "$line" ]; then
        echo "$rep,$line" >> "$CSV"
      else
        log "  failed: $impl $srv $n"
      fi
      sleep 1   # let the server reap the closed connections
    done
  done
  stop_minisrv
fi

# ------------------------------------------------------ 7. big result
if want big; then
  CSV=$OUT/big.csv
  echo "rep,impl,mode,rows,mb,seconds,mb_per_s,cpu_s,maxrss_kib" > "$CSV"
  log "large result: 1,000,000 rows, $REPS reps"
  for rep in $(seq 1 "$REPS"); do
    for cmd in "$BUILD/perf_bigresult" "$PEERS/bigresult_mariadb --mode store" "$PEERS/bigresult_mariadb --mode use"; do
      # shellcheck disable=SC2086
      if line=$($cmd --rows 1000000 2>>"$OUT/errors.log" | tail -1) && [ -n "$line" ]; then
        echo "$rep,$line" >> "$CSV"
      else
        log "  failed: $cmd"
      fi
    done
  done
fi

# ------------------------------------------------- 7b. streaming rows
# The same 1,000,000 rows through myr_query_stream and buffered by myr_query,
# each in its own process (peak RSS is per process), interleaved; plain TCP,
# and streamed over TLS; then as a prepared statement's binary rows
# (myr_stmt_execute_stream, myr_stmt_execute). Peers in the same repetitions: libmariadb
# (mysql_use_result / store_result, and a prepared statement fetched row by
# row or stored) and Node (queryStream / query, executeStream / execute).
if want stream; then
  CSV=$OUT/stream.csv
  echo "rep,impl,mode,rows,mb,seconds,rows_per_s,mb_per_s,cpu_s,rss_before_kib,maxrss_kib,growth_kib" > "$CSV"
  log "streaming rows: 1,000,000 rows streamed vs buffered, $REPS reps"
  stream_run() {   # $1 what, rest: command
    local what=$1 line; shift
    if line=$("$@" --rows 1000000 2>>"$OUT/errors.log" | tail -1) && [ -n "$line" ]; then
      echo "$rep,$line" >> "$CSV"
    else
      log "  failed: $what"
    fi
  }
  for rep in $(seq 1 "$REPS"); do
    for mode in "stream" "buffered" "stream --tls" "stmt-stream" "stmt-buffered"; do
      # shellcheck disable=SC2086
      stream_run "perf_stream --mode $mode" "$BUILD/perf_stream" --mode $mode
    done
    for mode in stream buffered stmt-stream stmt-buffered; do
      stream_run "stream_mariadb --mode $mode" "$PEERS/stream_mariadb" --mode "$mode"
      if [ $NODE_OK = 1 ]; then
        stream_run "node stream.js --mode $mode" node "$PERF/node/stream.js" --mode "$mode"
      fi
    done
  done
fi

# ------------------------------------------- 7c. prepared statements
# perf/stmt_bench.h's statements (named like MariaDB Connector/C's benchmark
# suite) at 1 connection: text vs binary protocol, prepare+execute+close per
# operation, and a batch insert of 100 rows as one multi-row INSERT, 100
# executes or one bulk execute. myring at depth 1 and pipelined 8 deep,
# libmariadb (blocking: it cannot pipeline), Node (full: depth 1 and 8;
# quick: 8), interleaved in each repetition.
if want stmt; then
  if [ "$MODE" = full ]; then ST_SECS=3; ST_WARM=0.5; ST_NODE_DEPTHS="1 8"; else ST_SECS=1; ST_WARM=0.3; ST_NODE_DEPTHS="8"; fi
  ST_SECS=${PERF_SECS:-$ST_SECS}
  rootsql "USE perf; CREATE TABLE IF NOT EXISTS test100 ($(seq -s, -f 'i%g INT' 1 100));
    INSERT INTO test100 SELECT $(seq -s, 1 100) FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM test100)"
  # BLACKHOLE (rows parsed, then dropped) as in MariaDB's suite; InnoDB emptied before each run if the engine is missing.
  rootsql "INSTALL SONAME 'ha_blackhole'" 2>/dev/null || true
  ST_ENGINE=BLACKHOLE
  [ "$(rootsql "SELECT COUNT(*) FROM information_schema.engines WHERE engine='BLACKHOLE' AND support IN ('YES','DEFAULT')")" = 1 ] || ST_ENGINE=InnoDB
  rootsql "USE perf; DROP TABLE IF EXISTS perfTestTextBatch; CREATE TABLE perfTestTextBatch (id INT NOT NULL AUTO_INCREMENT,
    t0 TEXT, PRIMARY KEY (id)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ENGINE=$ST_ENGINE"
  CSV=$OUT/stmt.csv
  echo "contender,rep,$QPS_HEADER" > "$CSV"
  echo "$ST_ENGINE" > "$OUT/stmt_engine.txt"
  log "prepared statements: 1 connection, ${ST_SECS}s runs, batch table $ST_ENGINE, $REPS reps"
  for rep in $(seq 1 "$REPS"); do
    for q in do1 select1 rows1000 cols100 insert100; do
      if [ $q = insert100 ]; then modes="text loop bulk"; else modes="text binary prepare cached direct"; fi
      for m in $modes; do
        [ $ST_ENGINE = InnoDB ] && [ $q = insert100 ] && rootsql "TRUNCATE TABLE perf.perfTestTextBatch"
        common=(--query "$q" --mode "$m" --seconds "$ST_SECS" --warmup "$ST_WARM")
        run_one myring_d1 "$CSV" "$rep" "$BUILD/perf_stmt" "${common[@]}" --depth 1
        run_one myring_d8 "$CSV" "$rep" "$BUILD/perf_stmt" "${common[@]}" --depth 8
        if [ "$m" != cached ]; then   # libmariadb has no statement cache
          run_one mdb_block "$CSV" "$rep" "$PEERS/stmt_mariadb" "${common[@]}"
        fi
        if [ $NODE_OK = 1 ]; then
          for d in $ST_NODE_DEPTHS; do
            run_one "node_d$d" "$CSV" "$rep" node "$PERF/node/stmt.js" "${common[@]}" --depth "$d"
          done
        fi
      done
    done
    log "  rep $rep done"
  done
fi

# ------------------------------------------------- 8. fairness
# N connections x 8 deep, the application refilling one query per completion:
# per-connection completions, tail latency and the server threads' context
# switches. myring with MYR_OPT_PIPELINE_REFILL 0 (window policy) and -1
# (eager), myring eager with the application batching its refills (the window
# policy done above the library: a reference), libmariadb non-blocking (one in
# flight: it cannot pipeline), Node.
if want fairness; then
  if [ "$MODE" = full ]; then FAIR_CONNS="64 1024"; FAIR_SECS=5; FAIR_WARM=1; else FAIR_CONNS="64"; FAIR_SECS=2; FAIR_WARM=0.5; fi
  FAIR_CONNS=${PERF_FAIR_CONNS:-$FAIR_CONNS}; FAIR_SECS=${PERF_FAIR_SECS:-$FAIR_SECS}
  CSV=$OUT/fairness.csv
  echo "contender,rep,impl,mode,refill,conns,depth,seconds,queries,qps,conn_min,conn_median,conn_max,p50_us,p99_us,p999_us,max_us,cpu_us_per_q,server_cpu_us_per_q,server_vcsw_per_s,server_ivcsw_per_s" > "$CSV"
  log "fairness: conns {$FAIR_CONNS} x 8 deep, refill one per completion, ${FAIR_SECS}s runs, $REPS reps"
  for rep in $(seq 1 "$REPS"); do
    for n in $FAIR_CONNS; do
      common=(--conns "$n" --seconds "$FAIR_SECS" --warmup "$FAIR_WARM")
      runs=(myring_window myring_eager myring_appbatch mdb_fair)
      if [ $NODE_OK = 1 ]; then runs+=(node_fair); fi
      # Alternate which policy goes first so neither always runs on a fresher server.
      if [ $((rep % 2)) = 0 ]; then runs=(myring_eager myring_window "${runs[@]:2}"); fi
      for c in "${runs[@]}"; do
        case $c in
          myring_window) run_one "$c" "$CSV" "$rep" "$BUILD/perf_fairness" "${common[@]}" --depth 8 --refill 0 ;;
          myring_eager) run_one "$c" "$CSV" "$rep" "$BUILD/perf_fairness" "${common[@]}" --depth 8 --refill -1 ;;
          myring_appbatch) run_one "$c" "$CSV" "$rep" "$BUILD/perf_fairness" "${common[@]}" --depth 8 --refill -1 --app-batch ;;
          mdb_fair) run_one "$c" "$CSV" "$rep" "$PEERS/fairness_mariadb" "${common[@]}" ;;
          node_fair) run_one "$c" "$CSV" "$rep" node "$PERF/node/fairness.js" "${common[@]}" --depth 8 ;;
        esac
        if [ "$n" -gt 256 ]; then sleep 1; fi   # let the server reap the closed connections' threads
      done
    done
    log "  rep $rep done"
  done
fi

# ----------------------------------------------------------- 8b. loops
# One loop per thread: 1, 2 and 4 loops on their own threads, 32 connections
# each, SELECT 1 8 deep, against perf/minisrv (one server thread: the client
# is the bottleneck while it has a core to itself) and the sandbox.
# Efficiency = QPS(L) / (L x QPS(1)); this machine has $(nproc) cores, shared
# with the server.
if want loops; then
  CSV=$OUT/loops.csv
  echo "rep,server,impl,loops,conns_per_loop,depth,query,seconds,queries,qps,qps_loop_min,qps_loop_max,cpu_us_per_q" > "$CSV"
  log "loops: 1, 2, 4 loops x 32 connections x 8 deep, minisrv and the sandbox, $REPS reps"
  start_minisrv || true
  for rep in $(seq 1 "$REPS"); do
    for srv in minisrv mariadb; do
      if [ "$srv" = minisrv ]; then [ -n "${MINISRV_PORT:-}" ] || continue; port=$MINISRV_PORT; else port=$MYR_TEST_PORT; fi
      for L in 1 2 4; do
        if line=$(MYR_TEST_PORT=$port "$BUILD/perf_loops" --loops "$L" --conns 32 --depth 8 --seconds "$SECS" --warmup "$WARM" 2>>"$OUT/errors.log" | tail -1) && [ -n "$line" ]; then
          echo "$rep,$srv,$line" >> "$CSV"
        else
          log "  failed: $L loops on $srv"
        fi
      done
    done
  done
  stop_minisrv
fi

# ------------------------------------------------------------- 9. TLS
# Connection storms (N connections opened at once on one thread) without TLS,
# with full TLS handshakes and (myring) resumed ones; libmariadb non-blocking
# with TLS required, given the sandbox's CA file (without one it loads the
# system's CA store for every connection: ~20 ms of CPU each). Then SELECT 1
# over TLS at 64 connections, depth 1 and 8, against the same in plaintext.
if want tls; then
  if [ "$MODE" = full ]; then TLS_CONNS=1000; TLS_ROUNDS=3; else TLS_CONNS=1000; TLS_ROUNDS=1; fi
  TLS_CONNS=${PERF_TLS_CONNS:-$TLS_CONNS}
  CSV=$OUT/tls.csv
  echo "rep,impl,mode,conns,rounds,seconds,connects_per_s,resumed,cpu_us_per_conn,server_cpu_us_per_conn" > "$CSV"
  log "TLS: $TLS_CONNS connects at once x $TLS_ROUNDS rounds (plain, full, resumed), $REPS reps"
  for rep in $(seq 1 "$REPS"); do
    for r in "myring plain" "libmariadb plain" "myring full" "libmariadb full" "myring resumed"; do
      read -r impl mode <<<"$r"
      if [ "$impl" = myring ]; then prog=("$BUILD/perf_tls_connect"); else prog=(env PERF_SSL_CA="$MYR_TEST_SSL_CA" "$PEERS/tls_connect_mariadb"); fi
      if line=$("${prog[@]}" --conns "$TLS_CONNS" --rounds "$TLS_ROUNDS" --mode "$mode" 2>>"$OUT/errors.log" | tail -1) && [ -n "$line" ]; then
        echo "$rep,$line" >> "$CSV"
      else
        log "  failed: $impl $mode"
      fi
      sleep 1   # let the server reap the closed connections' threads
    done
  done
  CSV=$OUT/tls_qps.csv
  echo "contender,rep,$QPS_HEADER" > "$CSV"
  for rep in $(seq 1 "$REPS"); do
    common=(--conns 64 --query select1 --seconds "$SECS" --warmup "$WARM")
    for d in 1 8; do
      run_one "myring_d$d" "$CSV" "$rep" "$QPS" "${common[@]}" --depth "$d"
      run_one "myring_d${d}_tls" "$CSV" "$rep" env PERF_TLS=1 "$QPS" "${common[@]}" --depth "$d"
    done
    run_one mdb_nonblock "$CSV" "$rep" "$MDB" "${common[@]}" --mode nonblock
    run_one mdb_nonblock_tls "$CSV" "$rep" env PERF_TLS=1 "$MDB" "${common[@]}" --mode nonblock
  done
fi

# ---------------------------------------------------------- summary
log "summary"
python3 "$PERF/summarize.py" "$OUT" > "$OUT/summary.md"
if have gnuplot && [ -f "$OUT/chart.gp" ]; then
  (cd "$OUT" && gnuplot chart.gp) 2>>"$OUT/errors.log" || log "gnuplot failed (see errors.log)"
fi
cat "$OUT/summary.md"
ln -sfn "$STAMP" "$PERF/results/latest"
if [ "${PERF_PUBLISH:-0}" = 1 ]; then   # the summary that is committed: perf/RESULTS.md + .png
  {
    echo "<!-- written by: PERF_PUBLISH=1 perf/run.sh $MODE -->"
    sed "s|^# myring performance: perf/run.sh results|# myring performance: \`perf/run.sh $MODE\` ($STAMP)|" "$OUT/summary.md"
    [ -f "$OUT/chart.png" ] && printf '\n![chart](RESULTS.png)\n\nChart: RESULTS.png (a copy of perf/results/%s/chart.png).\n' "$STAMP"
  } > "$PERF/RESULTS.md"
  [ -f "$OUT/chart.png" ] && cp "$OUT/chart.png" "$PERF/RESULTS.png"
fi
log "done: $OUT ($(( $(date +%s) - T_START )) s)"
}

main "$@"
