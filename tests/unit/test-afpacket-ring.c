/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for port/afpacket-ring.c: the walk through a TPACKET_V3
 * receive-ring block that the "afpacket" port does.
 *
 * Blocks are built here field by field, laid out as the kernel lays them
 * out (the descriptor, then each frame's 'struct tpacket3_hdr' at a
 * multiple of 8, the vnet header and the frame at 'tp_mac' = 92), in
 * exact-size heap buffers of a few KiB, so that ASan reports any read past
 * a block's end.  Each bad field is tested on its own, at and just past
 * its limit, together with what the walk does next: go on to the next
 * frame, or end. */

#include "port/afpacket-ring.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <cmocka.h>

#define BD_LEN   sizeof(struct tpacket_block_desc)
#define HDR_LEN  sizeof(struct tpacket3_hdr)
#define VNET_LEN sizeof(struct virtio_net_hdr)
#define TP_MAC   92             /* Where the kernel puts the frame. */
#define SIZE     4096           /* The tests' block size. */

/* ---- Building blocks. ---- */

/* Returns a zeroed 'size'-byte block (exactly: ASan guards its end) whose
 * descriptor says 'num_pkts' frames, the first at 'first'. */
static uint8_t *
block_new(size_t size, uint32_t num_pkts, uint32_t first)
{
    uint8_t *b = calloc(1, size);
    struct tpacket_block_desc bd;

    assert_non_null(b);
    memset(&bd, 0, sizeof bd);
    bd.version = TPACKET_V3;
    bd.hdr.bh1.block_status = TP_STATUS_USER;
    bd.hdr.bh1.num_pkts = num_pkts;
    bd.hdr.bh1.offset_to_first_pkt = first;
    if (size >= sizeof bd) {
        memcpy(b, &bd, sizeof bd);
    }
    return b;
}

/* What one frame header says; the rest of the header is zero. */
struct fspec {
    uint32_t next;              /* tp_next_offset. */
    uint32_t status;            /* tp_status. */
    uint16_t mac;               /* tp_mac; 0: TP_MAC. */
    uint32_t snaplen;
    uint32_t len;               /* tp_len; 0: 'snaplen'. */
    uint32_t tci;               /* hv1.tp_vlan_tci. */
    uint16_t tpid;              /* hv1.tp_vlan_tpid. */
};

/* Writes, if they fit in the block of 'size' bytes, a vnet header and
 * 's->snaplen' frame bytes that depend on 'ofs' where 's' puts them, then
 * (over them, if 's->mac' is that bad) a frame header as 's' says at 'ofs'
 * of 'b'. */
static void
frame_put(uint8_t *b, size_t size, size_t ofs, const struct fspec *s)
{
    struct tpacket3_hdr h;
    size_t mac = s->mac ? s->mac : TP_MAC;

    if (mac >= VNET_LEN && ofs + mac + s->snaplen <= size) {
        for (size_t i = 0; i < VNET_LEN + s->snaplen; i++) {
            b[ofs + mac - VNET_LEN + i] = (uint8_t) (ofs + i * 3);
        }
    }
    memset(&h, 0, sizeof h);
    h.tp_next_offset = s->next;
    h.tp_status = s->status;
    h.tp_mac = (uint16_t) mac;
    h.tp_snaplen = s->snaplen;
    h.tp_len = s->len ? s->len : s->snaplen;
    h.hv1.tp_vlan_tci = s->tci;
    h.hv1.tp_vlan_tpid = s->tpid;
    memcpy(b + ofs, &h, sizeof h);
}

/* Takes the next result of 'w' and checks that it is 'want' for the
 * header at 'ofs'. */
static void
expect(struct afp_ring_walk *w, struct afp_ring_frame *f, int want,
       size_t ofs)
{
    assert_int_equal(afp_ring_next(w, f), want);
    assert_int_equal(f->ofs, ofs);
}

/* Checks that 'f', a frame of block 'b' whose header is at 'ofs', is
 * where and what frame_put() wrote with 'snaplen' and 'status'. */
