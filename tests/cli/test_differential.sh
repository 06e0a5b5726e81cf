#!/usr/bin/env bash
# tests/cli/test_differential.sh <build_dir>
#
# Differential test of the `myring` command-line client against the reference
# client, `mariadb` (10.11) in batch mode: the same input and arguments go to
#   mariadb --no-defaults --batch --default-character-set=utf8mb4 --max-allowed-packet=1G ARGS
#   <build_dir>/myring ARGS
# and stdout, stderr and the exit status must be identical, byte for byte.
#
# Cases: every tests/cli/corpus/*.sql file, run through stdin and through -e,
# with and without -N and -r (a first line "-- modes: stdin e N r" picks the
# variations), plus connection and option cases defined below. In the corpus,
# __T__ becomes a table-name prefix unique to this run and __TESTDB__ the test
# database.
#
# Needs the MariaDB sandbox: MYR_TEST_HOST, MYR_TEST_PORT, MYR_TEST_SOCKET,
# MYR_TEST_USER, MYR_TEST_PASSWORD, MYR_TEST_DB (eval "$(tests/sandbox.sh env)").
# Without them it fails: it never skips.
set -uo pipefail

BUILD=${1:?usage: test_differential.sh <build_dir>}
HERE=$(cd "$(dirname "$0")" && pwd)
OURS=$(cd "$BUILD" && pwd)/myring
REF_BIN=$(command -v mariadb || true)

fail_setup() { echo "test_differential: FAIL: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

for v in MYR_TEST_HOST MYR_TEST_PORT MYR_TEST_SOCKET MYR_TEST_USER MYR_TEST_PASSWORD MYR_TEST_DB; do
  [ -n "${!v:-}" ] || fail_setup "$v is not set (start the sandbox: eval \"\$(tests/sandbox.sh env)\")"
done
[ -x "$OURS" ] || fail_setup "no myring binary at $OURS"
[ -n "$REF_BIN" ] || fail_setup "the reference client 'mariadb' is not installed"

REF=("$REF_BIN" --no-defaults --batch --default-character-set=utf8mb4 --max-allowed-packet=1G)
H=$MYR_TEST_HOST P=$MYR_TEST_PORT U=$MYR_TEST_USER PW=$MYR_TEST_PASSWORD DB=$MYR_TEST_DB
CONN=(-h "$H" -P "$P" -u "$U" "-p$PW" "$DB")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/myring-cli-diff.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PREFIX="cli$$_"

# The reference must be able to talk to the sandbox, or every case would
# "pass" by failing the same way.
if ! "${REF[@]}" "${CONN[@]}" -e "select 1" >/dev/null 2>"$WORK/probe.err"; then
  fail_setup "the reference client cannot connect to the sandbox: $(cat "$WORK/probe.err")"
fi

passed=0
failed=0
failures=()

# run_case NAME STDIN_FILE ARGS... : run both clients, compare everything.
run_case() {
  local name=$1 input=$2
  shift 2
  local d="$WORK/$name"
  mkdir -p "$d"
  "${REF[@]}" "$@" <"$input" >"$d/ref.out" 2>"$d/ref.err"
  echo $? >"$d/ref.rc"
  "$OURS" --no-defaults "$@" <"$input" >"$d/our.out" 2>"$d/our.err"
  echo $? >"$d/our.rc"
  compare "$name" "$d"
}

compare() {
  local name=$1 d=$2 what=""
  cmp -s "$d/ref.out" "$d/our.out" || what+=" stdout"
  cmp -s "$d/ref.err" "$d/our.err" || what+=" stderr"
  cmp -s "$d/ref.rc" "$d/our.rc" || what+=" exit($(cat "$d/ref.rc") vs $(cat "$d/our.rc"))"
  if [ -z "$what" ]; then
    passed=$((passed + 1))
    echo "PASS $name"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "FAIL $name:$what"
    if [[ $what == *stdout* ]]; then
      echo "  first stdout difference: $(cmp "$d/ref.out" "$d/our.out" 2>&1 | head -1)"
      diff <(head -c 4000 "$d/ref.out" | cat -A | head -20) \
           <(head -c 4000 "$d/our.out" | cat -A | head -20) | head -20 | sed 's/^/    /'
    fi
    if [[ $what == *stderr* ]]; then
      echo "  reference stderr:"; head -c 2000 "$d/ref.err" | sed 's/^/    /'
      echo "  myring stderr:"; head -c 2000 "$d/our.err" | sed 's/^/    /'
    fi
  fi
}

# ------------------------------------------------------------------ corpus
for f in "$HERE"/corpus/*.sql; do
  base=$(basename "$f" .sql)
  src="$WORK/$base.sql"
  sed -e "s/__T__/$PREFIX/g" -e "s/__TESTDB__/$DB/g" "$f" >"$src"
  modes=$(sed -n '1s/^-- modes: *//p' "$f")
  [ -n "$modes" ] || modes="stdin e N r"
  for m in $modes; do
    case $m in
      stdin) run_case "$base" "$src" "${CONN[@]}" ;;
      e)     run_case "$base.e" /dev/null "${CONN[@]}" -e "$(cat "$src")" ;;
      N)     run_case "$base.N" "$src" -N "${CONN[@]}" ;;
      r)     run_case "$base.r" "$src" -r "${CONN[@]}" ;;
      *)     fail_setup "$f: unknown mode '$m'" ;;
    esac
  done
