/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the LD_PRELOAD shim's scanner (compat/ovscompat.h:
 * ovsc_scan_*(), ovsc_iov_*()), which reads the headers of every netlink
 * datagram a program sends or receives through the shim.
 *
 * Input: byte 0 says how many cuts (0-7) split the datagram into iovec
 * entries, the next bytes are the cuts (scaled to the length), the rest
 * is the datagram.  The datagram and each entry are copied into buffers
 * of their exact size, so that ASan sees any read past them.  Properties:
 * the iovec functions agree with a plain copy, and every scan gives the
 * same answer on the split datagram as on one buffer; an overrun is
 * exactly 20 bytes; a dump end only ever removes sequence numbers.  A
 * broken property abort()s. */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "compat/ovscompat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CUTS 7
#define MAX_SEQS 16

/* Returns a copy of 'len' bytes of 'p' in a buffer of exactly that size
 * (one byte for an empty one, never read). */
static uint8_t *
dup_exact(const uint8_t *p, size_t len)
{
    uint8_t *q = malloc(len ? len : 1);

    if (!q) {
        abort();
    }
    if (len) {
        memcpy(q, p, len);
    }
    return q;
}

/* Sorts 'v' (n entries), for comparing sets. */
static void
sort_u32(uint32_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint32_t t = v[j];

            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n_cuts, len, cuts[MAX_CUTS + 2];
    struct iovec iov[MAX_CUTS + 1], one;
    uint32_t seqs_a[MAX_SEQS], seqs_b[MAX_SEQS];
    uint32_t open_a[MAX_SEQS], open_b[MAX_SEQS];
    size_t n_a, n_b, n_open;
    const uint8_t *dgram;
    uint8_t *flat, *copy;

    if (!size) {
        return 0;
    }
    n_cuts = data[0] % (MAX_CUTS + 1);
    if (size < 1 + n_cuts) {
        return 0;
    }
    dgram = data + 1 + n_cuts;
    len = size - 1 - n_cuts;

    /* Cut points, in order, scaled to the datagram. */
    cuts[0] = 0;
    for (size_t i = 0; i < n_cuts; i++) {
        cuts[i + 1] = len ? (size_t) data[1 + i] * len / 256 : 0;
    }
    cuts[n_cuts + 1] = len;
    for (size_t i = 1; i <= n_cuts; i++) {
        for (size_t j = i; j > 1 && cuts[j - 1] > cuts[j]; j--) {
            size_t t = cuts[j];

            cuts[j] = cuts[j - 1];
            cuts[j - 1] = t;
        }
    }
    for (size_t i = 0; i <= n_cuts; i++) {
        size_t l = cuts[i + 1] - cuts[i];

        iov[i].iov_base = dup_exact(dgram + cuts[i], l);
        iov[i].iov_len = l;
    }
    flat = dup_exact(dgram, len);
    one.iov_base = flat;
    one.iov_len = len;

    /* The iovec helpers against the flat copy. */
    if (ovsc_iov_len(iov, n_cuts + 1) != len) {
        abort();
    }
    copy = malloc(len ? len : 1);
    if (!copy) {
        abort();
    }
    if (ovsc_iov_copy(iov, n_cuts + 1, 0, copy, len) != len
        || (len && memcmp(copy, flat, len))) {
        abort();
    }
    if (len && (ovsc_iov_copy(iov, n_cuts + 1, len / 2, copy, len)
                != len - len / 2
                || memcmp(copy, flat + len / 2, len - len / 2))) {
        abort();
    }
    free(copy);

    /* Overrun: the same either way, and only ever 20 bytes. */
    if (ovsc_scan_overrun(iov, n_cuts + 1, len)
        != ovsc_scan_overrun(&one, 1, len)) {
        abort();
    }
    if (ovsc_scan_overrun(&one, 1, len) && len != OVSC_OVERRUN_LEN) {
        abort();
    }

    /* Dump requests: the same sequence numbers either way. */
    n_a = ovsc_scan_dump_requests(iov, n_cuts + 1, len, seqs_a, MAX_SEQS);
    n_b = ovsc_scan_dump_requests(&one, 1, len, seqs_b, MAX_SEQS);
    if (n_a != n_b) {
        abort();
    }
    n_a = n_a < MAX_SEQS ? n_a : MAX_SEQS;
    if (memcmp(seqs_a, seqs_b, n_a * sizeof seqs_a[0])) {
        abort();
    }

    /* Dump ends, against open dumps made of what was found and of the
     * first bytes: the same set left either way, never more. */
    n_open = 0;
    for (size_t i = 0; i < n_a && n_open < MAX_SEQS; i++) {
        open_a[n_open++] = seqs_a[i];
    }
    for (size_t i = 0; i + 4 <= len && n_open < MAX_SEQS && i < 64; i += 4) {
        memcpy(&open_a[n_open++], flat + i, 4);
    }
    memcpy(open_b, open_a, sizeof open_a);
    n_a = ovsc_scan_dump_ends(iov, n_cuts + 1, len, open_a, n_open);
    n_b = ovsc_scan_dump_ends(&one, 1, len, open_b, n_open);
    if (n_a != n_b || n_a > n_open) {
        abort();
    }
    sort_u32(open_a, n_a);
    sort_u32(open_b, n_b);
    if (memcmp(open_a, open_b, n_a * sizeof open_a[0])) {
        abort();
    }

    for (size_t i = 0; i <= n_cuts; i++) {
        free(iov[i].iov_base);
    }
    free(flat);
    return 0;
}
