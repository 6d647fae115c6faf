/* SPDX-License-Identifier: Apache-2.0 */
/* tunnel(...) as ovs-dpctl text: fkey_tunnel_format() and
 * fkey_tunnel_parse(), declared in fkey-text-private.h.
 *
 * OVS_KEY_ATTR_TUNNEL nests OVS_TUNNEL_KEY_ATTR_* attributes.  Open
 * vSwitch 3.1 prints them, in the order they come, as
 *
 *     tunnel(tun_id=0x5,src=1.1.1.1,dst=2.2.2.2,tos=0x8,ttl=64,
 *            tp_src=1,tp_dst=2,ipv6_src=..,ipv6_dst=..,
 *            geneve({class=0xffff,type=0x1,len=4,0xa}...),
 *            vxlan(gbp(id=10,flags=0xb)),
 *            erspan(ver=1,idx=0x7) | erspan(ver=2,dir=1,hwid=0x7),
 *            flags(df|csum|key))
 *
 * with the usual rules for masks ("value/mask", a field whose mask is
 * zero left out unless verbose), and flags(...) last.  The flag bits are
 * OVS's FLOW_TNL_F_*: oam 0x1, df 0x2, csum 0x4, key 0x8.  df, csum and
 * oam are flag attributes, set in the key and in the mask independently;
 * "key" is not an attribute at all but says that tun_id is there, so the
 * formatter derives it (in the key and, with a mask, in the mask) from
 * OVS_TUNNEL_KEY_ATTR_ID.  Without a mask flags() always prints
 * ("flags(0)" for none); with one only if some flag bit is masked.
 *
 * The parser takes fields in any order and writes them in that order,
 * except that the flag attributes go last, so that text -> bytes -> text
 * is the identity for whatever the formatter prints.  What it does that
 * OVS 3.1 does not, and why:
 *
 *   - "key" in flags() without a tun_id= field writes tun_id 0 (with a
 *     zero mask): the formatter leaves out a wildcarded tun_id but still
 *     prints "key", and that must read back.  (OVS drops the bit.)
 *   - vxlan(gbp(...)) is written even when the gbp value is zero, and
 *     vxlan() may hold several gbp() (the kernel takes them) or none.
 *   - A geneve option field, or erspan's idx/dir/hwid, left out is
 *     wildcarded, as everywhere else in weir; OVS keeps some of them
 *     exact.  erspan() takes any ver; idx only with ver=1, dir and hwid
 *     only with ver=2.  The layout follows ver's low byte.
 *   - With a mask, erspan() always prints ver, and prints dir, hwid and
 *     idx like any other field (OVS always shows idx's mask and shows
 *     full dir/hwid masks as "/0x1" and "/0xf").
 *   - Sub-attributes without a text form print as "key<N>(01 02 ...)",
 *     which parses back: OVS_TUNNEL_KEY_ATTR_IPV4_INFO_BRIDGE (16), types
 *     this build does not know, and erspan options that are not the
 *     12-byte struct erspan_metadata (the kernel accepts any length).
 *     OVS prints the first two the same way but cannot parse them.
 *   - Stricter: an unknown or repeated field is an error naming it.
 *
 * Lossy by design, as in OVS: OVS_TUNNEL_KEY_ATTR_PAD prints nothing, the
 * reserved bits of geneve options and the unused bits of gbp and erspan
 * do not print.  Malformed bytes (bad lengths, truncated attributes)
 * print OVS-like error forms that do not parse. */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>

#include "codec/fkey-text-private.h"
#include "lib/errbuf.h"
#include "lib/text.h"

/* OVS's FLOW_TNL_F_* bits. */
#define TUN_F_OAM 0x1
#define TUN_F_DF 0x2
#define TUN_F_CSUM 0x4
#define TUN_F_KEY 0x8
#define TUN_F_MASK 0xf

#define ATTR_INFO_BRIDGE 16     /* OVS_TUNNEL_KEY_ATTR_IPV4_INFO_BRIDGE. */
#define ERSPAN_LEN 12           /* sizeof(struct erspan_metadata). */
#define ERSPAN_MD2_BYTE 11      /* Byte holding dir (bit 3), hwid (4-7). */
#define GENEVE_OPTS_MAX 252     /* OVS's TLV_TOT_OPT_SIZE. */
#define GENEVE_DATA_MAX 124     /* 31 four-byte words. */

static const char *
tun_flag_name(uint32_t bit)
{
    switch (bit) {
    case TUN_F_OAM:
        return "oam";
    case TUN_F_DF:
        return "df";
    case TUN_F_CSUM:
        return "csum";
    case TUN_F_KEY:
        return "key";
    default:
        return NULL;
    }
}

/* Payload length of each fixed-size tunnel attribute, -1 for the others
 * (geneve, vxlan and erspan, checked where they are printed, and types
 * printed raw). */
static int
tun_attr_len(uint16_t type)
{
    switch (type) {
    case OVS_TUNNEL_KEY_ATTR_ID:
        return 8;
    case OVS_TUNNEL_KEY_ATTR_IPV4_SRC:
    case OVS_TUNNEL_KEY_ATTR_IPV4_DST:
        return 4;
    case OVS_TUNNEL_KEY_ATTR_TOS:
    case OVS_TUNNEL_KEY_ATTR_TTL:
        return 1;
    case OVS_TUNNEL_KEY_ATTR_TP_SRC:
    case OVS_TUNNEL_KEY_ATTR_TP_DST:
        return 2;
    case OVS_TUNNEL_KEY_ATTR_IPV6_SRC:
    case OVS_TUNNEL_KEY_ATTR_IPV6_DST:
        return 16;
    case OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT:
    case OVS_TUNNEL_KEY_ATTR_CSUM:
    case OVS_TUNNEL_KEY_ATTR_OAM:
    case OVS_TUNNEL_KEY_ATTR_PAD:
        return 0;
    default:
        return -1;
    }
}

/* ---------------------------------------------------------------------- */
/* Formatting.                                                             */

static bool
all_bytes(const uint8_t *p, size_t n, uint8_t c)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != c) {
            return false;
        }
    }
    return true;
}

