/*
 * src/proto/proto.h -- the MySQL/MariaDB client protocol codec. Pure: bytes in,
 * structs/events out, no fd, no ring. Parsers return 0 (or bytes consumed)
 * on success, MYR_EMALFORMED for bytes that break the protocol, never read
 * past the length they are given, and hand out views into the input (valid as
 * long as the input). Builders append whole framed packets to a myr__buf.
 *
 * Implementation files: packet.c (framing), wire.c (integers, lenenc),
 * handshake.c (greeting, login, SSLRequest), auth.c (scrambles, auth switch),
 * response.c (OK/ERR/EOF, column definitions, rows, the response machine),
 * command.c (COM_* builders).
 */
#ifndef MYR_PROTO_H
#define MYR_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "myring.h"
#include "../buf.h"

/* ---------------------------------------------------------------- constants */
#ifndef MYR__PKT_MAX   /* tests/fuzz builds the codec with a small one to reach the split/join paths */
#define MYR__PKT_MAX 0xFFFFFFu     /* largest payload in one frame */
#endif

enum {  /* capability flags */
    MYR__CLIENT_LONG_PASSWORD = 1u << 0,
    MYR__CLIENT_FOUND_ROWS = 1u << 1,
    MYR__CLIENT_LONG_FLAG = 1u << 2,
    MYR__CLIENT_CONNECT_WITH_DB = 1u << 3,
    MYR__CLIENT_NO_SCHEMA = 1u << 4,
    MYR__CLIENT_COMPRESS = 1u << 5,
    MYR__CLIENT_LOCAL_FILES = 1u << 7,
    MYR__CLIENT_PROTOCOL_41 = 1u << 9,
    MYR__CLIENT_INTERACTIVE = 1u << 10,
    MYR__CLIENT_SSL = 1u << 11,
    MYR__CLIENT_TRANSACTIONS = 1u << 13,
    MYR__CLIENT_SECURE_CONNECTION = 1u << 15,
    MYR__CLIENT_MULTI_STATEMENTS = 1u << 16,
    MYR__CLIENT_MULTI_RESULTS = 1u << 17,
    MYR__CLIENT_PS_MULTI_RESULTS = 1u << 18,
    MYR__CLIENT_PLUGIN_AUTH = 1u << 19,
    MYR__CLIENT_CONNECT_ATTRS = 1u << 20,
    MYR__CLIENT_PLUGIN_AUTH_LENENC_DATA = 1u << 21,
    MYR__CLIENT_SESSION_TRACK = 1u << 23,
    MYR__CLIENT_DEPRECATE_EOF = 1u << 24,
};

enum {  /* server status flags */
    MYR__STATUS_IN_TRANS = 0x0001,
    MYR__STATUS_AUTOCOMMIT = 0x0002,
    MYR__STATUS_MORE_RESULTS = 0x0008,
};

enum {  /* commands */
    MYR__COM_QUIT = 0x01,
    MYR__COM_INIT_DB = 0x02,
    MYR__COM_QUERY = 0x03,
    MYR__COM_PING = 0x0e,
    MYR__COM_RESET_CONNECTION = 0x1f,
};

/* --------------------------------------------------------- integers (wire.c) */
/* Read a length-encoded integer at p[0..len). Returns bytes used (1,3,4,9),
 * or 0 if truncated or the first byte is 0xFB/0xFF (not an integer). */
size_t myr__lenenc_int_full(const uint8_t *p, size_t len, uint64_t *v);
static inline size_t myr__lenenc_int(const uint8_t *p, size_t len, uint64_t *v)
{
    if (__builtin_expect(len > 0 && p[0] < 0xFB, 1)) {   /* one byte: most values */
        *v = p[0];
        return 1;
    }
    return myr__lenenc_int_full(p, len, v);
}
/* Read a length-encoded string: returns bytes used, 0 if truncated/invalid. */
size_t myr__lenenc_str_full(const uint8_t *p, size_t len, const uint8_t **s, uint64_t *slen);
static inline size_t myr__lenenc_str(const uint8_t *p, size_t len, const uint8_t **s, uint64_t *slen)
{
    if (__builtin_expect(len > 0 && p[0] < 0xFB && (size_t)p[0] < len, 1)) {
        *s = p + 1;
        *slen = p[0];
        return 1 + (size_t)p[0];
    }
    return myr__lenenc_str_full(p, len, s, slen);
}
/* Append a length-encoded integer / string. 0 or MYR_ENOMEM. */
int myr__put_lenenc_int(myr__buf *b, uint64_t v);
int myr__put_lenenc_str(myr__buf *b, const void *s, size_t n);
static inline uint16_t myr__u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t myr__u24(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16; }
static inline uint32_t myr__u32(const uint8_t *p) { return myr__u24(p) | (uint32_t)p[3] << 24; }

