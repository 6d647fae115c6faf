/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_CODEC_FKEY_TEXT_PRIVATE_H
#define WEIR_CODEC_FKEY_TEXT_PRIVATE_H 1

/* What the key text formatter and parser share.  Only for
 * fkey-text-format.c, fkey-text-parse.c, fkey-text-tables.c,
 * fkey-text-tunnel.c and fkey-text-nsh.c.
 *
 * What
 * ====
 *
 * Most key attributes are fixed structs of named fields (eth, ipv4, tcp,
 * ...).  Those are described once, in the field tables of
 * fkey-text-tables.c, and one formatter and one parser serve them all.
 * This header declares those tables, the names of the tcp_flags and
 * ct_state bits, and the small attribute-stream helpers both directions
 * use.  The text rules themselves are in fkey-text.h.
 *
 * Thread-safety
 * =============
 *
 * The tables are constant; every function touches only its arguments.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <libmnl/libmnl.h>

/* Bits of key fields that both directions need.  The values are the
 * kernel's and OVS's. */
#define VLAN_CFI 0x1000
#define IPV6_LABEL_MASK 0x000fffff
#define TCP_FLAGS_MASK 0x0fff

/* The largest type "key<N>" may name: nla_type without the NLA_F_NESTED
 * and NLA_F_NET_BYTEORDER bits.  (NLA_TYPE_MASK is a negative int, so it
 * is no use as an upper bound.) */
#define FKEY_MAX_ATTR_TYPE 0x3fff

/* How a field of a struct attribute is stored and written. */
enum fkey_kind {
    FK_ETH,         /* 6-byte MAC, "00:01:02:03:04:05". */
    FK_IPV4,        /* be32, dotted quad. */
    FK_IN6,         /* 16 bytes, inet_ntop(). */
    FK_U8U,         /* u8, decimal. */
    FK_U8X,         /* u8, hex. */
    FK_BE16U,       /* be16, decimal. */
    FK_BE16X,       /* be16, hex. */
    FK_LABEL,       /* be32 IPv6 flow label, hex, 20 significant bits. */
    FK_FRAG,        /* u8 OVS_FRAG_TYPE_*, "no", "first", "later". */
    FK_RSVD,        /* be32 nd_reserved: hex, printed whatever the mask. */
};

struct fkey_field {
    const char *name;           /* As printed. */
    const char *alias;          /* Also accepted when parsing, or NULL. */
    enum fkey_kind kind;
    uint8_t ofs;                /* Offset in the attribute payload. */
};

/* A key attribute whose payload is a fixed struct of fields. */
struct fkey_struct_attr {
    uint16_t type;              /* OVS_KEY_ATTR_*. */
    const struct fkey_field *fields;
    size_t n_fields;
};

/* Returns the field table of key attribute 'type', or NULL if 'type' is
 * not a struct attribute (an integer, a flag set, a nest, unknown...). */
const struct fkey_struct_attr *fkey_find_struct_attr(uint16_t type);

/* Returns the number of payload bytes a field of 'kind' takes. */
size_t fkey_kind_size(enum fkey_kind kind);

/* Return the name of one tcp_flags bit (host order, e.g. 0x002 -> "syn")
 * or of one ct_state bit (OVS_CS_F_*, e.g. "trk"), or NULL for a bit
 * without a name.  The names are OVS's; the strings are static. */
const char *fkey_tcp_flag_name(uint32_t bit);
const char *fkey_ct_state_name(uint32_t bit);

/* OVS's format_flags() and format_flags_masked() (without a name), shared
 * by tcp_flags, ct_state and the tunnel flags: "syn|ack" (unnamed bits as
 * one trailing hex number, "0" for none), or with a partial mask
 * "+trk-new" ("0/0" for an empty one). */
struct sbuf;
void fkey_format_flags(struct sbuf *sb, const char *(*name)(uint32_t),
                       uint32_t flags);
void fkey_format_flags_masked(struct sbuf *sb,
                              const char *(*name)(uint32_t), uint32_t flags,
                              uint32_t mask, uint32_t max_mask);

/* Scanners of fkey-text-parse.c that the tunnel parser shares.
 *
 * fkey_token_len() returns how many characters of 's' make up a token
 * for an error message (up to ',', ')', '(', '/' or a blank; at most 40).
 * fkey_scan_uint() scans an unsigned integer as scanf's "%i" does (0x hex,
 * 0 octal, else decimal) no larger than 'max'.  fkey_scan_value() scans
 * one value of 'kind' into the fkey_kind_size() bytes at 'out'.  The
 * scanners return the characters used, 0 if there is no valid value. */