static uint64_t
get_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static void
chomp(struct sbuf *sb, char c)
{
    if (sb->len && sb->s[sb->len - 1] == c) {
        sbuf_chop(sb, 1);
    }
}

/* Bytes in hex separated by spaces (OVS's format_generic_odp_key()). */
static void
put_spaced_hex(struct sbuf *sb, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sbuf_printf(sb, i ? " %02x" : "%02x", p[i]);
    }
}

/* OVS's ds_put_hex(): "0x" and the bytes as one number without leading
 * zeros, or "0". */
static void
put_hex_number(struct sbuf *sb, const uint8_t *p, size_t n)
{
    bool printed = false;

    for (size_t i = 0; i < n; i++) {
        if (p[i] || printed) {
            sbuf_printf(sb, printed ? "%02x" : "0x%x", p[i]);
            printed = true;
        }
    }
    if (!printed) {
        sbuf_putc(sb, '0');
    }
}

/* How put_num() prints a value; masks always print as "%#x". */
enum num_style {
    NUM_DEC,                    /* "64" */
    NUM_HEX,                    /* "0x8", "0" for zero */
    NUM_HEX0,                   /* "0x8", "0x0" for zero (tun_id) */
};

/* Prints "name=value[/mask]," as OVS's format_u8u() and friends: 'm' NULL
 * means exact; a zero mask leaves the field out unless 'verbose'; a mask
 * equal to 'max' prints no "/mask". */
static void
put_num(struct sbuf *sb, const char *name, enum num_style style, uint64_t v,
        const uint64_t *m, uint64_t max, bool verbose)
{
    if (m && !*m && !verbose) {
        return;
    }
    switch (style) {
    case NUM_DEC:
        sbuf_printf(sb, "%s=%" PRIu64, name, v);
        break;
    case NUM_HEX:
        sbuf_printf(sb, "%s=%#" PRIx64, name, v);
        break;
    case NUM_HEX0:
        sbuf_printf(sb, "%s=0x%" PRIx64, name, v);
        break;
    }
    if (m && *m != max) {
        sbuf_printf(sb, "/%#" PRIx64, *m);
    }
    sbuf_putc(sb, ',');
}

/* Prints "name=address[/mask]," for an IPv4 ('n' 4) or IPv6 ('n' 16)
 * address. */
static void
put_addr(struct sbuf *sb, const char *name, const uint8_t *k,
         const uint8_t *m, size_t n, bool verbose)
{
    char buf[INET6_ADDRSTRLEN];
    int af = n == 4 ? AF_INET : AF_INET6;

    if (m && all_bytes(m, n, 0) && !verbose) {
        return;
    }
    inet_ntop(af, k, buf, sizeof buf);
    sbuf_printf(sb, "%s=%s", name, buf);
    if (m && !all_bytes(m, n, 0xff)) {
        inet_ntop(af, m, buf, sizeof buf);
        sbuf_printf(sb, "/%s", buf);
    }
    sbuf_putc(sb, ',');
}

/* Declared in fkey-text-private.h. */
void
fkey_put_sub_raw(struct sbuf *sb, uint16_t type, const uint8_t *k,
                 size_t len, const uint8_t *m, size_t mlen)
{
    if (m && mlen != len) {
        sbuf_printf(sb, "key%" PRIu16 "(bad mask length %zu, expected "
                    "%zu)(", type, mlen, len);
        put_spaced_hex(sb, k, len);
        sbuf_putc(sb, '/');
        put_spaced_hex(sb, m, mlen);
        sbuf_put(sb, "),");
        return;
    }
    sbuf_printf(sb, "key%" PRIu16 "(", type);
    put_spaced_hex(sb, k, len);
    if (m && !all_bytes(m, len, 0xff)) {
        sbuf_putc(sb, '/');
        put_spaced_hex(sb, m, len);
    }
    sbuf_put(sb, "),");
}

/* Declared in fkey-text-private.h. */
bool
fkey_check_sub_len(struct sbuf *sb, uint16_t type, const uint8_t *k,
                   size_t len, const uint8_t *m, size_t mlen,
                   size_t expected)
{
    if (len == expected && (!m || mlen == expected)) {
        return true;
    }
    sbuf_printf(sb, "key%" PRIu16 "(bad %s length %zu, expected %zu)(",
                type, len != expected ? "key" : "mask",
                len != expected ? len : mlen, expected);
    put_spaced_hex(sb, k, len);
    if (m) {
        sbuf_putc(sb, '/');
        put_spaced_hex(sb, m, mlen);
    }
    sbuf_put(sb, "),");
    return false;
}

/* Finds the mask of a 'len'-byte sub-attribute of 'type' in the mask
 * stream 'm'/'mlen'.  Without one, points at 'len' zero bytes in '*zeros'
 * (allocated here; the caller frees it): a missing mask wildcards. */
static const uint8_t *
find_mask(const uint8_t *m, size_t mlen, uint16_t type, size_t len,
          size_t *mask_len, uint8_t **zeros)
{
    const struct nlattr *ma = find_attr(m, mlen, type);
    struct fkey_sub s;

    if (ma) {
        const uint8_t *at = (const uint8_t *) ma;

        fkey_read_sub(at, mlen - (at - m), &s);
        *mask_len = s.len;
        return s.data;
    }
    *zeros = calloc(len ? len : 1, 1);
    if (!*zeros) {
        abort();
    }
    *mask_len = len;
    return *zeros;
}

/* Declared in fkey-text-private.h. */
void
fkey_put_leftover(struct sbuf *sb, const uint8_t *p, size_t left)
{
    sbuf_printf(sb, "***%zu leftover bytes*** (", left);
    put_spaced_hex(sb, p, left);
    sbuf_put(sb, "),");
}

/* Formats one OVS_VXLAN_EXT_* attribute as format_sub() does a tunnel
 * attribute; vxlan() carries no tunnel flags. */
