#!/usr/bin/python3
"""tests/cli/zeroconf_srv.py <myring CLI> -- MariaDB 11.4+ zero-configuration
TLS, through the CLI (and so the library's public API), against a scripted
server: no real server here is 11.4 (Debian 12 ships 10.11).

Each case runs one scripted server on a loopback port: greeting with TLS,
the SSLRequest, a TLS handshake with a throwaway self-signed certificate
(made with openssl), the login (its auth data checked: native scramble
recomputed here, ed25519 signature verified with PyNaCl), then the OK whose
info carries (or not) the proof 0x01 + hex(SHA-256(password hash ||
scramble || SHA-256(certificate DER))), then one COM_QUERY answered with OK
and COM_QUIT. The CLI's exit code and message are checked, and what the
server received (no login at all when the client must stop earlier).
"""
import hashlib
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading

import nacl.bindings as nb
import nacl.signing

CLI = os.path.abspath(sys.argv[1])
PW = "zc_pw"
SCRAMBLE = bytes(range(0x21, 0x21 + 20))   # printable, no NUL
NONCE = bytes(range(0x41, 0x41 + 32))

# TLSv1.2 / 1.3 caps: LONG_FLAG, CONNECT_WITH_DB, PROTOCOL_41, SSL,
# TRANSACTIONS, SECURE_CONNECTION, MULTI_*, PLUGIN_AUTH, CONNECT_ATTRS,
# PLUGIN_AUTH_LENENC_DATA (no CLIENT_MYSQL bit: a MariaDB server).
CAPS = 0x4 | 0x8 | 0x200 | 0x800 | 0x2000 | 0x8000 | 0x10000 | 0x20000 | 0x40000 | 0x80000 \
    | 0x100000 | 0x200000


def pkt(seq, payload):
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload


def lenenc_str(b):
    assert len(b) < 251
    return bytes([len(b)]) + b


def greeting(version):
    p = b"\x0a" + version.encode() + b"\0" + struct.pack("<I", 7) + SCRAMBLE[:8] + b"\0"
    p += struct.pack("<H", CAPS & 0xFFFF) + b"\x2d" + struct.pack("<H", 2)
    p += struct.pack("<H", CAPS >> 16) + bytes([21]) + b"\0" * 6 + struct.pack("<I", 0)
    p += SCRAMBLE[8:] + b"\0" + b"mysql_native_password\0"
    return pkt(0, p)


def read_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise EOFError("client closed after %d of %d bytes" % (len(b), n))
        b += chunk
    return b


def read_pkt(s):
    h = read_exact(s, 4)
    n = h[0] | h[1] << 8 | h[2] << 16
    return h[3], read_exact(s, n)


def sha1(b):
    return hashlib.sha1(b).digest()


def native_hash(pw):
    return sha1(sha1(pw.encode()))


def native_token(pw):
    h1 = sha1(pw.encode())
    h3 = sha1(SCRAMBLE + sha1(h1))
    return bytes(a ^ b for a, b in zip(h1, h3))


def ed25519_pk(pw):
    az = bytearray(hashlib.sha512(pw.encode()).digest())
    az[0] &= 248
    az[31] &= 63
    az[31] |= 64
    a = nb.crypto_core_ed25519_scalar_reduce(bytes(az[:32]) + b"\0" * 32)
    return nb.crypto_scalarmult_ed25519_base_noclamp(a)


def login_auth(p):
    """The auth data of a HandshakeResponse41 (lenenc auth data)."""
    i = 32
    i = p.index(b"\0", i) + 1           # user
    n = p[i]
    return p[i + 1:i + 1 + n]


