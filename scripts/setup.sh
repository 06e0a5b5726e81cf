#!/usr/bin/env bash
# scripts/setup.sh [--sanitize]
#
# Installs what is missing (Debian 12, as root) and builds with CMake:
#   (default)    build/        RelWithDebInfo
#   --sanitize   build-asan/   -DMYR_SANITIZE=ON (AddressSanitizer + UBSan)
# Idempotent: apt-get runs only if a package is missing, and `apt-get update`
# only then. Installing mariadb-server does NOT start Debian's system MariaDB
# (a temporary policy-rc.d forbids it); a system server already running is
# left alone: the tests use their own sandbox (tests/sandbox.sh).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)

SANITIZE=0
for a in "$@"; do
  case "$a" in
    --sanitize) SANITIZE=1 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown argument: $a" >&2; exit 2 ;;
  esac
done

PACKAGES=(
  build-essential cmake pkg-config
  liburing-dev libwolfssl-dev libsodium-dev libcmocka-dev
  mariadb-server mariadb-client libmariadb-dev
  python3-pymysql
  libuv1-dev       # examples/libuv_daemon.c
  libedit-dev      # the CLI's interactive line editing and history
  python3-nacl     # pymysql's ed25519 (client_ed25519 vectors in tests/conn/test_auth_plugins.c)
  openssl          # the sandbox makes a throwaway CA + server certificate for TLS tests
  clang libclang-rt-14-dev   # the libFuzzer targets (tests/fuzz/run.sh)
)

installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

MISSING=()
for p in "${PACKAGES[@]}"; do
  installed "$p" || MISSING+=("$p")
done

SUDO=()
POLICY=/usr/sbin/policy-rc.d
POLICY_BACKUP=""
POLICY_OURS=0
restore_policy() {
  if [ "$POLICY_OURS" = 1 ]; then
    if [ -n "$POLICY_BACKUP" ]; then
      "${SUDO[@]}" cp -p "$POLICY_BACKUP" "$POLICY" && rm -f "$POLICY_BACKUP"
    else
      "${SUDO[@]}" rm -f "$POLICY"
    fi
    POLICY_OURS=0
  fi
}

if [ ${#MISSING[@]} -gt 0 ]; then
  echo "setup: installing: ${MISSING[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      SUDO=(sudo)
    else
      echo "setup: these packages are missing and we are not root: ${MISSING[*]}" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  # Forbid service starts while installing (mariadb-server's postinst would
  # start the system server via invoke-rc.d / deb-systemd-invoke, which both
  # honour policy-rc.d). An existing policy-rc.d is put back afterwards.
  trap restore_policy EXIT
  trap 'restore_policy; exit 130' INT TERM
  if [ -e "$POLICY" ]; then
    POLICY_BACKUP=$(mktemp)
    cp -p "$POLICY" "$POLICY_BACKUP"
  fi
  POLICY_OURS=1
  printf '#!/bin/sh\n# temporary, from myring scripts/setup.sh: start no services\nexit 101\n' \
    | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"

  APT_OPTS=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold
            -o Dpkg::Use-Pty=0)
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q update </dev/null
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install --no-install-recommends \
    "${APT_OPTS[@]}" "${MISSING[@]}" </dev/null
  restore_policy
  trap - EXIT INT TERM

  for p in "${MISSING[@]}"; do
    installed "$p" || { echo "setup: $p is still not installed" >&2; exit 1; }
  done
else
  echo "setup: all packages present"
fi

if [ "$SANITIZE" = 1 ]; then
  BUILD=$REPO/build-asan
  CMAKE_ARGS=(-DMYR_SANITIZE=ON)
else
  BUILD=$REPO/build
  CMAKE_ARGS=()
fi

JOBS=$(nproc 2>/dev/null || echo 2)
echo "setup: configuring ${BUILD#"$REPO"/}/"
cmake -S "$REPO" -B "$BUILD" "${CMAKE_ARGS[@]}"
echo "setup: building ${BUILD#"$REPO"/}/ with -j$JOBS"
cmake --build "$BUILD" -j"$JOBS"
echo "setup: build ${BUILD#"$REPO"/}/ done"
