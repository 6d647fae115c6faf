/* SPDX-License-Identifier: Apache-2.0 */
/* The walk through one TPACKET_V3 ring block; see port/afpacket-ring.h. */

#include "port/afpacket-ring.h"

#include <errno.h>
#include <string.h>
#include <linux/if_packet.h>

#include "packet/flow-key.h"

int
afp_ring_start(struct afp_ring_walk *w, const void *blk, size_t size)
{
    struct tpacket_block_desc bd;

    w->blk = blk;
    w->size = size;
    w->frames_left = 0;
    w->next_ofs = 0;
    if (size < sizeof bd) {
        return -EINVAL;
    }
    memcpy(&bd, blk, sizeof bd);
    w->frames_left = bd.hdr.bh1.num_pkts;
    w->next_ofs = bd.hdr.bh1.offset_to_first_pkt;
    return 0;
}

/* Returns the VLAN tag the kernel took out of the frame of 'h', in
 * '*tpid' and '*tci' (as stored); '*tpid' 0 if there is none.  The rule
 * is afp_ring_next()'s. */
static void
frame_vlan(const struct tpacket3_hdr *h, be16 *tpid, be16 *tci)
{
    *tpid = 0;
    *tci = 0;
    if (h->tp_status & TP_STATUS_VLAN_VALID || h->hv1.tp_vlan_tci) {
        *tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID
                 && h->hv1.tp_vlan_tpid
                 ? htons(h->hv1.tp_vlan_tpid) : htons(ETH_TYPE_VLAN_8021Q));
        *tci = htons((uint16_t) h->hv1.tp_vlan_tci);
    }
}

int
afp_ring_next(struct afp_ring_walk *w, struct afp_ring_frame *f)
{
    size_t ofs = w->next_ofs;
    struct tpacket3_hdr h;

    if (!w->frames_left) {
        return AFP_RING_END;
    }
    w->frames_left--;
    memset(f, 0, sizeof *f);
    f->ofs = ofs;

    /* The kernel's layout, checked anyway: a bad offset must not send us
     * outside the block or to a misaligned header, and the frames after
     * it cannot be found. */
    if (ofs < sizeof(struct tpacket_block_desc)
        || ofs > w->size || w->size - ofs < sizeof h
        || ofs % _Alignof(struct tpacket3_hdr)) {
        w->frames_left = 0;
        return -EINVAL;
    }
    memcpy(&h, w->blk + ofs, sizeof h);
    f->status = h.tp_status;

    /* An offset past the end of the block is kept as the end, which the
     * next call refuses ('ofs + tp_next_offset' could wrap around a
     * 32-bit size_t). */
    w->next_ofs = (h.tp_next_offset <= w->size - ofs
                   ? ofs + h.tp_next_offset : w->size);
    if (!h.tp_next_offset) {
        w->frames_left = 0;     /* The last frame, whatever num_pkts said. */
    }

    if (!(h.tp_status & TP_STATUS_USER)) {
        return AFP_RING_HOLE;
    }
    if (h.tp_mac < sizeof h + sizeof f->vnet
        || h.tp_mac > w->size - ofs
        || h.tp_snaplen > w->size - ofs - h.tp_mac) {
        return -EINVAL;
    }
    if (h.tp_snaplen != h.tp_len) {
        return -EMSGSIZE;       /* Cut short: larger than a block. */
    }
    f->data = w->blk + ofs + h.tp_mac;
    f->len = h.tp_snaplen;
    memcpy(&f->vnet, f->data - sizeof f->vnet, sizeof f->vnet);
    frame_vlan(&h, &f->vlan_tpid, &f->vlan_tci);
    return AFP_RING_FRAME;
}
