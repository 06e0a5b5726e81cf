#!/usr/bin/env bash
# tests/fuzz/run.sh [SECONDS] -- a bounded libFuzzer run of every target.
#
# Builds build-fuzz/ with clang (-DMYR_FUZZ=ON: the library with coverage,
# ASan and UBSan; one fuzz_<target> per tests/fuzz/fuzz_<target>.c), then runs
# each target for SECONDS (default 20, or MYR_FUZZ_SECONDS) starting from its
# checked-in corpus (tests/fuzz/corpus/<target>/, read only: new inputs go to
# build-fuzz/found/<target>/). Prints executions per target; exits non-zero
# if a target crashed, leaked, timed out or could not be built, naming the
# input that did it (build-fuzz/crashes/). A crash input belongs in the
# corpus as crash-<what> once the bug is fixed (the replay tests then keep
# it fixed).
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-${MYR_FUZZ_SECONDS:-20}}
BUILD=${MYR_FUZZ_BUILD:-$REPO/build-fuzz}   # another directory: a second run beside CI's

say() { echo "== fuzz: $*"; }

if ! command -v clang >/dev/null 2>&1; then
  echo "fuzz: FAILED (clang not found: scripts/setup.sh installs it)"
  exit 1
fi
mkdir -p "$BUILD"
say "configuring and building ${BUILD#"$REPO"/}/ with clang"
if ! CC=clang cmake -S "$REPO" -B "$BUILD" -DMYR_FUZZ=ON -DMYR_TESTS=OFF \
       -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$BUILD/cmake.log" 2>&1 ||
   ! cmake --build "$BUILD" -j"$(nproc 2>/dev/null || echo 2)" --target fuzzers >"$BUILD/build.log" 2>&1; then
  tail -n 30 "$BUILD/cmake.log" "$BUILD/build.log" 2>/dev/null
  echo "fuzz: FAILED (build of ${BUILD#"$REPO"/}/)"
  exit 1
fi

mkdir -p "$BUILD/crashes"
passed=0 failed=0
for src in "$REPO"/tests/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  t=${name#fuzz_}
  work=$BUILD/found/$t
  log=$BUILD/$t.log
  mkdir -p "$work"
  seeds=$(find "$REPO/tests/fuzz/corpus/$t" -type f | wc -l)
  # -max_len: seeds may be longer (whole captured results); mutations stay
  # small enough to keep the rate up. -timeout: one input may not take 10 s.
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$BUILD/$name" -max_total_time="$SECS" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$BUILD/crashes/$t-" \
      "$work" "$REPO/tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
  cov=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | sed -E 's/.* cov: ([0-9]+) .*/\1/' | tail -n1)
  if [ "$rc" -eq 0 ]; then
    passed=$((passed + 1))
    echo "fuzz: $t: ${execs:-?} executions in ${SECS} s (${rate:-?}/s), coverage ${cov:-?} edges, seeds $seeds, corpus now $(( seeds + $(find "$work" -type f | wc -l) ))"
  else
    failed=$((failed + 1))
    echo "fuzz: $t: FAILED (rc $rc) after ${execs:-?} executions; log ${log#"$REPO"/}:"
    grep -E 'ERROR|check failed|SUMMARY|Test unit written|^ +#[0-9]+ ' "$log" | head -n 40
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