static void
check_frame(const uint8_t *b, const struct afp_ring_frame *f, size_t ofs,
            uint32_t snaplen, uint32_t status)
{
    assert_ptr_equal(f->data, b + ofs + TP_MAC);
    assert_int_equal(f->len, snaplen);
    assert_int_equal(f->status, status);
    assert_memory_equal(&f->vnet, b + ofs + TP_MAC - VNET_LEN, VNET_LEN);
    assert_int_equal(((const uint8_t *) &f->vnet)[1],
                     (uint8_t) (ofs + 3));
}

/* Checks that walk 'w' is over, and stays so. */
static void
expect_end(struct afp_ring_walk *w)
{
    struct afp_ring_frame f;

    assert_int_equal(afp_ring_next(w, &f), AFP_RING_END);
    assert_true(afp_ring_done(w));
    assert_int_equal(afp_ring_next(w, &f), AFP_RING_END);
}

/* ---- Good blocks. ---- */

/* Three frames of different lengths, as the kernel packs them: each
 * header 8-byte aligned right after the previous frame, the last with
 * tp_next_offset 0; the last frame ends exactly at the block's end. */
static void
test_frames(void **state)
{
    const uint32_t lens[3] = { 60, 1514, 42 };
    size_t ofs[3], size;
    struct afp_ring_walk w;
    struct afp_ring_frame f;
    uint8_t *b;

    (void) state;
    ofs[0] = BD_LEN;
    ofs[1] = ofs[0] + ((TP_MAC + lens[0] + 7) & ~7u);
    ofs[2] = ofs[1] + ((TP_MAC + lens[1] + 7) & ~7u);
    size = ofs[2] + TP_MAC + lens[2];
    b = block_new(size, 3, BD_LEN);
    for (int i = 0; i < 3; i++) {
        struct fspec s = {
            .next = i < 2 ? (uint32_t) (ofs[i + 1] - ofs[i]) : 0,
            .status = TP_STATUS_USER | TP_STATUS_CSUM_VALID,
            .snaplen = lens[i],
        };

        frame_put(b, size, ofs[i], &s);
    }

    assert_int_equal(afp_ring_start(&w, b, size), 0);
    assert_false(afp_ring_done(&w));
    for (int i = 0; i < 3; i++) {
        expect(&w, &f, AFP_RING_FRAME, ofs[i]);
        check_frame(b, &f, ofs[i], lens[i],
                    TP_STATUS_USER | TP_STATUS_CSUM_VALID);
        assert_int_equal(f.vlan_tpid, 0);
        assert_int_equal(f.vlan_tci, 0);
    }
    assert_ptr_equal(f.data + f.len, b + size);
    expect_end(&w);
    free(b);
}

/* The tag the kernel took out: its TPID when TP_STATUS_VLAN_TPID_VALID
 * says it is there and it is not 0, else 802.1Q; a nonzero TCI is a tag
 * even without TP_STATUS_VLAN_VALID. */
static void
test_vlan(void **state)
{
    static const struct {
        uint32_t status;
        uint32_t tci;
        uint16_t tpid;
        uint16_t want_tpid, want_tci;
    } cases[] = {
        { TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID, 0x1064, 0x88a8,
          0x88a8, 0x1064 },
        { TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID, 7, 0x8100,
          0x8100, 7 },
        { TP_STATUS_VLAN_VALID, 7, 0x88a8, 0x8100, 7 },
        { TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID, 0, 0,
          0x8100, 0 },
        { 0, 5, 0, 0x8100, 5 },
        { TP_STATUS_VLAN_TPID_VALID, 0, 0x88a8, 0, 0 },
        { 0, 0, 0, 0, 0 },
    };
    const size_t n = sizeof cases / sizeof cases[0];
    const uint32_t step = 256;
    struct afp_ring_walk w;
    struct afp_ring_frame f;
    uint8_t *b = block_new(SIZE, (uint32_t) n, BD_LEN);

    (void) state;
    for (size_t i = 0; i < n; i++) {
        struct fspec s = {
            .next = i + 1 < n ? step : 0,
            .status = TP_STATUS_USER | cases[i].status,
            .snaplen = 64,
            .tci = cases[i].tci,
            .tpid = cases[i].tpid,
        };

        frame_put(b, SIZE, BD_LEN + i * step, &s);
    }
    assert_int_equal(afp_ring_start(&w, b, SIZE), 0);
    for (size_t i = 0; i < n; i++) {
        expect(&w, &f, AFP_RING_FRAME, BD_LEN + i * step);
        check_frame(b, &f, BD_LEN + i * step, 64,
                    TP_STATUS_USER | cases[i].status);
        assert_int_equal(ntohs(f.vlan_tpid), cases[i].want_tpid);
        assert_int_equal(ntohs(f.vlan_tci), cases[i].want_tci);
    }
    expect_end(&w);
    free(b);
}

