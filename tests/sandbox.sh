#!/usr/bin/env bash
# tests/sandbox.sh start|stop|restart|env|status|cnf [DIR]
#
# A throwaway MariaDB server for the tests and the demo. Everything it owns lives
# in one directory (default: <repo>/build/sandbox; override with $MYR_SANDBOX_DIR
# or the DIR argument): datadir, my.cnf, pid file, error log, the chosen port and,
# unless the path would be too long for a unix socket, the socket itself. It
# never touches a system MariaDB (/etc/mysql, /var/lib/mysql, /run/mysqld, port
# 3306): it reads only its own my.cnf and picks its own free port.
#
#   start    init the datadir if needed, start mariadbd, wait until it answers,
#            create the test users and database. No-op if already running.
#   stop     clean shutdown (bounded; SIGTERM/SIGKILL as a last resort). OK if
#            not running.
#   env      print shell exports for the tests:  eval "$(tests/sandbox.sh env)"
#   status   print whether it runs (exit 0 if it answers, 1 if not).
#   cnf      print the path of a my.cnf usable by clients as root, e.g.
#            mariadb --defaults-file="$(tests/sandbox.sh cnf)"
#
# Users (all with ALL PRIVILEGES ON *.* WITH GRANT OPTION):
#   myr / myr_pw  (mysql_native_password)   at '%', 'localhost', '127.0.0.1', '::1'
#   myr_nopw      (no password)             same hosts
#   myr_ed / myr_ed_pw (ed25519; privileges on myr_test only)  same hosts
#   myr_ssl / myr_pw  REQUIRE SSL;  myr_x509 / myr_pw  REQUIRE X509 (privileges on myr_test)
# Database: myr_test.  TLS: a throwaway CA + server certificate in DIR/tls when
# openssl is available (exported as MYR_TEST_SSL_CA; also MYR_TEST_SSL_CERT/KEY,
# a client certificate, and MYR_TEST_SSL_OTHER_CA, an unrelated CA). The server
# certificate names localhost and ::1, not 127.0.0.1 (see make_tls).
#
# Environment knobs: MYR_SANDBOX_DIR, MYR_SANDBOX_PORT (preferred port, default
# 13306), MYR_SANDBOX_TIMEOUT (seconds to wait for start/stop, default 60).
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
CMD=${1:-}
DIR=${2:-${MYR_SANDBOX_DIR:-$REPO/build/sandbox}}
PREFERRED_PORT=${MYR_SANDBOX_PORT:-13306}
TIMEOUT=${MYR_SANDBOX_TIMEOUT:-60}

USER_NAME=myr
USER_PW=myr_pw
NOPW_USER=myr_nopw
DB_NAME=myr_test
SSL_USER=myr_ssl      # REQUIRE SSL, password myr_pw
X509_USER=myr_x509    # REQUIRE X509, password myr_pw
ED_USER=myr_ed        # MariaDB's ed25519 plugin (client_ed25519)
ED_PW=myr_ed_pw

log() { echo "sandbox: $*" >&2; }
die() { echo "sandbox: error: $*" >&2; exit 1; }

usage() {
  echo "usage: $0 start|stop|restart|env|status|cnf [DIR]" >&2
  exit 2
}

find_bin() {   # first of the given names found on PATH (MariaDB renamed mysql* to mariadb*)
  local n
  for n in "$@"; do
    if command -v "$n" >/dev/null 2>&1; then command -v "$n"; return 0; fi
    for d in /usr/sbin /usr/local/sbin /usr/bin; do
      if [ -x "$d/$n" ]; then echo "$d/$n"; return 0; fi
    done
  done
  return 1
}

resolve_paths() {
  mkdir -p "$DIR"
  DIR=$(cd "$DIR" && pwd)
  DATADIR=$DIR/data
  CNF=$DIR/my.cnf
  PIDFILE=$DIR/mariadbd.pid
  ERRLOG=$DIR/error.log
  PORTFILE=$DIR/port
  SOCKFILE=$DIR/socket_path     # records where the socket is (may be outside DIR)
  INITMARK=$DIR/.initialized
}