class Case:
    def __init__(self, name, cert, key, fp, argv, version="11.4.4-MariaDB", plugin="native",
                 proof="right", want_rc=0, want_text="", want_login=True):
        self.name, self.argv = name, argv
        self.cert, self.key, self.fp = cert, key, fp
        self.version, self.plugin, self.proof = version, plugin, proof
        self.want_rc, self.want_text, self.want_login = want_rc, want_text, want_login
        self.got_login = False
        self.server_error = None

    def proof_info(self):
        if self.proof == "none":
            return b""
        if self.proof == "malformed":
            return b"\x01" + b"zz" * 32
        h = ed25519_pk(PW) if self.plugin == "ed25519" else native_hash(PW)
        if self.proof == "wrong-hash":      # the other plugin's hash
            h = native_hash(PW) if self.plugin == "ed25519" else ed25519_pk(PW)
        fp = self.fp if self.proof != "wrong-cert" else hashlib.sha256(b"another certificate").digest()
        return b"\x01" + hashlib.sha256(h + SCRAMBLE + fp).hexdigest().upper().encode()

    def serve(self, lsock):
        try:
            conn, _ = lsock.accept()
            conn.settimeout(20)
            with conn:
                conn.sendall(greeting(self.version))
                seq, req = read_pkt(conn)
                if seq != 1 or len(req) != 32 or not (struct.unpack("<I", req[:4])[0] & 0x800):
                    raise AssertionError("no SSLRequest: seq %d len %d" % (seq, len(req)))
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(self.cert, self.key)
                try:
                    t = ctx.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError):
                    return                      # the client refused our certificate
                try:
                    seq, login = read_pkt(t)
                except (EOFError, ssl.SSLError, OSError):
                    return                      # it stopped after the handshake
                self.got_login = True
                auth = login_auth(login)
                seq += 1
                if self.plugin == "native":
                    if auth != native_token(PW):
                        raise AssertionError("wrong mysql_native_password token")
                elif self.plugin == "ed25519":
                    t.sendall(pkt(seq, b"\xfe" + b"client_ed25519\0" + NONCE))
                    seq, sig = read_pkt(t)
                    nacl.signing.VerifyKey(ed25519_pk(PW)).verify(NONCE, sig)   # raises if bad
                    seq += 1
                elif self.plugin == "clear":
                    t.sendall(pkt(seq, b"\xfe" + b"mysql_clear_password\0"))
                    try:
                        seq, data = read_pkt(t)
                        raise AssertionError("the password went to an unproven server")
                    except (EOFError, ssl.SSLError, OSError):
                        return
                ok = b"\x00\x00\x00" + struct.pack("<HH", 2, 0) + lenenc_str(self.proof_info())
                t.sendall(pkt(seq, ok))
                while True:
                    try:
                        seq, cmd = read_pkt(t)
                    except (EOFError, ssl.SSLError, OSError):
                        return
                    if cmd[:1] == b"\x01":
                        return                  # COM_QUIT
                    t.sendall(pkt(seq + 1, b"\x00\x00\x00" + struct.pack("<HH", 2, 0)))
        except Exception as e:                  # reported by run()
            self.server_error = "%s: %s" % (type(e).__name__, e)

    def run(self):
        lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        lsock.settimeout(30)
        port = lsock.getsockname()[1]
        th = threading.Thread(target=self.serve, args=(lsock,))
        th.start()
        argv = [CLI, "--no-defaults", "-h", "127.0.0.1", "-P", str(port), "-u", "zc"] + self.argv \
            + ["-e", "DO 1"]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        th.join(60)
        lsock.close()
        out = (r.stdout + r.stderr).strip()
        why = []
        if r.returncode != self.want_rc:
            why.append("exit %d, want %d" % (r.returncode, self.want_rc))
        if self.want_text and self.want_text not in out:
            why.append("output lacks %r" % self.want_text)
        if self.got_login != self.want_login:
            why.append("server %s the login" % ("got" if self.got_login else "never got"))
        if self.server_error:
            why.append("server: " + self.server_error)
        if th.is_alive():
            why.append("server thread still running")
        if why:
            print("FAIL %s: %s | %s" % (self.name, "; ".join(why), out))
            return False
        print("PASS %s" % self.name)
        return True


def main():
    tmp = tempfile.mkdtemp(prefix="myr-zeroconf-")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    with open(cert) as f:
        fp = hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).digest()
    # A second one that names another host.
    cert2, key2 = os.path.join(tmp, "cert2.pem"), os.path.join(tmp, "key2.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key2, "-out", cert2, "-days", "2", "-subj", "/CN=elsewhere",
                    "-addext", "subjectAltName=DNS:elsewhere.invalid"],
                   check=True, capture_output=True)
    with open(cert2) as f:
        fp2 = hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).digest()
    pw = ["-p" + PW]
    va = pw + ["--ssl-mode=VERIFY_CA"]
    untrusted = "ERROR 2026 (HY000): SSL connection error: certificate verification failed: " \
                "the server's certificate is not trusted"
    C = lambda *a, **k: Case(*a, cert=cert, key=key, fp=fp, **k)   # noqa: E731
    cases = [
        C("VERIFY_CA, native, right proof", argv=va),
        C("VERIFY_IDENTITY, native, right proof", argv=pw + ["--ssl-verify-server-cert"]),
        C("VERIFY_CA, ed25519, right proof", argv=va, plugin="ed25519"),
        C("wrong proof: another certificate", argv=va, proof="wrong-cert", want_rc=1,
          want_text=untrusted),
        C("wrong proof: ed25519 login, native hash", argv=va, plugin="ed25519", proof="wrong-hash",
          want_rc=1, want_text="does not match"),
        C("no proof in the OK", argv=va, proof="none", want_rc=1, want_text="sent no proof"),
        C("malformed proof", argv=va, proof="malformed", want_rc=1, want_text="malformed"),
        C("clear-text password refused while unproven", argv=va + ["--enable-cleartext-plugin"],
          plugin="clear", want_rc=1, want_text="ERROR 2061"),
        C("MariaDB 10.11: unknown CA, no login sent", argv=va, version="10.11.6-MariaDB",
          want_rc=1, want_text="unknown CA", want_login=False),
        C("no password: unknown CA, no login sent", argv=["--ssl-mode=VERIFY_CA"], want_rc=1,
          want_text="unknown CA", want_login=False),
        C("CA given: checked by the CA alone", argv=va + ["--ssl-ca=" + cert], proof="none"),
        C("REQUIRED: no check at all", argv=pw + ["--ssl-mode=REQUIRED"], proof="wrong-cert"),
        Case("VERIFY_IDENTITY, misnamed certificate: name mismatch, no login sent",
             cert=cert2, key=key2, fp=fp2, argv=pw + ["--ssl-verify-server-cert"], want_rc=1,
             want_text="name mismatch", want_login=False),
        Case("VERIFY_CA, misnamed certificate, right proof", cert=cert2, key=key2, fp=fp2, argv=va),
    ]
    results = [c.run() for c in cases]
    failed = results.count(False)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
