/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for what the netlink dpif provider decodes from weird: the
 * framing, NLMSG_ERROR (with extended ACK) and NLMSG_DONE parsing of
 * dpif/nl-client.c, as its transactions, dumps and non-blocking receives
 * meet them, and the provider's reply decoders
 * (dpif-netlink-private.h: dpif_netlink_parse_dp(), _parse_vport(),
 * _parse_flow()).
 *
 * Input layout:
 *
 *   byte 0      what the client does: 0 a transaction (nlc_transact()),
 *               1 a whole dump (nlc_dump_all()), 2 non-blocking receives
 *               (nlc_recv_nb()), 3 a dump read part by part
 *               (nlc_dump_start(), nlc_dump_recv(), nlc_dump_next_msg())
 *               (the byte is taken modulo 4)
 *   then        records: a 2-byte little-endian length N (cut to what the
 *               input holds) and N bytes, one datagram each that "weird"
 *               sends, at most 8
 *
 * Each input gets a connection of its own: one end of a socketpair plays
 * weird (HELLO answered with port id FUZZ_PID), the client's request has
 * sequence number 1.  After the records the harness sends what ends the
 * call (an ACK, or NLMSG_DONE, for sequence number 1), so a call returns
 * without waiting for its timeout (set short anyway).
 *
 * Every message of every datagram that frames well, and every data
 * message the client hands to its callbacks, also goes to the three
 * provider decoders (with its own type as the family id).  Besides the
 * sanitizers, the target checks what callers rely on and aborts if it
 * breaks: calls return 0 or a negative errno (never a positive number but
 * a receive's length); a decoded name is NUL-terminated inside its field;
 * a decoded flow's key, mask and actions lie inside the message; a
 * receive's length is within its buffer. */

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dpif/dpif-netlink-private.h"
#include "dpif/nl-client.h"
#include "weir/control.h"
#include "weir/dpif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_PID 4242
#define FUZZ_FAMILY 0x20
#define FUZZ_MAX_DGRAMS 8
#define FUZZ_TIMEOUT_MS 50

/* Aborts unless [p, p + len) lies inside [base, base + size). */
static void
check_inside(const void *p, size_t len, const void *base, size_t size)
{
    const uint8_t *a = p, *b = base;

    if (!p) {
        if (len) {
            abort();
        }
        return;
    }
    if (a < b || len > size || (size_t) (a - b) > size - len) {
        abort();
    }
}

/* Runs the provider's decoders on message 'nlh' (whole, framing
 * checked). */
static void
decode_all(const struct nlmsghdr *nlh)
{
    struct dpn_dp_reply dp = { .family = nlh->nlmsg_type };
    struct dpn_vport_reply vp = { .family = nlh->nlmsg_type };
    struct dpif_flow flow;
    uint32_t ifindex;
    uint8_t cmd;

    if (!dpif_netlink_parse_dp(nlh, &dp)
        && !memchr(dp.name, '\0', sizeof dp.name)) {
        abort();
    }
    if (!dpif_netlink_parse_vport(nlh, &vp)
        && (!memchr(vp.port.name, '\0', sizeof vp.port.name)
            || !memchr(vp.port.type, '\0', sizeof vp.port.type)
            || !memchr(vp.port.options, '\0', sizeof vp.port.options))) {
        abort();
    }
    if (!dpif_netlink_parse_flow(nlh, nlh->nlmsg_type, &cmd, &ifindex,
                                 &flow)) {
        check_inside(flow.key, flow.key_len, nlh, nlh->nlmsg_len);
        check_inside(flow.mask, flow.mask_len, nlh, nlh->nlmsg_len);
        check_inside(flow.actions, flow.actions_len, nlh, nlh->nlmsg_len);
        if (flow.ufid.len > DPIF_UFID_LEN || (!flow.key && !flow.ufid.len)) {
            abort();
        }
    }
}

/* Decodes every message of datagram 'buf' ('len' bytes) that frames. */
static void
decode_dgram(const void *buf, size_t len)
{
    const struct nlmsghdr *nlh;
    size_t off = 0;

    while (nlc_next_msg(buf, len, &off, &nlh) > 0) {
        check_inside(nlh, nlh->nlmsg_len, buf, len);
        decode_all(nlh);
    }
}

static int
reply_cb(const struct nlmsghdr *nlh, void *aux)
{
    int *n = aux;

    (*n)++;
    decode_all(nlh);
    return 0;
}

static void
check_result(int r)
{
    if (r > 0 || r < -4095) {
        abort();
    }
}

/* Sends the message 'type' for sequence number 1 with a 4-byte payload
 * 'error' (NLMSG_DONE), or an ACK (NLMSG_ERROR) that ends a call. */
static void
send_end(int fd, uint16_t type)
{
    struct {
        struct nlmsghdr nlh;
        struct nlmsgerr err;
    } m;

    memset(&m, 0, sizeof m);
    m.nlh.nlmsg_type = type;
    m.nlh.nlmsg_seq = 1;
    m.nlh.nlmsg_pid = FUZZ_PID;
    if (type == NLMSG_DONE) {
        m.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(int32_t));
        m.nlh.nlmsg_flags = NLM_F_MULTI;
    } else {
        m.nlh.nlmsg_len = NLMSG_LENGTH(sizeof m.err);
        m.nlh.nlmsg_flags = NLM_F_CAPPED;
        m.err.msg.nlmsg_len = NLMSG_HDRLEN;
        m.err.msg.nlmsg_seq = 1;
    }
    (void) send(fd, &m, m.nlh.nlmsg_len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Opens a client over a socketpair; '*srv' is weird's end. */
static struct nlc_sock *
open_client(int *srv)
{
    struct {
        struct nlmsghdr nlh;
        struct weir_hello hello;
    } h;
    struct nlc_sock *sock;
    uint8_t junk[512];
    int sv[2];

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
        abort();
    }
    memset(&h, 0, sizeof h);
    h.nlh.nlmsg_len = sizeof h;
    h.nlh.nlmsg_type = WEIR_NLMSG_HELLO;
    h.hello.version = WEIR_HELLO_VERSION;
    h.hello.pid = FUZZ_PID;
    if (send(sv[1], &h, sizeof h, 0) != (ssize_t) sizeof h
        || nlc_open_fd(sv[0], &sock)
        || nlc_set_timeout(sock, FUZZ_TIMEOUT_MS)) {
        abort();
    }
    /* The HELLO and socket options the client sent. */
    while (recv(sv[1], junk, sizeof junk, MSG_DONTWAIT) > 0) {
        continue;
    }
    *srv = sv[1];
    return sock;
}

/* A request of family FUZZ_FAMILY in 'buf'. */
static struct nlmsghdr *
make_request(uint64_t *buf, size_t size)
{
    struct nlmsghdr *nlh = nlc_msg_start(buf, size, FUZZ_FAMILY, 0, 1, 1, 4,
                                         NULL);

    if (!nlh) {
        abort();
    }
    return nlh;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t *rbuf;
    uint64_t req[16];
    struct nlc_sock *sock;
    size_t off = 1;
    int mode, srv, n = 0, r;

    if (!rbuf) {
        rbuf = malloc(NLC_RECV_SIZE);
        if (!rbuf) {
            abort();
        }
    }
    if (!size) {
        return 0;
    }
    mode = data[0] % 4;
    sock = open_client(&srv);

    /* Mode 3 sends its request before weird's datagrams arrive, as a
     * flow dump does. */
    {
        struct nlc_dump dump;

        if (mode == 3 && nlc_dump_start(sock, make_request(req, sizeof req),
                                        &dump)) {
            abort();
        }
        for (int i = 0; i < FUZZ_MAX_DGRAMS && size - off >= 2; i++) {
            size_t len = (size_t) data[off] | (size_t) data[off + 1] << 8;

            off += 2;
            if (len > size - off) {
                len = size - off;
            }
            /* Aligned, as a receive buffer is, for the decoders. */
            memcpy(rbuf, data + off, len);
            decode_dgram(rbuf, len);
            (void) send(srv, data + off, len, MSG_DONTWAIT | MSG_NOSIGNAL);
            off += len;
        }
        switch (mode) {
        case 0:
            send_end(srv, NLMSG_ERROR);
            r = nlc_transact(sock, make_request(req, sizeof req), reply_cb,
                             &n);
            check_result(r);
            break;
        case 1:
            send_end(srv, NLMSG_DONE);
            r = nlc_dump_all(sock, make_request(req, sizeof req), reply_cb,
                             &n);
            check_result(r);
            break;
        case 2:
            for (int i = 0; i <= FUZZ_MAX_DGRAMS; i++) {
                r = nlc_recv_nb(sock, rbuf, NLC_RECV_SIZE);
                if (r > NLC_RECV_SIZE) {
                    abort();
                }
                if (r > 0) {
                    decode_dgram(rbuf, (size_t) r);
                } else {
                    check_result(r);
                }
            }
            break;
        default:
            send_end(srv, NLMSG_DONE);
            for (int i = 0; i <= FUZZ_MAX_DGRAMS + 1; i++) {
                const struct nlmsghdr *nlh;
                size_t at = 0;

                r = nlc_dump_recv(&dump, rbuf, NLC_RECV_SIZE);
                if (r > NLC_RECV_SIZE) {
                    abort();
                }
                if (r <= 0) {
                    check_result(r);
                    if (!dump.done || (r < 0 && dump.status != r)) {
                        abort();
                    }
                    break;
                }
                while ((nlh = nlc_dump_next_msg(&dump, rbuf, (size_t) r,
                                                &at))) {
                    if (nlh->nlmsg_pid != FUZZ_PID || nlh->nlmsg_seq != 1) {
                        abort();
                    }
                    check_inside(nlh, nlh->nlmsg_len, rbuf, (size_t) r);
                    decode_all(nlh);
                }
            }
            break;
        }
    }
    nlc_close(sock);
    close(srv);
    return 0;
}