int fkey_token_len(const char *s);
int fkey_scan_uint(const char *s, uint64_t max, uint64_t *valp);
int fkey_scan_value(enum fkey_kind kind, const char *s, uint8_t *out);

/* fkey_syntax_error() sets "<attr>: <what> at '<token>'" (or "... at end
 * of input") in 'err', the token being fkey_token_len() characters of
 * 'at', cut at a '}' (a geneve option's end), and returns -EINVAL.
 *
 * fkey_scan_uint_masked() scans "N[/M]", each at most 'max', for 'field'
 * of 'attr' into '*v' and '*m' ('*m' is 'max' without "/M"; "/M" is an
 * error unless 'masked').  Returns the characters used, or -EINVAL with a
 * reason naming the token in 'err'. */
struct errbuf;
int fkey_syntax_error(struct errbuf *err, const char *attr, const char *what,
                      const char *at);
int fkey_scan_uint_masked(const char *attr, const char *field, const char *s,
                          uint64_t max, bool masked, uint64_t *v, uint64_t *m,
                          struct errbuf *err);

/* fkey_scan_raw() scans the "01 02[/ff ff]" of "key<N>(...)" at 's', just
 * after the '(', up to its ')': the value into r->k and, after a '/' (an
 * error unless 'masked'), the mask into r->m, at most r->max bytes each.
 * "/" alone is an empty value with an empty mask.  Without a mask, r->m
 * is all-ones and r->nm equals r->nk.  The caller checks that a mask is
 * as long as the value.  Returns the characters before the ')', or one
 * of the FKEY_RAW_* errors with r->at where it was found. */
struct fkey_raw {
    uint8_t *k, *m;             /* Room for 'max' bytes each. */
    size_t max;
    size_t nk, nm;              /* Bytes scanned into 'k' and 'm'. */
    const char *at;             /* On error: where. */
    const char *why;            /* On FKEY_RAW_SYNTAX: what was expected. */
};
enum {
    FKEY_RAW_SYNTAX = -1,       /* Not hex, or a bad separator. */
    FKEY_RAW_NO_MASK = -2,      /* A '/' but 'masked' is false. */
    FKEY_RAW_TOO_LONG = -3,     /* More than r->max bytes. */
};
int fkey_scan_raw(const char *s, bool masked, struct fkey_raw *r);

/* tunnel(), in fkey-text-tunnel.c.
 *
 * fkey_tunnel_format() appends to 'sb' the inside of "tunnel(...)" for
 * the OVS_TUNNEL_KEY_ATTR_* stream of 'klen' bytes at 'k'.  With 'masked'
 * the 'mlen' bytes at 'm' are the mask stream (possibly empty: a tunnel
 * attribute missing from it is wildcarded); without it the key is exact
 * and 'm' is ignored.  Malformed bytes print in error forms; it never
 * reads outside the two streams.
 *
 * fkey_tunnel_parse() parses the text at 's', just after "tunnel(", up to
 * and including its closing ')', into the payload of the key attribute
 * (at most FKEY_TUNNEL_MAX bytes at 'key', length in '*key_len') and, if
 * 'masked', of the mask attribute ('mask', '*mask_len').  Returns the
 * characters used, or -EINVAL with a reason naming the token in 'err'. */
#define FKEY_TUNNEL_MAX 1024
void fkey_tunnel_format(const uint8_t *k, size_t klen, const uint8_t *m,
                        size_t mlen, bool masked, bool verbose,
                        struct sbuf *sb);
int fkey_tunnel_parse(const char *s, bool masked, uint8_t *key,
                      size_t *key_len, uint8_t *mask, size_t *mask_len,
                      struct errbuf *err);

/* Error and raw forms of nested sub-attributes, in fkey-text-tunnel.c,
 * shared by tunnel() and nsh().  Each appends a trailing ','.
 *
 * fkey_put_sub_raw() prints "key<N>(01 02[/ff ff])" for the 'len' bytes
 * at 'k' with the mask 'm' ('mlen' bytes; NULL: exact, and an all-ones
 * mask is not printed), or "key<N>(bad mask length M, expected L)(..)"
 * if the lengths differ.  fkey_check_sub_len() returns true if 'len' (and
 * 'mlen', if 'm') is 'expected'; otherwise it prints "key<N>(bad key
 * length L, expected E)(hex[/hex])" (or "bad mask length") and returns
 * false.  fkey_put_leftover() prints "***N leftover bytes*** (hex)" for
 * the 'left' bytes at 'p' that do not make an attribute. */