done

# ------------------------------------------------------- options and forms
Q="$WORK/q.sql"
printf 'select 1 as a, database() as db, "t\\tab" as t;\nselect 2 as b;\n' >"$Q"
E="select 1 as a, database() as db; select 'x\\ty' as t"
run_case opt.separate     /dev/null -h "$H" -P "$P" -u "$U" "-p$PW" -D "$DB" -e "$E"
run_case opt.attached     /dev/null "-h$H" "-P$P" "-u$U" "-p$PW" "-D$DB" -e "$E"
run_case opt.long_eq      /dev/null "--host=$H" "--port=$P" "--user=$U" "--password=$PW" "--database=$DB" "--execute=$E"
run_case opt.long_sep     /dev/null --host "$H" --port "$P" --user "$U" "--password=$PW" --database "$DB" --execute "$E"
run_case opt.socket       /dev/null -S "$MYR_TEST_SOCKET" -u "$U" "-p$PW" "$DB" -e "$E"
run_case opt.socket_long  /dev/null "--socket=$MYR_TEST_SOCKET" -u "$U" "-p$PW" "$DB" -e "$E"
run_case opt.no_db        /dev/null -h "$H" -P "$P" -u "$U" "-p$PW" -e "$E"
run_case opt.batch_flags  "$Q" -B -N -r "${CONN[@]}"
run_case opt.bundled      "$Q" -BNr "${CONN[@]}"
run_case opt.long_flags   "$Q" --batch --skip-column-names --raw "${CONN[@]}"
run_case opt.silent       "$Q" -s "${CONN[@]}"
run_case opt.silent2      "$Q" -ss "${CONN[@]}"
run_case opt.silent_N     "$Q" --silent -N "${CONN[@]}"
run_case opt.quick        /dev/null -q "${CONN[@]}" -e "select 1 as a where 0; select 2 as b"
run_case opt.timeouts     "$Q" --connect-timeout=10 "${CONN[@]}"
run_case opt.charset      "$Q" --default-character-set=utf8mb4 "${CONN[@]}"
run_case opt.skip_lines   /dev/null -L "${CONN[@]}" -e "select 1;
select nosuch"
run_case opt.line_numbers0 /dev/null --line-numbers=0 "${CONN[@]}" -e "select 1;
select nosuch"
run_case opt.skip_print   /dev/null --skip-print-query-on-error "${CONN[@]}" -e "select nosuch"
run_case opt.two_e        /dev/null "${CONN[@]}" -e "select 1 as a;" -e "select 2 as b"
MYSQL_PWD=$PW run_case opt.mysql_pwd "$Q" -h "$H" -P "$P" -u "$U" "$DB"

# ---------------------------------------------------------- output layouts
L="$WORK/layout.sql"
sed -e "s/__T__/$PREFIX/g" "$HERE/layout.sql" >"$L"
run_case layout.table        "$L" -t "${CONN[@]}"
run_case layout.table_N      "$L" -t -N "${CONN[@]}"
run_case layout.table_quick  "$L" -t -q "${CONN[@]}"
run_case layout.batch_table  "$L" -B -t "${CONN[@]}"
run_case layout.vertical     "$L" -E "${CONN[@]}"
run_case layout.vertical_N   "$L" --vertical -N "${CONN[@]}"
run_case layout.verbose      "$L" -v "${CONN[@]}"
run_case layout.verbose2     "$L" -vv "${CONN[@]}"
run_case layout.force        "$L" -f "${CONN[@]}"
run_case layout.force_all    "$L" --force --table --verbose --verbose "${CONN[@]}"

# ------------------------------------------------------------------ source
printf 'select 10 as s1;\n\nselect nosuch;\nselect 11;\n' >"$WORK/src1.sql"
printf 'select 20 as s2;\nsource %s\n' "$WORK/src1.sql" >"$WORK/src2.sql"
printf 'select 1 as a;\nsource %s\nselect 2 as b;\n\\. %s\nsource %s/nonexist.sql\nselect 3;\n' \
  "$WORK/src1.sql" "$WORK/src2.sql" "$WORK" >"$WORK/source.sql"
