/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_CODEC_ACTIONS_TEXT_PRIVATE_H
#define WEIR_CODEC_ACTIONS_TEXT_PRIVATE_H 1

/* Internals shared by the files of the action text codec.  Only
 * codec/actions-text*.c include this header.
 *
 * What
 * ====
 *
 * actions-text.c holds act_format() and act_parse(), the action list
 * walkers and most single actions; it hands two families of actions to
 * files of their own:
 *
 *   - actions-text-ct.c: ct(...) with its nat(...) part;
 *   - actions-text-userspace.c: userspace(...) with OVS's userspace
 *     cookies (sFlow(), slow_path(), ...).
 *
 * Design
 * ======
 *
 * A formatter takes the action attribute and appends its text to an sbuf.
 * A parser takes a struct actt_parser positioned just after the action's
 * name and its '(' where it has one, and appends the attribute to the
 * parser's netlink buffer.  The parser helpers below are the small
 * grammar every action text is written in: literals, numbers and
 * "name=value" fields, each failing with a reason that quotes the input.
 * Names carry the actt_ ("action text") prefix so that they do not clash
 * with codec/actions-nl.h's act_.
 *
 * Thread-safety
 * =============
 *
 * Reentrant.
 *
 * Ownership
 * =========
 *
 * As in actions-text.h: inputs are borrowed, output goes to the caller's
 * sbuf or bounded netlink buffer.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>
#include <linux/netlink.h>

#include "lib/byteorder.h"

struct errbuf;
struct nlmsghdr;
struct sbuf;

/* ---- Reading attributes. ---- */

/* The payload of attribute 'a' and its length.  The caller has checked
 * that 'a' lies within the bytes it was given. */
static inline const void *
actt_payload(const struct nlattr *a)
{
    return a + 1;
}

static inline size_t
actt_payload_len(const struct nlattr *a)
{
    return a->nla_len - sizeof *a;
}

/* ---- Formatting. ---- */

/* Append the text of OVS_ACTION_ATTR_CT or OVS_ACTION_ATTR_USERSPACE 'a'
 * to 'out', in an error form ("ct(error)", ...) if 'a' is malformed. */
void actt_format_ct(const struct nlattr *a, struct sbuf *out);
void actt_format_userspace(const struct nlattr *a, struct sbuf *out);

/* ---- Parsing. ---- */

struct actt_parser {
    const char *s;              /* Current position. */
    struct nlmsghdr *nlh;       /* Message that attributes are added to. */
    size_t buflen;              /* Size of the buffer 'nlh' is in. */
    struct errbuf *err;         /* Reason for a failure. */
    int depth;                  /* Nesting of action lists. */
};

/* Sets 'p->err' to "'what' at '...'", quoting the input at the current
 * position.
 *
 * Returns: -EINVAL. */
int actt_syntax(struct actt_parser *p, const char *what);

/* Consumes 'lit' if the input starts with it.
 *
 * Returns: true if it did. */
bool actt_match(struct actt_parser *p, const char *lit);

/* Consumes 'lit', which must come next.
 *
 * Returns: 0; -EINVAL if the input does not start with 'lit'. */
int actt_expect(struct actt_parser *p, const char *lit);

/* Reads an unsigned number of at most 'max' into '*v': "0x" hex, else
 * decimal ('hex': hex even without the prefix, as OVS's %x).
 *
 * Returns: 0; -EINVAL if there is no number or it is out of range. */
int actt_parse_num(struct actt_parser *p, uint64_t max, bool hex,
                   uint64_t *v);

/* Reads "'name'N", e.g. ",ttl=64", as actt_expect() and then
 * actt_parse_num() do.
 *
 * Returns: as they do. */
int actt_field(struct actt_parser *p, const char *name, uint64_t max,
               bool hex, uint64_t *v);

/* Appends an attribute, or a 32-bit one holding 'v', to 'p->nlh'.
 *
 * Returns: 0; -EMSGSIZE, with a reason in 'p->err', if it does not fit. */
int actt_put_attr(struct actt_parser *p, uint16_t type, size_t len,
                  const void *data);
int actt_put_u32(struct actt_parser *p, uint16_t type, uint32_t v);

/* Starts a nested attribute in 'p->nlh', to be closed by actt_nest_end().
 * As Open vSwitch and the kernel do, and unlike libmnl, the attribute type
 * does not carry NLA_F_NESTED, so the bytes match theirs.
 *
 * Returns: the nest; NULL, with a reason in 'p->err', if it does not
 * fit. */
struct nlattr *actt_nest_start(struct actt_parser *p, uint16_t type);

/* Closes 'nest', started by actt_nest_start().
 *
 * Returns: 0; -EMSGSIZE, with a reason in 'p->err', if the nest holds more
 * than a netlink attribute's 16-bit length can say. */
int actt_nest_end(struct actt_parser *p, struct nlattr *nest);

/* Parse the rest of "ct", "ct(...)" or "userspace(...)" (the parser is
 * after "ct" or after "userspace("), appending the action attribute.
 *
 * Returns: 0; -EINVAL for a syntax error, -EMSGSIZE if the action does
 * not fit, each with a reason in 'p->err'. */
int actt_parse_ct(struct actt_parser *p);
int actt_parse_userspace(struct actt_parser *p);

#endif /* codec/actions-text-private.h */
