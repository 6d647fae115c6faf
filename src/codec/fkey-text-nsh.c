/* SPDX-License-Identifier: Apache-2.0 */
/* nsh(...) as ovs-dpctl text: fkey_nsh_format() and fkey_nsh_parse(),
 * declared in fkey-text-private.h, and fkey_format_nsh_fields() and
 * fkey_scan_hex_bytes(), which push_nsh() shares (fkey-text.h).
 *
 * OVS_KEY_ATTR_NSH nests OVS_NSH_KEY_ATTR_BASE (struct ovs_nsh_key_base:
 * flags, ttl, mdtype, np, path_hdr = spi << 8 | si), OVS_NSH_KEY_ATTR_MD1
 * (four be32 context words) and OVS_NSH_KEY_ATTR_MD2 (type 2 metadata).
 * Open vSwitch 3.1 gathers BASE and MD1 into one struct whose fields
 * start as zero in the key and as all-ones in the mask, then prints it in
 * a fixed order, whatever the order of the attributes:
 *
 *   - without a mask, "flags=F,ttl=T,mdtype=M,np=N,spi=0xS,si=I" and, for
 *     mdtype 1 only, ",c1=0xC,c2=0xC,c3=0xC,c4=0xC";
 *   - with one, each of flags, ttl, mdtype, np, spi, si and c1..c4 whose
 *     mask is not zero, u8 fields as "ttl=64" when exact, else as
 *     "ttl=0x40/0xf0", spi and c<N> as "c1=0x5" or "c1=0x5/0x000000ff".
 *     c1..c4 print whatever the mdtype: without an MD1 attribute in the
 *     key their mask keeps its all-ones start ("c1=0x0").
 *
 * So a sub-attribute missing from the mask is exact, and an NSH attribute
 * missing from the mask stream (an empty nest, as OVS's
 * generate_all_wildcard_mask() makes it) prints every field exact.
 * 'verbose' plays no part.
 *
 * The parser writes what OVS's parse_odp_nsh_key_mask_attr() writes (and
 * the kernel dumps): the key gets BASE, and MD1 if mdtype is 1; the mask
 * gets BASE and MD1 whatever the mdtype.  A field not given is zero in
 * the key and wildcarded in the mask; one given without "/mask" is exact.
 * Where weir differs from OVS 3.1, and why:
 *
 *   - ttl= parses (OVS 3.1 prints it but its parser does not know it).
 *   - With a mask whose mdtype is not exact (not given, or "/0x0f"), the
 *     key gets MD1 too.  Otherwise "nsh()" would read back as a key
 *     without MD1, whose c1..c4 print exact ("nsh(c1=0x0,...)"), and
 *     text -> bytes -> text would not settle.
 *   - An MD2 attribute prints as "md2=0x0102[/0xff00]" after the other
 *     fields (push_nsh()'s spelling, every byte kept) and parses back,
 *     into MD2 in the key and, with a mask, in the mask; OVS prints
 *     nothing for it and cannot parse it.
 *   - Stricter: an unknown or repeated field, spi above 0xffffff, a
 *     nonzero c<N> that the key would not carry (OVS drops it), and md2=
 *     with an exact mdtype other than 2 are errors naming the token.
 *   - Malformed bytes print in the tunnel's error forms, closed and each
 *     followed by ',' before the fields: "key1(bad key length 4, expected
 *     8)(01 02 03 04)", "***N leftover bytes*** (..)"; OVS leaves the
 *     first unbalanced and glued on, and drops the second.  Sub-attribute
 *     types without a text form print as "key<N>(01 02)" (OVS prints
 *     nothing).  None of these parse back. */

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>

#include "codec/fkey-text.h"
#include "codec/fkey-text-private.h"
#include "codec/nl-attr.h"
#include "lib/errbuf.h"
#include "lib/text.h"

#define BASE_LEN sizeof(struct ovs_nsh_key_base)
#define MD1_LEN sizeof(struct ovs_nsh_key_md1)
#define MD2_MAX 248             /* The kernel's NSH_CTX_HDRS_MAX_LEN. */
#define SPI_MAX 0xffffff