# ---------------------------------------------------------------- socket path
# sun_path is 108 bytes including the NUL; keep some margin. If DIR is too deep,
# put the socket in a short private temp dir and record it in DIR/socket_path.
choose_socket() {
  local s=$DIR/mysqld.sock
  if [ ${#s} -gt 100 ]; then
    local old=""
    [ -f "$SOCKFILE" ] && old=$(cat "$SOCKFILE")
    if [ -n "$old" ] && [ "${old#"${TMPDIR:-/tmp}"/myr-sb.}" != "$old" ] \
       && [ -d "$(dirname "$old")" ] && [ -O "$(dirname "$old")" ]; then
      s=$old
    else
      s=$(mktemp -d "${TMPDIR:-/tmp}/myr-sb.XXXXXX")/mysqld.sock
    fi
  fi
  [ ${#s} -le 100 ] || die "socket path too long even in the temp dir: $s"
  echo "$s" > "$SOCKFILE"
  SOCKET=$s
}

current_socket() {
  if [ -f "$SOCKFILE" ]; then cat "$SOCKFILE"; else echo "$DIR/mysqld.sock"; fi
}

# ------------------------------------------------------------------ TCP port
PY=""
for p in /usr/bin/python3 python3; do
  if command -v "$p" >/dev/null 2>&1; then PY=$p; break; fi
done

port_free() {   # can we bind 127.0.0.1:$1 (what mariadbd will do)?
  local port=$1
  if [ -n "$PY" ]; then
    "$PY" - "$port" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # as mariadbd does
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
  else
    # No python: a listener answering a connect means busy.
    ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

choose_port() {   # $1: ports to avoid (space separated)
  local avoid=" ${1:-} " p cand=("$PREFERRED_PORT")
  for p in $(seq $((PREFERRED_PORT + 1)) $((PREFERRED_PORT + 200))); do cand+=("$p"); done
  for _ in $(seq 1 50); do cand+=($((20000 + RANDOM % 30000))); done
  for p in "${cand[@]}"; do
    case "$p" in ''|*[!0-9]*) continue ;; esac
    [ "$p" -ge 1024 ] && [ "$p" -le 65535 ] || continue
    case "$avoid" in *" $p "*) continue ;; esac
    if port_free "$p"; then echo "$p"; return 0; fi
  done
  die "no free TCP port found near $PREFERRED_PORT"
}

# ------------------------------------------------------------- process state
is_our_mariadbd() {   # pid $1 alive and a mariadbd started with our my.cnf?
  local pid=$1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "--defaults-file=$CNF"
}

server_pid() {   # pid of our running server, or nothing
  local pid=""
  if [ -f "$PIDFILE" ]; then
    pid=$(tr -dc '0-9' < "$PIDFILE")
    if is_our_mariadbd "$pid"; then echo "$pid"; return 0; fi
  fi
  # Pid file missing or stale (e.g. the server is still starting, or was killed
  # and the pid reused): look for a process started with our exact my.cnf.
  local f
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    if is_our_mariadbd "$pid"; then echo "$pid"; return 0; fi
  done 2>/dev/null
  return 0
}

ADMIN=""
CLIENT=""
find_clients() {
  ADMIN=$(find_bin mariadb-admin mysqladmin) || die "mariadb-admin not found (install mariadb-client)"
  CLIENT=$(find_bin mariadb mysql) || die "mariadb client not found (install mariadb-client)"
}

answers() {   # does the server answer a ping over its socket?
  [ -f "$CNF" ] || return 1
  "$ADMIN" --defaults-file="$CNF" --connect-timeout=2 ping >/dev/null 2>&1
}

sql() {   # run SQL as root over the socket
  "$CLIENT" --defaults-file="$CNF" --batch --skip-column-names -e "$1"
}

# ------------------------------------------------------------------ my.cnf
write_cnf() {   # $1 port
  local port=$1 plugin_dir userline="" ed=""
  plugin_dir=$(find_plugin_dir)
  [ "$(id -u)" -eq 0 ] && userline="user=root"
  [ -n "$plugin_dir" ] && [ -f "$plugin_dir/auth_ed25519.so" ] && ed="plugin-load-add=auth_ed25519"
  local tls=""
  if [ -f "$DIR/tls/server-cert.pem" ]; then
    tls="ssl-ca=$DIR/tls/ca.pem
ssl-cert=$DIR/tls/server-cert.pem
ssl-key=$DIR/tls/server-key.pem"
  fi
  mkdir -p "$DIR/tmp" "$DIR/files"
  cat > "$CNF.tmp" <<EOF
# Generated by tests/sandbox.sh; rewritten on every start.
[client]
user=root
socket=$SOCKET
port=$port
protocol=socket

[mysqld]
$userline
datadir=$DATADIR
socket=$SOCKET
port=$port
pid-file=$PIDFILE
log-error=$ERRLOG
tmpdir=$DIR/tmp
secure-file-priv=$DIR/files
${plugin_dir:+plugin-dir=$plugin_dir}
skip-networking=0
bind-address=127.0.0.1,::1
skip-name-resolve
max_connections=2000
max_allowed_packet=1G
max_connect_errors=1000000
back_log=1000
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
skip-log-bin
performance_schema=OFF
innodb_buffer_pool_size=64M
innodb_log_file_size=32M
innodb_flush_log_at_trx_commit=2
innodb_doublewrite=0
$ed
$tls
EOF
  mv "$CNF.tmp" "$CNF"
}

find_plugin_dir() {
  local d
  for d in /usr/lib/mysql/plugin /usr/lib/mariadb/plugin /usr/lib64/mysql/plugin; do
    [ -d "$d" ] && { echo "$d"; return 0; }
  done
  return 0
}

# A throwaway CA + server certificate so TLS tests have something to talk to.
# The server certificate names DNS:localhost and IP:::1 but NOT 127.0.0.1:
# host-name verification passes for "localhost" and "::1" and fails, as it
# must, for 127.0.0.1 (the name-mismatch case). Also a client certificate
# from the same CA (for the REQUIRE X509 user) and an unrelated second CA
# (the unknown-CA case). TLS_LAYOUT bumps when the set changes.
TLS_LAYOUT=3
make_tls() {
  [ -f "$DIR/tls/server-cert.pem" ] && [ "$(cat "$DIR/tls/layout" 2>/dev/null)" = "$TLS_LAYOUT" ] && return 0
  command -v openssl >/dev/null 2>&1 || { log "openssl not found: the sandbox runs without TLS"; return 0; }
  local t=$DIR/tls
  rm -rf "$t"
  mkdir -p "$t"
  (
    cd "$t"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=myring sandbox CA" \
      -keyout ca-key.pem -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
      -keyout server-key.pem -out server.csr
    printf 'subjectAltName=DNS:localhost,IP:::1\nbasicConstraints=CA:FALSE\n' > ext.cnf
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 \
      -extfile ext.cnf -out server-cert.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=myr_x509" \
      -keyout client-key.pem -out client.csr
    printf 'basicConstraints=CA:FALSE\n' > ext.cnf
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 \
      -extfile ext.cnf -out client-cert.pem
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=myring other CA" \
      -keyout other-ca-key.pem -out other-ca.pem
    # Expired yesterday (same CA, right names): for a scripted TLS server in
    # tests/integration/test_tls.c, since no real server here presents one.
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
      -keyout expired-key.pem -out expired.csr
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > ext.cnf
    openssl x509 -req -in expired.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days -1 \
      -extfile ext.cnf -out expired-cert.pem
    rm -f server.csr client.csr expired.csr ext.cnf
    echo "$TLS_LAYOUT" > layout
  ) >/dev/null 2>&1 || { log "could not make TLS certificates: the sandbox runs without TLS"; rm -rf "$t"; }
}

# ------------------------------------------------------------------ commands
init_datadir() {
  [ -f "$INITMARK" ] && [ -d "$DATADIR/mysql" ] && return 0
  local installdb
  installdb=$(find_bin mariadb-install-db mysql_install_db) || die "mariadb-install-db not found (install mariadb-server)"
  rm -rf "$DATADIR" "$INITMARK"
  mkdir -p "$DATADIR"
  log "initialising $DATADIR"
  # --defaults-file must come first; the my.cnf already names datadir, user etc.
  # 'normal' root auth: root@localhost with an empty password (not unix_socket),
  # so it works whatever user runs the sandbox.
  if ! "$installdb" --defaults-file="$CNF" --auth-root-authentication-method=normal \
        --skip-test-db --skip-name-resolve >"$DIR/install-db.log" 2>&1; then
    tail -n 30 "$DIR/install-db.log" >&2
    die "mariadb-install-db failed (full log: $DIR/install-db.log)"
  fi
  touch "$INITMARK"
}

create_users() {
  local q="" h
  # mariadb-install-db may create anonymous users (''@localhost, ''@<hostname>):
  # they would shadow myr@'%' for local connections. Drop them.
  q+="DELETE FROM mysql.global_priv WHERE User='';"
  # ... and root@<hostname>, which --skip-name-resolve warns about at every start.
  q+="DELETE FROM mysql.global_priv WHERE User='root' AND Host NOT IN ('localhost','127.0.0.1','::1');"
  q+="DELETE FROM mysql.proxies_priv WHERE Host NOT IN ('localhost','127.0.0.1','::1','%','');"
  q+="FLUSH PRIVILEGES;"
  for h in '%' 'localhost' '127.0.0.1' '::1'; do
    q+="CREATE USER IF NOT EXISTS '$USER_NAME'@'$h' IDENTIFIED VIA mysql_native_password USING PASSWORD('$USER_PW');"
    q+="ALTER USER '$USER_NAME'@'$h' IDENTIFIED VIA mysql_native_password USING PASSWORD('$USER_PW');"
    q+="GRANT ALL PRIVILEGES ON *.* TO '$USER_NAME'@'$h' WITH GRANT OPTION;"
    q+="CREATE USER IF NOT EXISTS '$NOPW_USER'@'$h';"
    q+="ALTER USER '$NOPW_USER'@'$h' IDENTIFIED VIA mysql_native_password USING '';"
    q+="GRANT ALL PRIVILEGES ON *.* TO '$NOPW_USER'@'$h' WITH GRANT OPTION;"
  done
  # TLS users: one that must come over TLS, one that must show a client
  # certificate from the sandbox CA (tls/client-cert.pem).
  for h in '%' 'localhost' '127.0.0.1' '::1'; do
    q+="CREATE USER IF NOT EXISTS '$SSL_USER'@'$h' IDENTIFIED BY '$USER_PW' REQUIRE SSL;"
    q+="CREATE USER IF NOT EXISTS '$X509_USER'@'$h' IDENTIFIED BY '$USER_PW' REQUIRE X509;"
    q+="GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$SSL_USER'@'$h';"
    q+="GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$X509_USER'@'$h';"
  done
  # An ed25519 user (the plugin is loaded by my.cnf: plugin-load-add).
  for h in '%' 'localhost' '127.0.0.1' '::1'; do
    q+="CREATE USER IF NOT EXISTS '$ED_USER'@'$h' IDENTIFIED VIA ed25519 USING PASSWORD('$ED_PW');"
    q+="ALTER USER '$ED_USER'@'$h' IDENTIFIED VIA ed25519 USING PASSWORD('$ED_PW');"
    q+="GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$ED_USER'@'$h';"
  done
  q+="CREATE DATABASE IF NOT EXISTS \`$DB_NAME\`;"
  q+="FLUSH PRIVILEGES;"
  sql "$q" || die "could not create the test users/database"
}

fail_start() {
  log "the server did not come up; last lines of $ERRLOG:"
  tail -n 40 "$ERRLOG" >&2 2>/dev/null || true
  die "$1"
}

do_start() {
  resolve_paths
  find_clients
  local pid
  pid=$(server_pid)
  if [ -n "$pid" ]; then
    if answers; then
      log "already running (pid $pid, port $(cat "$PORTFILE" 2>/dev/null), socket $(current_socket))"
      return 0
    fi
    # Alive but not answering: maybe still starting. Give it the usual bound.
    log "server pid $pid exists but does not answer yet; waiting"
    local t=0
    while [ $t -lt $((TIMEOUT * 5)) ]; do
      answers && { create_users; log "running (pid $pid)"; return 0; }
      is_our_mariadbd "$pid" || break
      sleep 0.2; t=$((t + 1))
    done
    if is_our_mariadbd "$pid"; then
      log "pid $pid never answered; stopping it"
      do_stop_pid "$pid"
    fi
  fi

  # Stale state from a killed server: pid file, socket, lock files.
  rm -f "$PIDFILE"
  local oldsock
  oldsock=$(current_socket)
  [ -S "$oldsock" ] && rm -f "$oldsock" "$oldsock.lock"

  local mariadbd
  mariadbd=$(find_bin mariadbd mysqld) || die "mariadbd not found (install mariadb-server)"

  choose_socket
  make_tls
  local tried="" port
  for _ in 1 2 3; do
    port=$(choose_port "$tried")
    tried="$tried $port"
    echo "$port" > "$PORTFILE"
    write_cnf "$port"
    init_datadir
    : >> "$ERRLOG"
    local logpos
    logpos=$(wc -c < "$ERRLOG")
    log "starting mariadbd on 127.0.0.1:$port, socket $SOCKET, dir $DIR"
    # Own session so a ^C in the terminal does not hit it; all fds redirected so
    # nobody waiting on our stdout (CI) waits on the server.
    # OpenSSL's configuration for the server: accept TLS 1.3 resumptions
    # without a key exchange (psk_ke), which OpenSSL refuses by default, so
    # that MYR_OPT_TLS_RESUME_PSK_ONLY has a server to resume with.
    printf 'openssl_conf = openssl_init\n[openssl_init]\nssl_conf = ssl_sect\n[ssl_sect]\n%s\n%s\n%s\n' \
      'system_default = system_default_sect' '[system_default_sect]' 'Options = AllowNoDHEKEX' \
      > "$DIR/openssl.cnf"
    OPENSSL_CONF=$DIR/openssl.cnf setsid "$mariadbd" --defaults-file="$CNF" </dev/null >>"$DIR/mariadbd.out" 2>&1 &
    local launched=$! t=0 ok=0
    while [ $t -lt $((TIMEOUT * 5)) ]; do
      if answers; then ok=1; break; fi
      if ! kill -0 "$launched" 2>/dev/null && [ -z "$(server_pid)" ]; then break; fi
      sleep 0.2; t=$((t + 1))
    done
    if [ $ok = 1 ]; then
      create_users
      log "running (pid $(server_pid), port $port, socket $SOCKET)"
      return 0
    fi
    # Lost a race for the port? Try another one.
    if tail -c +"$((logpos + 1))" "$ERRLOG" | grep -qiE "bind on tcp/ip port|address already in use"; then
      log "port $port was taken meanwhile; trying another"
      pid=$(server_pid); [ -n "$pid" ] && do_stop_pid "$pid"
      continue
    fi
    pid=$(server_pid)
    if [ -n "$pid" ]; then
      do_stop_pid "$pid"
      fail_start "mariadbd did not answer within ${TIMEOUT}s"
    fi
    fail_start "mariadbd exited during start-up (to start afresh: rm -rf $DIR)"
  done
  fail_start "could not bind a TCP port after 3 attempts"
}

do_stop_pid() {   # stop pid $1: clean shutdown, then TERM, then KILL; all bounded
  local pid=$1 t
  if answers; then
    "$ADMIN" --defaults-file="$CNF" --connect-timeout=5 shutdown >/dev/null 2>&1 || true
  else
    kill -TERM "$pid" 2>/dev/null || true
  fi
  t=0
  while is_our_mariadbd "$pid" && [ $t -lt $((TIMEOUT * 5)) ]; do sleep 0.2; t=$((t + 1)); done
  if is_our_mariadbd "$pid"; then
    log "pid $pid still alive after ${TIMEOUT}s; SIGTERM"
    kill -TERM "$pid" 2>/dev/null || true
    t=0
    while is_our_mariadbd "$pid" && [ $t -lt 100 ]; do sleep 0.2; t=$((t + 1)); done
  fi
  if is_our_mariadbd "$pid"; then
    log "pid $pid still alive; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    t=0
    while is_our_mariadbd "$pid" && [ $t -lt 50 ]; do sleep 0.2; t=$((t + 1)); done
  fi
  # Reap a zombie if it is our child (it is not, normally: setsid'd in a former run).
  wait "$pid" 2>/dev/null || true
}

do_stop() {
  resolve_paths
  find_clients
  local pid sock
  pid=$(server_pid)
  if [ -n "$pid" ]; then
    log "stopping (pid $pid)"
    do_stop_pid "$pid"
    is_our_mariadbd "$pid" && die "could not stop pid $pid"
  else
    log "not running"
  fi
  rm -f "$PIDFILE"
  sock=$(current_socket)
  [ -S "$sock" ] && rm -f "$sock" "$sock.lock"
  # A socket in a temp dir of ours: remove the dir too.
  case "$sock" in
    "${TMPDIR:-/tmp}"/myr-sb.*/mysqld.sock)
      rm -f "$sock.lock"; rmdir "$(dirname "$sock")" 2>/dev/null || true
      rm -f "$SOCKFILE" ;;
  esac
  return 0
}

do_env() {
  resolve_paths
  find_clients
  if [ -z "$(server_pid)" ] || ! answers; then
    die "not running (start it with: tests/sandbox.sh start)"
  fi
  local port sock
  port=$(cat "$PORTFILE")
  sock=$(current_socket)
  printf 'export MYR_TEST_HOST=127.0.0.1\n'
  printf 'export MYR_TEST_PORT=%s\n' "$port"
  printf 'export MYR_TEST_SOCKET=%q\n' "$sock"
  printf 'export MYR_TEST_USER=%s\n' "$USER_NAME"
  printf 'export MYR_TEST_PASSWORD=%s\n' "$USER_PW"
  printf 'export MYR_TEST_DB=%s\n' "$DB_NAME"
  printf 'export MYR_TEST_USER_NOPW=%s\n' "$NOPW_USER"
  printf 'export MYR_TEST_ED25519_USER=%s\n' "$ED_USER"
  printf 'export MYR_TEST_ED25519_PASSWORD=%s\n' "$ED_PW"
  if [ -f "$DIR/tls/ca.pem" ]; then
    printf 'export MYR_TEST_SSL_CA=%q\n' "$DIR/tls/ca.pem"
    printf 'export MYR_TEST_SSL_CERT=%q\n' "$DIR/tls/client-cert.pem"
    printf 'export MYR_TEST_SSL_KEY=%q\n' "$DIR/tls/client-key.pem"
    printf 'export MYR_TEST_SSL_OTHER_CA=%q\n' "$DIR/tls/other-ca.pem"
    printf 'export MYR_TEST_USER_SSL=%s\n' "$SSL_USER"
    printf 'export MYR_TEST_USER_X509=%s\n' "$X509_USER"
  fi
  printf 'export MYR_SANDBOX_DIR=%q\n' "$DIR"
}

do_status() {
  resolve_paths
  find_clients
  local pid
  pid=$(server_pid)
  if [ -n "$pid" ] && answers; then
    echo "running: pid $pid, port $(cat "$PORTFILE"), socket $(current_socket), dir $DIR"
    return 0
  elif [ -n "$pid" ]; then
    echo "not answering: pid $pid, dir $DIR"
    return 1
  fi
  echo "stopped: dir $DIR"
  return 1
}

case "$CMD" in
  start)   do_start ;;
  stop)    do_stop ;;
  restart) do_stop; do_start ;;
  env)     do_env ;;
  status)  do_status ;;
  cnf)     resolve_paths; echo "$CNF" ;;
  *)       usage ;;
esac
