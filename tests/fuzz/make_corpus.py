#!/usr/bin/env python3
"""tests/fuzz/make_corpus.py -- writes the fuzz targets' seed corpora.

    python3 tests/fuzz/make_corpus.py [OUTDIR]      (default: tests/fuzz/corpus)

With MYR_TEST_HOST/PORT/USER/PASSWORD set (eval "$(tests/sandbox.sh env)"),
real server bytes are captured first: greetings, logins accepted and refused,
an auth switch (user MYR_TEST_ED_USER, default myr_ed), and the responses to
queries and prepared statements, with and without CLIENT_DEPRECATE_EOF.
Without a server only the synthetic seeds are written (frames, sequence-id
wraps, 16 MiB frames in fuzz_packet's shorthand, caching_sha2 and
sha256_password exchanges with an RSA key, malformed packets). The statement
splitter's seeds are tests/cli/corpus/*.sql plus a few edge cases.

Each file is named seed-<what>; the input layouts are described at the top of
each tests/fuzz/fuzz_<target>.c. Files already there are kept (crash
regressions live beside the seeds as crash-<what>).
"""
import hashlib
import os
import socket
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "corpus")

# capability flags
LONG_PASSWORD, PROTOCOL_41, TRANSACTIONS = 1, 1 << 9, 1 << 13
SECURE_CONNECTION, MULTI_STATEMENTS, MULTI_RESULTS = 1 << 15, 1 << 16, 1 << 17
PS_MULTI_RESULTS, PLUGIN_AUTH, DEPRECATE_EOF = 1 << 18, 1 << 19, 1 << 24
SESSION_TRACK = 1 << 23

written = {}


def put(target, name, data, prefix="seed-"):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, prefix + name), "wb") as f:
        f.write(data)
    written[target] = written.get(target, 0) + 1


def frame(payload, seq):
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload


def frames(payloads, seq0):
    return b"".join(frame(p, seq0 + i) for i, p in enumerate(payloads))


def lenenc(b):
    n = len(b)
    if n < 0xFB:
        return bytes([n]) + b
    if n <= 0xFFFF:
        return b"\xfc" + struct.pack("<H", n) + b
    return b"\xfd" + struct.pack("<I", n)[:3] + b


def split_frames(stream):
    """Payloads and sequence ids of a captured stream (no joining needed here)."""
    out, pos = [], 0
    while len(stream) - pos >= 4:
        n = int.from_bytes(stream[pos:pos + 3], "little")
        out.append((stream[pos + 3], stream[pos + 4:pos + 4 + n]))
        pos += 4 + n
    return out


# ------------------------------------------------------------ live capture
class Server:
    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=5)
        self.buf = b""

    def read_packet(self):
        while True:
            if len(self.buf) >= 4:
                n = int.from_bytes(self.buf[:3], "little")
                if len(self.buf) >= 4 + n:
                    raw = self.buf[:4 + n]
                    self.buf = self.buf[4 + n:]
                    return raw
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def read_response(self, binary=False, deprecate_eof=False, prepare=False):
        """Raw bytes of one whole response (a small response machine)."""
        out = b""
        pkt = self.read_packet()
        out += pkt
        p = pkt[4:]
        if prepare:
            if p[0] != 0:
                return out
            ncols, nparams = struct.unpack("<HH", p[5:9])
            for n in (nparams, ncols):
                if n:
                    for _ in range(n):
                        out += self.read_packet()
                    if not deprecate_eof:
                        out += self.read_packet()
            return out
        while True:
            if p[0] in (0x00, 0xFF):
                if p[0] == 0 and self._more(p):
                    pkt = self.read_packet()
                    out += pkt
                    p = pkt[4:]
                    continue
                return out
            ncols = p[0]
            for _ in range(ncols):
                out += self.read_packet()
            if not deprecate_eof:
                out += self.read_packet()
            while True:
                pkt = self.read_packet()
                out += pkt
                r = pkt[4:]
                if r[0] == 0xFF:
                    return out
                if r[0] == 0xFE and len(r) < 0xFFFFFF:
                    status = struct.unpack("<H", r[3:5])[0] if not deprecate_eof else self._ok_status(r)
                    if status & 8:
                        pkt = self.read_packet()
                        out += pkt
                        p = pkt[4:]
                        break
                    return out

    @staticmethod
    def _lenenc_int(b, pos):
        c = b[pos]
        if c < 0xFB:
            return c, pos + 1
        if c == 0xFC:
            return struct.unpack("<H", b[pos + 1:pos + 3])[0], pos + 3
        if c == 0xFD:
            return int.from_bytes(b[pos + 1:pos + 4], "little"), pos + 4
        return struct.unpack("<Q", b[pos + 1:pos + 9])[0], pos + 9

    def _ok_status(self, p):
        _, pos = self._lenenc_int(p, 1)
        _, pos = self._lenenc_int(p, pos)
        return struct.unpack("<H", p[pos:pos + 2])[0]

    def _more(self, p):
        return self._ok_status(p) & 8

    def send(self, payload, seq):
        self.s.sendall(frame(payload, seq))

    def close(self):
        try:
            self.send(b"\x01", 0)
        except OSError:
            pass
        self.s.close()


