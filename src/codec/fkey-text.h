/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_CODEC_FKEY_TEXT_H
#define WEIR_CODEC_FKEY_TEXT_H 1

/* Flow keys and masks as text, in the ovs-dpctl syntax.
 *
 * What
 * ====
 *
 * Converts streams of OVS_KEY_ATTR_* netlink attributes (a flow key, and
 * optionally its mask) to and from the text that Open vSwitch 3.1 prints in
 * "ovs-dpctl dump-flows", e.g.
 *
 *     recirc_id(0),in_port(2),eth(src=00:01:02:03:04:05,dst=...),
 *     eth_type(0x0800),ipv4(src=10.0.0.1/255.255.255.0,proto=6,frag=no)
 *
 * The codec works on the attribute bytes themselves, never on struct
 * flow_key, so that whatever a peer sent (including attributes this build
 * does not understand, or malformed ones) can be shown exactly as it is.
 *
 * Design
 * ======
 *
 * Formatting follows OVS's odp_flow_format() rule for rule:
 *
 *   - With a mask, an attribute whose mask is all-zero (or absent from the
 *     mask stream) is left out unless 'verbose'; nested attributes (encap)
 *     are always shown; a wildcarded eth() still prints as "eth()" because
 *     its presence says the packet is Ethernet.
 *   - Inside an attribute, a field whose mask is all-zero is left out (unless
 *     'verbose'); an exact field prints as "name=value"; a partly masked one
 *     as "name=value/mask".  Numbers keep OVS's bases: skb_priority,
 *     skb_mark, dp_hash, recirc_id, ct_mark, ct_zone, tos, tclass and label
 *     in hex ("%#x"), ports, protocols, ttl and types in decimal, masks of
 *     decimal fields in hex.
 *   - Attributes this build does not know print as "key<N>(01 02 ...)",
 *     with "/ff ff ..." when a mask is given.
 *   - tunnel(...) follows OVS's format_odp_tun_attr(), nsh(...) its
 *     format_odp_nsh_attr(); their rules and their few deliberate
 *     differences are in fkey-text-tunnel.c and fkey-text-nsh.c.
 *   - An attribute with the wrong payload length prints as
 *     "name(bad key length L, expected E)(01 02 ...)" (or "bad mask
 *     length"); bytes after the last well-formed attribute print as
 *     ",***N leftover bytes*** (hex)"; an empty key prints "<empty>".
 *
 * Parsing accepts what formatting produces and what OVS's
 * odp_flow_from_string() accepts for the attributes we support: fields may
 * be given in any order; a field left out of "ipv4(src=1.2.3.4)" is zero in
 * the key and wildcarded in the mask; "field=value/mask" gives a partial
 * mask; recirc_id() takes no mask.  It is stricter than OVS in three ways:
 * an unknown or repeated field, and a repeated attribute at one nesting
 * level, are errors, each with a reason naming the token.
 *
 * Where weir differs from OVS 3.1 output (all deliberate, all rare):
 *   - OVS_KEY_ATTR_IPV6_EXTHDRS (type 32), unknown to OVS 3.1, prints as
 *     "ipv6_exthdrs(0x<hdrs>[/0x<mask>])", 'hdrs' being the u16 bitmap in
 *     host order; OVS 3.1 would print "key32(xx xx)".
 *   - The bad-length and bad-MPLS-length forms above are closed with ')'
 *     and separated by ',' (OVS leaves them unbalanced or glued on).
 *   - OVS omits the ',' after a leading "eth()"; weir puts it.  OVS
 *     puts a ',' before a leading "eth_type(0/MASK)"; weir does not, and
 *     prints it even for an empty key, where OVS prints only "<empty>".
 *   - ct_tuple6() prints "src_port=/dst_port=" as OVS does, but the parser
 *     also accepts OVS's "tp_src=/tp_dst=" spelling (OVS accepts only the
 *     latter, so its own output does not round-trip).
 *   - "key<N>(hex)" parses back (OVS cannot parse it).
 *   - "eth_type(0/MASK)", spelled with a plain "0", parses to a mask
 *     attribute alone, as the formatter prints an Ethertype that is in the
 *     mask but not in the key (the kernel's form for 802.2 frames, e.g.
 *     STP).  OVS parses it as a key Ethertype of 0, which the kernel
 *     rejects.  "eth_type(0x0000/MASK)" is still a key attribute.
 *
 * Thread-safety
 * =============
 *
 * All functions are reentrant; they touch only their arguments.
 *
 * Ownership
 * =========
 *
 * Inputs are borrowed.  Output goes to the caller's sbuf or to the
 * caller's bounded netlink buffers.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct errbuf;
struct nlattr;
struct nlmsghdr;
struct sbuf;

/* Deepest encap() nesting the parser accepts, and the formatter decodes
 * (deeper levels print in hex), like OVS's MAX_ODP_NESTED. */
#define FKEY_TEXT_MAX_DEPTH 32

/* Formats the key attribute stream 'key' ('key_len' bytes) and, if 'mask'
 * is nonnull, the mask stream ('mask_len' bytes), in ovs-dpctl syntax,
 * appended to 'out'.
 *
 * With a mask, this is exactly what "ovs-dpctl dump-flows" prints (with
 * '-m' when 'verbose').  Without a mask every attribute is printed exactly,
 * as OVS's odp_flow_key_format() does: 'verbose' is then ignored (treated
 * as true), which for example prints ct_state() in hex.
 *
 * Malformed input (bad lengths, truncated attributes) is printed in the
 * error forms described above; it never crashes or reads out of bounds. */
