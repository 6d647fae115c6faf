/* SPDX-License-Identifier: Apache-2.0 */
/* ovs-dpctl text -> OVS_KEY_ATTR_* streams: fkey_parse(),
 * fkey_parse_attr() and their scanners.  The rules, and where they differ
 * from Open vSwitch 3.1, are in fkey-text.h.
 *
 * Struct attributes (eth, ipv4, tcp, ...) are parsed from the shared field
 * tables (fkey-text-tables.c) by parse_struct().  The rest (single
 * integers, vlan's bit fields, mpls's array, flag sets, ct_label's 128
 * bits, encap's nesting, unknown types in hex) have their own small
 * functions.  Output goes into the caller's buffers with bounded libmnl
 * calls only. */

#include "codec/fkey-text.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>

#include "codec/fkey-attrs.h"
#include "codec/fkey-text-private.h"
#include "codec/nl-attr.h"
#include "lib/errbuf.h"
#include "lib/text.h"

#define CT_STATE_ALLOWED 0xff   /* The eight OVS_CS_F_* flags OVS knows. */
#define MAX_MPLS_LSES 3         /* OVS's FLOW_MAX_MPLS_LABELS. */

/* The state of one fkey_parse() or fkey_parse_attr() call. */
struct pctx {
    struct nlmsghdr *key;
    size_t key_buflen;
    struct nlmsghdr *mask;      /* NULL: no mask wanted. */
    size_t mask_buflen;
    struct errbuf *err;
    int depth;                  /* Current encap() nesting. */
};

/* Declared in fkey-text-private.h. */
int
fkey_token_len(const char *s)
{
    int n = 0;

    while (s[n] && !strchr(",)/( \t\r\n", s[n]) && n < 40) {
        n++;
    }
    return n;
}

/* Declared in fkey-text-private.h. */
int
fkey_syntax_error(struct errbuf *err, const char *attr, const char *what,
                  const char *at)
{
    if (*at) {
        int n = fkey_token_len(at);
        const char *brace = memchr(at, '}', n);

        if (brace) {
            n = brace - at;     /* A geneve option ends at '}'. */
        }
        errbuf_set(err, "%s: %s at '%.*s'", attr, what, n ? n : 1, at);
    } else {
        errbuf_set(err, "%s: %s at end of input", attr, what);
    }
    return -EINVAL;
}

static int
syntax_error(struct pctx *c, const char *attr, const char *what,
             const char *at)
{
    return fkey_syntax_error(c->err, attr, what, at);
}

/* "<attr>: <what> for '<field>' at '<token>'" (or "at end of input"),
 * for a field value or mask that does not scan.  Returns -EINVAL. */
static int
bad_field(struct pctx *c, const char *attr, const char *what,
          const char *field, const char *at)
{
    char msg[64];

    snprintf(msg, sizeof msg, "%s for '%s'", what, field);
    return syntax_error(c, attr, msg, at);
}

/* Scans an unsigned integer as scanf's "%i" does (0x hex, 0 octal, else
 * decimal) no larger than 'max'.  Returns characters used, 0 if none. */
int
fkey_scan_uint(const char *s, uint64_t max, uint64_t *valp)
{
    unsigned int base = 10;
    uint64_t val = 0;
    int n = 0;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
        && hex_digit_value((unsigned char) s[2]) >= 0) {
        base = 16;
        n = 2;
    } else if (s[0] == '0') {
        base = 8;
    } else if (!isdigit((unsigned char) s[0])) {
        return 0;
    }
    for (;; n++) {
        int d = hex_digit_value((unsigned char) s[n]);

        if (d < 0 || (unsigned int) d >= base) {
            break;
        }
        if ((uint64_t) d > max || val > (max - d) / base) {
            return 0;           /* Too large. */
        }
        val = val * base + d;
    }
    *valp = val;
    return n;
}

/* Declared in fkey-text-private.h. */
int
fkey_scan_uint_masked(const char *attr, const char *field, const char *s,
                      uint64_t max, bool masked, uint64_t *v, uint64_t *m,
                      struct errbuf *err)
{
    char what[64];
    int n, n2;

    n = fkey_scan_uint(s, max, v);
    if (!n) {
        snprintf(what, sizeof what, "bad value for '%s'", field);
        return fkey_syntax_error(err, attr, what, s);
    }
    *m = max;
    if (s[n] != '/') {
        return n;
    }
    if (!masked) {
        errbuf_set(err, "%s: mask on '%s' but no mask is being parsed",
                   attr, field);
        return -EINVAL;
    }
    n2 = fkey_scan_uint(s + n + 1, max, m);
    if (!n2) {
        snprintf(what, sizeof what, "bad mask for '%s'", field);
        return fkey_syntax_error(err, attr, what, s + n + 1);
    }
    return n + 1 + n2;
}

static int
scan_ipv4(const char *s, uint8_t out[4])
{
    int n = 0;

    for (int i = 0; i < 4; i++) {
        unsigned int v = 0;
        int digits = 0;

        if (i) {
            if (s[n] != '.') {
                return 0;
            }
            n++;
        }
        while (isdigit((unsigned char) s[n]) && digits < 3) {
            v = v * 10 + (s[n++] - '0');
            digits++;
        }
        if (!digits || v > 255 || isdigit((unsigned char) s[n])) {
            return 0;
        }
        out[i] = v;
    }
    return n;
}

