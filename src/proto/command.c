/*
 * src/proto/command.c -- command packets (COM_QUERY, COM_PING, ...) and the
 * charset names the client can ask for.
 */
#include "proto.h"

#include <string.h>
#include <strings.h>

int myr__cmd_build(myr__buf *out, uint8_t cmd, const void *arg, size_t arg_len)
{
    uint8_t seq = 0;   /* every command starts a new sequence */
    return myr__cmd_build_seq(out, cmd, arg, arg_len, &seq);
}

int myr__cmd_build_seq(myr__buf *out, uint8_t cmd, const void *arg, size_t arg_len, uint8_t *seq)
{
    if (arg_len < MYR__PKT_MAX - 1) {   /* one frame (every command but a huge query) */
        size_t n = 1 + arg_len;
        if (myr__buf_reserve(out, 4 + n) != 0)
            return MYR_ENOMEM;
        uint8_t *h = out->data + out->len;
        h[0] = (uint8_t)n;
        h[1] = (uint8_t)(n >> 8);
        h[2] = (uint8_t)(n >> 16);
        h[3] = (*seq)++;
        h[4] = cmd;
        if (arg_len)
            memcpy(h + 5, arg, arg_len);
        out->len += 4 + n;
        return 0;
    }
    size_t begin = myr__pkt_begin(out);
    if (begin == SIZE_MAX)
        return MYR_ENOMEM;
    /* Reserve once: a COM_QUERY can be large, and the split below needs 4
     * more bytes per 16 MiB frame. */
    int rc = myr__buf_reserve(out, 1 + arg_len + 4 * (1 + (1 + arg_len) / MYR__PKT_MAX));
    if (!rc)
        rc = myr__buf_put_u8(out, cmd);
    if (!rc && arg_len)
        rc = myr__buf_append(out, arg, arg_len);
    if (!rc)
        rc = myr__pkt_end(out, begin, seq);
    if (rc)
        out->len = out->rpos + begin;
    return rc;
}

uint8_t myr__charset_id(const char *name)
{
    static const struct { const char *name; uint8_t id; } table[] = {
        {"utf8mb4", 45},   /* utf8mb4_general_ci */
        {"utf8mb3", 33},   /* utf8mb3_general_ci */
        {"utf8", 33},      /* an alias of utf8mb3 on every server we talk to */
        {"latin1", 8},     /* latin1_swedish_ci */
        {"binary", 63},
        {"ascii", 11},     /* ascii_general_ci */
    };
    if (name == NULL)
        return 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcasecmp(name, table[i].name) == 0)
            return table[i].id;
    return 0;
}
