#!/usr/bin/env bash
# scripts/demo.sh — the README's demo command.
#
# Installs what is missing and builds build/ (scripts/setup.sh), starts the
# MariaDB sandbox, runs the example programs that exist (with MYR_TEST_* in the
# environment), then stops the sandbox. Fails if no example exists or one fails.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO" || exit 1

# The examples, in the order they are shown.
EXAMPLES=(
  example_basic_query
  example_three_jobs
  example_table_creator
)

bash "$REPO/scripts/setup.sh" || { echo "demo.sh: FAILED (setup/build)"; exit 1; }

found=()
for e in "${EXAMPLES[@]}"; do
  [ -x "$REPO/build/$e" ] && found+=("$e")
done
if [ ${#found[@]} -eq 0 ]; then
  echo "demo.sh: FAILED: none of the examples was built (${EXAMPLES[*]})"
  exit 1
fi

# An example may open many connections.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt 65536 ]; then hard=65536; fi
[ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt "$hard" ] && ulimit -Sn "$hard"

trap 'rc=$?; trap - EXIT; bash "$REPO/tests/sandbox.sh" stop || true; exit $rc' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bash "$REPO/tests/sandbox.sh" start || { echo "demo.sh: FAILED (sandbox did not start)"; exit 1; }
envs=$(bash "$REPO/tests/sandbox.sh" env) || { echo "demo.sh: FAILED (sandbox env)"; exit 1; }
eval "$envs"

failed=()
for e in "${found[@]}"; do
  echo
  echo "================================================================"
  echo "== $e"
  echo "================================================================"
  if "$REPO/build/$e" </dev/null; then
    :
  else
    rc=$?
    echo "== $e exited with status $rc"
    failed+=("$e")
  fi
done

echo
missing=$(( ${#EXAMPLES[@]} - ${#found[@]} ))
if [ ${#failed[@]} -eq 0 ]; then
  note=""
  [ "$missing" -gt 0 ] && note=" ($missing of the listed examples not built)"
  echo "demo.sh: ran ${#found[@]} example(s), all succeeded$note"
  exit 0
fi
echo "demo.sh: FAILED: ${failed[*]}"
exit 1