static int
scan_in6(const char *s, uint8_t out[16])
{
    char buf[INET6_ADDRSTRLEN + 1];
    size_t n = strspn(s, "0123456789abcdefABCDEF:.");

    if (!n || n >= sizeof buf) {
        return 0;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return inet_pton(AF_INET6, buf, out) == 1 ? (int) n : 0;
}

static int
scan_mac(const char *s, uint8_t out[6])
{
    int n = 0;

    for (int i = 0; i < 6; i++) {
        int hi, lo;

        if (i) {
            if (s[n] != ':') {
                return 0;
            }
            n++;
        }
        hi = hex_digit_value((unsigned char) s[n]);
        if (hi < 0) {
            return 0;
        }
        n++;
        lo = hex_digit_value((unsigned char) s[n]);
        if (lo >= 0) {
            out[i] = hi << 4 | lo;
            n++;
        } else {
            out[i] = hi;
        }
    }
    return n;
}

static int
scan_frag(const char *s, uint8_t *out)
{
    static const char *const names[] = { "no", "first", "later" };

    for (uint8_t i = 0; i < 3; i++) {
        size_t len = strlen(names[i]);

        if (!strncasecmp(s, names[i], len) && !isalpha((unsigned char)
                                                       s[len])) {
            *out = i;
            return len;
        }
    }
    return 0;
}

/* Scans one value of 'kind' into 'out'.  Returns characters used or 0. */
int
fkey_scan_value(enum fkey_kind kind, const char *s, uint8_t *out)
{
    uint64_t v;
    int n;

    switch (kind) {
    case FK_ETH:
        return scan_mac(s, out);
    case FK_IPV4:
        return scan_ipv4(s, out);
    case FK_IN6:
        return scan_in6(s, out);
    case FK_FRAG:
        return scan_frag(s, out);
    case FK_U8U:
    case FK_U8X:
        n = fkey_scan_uint(s, UINT8_MAX, &v);
        if (n) {
            *out = v;
        }
        return n;
    case FK_BE16U:
    case FK_BE16X: {
        uint16_t x;

        n = fkey_scan_uint(s, UINT16_MAX, &v);
        if (n) {
            x = htons(v);
            memcpy(out, &x, 2);
        }
        return n;
    }
    case FK_LABEL:
    case FK_RSVD: {
        uint32_t x;

        n = fkey_scan_uint(s, kind == FK_LABEL ? IPV6_LABEL_MASK : UINT32_MAX,
                      &v);
        if (n) {
            x = htonl(v);
            memcpy(out, &x, 4);
        }
        return n;
    }
    }
    return 0;
}

/* Scans "value[/mask]" of 'kind' at 's' into 'k' and, if 'm' is nonnull,
 * 'm' (all-ones without "/mask").  FK_FRAG takes no mask.  Returns
 * characters used or a negative errno with the reason set. */
static int
scan_masked(struct pctx *c, const char *attr, const char *field,
            enum fkey_kind kind, const char *s, uint8_t *k, uint8_t *m)
{
    size_t size = fkey_kind_size(kind);
    int n, n2;

    n = fkey_scan_value(kind, s, k);
    if (!n) {
        return bad_field(c, attr, "bad value", field, s);
    }
    if (s[n] != '/') {
        if (m) {
            if (kind == FK_LABEL) {
                uint32_t full = htonl(IPV6_LABEL_MASK);

                memcpy(m, &full, 4);
            } else {
                memset(m, 0xff, size);
            }
        }
        return n;
    }
    if (kind == FK_FRAG) {
        errbuf_set(c->err, "%s: '%s' cannot be masked", attr, field);
        return -EINVAL;
    }
    if (!m) {
        errbuf_set(c->err, "%s: mask on '%s' but no mask is being parsed",
                   attr, field);
        return -EINVAL;
    }
    n2 = fkey_scan_value(kind, s + n + 1, m);
    if (!n2) {
        return bad_field(c, attr, "bad mask", field, s + n + 1);
    }
    return n + 1 + n2;
}

/* Appends the key and (if wanted) mask attribute.  On failure the caller
 * restores the buffers. */
static int
put_pair(struct pctx *c, uint16_t type, const void *k, const void *m,
         size_t len)
{
    if (!codec_attr_put(c->key, c->key_buflen, type, len, k)) {
        errbuf_set(c->err, "key buffer too small");
        return -EMSGSIZE;
    }
    if (c->mask && !codec_attr_put(c->mask, c->mask_buflen, type, len, m)) {
        errbuf_set(c->err, "mask buffer too small");
        return -EMSGSIZE;
    }
    return 0;
}

/* Parses the fields of a struct attribute; 's' points after "name(". */
static int
parse_struct(struct pctx *c, const char *name,
             const struct fkey_struct_attr *sa, const char *s)
{
    uint8_t k[64], m[64];
    int len = fkey_attr_len(sa->type);
    uint32_t seen = 0;
    const char *p = s;

    memset(k, 0, sizeof k);
    memset(m, 0, sizeof m);
    while (*p != ')') {
        const struct fkey_field *f = NULL;
        size_t i, idlen = 0;
        int n;

        if (p != s) {
            if (*p != ',') {
                return syntax_error(c, name, "expected ',' or ')'", p);
            }
            p++;
        }
        while (isalnum((unsigned char) p[idlen]) || p[idlen] == '_') {
            idlen++;
        }
        for (i = 0; i < sa->n_fields; i++) {
            const struct fkey_field *g = &sa->fields[i];

            if ((strlen(g->name) == idlen && !strncmp(p, g->name, idlen))
                || (g->alias && strlen(g->alias) == idlen
                    && !strncmp(p, g->alias, idlen))) {
                f = g;
                break;
            }
        }
        if (!f || p[idlen] != '=') {
            if (!idlen) {
                return syntax_error(c, name, "expected a field", p);
            }
            errbuf_set(c->err, "%s: unknown field '%.*s'", name, (int) idlen,
                       p);
            return -EINVAL;
        }
        if (seen & (1u << i)) {
            errbuf_set(c->err, "%s: duplicate field '%s'", name, f->name);
            return -EINVAL;
        }
        seen |= 1u << i;
        p += idlen + 1;
        n = scan_masked(c, name, f->name, f->kind, p, k + f->ofs,
                        c->mask ? m + f->ofs : NULL);
        if (n < 0) {
            return n;
        }
        p += n;
    }
    p++;
    {
        int error = put_pair(c, sa->type, k, m, len);

        return error ? error : p - s;
    }
}

/* Parses a single integer attribute "N[/M]" of 'width' bytes in host
 * order (ntoh 'be' for be16). */
static int
parse_int_attr(struct pctx *c, const char *name, uint16_t type, int width,
               bool be, bool maskable, const char *s)
{
    uint64_t max = width == 4 ? UINT32_MAX : UINT16_MAX;
    uint64_t kv, mv = max;
    uint8_t k[4], m[4];
    const char *p = s;
    int n;

    n = fkey_scan_uint(p, max, &kv);
    if (!n) {
        return syntax_error(c, name, "bad value", p);
    }
    p += n;
    if (*p == '/') {
        if (!maskable) {
            errbuf_set(c->err, "%s: cannot be masked", name);
            return -EINVAL;
        }
        if (!c->mask) {
            errbuf_set(c->err, "%s: mask given but no mask is being parsed",
                       name);
            return -EINVAL;
        }
        p++;
        n = fkey_scan_uint(p, max, &mv);
        if (!n) {
            return syntax_error(c, name, "bad mask", p);
        }
        p += n;
    }
    if (*p != ')') {
        return syntax_error(c, name, "expected ')'", p);
    }
    p++;
    if (width == 4) {
        uint32_t kx = kv, mx = mv;

        memcpy(k, &kx, 4);
        memcpy(m, &mx, 4);
    } else {
        uint16_t kx = be ? htons(kv) : kv, mx = be ? htons(mv) : mv;

        memcpy(k, &kx, 2);
        memcpy(m, &mx, 2);
    }
    n = put_pair(c, type, k, m, width);
    return n ? n : p - s;
}

/* "eth_type(0/MASK)": the form the formatter prints for an Ethertype
 * that is in the mask but not in the key, which is how the kernel sends
 * an 802.2 (LLC) frame's flow.  Only the mask attribute is written.
 * 's' points after "0/".  Returns characters used. */
static int
parse_mask_only_ethertype(struct pctx *c, const char *name, const char *s)
{
    uint64_t v;
    uint16_t m;
    int n;

    n = fkey_scan_uint(s, UINT16_MAX, &v);
    if (!n) {
        return syntax_error(c, name, "bad mask", s);
    }
    if (s[n] != ')') {
        return syntax_error(c, name, "expected ')'", s + n);
    }
    m = htons(v);
    if (!codec_attr_put(c->mask, c->mask_buflen, OVS_KEY_ATTR_ETHERTYPE, 2,
                        &m)) {
        errbuf_set(c->err, "mask buffer too small");
        return -EMSGSIZE;
    }
    return n + 1;
}

/* OVS's parse_flags() with ')' as the end: "+a-b" (masked), "N/M"
 * (masked numbers), or "a|b|N" (exact).  Returns characters used. */
static int
scan_flags(struct pctx *c, const char *name, const char *s,
           const char *(*bit_name)(uint32_t), uint32_t allowed,
           uint32_t *flagsp, uint32_t *maskp)
{
    uint32_t flags = 0, mask = 0;
    uint64_t v, w;
    int n = 0, n1, n2;

    n1 = fkey_scan_uint(s, UINT32_MAX, &v);
    if (n1 && s[n1] == '/') {
        if (!c->mask) {
            errbuf_set(c->err, "%s: mask given but no mask is being parsed",
                       name);
            return -EINVAL;
        }
        n2 = fkey_scan_uint(s + n1 + 1, UINT32_MAX, &w);
        if (!n2) {
            return syntax_error(c, name, "bad mask", s + n1 + 1);
        }
        if ((v | w) & ~allowed) {
            return syntax_error(c, name, "unknown flag bits", s);
        }
        *flagsp = v;
        *maskp = w;
        return n1 + 1 + n2;
    }

    if (*s == '+' || *s == '-') {
        if (!c->mask) {
            errbuf_set(c->err, "%s: +/- flags need a mask", name);
            return -EINVAL;
        }
        while (s[n] != ')') {
            bool set = s[n] == '+';
            uint32_t bit;

            if (s[n] != '+' && s[n] != '-') {
                return syntax_error(c, name, "expected '+' or '-'", s + n);
            }
            n++;
            for (bit = 1; bit; bit <<= 1) {
                const char *fname = bit_name(bit);
                size_t len = fname ? strlen(fname) : 0;

                if (fname && !strncmp(s + n, fname, len)
                    && strchr("+-)", s[n + len])) {
                    break;
                }
            }
            if (!bit || !(bit & allowed)) {
                return syntax_error(c, name, "unknown flag", s + n);
            }
            if (mask & bit) {
                errbuf_set(c->err, "%s: flag '%s' given twice", name,
                           bit_name(bit));
                return -EINVAL;
            }
            mask |= bit;
            if (set) {
                flags |= bit;
            }
            n += strlen(bit_name(bit));
        }
        *flagsp = flags;
        *maskp = mask;
        return n;
    }

    while (s[n] != ')') {
        uint32_t bit;

        n1 = fkey_scan_uint(s + n, UINT32_MAX, &v);
        if (n1) {
            if (v & ~allowed) {
                return syntax_error(c, name, "unknown flag bits", s + n);
            }
            flags |= v;
            n += n1;
        } else {
            for (bit = 1; bit; bit <<= 1) {
                const char *fname = bit_name(bit);
                size_t len = fname ? strlen(fname) : 0;

                if (fname && !strncmp(s + n, fname, len)
                    && strchr("|)", s[n + len])) {
                    break;
                }
            }
            if (!bit || !(bit & allowed)) {
                return syntax_error(c, name, "unknown flag", s + n);
            }
            flags |= bit;
            n += strlen(bit_name(bit));
        }
        if (s[n] == '|' && s[n + 1] != ')') {
            n++;
        } else if (s[n] != ')') {
            return syntax_error(c, name, "expected '|' or ')'", s + n);
        }
    }
    *flagsp = flags;
    *maskp = UINT32_MAX;
    return n;
}

static int
parse_flags_attr(struct pctx *c, const char *name, uint16_t type,
                 const char *s)
{
    bool tcp = type == OVS_KEY_ATTR_TCP_FLAGS;
    uint32_t flags, mask;
    int n, error;

    n = scan_flags(c, name, s, tcp ? fkey_tcp_flag_name : fkey_ct_state_name,
                   tcp ? TCP_FLAGS_MASK : CT_STATE_ALLOWED, &flags, &mask);
    if (n < 0) {
        return n;
    }
    if (s[n] != ')') {
        return syntax_error(c, name, "expected ')'", s + n);
    }
    if (tcp) {
        uint16_t k = htons(flags), m = htons(mask);

        error = put_pair(c, type, &k, &m, 2);
    } else {
        error = put_pair(c, type, &flags, &mask, 4);
    }
    return error ? error : n + 1;
}

/* ct_label: a 128-bit number, "0x" hex or decimal (OVS's scan_u128()). */
static int
scan_u128(const char *s, uint8_t be[16])
{
    memset(be, 0, 16);
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        int n = 2, digits = 0;
        size_t start;

        while (s[n] == '0') {
            n++;
        }
        start = n;
        while (hex_digit_value((unsigned char) s[n]) >= 0) {
            n++;
            digits++;
        }
        if (digits > 32 || (n == 2)) {
            return 0;
        }
        for (int i = 0; i < digits; i++) {
            int d = hex_digit_value((unsigned char) s[start + digits - 1 - i]);

            be[15 - i / 2] |= i % 2 ? d << 4 : d;
        }
        return n;
    } else {
        uint64_t v;
        int n = fkey_scan_uint(s, UINT64_MAX, &v);

        for (int i = 15; n && i >= 8; i--) {
            be[i] = v;
            v >>= 8;
        }
        return n;
    }
}

