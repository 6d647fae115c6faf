/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for port/afpacket-ring.c, the walk through a TPACKET_V3
 * receive-ring block, and for what the "afpacket" port does with each
 * frame it finds.  The input is the block, of whatever size the input has
 * (afp_ring_start() takes the size; the port's blocks are 128 KiB, small
 * ones reach every check the same way): a 'struct tpacket_block_desc',
 * then frames, each a 'struct tpacket3_hdr', a virtio-net header and the
 * frame, all in host byte order as the kernel writes them.  The seeds in
 * corpus/afpacket-ring/ are blocks laid out as the kernel lays them out:
 * an empty one, and one to three frames (plain, VLAN-tagged, TSO
 * super-packets, a partial checksum, a hole, a frame cut short).
 *
 * The target walks the whole block, and turns every frame into packets as
 * afpacket_rx() does: poff_frame_init(), then poff_emit() into batches
 * from a small pool until the frame is done, handing each batch on (here:
 * freeing it) when it is full or the pool is dry.  Besides the sanitizers
 * (the block is an exact-size heap copy), it checks the walk's promises
 * and aborts if one breaks: only the results the header lists; at most
 * 'num_pkts' results, at offsets that only go forward; every frame, its
 * header and its vnet header inside the block, where the frame's own
 * header (read here independently) says, with 'tp_snaplen' == 'tp_len'
 * == the length returned; the VLAN tag as the rule says; a hole without
 * TP_STATUS_USER; the end, once reached, stays; every packet emitted as
 * long as poff_out_len() says. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_packet.h>

#include "packet/flow-key.h"
#include "packet/packet-offload.h"
#include "packet/packet.h"
#include "port/afpacket-ring.h"

#define HDR_LEN  sizeof(struct tpacket3_hdr)
#define VNET_LEN sizeof(struct virtio_net_hdr)

static struct pkt_pool *pool;

/* Hands 'b' on, as the datapath would take it: here, frees it. */
static void
hand_on(struct pkt_batch *b)
{
    pkt_batch_free(b);
    pkt_batch_init(b);
}

/* Turns the frame of 'pf' into packets appended to 'b', handing 'b' on
 * whenever it is full or the pool runs dry, until every output is out;
 * checks each packet's length. */
static void
emit_all(struct poff_frame *pf, struct pkt_batch *b)
{
    while (!poff_frame_done(pf)) {
        uint32_t before = b->n, next = pf->next;
        uint32_t n = poff_emit(pf, pool, b);

        if (n != b->n - before || pf->next != next + n) {
            abort();
        }
        if (!n && !before) {
            abort();            /* No progress with an empty batch. */
        }
        for (uint32_t k = 0; k < n; k++) {
            if (b->pkts[before + k]->len != poff_out_len(pf, next + k)) {
                abort();
            }
        }
        if (!n || b->n == PKT_BATCH_MAX) {
            hand_on(b);
        }
    }
}

/* Checks frame 'f', which the walk of the 'size'-byte block 'blk' just
 * returned as AFP_RING_FRAME, against the block's own bytes. */
static void
check_frame(const uint8_t *blk, size_t size, const struct afp_ring_frame *f)
{
    uintptr_t start = (uintptr_t) blk, at = (uintptr_t) f->data;
    struct tpacket3_hdr h;

    /* Addresses as integers: a pointer outside the block must be caught,
     * not compared. */
    memcpy(&h, blk + f->ofs, HDR_LEN);
    if (at < start + f->ofs + HDR_LEN + VNET_LEN || at > start + size
        || f->len > start + size - at) {
        abort();
    }
    if (at - (start + f->ofs) != h.tp_mac || f->len != h.tp_snaplen || f->len != h.tp_len
        || f->status != h.tp_status || !(f->status & TP_STATUS_USER)
        || memcmp(&f->vnet, f->data - VNET_LEN, VNET_LEN)) {
        abort();
    }
    if (h.tp_status & TP_STATUS_VLAN_VALID || h.hv1.tp_vlan_tci) {
        uint16_t tpid = (h.tp_status & TP_STATUS_VLAN_TPID_VALID
                         && h.hv1.tp_vlan_tpid ? h.hv1.tp_vlan_tpid
                                               : ETH_TYPE_VLAN_8021Q);

        if (ntohs(f->vlan_tpid) != tpid
            || ntohs(f->vlan_tci) != (uint16_t) h.hv1.tp_vlan_tci) {
            abort();
        }
    } else if (f->vlan_tpid || f->vlan_tci) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tpacket_block_desc bd;
    struct afp_ring_walk w;
    struct afp_ring_frame f;
    struct pkt_batch b;
    uint64_t results = 0;
    size_t last_ofs = 0;
    uint8_t *blk;
    int started;

    if (!pool) {
        /* Small buffers and few of them, so that frames also get packets
         * of their own and the pool runs dry in the middle of one. */
        pool = pkt_pool_create(8, PKT_HEADROOM + 512);
        if (!pool) {
            abort();
        }
    }
    blk = malloc(size ? size : 1);
    if (!blk) {
        return 0;
    }
    memcpy(blk, data, size);
    memset(&bd, 0, sizeof bd);
    if (size >= sizeof bd) {
        memcpy(&bd, blk, sizeof bd);
    }

    started = afp_ring_start(&w, blk, size);
    if (started != (size < sizeof bd ? -EINVAL : 0)) {
        abort();
    }
    pkt_batch_init(&b);
    for (;;) {
        int r = afp_ring_next(&w, &f);

        if (r == AFP_RING_END) {
            break;
        }
        /* Every result takes one of 'num_pkts', and offsets only go
         * forward (by at least the 4-byte alignment, which also bounds the
         * walk by size / 4). */
        if (++results > bd.hdr.bh1.num_pkts
            || (results > 1 && f.ofs <= last_ofs)) {
            abort();
        }
        last_ofs = f.ofs;
        if (r == -EINVAL || r == -EMSGSIZE) {
            continue;
        }
        /* A good header: inside the block and aligned. */
        if (f.ofs < sizeof bd || f.ofs > size || size - f.ofs < HDR_LEN
            || f.ofs % 4) {
            abort();
        }
        if (r == AFP_RING_HOLE) {
            struct tpacket3_hdr h;

            memcpy(&h, blk + f.ofs, HDR_LEN);
            if (f.status != h.tp_status || f.status & TP_STATUS_USER
                || f.data) {
                abort();
            }
        } else if (r == AFP_RING_FRAME) {
            struct poff_frame pf;
            int error;

            check_frame(blk, size, &f);
            error = poff_frame_init(&pf, &f.vnet, f.data, f.len,
                                    f.vlan_tpid, f.vlan_tci);
            if (!error) {
                emit_all(&pf, &b);
            } else if (error != -EINVAL && error != -EOPNOTSUPP) {
                abort();
            }
        } else {
            abort();
        }
    }
    if (!afp_ring_done(&w) || afp_ring_next(&w, &f) != AFP_RING_END) {
        abort();
    }
    hand_on(&b);
    free(blk);
    return 0;
}