static void
format_vxlan_sub(const struct fkey_sub *s, const uint8_t *mv, size_t mvlen,
                 bool verbose, uint32_t *flags, struct sbuf *sb)
{
    uint32_t v, mk = 0;
    uint64_t id_m, flags_m;

    if (s->type != OVS_VXLAN_EXT_GBP) {
        fkey_put_sub_raw(sb, s->type, s->data, s->len, mv, mvlen);
        return;
    }
    if (!fkey_check_sub_len(sb, s->type, s->data, s->len, mv, mvlen, 4)) {
        return;
    }
    memcpy(&v, s->data, 4);
    if (mv) {
        memcpy(&mk, mv, 4);
    }
    id_m = mk & 0xffff;
    flags_m = (mk >> 16) & 0xff;
    sbuf_put(sb, "gbp(");
    put_num(sb, "id", NUM_DEC, v & 0xffff, mv ? &id_m : NULL, 0xffff,
            verbose);
    put_num(sb, "flags", NUM_HEX, (v >> 16) & 0xff, mv ? &flags_m : NULL,
            0xff, verbose);
    chomp(sb, ',');
    sbuf_put(sb, "),");
}

/* Formats each attribute of the nested stream 'k' ('klen' bytes) with
 * 'fn', passing it the attribute's mask from the stream 'm' if 'masked'
 * (NULL if not), then prints any bytes left over. */
static void
format_subs(const uint8_t *k, size_t klen, const uint8_t *m, size_t mlen,
            bool masked, bool verbose,
            void (*fn)(const struct fkey_sub *, const uint8_t *, size_t, bool,
                       uint32_t *, struct sbuf *),
            uint32_t *flags, struct sbuf *sb)
{
    const uint8_t *p = k;
    size_t left = klen;

    while (attr_ok(p, left)) {
        uint8_t *zeros = NULL;
        const uint8_t *mv = NULL;
        size_t mvlen = 0;
        struct fkey_sub s;

        p += fkey_read_sub(p, left, &s);
        left = klen - (p - k);
        if (masked) {
            mv = find_mask(m, mlen, s.type, s.len, &mvlen, &zeros);
        }
        fn(&s, mv, mvlen, verbose, flags, sb);
        free(zeros);
    }
    if (left) {
        fkey_put_leftover(sb, p, left);
    }
}

/* OVS's format_geneve_opts(): "{class=..,type=..,len=..,0xdata}" per
 * option; 'm' (same length as 'k') or NULL. */
static void
format_geneve(const uint8_t *k, const uint8_t *m, size_t len, bool verbose,
              struct sbuf *sb)
{
    while (len > 0) {
        size_t data_len, opt_len;

        if (len < 4) {
            sbuf_printf(sb, "opt len %zu less than minimum 4", len);
            return;
        }
        data_len = (k[3] & 0x1f) * 4;
        opt_len = 4 + data_len;
        if (opt_len > len) {
            sbuf_printf(sb, "opt len %zu greater than remaining %zu",
                        opt_len, len);
            return;
        }

        sbuf_putc(sb, '{');
        if (m) {
            uint64_t class_m = get_be(m, 2), type_m = m[2];
            uint64_t len_m = (m[3] & 0x1f) == 0x1f ? 0xff : m[3] & 0x1f;

            put_num(sb, "class", NUM_HEX, get_be(k, 2), &class_m, 0xffff,
                    verbose);
            put_num(sb, "type", NUM_HEX, k[2], &type_m, 0xff, verbose);
            put_num(sb, "len", NUM_DEC, data_len, &len_m, 0xff, verbose);
        } else {
            put_num(sb, "class", NUM_HEX, get_be(k, 2), NULL, 0, verbose);
            put_num(sb, "type", NUM_HEX, k[2], NULL, 0, verbose);
            put_num(sb, "len", NUM_DEC, data_len, NULL, 0, verbose);
        }
        if (data_len
            && (verbose || !m || !all_bytes(m + 4, data_len, 0))) {
            put_hex_number(sb, k + 4, data_len);
            if (m && !all_bytes(m + 4, data_len, 0xff)) {
                sbuf_putc(sb, '/');
                put_hex_number(sb, m + 4, data_len);
            }
        } else {
            chomp(sb, ',');
        }
        sbuf_putc(sb, '}');

        k += opt_len;
        if (m) {
            m += opt_len;
        }
        len -= opt_len;
    }
}

/* The 12-byte struct erspan_metadata: int version (host order), then
 * be32 index (version 1) or struct erspan_md2 (version 2), whose last
 * byte holds hwid (bits 4-7) and dir (bit 3) whatever the bitfield
 * order. */
static void
format_erspan(const uint8_t *k, const uint8_t *m, bool verbose,
              struct sbuf *sb)
{
    uint32_t ver, ver_m = 0;
    uint64_t vm;

    memcpy(&ver, k, 4);
    if (m) {
        memcpy(&ver_m, m, 4);
    }
    ver &= 0xff;
    vm = ver_m & 0xff;
    put_num(sb, "ver", NUM_DEC, ver, m ? &vm : NULL, 0xff, true);
    if (ver == 1) {
        uint64_t idx_m = m ? get_be(m + 4, 4) : 0;

        put_num(sb, "idx", NUM_HEX, get_be(k + 4, 4), m ? &idx_m : NULL,
                UINT32_MAX, verbose);
    } else if (ver == 2) {
        uint8_t b = k[ERSPAN_MD2_BYTE];
        uint8_t bm = m ? m[ERSPAN_MD2_BYTE] : 0;
        uint64_t dir_m = (bm >> 3) & 1, hwid_m = bm >> 4;

        put_num(sb, "dir", NUM_DEC, (b >> 3) & 1, m ? &dir_m : NULL, 1,
                verbose);
        put_num(sb, "hwid", NUM_HEX, b >> 4, m ? &hwid_m : NULL, 0xf,
                verbose);
    }
    chomp(sb, ',');
}

/* Formats one tunnel sub-attribute 's' with mask 'mv' ('mvlen' bytes;
 * NULL: exact), collecting flag bits in '*flags'. */