void fkey_put_sub_raw(struct sbuf *sb, uint16_t type, const uint8_t *k,
                      size_t len, const uint8_t *m, size_t mlen);
bool fkey_check_sub_len(struct sbuf *sb, uint16_t type, const uint8_t *k,
                        size_t len, const uint8_t *m, size_t mlen,
                        size_t expected);
void fkey_put_leftover(struct sbuf *sb, const uint8_t *p, size_t left);

/* nsh(), in fkey-text-nsh.c; its rules are there.
 *
 * fkey_nsh_format() appends to 'sb' the inside of "nsh(...)" for the
 * OVS_NSH_KEY_ATTR_* stream of 'klen' bytes at 'k', with the 'mlen'
 * bytes at 'm' as the mask stream if 'masked' (possibly empty: every
 * field is then exact); without 'masked', 'm' is ignored.  Malformed
 * bytes print in the error forms above; it never reads outside the two
 * streams.
 *
 * fkey_nsh_parse() parses the text at 's', just after "nsh(", up to and
 * including its closing ')', appending the OVS_NSH_KEY_ATTR_* attributes
 * to 'key' (a buffer of 'key_buflen' bytes) and, if 'mask' is nonnull,
 * their masks to 'mask', with codec_attr_put().  The caller opens and
 * closes the nests.  Returns the characters used; -EINVAL with a reason
 * naming the token in 'err'; -EMSGSIZE if a buffer is too small.  On
 * error the buffers may hold part of the attributes (the caller restores
 * them). */
struct nlmsghdr;
void fkey_nsh_format(const uint8_t *k, size_t klen, const uint8_t *m,
                     size_t mlen, bool masked, struct sbuf *sb);
int fkey_nsh_parse(const char *s, struct nlmsghdr *key, size_t key_buflen,
                   struct nlmsghdr *mask, size_t mask_buflen,
                   struct errbuf *err);

/* Attribute streams.  A stream is a run of netlink attributes at any
 * alignment (a mask inside a message, a set_masked() payload), so these
 * helpers copy headers out with memcpy() instead of reading them in
 * place. */

static inline uint16_t
attr_type(const struct nlattr *a)
{
    return a->nla_type & NLA_TYPE_MASK;
}

/* Like mnl_attr_ok(), without assuming alignment of 'a'. */
static inline bool
attr_ok(const void *a, size_t left)
{
    struct nlattr h;

    if (left < sizeof h) {
        return false;
    }
    memcpy(&h, a, sizeof h);
    return h.nla_len >= sizeof h && h.nla_len <= left;
}

/* Bytes from the attribute at 'a' (already checked by attr_ok()) to the
 * next one, at most 'left'. */
static inline size_t
attr_step(const void *a, size_t left)
{
    struct nlattr h;
    size_t step;

    memcpy(&h, a, sizeof h);
    step = NLA_ALIGN(h.nla_len);
    return step < left ? step : left;
}

/* Returns the first attribute of 'type' in the stream, or NULL.  Stops at
 * the first malformed attribute. */
static inline const struct nlattr *
find_attr(const uint8_t *p, size_t left, uint16_t type)
{
    while (attr_ok(p, left)) {
        size_t step = attr_step(p, left);
        struct nlattr h;

        memcpy(&h, p, sizeof h);        /* 'p' may be unaligned. */
        if ((h.nla_type & NLA_TYPE_MASK) == type) {
            return (const struct nlattr *) p;
        }
        p += step;
        left -= step;
    }
    return NULL;
}

/* One attribute of a nested stream, copied out of possibly unaligned
 * bytes. */
struct fkey_sub {
    uint16_t type;
    const uint8_t *data;
    size_t len;
};

/* Reads the attribute at 'p' (attr_ok() already checked) into 's' and
 * returns the step to the next one. */
static inline size_t
fkey_read_sub(const uint8_t *p, size_t left, struct fkey_sub *s)
{
    struct nlattr h;

    memcpy(&h, p, sizeof h);
    s->type = h.nla_type & NLA_TYPE_MASK;
    s->data = p + NLA_HDRLEN;
    s->len = h.nla_len - NLA_HDRLEN;
    return attr_step(p, left);
}

/* The ct_label payload is OVS's ovs_u128 in host order; OVS prints it as
 * one big-endian 128-bit number.  The swap is its own inverse, so it also
 * turns a parsed big-endian number back into the payload. */
static inline void
u128_host_to_be(const uint8_t in[16], uint8_t out[16])
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (int i = 0; i < 16; i++) {
        out[i] = in[15 - i];
    }
#else
    memcpy(out, in, 16);
#endif
}

#endif /* codec/fkey-text-private.h */
