/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for weird's message handling: the generic-netlink server
 * (src/genl: dispatch, policies, the five families, dumps, errors,
 * notifications, upcall messages), fed datagrams as a client would send
 * them on the control socket.
 *
 * Input layout:
 *
 *   byte 0      options of the sending connection: bit 0 NETLINK_EXT_ACK,
 *               bit 1 NETLINK_CAP_ACK, bit 2 a small receive buffer (4 KiB)
 *               on the listener, bit 3 sync markers, bit 4 the smallest
 *               receive buffer on the sender (its replies then overflow)
 *   then        records: a 2-byte big-endian length N (cut to what the
 *               input holds) and N bytes, one datagram each, for
 *               connection A (pid 100)
 *
 * A second connection B (pid 200) is a member of every multicast group and
 * reads nothing until the end, so notifications pile up and overflow.
 *
 * The harness keeps one server for the whole run with a datapath "fz0"
 * (dummy local port, made-up ifindex) with two dummy ports, re-made
 * before an input if an earlier one deleted them.  So that the
 * fuzzer does not have to guess that ifindex, an ovs_header dp_ifindex of
 * 1 in an OVS family message is replaced by fz0's before the datagram is
 * handed over (0 and other values stay as they are).  After each input,
 * datapaths other than fz0 are destroyed and both connections closed, so
 * inputs do not pile up state.
 *
 * Besides the sanitizers, the target checks what a client relies on and
 * aborts if it breaks: every datagram weird sends is a whole number of
 * well-formed netlink messages (lengths within the datagram, at least a
 * header), each with the pid of its connection or 0 (any pid for the
 * listener's notifications), NLMSG_ERROR
 * payloads at least a struct nlmsgerr, and a dump ends (a bounded number
 * of output calls drains everything); what one datagram makes the server
 * queue for its sender stays within the sender's reply budget plus one
 * dump part; and with sync markers on, each datagram gets exactly one. */

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/openvswitch.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "genl/genl-private.h"
#include "genl/genl.h"
#include "lib/errbuf.h"
#include "lib/rcu.h"
#include "weir/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct genl_server *srv;
static struct genl_dp *fz0;

/* 'pid' is the connection's, or UINT32_MAX for a group member, whose
 * notifications carry the pid of the request that caused them. */
static void
check_dgram(const uint8_t *d, size_t len, uint32_t pid)
{
    size_t off = 0;

    if (len < NLMSG_HDRLEN) {
        abort();
    }
    while (off < len) {
        struct nlmsghdr nlh;

        if (len - off < NLMSG_HDRLEN) {
            abort();
        }
        memcpy(&nlh, d + off, sizeof nlh);
        if (nlh.nlmsg_len < NLMSG_HDRLEN || nlh.nlmsg_len > len - off) {
            abort();
        }
        if (pid != UINT32_MAX && nlh.nlmsg_pid != pid
            && nlh.nlmsg_pid != 0) {
            abort();
        }
        if (nlh.nlmsg_type == NLMSG_ERROR
            && nlh.nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
            abort();
        }
        off += NLMSG_ALIGN(nlh.nlmsg_len);
        if (off > len) {
            /* The last message's padding may be cut by the datagram. */
            break;
        }
    }
}

/* Drains 'conn', checking every datagram.  Returns the number of sync
 * markers.  Aborts if it never ends. */
static int
drain(struct genl_conn *conn, uint32_t pid)
{
    int syncs = 0;

    for (int i = 0; i < 1000000; i++) {
        const void *d;
        size_t len;

        switch (genl_conn_output(conn, &d, &len)) {
        case GENL_OUT_NONE:
            return syncs;
        case GENL_OUT_DGRAM:
            check_dgram(d, len, pid);
            break;
        case GENL_OUT_SYNC:
            syncs++;
            break;
        }
        genl_conn_output_pop(conn);
    }
    abort();
}

/* Makes sure datapath fz0 and its two ports exist (an input may have
 * deleted them). */
static void
ensure_fz0(void)
{
    struct errbuf err;

    fz0 = genl_dp_by_name(srv, "fz0");
    if (!fz0 && genl_server_dp_create(srv, "fz0", 0, &err)) {
        fprintf(stderr, "fuzz-genl: setup: %s\n", err.msg);
        abort();
    }
    fz0 = genl_dp_by_name(srv, "fz0");
    for (uint32_t i = 1; i <= 2; i++) {
        char name[16];
        uint32_t port_no = i;

        if (genl_dp_vport(fz0, i)) {
            continue;
        }
        snprintf(name, sizeof name, "fzp%u", (unsigned) i);
        if (genl_server_port_add(srv, "fz0", name, "dummy", NULL, &port_no,
                                 &err)) {
            /* The number or name may be taken by an input's port: fine,
             * the fuzzer sees whatever is there. */
            continue;
        }
    }
}

static void
setup(void)
{
    struct genl_config cfg = {
        .local_type = "dummy",
        .pmd_threads = 1,
    };
    struct errbuf err;

    qsbr_register();
    srv = genl_server_create(&cfg, &err);
    if (!srv) {
        fprintf(stderr, "fuzz-genl: setup: %s\n", err.msg);
        abort();
    }
}

/* Patches dp_ifindex 1 to fz0's in the OVS family messages of 'buf'. */
static void
patch_ifindex(uint8_t *buf, size_t len)
{
    size_t off = 0;

    while (len - off >= NLMSG_HDRLEN + GENL_HDRLEN + 4) {
        struct nlmsghdr nlh;
        uint32_t ifindex;

        memcpy(&nlh, buf + off, sizeof nlh);
        if (nlh.nlmsg_len < NLMSG_HDRLEN || nlh.nlmsg_len > len - off) {
            return;
        }
        if (nlh.nlmsg_type >= GENL_FAMILY_ID_DATAPATH
            && nlh.nlmsg_type <= GENL_FAMILY_ID_CT_LIMIT
            && nlh.nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN + 4) {
            uint8_t *p = buf + off + NLMSG_HDRLEN + GENL_HDRLEN;

            memcpy(&ifindex, p, 4);
            /* An earlier message of this input may have deleted fz0. */
            fz0 = genl_dp_by_name(srv, "fz0");
            if (ifindex == 1 && fz0) {
                memcpy(p, &fz0->ifindex, 4);
            }
        }
        off += NLMSG_ALIGN(nlh.nlmsg_len);
        if (off >= len) {
            return;
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[65536];
    struct genl_conn *a, *b;
    size_t most;
    uint8_t opts;

    if (!srv) {
        setup();
    }
    ensure_fz0();
    if (!size) {
        return 0;
    }
    opts = data[0];
    data++;
    size--;

    a = genl_conn_create(srv, NULL, NULL);
    b = genl_conn_create(srv, NULL, NULL);
    if (!a || !b || genl_conn_bind(a, 100, 0) || genl_conn_bind(b, 200, 0)) {
        abort();
    }
    genl_conn_setsockopt(a, WEIR_SOCK_EXT_ACK, opts & 1);
    genl_conn_setsockopt(a, WEIR_SOCK_CAP_ACK, (opts >> 1) & 1);
    genl_conn_set_sync(a, opts & 8);
    if (opts & 4) {
        genl_conn_setsockopt(b, WEIR_SOCK_RCVBUF, 4096);
    }
    if (opts & 16) {
        genl_conn_setsockopt(a, WEIR_SOCK_RCVBUF, 0);
    }
    /* The reply budget (at least two doit replies, else the receive
     * buffer: 212992 by default), one dump part, one NLMSG_OVERRUN. */
    most = (opts & 16 ? 2 * GENL_REPLY_SIZE : 212992)
           + GENL_DUMP_DGRAM_SIZE + NLMSG_ALIGN(NLMSG_HDRLEN + 4);
    for (uint32_t g = 1; g <= 32; g++) {
        genl_conn_setsockopt(b, WEIR_SOCK_ADD_MEMBERSHIP, g);
    }

    while (size >= 2) {
        size_t n = (size_t) data[0] << 8 | data[1];

        data += 2;
        size -= 2;
        if (n > size) {
            n = size;
        }
        memcpy(buf, data, n);
        patch_ifindex(buf, n);
        genl_conn_input(a, buf, n);
        if (genl_conn_queued(a) > most
            || drain(a, genl_conn_pid(a)) != ((opts & 8) ? 1 : 0)) {
            abort();
        }
        data += n;
        size -= n;
    }
    drain(b, UINT32_MAX);
    genl_conn_destroy(a);
    genl_conn_destroy(b);

    /* Back to one datapath. */
    fz0 = genl_dp_by_name(srv, "fz0");
    for (struct genl_dp *gdp = genl_dp_next(srv, NULL), *next; gdp;
         gdp = next) {
        next = genl_dp_next(srv, gdp);
        if (gdp != fz0) {
            genl_dp_destroy(srv, gdp);
        }
    }
    qsbr_quiesce();
    return 0;
}