static void
format_sub(const struct fkey_sub *s, const uint8_t *mv, size_t mvlen,
           bool verbose, uint32_t *flags, struct sbuf *sb)
{
    int expected = tun_attr_len(s->type);
    uint64_t mnum = 0;

    if (expected >= 0
        && !fkey_check_sub_len(sb, s->type, s->data, s->len, mv, mvlen,
                      expected)) {
        return;
    }
    if (mv && expected > 0 && expected <= 8) {
        mnum = get_be(mv, expected);
    }

    switch (s->type) {
    case OVS_TUNNEL_KEY_ATTR_ID:
        put_num(sb, "tun_id", NUM_HEX0, get_be(s->data, 8),
                mv ? &mnum : NULL, UINT64_MAX, verbose);
        *flags |= TUN_F_KEY;
        break;
    case OVS_TUNNEL_KEY_ATTR_IPV4_SRC:
        put_addr(sb, "src", s->data, mv, 4, verbose);
        break;
    case OVS_TUNNEL_KEY_ATTR_IPV4_DST:
        put_addr(sb, "dst", s->data, mv, 4, verbose);
        break;
    case OVS_TUNNEL_KEY_ATTR_IPV6_SRC:
        put_addr(sb, "ipv6_src", s->data, mv, 16, verbose);
        break;
    case OVS_TUNNEL_KEY_ATTR_IPV6_DST:
        put_addr(sb, "ipv6_dst", s->data, mv, 16, verbose);
        break;
    case OVS_TUNNEL_KEY_ATTR_TOS:
        put_num(sb, "tos", NUM_HEX, s->data[0], mv ? &mnum : NULL, 0xff,
                verbose);
        break;
    case OVS_TUNNEL_KEY_ATTR_TTL:
        put_num(sb, "ttl", NUM_DEC, s->data[0], mv ? &mnum : NULL, 0xff,
                verbose);
        break;
    case OVS_TUNNEL_KEY_ATTR_TP_SRC:
        put_num(sb, "tp_src", NUM_DEC, get_be(s->data, 2),
                mv ? &mnum : NULL, 0xffff, verbose);
        break;
    case OVS_TUNNEL_KEY_ATTR_TP_DST:
        put_num(sb, "tp_dst", NUM_DEC, get_be(s->data, 2),
                mv ? &mnum : NULL, 0xffff, verbose);
        break;
    case OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT:
        *flags |= TUN_F_DF;
        break;
    case OVS_TUNNEL_KEY_ATTR_CSUM:
        *flags |= TUN_F_CSUM;
        break;
    case OVS_TUNNEL_KEY_ATTR_OAM:
        *flags |= TUN_F_OAM;
        break;
    case OVS_TUNNEL_KEY_ATTR_PAD:
        break;
    case OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS:
        sbuf_put(sb, "vxlan(");
        format_subs(s->data, s->len, mv, mvlen, mv != NULL, verbose,
                    format_vxlan_sub, flags, sb);
        chomp(sb, ',');
        sbuf_put(sb, "),");
        break;
    case OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS:
        sbuf_put(sb, "geneve(");
        if (mv && mvlen != s->len) {
            sbuf_printf(sb, "value len %zu different from mask len %zu",
                        s->len, mvlen);
        } else {
            format_geneve(s->data, mv, s->len, verbose, sb);
        }
        sbuf_put(sb, "),");
        break;
    case OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS:
        if (s->len == ERSPAN_LEN && (!mv || mvlen == ERSPAN_LEN)) {
            sbuf_put(sb, "erspan(");
            format_erspan(s->data, mv, verbose, sb);
            sbuf_put(sb, "),");
        } else {
            fkey_put_sub_raw(sb, s->type, s->data, s->len, mv, mvlen);
        }
        break;
    default:
        fkey_put_sub_raw(sb, s->type, s->data, s->len, mv, mvlen);
        break;
    }
}

void
fkey_tunnel_format(const uint8_t *k, size_t klen, const uint8_t *m,
                   size_t mlen, bool masked, bool verbose, struct sbuf *sb)
{
    uint32_t flags = 0;

    format_subs(k, klen, m, mlen, masked, verbose, format_sub, &flags, sb);
    if (masked) {
        /* A flag's mask is its attribute's presence in the mask; "key"
         * is masked whenever a tun_id printed it. */
        uint32_t mflags = flags & TUN_F_KEY;
        const uint8_t *p = m;
        size_t left = mlen;

        while (attr_ok(p, left)) {
            struct fkey_sub s;

            p += fkey_read_sub(p, left, &s);
            left = mlen - (p - m);
            if (s.type == OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT) {
                mflags |= TUN_F_DF;
            } else if (s.type == OVS_TUNNEL_KEY_ATTR_CSUM) {
                mflags |= TUN_F_CSUM;
            } else if (s.type == OVS_TUNNEL_KEY_ATTR_OAM) {
                mflags |= TUN_F_OAM;
            }
        }
        if (verbose || mflags) {
            sbuf_put(sb, "flags(");
            fkey_format_flags_masked(sb, tun_flag_name, flags, mflags,
                                     TUN_F_MASK);
            sbuf_put(sb, "),");
        }
    } else {
        sbuf_put(sb, "flags(");
        fkey_format_flags(sb, tun_flag_name, flags);
        sbuf_put(sb, "),");
    }
    chomp(sb, ',');
}

/* ---------------------------------------------------------------------- */
/* Parsing.                                                                */

/* A nested payload being built in the caller's FKEY_TUNNEL_MAX bytes. */
struct tbuf {
    uint8_t *b;
    size_t len;
};

/* The state of one fkey_tunnel_parse() call. */
struct tparse {
    struct tbuf k, m;
    bool masked;                /* Build 'm' and accept "/mask". */
    struct errbuf *err;
};

/* Sets "tunnel: <what> at '<token>'" and returns -EINVAL. */
static int
fail(struct tparse *tp, const char *what, const char *at)
{
    return fkey_syntax_error(tp->err, "tunnel", what, at);
}

/* Appends attribute 'type' with the 'n' bytes at 'data', padding zeroed.
 * Returns false if it does not fit. */