#define OFS_FLAGS offsetof(struct ovs_nsh_key_base, flags)
#define OFS_TTL offsetof(struct ovs_nsh_key_base, ttl)
#define OFS_MDTYPE offsetof(struct ovs_nsh_key_base, mdtype)
#define OFS_NP offsetof(struct ovs_nsh_key_base, np)
#define OFS_PATH offsetof(struct ovs_nsh_key_base, path_hdr)

static uint32_t
get_be32(const uint8_t *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}

static void
put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

/* ---------------------------------------------------------------------- */
/* Formatting.                                                             */

/* Declared in fkey-text.h. */
void
fkey_format_nsh_fields(const void *base_, const void *md1_,
                       const void *md2, size_t md2_len, struct sbuf *out)
{
    const uint8_t *b = base_, *md1 = md1_;
    uint32_t path = get_be32(b + OFS_PATH);

    sbuf_printf(out, "flags=%d,ttl=%d,mdtype=%d,np=%d,spi=0x%" PRIx32
                ",si=%d", b[OFS_FLAGS], b[OFS_TTL], b[OFS_MDTYPE],
                b[OFS_NP], path >> 8, (int) (path & 0xff));
    if (md1) {
        for (int i = 0; i < 4; i++) {
            sbuf_printf(out, ",c%d=0x%" PRIx32, i + 1,
                        get_be32(md1 + 4 * i));
        }
    }
    if (md2) {
        sbuf_put(out, ",md2=0x");
        sbuf_put_hex(out, md2, md2_len);
    }
}

/* OVS's format_uint8_masked(), followed by ','. */
static void
put_u8_masked(struct sbuf *sb, const char *name, uint8_t v, uint8_t m)
{
    if (m == UINT8_MAX) {
        sbuf_printf(sb, "%s=%u,", name, v);
    } else if (m) {
        sbuf_printf(sb, "%s=0x%02x/0x%02x,", name, v, m);
    }
}

/* OVS's format_be32_masked(), followed by ','; 'ones' is the exact mask
 * (0xffffff for spi). */
static void
put_u32_masked(struct sbuf *sb, const char *name, uint32_t v, uint32_t m,
               uint32_t ones)
{
    if (m == ones) {
        sbuf_printf(sb, "%s=0x%" PRIx32 ",", name, v);
    } else if (m) {
        sbuf_printf(sb, "%s=0x%" PRIx32 "/0x%08" PRIx32 ",", name, v, m);
    }
}

/* What the key stream holds, gathered as OVS does. */
struct nsh_text {
    uint8_t base[BASE_LEN], base_m[BASE_LEN];
    uint8_t md1[MD1_LEN], md1_m[MD1_LEN];
    const uint8_t *md2, *md2_m; /* 'md2_m' NULL: exact. */
    size_t md2_len;
};

/* Takes in a fixed-size sub-attribute 's' into 'k' and, if it has a mask
 * 'mv', 'm', or prints the bad-length form. */
static void
gather_fixed(const struct fkey_sub *s, const uint8_t *mv, size_t mvlen,
             uint8_t *k, uint8_t *m, size_t len, struct sbuf *sb)
{
    if (fkey_check_sub_len(sb, s->type, s->data, s->len, mv, mvlen, len)) {
        memcpy(k, s->data, len);
        if (mv) {
            memcpy(m, mv, len);
        }
    }
}

/* Takes in one key sub-attribute 's' with mask 'mv' ('mvlen' bytes; NULL:
 * none), or prints it in an error or raw form. */
static void
gather_sub(struct nsh_text *t, const struct fkey_sub *s, const uint8_t *mv,
           size_t mvlen, struct sbuf *sb)
{
    switch (s->type) {
    case OVS_NSH_KEY_ATTR_BASE:
        gather_fixed(s, mv, mvlen, t->base, t->base_m, BASE_LEN, sb);
        break;
    case OVS_NSH_KEY_ATTR_MD1:
        gather_fixed(s, mv, mvlen, t->md1, t->md1_m, MD1_LEN, sb);
        break;
    case OVS_NSH_KEY_ATTR_MD2:
        if (fkey_check_sub_len(sb, s->type, s->data, s->len, mv, mvlen,
                               s->len)) {
            t->md2 = s->data;
            t->md2_len = s->len;
            t->md2_m = mv;
        }
        break;
    default:
        fkey_put_sub_raw(sb, s->type, s->data, s->len, mv, mvlen);
        break;
    }
}