static int
parse_ct_label(struct pctx *c, const char *name, const char *s)
{
    uint8_t kbe[16], mbe[16], k[16], m[16];
    const char *p = s;
    int n;

    n = scan_u128(p, kbe);
    if (!n) {
        return syntax_error(c, name, "bad value", p);
    }
    p += n;
    memset(mbe, 0xff, sizeof mbe);
    if (*p == '/') {
        if (!c->mask) {
            errbuf_set(c->err, "%s: mask given but no mask is being parsed",
                       name);
            return -EINVAL;
        }
        n = scan_u128(p + 1, mbe);
        if (!n) {
            return syntax_error(c, name, "bad mask", p + 1);
        }
        p += 1 + n;
    }
    if (*p != ')') {
        return syntax_error(c, name, "expected ')'", p);
    }
    /* Big-endian number to host-order ovs_u128: the same swap. */
    u128_host_to_be(kbe, k);
    u128_host_to_be(mbe, m);
    n = put_pair(c, OVS_KEY_ATTR_CT_LABELS, k, m, 16);
    return n ? n : p + 1 - s;
}

/* A bit field of vlan's TCI or of an MPLS label stack entry. */
struct bit_field {
    const char *name;
    int bits, shift;
};

/* Parses the "name=value[/mask],..." list of vlan() or mpls() at 's', up
 * to its ')', into the host-order words 'k' and 'm', which the caller
 * initialises.  A field sets its bits of the current word, in 'm' to
 * all-ones without "/mask".  A field given again is a duplicate if there
 * is one word (vlan), else it starts the next label stack entry (mpls),
 * up to 'max_words'.  Sets '*n_words' to the words used.  Returns the
 * characters used, including the ')', or -EINVAL. */