static bool
tb_put(struct tbuf *t, uint16_t type, const void *data, size_t n)
{
    size_t total = NLA_HDRLEN + NLA_ALIGN(n);
    struct nlattr h;

    if (total > FKEY_TUNNEL_MAX - t->len) {
        return false;
    }
    h.nla_len = NLA_HDRLEN + n;
    h.nla_type = type;
    memcpy(t->b + t->len, &h, sizeof h);
    if (n) {
        memcpy(t->b + t->len + NLA_HDRLEN, data, n);
    }
    memset(t->b + t->len + NLA_HDRLEN + n, 0, NLA_ALIGN(n) - n);
    t->len += total;
    return true;
}

/* Closes the nest opened (by tb_put() with no payload) at 'ofs'. */
static void
tb_nest_end(struct tbuf *t, size_t ofs)
{
    uint16_t len = t->len - ofs;

    memcpy(t->b + ofs + offsetof(struct nlattr, nla_len), &len, sizeof len);
}

static int
too_long(struct tparse *tp)
{
    errbuf_set(tp->err, "tunnel: longer than %d bytes", FKEY_TUNNEL_MAX);
    return -EINVAL;
}

/* Appends the key attribute and, when masked, the mask attribute. */
static int
put_pair(struct tparse *tp, uint16_t type, const void *k, const void *m,
         size_t n)
{
    if (!tb_put(&tp->k, type, k, n)
        || (tp->masked && !tb_put(&tp->m, type, m, n))) {
        return too_long(tp);
    }
    return 0;
}

static void
put_be(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[n - 1 - i] = v >> (8 * i);
    }
}

/* Scans "N[/M]", each at most 'max', for 'field'.  '*m' is 'max' without
 * "/M".  Returns characters used or -EINVAL. */
static int
scan_num(struct tparse *tp, const char *field, const char *s, uint64_t max,
         uint64_t *v, uint64_t *m)
{
    return fkey_scan_uint_masked("tunnel", field, s, max, tp->masked, v, m,
                                 tp->err);
}

/* Scans "ADDR[/ADDR]" (IPv4 if 'n' is 4, else IPv6) into 'k' and 'm'. */
static int
scan_addr(struct tparse *tp, const char *field, const char *s, size_t n,
          uint8_t *k, uint8_t *m)
{
    enum fkey_kind kind = n == 4 ? FK_IPV4 : FK_IN6;
    char what[64];
    int len, len2;

    len = fkey_scan_value(kind, s, k);
    if (!len) {
        snprintf(what, sizeof what, "bad value for '%s'", field);
        return fail(tp, what, s);
    }
    memset(m, 0xff, n);
    if (s[len] != '/') {
        return len;
    }
    if (!tp->masked) {
        errbuf_set(tp->err, "tunnel: mask on '%s' but no mask is being "
                   "parsed", field);
        return -EINVAL;
    }
    len2 = fkey_scan_value(kind, s + len + 1, m);
    if (!len2) {
        snprintf(what, sizeof what, "bad mask for '%s'", field);
        return fail(tp, what, s + len + 1);
    }
    return len + 1 + len2;
}

/* Scans geneve option data, "0x<hex>" or a number, right-aligned into the
 * 'n' bytes at 'out'.  Returns characters used, 0 if bad or too big. */
static int
scan_data(const char *s, uint8_t *out, size_t n)
{
    uint64_t v;
    int len;

    memset(out, 0, n);
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
        && hex_digit_value((unsigned char) s[2]) >= 0) {
        const char *d = s + 2;
        size_t nd = 0;

        while (hex_digit_value((unsigned char) d[nd]) >= 0) {
            nd++;
        }
        len = 2 + nd;
        while (nd > 1 && *d == '0') {
            d++;
            nd--;
        }
        if ((nd + 1) / 2 > n) {
            return 0;
        }
        for (size_t i = 0; i < nd; i++) {
            int x = hex_digit_value((unsigned char) d[nd - 1 - i]);

            out[n - 1 - i / 2] |= x << (4 * (i % 2));
        }
        return len;
    }
    len = fkey_scan_uint(s, UINT64_MAX, &v);
    if (!len || (n < 8 && v >> (8 * n))) {
        return 0;
    }
    put_be(out + (n > 8 ? n - 8 : 0), v, n > 8 ? 8 : n);
    return len;
}

/* Returns the length of "key<N>(" at 's' and sets '*type', or 0. */
static int
raw_prefix(const char *s, uint16_t *type)
{
    uint64_t v;
    int n;

    if (strncmp(s, "key", 3) || !isdigit((unsigned char) s[3])
        || (s[3] == '0' && isdigit((unsigned char) s[4]))) {
        return 0;
    }
    n = fkey_scan_uint(s + 3, FKEY_MAX_ATTR_TYPE, &v);
    if (!n || s[3 + n] != '(') {
        return 0;
    }
    *type = v;
    return 3 + n + 1;
}

/* "key<N>(01 02[/ff ff])" at 's'; 'in_vxlan' says which attribute set
 * 'N' belongs to.  Returns characters used. */
static int
parse_raw(struct tparse *tp, const char *s, bool in_vxlan)
{
    uint8_t k[FKEY_TUNNEL_MAX], m[FKEY_TUNNEL_MAX];
    struct fkey_raw r = { .k = k, .m = m, .max = FKEY_TUNNEL_MAX };
    uint16_t type;
    int n, len, error;

    n = raw_prefix(s, &type);
    len = fkey_scan_raw(s + n, tp->masked, &r);
    if (len == FKEY_RAW_SYNTAX) {
        return fail(tp, r.why, r.at);
    } else if (len == FKEY_RAW_NO_MASK && r.at == s + n) {
        /* "key16(/)" without a mask: the '/' stands where hex should. */
        return fail(tp, "expected two hex digits", r.at);
    } else if (len == FKEY_RAW_NO_MASK) {
        errbuf_set(tp->err, "tunnel: mask on 'key%" PRIu16 "' but no mask "
                   "is being parsed", type);
        return -EINVAL;
    } else if (len == FKEY_RAW_TOO_LONG) {
        return too_long(tp);
    }
    if (r.nm != r.nk) {
        errbuf_set(tp->err, "tunnel: key%" PRIu16 " mask has %zu bytes, "
                   "value %zu", type, r.nm, r.nk);
        return -EINVAL;
    }
    /* Only what the formatter prints raw may be written raw, so that the
     * text of any bytes is unique. */
    if (in_vxlan ? type == OVS_VXLAN_EXT_GBP
        : type < ATTR_INFO_BRIDGE
          && (type != OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS
              || r.nk == ERSPAN_LEN)) {
        errbuf_set(tp->err, "tunnel: key%" PRIu16 " has a named form; use "
                   "it", type);
        return -EINVAL;
    }
    error = put_pair(tp, type, k, m, r.nk);
    return error ? error : n + len + 1;
}

