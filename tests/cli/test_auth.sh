#!/usr/bin/env bash
# tests/cli/test_auth.sh <build_dir>
#
# The CLI's authentication: the ed25519 sandbox user logs in (plain TCP,
# TLS, Unix socket) as with the reference client `mariadb`; a wrong password
# fails with the server's 1045 for both and the password is not echoed;
# --server-public-key-path, --get-server-public-key and
# --enable-cleartext-plugin are accepted (and listed by --help) and leave a
# native login as it is. Needs the sandbox (MYR_TEST_*); never skips.
set -uo pipefail
BUILD=${1:?usage: test_auth.sh <build_dir>}
OURS=$(cd "$BUILD" && pwd)/myring
REF=$(command -v mariadb || true)
fail_setup() { echo "test_auth: FAIL: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
for v in MYR_TEST_HOST MYR_TEST_PORT MYR_TEST_SOCKET MYR_TEST_USER MYR_TEST_PASSWORD \
         MYR_TEST_ED25519_USER MYR_TEST_ED25519_PASSWORD; do
  [ -n "${!v:-}" ] || fail_setup "$v is not set (start the sandbox: eval \"\$(tests/sandbox.sh env)\")"
done
[ -x "$OURS" ] || fail_setup "no myring binary at $OURS"
[ -n "$REF" ] || fail_setup "the reference client 'mariadb' is not installed"
passed=0 failed=0
ok()  { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1: $2"; }
ED=$MYR_TEST_ED25519_USER
TCP=(-h "$MYR_TEST_HOST" -P "$MYR_TEST_PORT")

# same NAME ARGS...: ours and the reference print the same and exit alike.
same() {
  local name=$1; shift
  local o r orc rrc
  o=$("$OURS" --no-defaults "$@" 2>&1); orc=$?
  r=$("$REF" --no-defaults "$@" 2>&1); rrc=$?
  if [ $orc -eq $rrc ] && [ "$o" = "$r" ]; then ok "$name"
  else bad "$name" "ours ($orc): $o | reference ($rrc): $r"; fi
}

same ed25519_tcp "${TCP[@]}" --skip-ssl -u "$ED" -p"$MYR_TEST_ED25519_PASSWORD" -N -e "SELECT CURRENT_USER()"
same ed25519_tls "${TCP[@]}" --ssl -u "$ED" -p"$MYR_TEST_ED25519_PASSWORD" -N -e "SELECT CURRENT_USER()"
same ed25519_socket -S "$MYR_TEST_SOCKET" -u "$ED" -p"$MYR_TEST_ED25519_PASSWORD" -N -e "SELECT CURRENT_USER()"

# A wrong password: both exit 1 with ERROR 1045; ours never shows it.
BADPW=wrong-ed-pw-4711
o=$("$OURS" --no-defaults "${TCP[@]}" -u "$ED" -p"$BADPW" -e "SELECT 1" 2>&1); orc=$?
r=$("$REF" --no-defaults "${TCP[@]}" -u "$ED" -p"$BADPW" -e "SELECT 1" 2>&1); rrc=$?
if [ $orc -eq 1 ] && [ $rrc -eq 1 ] && [[ $o == *"ERROR 1045 (28000)"* ]] && [[ $r == *"ERROR 1045 (28000)"* ]] \
   && [[ $o != *"$BADPW"* ]]; then ok ed25519_wrong_password
else bad ed25519_wrong_password "ours ($orc): $o | reference ($rrc): $r"; fi

# The auth options are accepted and do not disturb a native login.
o=$("$OURS" --no-defaults "${TCP[@]}" -u "$MYR_TEST_USER" -p"$MYR_TEST_PASSWORD" --get-server-public-key \
    --server-public-key-path=/nonexistent/key.pem --enable-cleartext-plugin -N -e "SELECT 42" 2>&1); rc=$?
if [ $rc -eq 0 ] && [ "$o" = "42" ]; then ok auth_flags_accepted; else bad auth_flags_accepted "($rc): $o"; fi
h=$("$OURS" --help 2>&1)
if [[ $h == *--server-public-key-path* ]] && [[ $h == *--get-server-public-key* ]] \
   && [[ $h == *--enable-cleartext-plugin* ]]; then ok help_lists_auth_flags
else bad help_lists_auth_flags "$h"; fi
# The path flag needs its argument, as every required-argument option.
o=$("$OURS" --no-defaults --server-public-key-path 2>&1); rc=$?
if [ $rc -ne 0 ]; then ok key_path_needs_argument; else bad key_path_needs_argument "($rc): $o"; fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