static int
parse_bit_fields(struct pctx *c, const char *name, const char *s,
                 const struct bit_field *fields, size_t n_fields,
                 uint32_t k[], uint32_t m[], int max_words, int *n_words)
{
    unsigned int seen = 0;
    int idx = 0;
    const char *p = s;

    while (*p != ')') {
        const struct bit_field *f;
        size_t i, idlen = 0;
        uint64_t v, mv;
        uint32_t bf, max;
        int n;

        if (p != s) {
            if (*p != ',') {
                return syntax_error(c, name, "expected ',' or ')'", p);
            }
            p++;
        }
        while (isalpha((unsigned char) p[idlen])) {
            idlen++;
        }
        for (i = 0; i < n_fields; i++) {
            if (strlen(fields[i].name) == idlen
                && !strncmp(p, fields[i].name, idlen)) {
                break;
            }
        }
        if (i == n_fields || p[idlen] != '=') {
            if (!idlen) {
                return syntax_error(c, name, "expected a field", p);
            }
            errbuf_set(c->err, "%s: unknown field '%.*s'", name, (int) idlen,
                       p);
            return -EINVAL;
        }
        f = &fields[i];
        if (seen & (1u << i)) {
            if (max_words == 1) {
                errbuf_set(c->err, "%s: duplicate field '%s'", name,
                           f->name);
                return -EINVAL;
            }
            seen = 0;
            if (++idx == max_words) {
                errbuf_set(c->err, "%s: more than %d label stack entries",
                           name, max_words);
                return -EINVAL;
            }
        }
        seen |= 1u << i;
        p += idlen + 1;
        max = (1u << f->bits) - 1;
        bf = max << f->shift;
        n = fkey_scan_uint(p, max, &v);
        if (!n) {
            return bad_field(c, name, "bad value", f->name, p);
        }
        p += n;
        mv = max;
        if (*p == '/') {
            if (!c->mask) {
                errbuf_set(c->err, "%s: mask on '%s' but no mask is being "
                           "parsed", name, f->name);
                return -EINVAL;
            }
            n = fkey_scan_uint(p + 1, max, &mv);
            if (!n) {
                return bad_field(c, name, "bad mask", f->name, p + 1);
            }
            p += 1 + n;
        }
        k[idx] = (k[idx] & ~bf) | (uint32_t) v << f->shift;
        m[idx] = (m[idx] & ~bf) | (uint32_t) mv << f->shift;
    }
    *n_words = idx + 1;
    return p + 1 - s;
}

