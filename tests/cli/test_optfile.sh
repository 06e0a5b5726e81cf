#!/usr/bin/env bash
# tests/cli/test_optfile.sh <build_dir>
#
# Option files in the `myring` CLI, differentially against the reference
# client `mariadb` (10.11): for each case both run with HOME pointing at a
# private directory (so ~/.my.cnf is ours), and stdout, stderr (with the
# program name made the same) and the exit status must be identical.
#   - --print-defaults over files exercising the syntax, !include,
#     !includedir, groups, --defaults-extra-file, --defaults-group-suffix;
#   - connecting with the account and server named only in ~/.my.cnf (the
#     CLI must not silently go elsewhere), --no-defaults ignoring it,
#     the command line overriding it, MYSQL_* below the files;
#   - errors: malformed files, a missing --defaults-file, unknown options
#     (refused), loose- unknown options (a warning), options of the
#     reference that myring does not implement (ignored by us: excluded from
#     the differential, checked on their own).
# Needs the sandbox (MYR_TEST_*); fails, never skips, without it.
set -uo pipefail

BUILD=${1:?usage: test_optfile.sh <build_dir>}
OURS=$(cd "$BUILD" && pwd)/myring
REF_BIN=$(command -v mariadb || true)
fail_setup() { echo "test_optfile: FAIL: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
for v in MYR_TEST_HOST MYR_TEST_PORT MYR_TEST_SOCKET MYR_TEST_USER MYR_TEST_PASSWORD MYR_TEST_DB; do
  [ -n "${!v:-}" ] || fail_setup "$v is not set (start the sandbox: eval \"\$(tests/sandbox.sh env)\")"
done
[ -x "$OURS" ] || fail_setup "no myring binary at $OURS"
[ -n "$REF_BIN" ] || fail_setup "the reference client 'mariadb' is not installed"
H=$MYR_TEST_HOST P=$MYR_TEST_PORT U=$MYR_TEST_USER PW=$MYR_TEST_PASSWORD DB=$MYR_TEST_DB

WORK=$(mktemp -d "${TMPDIR:-/tmp}/myring-optfile.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
HOMEDIR=$WORK/home
mkdir -p "$HOMEDIR" "$WORK/conf.d"
unset MYSQL_HOST MYSQL_TCP_PORT MYSQL_UNIX_PORT MYSQL_PWD MYSQL_GROUP_SUFFIX

passed=0 failed=0 failures=()
ok()  { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); failures+=("$1"); echo "FAIL $1: $2"; }

# diff_case NAME ARGS... : both clients, same HOME, stdin from /dev/null.
diff_case() {
  local name=$1; shift
  local d="$WORK/$name"; mkdir -p "$d"
  HOME=$HOMEDIR "$REF_BIN" "$@" </dev/null >"$d/ref.out" 2>"$d/ref.err"; echo $? >"$d/ref.rc"
  HOME=$HOMEDIR "$OURS" "$@" </dev/null >"$d/our.out" 2>"$d/our.err"; echo $? >"$d/our.rc"
  # The program's name (the reference prints the path it was run by).
  sed -i -E 's#^(Warning: )?[^ :]*mariadb\b#\1PROG#' "$d/ref.out" "$d/ref.err"
  sed -i -E 's#^(Warning: )?[^ :]*myring\b#\1PROG#' "$d/our.out" "$d/our.err"
  local what=""
  cmp -s "$d/ref.out" "$d/our.out" || what+=" stdout"
  cmp -s "$d/ref.err" "$d/our.err" || what+=" stderr"
  cmp -s "$d/ref.rc" "$d/our.rc" || what+=" exit($(cat "$d/ref.rc") vs $(cat "$d/our.rc"))"
  if [ -z "$what" ]; then ok "$name"; else
    bad "$name" "$what"
    for f in ref.out our.out ref.err our.err; do echo "  $f:"; head -c 1500 "$d/$f" | sed 's/^/    /'; done
  fi
}

# ------------------------------------------------------------ syntax
cat >"$WORK/syntax.cnf" <<CNF
# comment
; comment
[client]
host = 127.0.0.1   # trailing
port=$P
user = "my user" # quoted
password='p#w\\'d'
esc=a\\tb\\\\c\\sd
odd=x\\qy
cut=x\\#y
partly="q" tail
hash=a#b
semi = 5 ;c
empty=
skip-ssl
[mysqld]
datadir=/never
[MySQL]
database = db1
[client-mariadb]
socket=/tmp/x.sock
[client  ]
trailing=yes
!include $WORK/inc.cnf
!include $WORK/missing.cnf
!includedir $WORK/conf.d
CNF
printf '[client]\nhost=from-include\n' >"$WORK/inc.cnf"
printf '[client]\nuser=z2\n' >"$WORK/conf.d/2.cnf"
printf '[mysql]\nuser=z1\n' >"$WORK/conf.d/1.cnf"
printf '[client]\nuser=not-read\n' >"$WORK/conf.d/3.txt"
diff_case print.syntax --defaults-file="$WORK/syntax.cnf" --print-defaults
printf '[client]\nport=1\n[client_suf]\nport=2\n[mysql_suf]\nuser=u\n[mariadb-client]\nx=1\n' >"$WORK/extra.cnf"
printf '[client]\nhost=home\n[client-server]\nwait\n' >"$HOMEDIR/.my.cnf"
diff_case print.extra_suffix --defaults-extra-file="$WORK/extra.cnf" --defaults-group-suffix=_suf --print-defaults
diff_case print.home --print-defaults
diff_case print.no_defaults --no-defaults --print-defaults

# ------------------------------------------------------------ errors
printf '[client\nhost=x\n' >"$WORK/bad_group.cnf"
diff_case err.bad_group --defaults-file="$WORK/bad_group.cnf" -e 'select 1'
printf 'host=x\n[client]\n' >"$WORK/no_group.cnf"
diff_case err.no_group --defaults-file="$WORK/no_group.cnf" -e 'select 1'
diff_case err.missing_file --defaults-file="$WORK/nonexistent.cnf" -e 'select 1'
printf '[client]\nfoo_bar=1\n' >"$WORK/unknown.cnf"
diff_case err.unknown_variable --defaults-file="$WORK/unknown.cnf" -h "$H" -P "$P" -u "$U" "-p$PW" -e 'select 1'

# ------------------------------------------- connecting through the files
Q="select @@port as port, current_user() as who, database() as db"
printf '[client]\nhost=%s\nport=%s\nuser=%s\npassword=%s\n[mysql]\ndatabase=%s\n' "$H" "$P" "$U" "$PW" "$DB" >"$HOMEDIR/.my.cnf"
diff_case conn.home_cnf -e "$Q"
diff_case conn.cmdline_wins -u "${U}_nobody" -e "$Q"
diff_case conn.no_defaults --no-defaults -h 127.0.0.1 -P "$P" -e "$Q"
printf '[client]\nloose-frobnicate=1\nloose_user=%s\n' "$U" >"$WORK/loose.cnf"
diff_case conn.loose --defaults-file="$WORK/loose.cnf" -h "$H" -P "$P" "-p$PW" -e "$Q"
printf '[client]\nuser=%s\npassword=%s\n' "$U" "$PW" >"$WORK/env.cnf"
MYSQL_HOST=$H MYSQL_TCP_PORT=$P diff_case conn.env_below_files --defaults-file="$WORK/env.cnf" -e "$Q"
MYSQL_PWD=wrong diff_case conn.file_pw_over_env --defaults-file="$WORK/env.cnf" -h "$H" -P "$P" -e "$Q"
# A socket from the files is for localhost only: a remote host in ~/.my.cnf
# must win over /etc's (and our) socket.
printf '[client]\nsocket=%s\nuser=%s\npassword=%s\n' "$MYR_TEST_SOCKET" "$U" "$PW" >"$WORK/sock.cnf"
diff_case conn.socket_from_file --defaults-file="$WORK/sock.cnf" -e "select @@port as port"

# Options the reference knows but myring does not implement: ignored by
# myring (the reference would act on them), so checked on their own.
printf '[client]\nhost=%s\nport=%s\nuser=%s\npassword=%s\nauto-rehash\nprompt=x>\nskip-pager\n' "$H" "$P" "$U" "$PW" >"$WORK/ref_only.cnf"
out=$("$OURS" --defaults-file="$WORK/ref_only.cnf" -N -e 'select 7' 2>&1); rc=$?
if [ $rc -eq 0 ] && [ "$out" = 7 ]; then ok ours.reference_options_ignored; else bad ours.reference_options_ignored "rc=$rc out=$out"; fi
# [myring] is read by myring only.
printf '[client]\nhost=%s\nport=%s\nuser=%s\npassword=%s\n[myring]\nuser=%s_nobody\n' "$H" "$P" "$U" "$PW" "$U" >"$WORK/own.cnf"
out=$("$OURS" --defaults-file="$WORK/own.cnf" -N -e 'select 1' 2>&1); rc=$?
if [ $rc -eq 1 ] && [[ $out == *"Access denied for user '${U}_nobody'"* ]]; then ok ours.myring_group; else bad ours.myring_group "rc=$rc out=$out"; fi

echo
[ "$failed" -gt 0 ] && echo "failed cases: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