/* ------------------------------------------------------------ framing (packet.c) */
/* Reading: turns a byte stream into logical packets (payloads of 16 MiB and
 * more arrive split in frames of 0xFFFFFF bytes and are joined here), and
 * checks sequence ids. */
typedef struct myr__pkt_reader {
    uint8_t seq;        /* sequence id the next frame must carry */
    myr__buf join;      /* owned: partial payload of a split packet */
    int joining;
} myr__pkt_reader;

void myr__pkt_reader_init(myr__pkt_reader *r);
void myr__pkt_reader_free(myr__pkt_reader *r);
/*
 * Look at in[0..len). Returns:
 *   > 0  bytes consumed; if *payload != NULL a whole logical packet is ready
 *        (*payload points into `in` or into r->join, valid until the next
 *        call or until `in` changes); if *payload == NULL a frame of a split
 *        packet was absorbed: call again.
 *   0    need more bytes: *need is how many bytes `in` must hold for the next
 *        frame to be complete (for sizing the receive buffer).
 *   < 0  MYR_EMALFORMED (wrong sequence id) or MYR_ENOMEM.
 */
long myr__pkt_next_full(myr__pkt_reader *r, const uint8_t *in, size_t len,
                        const uint8_t **payload, size_t *plen, size_t *need);
/* The common case inline (a whole frame under 16 MiB, no split packet in
 * progress, nothing joined to release), the rest in myr__pkt_next_full. */
static inline long myr__pkt_next(myr__pkt_reader *r, const uint8_t *in, size_t len,
                                 const uint8_t **payload, size_t *plen, size_t *need)
{
    if (__builtin_expect(len >= 4 && !r->joining && r->join.cap == 0, 1)) {
        size_t flen = (size_t)in[0] | (size_t)in[1] << 8 | (size_t)in[2] << 16;
        if (in[3] == r->seq && len - 4 >= flen && flen != MYR__PKT_MAX) {
            r->seq++;
            *payload = in + 4;
            *plen = flen;
            return (long)(4 + flen);
        }
    }
    return myr__pkt_next_full(r, in, len, payload, plen, need);
}

/* Writing: begin reserves a 4-byte header at the end of b and returns its
 * offset; append the payload; end fills the header(s) with *seq, *seq+1, ...,
 * splitting a payload of 0xFFFFFF bytes or more into frames (with the empty
 * final frame the protocol requires) and advances *seq. 0 or MYR_ENOMEM. */
size_t myr__pkt_begin(myr__buf *b);   /* returns SIZE_MAX if out of memory */
int myr__pkt_end(myr__buf *b, size_t begin, uint8_t *seq);

/* ------------------------------------------------------- handshake.c */
typedef struct myr__greeting {
    uint8_t protocol;             /* 10 */
    char server_version[64];      /* NUL-terminated, truncated if longer */
    uint32_t thread_id;
    uint8_t scramble[32];         /* auth plugin data, without the trailing NUL */
    size_t scramble_len;          /* 20 for native/caching_sha2 */
    uint32_t caps;                /* lower | upper << 16 */
    uint32_t mariadb_caps;        /* MariaDB extended caps (when !CLIENT_LONG_PASSWORD) */
    uint8_t charset;
    uint16_t status;
    char plugin[64];              /* auth plugin name, "" if none */
} myr__greeting;
/* Is the greeting a MariaDB server's (no CLIENT_MYSQL capability, "MariaDB"
 * in the version, which may start with the "5.5.5-" of 10.x servers) of
 * version major.minor or later? 1 or 0. */
