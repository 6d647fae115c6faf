/* SPDX-License-Identifier: Apache-2.0 */
/* UFID <-> text.  The byte order rules are in ufid.h. */

#include "codec/ufid.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "lib/errbuf.h"
#include "lib/text.h"

static uint32_t
word(const struct ufid *ufid, int i)
{
    uint32_t w;

    memcpy(&w, &ufid->id[4 * i], sizeof w);
    return w;                   /* Host order, as OVS's ovs_u128. */
}

void
ufid_format(const struct ufid *ufid, struct sbuf *out)
{
    if (!ufid->len || ufid->len > UFID_MAX_LEN) {
        sbuf_put(out, "ufid:<invalid>");
    } else if (ufid->len == UFID_MAX_LEN) {
        sbuf_printf(out, "ufid:%08" PRIx32 "-%04" PRIx32 "-%04" PRIx32
                    "-%04" PRIx32 "-%04" PRIx32 "%08" PRIx32,
                    word(ufid, 0), word(ufid, 1) >> 16,
                    word(ufid, 1) & 0xffff, word(ufid, 2) >> 16,
                    word(ufid, 2) & 0xffff, word(ufid, 3));
    } else {
        sbuf_put(out, "ufid:0x");
        sbuf_put_hex(out, ufid->id, ufid->len);
    }
}

/* Reads 'n' hex digits at 's' into '*v'.  Returns false if one is not. */
static bool
hex_word(const char *s, int n, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        int d = hex_digit_value((unsigned char) s[i]);

        if (d < 0) {
            return false;
        }
        *v = *v << 4 | d;
    }
    return true;
}

static int
parse_uuid(const char *s, struct ufid *ufid)
{
    uint32_t w[4], hi, lo;

    if (!hex_word(s, 8, &w[0]) || s[8] != '-'
        || !hex_word(s + 9, 4, &hi) || s[13] != '-'
        || !hex_word(s + 14, 4, &lo) || s[18] != '-') {
        return -EINVAL;
    }
    w[1] = hi << 16 | lo;
    if (!hex_word(s + 19, 4, &hi) || s[23] != '-'
        || !hex_word(s + 24, 4, &lo) || !hex_word(s + 28, 8, &w[3])) {
        return -EINVAL;
    }
    w[2] = hi << 16 | lo;
    if (hex_digit_value((unsigned char) s[36]) >= 0) {
        return -EINVAL;         /* Too many digits. */
    }
    memset(ufid, 0, sizeof *ufid);
    ufid->len = UFID_MAX_LEN;
    memcpy(ufid->id, w, sizeof w);
    return 0;
}

int
ufid_parse(const char *s, size_t *consumed, struct ufid *ufid,
           struct errbuf *err)
{
    size_t n;

    if (strncmp(s, "ufid:", 5)) {
        errbuf_set(err, "expected 'ufid:' at '%.12s'", s);
        return -EINVAL;
    }
    s += 5;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        struct ufid u;

        for (n = 0; hex_digit_value((unsigned char) s[2 + n]) >= 0; n++) {
            continue;
        }
        if (!n || n % 2 || n > 2 * UFID_MAX_LEN) {
            errbuf_set(err, "ufid: need 2 to 32 hex digits, an even number, "
                       "after '0x' (got %zu)", n);
            return -EINVAL;
        }
        memset(&u, 0, sizeof u);
        u.len = n / 2;
        for (size_t i = 0; i < u.len; i++) {
            u.id[i] = hex_digit_value((unsigned char) s[2 + 2 * i]) << 4
                      | hex_digit_value((unsigned char) s[3 + 2 * i]);
        }
        *ufid = u;
        n += 2;
    } else {
        if (strnlen(s, UFID_UUID_TEXT_LEN) < UFID_UUID_TEXT_LEN
            || parse_uuid(s, ufid)) {
            errbuf_set(err, "ufid: bad UUID at '%.36s'", s);
            return -EINVAL;
        }
        n = UFID_UUID_TEXT_LEN;
    }
    if (consumed) {
        *consumed = 5 + n;
    }
    return 0;
}

bool
ufid_equal(const struct ufid *a, const struct ufid *b)
{
    return a->len == b->len && !memcmp(a->id, b->id, a->len);
}

uint32_t
ufid_hash(const struct ufid *ufid, uint32_t basis)
{
    /* FNV-1a over the length and the bytes. */
    uint32_t h = 2166136261u ^ basis;

    h = (h ^ ufid->len) * 16777619u;
    for (size_t i = 0; i < ufid->len && i < UFID_MAX_LEN; i++) {
        h = (h ^ ufid->id[i]) * 16777619u;
    }
    return h;
}