def native(pw, scramble):
    if not pw:
        return b""
    h1 = hashlib.sha1(pw.encode()).digest()
    h2 = hashlib.sha1(h1).digest()
    h3 = hashlib.sha1(scramble[:20] + h2).digest()
    return bytes(a ^ b for a, b in zip(h1, h3))


def parse_greeting(p):
    ver_end = p.index(b"\0", 1)
    q = ver_end + 1
    s1 = p[q + 4:q + 12]
    caps = struct.unpack("<H", p[q + 13:q + 15])[0] | struct.unpack("<H", p[q + 18:q + 20])[0] << 16
    auth_len = p[q + 20]
    q += 31
    part2 = max(13, auth_len - 8)
    s2 = p[q:q + part2].rstrip(b"\0")
    return caps, s1 + s2


def login(srv, user, pw, caps, db=None, plugin_pw=True):
    """Greeting + login; returns (greeting raw, reply raw)."""
    g = srv.read_packet()
    server_caps, scramble = parse_greeting(g[4:])
    auth = native(pw, scramble) if plugin_pw else b""
    body = struct.pack("<IIB", caps & server_caps, 1 << 24, 45) + b"\0" * 23
    body += user.encode() + b"\0" + bytes([len(auth)]) + auth
    body += b"mysql_native_password\0"
    srv.send(body, 1)
    return g, srv.read_packet()