int myr__greeting_mariadb_at_least(const myr__greeting *g, unsigned major, unsigned minor);
/* Parse Initial Handshake v10 (the caller checks first for an ERR packet). */
int myr__greeting_parse(const uint8_t *p, size_t len, myr__greeting *g);

typedef struct myr__login {
    uint32_t caps;                /* what the client asks for (already & server caps) */
    uint32_t max_packet;
    uint8_t charset;
    const char *user;             /* may be "" */
    const uint8_t *auth;  size_t auth_len;
    const char *database;         /* NULL unless CONNECT_WITH_DB */
    const char *plugin;           /* NULL unless PLUGIN_AUTH */
    const char *const *attrs;     /* key, value, key, value, ..., NULL; used with CONNECT_ATTRS */
    uint32_t mariadb_caps;        /* MariaDB extended caps asked for (MARIADB_CLIENT_*), 0 = none */
} myr__login;
/* MariaDB's extended capabilities (myr__greeting.mariadb_caps). */
enum {
    MYR__MARIADB_CLIENT_STMT_BULK_OPERATIONS = 1u << 2,
    MYR__MARIADB_CLIENT_CACHE_METADATA = 1u << 4,
};
/* Append a framed HandshakeResponse41 with sequence id seq. */
int myr__login_build(myr__buf *out, uint8_t seq, const myr__login *l);
/* Append a framed SSLRequest (first 32 bytes of the login). */
int myr__ssl_request_build(myr__buf *out, uint8_t seq, uint32_t caps, uint32_t max_packet, uint8_t charset);
/* The same with MariaDB's extended capabilities (which a MariaDB server
 * reads from this first packet when TLS is used). */
int myr__ssl_request_build_ext(myr__buf *out, uint8_t seq, uint32_t caps, uint32_t max_packet,
                               uint8_t charset, uint32_t mariadb_caps);

/* --------------------------------------------------------------- auth.c */
/* mysql_native_password: SHA1(pw) XOR SHA1(scramble20 + SHA1(SHA1(pw))).
 * Empty password: *out_len = 0. out needs 20 bytes. */
int myr__auth_native(const uint8_t *scramble, size_t scramble_len, const char *pw, size_t pw_len,
                     uint8_t *out, size_t *out_len);
/* caching_sha2_password fast path: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble).
 * Empty password: *out_len = 0. out needs 32 bytes. */
int myr__auth_sha2(const uint8_t *scramble, size_t scramble_len, const char *pw, size_t pw_len,
                   uint8_t *out, size_t *out_len);
/* AuthSwitchRequest (0xFE plugin\0 data): data_len excludes a trailing NUL,
 * raw_len counts every byte after the name (plugins with a fixed-size nonce,
 * such as client_ed25519's 32 bytes, take their prefix of the raw bytes: a
 * nonce may end in a genuine 0 byte). */
typedef struct myr__auth_switch {
    char plugin[64];
    const uint8_t *data; size_t data_len;
    size_t raw_len;
} myr__auth_switch;
int myr__auth_switch_parse(const uint8_t *p, size_t len, myr__auth_switch *sw);
/* Append a framed packet holding raw auth data (auth switch response etc.). */
int myr__auth_data_build(myr__buf *out, uint8_t seq, const void *data, size_t len);

/* -------------------------------------------------------- auth_ed25519.c */
/* client_ed25519 (MariaDB): the 64-byte Ed25519 signature of the first 32
 * bytes of nonce with the key MariaDB derives from the password (any
 * length), through libsodium. 0, MYR_EMALFORMED (nonce under 32 bytes) or
 * MYR_EINVAL (libsodium unusable). out needs 64 bytes; key material is
 * wiped before returning. */
int myr__auth_ed25519(const uint8_t *nonce, size_t nonce_len, const char *pw, size_t pw_len,
                      uint8_t *out, size_t *out_len);
/* The Ed25519 public key MariaDB derives from the password (what it stores
 * for a client_ed25519 account). 0 or MYR_EINVAL. */
int myr__auth_ed25519_pk(const char *pw, size_t pw_len, uint8_t pk[32]);