/* Parses "name=N[/M],..." up to ')' for the 'n_names' fields of 'names'
 * (each at most 'max[i]') into 'v' and 'mv' (0 for fields not given);
 * 'what' names the group in errors.  Sets bit i of '*seen' for each field
 * given.  Returns characters used, including the ')'. */
static int
parse_num_fields(struct tparse *tp, const char *what, const char *s,
                 const char *const names[], const uint64_t max[],
                 size_t n_names, uint64_t v[], uint64_t mv[],
                 unsigned int *seen)
{
    const char *p = s;
    char msg[64];

    *seen = 0;
    for (size_t i = 0; i < n_names; i++) {
        v[i] = mv[i] = 0;
    }
    while (*p != ')') {
        size_t i, idlen = 0;
        int n;

        if (p != s) {
            if (*p != ',') {
                snprintf(msg, sizeof msg, "%s: expected ',' or ')'", what);
                return fail(tp, msg, p);
            }
            p++;
        }
        while (isalnum((unsigned char) p[idlen]) || p[idlen] == '_') {
            idlen++;
        }
        for (i = 0; i < n_names; i++) {
            if (strlen(names[i]) == idlen && !strncmp(p, names[i], idlen)
                && p[idlen] == '=') {
                break;
            }
        }
        if (i == n_names) {
            snprintf(msg, sizeof msg, "%s: unknown field", what);
            return fail(tp, msg, p);
        }
        if (*seen & (1u << i)) {
            errbuf_set(tp->err, "tunnel: %s: duplicate field '%s'", what,
                       names[i]);
            return -EINVAL;
        }
        *seen |= 1u << i;
        p += idlen + 1;
        n = scan_num(tp, names[i], p, max[i], &v[i], &mv[i]);
        if (n < 0) {
            return n;
        }
        p += n;
    }
    return p + 1 - s;
}

/* "ver=..,idx=.." or "ver=..,dir=..,hwid=.." after "erspan(". */
static int
parse_erspan(struct tparse *tp, const char *s)
{
    static const char *const names[] = { "ver", "idx", "dir", "hwid" };
    static const uint64_t max[] = { 0xff, UINT32_MAX, 1, 0xf };
    uint8_t k[ERSPAN_LEN] = { 0 }, m[ERSPAN_LEN] = { 0 };
    uint64_t v[4], mv[4];
    unsigned int seen;
    uint32_t ver, ver_m;
    int n, error;

    n = parse_num_fields(tp, "erspan", s, names, max, 4, v, mv, &seen);
    if (n < 0) {
        return n;
    }
    if (!(seen & 1)) {
        errbuf_set(tp->err, "tunnel: erspan: 'ver' missing");
        return -EINVAL;
    }
    if ((seen & 2) && v[0] != 1) {
        errbuf_set(tp->err, "tunnel: erspan: 'idx' needs ver=1");
        return -EINVAL;
    }
    if ((seen & 12) && v[0] != 2) {
        errbuf_set(tp->err, "tunnel: erspan: 'dir' and 'hwid' need ver=2");
        return -EINVAL;
    }
    ver = v[0];
    ver_m = mv[0] == 0xff ? UINT32_MAX : mv[0];
    memcpy(k, &ver, 4);
    memcpy(m, &ver_m, 4);
    put_be(k + 4, v[1], 4);
    put_be(m + 4, mv[1], 4);
    k[ERSPAN_MD2_BYTE] = v[2] << 3 | v[3] << 4;
    m[ERSPAN_MD2_BYTE] = mv[2] << 3 | mv[3] << 4;
    error = put_pair(tp, OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS, k, m, ERSPAN_LEN);
    return error ? error : n;
}

/* "gbp(...),key<N>(...),..." after "vxlan(". */
static int
parse_vxlan(struct tparse *tp, const char *s)
{
    static const char *const names[] = { "id", "flags" };
    static const uint64_t max[] = { 0xffff, 0xff };
    size_t kofs = tp->k.len, mofs = tp->m.len;
    const char *p = s;

    if (put_pair(tp, OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS, NULL, NULL, 0)) {
        return -EINVAL;
    }
    while (*p != ')') {
        uint16_t type;
        int n;

        if (p != s) {
            if (*p != ',') {
                return fail(tp, "vxlan: expected ',' or ')'", p);
            }
            p++;
        }
        if (!strncmp(p, "gbp(", 4)) {
            uint64_t v[2], mv[2];
            unsigned int seen;
            uint32_t kv, km;

            n = parse_num_fields(tp, "gbp", p + 4, names, max, 2, v, mv,
                                 &seen);
            if (n < 0) {
                return n;
            }
            kv = v[1] << 16 | v[0];
            km = mv[1] << 16 | mv[0];
            if (put_pair(tp, OVS_VXLAN_EXT_GBP, &kv, &km, 4)) {
                return -EINVAL;
            }
            n += 4;
        } else if (raw_prefix(p, &type)) {
            n = parse_raw(tp, p, true);
            if (n < 0) {
                return n;
            }
        } else {
            return fail(tp, "vxlan: expected 'gbp('", p);
        }
        p += n;
    }
    tb_nest_end(&tp->k, kofs);
    if (tp->masked) {
        tb_nest_end(&tp->m, mofs);
    }
    return p + 1 - s;
}