def capture(host, port, user, pw):
    base = LONG_PASSWORD | PROTOCOL_41 | TRANSACTIONS | SECURE_CONNECTION | MULTI_RESULTS | \
        MULTI_STATEMENTS | PS_MULTI_RESULTS | PLUGIN_AUTH

    # handshakes: accepted, refused, switched to ed25519
    srv = Server(host, port)
    g, ok = login(srv, user, pw, base)
    srv.close()
    put("handshake", "native-ok", b"\x00" + g + ok)
    put("handshake", "native-ok-nopw", b"\x02" + g + ok)
    put("packet", "greeting", b"\x00" + g)
    put("packet", "greeting-cut", b"\x03\x01\x05\x0c" + g)

    srv = Server(host, port)
    g, err = login(srv, user, pw + "-wrong", base)
    srv.close()
    put("handshake", "native-refused", b"\x00" + g + err)

    ed_user = os.environ.get("MYR_TEST_ED_USER", "myr_ed")
    srv = Server(host, port)
    g, sw = login(srv, ed_user, "x", base)
    srv.close()
    if sw[4] == 0xFE:   # the AuthSwitchRequest to client_ed25519; the OK after the signature
        put("handshake", "ed25519-switch", b"\x00" + g + sw + frame(b"\x00\x00\x00\x02\x00\x00\x00", 4))

    # responses to queries, with and without DEPRECATE_EOF
    queries = [
        ("select1", "SELECT 1"),
        ("types", "SELECT 1 AS i, -5, 'abc' AS s, NULL AS n, 1.5 AS d, 2.5e300, '' AS e, "
                  "CAST('2024-02-29 12:34:56.789' AS DATETIME(3)) AS dt, CURDATE() + 0, x'00ff' AS b"),
        ("rows", "SELECT seq, REPEAT(CHAR(65 + seq % 26), seq * 7) FROM seq_1_to_40"),
        ("multi", "SELECT 1; SELECT 'two', NULL; DO 3"),
        ("error", "SELECT * FROM no_such_table_here"),
        ("ok-info", "SET @a = 1"),
        ("empty", "SELECT 1 FROM DUAL WHERE 1 = 0"),
        ("long-value", "SELECT REPEAT('x', 300), REPEAT('y', 66000)"),
    ]
    stmts = [
        ("bin-types", "SELECT 1, -5, CAST(3 AS UNSIGNED), 123456789012, 'str', NULL, 1.25, "
                      "CAST(2.5 AS DOUBLE), CAST(1.5 AS FLOAT), NOW(6), CURDATE(), "
                      "CAST('-838:59:59.5' AS TIME(1)), CAST(7 AS DECIMAL(5,2)), YEAR(NOW()), b'101'"),
        ("bin-rows", "SELECT seq, seq * 1.5e0, IF(seq % 3, NULL, 'x') FROM seq_1_to_30"),
    ]
    for eof_mode, extra, flag in (("eof", 0, 0x00), ("noeof", DEPRECATE_EOF, 0x01)):
        srv = Server(host, port)
        g, ok = login(srv, user, pw, base | extra)
        if ok[4] != 0:
            raise SystemExit("make_corpus: login refused: %r" % ok[4:])
        srv.send(b"\x02" + os.environ.get("MYR_TEST_DB", "myr_test").encode(), 0)
        srv.read_packet()
        for name, sql in queries:
            srv.send(b"\x03" + sql.encode(), 0)
            resp = srv.read_response(deprecate_eof=bool(extra))
            put("result", "%s-%s" % (name, eof_mode), bytes([flag, 0]) + resp)
            if name != "long-value":   # 70 KB: once is enough
                put("result", "%s-%s-fast" % (name, eof_mode), bytes([flag | 0x08, 2, 1, 9]) + resp)
            if name in ("select1", "multi"):
                payloads = [p for _, p in split_frames(resp)]
                put("packet", "resp-%s-%s" % (name, eof_mode), b"\x00" + frames(payloads, 0))
        for name, sql in stmts:
            srv.send(b"\x16" + sql.encode(), 0)
            prep = srv.read_response(prepare=True, deprecate_eof=bool(extra))
            put("result", "prepare-%s-%s" % (name, eof_mode), bytes([flag | 0x04, 0]) + prep)
            stmt_id = struct.unpack("<I", prep[5:9])[0]
            srv.send(b"\x17" + struct.pack("<IBI", stmt_id, 0, 1), 0)
            resp = srv.read_response(deprecate_eof=bool(extra))
            put("result", "%s-%s" % (name, eof_mode), bytes([flag | 0x02, 0]) + resp)
            put("result", "%s-%s-fast" % (name, eof_mode), bytes([flag | 0x0A, 1, 4]) + resp)
            srv.send(b"\x19" + struct.pack("<I", stmt_id), 0)
        # two pipelined responses in one stream
        srv.send(b"\x03SELECT 1", 0)
        r1 = srv.read_response(deprecate_eof=bool(extra))
        srv.send(b"\x03SELECT 'a', 'b'", 0)
        r2 = srv.read_response(deprecate_eof=bool(extra))
        put("result", "pipelined-%s" % eof_mode, bytes([flag, 0]) + r1 + r2)
        srv.close()


# ------------------------------------------------------------ synthetic
# A throwaway 2048-bit RSA public key (made with openssl genrsa once; the
# private half was never kept): what a server sends after a key request.
PEM = b"""-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA3GhuwartgXuzZQ4XdXG3
UWQYrJ+5rux2vDq5etF9GNCc8+sEaUMzlCSNtfLt52wF0GRToug0SB9THWWafPZf
q8cF0ZbkzEc0nOKWjyLaAQnGlCsDY30wyDsFYvYT/gT8/7obKvg6JUbyx/64Ht1a
g4gDVRd8KijRjmIl4Y98F+rkkQCFmE5fZDjUWjjEzm9OLCXWt0zoL8dtYBT+xlIu
nTBiwScTiiOU5MsSKE2AP0Nx1w1nuZNT3xqQtUIcB1zIwH850l70ZmKvSkTvBuq6
xcIr3enTedUm5VY9O9KVC/ZlhqZ5uwReX0ZlZCdcnDp6HXyVUgOADA1wXzdubHC6
QwIDAQAB
-----END PUBLIC KEY-----
"""