/* ------------------------------------------------------ auth_certproof.c */
/* MariaDB 11.4+ zero-configuration TLS (see the file). The password hash the
 * server keeps for plugin: mysql_native_password (20 bytes) or
 * client_ed25519 (32); out needs 32 bytes. 0, MYR_ENOTSUP (another plugin:
 * no proof possible), MYR_EINVAL (empty password, crypto failure). */
int myr__certproof_hash(const char *plugin, const char *pw, size_t pw_len, uint8_t *out,
                        size_t *out_len);
/* Does the login OK's info (its bytes) prove the certificate whose SHA-256
 * is fp? 0 yes; MYR_ENOTSUP: no proof in it (0x01 + 64 hex digits);
 * MYR_EMALFORMED: a proof of the wrong shape; MYR_EAUTH: a wrong proof. */
int myr__certproof_check(const uint8_t *info, size_t info_len, const uint8_t *hash, size_t hash_len,
                         const uint8_t *scramble, size_t scramble_len, const uint8_t fp[32]);

/* ------------------------------------------------------------ auth_rsa.c */
/* The largest RSA modulus we take, in bytes (8192 bits). */
#define MYR__RSA_MAX 1024
/* The server's RSA public key in PEM ("BEGIN PUBLIC KEY") to DER in
 * der[0..cap); checks that it loads as an RSA key of at most MYR__RSA_MAX
 * bytes. 0, or MYR_EMALFORMED (not such a key, or cap too small). */
int myr__rsa_pem_to_der(const uint8_t *pem, size_t pem_len, uint8_t *der, size_t cap, size_t *der_len);
/* caching_sha2_password / sha256_password over an insecure transport:
 * RSA-OAEP (SHA-1, MGF1-SHA-1) with the key in der of (pw + NUL) XOR the
 * first 20 bytes of scramble, repeated. out gets the modulus size in bytes
 * (cap must hold it). 0, MYR_EMALFORMED (bad key, scramble under 20 bytes),
 * MYR_EINVAL (password too long for the key, cap too small, RNG failure) or
 * MYR_ENOMEM. The plaintext copy is wiped before returning. */
int myr__rsa_encrypt_password(const uint8_t *der, size_t der_len, const uint8_t *scramble,
                              size_t scramble_len, const char *pw, size_t pw_len, uint8_t *out,
                              size_t cap, size_t *out_len);

/* ------------------------------------------------------------ response.c */
typedef struct myr__ok {
    uint64_t affected_rows, insert_id;
    uint16_t status, warnings;
    const uint8_t *info; size_t info_len;   /* view; human-readable info */
} myr__ok;
typedef struct myr__err {
    uint16_t code;
    char sqlstate[6];                       /* "" when the server sent none */
    const uint8_t *message; size_t message_len;  /* view */
} myr__err;

int myr__ok_parse(const uint8_t *p, size_t len, uint32_t caps, myr__ok *ok);  /* 0x00 or 0xFE header */
int myr__err_parse(const uint8_t *p, size_t len, uint32_t caps, myr__err *e); /* 0xFF header */
static inline int myr__is_err(const uint8_t *p, size_t len) { return len >= 1 && p[0] == 0xFF; }
/* Old-style EOF packet: 0xFE and fewer than 9 bytes. */
static inline int myr__is_eof(const uint8_t *p, size_t len) { return len >= 1 && len < 9 && p[0] == 0xFE; }
/* Column Definition 41 into *col (views into p). */
int myr__coldef_parse(const uint8_t *p, size_t len, myr_column *col);

/* A field of a text row: ptr NULL for SQL NULL. */
typedef struct myr__field { const uint8_t *ptr; size_t len; } myr__field;
/* Text resultset row with ncols lenenc strings (0xFB = NULL); the row must
 * use the whole payload. */
int myr__row_parse(const uint8_t *p, size_t len, size_t ncols, myr__field *fields);
/* The same, copying p into copy (len + 1 bytes): the fields point into the
 * copy and each value is followed by a NUL (written over the next value's
 * length prefix in the copy, or into the extra byte). p and copy must not
 * overlap. */
int myr__row_parse_copy(const uint8_t *p, size_t len, size_t ncols, myr__field *fields, uint8_t *copy);

/* The response machine (private to response.c; in this header only so that
 * a connection can embed it). */
