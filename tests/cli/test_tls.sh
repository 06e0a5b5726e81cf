#!/usr/bin/env bash
# tests/cli/test_tls.sh <build_dir>
#
# The CLI's TLS options against the sandbox, checked from the server's side
# (SHOW SESSION STATUS LIKE 'Ssl_version'), with the reference client
# `mariadb` run on the same cases where it has the option: both must
# succeed or both fail with error 2026 (the messages differ: wolfSSL's and
# OpenSSL's words). MySQL's --ssl-mode has no mariadb 10.11 counterpart: it
# is checked on its own. Needs the sandbox (MYR_TEST_*); never skips.
set -uo pipefail
BUILD=${1:?usage: test_tls.sh <build_dir>}
OURS=$(cd "$BUILD" && pwd)/myring
REF=$(command -v mariadb || true)
fail_setup() { echo "test_tls: FAIL: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
for v in MYR_TEST_HOST MYR_TEST_PORT MYR_TEST_USER MYR_TEST_PASSWORD MYR_TEST_SSL_CA MYR_TEST_SSL_OTHER_CA \
         MYR_TEST_SSL_CERT MYR_TEST_SSL_KEY MYR_TEST_USER_X509 MYR_TEST_USER_SSL; do
  [ -n "${!v:-}" ] || fail_setup "$v is not set (start the sandbox: eval \"\$(tests/sandbox.sh env)\")"
done
[ -x "$OURS" ] || fail_setup "no myring binary at $OURS"
[ -n "$REF" ] || fail_setup "the reference client 'mariadb' is not installed"
P=$MYR_TEST_PORT
Q="SHOW SESSION STATUS LIKE 'Ssl_version'"
passed=0 failed=0
ok()  { passed=$((passed + 1)); echo "PASS $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1: $2"; }

# case NAME WANT ARGS...: WANT is a Ssl_version value ("" = plaintext) or
# "2026:<text>" (exit 1, ERROR 2026 naming <text>).
case_ours() {
  local name=$1 want=$2; shift 2
  local out rc
  out=$("$OURS" --no-defaults -N -e "$Q" "$@" 2>&1); rc=$?
  if [[ $want == 2026:* ]]; then
    if [ $rc -eq 1 ] && [[ $out == *"ERROR 2026 (HY000): SSL connection error"*"${want#2026:}"* ]]; then ok "$name"
    else bad "$name" "want exit 1 and 2026 '${want#2026:}', got $rc: $out"; fi
  elif [ $rc -eq 0 ] && [ "$out" = "Ssl_version	$want" ]; then ok "$name"
  else bad "$name" "want Ssl_version '$want', got $rc: $out"; fi
}
# Same case with the reference: only the outcome (TLS or not, or 2026) must agree.
case_both() {
  local name=$1 want=$2; shift 2
  case_ours "$name" "$want" "$@"
  local out rc
  out=$("$REF" --no-defaults -N -e "$Q" "$@" 2>&1); rc=$?
  if [[ $want == 2026:* ]]; then
    if [ $rc -eq 1 ] && [[ $out == *"ERROR 2026"* ]]; then ok "$name (mariadb agrees)"
    else bad "$name (mariadb)" "reference did not fail with 2026: $rc $out"; fi
  else
    local agree=0
    if [ $rc -eq 0 ]; then
      if [ -z "$want" ]; then [ "$out" = "Ssl_version	" ] && agree=1
      else [[ $out == "Ssl_version	TLSv1."* ]] && agree=1; fi
    fi
    if [ $agree = 1 ]; then ok "$name (mariadb agrees)"; else bad "$name (mariadb)" "reference: $rc $out"; fi
  fi
}
TCP=(-h 127.0.0.1 -P "$P" -u "$MYR_TEST_USER" -p"$MYR_TEST_PASSWORD")
LOCAL=(-h localhost -P "$P" --protocol=tcp -u "$MYR_TEST_USER" -p"$MYR_TEST_PASSWORD")

case_both "skip-ssl" "" "${TCP[@]}" --skip-ssl
case_both "ssl" "TLSv1.3" "${TCP[@]}" --ssl
case_both "ssl-ca implies ssl" "TLSv1.3" "${TCP[@]}" --ssl-ca="$MYR_TEST_SSL_CA"
case_both "verify localhost" "TLSv1.3" "${LOCAL[@]}" --ssl-ca="$MYR_TEST_SSL_CA" --ssl-verify-server-cert
case_both "verify 127.0.0.1: name mismatch" "2026:name mismatch" "${TCP[@]}" --ssl-ca="$MYR_TEST_SSL_CA" --ssl-verify-server-cert
case_both "verify other CA: unknown CA" "2026:unknown CA" "${LOCAL[@]}" --ssl-ca="$MYR_TEST_SSL_OTHER_CA" --ssl-verify-server-cert
case_both "tls-version TLSv1.2" "TLSv1.2" "${TCP[@]}" --ssl --tls-version=TLSv1.2
case_both "x509 user with cert" "TLSv1.3" -h 127.0.0.1 -P "$P" -u "$MYR_TEST_USER_X509" -p"$MYR_TEST_PASSWORD" \
  --ssl-cert="$MYR_TEST_SSL_CERT" --ssl-key="$MYR_TEST_SSL_KEY"
case_ours "default is PREFERRED" "TLSv1.3" "${TCP[@]}"
case_ours "ssl-mode DISABLED" "" "${TCP[@]}" --ssl-mode=DISABLED
case_ours "ssl-mode REQUIRED" "TLSv1.3" "${TCP[@]}" --ssl-mode=required
case_ours "ssl-mode VERIFY_CA 127.0.0.1" "TLSv1.3" "${TCP[@]}" --ssl-mode=VERIFY_CA --ssl-ca="$MYR_TEST_SSL_CA"
case_ours "ssl-mode VERIFY_IDENTITY 127.0.0.1" "2026:name mismatch" "${TCP[@]}" --ssl-mode=VERIFY_IDENTITY --ssl-ca="$MYR_TEST_SSL_CA"
case_ours "ssl-mode VERIFY_IDENTITY ::1" "TLSv1.3" -h ::1 -P "$P" -u "$MYR_TEST_USER" -p"$MYR_TEST_PASSWORD" \
  --ssl-mode=VERIFY_IDENTITY --ssl-ca="$MYR_TEST_SSL_CA"
case_ours "ssl-cipher" "TLSv1.2" "${TCP[@]}" --ssl-mode=REQUIRED --tls-version=TLSv1.2 --ssl-cipher=ECDHE-RSA-AES128-GCM-SHA256

out=$("$OURS" --no-defaults "${TCP[@]}" --ssl-mode=SOMETIMES -e "$Q" 2>&1); rc=$?
if [ $rc -eq 2 ] && [[ $out == *"Invalid value 'SOMETIMES' for --ssl-mode"* ]]; then ok "bad ssl-mode"
else bad "bad ssl-mode" "$rc $out"; fi
out=$("$OURS" --no-defaults -h 127.0.0.1 -P "$P" -u "$MYR_TEST_USER_SSL" -p"$MYR_TEST_PASSWORD" --skip-ssl -e "$Q" 2>&1); rc=$?
if [ $rc -eq 1 ] && [[ $out == *"ERROR 1045"* ]]; then ok "REQUIRE SSL user refused in clear"
else bad "REQUIRE SSL user refused in clear" "$rc $out"; fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