static int
parse_vlan(struct pctx *c, const char *name, const char *s)
{
    static const struct bit_field fields[] = {
        { "vid", 12, 0 }, { "pcp", 3, 13 }, { "cfi", 1, 12 },
    };
    /* OVS starts from CFI set, and exact, as nearly every tag has it. */
    uint32_t tci = VLAN_CFI, mask = VLAN_CFI;
    uint16_t k, m;
    int n_words, n, error;

    n = parse_bit_fields(c, name, s, fields, sizeof fields / sizeof *fields,
                         &tci, &mask, 1, &n_words);
    if (n < 0) {
        return n;
    }
    k = htons(tci);
    m = htons(mask);
    error = put_pair(c, OVS_KEY_ATTR_VLAN, &k, &m, 2);
    return error ? error : n;
}

static int
parse_mpls(struct pctx *c, const char *name, const char *s)
{
    static const struct bit_field fields[] = {
        { "label", 20, 12 }, { "tc", 3, 9 }, { "ttl", 8, 0 },
        { "bos", 1, 8 },
    };
    uint32_t k[MAX_MPLS_LSES] = { 0 }, m[MAX_MPLS_LSES] = { 0 };
    int n_lses = 0, n, error;

    n = parse_bit_fields(c, name, s, fields, sizeof fields / sizeof *fields,
                         k, m, MAX_MPLS_LSES, &n_lses);
    if (n < 0) {
        return n;
    }
    for (int i = 0; i < n_lses; i++) {
        k[i] = htonl(k[i]);
        m[i] = htonl(m[i]);
    }
    error = put_pair(c, OVS_KEY_ATTR_MPLS, k, m, 4 * n_lses);
    return error ? error : n;
}

