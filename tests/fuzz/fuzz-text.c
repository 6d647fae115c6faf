/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the flow key text codec (codec/fkey-text.h).
 *
 * The input, NUL-terminated, is parsed as key text twice: once with a mask
 * and once without.  Whatever parses must format to text that parses
 * again:
 *
 *   - without a mask the text is lossless, so the second parse must give
 *     exactly the bytes of the first;
 *   - with a mask, formatting drops what the mask wildcards (a field with
 *     a zero mask, an attribute with an all-zero mask), so the first round
 *     only normalizes; from then on text and bytes must be a fixed point:
 *     parse(format(b2)) == b2 and format(b2) == t2.
 *
 * The verbose form, and the formatting of the raw input bytes as a netlink
 * stream, must not crash.  Any broken property abort()s. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "codec/fkey-text.h"
#include "lib/errbuf.h"
#include "lib/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BUF 8192

struct pair {
    char kbuf[BUF] __attribute__((aligned(4)));
    char mbuf[BUF] __attribute__((aligned(4)));
    struct nlmsghdr *k, *m;
};

static int
parse(const char *s, struct pair *p, bool with_mask, size_t *used)
{
    struct errbuf eb;

    p->k = mnl_nlmsg_put_header(p->kbuf);
    p->m = mnl_nlmsg_put_header(p->mbuf);
    return fkey_parse(s, used, p->k, BUF, with_mask ? p->m : NULL,
                      with_mask ? BUF : 0, &eb);
}

static void
format(const struct pair *p, bool with_mask, bool verbose, struct sbuf *sb)
{
    sbuf_clear(sb);
    fkey_format(mnl_nlmsg_get_payload(p->k), mnl_nlmsg_get_payload_len(p->k),
                with_mask ? mnl_nlmsg_get_payload(p->m) : NULL,
                with_mask ? mnl_nlmsg_get_payload_len(p->m) : 0, verbose,
                sb);
}

static bool
same(const struct nlmsghdr *a, const struct nlmsghdr *b)
{
    return a->nlmsg_len == b->nlmsg_len
           && !memcmp(a, b, a->nlmsg_len);
}

/* Checks one input in one mode. */
static void
check(const char *s, bool with_mask)
{
    static struct pair p1, p2, p3;
    struct sbuf t2 = SBUF_INIT, t3 = SBUF_INIT;
    size_t used;

    if (parse(s, &p1, with_mask, &used)) {
        return;
    }
    format(&p1, with_mask, false, &t2);
    if (parse(sbuf_str(&t2), &p2, with_mask, &used)
        || sbuf_str(&t2)[used]) {
        abort();                /* Our own output does not parse. */
    }
    if (!with_mask) {
        if (!same(p1.k, p2.k)) {
            abort();            /* Lossless form lost something. */
        }
    } else {
        format(&p2, true, false, &t3);
        if (strcmp(sbuf_str(&t2), sbuf_str(&t3))
            && !(!t2.len && !strcmp(sbuf_str(&t3), "<empty>"))) {
            /* (A key whose every attribute is wildcarded prints as "", as
             * in OVS; that parses as the empty key, "<empty>".) */
            abort();
        }
        if (parse(sbuf_str(&t3), &p3, true, &used)
            || !same(p2.k, p3.k) || !same(p2.m, p3.m)) {
            abort();
        }
        /* The verbose form must parse too. */
        format(&p1, true, true, &t3);
        if (parse(sbuf_str(&t3), &p3, true, &used)) {
            abort();
        }
    }
    sbuf_uninit(&t2);
    sbuf_uninit(&t3);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    struct sbuf sb = SBUF_INIT;

    if (!s) {
        abort();
    }
    memcpy(s, data, size);
    s[size] = '\0';

    check(s, true);
    check(s, false);

    /* The raw bytes as a key stream, and split in two as key and mask:
     * formatting anything must be safe. */
    fkey_format(data, size, NULL, 0, false, &sb);
    fkey_format(data, size / 2, data + size / 2, size - size / 2, false,
                &sb);
    fkey_format(data, size / 2, data + size / 2, size - size / 2, true,
                &sb);

    sbuf_uninit(&sb);
    free(s);
    return 0;
}