void
fkey_nsh_format(const uint8_t *k, size_t klen, const uint8_t *m,
                size_t mlen, bool masked, struct sbuf *sb)
{
    static const char *const c_names[4] = { "c1", "c2", "c3", "c4" };
    struct nsh_text t;
    const uint8_t *p = k;
    size_t left = klen;
    uint32_t path, path_m;

    memset(&t, 0, sizeof t);
    memset(t.base_m, 0xff, sizeof t.base_m);
    memset(t.md1_m, 0xff, sizeof t.md1_m);
    while (attr_ok(p, left)) {
        const uint8_t *mv = NULL;
        size_t mvlen = 0;
        struct fkey_sub s, ms;

        p += fkey_read_sub(p, left, &s);
        left = klen - (p - k);
        if (masked) {
            const uint8_t *ma = (const uint8_t *) find_attr(m, mlen, s.type);

            if (ma) {
                fkey_read_sub(ma, mlen - (ma - m), &ms);
                mv = ms.data;
                mvlen = ms.len;
            }
        }
        gather_sub(&t, &s, mv, mvlen, sb);
    }
    if (left) {
        fkey_put_leftover(sb, p, left);
    }

    if (!masked) {
        fkey_format_nsh_fields(t.base, t.base[OFS_MDTYPE] == 1 ? t.md1
                               : NULL, t.md2, t.md2_len, sb);
        return;
    }
    path = get_be32(t.base + OFS_PATH);
    path_m = get_be32(t.base_m + OFS_PATH);
    put_u8_masked(sb, "flags", t.base[OFS_FLAGS], t.base_m[OFS_FLAGS]);
    put_u8_masked(sb, "ttl", t.base[OFS_TTL], t.base_m[OFS_TTL]);
    put_u8_masked(sb, "mdtype", t.base[OFS_MDTYPE], t.base_m[OFS_MDTYPE]);
    put_u8_masked(sb, "np", t.base[OFS_NP], t.base_m[OFS_NP]);
    put_u32_masked(sb, "spi", path >> 8, path_m >> 8, SPI_MAX);
    put_u8_masked(sb, "si", path & 0xff, path_m & 0xff);
    for (int i = 0; i < 4; i++) {
        put_u32_masked(sb, c_names[i], get_be32(t.md1 + 4 * i),
                       get_be32(t.md1_m + 4 * i), UINT32_MAX);
    }
    if (t.md2) {
        sbuf_put(sb, "md2=0x");
        sbuf_put_hex(sb, t.md2, t.md2_len);
        /* All ones: the first byte is 0xff and every byte equals the
         * next. */
        if (t.md2_m && t.md2_len
            && (t.md2_m[0] != 0xff
                || memcmp(t.md2_m, t.md2_m + 1, t.md2_len - 1))) {
            sbuf_put(sb, "/0x");
            sbuf_put_hex(sb, t.md2_m, t.md2_len);
        }
        sbuf_putc(sb, ',');
    }
    if (sb->len && sb->s[sb->len - 1] == ',') {
        sbuf_chop(sb, 1);
    }
}

/* ---------------------------------------------------------------------- */
/* Parsing.                                                                */

/* Declared in fkey-text.h. */
int
fkey_scan_hex_bytes(const char *s, uint8_t *out, size_t max, size_t *n_out)
{
    size_t n = 0;

    while (hex_digit_value((unsigned char) s[n]) >= 0) {
        n++;
    }
    if (!n || n % 2 || n / 2 > max || n > INT32_MAX) {
        return 0;
    }
    for (size_t i = 0; i < n / 2; i++) {
        out[i] = hex_digit_value((unsigned char) s[2 * i]) << 4
                 | hex_digit_value((unsigned char) s[2 * i + 1]);
    }
    *n_out = n / 2;
    return n;
}