/* Declared in fkey-text-private.h. */
int
fkey_scan_raw(const char *s, bool masked, struct fkey_raw *r)
{
    bool in_mask = false;
    const char *p = s;

    r->nk = r->nm = 0;
    while (*p != ')') {
        int hi = hex_digit_value((unsigned char) p[0]);
        int lo = hi >= 0 ? hex_digit_value((unsigned char) p[1]) : -1;

        r->at = p;
        if (p == s && *p == '/' && p[1] == ')') {
            /* "key31(/)": an empty attribute with an empty mask. */
            if (!masked) {
                return FKEY_RAW_NO_MASK;
            }
            in_mask = true;
            p++;
            continue;
        }
        if (lo < 0) {
            r->why = "expected two hex digits";
            return FKEY_RAW_SYNTAX;
        }
        if ((in_mask ? r->nm : r->nk) == r->max) {
            return FKEY_RAW_TOO_LONG;
        }
        if (in_mask) {
            r->m[r->nm++] = hi << 4 | lo;
        } else {
            r->k[r->nk++] = hi << 4 | lo;
        }
        p += 2;
        r->at = p;
        if (*p == ' ' && p[1] != ')') {
            p++;
        } else if (*p == '/' && !in_mask) {
            if (!masked) {
                return FKEY_RAW_NO_MASK;
            }
            in_mask = true;
            p++;
        } else if (*p != ')') {
            r->why = "expected ' ', '/' or ')'";
            return FKEY_RAW_SYNTAX;
        }
    }
    if (!in_mask) {
        memset(r->m, 0xff, r->nk);
        r->nm = r->nk;
    }
    return p - s;
}

/* "key<N>(01 02 03[/ff ff ff])": an attribute this build does not know. */
static int
parse_unknown(struct pctx *c, const char *name, uint16_t type,
              const char *s)
{
    size_t cap = strlen(s) / 2 + 1;     /* More than 's' can fill. */
    struct fkey_raw r = { .k = malloc(cap), .m = malloc(cap), .max = cap };
    int n;

    if (!r.k || !r.m) {
        abort();
    }
    n = fkey_scan_raw(s, c->mask != NULL, &r);
    if (n == FKEY_RAW_SYNTAX) {
        n = syntax_error(c, name, r.why, r.at);
    } else if (n < 0) {
        /* FKEY_RAW_NO_MASK: 'cap' leaves no room for FKEY_RAW_TOO_LONG. */
        errbuf_set(c->err, "%s: mask given but no mask is being parsed",
                   name);
        n = -EINVAL;
    } else if (r.nm != r.nk) {
        errbuf_set(c->err, "%s: mask has %zu bytes, value %zu", name, r.nm,
                   r.nk);
        n = -EINVAL;
    } else if (r.nk > UINT16_MAX - NLA_HDRLEN) {
        errbuf_set(c->err, "%s: too long", name);
        n = -EINVAL;
    } else {
        int error = put_pair(c, type, r.k, r.m, r.nk);

        n = error ? error : n + 1;
    }
    free(r.k);
    free(r.m);
    return n;
}

static int parse_stream(struct pctx *c, const char *s, bool nested);

/* Opens a nest of 'type' at the tail of 'nlh', returning it or NULL if
 * there is no room.  Unlike mnl_attr_nest_start(), no NLA_F_NESTED flag:
 * OVS and the kernel's OVS datapath send key nests without it. */
static struct nlattr *
nest_start(struct nlmsghdr *nlh, size_t buflen, uint16_t type)
{
    struct nlattr *nest;

    if (nlh->nlmsg_len + NLA_HDRLEN > buflen) {
        return NULL;
    }
    nest = mnl_nlmsg_get_payload_tail(nlh);
    nest->nla_type = type;
    nest->nla_len = NLA_HDRLEN;
    nlh->nlmsg_len += NLA_HDRLEN;
    return nest;
}

/* Closes 'nest'; returns false if it grew past what nla_len can hold. */
static bool
nest_end(struct nlmsghdr *nlh, struct nlattr *nest)
{
    size_t len = (uint8_t *) mnl_nlmsg_get_payload_tail(nlh)
                 - (uint8_t *) nest;

    if (len > UINT16_MAX) {
        return false;
    }
    nest->nla_len = len;
    return true;
}

/* Opens a nest of 'type' in the key and, if there is one, in the mask. */
static int
nests_start(struct pctx *c, uint16_t type, struct nlattr **kn,
            struct nlattr **mn)
{
    *kn = nest_start(c->key, c->key_buflen, type);
    if (!*kn) {
        errbuf_set(c->err, "key buffer too small");
        return -EMSGSIZE;
    }
    *mn = NULL;
    if (c->mask) {
        *mn = nest_start(c->mask, c->mask_buflen, type);
        if (!*mn) {
            errbuf_set(c->err, "mask buffer too small");
            return -EMSGSIZE;
        }
    }
    return 0;
}

/* Closes the nests nests_start() opened for attribute 'name'. */
static int
nests_end(struct pctx *c, const char *name, struct nlattr *kn,
          struct nlattr *mn)
{
    if (!nest_end(c->key, kn) || (mn && !nest_end(c->mask, mn))) {
        errbuf_set(c->err, "%s: longer than a netlink attribute allows",
                   name);
        return -EMSGSIZE;
    }
    return 0;
}