/* A slot without TP_STATUS_USER is a hole: skipped, whatever its other
 * fields say, and the walk goes on. */
static void
test_hole(void **state)
{
    struct fspec s1 = { .next = 128, .status = TP_STATUS_USER,
                        .snaplen = 20 };
    struct fspec hole = { .next = 128, .status = TP_STATUS_VLAN_VALID,
                          .mac = 1, .snaplen = 100000, .len = 3 };
    struct fspec s3 = { .next = 0, .status = TP_STATUS_USER, .snaplen = 30 };
    struct afp_ring_walk w;
    struct afp_ring_frame f;
    uint8_t *b = block_new(SIZE, 3, BD_LEN);

    (void) state;
    frame_put(b, SIZE, BD_LEN, &s1);
    frame_put(b, SIZE, BD_LEN + 128, &hole);
    frame_put(b, SIZE, BD_LEN + 256, &s3);
    assert_int_equal(afp_ring_start(&w, b, SIZE), 0);
    expect(&w, &f, AFP_RING_FRAME, BD_LEN);
    expect(&w, &f, AFP_RING_HOLE, BD_LEN + 128);
    assert_int_equal(f.status, TP_STATUS_VLAN_VALID);
    assert_null(f.data);
    expect(&w, &f, AFP_RING_FRAME, BD_LEN + 256);
    check_frame(b, &f, BD_LEN + 256, 30, TP_STATUS_USER);
    expect_end(&w);
    free(b);
}

/* An empty block (retired by its timer) has nothing; a block smaller
 * than its descriptor is refused; 'num_pkts' bounds the walk even when
 * the frames chain on. */
static void
test_empty_and_count(void **state)
{
    struct fspec s = { .next = 128, .status = TP_STATUS_USER,
                       .snaplen = 10 };
    struct afp_ring_walk w;
    struct afp_ring_frame f;
    uint8_t *b;

    (void) state;
    b = block_new(SIZE, 0, 0);
    assert_int_equal(afp_ring_start(&w, b, SIZE), 0);
    assert_true(afp_ring_done(&w));
    expect_end(&w);
    free(b);

    b = block_new(BD_LEN - 1, 0, 0);
    assert_int_equal(afp_ring_start(&w, b, BD_LEN - 1), -EINVAL);
    expect_end(&w);
    free(b);

    b = block_new(SIZE, 2, BD_LEN);
    for (size_t i = 0; i < 4; i++) {
        frame_put(b, SIZE, BD_LEN + i * 128, &s);
    }
    assert_int_equal(afp_ring_start(&w, b, SIZE), 0);
    expect(&w, &f, AFP_RING_FRAME, BD_LEN);
    expect(&w, &f, AFP_RING_FRAME, BD_LEN + 128);
    expect_end(&w);
    free(b);
}

/* ---- Bad fields. ---- */

/* 'offset_to_first_pkt' inside the descriptor, too close to the block's
 * end for a header, past the end, or misaligned: -EINVAL, and the walk
 * ends although 'num_pkts' said more.  At the limits it is good. */