/* A prepared statement's result columns as the server last sent them, raw
 * (MariaDB's metadata caching: an execute's answer may leave them out when
 * they did not change, and the client uses the ones it has). Owned by the
 * statement; the response machine records into it and replays from it. */
typedef struct myr__colcache {
    myr__buf raw;        /* per column: its length (4 bytes, little-endian), the packet */
    uint32_t ncols;
} myr__colcache;
/* Append one column definition packet; 0 or MYR_ENOMEM. */
int myr__colcache_add(myr__colcache *cc, const uint8_t *p, size_t len);
void myr__colcache_free(myr__colcache *cc);

typedef struct myr__resp {
    int state;
    uint32_t caps;       /* negotiated capabilities (DEPRECATE_EOF matters) */
    uint64_t ncols, cols_seen;
    uint8_t paused;      /* the sink answered MYR__SINK_PAUSE (see myr__sink); the
                            reader of the response clears it */
    uint8_t mode;        /* MYR__RMODE_*: set after myr__resp_init */
    uint16_t nparams;    /* PREPARE: parameter definitions still to come */
    /* Set after myr__resp_init. cache_meta: MARIADB_CLIENT_CACHE_METADATA
     * was negotiated (every column count packet then says whether the
     * definitions follow). meta: the statement's columns (BINARY mode, or
     * NULL): the first result set's definitions are recorded there, and
     * replayed from there to the sink when the server leaves them out. */
    uint8_t cache_meta;
    uint8_t recording;   /* column definitions of this set go to meta too */
    uint16_t sets;       /* result sets / OKs of the response before this one */
    myr__colcache *meta;
} myr__resp;

/* myr__resp.state while rows may come; up to it myr__resp_rows may have
 * work (a column count, definitions, their EOF, rows). */
#define MYR__RESP_STATE_ROWS 3
static inline int myr__resp_in_rows(const myr__resp *r) { return r->state == MYR__RESP_STATE_ROWS; }
/* The response is complete (its last event was taken). */
#define MYR__RESP_STATE_DONE 4
static inline int myr__resp_done(const myr__resp *r) { return r->state == MYR__RESP_STATE_DONE; }

/* What kind of response a command gets (myr__resp.mode). */
enum {
    MYR__RMODE_TEXT = 0,    /* OK / ERR / result sets with text rows */
    MYR__RMODE_BINARY = 1,  /* the same with binary rows (COM_STMT_EXECUTE) */
    MYR__RMODE_PREPARE = 2, /* COM_STMT_PREPARE: prepare OK, parameter and column definitions */
};
static inline int myr__resp_fast(const myr__resp *r)
{
    return r->state <= MYR__RESP_STATE_ROWS && r->mode != MYR__RMODE_PREPARE;
}

/* The answer to COM_STMT_PREPARE. */
typedef struct myr__prep_ok {
    uint32_t stmt_id;
    uint16_t ncols, nparams, warnings;
} myr__prep_ok;

/* Start reading the response to a new command. */
void myr__resp_init(myr__resp *r, uint32_t caps);

/* Classify one packet (the building block of myr__resp_read; tests use it
 * directly). Every packet yields exactly one event; done=1 on the event
 * that ends the response. */
typedef enum myr__ev_kind {
    MYR__EV_OK,          /* ev.ok: a command without result set finished (or one of several) */
    MYR__EV_ERR,         /* ev.err: the command failed; the response is over */
    MYR__EV_COLUMNS,     /* ev.ncols: a result set starts (ev.cached: its definitions
                            were left out, the statement's are replayed) */
    MYR__EV_COLUMN,      /* ev.col: one column definition (ev.col_index) */
    MYR__EV_COLUMNS_END, /* all column definitions seen (EOF or its absence) */
    MYR__EV_ROW,         /* a text row (not parsed by this call) */
    MYR__EV_ROWS_END,    /* ev.ok: the result set ended (status, warnings) */
    MYR__EV_LOCAL_INFILE,/* the server asks for a file (0xFB) */
    MYR__EV_PREPARED,    /* ev.prep: PREPARE succeeded; definitions follow */
    MYR__EV_PARAM,       /* ev.col: a parameter definition of a PREPARE (ev.col_index) */
} myr__ev_kind;