static int
parse_encap(struct pctx *c, const char *s)
{
    struct nlattr *kn, *mn;
    int n;

    if (c->depth >= FKEY_TEXT_MAX_DEPTH) {
        errbuf_set(c->err, "encap: nested more than %d deep",
                   FKEY_TEXT_MAX_DEPTH);
        return -EINVAL;
    }
    n = nests_start(c, OVS_KEY_ATTR_ENCAP, &kn, &mn);
    if (n < 0) {
        return n;
    }
    c->depth++;
    n = parse_stream(c, s, true);
    c->depth--;
    if (n < 0) {
        return n;
    }
    if (s[n] != ')') {
        return syntax_error(c, "encap", "expected ',' or ')'", s + n);
    }
    return nests_end(c, "encap", kn, mn) ? -EMSGSIZE : n + 1;
}

/* "nsh(...)": fkey-text-nsh.c writes the attributes inside the nests. */
static int
parse_nsh(struct pctx *c, const char *s)
{
    struct nlattr *kn, *mn;
    int n, error;

    error = nests_start(c, OVS_KEY_ATTR_NSH, &kn, &mn);
    if (error) {
        return error;
    }
    n = fkey_nsh_parse(s, c->key, c->key_buflen, c->mask, c->mask_buflen,
                       c->err);
    if (n < 0) {
        return n;
    }
    error = nests_end(c, "nsh", kn, mn);
    return error ? error : n;
}

/* "tunnel(...)": fkey-text-tunnel.c builds the two nested payloads; they
 * go out as plain attributes (no NLA_F_NESTED, as OVS sends them). */
static int
parse_tunnel(struct pctx *c, const char *s)
{
    uint8_t k[FKEY_TUNNEL_MAX], m[FKEY_TUNNEL_MAX];
    size_t klen = 0, mlen = 0;
    int n;

    n = fkey_tunnel_parse(s, c->mask != NULL, k, &klen, m, &mlen, c->err);
    if (n < 0) {
        return n;
    }
    if (!codec_attr_put(c->key, c->key_buflen, OVS_KEY_ATTR_TUNNEL, klen, k)) {
        errbuf_set(c->err, "key buffer too small");
        return -EMSGSIZE;
    }
    if (c->mask && !codec_attr_put(c->mask, c->mask_buflen,
                                   OVS_KEY_ATTR_TUNNEL, mlen, m)) {
        errbuf_set(c->err, "mask buffer too small");
        return -EMSGSIZE;
    }
    return n;
}

/* Parses one attribute "name(...)" at 's'.  Returns characters used. */
static int
parse_attr(struct pctx *c, const char *s)
{
    char name[32];
    size_t idlen = 0;
    const struct fkey_struct_attr *sa;
    const char *body;
    int type = -1;
    int n;

    while (isalnum((unsigned char) s[idlen]) || s[idlen] == '_') {
        idlen++;
    }
    if (!idlen || s[idlen] != '(') {
        if (!*s) {
            errbuf_set(c->err, "expected a key attribute at end of input");
        } else {
            errbuf_set(c->err, "expected a key attribute at '%.*s'",
                       fkey_token_len(s) ? fkey_token_len(s) : 1, s);
        }
        return -EINVAL;
    }
    if (idlen >= sizeof name) {
        errbuf_set(c->err, "unknown key attribute '%.*s'", (int) idlen, s);
        return -EINVAL;
    }
    memcpy(name, s, idlen);
    name[idlen] = '\0';
    body = s + idlen + 1;

    for (int t = 0; t <= OVS_KEY_ATTR_MAX; t++) {
        const char *tn = fkey_attr_name(t);

        if (tn && !strcmp(tn, name)) {
            type = t;
            break;
        }
    }
    if (type < 0 && !strncmp(name, "key", 3) && isdigit((unsigned char)
                                                         name[3])) {
        uint64_t v;

        n = fkey_scan_uint(name + 3, FKEY_MAX_ATTR_TYPE, &v);
        if (n && !name[3 + n] && (name[3] != '0' || !name[4])) {
            if (fkey_attr_name(v)) {
                errbuf_set(c->err, "%s: type %u is '%s'; use that name",
                           name, (unsigned int) v, fkey_attr_name(v));
                return -EINVAL;
            }
            type = v;
        }
    }
    if (type < 0) {
        errbuf_set(c->err, "unknown key attribute '%s'", name);
        return -EINVAL;
    }

    sa = fkey_find_struct_attr(type);
    if (sa) {
        n = parse_struct(c, name, sa, body);
    } else {
        switch (type) {
        case OVS_KEY_ATTR_PRIORITY:
        case OVS_KEY_ATTR_SKB_MARK:
        case OVS_KEY_ATTR_DP_HASH:
        case OVS_KEY_ATTR_CT_MARK:
        case OVS_KEY_ATTR_IN_PORT:
            n = parse_int_attr(c, name, type, 4, false, true, body);
            break;
        case OVS_KEY_ATTR_RECIRC_ID:
            n = parse_int_attr(c, name, type, 4, false, false, body);
            break;
        case OVS_KEY_ATTR_CT_ZONE:
        case OVS_KEY_ATTR_IPV6_EXTHDRS:
            n = parse_int_attr(c, name, type, 2, false, true, body);
            break;
        case OVS_KEY_ATTR_ETHERTYPE:
            if (c->mask && !strncmp(body, "0/", 2)) {
                n = parse_mask_only_ethertype(c, name, body + 2);
                n = n < 0 ? n : n + 2;
            } else {
                n = parse_int_attr(c, name, type, 2, true, true, body);
            }
            break;
        case OVS_KEY_ATTR_CT_STATE:
        case OVS_KEY_ATTR_TCP_FLAGS:
            n = parse_flags_attr(c, name, type, body);
            break;
        case OVS_KEY_ATTR_CT_LABELS:
            n = parse_ct_label(c, name, body);
            break;
        case OVS_KEY_ATTR_VLAN:
            n = parse_vlan(c, name, body);
            break;
        case OVS_KEY_ATTR_MPLS:
            n = parse_mpls(c, name, body);
            break;
        case OVS_KEY_ATTR_ENCAP:
            n = parse_encap(c, body);
            break;
        case OVS_KEY_ATTR_TUNNEL:
            n = parse_tunnel(c, body);
            break;
        case OVS_KEY_ATTR_NSH:
            n = parse_nsh(c, body);
            break;
        default:
            n = parse_unknown(c, name, type, body);
            break;
        }
    }
    return n < 0 ? n : (int) (body - s) + n;
}