static void
test_bad_first_offset(void **state)
{
    static const uint32_t bad[] = {
        0, 8, BD_LEN - 4, BD_LEN + 2, SIZE - HDR_LEN + 4, SIZE - 4, SIZE,
        SIZE + 4, UINT32_MAX - 3,
    };
    struct fspec hole = { .next = 0, .status = 0 };
    struct afp_ring_walk w;
    struct afp_ring_frame f;

    (void) state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t *b = block_new(SIZE, 5, bad[i]);

        assert_int_equal(afp_ring_start(&w, b, SIZE), 0);
        expect(&w, &f, -EINVAL, bad[i]);
        assert_int_equal(f.status, 0);
        assert_null(f.data);
        expect_end(&w);
        free(b);
    }

    /* The last place a header fits (there is no room for a frame after
     * it: a hole) and the first. */
    {
        uint8_t *b = block_new(SIZE, 1, SIZE - HDR_LEN);

        frame_put(b, SIZE, SIZE - HDR_LEN, &hole);
        assert_int_equal(afp_ring_start(&w, b, SIZE), 0);
        expect(&w, &f, AFP_RING_HOLE, SIZE - HDR_LEN);
        expect_end(&w);
        free(b);

        b = block_new(SIZE, 1, BD_LEN);
        frame_put(b, SIZE, BD_LEN, &hole);
        assert_int_equal(afp_ring_start(&w, b, SIZE), 0);
        expect(&w, &f, AFP_RING_HOLE, BD_LEN);
        expect_end(&w);
        free(b);
    }
}

/* 'tp_next_offset' past the block's end (by a little or by 4 GiB), or to
 * a misaligned header: the frame itself is good; the next call is
 * -EINVAL and ends the walk. */
static void
test_bad_next_offset(void **state)
{
    static const uint32_t bad[] = {
        SIZE - BD_LEN, SIZE - BD_LEN - HDR_LEN + 4, UINT32_MAX, 130, 2,
    };
    struct afp_ring_walk w;
    struct afp_ring_frame f;

    (void) state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fspec s = { .next = bad[i], .status = TP_STATUS_USER,
                           .snaplen = 14 };
        uint8_t *b = block_new(SIZE, 3, BD_LEN);

        frame_put(b, SIZE, BD_LEN, &s);
        assert_int_equal(afp_ring_start(&w, b, SIZE), 0);
        expect(&w, &f, AFP_RING_FRAME, BD_LEN);
        check_frame(b, &f, BD_LEN, 14, TP_STATUS_USER);
        assert_int_equal(afp_ring_next(&w, &f), -EINVAL);
        assert_null(f.data);
        expect_end(&w);
        free(b);
    }
}

/* 'tp_next_offset' 0 while 'num_pkts' says more frames: the kernel's mark
 * of the last frame wins; the walk ends after it, without an error (the
 * frame itself is good), and does not come back to the same header. */
static void
test_zero_next_offset(void **state)
{
    struct fspec s = { .next = 0, .status = TP_STATUS_USER, .snaplen = 60 };
    struct fspec after = { .next = 0, .status = TP_STATUS_USER,
                           .snaplen = 60 };
    struct afp_ring_walk w;
    struct afp_ring_frame f;
    uint8_t *b = block_new(SIZE, 3, BD_LEN);

    (void) state;
    frame_put(b, SIZE, BD_LEN, &s);
    frame_put(b, SIZE, BD_LEN + 160, &after);
    assert_int_equal(afp_ring_start(&w, b, SIZE), 0);
    expect(&w, &f, AFP_RING_FRAME, BD_LEN);
    check_frame(b, &f, BD_LEN, 60, TP_STATUS_USER);
    expect_end(&w);
    free(b);
}

/* A frame that does not fit: 'tp_mac' inside the header or its vnet
 * header, 'tp_mac' past the block's end, 'tp_mac' + 'tp_snaplen' one
 * byte past it (or 4 GiB past it).  Each is -EINVAL, and the walk goes on
 * to the next frame, which is good. */
