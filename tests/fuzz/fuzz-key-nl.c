/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for codec/fkey-nl.c.
 *
 * The whole input is decoded as a key stream.  Then, for inputs of two
 * bytes or more, the first two bytes (little-endian, modulo the rest's
 * length + 1) split the rest into a key stream and a mask stream for that
 * key.  Every key or mask that decodes without error must encode, and
 * decode again to the identical struct; abort() otherwise. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "codec/fkey-nl.h"
#include "lib/errbuf.h"
#include "packet/flow-key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct msg {
    union {
        struct nlmsghdr nlh;
        uint8_t b[MNL_NLMSG_HDRLEN + FKEY_NL_MAX_LEN];
    } u;
};

static void
check_key(const struct flow_key *k)
{
    struct flow_key k2;
    struct msg m;

    mnl_nlmsg_put_header(m.u.b);
    if (fkey_to_nl(k, &m.u.nlh, sizeof m.u.b)) {
        abort();
    }
    if (fkey_from_nl(m.u.b + MNL_NLMSG_HDRLEN,
                     m.u.nlh.nlmsg_len - MNL_NLMSG_HDRLEN, &k2, NULL)
        == FKEY_FIT_ERROR
        || memcmp(k, &k2, sizeof k2)) {
        abort();
    }
}

static void
check_mask(const struct flow_key *k, const struct flow_mask *mk)
{
    struct flow_mask mk2;
    struct msg m;

    mnl_nlmsg_put_header(m.u.b);
    if (fmask_to_nl(k, mk, &m.u.nlh, sizeof m.u.b)) {
        abort();
    }
    if (fmask_from_nl(m.u.b + MNL_NLMSG_HDRLEN,
                      m.u.nlh.nlmsg_len - MNL_NLMSG_HDRLEN, k, &mk2, NULL)
        != FKEY_FIT_PERFECT
        || memcmp(mk, &mk2, sizeof mk2)) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct flow_mask mask;
    struct flow_key key;
    struct errbuf err;
    size_t split;

    if (fkey_from_nl(data, size, &key, &err) != FKEY_FIT_ERROR) {
        check_key(&key);
    }
    if (size < 2) {
        return 0;
    }

    split = (data[0] | (size_t) data[1] << 8) % (size - 1);
    data += 2;
    size -= 2;
    if (fkey_from_nl(data, split, &key, &err) == FKEY_FIT_ERROR) {
        return 0;
    }
    check_key(&key);
    if (fmask_from_nl(NULL, 0, &key, &mask, &err) != FKEY_FIT_PERFECT) {
        abort();
    }
    check_mask(&key, &mask);
    if (fmask_from_nl(data + split, size - split, &key, &mask, &err)
        != FKEY_FIT_ERROR) {
        check_mask(&key, &mask);
    }
    return 0;
}