/* Returns true if 's' starts "identifier(". */
static bool
starts_attr(const char *s)
{
    size_t n = 0;

    while (isalnum((unsigned char) s[n]) || s[n] == '_') {
        n++;
    }
    return n && s[n] == '(';
}

/* Parses attributes separated by ','.  At top level stops before anything
 * that cannot continue a key; inside encap() stops at ')'.  Returns
 * characters used. */
static int
parse_stream(struct pctx *c, const char *s, bool nested)
{
    size_t level = c->key->nlmsg_len;
    size_t mlevel = c->mask ? c->mask->nlmsg_len : 0;
    const char *p = s;

    if (nested && *p == ')') {
        return 0;
    }
    for (;;) {
        size_t before = c->key->nlmsg_len;
        size_t mbefore = c->mask ? c->mask->nlmsg_len : 0;
        const struct nlattr *a;
        int n;

        n = parse_attr(c, p);
        if (n < 0) {
            return n;
        }

        /* A second attribute of one type at one level is an error.  The
         * new attribute is in the mask alone for "eth_type(0/MASK)". */
        a = (const struct nlattr *) (c->key->nlmsg_len > before
                                     ? (const uint8_t *) c->key + before
                                     : (const uint8_t *) c->mask + mbefore);
        if (find_attr((const uint8_t *) c->key + level, before - level,
                      attr_type(a))
            || (c->mask && find_attr((const uint8_t *) c->mask + mlevel,
                                     mbefore - mlevel, attr_type(a)))) {
            errbuf_set(c->err, "duplicate key attribute '%.*s'",
                       (int) strcspn(p, "("), p);
            return -EINVAL;
        }
        p += n;

        if (*p == ',') {
            size_t blanks = strspn(p + 1, " \t");

            if (starts_attr(p + 1 + blanks)) {
                p += 1 + blanks;
                continue;
            }
        }
        break;
    }
    return p - s;
}

static int
parse_begin(const char *s, struct nlmsghdr *key_nlh, size_t key_buflen,
            struct nlmsghdr *mask_nlh, size_t mask_buflen,
            struct errbuf *err, bool one, size_t *consumed)
{
    struct pctx c = {
        .key = key_nlh, .key_buflen = key_buflen,
        .mask = mask_nlh, .mask_buflen = mask_buflen,
        .err = err, .depth = 0,
    };
    uint32_t key_len0 = key_nlh->nlmsg_len;
    uint32_t mask_len0 = mask_nlh ? mask_nlh->nlmsg_len : 0;
    size_t skip = one ? 0 : strspn(s, " \t\r\n");
    int n;

    errbuf_clear(err);
    if (!one && !strncmp(s + skip, "<empty>", 7)) {
        *consumed = skip + 7;
        return 0;
    }
    if (!one && !s[skip]) {
        *consumed = skip;
        return 0;
    }
    n = one ? parse_attr(&c, s) : parse_stream(&c, s + skip, false);
    if (n < 0) {
        key_nlh->nlmsg_len = key_len0;
        if (mask_nlh) {
            mask_nlh->nlmsg_len = mask_len0;
        }
        *consumed = skip;
        return n;
    }
    *consumed = skip + n;
    return 0;
}

int
fkey_parse(const char *s, size_t *consumed, struct nlmsghdr *key_nlh,
           size_t key_buflen, struct nlmsghdr *mask_nlh, size_t mask_buflen,
           struct errbuf *err)
{
    size_t dummy;

    return parse_begin(s, key_nlh, key_buflen, mask_nlh, mask_buflen, err,
                       false, consumed ? consumed : &dummy);
}

int
fkey_parse_attr(const char *s, struct nlmsghdr *key_nlh, size_t key_buflen,
                struct nlmsghdr *mask_nlh, size_t mask_buflen,
                struct errbuf *err)
{
    size_t consumed;
    int error;

    error = parse_begin(s, key_nlh, key_buflen, mask_nlh, mask_buflen, err,
                        true, &consumed);
    return error ? error : (int) consumed;
}