void fkey_format(const void *key, size_t key_len, const void *mask,
                 size_t mask_len, bool verbose, struct sbuf *out);

/* Formats the single key attribute 'a', as "name(fields)", with the
 * attribute 'ma' of the same type as its mask if 'ma' is nonnull, appended
 * to 'out'.  Used by the action codec:
 *
 *   - set(...):        fkey_format_attr(a, NULL, true, out)
 *   - set_masked(...): fkey_format_payload() below, verbose false, which
 *                      prints e.g. "ipv4(src=1.2.3.4/255.255.255.0)" and
 *                      leaves out fields whose mask is zero.
 *
 * 'a' (and 'ma') must be readable for their nla_len bytes, and nla_len
 * must be at least the 4-byte header; the payload length itself is checked
 * against the attribute type and a mismatch printed in the bad-length
 * form.  An encap 'a' is formatted recursively. */
void fkey_format_attr(const struct nlattr *a, const struct nlattr *ma,
                      bool verbose, struct sbuf *out);

/* Same as fkey_format_attr() for an attribute of 'type' whose payload is
 * the 'len' bytes at 'key', with the 'len' bytes at 'mask' as its mask if
 * 'mask' is nonnull.  Convenient for OVS_ACTION_ATTR_SET_MASKED, whose
 * payload is the key followed by the mask: pass len = payload / 2.
 * 'len' must be at most 65531. */
void fkey_format_payload(uint16_t type, const void *key, const void *mask,
                         size_t len, bool verbose, struct sbuf *out);

/* Returns true if the 'len'-byte mask payload 'mask' of a key attribute of
 * 'type' matches every bit that matters for that type (OVS's
 * odp_mask_is_exact(): padding is ignored, tcp_flags looks at 12 bits,
 * ipv6 at the 20 label bits).  Returns false for nested and unknown types.
 * The action parser uses it to choose set() over set_masked(). */
bool fkey_mask_is_exact(uint16_t type, const void *mask, size_t len);

/* Parses the key text at 's' (e.g. "in_port(1),eth(...),eth_type(0x0800)")
 * appending key attributes at the tail of 'key_nlh' and, if 'mask_nlh' is
 * nonnull, the matching mask attributes at the tail of 'mask_nlh'.  Both
 * are caller-provided buffers of 'key_buflen' / 'mask_buflen' bytes,
 * appended to with bounded libmnl calls; the caller opens nests first if it
 * wants them.
 *
 * Leading blanks are skipped.  Attributes are separated by ',' (blanks may
 * follow the comma).  Parsing stops at the end of the string or at the
 * first top-level character that cannot continue a key: a blank, ')', or a
 * ',' not followed by "name(" -- so "KEY actions:drop" and
 * "KEY, packets:0, ..." both stop right after KEY.  '*consumed' is set to
 * the number of characters used.  "<empty>" parses as an empty key.
 *
 * Without 'mask_nlh', masks ("x/y") are an error.  With it, every key
 * attribute gets a mask attribute of the same length: fields written
 * without "/mask" are exact, fields not written are zero (wildcarded).
 *
 * A "ufid:" prefix is not part of the key: parse it first with
 * ufid_parse().
 *
 * Returns: 0 on success.  -EINVAL for a syntax error, with a reason naming
 * the bad token in 'err' (e.g. "ipv4: unknown field 'sorc'"); -EMSGSIZE if
 * a buffer is too small.  On error both buffers are left exactly as they
 * were on entry (their nlmsg_len is restored) and '*consumed' is the offset
 * of the attribute that failed. */
int fkey_parse(const char *s, size_t *consumed,
               struct nlmsghdr *key_nlh, size_t key_buflen,
               struct nlmsghdr *mask_nlh, size_t mask_buflen,
               struct errbuf *err);

/* Parses exactly one key attribute at 's', e.g. "ipv4(src=1.2.3.4)", with
 * the same rules and buffers as fkey_parse(), for the action parser's
 * set(...).  Returns the number of characters used (> 0), or -EINVAL /
 * -EMSGSIZE as fkey_parse() does, leaving the buffers unchanged. */
int fkey_parse_attr(const char *s, struct nlmsghdr *key_nlh,
                    size_t key_buflen, struct nlmsghdr *mask_nlh,
                    size_t mask_buflen, struct errbuf *err);

/* NSH fields, shared by nsh() keys (fkey-text-nsh.c) and the action
 * codec's push_nsh().
 *
 * fkey_format_nsh_fields() appends OVS's format_nsh_key() text for the
 * 8-byte struct ovs_nsh_key_base at 'base',
 * "flags=F,ttl=T,mdtype=M,np=N,spi=0xS,si=I"; then, if 'md1' is nonnull,
 * ",c1=0xC,c2=0xC,c3=0xC,c4=0xC" for the 16-byte struct ovs_nsh_key_md1
 * at 'md1'; then, if 'md2' is nonnull, ",md2=0x" and its 'md2_len' bytes
 * in hex.  The pointers need no alignment.
 *
 * fkey_scan_hex_bytes() scans the hex digits at 's' (no "0x"), two per
 * byte, into at most 'max' bytes at 'out', setting '*n_out' to the byte
 * count.  Returns the digits used; 0 (nothing stored in '*n_out') if
 * there are none, an odd number, or more than 'max' bytes' worth. */
void fkey_format_nsh_fields(const void *base, const void *md1,
                            const void *md2, size_t md2_len,
                            struct sbuf *out);
int fkey_scan_hex_bytes(const char *s, uint8_t *out, size_t max,
                        size_t *n_out);

#endif /* codec/fkey-text.h */
