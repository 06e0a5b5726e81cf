#!/usr/bin/env bash
# tests/cli/test_zeroconf.sh <build_dir> -- MariaDB 11.4+ zero-configuration
# TLS against a scripted server (zeroconf_srv.py: no real 11.4 server here).
# Needs Debian's python3 with PyNaCl (python3-nacl) and openssl.
set -uo pipefail
BUILD=${1:?usage: test_zeroconf.sh <build_dir>}
exec /usr/bin/python3 "$(dirname "$0")/zeroconf_srv.py" "$BUILD/myring"
