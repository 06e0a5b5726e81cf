#!/usr/bin/env bash
# tests/cli/test_tty.sh <build_dir>
#
# The CLI at a terminal, differentially against the reference client
# `mariadb`: both run on a pseudo-terminal (tests/cli/pty_run.py), and what
# the terminal shows plus the exit status must be identical (program names
# made the same).
#   - a bare -p prompts "Enter password: " and reads the answer without
#     echoing it (the password must not appear on the terminal);
#   - results are tables on a terminal, -B keeps tab-separated output;
#   - a wrong answer gives the server's access-denied error;
#   - interactive mode (no -e, stdin a terminal): banner, prompts (also
#     --prompt and the continuation prompt), tables with counts and times,
#     errors that do not end the session, use, \G, history file, quit.
# And without a terminal, a bare -p reads the password from stdin's first
# line with the prompt on stderr (glibc getpass(), as the reference).
# Needs the sandbox (MYR_TEST_*); fails, never skips, without it.
set -uo pipefail

BUILD=${1:?usage: test_tty.sh <build_dir>}
HERE=$(cd "$(dirname "$0")" && pwd)
OURS=$(cd "$BUILD" && pwd)/myring
REF_BIN=$(command -v mariadb || true)
PY=$(command -v python3 || true)
fail_setup() { echo "test_tty: FAIL: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
for v in MYR_TEST_HOST MYR_TEST_PORT MYR_TEST_USER MYR_TEST_PASSWORD; do
  [ -n "${!v:-}" ] || fail_setup "$v is not set (start the sandbox: eval \"\$(tests/sandbox.sh env)\")"
done
[ -x "$OURS" ] || fail_setup "no myring binary at $OURS"
[ -n "$REF_BIN" ] || fail_setup "the reference client 'mariadb' is not installed"
[ -n "$PY" ] || fail_setup "python3 is not installed"
H=$MYR_TEST_HOST P=$MYR_TEST_PORT U=$MYR_TEST_USER PW=$MYR_TEST_PASSWORD
WORK=$(mktemp -d "${TMPDIR:-/tmp}/myring-tty.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
passed=0 failed=0 failures=()

norm() { sed -E 's#^(Warning: )?[^ :]*(mariadb|myring)\b#\1PROG#' "$1"; }

# tty_case NAME ANSWER ARGS... : both clients on a pty.
tty_case() {
  local name=$1 answer=$2; shift 2
  "$PY" "$HERE/pty_run.py" "$answer" -- "$REF_BIN" --no-defaults "$@" >"$WORK/$name.ref" 2>&1
  "$PY" "$HERE/pty_run.py" "$answer" -- "$OURS" --no-defaults "$@" >"$WORK/$name.our" 2>&1
  local why=""
  cmp -s <(norm "$WORK/$name.ref") <(norm "$WORK/$name.our") || why="terminal output differs"
  if [ "$answer" != "" ] && grep -qF -- "$answer" "$WORK/$name.our"; then why+=" the password was echoed"; fi
  if [ -z "$why" ]; then passed=$((passed + 1)); echo "PASS $name"; else
    failed=$((failed + 1)); failures+=("$name"); echo "FAIL $name: $why"
    echo "  reference:"; sed 's/^/    /' "$WORK/$name.ref" | head -20
    echo "  myring:"; sed 's/^/    /' "$WORK/$name.our" | head -20
  fi
}

tty_case prompt.ok "$PW" -h "$H" -P "$P" -u "$U" -p -e "select 42 as answer, 'x' as y"
tty_case prompt.long "$PW" -h "$H" -P "$P" -u "$U" --password -e "select 1 as a union select 22"
tty_case prompt.batch "$PW" -h "$H" -P "$P" -u "$U" -p -B -e "select 42 as answer"
tty_case prompt.wrong "not-the-password" -h "$H" -P "$P" -u "$U" -p -e "select 1"
tty_case table.default "" -h "$H" -P "$P" -u "$U" "-p$PW" -e "select 1 as a, null as b"

# Interactive mode (stdin a terminal, no -e): myring's own banner and
# prompts, so checked for what a person sees rather than differentially.
expect_all() {  # NAME FILE PATTERN... : every fixed string must be in FILE
  local name=$1 file=$2 miss=""; shift 2
  for pat in "$@"; do grep -qF -- "$pat" "$file" || miss+=" [$pat]"; done
  if [ -z "$miss" ]; then passed=$((passed + 1)); echo "PASS $name"; else
    failed=$((failed + 1)); failures+=("$name"); echo "FAIL $name: missing$miss"; sed 's/^/    /' "$file" | head -40
  fi
}
export MYRING_HISTFILE=$WORK/history
"$PY" "$HERE/pty_run.py" "" --line "select 1 as a," --line "'x' as b;" --line "select nosuch;" \
  --line "use ${MYR_TEST_DB:-mysql}" --line '\x' --line 'select 2 as c\G' --line "quit" -- \
  "$OURS" --no-defaults -h "$H" -P "$P" -u "$U" "-p$PW" >"$WORK/interactive.out" 2>&1
expect_all interactive.session "$WORK/interactive.out" \
  "Welcome to myring" "myring [(none)]> select 1 as a," "    -> 'x' as b;" "| a | b |" "| 1 | x |" \
  "1 row in set (" "ERROR 1054 (42S22): Unknown column 'nosuch'" "Database changed" \
  "myring [${MYR_TEST_DB:-mysql}]> " "ERROR: Unknown command '\x'." "c: 2" "Bye" "exit=0"
expect_all interactive.history "$MYRING_HISTFILE" "nosuch" "quit"
"$PY" "$HERE/pty_run.py" "" --line "select 3 as d;" --line "exit" -- \
  "$OURS" --no-defaults -h "$H" -P "$P" -u "$U" "-p$PW" '--prompt=\u@\h:\d\_>\_' >"$WORK/prompt.out" 2>&1
expect_all interactive.prompt "$WORK/prompt.out" "$U@$H:(none) > select 3 as d;" "| 3 |" "Bye" "exit=0"
unset MYRING_HISTFILE

# No terminal: the first line of stdin is the password, the prompt on stderr.
for who in ref our; do
  if [ $who = ref ]; then bin=$REF_BIN; else bin=$OURS; fi
  printf '%s\nselect 7 as seven;\n' "$PW" |
    setsid "$bin" --no-defaults -h "$H" -P "$P" -u "$U" -p >"$WORK/notty.$who.out" 2>"$WORK/notty.$who.err"
  echo "exit=$?" >>"$WORK/notty.$who.out"
done
if cmp -s "$WORK/notty.ref.out" "$WORK/notty.our.out" &&
   cmp -s <(norm "$WORK/notty.ref.err") <(norm "$WORK/notty.our.err"); then
  passed=$((passed + 1)); echo "PASS prompt.no_tty"
else
  failed=$((failed + 1)); failures+=(prompt.no_tty); echo "FAIL prompt.no_tty"
  head -5 "$WORK"/notty.*
fi

echo
[ "$failed" -gt 0 ] && echo "failed cases: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