/* "{class=..,type=..,len=..,0xdata}..." after "geneve(". */
static int
parse_geneve(struct tparse *tp, const char *s)
{
    uint8_t k[GENEVE_OPTS_MAX], m[GENEVE_OPTS_MAX];
    size_t len = 0;
    const char *p = s;
    int error;

    while (*p == '{') {
        uint8_t *ok = k + len, *om = m + len;
        size_t data_len = 0;
        unsigned int seen = 0;
        bool data = false;

        if (GENEVE_OPTS_MAX - len < 4) {
            errbuf_set(tp->err, "tunnel: geneve: options longer than %d "
                       "bytes", GENEVE_OPTS_MAX);
            return -EINVAL;
        }
        memset(ok, 0, 4);
        memset(om, 0, 4);
        p++;
        while (*p != '}') {
            static const char *const names[] = { "class", "type", "len" };
            static const uint64_t max[] = { 0xffff, 0xff, 0xff };
            uint64_t v, mv;
            size_t i;
            int n;

            if (data) {
                return fail(tp, "geneve: expected '}' after the data", p);
            }
            if (seen) {
                if (*p != ',') {
                    return fail(tp, "geneve: expected ',' or '}'", p);
                }
                p++;
            }
            if (isdigit((unsigned char) *p)) {
                if (!data_len) {
                    return fail(tp, "geneve: data without a nonzero len", p);
                }
                n = scan_data(p, ok + 4, data_len);
                if (!n) {
                    return fail(tp, "geneve: bad data", p);
                }
                p += n;
                memset(om + 4, 0xff, data_len);
                if (*p == '/') {
                    if (!tp->masked) {
                        errbuf_set(tp->err, "tunnel: mask on geneve data "
                                   "but no mask is being parsed");
                        return -EINVAL;
                    }
                    n = scan_data(p + 1, om + 4, data_len);
                    if (!n) {
                        return fail(tp, "geneve: bad data mask", p + 1);
                    }
                    p += 1 + n;
                }
                data = true;
                seen |= 8;
                continue;
            }
            for (i = 0; i < 3; i++) {
                size_t nl = strlen(names[i]);

                if (!strncmp(p, names[i], nl) && p[nl] == '=') {
                    break;
                }
            }
            if (i == 3) {
                return fail(tp, "geneve: unknown field", p);
            }
            if (seen & (1u << i)) {
                errbuf_set(tp->err, "tunnel: geneve: duplicate field '%s'",
                           names[i]);
                return -EINVAL;
            }
            seen |= 1u << i;
            p += strlen(names[i]) + 1;
            n = scan_num(tp, names[i], p, max[i], &v, &mv);
            if (n < 0) {
                return n;
            }
            if (i == 0) {
                put_be(ok, v, 2);
                put_be(om, mv, 2);
            } else if (i == 1) {
                ok[2] = v;
                om[2] = mv;
            } else {
                if (v % 4 || v > GENEVE_DATA_MAX) {
                    return fail(tp, "geneve: len must be a multiple of 4 "
                                "up to 124", p);
                }
                if (v > GENEVE_OPTS_MAX - len - 4) {
                    errbuf_set(tp->err, "tunnel: geneve: options longer "
                               "than %d bytes", GENEVE_OPTS_MAX);
                    return -EINVAL;
                }
                ok[3] = v / 4;
                om[3] = mv & 0x1f;
                data_len = v;
                memset(ok + 4, 0, data_len);
                memset(om + 4, 0, data_len);
            }
            p += n;
        }
        p++;
        len += 4 + data_len;
    }
    if (*p != ')') {
        return fail(tp, "geneve: expected '{' or ')'", p);
    }
    error = put_pair(tp, OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS, k, m, len);
    return error ? error : p + 1 - s;
}

/* Matches a flag name at 's' followed by one of 'ends'; returns its bit
 * or 0. */
static uint32_t
match_flag(const char *s, const char *ends)
{
    for (uint32_t bit = 1; bit <= TUN_F_MASK; bit <<= 1) {
        const char *name = tun_flag_name(bit);
        size_t n = strlen(name);

        if (!strncmp(s, name, n) && s[n] && strchr(ends, s[n])) {
            return bit;
        }
    }
    return 0;
}

/* flags(...) after "flags(": "df|csum|key" (exact), "+csum-df" or "N/M"
 * (masked).  Returns characters used, including the ')'. */
static int
parse_flags(struct tparse *tp, const char *s, uint32_t *flagsp,
            uint32_t *maskp)
{
    uint32_t flags = 0, mask = 0;
    const char *p = s;
    uint64_t v, w;
    int n;

    n = fkey_scan_uint(p, UINT32_MAX, &v);
    if (n && p[n] == '/') {
        int n2;

        if (!tp->masked) {
            return fail(tp, "flags: mask but no mask is being parsed", p);
        }
        n2 = fkey_scan_uint(p + n + 1, UINT32_MAX, &w);
        if (!n2) {
            return fail(tp, "flags: bad mask", p + n + 1);
        }
        if ((v | w) & ~TUN_F_MASK) {
            return fail(tp, "flags: unknown flag bits", p);
        }
        p += n + 1 + n2;
        flags = v;
        mask = w;
    } else if (*p == '+' || *p == '-') {
        if (!tp->masked) {
            return fail(tp, "flags: +/- needs a mask", p);
        }
        while (*p == '+' || *p == '-') {
            uint32_t bit = match_flag(p + 1, "+-)");

            if (!bit) {
                return fail(tp, "flags: unknown flag", p + 1);
            }
            if (mask & bit) {
                errbuf_set(tp->err, "tunnel: flags: '%s' given twice",
                           tun_flag_name(bit));
                return -EINVAL;
            }
            mask |= bit;
            if (*p == '+') {
                flags |= bit;
            }
            p += 1 + strlen(tun_flag_name(bit));
        }
    } else {
        while (*p != ')') {
            uint32_t bit;

            if (p != s) {
                if (*p != '|') {
                    return fail(tp, "flags: expected '|' or ')'", p);
                }
                p++;
            }
            n = fkey_scan_uint(p, UINT32_MAX, &v);
            if (n) {
                if (v & ~TUN_F_MASK) {
                    return fail(tp, "flags: unknown flag bits", p);
                }
                flags |= v;
                p += n;
                continue;
            }
            bit = match_flag(p, "|)");
            if (!bit) {
                return fail(tp, "flags: unknown flag", p);
            }
            flags |= bit;
            p += strlen(tun_flag_name(bit));
        }
        mask = TUN_F_MASK;
    }
    if (*p != ')') {
        return fail(tp, "flags: expected ')'", p);
    }
    *flagsp = flags;
    *maskp = mask;
    return p + 1 - s;
}

