/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_PORT_AFPACKET_RING_H
#define WEIR_PORT_AFPACKET_RING_H 1

/* The walk through one block of a TPACKET_V3 receive ring: the part of
 * the "afpacket" port (port/port-afpacket.c) that reads what the kernel
 * wrote, kept apart from the socket and the mapping so that it can be
 * unit-tested and fuzzed with plain memory.  Internal to the port
 * library: nothing outside port-afpacket.c and its tests uses it.
 *
 * What
 * ====
 *
 * A block starts with a 'struct tpacket_block_desc' (linux/if_packet.h)
 * whose 'num_pkts' says how many frames it holds and whose
 * 'offset_to_first_pkt' says where the first one is.  Each frame is a
 * 'struct tpacket3_hdr' at a 4-byte aligned offset: 'tp_next_offset'
 * says how far after it the next one starts (0 on the last), 'tp_status'
 * has TP_STATUS_USER for a frame the kernel filled, 'tp_mac' is where the
 * frame starts relative to the header, 'tp_snaplen' how many of its
 * 'tp_len' bytes are there, and 'hv1' holds the VLAN tag the kernel took
 * out of it.  With PACKET_VNET_HDR a 'struct virtio_net_hdr' sits right
 * before the frame.
 *
 * afp_ring_start() begins a walk through a block of any size;
 * afp_ring_next() returns its frames one at a time, in order, each
 * checked against the block's bounds, until 'num_pkts' frames have been
 * returned or one has 'tp_next_offset' 0, whichever comes first.  The
 * block's 'block_status' is not read: whether the block is ours is the
 * caller's business (it is shared with the kernel and needs an atomic
 * load).  Nor are 'blk_len' and the time stamps.
 *
 * What is refused.  afp_ring_next() never reads outside the block and
 * never returns a frame that is not all inside it:
 *
 *   - A header offset before the end of the block descriptor, less than a
 *     header before the end of the block, or not 4-byte aligned (the first
 *     one from 'offset_to_first_pkt', the others from the previous
 *     'tp_next_offset'): -EINVAL, and the walk ends, since nothing after
 *     it can be found.
 *   - A frame whose 'tp_mac' leaves no room for the header and the vnet
 *     header before it, or whose 'tp_snaplen' bytes from 'tp_mac' do not
 *     fit in the block: -EINVAL.
 *   - A frame cut short ('tp_snaplen' differs from 'tp_len': it was larger
 *     than a block): -EMSGSIZE.
 *
 * After those two the walk goes on with the next frame: the header was
 * good, so its 'tp_next_offset' can be followed.  A slot without
 * TP_STATUS_USER is a hole (the kernel reserved it, then dropped the
 * frame and counted it in its tp_drops); its other fields are not looked
 * at, and the walk goes on too.
 *
 * Design
 * ======
 *
 * Every header is copied out of the block before it is checked, so the
 * checks and the uses read the same values even if the memory changed
 * between them, and the block needs no particular alignment.  The vnet
 * header is copied too; the frame itself is not: 'data' points into the
 * block.  Every step moves forward, from one 4-byte aligned header to the
 * next, so a walk has at most size / 4 results (frames, holes and
 * errors) whatever 'num_pkts' says.
 *
 * Thread-safety
 * =============
 *
 * Reentrant: a walk belongs to one thread at a time, and the block must
 * not change while it is being walked.
 *
 * Ownership
 * =========
 *
 * A walk points into the caller's block and owns nothing; so does a
 * returned frame's 'data'. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/virtio_net.h>

#include "lib/byteorder.h"

/* A walk through one block.  Filled by afp_ring_start(); the caller reads
 * it through afp_ring_done() only. */
struct afp_ring_walk {
    const uint8_t *blk;         /* The block, */
    size_t size;                /* this many bytes. */
    uint32_t frames_left;       /* Frames not yet returned. */
    size_t next_ofs;            /* Where the next frame's header is. */
};

/* One frame of a block, as afp_ring_next() returns it. */
struct afp_ring_frame {
    size_t ofs;                 /* Its 'struct tpacket3_hdr', from the
                                 * start of the block. */
    uint32_t status;            /* Its 'tp_status'. */

    /* Only for AFP_RING_FRAME: */
    const uint8_t *data;        /* The frame, inside the block, */
    uint32_t len;               /* this long ('tp_snaplen' == 'tp_len'). */
    struct virtio_net_hdr vnet; /* The vnet header before 'data', copied. */
    be16 vlan_tpid;             /* The tag the kernel took out, as stored */
    be16 vlan_tci;              /* (network byte order); 'vlan_tpid' 0:
                                 * none (then 'vlan_tci' is 0 too). */
};

/* What afp_ring_next() found, when it is not an error. */
enum afp_ring_result {
    AFP_RING_END = 0,           /* The block has no frames left. */
    AFP_RING_FRAME = 1,         /* A frame, in '*f'. */
    AFP_RING_HOLE = 2,          /* A slot without TP_STATUS_USER: skip it. */
};

/* Begins a walk '*w' through the 'size'-byte block at 'blk'.
 * Returns: 0; -EINVAL if the block is smaller than its descriptor (the
 * walk is then empty). */
int afp_ring_start(struct afp_ring_walk *w, const void *blk, size_t size);

/* Takes the next frame of walk '*w' and describes it in '*f'.  The frame
 * had a VLAN tag if its 'tp_status' has TP_STATUS_VLAN_VALID or its
 * 'tp_vlan_tci' is not 0; the tag's TPID is 'tp_vlan_tpid' if
 * TP_STATUS_VLAN_TPID_VALID is set and it is not 0, else 802.1Q (kernels
 * before 3.14 do not fill it in).
 * Returns: AFP_RING_END when no frame is left (forever after);
 * AFP_RING_FRAME; AFP_RING_HOLE ('*f' has 'ofs' and 'status' only);
 * -EINVAL or -EMSGSIZE for a frame that cannot be used, as the essay
 * above says ('*f' has 'ofs', and 'status', which is 0 when the header
 * offset itself was bad). */
int afp_ring_next(struct afp_ring_walk *w, struct afp_ring_frame *f);

/* Returns true once walk 'w' has no frames left. */
static inline bool
afp_ring_done(const struct afp_ring_walk *w)
{
    return !w->frames_left;
}

#endif /* port/afpacket-ring.h */