/* The numeric fields, in the order OVS prints them. */
enum {
    F_FLAGS, F_TTL, F_MDTYPE, F_NP, F_SPI, F_SI, F_C1, F_C2, F_C3, F_C4,
    N_FIELDS
};

static const struct nsh_field {
    const char *name;
    uint64_t max;
} nsh_fields[N_FIELDS] = {
    [F_FLAGS] = { "flags", UINT8_MAX },
    [F_TTL] = { "ttl", UINT8_MAX },
    [F_MDTYPE] = { "mdtype", UINT8_MAX },
    [F_NP] = { "np", UINT8_MAX },
    [F_SPI] = { "spi", SPI_MAX },
    [F_SI] = { "si", UINT8_MAX },
    [F_C1] = { "c1", UINT32_MAX },
    [F_C2] = { "c2", UINT32_MAX },
    [F_C3] = { "c3", UINT32_MAX },
    [F_C4] = { "c4", UINT32_MAX },
};

/* What one fkey_nsh_parse() call has read. */
struct nsh_parse {
    uint64_t v[N_FIELDS], m[N_FIELDS]; /* Zero when not given. */
    unsigned int seen;                 /* 1 << F_*. */
    bool has_md2;
    uint8_t md2[MD2_MAX], md2_m[MD2_MAX];
    size_t md2_len;
    bool masked;
    struct errbuf *err;
};

/* "md2=0x<hex>[/0x<hex>]" after "md2=".  Returns characters used. */
static int
parse_md2(struct nsh_parse *np, const char *s)
{
    const char *p = s;
    size_t n_mask;
    int n;

    if (np->has_md2) {
        errbuf_set(np->err, "nsh: duplicate field 'md2'");
        return -EINVAL;
    }
    np->has_md2 = true;
    n = strncmp(p, "0x", 2) ? 0
        : fkey_scan_hex_bytes(p + 2, np->md2, MD2_MAX, &np->md2_len);
    if (!n) {
        return fkey_syntax_error(np->err, "nsh", "md2 needs 0x and 1 to 248 "
                                 "bytes in hex", p);
    }
    p += 2 + n;
    memset(np->md2_m, 0xff, np->md2_len);
    if (*p != '/') {
        return p - s;
    }
    if (!np->masked) {
        errbuf_set(np->err, "nsh: mask on 'md2' but no mask is being "
                   "parsed");
        return -EINVAL;
    }
    p++;
    n = strncmp(p, "0x", 2) ? 0
        : fkey_scan_hex_bytes(p + 2, np->md2_m, MD2_MAX, &n_mask);
    if (!n) {
        return fkey_syntax_error(np->err, "nsh", "bad mask for 'md2'", p);
    }
    if (n_mask != np->md2_len) {
        errbuf_set(np->err, "nsh: md2 mask has %zu bytes, value %zu",
                   n_mask, np->md2_len);
        return -EINVAL;
    }
    return p + 2 + n - s;
}

/* Parses one "name=value[/mask]" at 's'.  Returns characters used. */
static int
parse_field(struct nsh_parse *np, const char *s)
{
    size_t idlen = strcspn(s, "=,)/( \t\r\n");
    int n;

    if (s[idlen] == '=') {
        if (idlen == 3 && !strncmp(s, "md2", 3)) {
            n = parse_md2(np, s + 4);
            return n < 0 ? n : 4 + n;
        }
        for (int i = 0; i < N_FIELDS; i++) {
            const struct nsh_field *f = &nsh_fields[i];

            if (strlen(f->name) != idlen || strncmp(s, f->name, idlen)) {
                continue;
            }
            if (np->seen & (1u << i)) {
                errbuf_set(np->err, "nsh: duplicate field '%s'", f->name);
                return -EINVAL;
            }
            np->seen |= 1u << i;
            n = fkey_scan_uint_masked("nsh", f->name, s + idlen + 1, f->max,
                                      np->masked, &np->v[i], &np->m[i],
                                      np->err);
            return n < 0 ? n : (int) idlen + 1 + n;
        }
    }
    if (!idlen) {
        return fkey_syntax_error(np->err, "nsh", "expected a field", s);
    }
    errbuf_set(np->err, "nsh: unknown field '%.*s'",
               (int) (idlen > 40 ? 40 : idlen), s);
    return -EINVAL;
}

