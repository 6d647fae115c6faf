/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for packet/packet-offload.c.  The input is a virtio-net
 * header (10 bytes, host byte order, as a packet socket gives it), then a
 * VLAN tag to put back (TPID and TCI, 4 bytes, network order; TPID 0 for
 * none), then the frame; the seeds in corpus/offload/ are built that way
 * (a TSO super-packet, a USO one over IPv6, partial checksums, a plain
 * frame).  Besides the sanitizers (the frame and every output are
 * exact-size heap buffers), the target checks the module's promises and
 * aborts if one breaks: only 0, -EINVAL or -EOPNOTSUPP; an accepted
 * super-packet becomes segments of at most 'gso_size' bytes of payload
 * after the same headers, whose payloads add up to the frame's, whose IP
 * and UDP length fields match their lengths and whose checksums verify;
 * every other frame becomes one output, the frame with the tag; and
 * poff_emit() produces the same bytes as poff_out_write(). */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "packet/packet-offload.h"
#include "packet/packet.h"
#include "tests/unit/csum-ref.h"

#define VNET_LEN    sizeof(struct virtio_net_hdr)
#define TAG_LEN     4
#define MAX_CHECKED 64          /* Outputs compared with poff_emit(). */

/* Checks segment 'out' ('len' bytes) of the super-packet 'f'. */
static void
check_segment(const struct poff_frame *f, const uint8_t *out, size_t len)
{
    size_t tag = f->vlan_tpid ? TAG_LEN : 0;
    const uint8_t *ip = out + f->l3_ofs + tag;
    const uint8_t *l4 = out + f->l4_ofs + tag;
    size_t l3_len = len - (f->l3_ofs + tag);
    size_t l4_len = len - (f->l4_ofs + tag);

    if (len <= f->hdr_len + tag || len > f->hdr_len + tag + f->gso_size
        || memcmp(out, f->data, 12)) {
        abort();
    }
    if (f->ipv6) {
        if (ref_r16(ip + 4) != l3_len - 40) {
            abort();
        }
    } else {
        if (ref_r16(ip + 2) != l3_len
            || ref_fold(ref_sum_words(ip, (size_t) (ip[0] & 0xf) * 4, 0))
               != 0xffff) {
            abort();
        }
    }
    if (!f->tcp && ref_r16(l4 + 4) != l4_len) {
        abort();
    }
    if (!ref_l4_csum_ok(ip, f->ipv6, f->tcp ? 6 : 17, l4, l4_len)) {
        abort();
    }
}

/* Writes every output of 'f', checks each, and returns the payload bytes
 * of all segments (0 for a frame that is not a super-packet). */
static size_t
check_outputs(const struct poff_frame *f)
{
    size_t tag = f->vlan_tpid ? TAG_LEN : 0;
    size_t payload = 0;

    for (uint32_t i = 0; i < f->n_out; i++) {
        size_t len = poff_out_len(f, i);
        uint8_t *out = malloc(len);

        if (!out) {
            abort();
        }
        poff_out_write(f, i, out);
        if (f->kind == POFF_GSO) {
            check_segment(f, out, len);
            payload += len - tag - f->hdr_len;
        } else if (len != f->len + tag
                   || memcmp(out, f->data, 12)
                   || (f->kind == POFF_PLAIN
                       && memcmp(out + 12 + tag, f->data + 12,
                                 f->len - 12))) {
            abort();
        }
        free(out);
    }
    return payload;
}

/* Emits the first outputs of a copy of 'f' with 'pool' (may be NULL) and
 * compares them with poff_out_write()'s. */
static void
check_emit(const struct poff_frame *f, struct pkt_pool *pool)
{
    struct poff_frame e = *f;
    struct pkt_batch b;
    uint32_t done = 0;

    while (!poff_frame_done(&e) && done < MAX_CHECKED) {
        uint32_t n;

        pkt_batch_init(&b);
        n = poff_emit(&e, pool, &b);
        if (!n || n != b.n || e.next != done + n) {
            abort();
        }
        for (uint32_t k = 0; k < n; k++) {
            size_t len = poff_out_len(f, done + k);
            uint8_t *want = malloc(len);

            if (!want) {
                abort();
            }
            poff_out_write(f, done + k, want);
            if (b.pkts[k]->len != len
                || memcmp(b.pkts[k]->data, want, len)) {
                abort();
            }
            free(want);
        }
        done += n;
        pkt_batch_free(&b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct pkt_pool *pool;
    struct virtio_net_hdr vh;
    struct poff_frame f;
    uint8_t *frame;
    size_t len;
    uint16_t tpid, tci;
    int error;

    if (size < VNET_LEN + TAG_LEN) {
        return 0;
    }
    if (!pool) {
        /* Small buffers, so that both kinds of packet are exercised. */
        pool = pkt_pool_create(8, PKT_HEADROOM + 512);
        if (!pool) {
            abort();
        }
    }
    memcpy(&vh, data, VNET_LEN);
    tpid = ref_r16(data + VNET_LEN);
    tci = ref_r16(data + VNET_LEN + 2);
    len = size - VNET_LEN - TAG_LEN;
    frame = malloc(len ? len : 1);
    if (!frame) {
        return 0;
    }
    memcpy(frame, data + VNET_LEN + TAG_LEN, len);

    error = poff_frame_init(&f, &vh, frame, len, htons(tpid), htons(tci));
    if (error && error != -EINVAL && error != -EOPNOTSUPP) {
        abort();
    }
    if (!error) {
        if (!f.n_out || f.next || (f.kind != POFF_GSO && f.n_out != 1)
            || (f.kind == POFF_GSO) != (vh.gso_type != 0)) {
            abort();
        }
        if (f.kind == POFF_GSO
            && (f.n_out != (len - f.hdr_len + vh.gso_size - 1) / vh.gso_size
                || check_outputs(&f) != len - f.hdr_len)) {
            abort();
        }
        if (f.kind != POFF_GSO) {
            check_outputs(&f);
        }
        check_emit(&f, pool);
        check_emit(&f, NULL);
    }

    /* In place, the same verdict and, without a tag, the same bytes. */
    if (vh.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
        int e2 = poff_csum_complete(&vh, frame, len);

        if (e2 != error) {
            abort();
        }
        if (!e2 && !tpid) {
            uint8_t *orig = malloc(len), *out = malloc(len);

            if (!orig || !out) {
                abort();
            }
            /* 'f' points at 'frame', now completed: compare with what a
             * recipe made from the original bytes writes. */
            memcpy(orig, data + VNET_LEN + TAG_LEN, len);
            if (poff_frame_init(&f, &vh, orig, len, 0, 0)) {
                abort();
            }
            poff_out_write(&f, 0, out);
            if (memcmp(out, frame, len)) {
                abort();
            }
            free(orig);
            free(out);
        }
    }
    free(frame);
    return 0;
}