typedef struct myr__resp_ev {
    myr__ev_kind kind;
    int more;            /* another result set / OK follows for this command */
    int done;            /* the response to this command is complete */
    int cached;          /* COLUMNS: no definitions follow (metadata caching) */
    uint64_t ncols;
    size_t col_index;
    myr_column col;
    myr__ok ok;
    myr__err err;
    myr__prep_ok prep;
} myr__resp_ev;

/* 0 and *ev filled, or MYR_EMALFORMED for a packet that cannot come at this
 * point (the connection is then unusable). */
int myr__resp_feed(myr__resp *r, const uint8_t *p, size_t len, myr__resp_ev *ev);

/* The result sink: what a command's response turns into. The codec calls
 * these while it reads the response; the buffered result (src/result.c)
 * implements them, and so will a streaming callback and binary rows. Every
 * call returns 0, MYR_ENOMEM or MYR_EMALFORMED; a negative return ends the
 * response (the connection cannot be resynchronised after it). Views
 * (col's strings, fields, p) are valid only during the call.
 *
 * row() and end() may also return MYR__SINK_PAUSE: the event is taken, but
 * the sink wants its caller to stop feeding it for now (a streaming sink
 * whose batch is ready: its callback must run outside the parse). The codec
 * then sets myr__resp.paused and stops: myr__resp_rows returns the bytes
 * used up to and including that row, myr__resp_read returns as usual (the
 * event's MYR__RESP_* value). Whoever reads the response checks and clears
 * paused, and feeds the rest later. */
#define MYR__SINK_PAUSE 1
typedef struct myr__sink {
    int (*ok)(void *ctx, const myr__ok *ok);          /* an OK: a statement without result set */
    int (*columns)(void *ctx, uint64_t ncols);        /* a result set with ncols columns starts */
    /* Column definition i, raw (not parsed: a sink that keeps it parses it
     * with myr__coldef_parse, or finds it identical to one it has). */
    int (*column)(void *ctx, size_t i, const uint8_t *p, size_t len);
    /* Room for the next row: its ncols fields (NULL: out of memory) and, if
     * the sink keeps rows, *copy = len + 1 bytes for the payload (else NULL).
     * The codec copies the payload there and parses the copy in one pass,
     * each value then followed by a NUL; without a copy the fields point
     * into p. Then row() is called with the fields. */
    myr__field *(*row_slots)(void *ctx, size_t len, uint8_t **copy);
    int (*row)(void *ctx, myr__field *fields, const uint8_t *p, size_t len);
    int (*end)(void *ctx, const myr__ok *ok);         /* the result set ended */
    /* Binary rows (MYR__RMODE_BINARY; NULL in a sink without them): room
     * for the next row's ncols raw values and the result set's columns
     * (their types cut the row); the codec fills the fields with views of
     * the raw values (myr__binrow_parse), then calls bin_row. */
    myr__field *(*bin_slots)(void *ctx, const myr_column **cols);
    int (*bin_row)(void *ctx, myr__field *fields, const uint8_t *p, size_t len);
    /* PREPARE succeeded (MYR__RMODE_PREPARE); its column definitions then
     * come through columns()/column(), parameter definitions are skipped. */
    int (*prepared)(void *ctx, const myr__prep_ok *ok);
} myr__sink;

/* What myr__resp_read says about a packet it was given. */
enum {
    MYR__RESP_MORE = 0,  /* consumed; more of the response follows */
    MYR__RESP_DONE = 1,  /* consumed; the response is complete */
    MYR__RESP_ERR = 2,   /* an ERR packet (*err filled, views into p); the response is complete */
    MYR__RESP_INFILE = 3,/* the server asks for a local file: send it (or an empty packet),
                            the response then goes on */
};
/* Read one packet of a command's response into sink s (ctx is its first
 * argument). Returns a MYR__RESP_* value, or MYR_EMALFORMED / MYR_ENOMEM. */
int myr__resp_read(myr__resp *r, const uint8_t *p, size_t len, const myr__sink *s, void *ctx,
                   myr__err *err);
