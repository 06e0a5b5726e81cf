#!/usr/bin/env bash
# scripts/test.sh — the README's test command (and what CI runs).
#
#   1. scripts/setup.sh             install what is missing, build build/
#   2. scripts/setup.sh --sanitize  build build-asan/ (ASan + UBSan)
#   3. start the MariaDB sandbox (tests/sandbox.sh) and export MYR_TEST_*
#   4. ctest in build/, then in build-asan/ (both run, even if the first fails)
#   5. a bounded libFuzzer run of every fuzz target (tests/fuzz/run.sh)
#   6. stop the sandbox (always, via trap); exit non-zero if anything failed.
#
# Extra arguments are passed to both ctest runs (e.g. -L integration, -R conn).
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO" || exit 1

say() { echo "== test.sh: $*"; }

summary=()
finish() {
  local rc=$1
  say "stopping the sandbox"
  bash "$REPO/tests/sandbox.sh" stop || true
  local s joined=""
  for s in "${summary[@]}"; do joined+=" | $s"; done
  if [ "$rc" -eq 0 ]; then
    echo "test.sh: PASSED$joined"
  else
    echo "test.sh: FAILED$joined"
  fi
}

# ---- build both trees (a build failure stops here)
say "setup + release build (build/)"
if ! bash "$REPO/scripts/setup.sh"; then
  echo "test.sh: FAILED (setup/build of build/)"; exit 1
fi
say "ASan+UBSan build (build-asan/)"
if ! bash "$REPO/scripts/setup.sh" --sanitize; then
  echo "test.sh: FAILED (build of build-asan/)"; exit 1
fi

# Tests open 1,000 concurrent connections: make sure the fd limit allows it.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt 65536 ]; then hard=65536; fi
[ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt "$hard" ] && ulimit -Sn "$hard"
if [ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt 4096 ]; then
  say "warning: open-files limit is $(ulimit -Sn); tests with 1,000 connections may fail"
fi

# ---- sandbox
trap 'rc=$?; trap - EXIT; finish $rc; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
say "starting the MariaDB sandbox"
bash "$REPO/tests/sandbox.sh" start || { summary+=("sandbox: did not start"); exit 1; }
envs=$(bash "$REPO/tests/sandbox.sh" env) || { summary+=("sandbox: no env"); exit 1; }
eval "$envs"
# Integration tests fail (not skip) without these: make sure they are set.
for v in MYR_TEST_HOST MYR_TEST_PORT MYR_TEST_SOCKET MYR_TEST_USER MYR_TEST_PASSWORD MYR_TEST_DB; do
  [ -n "${!v:-}" ] || { summary+=("sandbox: $v not set"); exit 1; }
  export "${v?}"
done
say "sandbox on 127.0.0.1:$MYR_TEST_PORT (socket $MYR_TEST_SOCKET)"

# ---- sanitizer options
# LeakSanitizer needs to ptrace-stop the process at exit; where that is
# forbidden (some containers, seccomp, yama ptrace_scope=3) it dies with
# "LeakSanitizer has encountered a fatal error" and every test would fail.
# Probe it once with a program that leaks on purpose; keep leak detection on
# whenever it works (it does on the project's Debian 12 machines).
detect_leaks=1
probe_dir=$(mktemp -d)
printf '#include <stdlib.h>\nvoid *volatile keep;\nint main(void){ keep = malloc(7); keep = 0; return 0; }\n' > "$probe_dir/leak.c"
if cc -fsanitize=address -g "$probe_dir/leak.c" -o "$probe_dir/leak" 2>/dev/null; then
  ASAN_OPTIONS=detect_leaks=1:exitcode=23 "$probe_dir/leak" >"$probe_dir/out" 2>&1
  probe_rc=$?
  if [ $probe_rc -ne 23 ] || ! grep -q "detected memory leaks" "$probe_dir/out"; then
    detect_leaks=0
    say "LeakSanitizer does not work here (rc $probe_rc: $(grep -m1 -i sanitizer "$probe_dir/out")): detect_leaks=0"
  fi
fi
rm -rf "$probe_dir"
export ASAN_OPTIONS="detect_leaks=$detect_leaks:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# ---- tests
status=0
run_ctest() {   # $1 build dir, $2 label
  local dir=$1 label=$2 log rc line
  log=$REPO/$dir/ctest.log
  say "ctest in $dir/"
  ctest --test-dir "$REPO/$dir" --output-on-failure --no-tests=error "${@:3}" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  # "100% tests passed, 0 tests failed out of 12" -> "12/12 passed"
  line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n1 |
         sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1 \2/')
  if [ -n "$line" ]; then
    set -- $line
    line="$(( $2 - $1 ))/$2 passed"
  else
    line="no test summary, see $dir/ctest.log"
  fi
  if [ "$rc" -eq 0 ]; then
    summary+=("$label: PASS, $line")
  else
    summary+=("$label: FAIL, $line")
    status=1
  fi
}
run_ctest build plain "$@"
run_ctest build-asan "asan+ubsan (detect_leaks=$detect_leaks)" "$@"

# ---- bounded fuzzing: every libFuzzer target for ~20 s (clang build in
# build-fuzz/); the corpora themselves were replayed by ctest above.
say "bounded fuzzing (tests/fuzz/run.sh)"
mkdir -p "$REPO/build-fuzz"
bash "$REPO/tests/fuzz/run.sh" 2>&1 | tee "$REPO/build-fuzz/run.log"
frc=${PIPESTATUS[0]}
fline=$(sed -n 's/^fuzz: \([0-9]* passed, [0-9]* failed\)$/\1/p' "$REPO/build-fuzz/run.log" | tail -n1)
if [ "$frc" -eq 0 ]; then
  summary+=("fuzz: PASS, ${fline:-no summary}")
else
  summary+=("fuzz: FAIL, ${fline:-see build-fuzz/run.log}")
  status=1
fi

exit $status