/* The fields that are one value or address. */
static const struct tfield {
    const char *name;
    uint16_t type;
    uint8_t size;               /* Payload bytes. */
    bool addr;                  /* An address rather than a number. */
} tfields[] = {
    { "tun_id", OVS_TUNNEL_KEY_ATTR_ID, 8, false },
    { "src", OVS_TUNNEL_KEY_ATTR_IPV4_SRC, 4, true },
    { "dst", OVS_TUNNEL_KEY_ATTR_IPV4_DST, 4, true },
    { "ipv6_src", OVS_TUNNEL_KEY_ATTR_IPV6_SRC, 16, true },
    { "ipv6_dst", OVS_TUNNEL_KEY_ATTR_IPV6_DST, 16, true },
    { "tos", OVS_TUNNEL_KEY_ATTR_TOS, 1, false },
    { "ttl", OVS_TUNNEL_KEY_ATTR_TTL, 1, false },
    { "tp_src", OVS_TUNNEL_KEY_ATTR_TP_SRC, 2, false },
    { "tp_dst", OVS_TUNNEL_KEY_ATTR_TP_DST, 2, false },
};

/* Parses one field other than flags(); returns characters used. */
static int
parse_field(struct tparse *tp, const char *s)
{
    size_t idlen = 0;
    uint16_t type;
    int n;

    if (!strncmp(s, "geneve(", 7)) {
        n = parse_geneve(tp, s + 7);
        return n < 0 ? n : 7 + n;
    }
    if (!strncmp(s, "vxlan(", 6)) {
        n = parse_vxlan(tp, s + 6);
        return n < 0 ? n : 6 + n;
    }
    if (!strncmp(s, "erspan(", 7)) {
        n = parse_erspan(tp, s + 7);
        return n < 0 ? n : 7 + n;
    }
    if (raw_prefix(s, &type)) {
        return parse_raw(tp, s, false);
    }

    while (isalnum((unsigned char) s[idlen]) || s[idlen] == '_') {
        idlen++;
    }
    for (size_t i = 0; i < sizeof tfields / sizeof *tfields; i++) {
        const struct tfield *f = &tfields[i];
        uint8_t k[16], m[16];
        int error;

        if (strlen(f->name) != idlen || strncmp(s, f->name, idlen)
            || s[idlen] != '=') {
            continue;
        }
        if (f->addr) {
            n = scan_addr(tp, f->name, s + idlen + 1, f->size, k, m);
        } else {
            uint64_t max = f->size == 8 ? UINT64_MAX
                           : (UINT64_C(1) << (8 * f->size)) - 1;
            uint64_t v, mv;

            n = scan_num(tp, f->name, s + idlen + 1, max, &v, &mv);
            if (n > 0) {
                put_be(k, v, f->size);
                put_be(m, mv, f->size);
            }
        }
        if (n < 0) {
            return n;
        }
        error = put_pair(tp, f->type, k, m, f->size);
        return error ? error : (int) idlen + 1 + n;
    }
    if (!idlen) {
        return fail(tp, "expected a field", s);
    }
    errbuf_set(tp->err, "tunnel: unknown field '%.*s'", (int) idlen, s);
    return -EINVAL;
}

int
fkey_tunnel_parse(const char *s, bool masked, uint8_t *key, size_t *key_len,
                  uint8_t *mask, size_t *mask_len, struct errbuf *err)
{
    static const struct {
        uint32_t bit;
        uint16_t type;
    } flag_attrs[] = {
        { TUN_F_DF, OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT },
        { TUN_F_CSUM, OVS_TUNNEL_KEY_ATTR_CSUM },
        { TUN_F_OAM, OVS_TUNNEL_KEY_ATTR_OAM },
    };
    static const uint8_t zero8[8];
    struct tparse tp = {
        .k = { key, 0 }, .m = { mask, 0 }, .masked = masked, .err = err,
    };
    uint32_t flags = 0, fmask = 0;
    bool have_flags = false;
    const char *p = s;

    while (*p != ')') {
        size_t before = tp.k.len;
        int n;

        if (p != s) {
            if (*p != ',') {
                return fail(&tp, "expected ',' or ')'", p);
            }
            p++;
        }
        if (!strncmp(p, "flags(", 6)) {
            if (have_flags) {
                errbuf_set(err, "tunnel: duplicate field 'flags'");
                return -EINVAL;
            }
            have_flags = true;
            n = parse_flags(&tp, p + 6, &flags, &fmask);
            if (n < 0) {
                return n;
            }
            p += 6 + n;
            continue;
        }
        n = parse_field(&tp, p);
        if (n < 0) {
            return n;
        }
        if (tp.k.len > before) {
            struct fkey_sub sub;

            fkey_read_sub(key + before, tp.k.len - before, &sub);
            if (find_attr(key, before, sub.type)) {
                errbuf_set(err, "tunnel: duplicate field '%.*s'",
                           (int) strcspn(p, "=("), p);
                return -EINVAL;
            }
        }
        p += n;
    }

    /* "key" says tun_id is there; flag attributes go last. */
    if ((flags & TUN_F_KEY) && !find_attr(key, tp.k.len,
                                          OVS_TUNNEL_KEY_ATTR_ID)
        && put_pair(&tp, OVS_TUNNEL_KEY_ATTR_ID, zero8, zero8, 8)) {
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof flag_attrs / sizeof *flag_attrs; i++) {
        if (((flags & flag_attrs[i].bit)
             && !tb_put(&tp.k, flag_attrs[i].type, NULL, 0))
            || (masked && (fmask & flag_attrs[i].bit)
                && !tb_put(&tp.m, flag_attrs[i].type, NULL, 0))) {
            return too_long(&tp);
        }
    }
    *key_len = tp.k.len;
    *mask_len = tp.m.len;
    return p + 1 - s;
}