/* Returns true if the key gets an MD1 attribute: for mdtype 1, as OVS
 * writes it, and also, with a mask, whenever mdtype is not exact.  The
 * formatter shows c1..c4 exact when the key has no MD1, so without this a
 * key that had MD1 under a wildcarded mdtype would print as text that
 * reads back differently. */
static bool
writes_md1(const struct nsh_parse *np)
{
    return np->v[F_MDTYPE] == 1
           || (np->masked && np->m[F_MDTYPE] != UINT8_MAX);
}

/* Checks that nothing given would be lost: a nonzero c<N> needs MD1 in
 * the key, md2= an mdtype that may be 2. */
static int
check_fields(const struct nsh_parse *np)
{
    bool exact_mdtype = !np->masked || np->m[F_MDTYPE] == UINT8_MAX;

    for (int i = F_C1; i <= F_C4; i++) {
        if (np->v[i] && !writes_md1(np)) {
            errbuf_set(np->err, "nsh: '%s' needs mdtype=1",
                       nsh_fields[i].name);
            return -EINVAL;
        }
    }
    if (np->has_md2 && exact_mdtype && np->v[F_MDTYPE] != 2) {
        errbuf_set(np->err, "nsh: 'md2' needs mdtype=2");
        return -EINVAL;
    }
    return 0;
}

/* Appends BASE, MD1 (if 'md1') and MD2 (if 'md2') built from 'v' to
 * 'nlh'.  Returns false if they do not fit. */
static bool
put_attrs(struct nlmsghdr *nlh, size_t buflen, const uint64_t *v,
          bool md1, const uint8_t *md2, size_t md2_len)
{
    uint8_t base[BASE_LEN], ctx[MD1_LEN];

    base[OFS_FLAGS] = v[F_FLAGS];
    base[OFS_TTL] = v[F_TTL];
    base[OFS_MDTYPE] = v[F_MDTYPE];
    base[OFS_NP] = v[F_NP];
    put_be32(base + OFS_PATH, v[F_SPI] << 8 | v[F_SI]);
    for (int i = 0; i < 4; i++) {
        put_be32(ctx + 4 * i, v[F_C1 + i]);
    }
    return codec_attr_put(nlh, buflen, OVS_NSH_KEY_ATTR_BASE, BASE_LEN, base)
           && (!md1
               || codec_attr_put(nlh, buflen, OVS_NSH_KEY_ATTR_MD1, MD1_LEN,
                                 ctx))
           && (!md2
               || codec_attr_put(nlh, buflen, OVS_NSH_KEY_ATTR_MD2, md2_len,
                                 md2));
}

int
fkey_nsh_parse(const char *s, struct nlmsghdr *key, size_t key_buflen,
               struct nlmsghdr *mask, size_t mask_buflen, struct errbuf *err)
{
    struct nsh_parse np;
    const char *p = s;
    int error;

    memset(&np, 0, sizeof np);
    np.masked = mask != NULL;
    np.err = err;
    while (*p != ')') {
        int n;

        if (p != s) {
            if (*p != ',') {
                return fkey_syntax_error(err, "nsh", "expected ',' or ')'",
                                         p);
            }
            p++;
        }
        n = parse_field(&np, p);
        if (n < 0) {
            return n;
        }
        p += n;
    }
    error = check_fields(&np);
    if (error) {
        return error;
    }
    if (!put_attrs(key, key_buflen, np.v, writes_md1(&np),
                   np.has_md2 ? np.md2 : NULL, np.md2_len)) {
        errbuf_set(err, "key buffer too small");
        return -EMSGSIZE;
    }
    if (mask && !put_attrs(mask, mask_buflen, np.m, true,
                           np.has_md2 ? np.md2_m : NULL, np.md2_len)) {
        errbuf_set(err, "mask buffer too small");
        return -EMSGSIZE;
    }
    return p + 1 - s;
}