static void
test_bad_mac_snaplen(void **state)
{
    const size_t ofs2 = SIZE - 1024;     /* The second frame's header. */
    const size_t room = SIZE - BD_LEN;   /* Bytes from the first header. */
    static const struct {
        uint16_t mac;
        uint32_t snaplen;
    } bad[] = {
        { 1, 10 },
        { HDR_LEN, 10 },
        { HDR_LEN + VNET_LEN - 1, 10 },
        { SIZE - BD_LEN + 1, 0 },
        { UINT16_MAX, 0 },
        { TP_MAC, SIZE - BD_LEN - TP_MAC + 1 },
        { TP_MAC, UINT32_MAX },
        { HDR_LEN + VNET_LEN, UINT32_MAX - (HDR_LEN + VNET_LEN) + 1 },
    };
    struct fspec s2 = { .next = 0, .status = TP_STATUS_USER, .snaplen = 64 };
    struct afp_ring_walk w;
    struct afp_ring_frame f;

    (void) state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct fspec s = { .next = (uint32_t) (ofs2 - BD_LEN),
                           .status = TP_STATUS_USER, .mac = bad[i].mac,
                           .snaplen = bad[i].snaplen };
        uint8_t *b = block_new(SIZE, 2, BD_LEN);

        frame_put(b, SIZE, BD_LEN, &s);
        frame_put(b, SIZE, ofs2, &s2);
        assert_int_equal(afp_ring_start(&w, b, SIZE), 0);
        expect(&w, &f, -EINVAL, BD_LEN);
        assert_int_equal(f.status, TP_STATUS_USER);
        assert_null(f.data);
        expect(&w, &f, AFP_RING_FRAME, ofs2);
        check_frame(b, &f, ofs2, 64, TP_STATUS_USER);
        expect_end(&w);
        free(b);
    }

    /* At the limit: the frame ends exactly at the block's end, its vnet
     * header right after the frame header. */
    {
        struct fspec s = { .next = 0, .status = TP_STATUS_USER,
                           .mac = HDR_LEN + VNET_LEN,
                           .snaplen = (uint32_t) (room - HDR_LEN - VNET_LEN) };
        uint8_t *b = block_new(SIZE, 1, BD_LEN);

        frame_put(b, SIZE, BD_LEN, &s);
        assert_int_equal(afp_ring_start(&w, b, SIZE), 0);
        expect(&w, &f, AFP_RING_FRAME, BD_LEN);
        assert_ptr_equal(f.data, b + BD_LEN + HDR_LEN + VNET_LEN);
        assert_ptr_equal(f.data + f.len, b + SIZE);
        expect_end(&w);
        free(b);
    }
}

/* A frame the ring cut short ('tp_snaplen' < 'tp_len': larger than a
 * block), or whose lengths otherwise disagree: -EMSGSIZE, and the walk
 * goes on. */
static void
test_cut_short(void **state)
{
    static const uint32_t lens[][2] = {     /* snaplen, len */
        { 1000, 70000 }, { 1000, 1001 }, { 0, 1 }, { 1000, 999 },
    };
    struct fspec s2 = { .next = 0, .status = TP_STATUS_USER, .snaplen = 64 };
    struct afp_ring_walk w;
    struct afp_ring_frame f;

    (void) state;
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        struct fspec s = { .next = 2048, .status = TP_STATUS_USER,
                           .snaplen = lens[i][0], .len = lens[i][1] };
        uint8_t *b = block_new(SIZE, 2, BD_LEN);

        frame_put(b, SIZE, BD_LEN, &s);
        frame_put(b, SIZE, BD_LEN + 2048, &s2);
        assert_int_equal(afp_ring_start(&w, b, SIZE), 0);
        expect(&w, &f, -EMSGSIZE, BD_LEN);
        assert_null(f.data);
        expect(&w, &f, AFP_RING_FRAME, BD_LEN + 2048);
        check_frame(b, &f, BD_LEN + 2048, 64, TP_STATUS_USER);
        expect_end(&w);
        free(b);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frames),
        cmocka_unit_test(test_vlan),
        cmocka_unit_test(test_hole),
        cmocka_unit_test(test_empty_and_count),
        cmocka_unit_test(test_bad_first_offset),
        cmocka_unit_test(test_bad_next_offset),
        cmocka_unit_test(test_zero_next_offset),
        cmocka_unit_test(test_bad_mac_snaplen),
        cmocka_unit_test(test_cut_short),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