/* The hot path of a result set: while r expects a column count, column
 * definitions, the EOF after them or rows (not in a PREPARE response),
 * take whole frames straight from the byte stream in[0..n) (frame headers
 * included; *seq is the sequence id the next frame must carry and is
 * advanced) and hand them to s as myr__resp_read would, up to the EOF/OK
 * that ends the rows (after it, myr__resp_done(r) says whether the response
 * is over; if it is, it stops there). Stops, leaving the rest to the
 * packet reader and myr__resp_read, at anything else: a partial or split
 * frame, an OK or ERR, a packet that does not fit the state, a sequence id
 * that is off. Returns the bytes used (>= 0) or MYR_EMALFORMED /
 * MYR_ENOMEM. */
long myr__resp_rows(myr__resp *r, uint8_t *seq, const uint8_t *in, size_t n, const myr__sink *s,
                    void *ctx);

/* ------------------------------------------------------------- command.c */
/* Append a framed command packet (sequence id 0): cmd byte + arg bytes. */
int myr__cmd_build(myr__buf *out, uint8_t cmd, const void *arg, size_t arg_len);
/* The same with the first sequence id in *seq, advanced past the frames
 * written (a payload of 16 MiB or more takes several). */
int myr__cmd_build_seq(myr__buf *out, uint8_t cmd, const void *arg, size_t arg_len, uint8_t *seq);

/* MySQL charset numbers used by the client. 0 for an unknown name. */
uint8_t myr__charset_id(const char *name);

/* -------------------------------------------------------------- binary.c */
enum {  /* prepared statement commands */
    MYR__COM_STMT_PREPARE = 0x16,
    MYR__COM_STMT_EXECUTE = 0x17,
    MYR__COM_STMT_SEND_LONG_DATA = 0x18,
    MYR__COM_STMT_CLOSE = 0x19,
    MYR__COM_STMT_RESET = 0x1a,
    MYR__COM_STMT_BULK_EXECUTE = 0xfa,
};
/* The prepare OK packet (0x00 stmt_id ncols nparams 0 warnings). */
int myr__prep_ok_parse(const uint8_t *p, size_t len, myr__prep_ok *ok);
/* 0, or MYR_EINVAL for a parameter of unknown type, a NULL pointer with a
 * length, or a date/time field out of range. */
int myr__param_check(const myr_param *p);
/* Append a framed COM_STMT_EXECUTE (sequence *seq, advanced) of n checked
 * parameters, their types always bound. long_data (NULL = none): 1 for
 * each parameter already sent with COM_STMT_SEND_LONG_DATA (its value is
 * left out). 0 or MYR_ENOMEM (out unchanged). */
int myr__stmt_execute_build(myr__buf *out, uint8_t *seq, uint32_t stmt_id, const myr_param *params,
                            size_t n, const uint8_t *long_data);
/* Append a framed COM_STMT_BULK_EXECUTE (MariaDB) of nrows rows of ncols
 * checked parameters (row-major), types sent once (each column's values
 * share a type, NULL allowed anywhere). 0 or MYR_ENOMEM (out unchanged). */
int myr__stmt_bulk_build(myr__buf *out, uint8_t *seq, uint32_t stmt_id, const myr_param *params,
                         size_t ncols, size_t nrows);
int myr__stmt_long_data_build(myr__buf *out, uint8_t *seq, uint32_t stmt_id, uint16_t param,
                              const void *data, size_t len);
int myr__stmt_close_build(myr__buf *out, uint8_t *seq, uint32_t stmt_id);
/* A binary result row: fields get views of each column's raw value (NULL
 * ptr for SQL NULL): the bytes of a length-encoded value, the 1..8 bytes of
 * a number, the bytes after a temporal value's length byte. The row must
 * use the whole payload. 0 or MYR_EMALFORMED. */
int myr__binrow_parse(const uint8_t *p, size_t len, const myr_column *cols, size_t ncols,
                      myr__field *fields);
/* 1 when a column type's binary value is its text (strings, DECIMAL, BIT,
 * ENUM, SET, JSON, ...): no conversion needed. */
int myr__bin_is_bytes(uint8_t type);
/* The text form of a raw binary value of column col (not a bytes type):
 * writes up to MYR__BIN_TEXT_MAX bytes (no NUL) to out, returns the length. */
#define MYR__BIN_TEXT_MAX 400
size_t myr__bin_text(const myr_column *col, const uint8_t *raw, size_t len, char *out);

#endif