run_case source.errors_inside "$WORK/source.sql" "${CONN[@]}"
run_case source.force         "$WORK/source.sql" -f "${CONN[@]}"
printf 'source\nselect 1;\n' >"$WORK/source_usage.sql"
run_case source.usage         "$WORK/source_usage.sql" "${CONN[@]}"

# status and help print myring's own text (not the reference's): checked
# for their content rather than differentially.
out=$("$OURS" --no-defaults "${CONN[@]}" -e 'status' 2>&1)
if [[ $out == *"Connection id:"* && $out == *"Current database:"*"$DB"* && $out == *"Current user:"*"$U@"* ]]; then
  passed=$((passed + 1)); echo "PASS ours.status"
else failed=$((failed + 1)); failures+=(ours.status); echo "FAIL ours.status: $out"; fi
out=$(printf 'help\n\\h\n' | "$OURS" --no-defaults "${CONN[@]}" 2>&1)
if [[ $(grep -c '^source ' <<<"$out") -eq 2 && $out == *"status    (\\s)"* ]]; then
  passed=$((passed + 1)); echo "PASS ours.help"
else failed=$((failed + 1)); failures+=(ours.help); echo "FAIL ours.help: $out"; fi

# ----------------------------------------------------------- input quirks
printf 'select 1 as a;\nselect "a\0b";\nselect 2 as b;\n' >"$WORK/nul.sql"
run_case input.nul_byte "$WORK/nul.sql" "${CONN[@]}"
printf '\xef\xbb\xbfselect 1 as bom;\n' >"$WORK/bom.sql"
run_case input.bom "$WORK/bom.sql" "${CONN[@]}"
printf 'select 1 as a;\n\\x\nselect 2;\n' >"$WORK/unknown_cmd.sql"
run_case input.unknown_command "$WORK/unknown_cmd.sql" "${CONN[@]}"
printf 'select 1 as a;\ndelimiter\nselect 2 as b;\n' >"$WORK/bad_delim.sql"
run_case input.bad_delimiter "$WORK/bad_delim.sql" "${CONN[@]}"
printf 'use %s_no_such_db;\nselect 1;\n' "$PREFIX" >"$WORK/bad_use.sql"
run_case input.bad_use "$WORK/bad_use.sql" "${CONN[@]}"
: >"$WORK/empty.sql"
run_case input.empty "$WORK/empty.sql" "${CONN[@]}"
printf '   \n\n-- only a comment\n' >"$WORK/blank.sql"
run_case input.blank "$WORK/blank.sql" "${CONN[@]}"

# ------------------------------------------------------- connection errors
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || echo 1)
run_case conn.refused     /dev/null -h 127.0.0.1 -P "$closed_port" -u "$U" -e "select 1"
run_case conn.no_socket   /dev/null -S "$WORK/no-such.sock" -u "$U" -e "select 1"
run_case conn.bad_pw      /dev/null -h "$H" -P "$P" -u "$U" -pwrong_password -e "select 1"
run_case conn.no_user     /dev/null -h "$H" -P "$P" -u "${PREFIX}nobody" -e "select 1"
run_case conn.unknown_db  /dev/null -h "$H" -P "$P" -u "$U" "-p$PW" "${PREFIX}no_such_db" -e "select 1"

# ----------------------------------------------- lost connection (2013)
# A second session kills the client's connection while it sleeps. The
# reference would otherwise use TLS and report the loss as a TLS error (2026).
lost_case() {
  local name=$1 tag=$2
  shift 2
  local d="$WORK/$name" i id
  mkdir -p "$d"
  for who in ref our; do
    (
      for i in $(seq 100); do
        id=$("${REF[@]}" "${CONN[@]}" -N -e "select id from information_schema.processlist where info like 'select sleep(30) as $tag%'" 2>/dev/null)
        if [ -n "$id" ]; then "${REF[@]}" "${CONN[@]}" -e "kill $id" 2>/dev/null; exit 0; fi
        sleep 0.1
      done
    ) &
    local killer=$!
    if [ $who = ref ]; then
      "${REF[@]}" --skip-ssl "${CONN[@]}" -e "select 1 as a; select sleep(30) as $tag; select 2" >"$d/ref.out" 2>"$d/ref.err"
    else
      "$OURS" --no-defaults --skip-ssl "${CONN[@]}" -e "select 1 as a; select sleep(30) as $tag; select 2" >"$d/our.out" 2>"$d/our.err"
    fi
    echo $? >"$d/$who.rc"
    wait "$killer"
  done
  compare "$name" "$d"
}
lost_case conn.lost "${PREFIX}lost"

echo
if [ "$failed" -gt 0 ]; then
  echo "failed cases: ${failures[*]}"
  echo "(outputs kept in $WORK.kept)"
  rm -rf "$WORK.kept"; cp -r "$WORK" "$WORK.kept"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