def greeting(plugin, caps=None, version=b"8.0.36", scramble=bytes(range(1, 21))):
    if caps is None:
        caps = LONG_PASSWORD | PROTOCOL_41 | TRANSACTIONS | SECURE_CONNECTION | PLUGIN_AUTH | \
            MULTI_RESULTS | DEPRECATE_EOF | (1 << 21)
    p = b"\x0a" + version + b"\0" + struct.pack("<I", 7) + scramble[:8] + b"\0"
    p += struct.pack("<HBHH", caps & 0xFFFF, 45, 2, caps >> 16) + bytes([len(scramble) + 1]) + b"\0" * 10
    p += scramble[8:] + b"\0" + plugin + b"\0"
    return p


OK = b"\x00\x00\x00\x02\x00\x00\x00"


def synthetic():
    # handshake: MySQL 8's caching_sha2_password, fast and full paths, sha256_password
    sha2 = greeting(b"caching_sha2_password")
    put("handshake", "sha2-fast", b"\x00" + frame(sha2, 0) + frame(b"\x01\x03", 2) + frame(OK, 3))
    put("handshake", "sha2-full-secure", b"\x01" + frame(sha2, 0) + frame(b"\x01\x04", 2) + frame(OK, 4))
    put("handshake", "sha2-full-rsa", b"\x00" + frame(sha2, 0) + frame(b"\x01\x04", 2) +
        frame(b"\x01" + PEM, 4) + frame(OK, 6))
    put("handshake", "sha256-rsa", b"\x00" + frame(greeting(b"sha256_password"), 0) +
        frame(b"\x01" + PEM, 2) + frame(OK, 4))
    put("handshake", "switch-native", b"\x00" + frame(sha2, 0) +
        frame(b"\xfemysql_native_password\0" + bytes(range(30, 50)) + b"\0", 2) + frame(OK, 4))
    put("handshake", "switch-sha2", b"\x00" + frame(greeting(b"mysql_native_password"), 0) +
        frame(b"\xfecaching_sha2_password\0" + bytes(range(60, 80)) + b"\0", 2) +
        frame(b"\x01\x03", 4) + frame(OK, 5))
    put("handshake", "switch-old", b"\x00" + frame(sha2, 0) + frame(b"\xfe", 2))
    put("handshake", "error-greeting", b"\x00" + frame(b"\xff\x10\x04Too many connections", 0))
    put("handshake", "mariadb-greeting", b"\x00" + frame(
        greeting(b"mysql_native_password", caps=PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH,
                 version=b"5.5.5-10.11.6-MariaDB"), 0) + frame(OK, 2))
    put("handshake", "unknown-plugin", b"\x00" + frame(greeting(b"dialog"), 0) +
        frame(b"\xfeauth_gssapi_client\0xyz", 2))

    # packet: frames, sequence ids, the 16 MiB shorthand (FF FF FF seq k bytes)
    put("packet", "empty-frames", b"\x00" + frames([b"", b"", b"x"], 0))
    put("packet", "seq-wrap", b"\x00" + frames([bytes([i % 256]) for i in range(260)], 0))
    put("packet", "bad-seq", b"\x00" + frame(b"abc", 0) + frame(b"def", 2))
    put("packet", "truncated", b"\x00" + frame(b"abcdef", 0)[:7])
    put("packet", "big-then-small", b"\x00" + b"\xff\xff\xff\x00\x03abc" + frame(b"tail", 1) + frame(b"x", 2))
    put("packet", "big-then-empty", b"\x00" + b"\xff\xff\xff\x00\x00" + frame(b"", 1))
    put("packet", "two-big", b"\x00" + b"\xff\xff\xff\x00\x01q" + b"\xff\xff\xff\x01\x00" + frame(b"z", 2))
    put("packet", "big-bad-seq", b"\x00" + b"\xff\xff\xff\x00\x00" + frame(b"z", 5))
    put("packet", "big-truncated", b"\x00" + b"\xff\xff\xff\x00\x00")
    put("packet", "big-enomem", b"\x10" + b"\xff\xff\xff\x00\x02hi" + frame(b"!", 1))
    put("packet", "cuts", b"\x04\x00\x01\x02\x03" + frames([b"hello", b"world" * 20, b""], 0))
    put("packet", "roundtrip-small", b"\x20" + frames([b"abc"], 0))
    put("packet", "roundtrip-max-minus-1", b"\x60")
    put("packet", "roundtrip-max", b"\xa0")
    put("packet", "roundtrip-2max-plus-1", b"\xe0")

    # result: hand-made responses the sandbox does not give
    col = lenenc(b"def") + lenenc(b"") + lenenc(b"") + lenenc(b"") + lenenc(b"c") + lenenc(b"") + \
        b"\x0c" + struct.pack("<HIBHBH", 45, 20, 253, 0, 0, 0)
    eof = b"\xfe\x00\x00\x02\x00"
    put("result", "infile", b"\x00\x00" + frame(b"\xfb/etc/passwd", 1) + frame(OK, 3))
    # fuzz_result's first find: columns left undefined by an ERR were read
    # from uninitialised memory (a result cut short now has no columns)
    put("result", "cols-cut-short", b"\x00\x00" + frame(b"\x02", 1) + frame(col, 2) +
        frame(b"\xff\x15\x04#HY000boom", 3), prefix="crash-")
    put("result", "err-mid-rows", b"\x00\x00" + frame(b"\x01", 1) + frame(col, 2) + frame(eof, 3) +
        frame(lenenc(b"v"), 4) + frame(b"\xff\x15\x04#70100Query execution was interrupted", 5))
    put("result", "null-row", b"\x00\x00" + frame(b"\x01", 1) + frame(col, 2) + frame(eof, 3) +
        frame(b"\xfb", 4) + frame(eof, 5))
    # MariaDB's metadata caching: one statement's executes, the first with
    # its definitions (flag byte 1), the second without (0: replayed)
    col_ll = lenenc(b"def") + lenenc(b"") + lenenc(b"") + lenenc(b"") + lenenc(b"n") + lenenc(b"") + \
        b"\x0c" + struct.pack("<HIBHBH", 63, 20, 8, 0, 0, 0)
    binrow = b"\x00\x00" + struct.pack("<q", 5)
    end = b"\xfe\x00\x00\x02\x00\x00\x00"
    put("result", "bin-cached-meta", b"\x23\x00" + frame(b"\x01\x01", 1) + frame(col_ll, 2) +
        frame(binrow, 3) + frame(end, 4) + frame(b"\x01\x00", 1) + frame(binrow, 2) + frame(end, 3))
    put("result", "session-track", b"\x10\x00" + frame(b"\x00\x01\x02\x02\x40\x00\x00\x04info\x05state", 1))

    # split: the CLI's differential corpus, and edge cases
    cli = os.path.join(REPO, "tests", "cli", "corpus")
    for name in sorted(os.listdir(cli)):
        with open(os.path.join(cli, name), "rb") as f:
            put("split", name, b"\x00\x00" + f.read())
    put("split", "edges", b"\x00\x03\x01\x02\x05" + b"delimiter //\nselect 1//\n/*! select 2 */;\n"
        b"select 'a\\'b' -- c\n;\n\\g\nuse db\nsource f.sql\n\\. g.sql\nselect \"x\"\"y\"\\G\nexit\n")
    put("split", "nbe-ansi", b"\x03\x00" + b"select 'a\\';\nselect \"b\\\";\nselect `c\\`;\n")
    put("split", "bom-crlf", b"\x00\x00\xef\xbb\xbfselect 1;\r\nselect 2\r\n")
    put("split", "stop", b"\x08\x00select 1; select 2; select 3;\n")


def main():
    synthetic()
    host = os.environ.get("MYR_TEST_HOST")
    if host:
        capture(host, int(os.environ["MYR_TEST_PORT"]), os.environ["MYR_TEST_USER"],
                os.environ.get("MYR_TEST_PASSWORD", ""))
    else:
        print("make_corpus: no MYR_TEST_HOST: synthetic seeds only", file=sys.stderr)
    for t in sorted(written):
        print("make_corpus: %s: %d seeds" % (t, written[t]))


if __name__ == "__main__":
    main()
