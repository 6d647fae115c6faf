/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for dpif/nl-client.c: the client's side of weird's control
 * socket, against a socketpair whose other end the test plays as weird.
 * Answers are queued before the call that reads them (the client blocks
 * until they arrive; a missing answer would hit NLC_TIMEOUT_MS).  Most
 * tests feed malformed answers and expect -EPROTO, a reason, and no
 * crash (ASan/UBSan watch every read).
 *
 * The last group runs the netlink dpif provider (dpif-netlink.c) against
 * a fake weird on a thread, which answers well enough to open a datapath
 * and then sends malformed flow, port, datapath and upcall messages: the
 * provider's own decoders must refuse them the same way. */

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/openvswitch.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>

#include "dpif/nl-client.h"
#include "weir/control.h"
#include "weir/dpif.h"

#include "test-util.h"

#define TEST_PID 4321
#define TEST_FAMILY 0x20

/* One datagram from "weird", built message by message. */
struct dgram {
    uint8_t buf[8192];
    size_t len;
};

struct fixture {
    struct nlc_sock *sock;
    int srv;                    /* weird's end. */
    uint32_t seq;               /* The client's next sequence number. */
};

/* Appends a message addressed to the client (port id TEST_PID, as weird
 * addresses replies); returns it.  'plen' payload bytes from 'payload'
 * (NULL: zeroes). */
static struct nlmsghdr *
dg_put(struct dgram *d, uint16_t type, uint16_t flags, uint32_t seq,
       const void *payload, size_t plen)
{
    struct nlmsghdr *nlh = (struct nlmsghdr *) (d->buf + d->len);

    assert_true(d->len + NLMSG_SPACE(plen) <= sizeof d->buf);
    memset(nlh, 0, NLMSG_SPACE(plen));
    nlh->nlmsg_len = NLMSG_LENGTH(plen);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    nlh->nlmsg_seq = seq;
    nlh->nlmsg_pid = TEST_PID;
    if (payload) {
        memcpy(NLMSG_DATA(nlh), payload, plen);
    }
    d->len += NLMSG_SPACE(plen);
    return nlh;
}

/* Appends an ACK (error 0) or an error, capped, with an extack message
 * if 'text' is not NULL. */
static void
dg_put_error(struct dgram *d, uint32_t seq, int error, const char *text)
{
    uint8_t payload[512];
    struct nlmsgerr e;
    size_t len = sizeof e;

    memset(&e, 0, sizeof e);
    e.error = error;
    e.msg.nlmsg_len = NLMSG_HDRLEN;
    e.msg.nlmsg_seq = seq;
    memcpy(payload, &e, sizeof e);
    if (text) {
        struct nlattr *a = (struct nlattr *) (payload + len);
        size_t tlen = strlen(text) + 1;

        a->nla_type = NLMSGERR_ATTR_MSG;
        a->nla_len = NLA_HDRLEN + tlen;
        memcpy(a + 1, text, tlen);
        len += NLA_ALIGN(a->nla_len);
    }
    dg_put(d, NLMSG_ERROR,
           NLM_F_CAPPED | (text ? NLM_F_ACK_TLVS : 0), seq, payload, len);
}

static void
dg_send(int fd, const struct dgram *d)
{
    assert_int_equal(send(fd, d->buf, d->len, 0), (ssize_t) d->len);
}

static void
raw_send(int fd, const void *p, size_t len)
{
    assert_int_equal(send(fd, p, len, 0), (ssize_t) len);
}

/* Reads and discards what the client sent. */
static void
drain(int fd)
{
    uint8_t buf[70000];

    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0) {
        continue;
    }
}

static void
queue_hello(int fd, uint32_t pid, int32_t error, uint32_t version)
{
    struct weir_hello h = { .version = version, .pid = pid,
                            .error = error };
    struct dgram d = { .len = 0 };

    dg_put(&d, WEIR_NLMSG_HELLO, 0, 0, &h, sizeof h);
    dg_send(fd, &d);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    int sv[2];

    assert_non_null(f);
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    f->srv = sv[1];
    queue_hello(f->srv, TEST_PID, 0, WEIR_HELLO_VERSION);
    assert_int_equal(nlc_open_fd(sv[0], &f->sock), 0);
    drain(f->srv);
    f->seq = 1;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    nlc_close(f->sock);
    close(f->srv);
    free(f);
    return 0;
}

/* A request of family TEST_FAMILY, command 1, in 'buf'. */
static struct nlmsghdr *
request(uint64_t *buf, size_t size)
{
    struct nlmsghdr *nlh = nlc_msg_start(buf, size, TEST_FAMILY, 0, 1, 1, 4,
                                         NULL);

    assert_non_null(nlh);
    assert_true(mnl_attr_put_u32_check(nlh, size, 1, 7));
    return nlh;
}

static int n_replies;

static int
count_reply(const struct nlmsghdr *nlh, void *aux)
{
    uint8_t cmd;

    (void) aux;
    n_replies++;
    return nlc_parse_genl(nlh, TEST_FAMILY, 4, &cmd, NULL);
}

/* Queues 'd', runs one transaction, returns its result. */
static int
transact_with(struct fixture *f, const struct dgram *d)
{
    uint64_t buf[32];
    int r;

    if (d) {
        dg_send(f->srv, d);
    }
    r = nlc_transact(f->sock, request(buf, sizeof buf), count_reply, NULL);
    f->seq++;
    drain(f->srv);
    return r;
}

/* ---- HELLO. ---- */

static int
open_with_hello(const void *answer, size_t len)
{
    struct nlc_sock *sock = NULL;
    int sv[2];
    int r;

    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    if (answer) {
        raw_send(sv[1], answer, len);
    } else {
        shutdown(sv[1], SHUT_WR);
    }
    r = nlc_open_fd(sv[0], &sock);
    if (!r) {
        nlc_close(sock);
    } else {
        assert_null(sock);
    }
    close(sv[1]);
    return r;
}

static void
test_hello(void **state)
{
    struct dgram d = { .len = 0 };
    struct weir_hello h = { .version = WEIR_HELLO_VERSION, .pid = 99 };
    struct nlmsghdr *nlh;
    uint8_t buf[256];
    int sv[2];
    struct nlc_sock *sock;

    (void) state;
    /* The good case, and what the client sent: HELLO, then one SOCKOPT
     * datagram per option. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    queue_hello(sv[1], 99, 0, WEIR_HELLO_VERSION);
    assert_int_equal(nlc_open_fd(sv[0], &sock), 0);
    assert_int_equal(nlc_pid(sock), 99);
    assert_int_equal(recv(sv[1], buf, sizeof buf, 0),
                     NLMSG_HDRLEN + sizeof(struct weir_hello));
    nlh = (struct nlmsghdr *) buf;
    assert_int_equal(nlh->nlmsg_type, WEIR_NLMSG_HELLO);
    memcpy(&h, NLMSG_DATA(nlh), sizeof h);
    assert_int_equal(h.version, WEIR_HELLO_VERSION);
    assert_int_equal(h.pid, 0);
    for (int i = 0; i < 2; i++) {
        struct weir_sockopt so;

        assert_int_equal(recv(sv[1], buf, sizeof buf, 0),
                         NLMSG_HDRLEN + sizeof so);
        assert_int_equal(nlh->nlmsg_type, WEIR_NLMSG_SOCKOPT);
        memcpy(&so, NLMSG_DATA(nlh), sizeof so);
        assert_int_equal(so.op, i ? WEIR_SOCK_CAP_ACK : WEIR_SOCK_EXT_ACK);
        assert_int_equal(so.value, 1);
    }
    nlc_close(sock);
    close(sv[1]);

    /* Refused. */
    h = (struct weir_hello) { .version = WEIR_HELLO_VERSION,
                              .error = -EADDRINUSE };
    dg_put(&d, WEIR_NLMSG_HELLO, 0, 0, &h, sizeof h);
    assert_int_equal(open_with_hello(d.buf, d.len), -EADDRINUSE);
    assert_non_null(strstr(dpif_last_error(), "refused"));

    /* Malformed answers. */
    assert_int_equal(open_with_hello(d.buf, 8), -EPROTO);
    assert_int_equal(open_with_hello(d.buf, NLMSG_HDRLEN + 4), -EPROTO);
    d.len = 0;
    h = (struct weir_hello) { .version = 7, .pid = 5 };
    dg_put(&d, WEIR_NLMSG_HELLO, 0, 0, &h, sizeof h);
    assert_int_equal(open_with_hello(d.buf, d.len), -EPROTO);
    d.len = 0;
    h = (struct weir_hello) { .version = WEIR_HELLO_VERSION, .pid = 0 };
    dg_put(&d, WEIR_NLMSG_HELLO, 0, 0, &h, sizeof h);
    assert_int_equal(open_with_hello(d.buf, d.len), -EPROTO);
    d.len = 0;
    h = (struct weir_hello) { .version = WEIR_HELLO_VERSION, .error = 77777 };
    dg_put(&d, WEIR_NLMSG_HELLO, 0, 0, &h, sizeof h);
    assert_int_equal(open_with_hello(d.buf, d.len), -EPROTO);
    d.len = 0;
    h = (struct weir_hello) { .version = WEIR_HELLO_VERSION, .pid = 5 };
    dg_put(&d, NLMSG_ERROR, 0, 0, &h, sizeof h);    /* Not a HELLO. */
    assert_int_equal(open_with_hello(d.buf, d.len), -EPROTO);
    /* weird hangs up. */
    assert_int_equal(open_with_hello(NULL, 0), -ECONNRESET);
}

static void
test_open_no_weird(void **state)
{
    struct nlc_sock *sock = NULL;

    (void) state;
    dpif_set_control_path("/nonexistent/weir-test/weird.sock");
    assert_int_equal(nlc_open(&sock), -ENOENT);
    assert_null(sock);
    assert_non_null(strstr(dpif_last_error(), "cannot connect"));
    dpif_set_control_path(NULL);
}

/* ---- Transactions. ---- */

static void
test_ack_and_error(void **state)
{
    struct fixture *f = *state;
    struct dgram d = { .len = 0 };
    uint8_t genl[GENL_HDRLEN + 4] = { 1, 1 };

    dg_put_error(&d, f->seq, 0, NULL);
    assert_int_equal(transact_with(f, &d), 0);

    d.len = 0;
    dg_put_error(&d, f->seq, -ENOENT, "no such flow, really");
    assert_int_equal(transact_with(f, &d), -ENOENT);
    assert_string_equal(dpif_last_error(), "no such flow, really");

    /* A reply, then the ACK, in two datagrams as weird sends them. */
    n_replies = 0;
    d.len = 0;
    dg_put(&d, TEST_FAMILY, 0, f->seq, genl, sizeof genl);
    dg_send(f->srv, &d);
    d.len = 0;
    dg_put_error(&d, f->seq, 0, NULL);
    assert_int_equal(transact_with(f, &d), 0);
    assert_int_equal(n_replies, 1);

    /* Stale answers (an earlier seq), a notification (seq 0) and a
     * NOOP are skipped. */
    d.len = 0;
    dg_put_error(&d, f->seq - 1, -EINVAL, "stale");
    dg_put(&d, TEST_FAMILY, 0, 0, genl, sizeof genl);
    dg_put(&d, NLMSG_NOOP, 0, f->seq, NULL, 0);
    dg_put_error(&d, f->seq, 0, NULL);
    n_replies = 0;
    assert_int_equal(transact_with(f, &d), 0);
    assert_int_equal(n_replies, 0);

    /* An uncapped error that echoes the request, then extack. */
    {
        uint8_t payload[256];
        struct nlmsgerr e = { .error = -EEXIST };
        struct nlattr *a;
        size_t len;

        e.msg.nlmsg_len = NLMSG_HDRLEN + 8;
        memcpy(payload, &e, sizeof e);
        memset(payload + sizeof e, 0xab, 8);
        len = sizeof e + 8;
        a = (struct nlattr *) (payload + len);
        a->nla_type = NLMSGERR_ATTR_MSG;
        a->nla_len = NLA_HDRLEN + 4;
        memcpy(a + 1, "dup", 4);
        len += NLA_HDRLEN + 4;
        d.len = 0;
        dg_put(&d, NLMSG_ERROR, NLM_F_ACK_TLVS, f->seq, payload, len);
        assert_int_equal(transact_with(f, &d), -EEXIST);
        assert_string_equal(dpif_last_error(), "dup");
    }
}

static void
test_batch(void **state)
{
    struct fixture *f = *state;
    uint64_t bufs[3][32];
    struct nlc_txn txns[3];
    struct dgram d = { .len = 0 };
    uint8_t genl[GENL_HDRLEN + 4] = { 1, 1 };
    uint8_t rx[4096];
    const struct nlmsghdr *nlh;
    size_t off = 0;
    int n = 0;

    /* Request 1 fails, request 0 replies, request 2 (the last) ACKs. */
    dg_put(&d, TEST_FAMILY, 0, f->seq, genl, sizeof genl);
    dg_put_error(&d, f->seq + 1, -EEXIST, "exists");
    dg_put_error(&d, f->seq + 2, 0, NULL);
    dg_send(f->srv, &d);
    memset(txns, 0, sizeof txns);
    for (int i = 0; i < 3; i++) {
        txns[i].request = request(bufs[i], sizeof bufs[i]);
        txns[i].reply_cb = count_reply;
    }
    n_replies = 0;
    assert_int_equal(nlc_transact_batch(f->sock, txns, 3), 0);
    assert_int_equal(txns[0].error, 0);
    assert_true(txns[0].replied);
    assert_int_equal(txns[1].error, -EEXIST);
    assert_int_equal(txns[2].error, 0);
    assert_false(txns[2].replied);
    assert_int_equal(n_replies, 1);

    /* They went out as one datagram, with NLM_F_ACK on the last only. */
    assert_int_equal(recv(f->srv, rx, sizeof rx, 0),
                     3 * (int) NLMSG_ALIGN(txns[0].request->nlmsg_len));
    while (nlc_next_msg(rx, 3 * NLMSG_ALIGN(txns[0].request->nlmsg_len),
                        &off, &nlh) > 0) {
        assert_int_equal(nlh->nlmsg_seq, f->seq + n);
        assert_int_equal(nlh->nlmsg_pid, TEST_PID);
        assert_int_equal(!!(nlh->nlmsg_flags & NLM_F_ACK), n == 2);
        n++;
    }
    assert_int_equal(n, 3);
    f->seq += 3;
}

/* Each of these, answering a request, must fail it with -EPROTO. */
static void
test_malformed_replies(void **state)
{
    struct fixture *f = *state;
    struct dgram d;
    struct nlmsghdr *nlh;
    struct nlmsgerr e;
    uint8_t payload[128];
    uint8_t genl[GENL_HDRLEN + 4] = { 1, 1 };

    /* Shorter than a message header. */
    raw_send(f->srv, "\x10\x00\x00", 3);
    assert_int_equal(transact_with(f, NULL), -EPROTO);
    assert_non_null(strstr(dpif_last_error(), "trailing"));

    /* nlmsg_len past the datagram, and below a header. */
    d.len = 0;
    nlh = dg_put(&d, NLMSG_ERROR, 0, f->seq, NULL, sizeof e);
    nlh->nlmsg_len = 4000;
    assert_int_equal(transact_with(f, &d), -EPROTO);
    d.len = 0;
    nlh = dg_put(&d, NLMSG_ERROR, 0, f->seq, NULL, sizeof e);
    nlh->nlmsg_len = 8;
    assert_int_equal(transact_with(f, &d), -EPROTO);

    /* NLMSG_ERROR too short for its struct. */
    d.len = 0;
    dg_put(&d, NLMSG_ERROR, NLM_F_CAPPED, f->seq, NULL, 6);
    assert_int_equal(transact_with(f, &d), -EPROTO);

    /* A positive error, and one beyond any errno. */
    memset(&e, 0, sizeof e);
    e.error = 5;
    d.len = 0;
    dg_put(&d, NLMSG_ERROR, NLM_F_CAPPED, f->seq, &e, sizeof e);
    assert_int_equal(transact_with(f, &d), -EPROTO);
    e.error = -100000;
    d.len = 0;
    dg_put(&d, NLMSG_ERROR, NLM_F_CAPPED, f->seq, &e, sizeof e);
    assert_int_equal(transact_with(f, &d), -EPROTO);

    /* Uncapped, echoing a request longer than what is there. */
    e.error = -EINVAL;
    e.msg.nlmsg_len = 1000;
    d.len = 0;
    dg_put(&d, NLMSG_ERROR, 0, f->seq, &e, sizeof e);
    assert_int_equal(transact_with(f, &d), -EPROTO);
    e.msg.nlmsg_len = 3;        /* Shorter than a header. */
    d.len = 0;
    dg_put(&d, NLMSG_ERROR, 0, f->seq, &e, sizeof e);
    assert_int_equal(transact_with(f, &d), -EPROTO);

    /* Extended ACK TLVs: one running past the message; a message that
     * is not NUL-terminated; a duplicate; 2 trailing bytes. */
    e.msg.nlmsg_len = NLMSG_HDRLEN;
    memcpy(payload, &e, sizeof e);
    {
        struct nlattr *a = (struct nlattr *) (payload + sizeof e);

        a->nla_type = NLMSGERR_ATTR_MSG;
        a->nla_len = 200;
        d.len = 0;
        dg_put(&d, NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, f->seq,
               payload, sizeof e + 8);
        assert_int_equal(transact_with(f, &d), -EPROTO);

        a->nla_len = NLA_HDRLEN + 4;
        memcpy(a + 1, "abcd", 4);
        d.len = 0;
        dg_put(&d, NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, f->seq,
               payload, sizeof e + 8);
        assert_int_equal(transact_with(f, &d), -EPROTO);

        memcpy(a + 1, "abc", 4);
        memcpy(payload + sizeof e + 8, a, 8);
        d.len = 0;
        dg_put(&d, NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, f->seq,
               payload, sizeof e + 16);
        assert_int_equal(transact_with(f, &d), -EPROTO);
        assert_non_null(strstr(dpif_last_error(), "duplicate"));

        d.len = 0;
        dg_put(&d, NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, f->seq,
               payload, sizeof e + 10);
        assert_int_equal(transact_with(f, &d), -EPROTO);
    }

    /* NLMSG_DONE answering a request that is not a dump. */
    d.len = 0;
    dg_put(&d, NLMSG_DONE, 0, f->seq, NULL, 4);
    assert_int_equal(transact_with(f, &d), -EPROTO);

    /* A reply too short for its generic-netlink headers: the callback
     * fails the request, whose ACK still ends it. */
    d.len = 0;
    dg_put(&d, TEST_FAMILY, 0, f->seq, genl, 2);
    dg_put_error(&d, f->seq, 0, NULL);
    assert_int_equal(transact_with(f, &d), -EPROTO);

    /* A datagram bigger than the receive buffer. */
    {
        size_t big = NLC_RECV_SIZE + 64;
        uint8_t *p = calloc(1, big);
        int sz = (int) big * 2;

        assert_non_null(p);
        if (setsockopt(f->srv, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz)
            && setsockopt(f->srv, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz)) {
            fail_msg("cannot grow the send buffer");
        }
        nlh = (struct nlmsghdr *) p;
        nlh->nlmsg_len = big;
        nlh->nlmsg_type = NLMSG_ERROR;
        nlh->nlmsg_seq = f->seq;
        raw_send(f->srv, p, big);
        free(p);
        assert_int_equal(transact_with(f, NULL), -EPROTO);
        assert_non_null(strstr(dpif_last_error(), "does not fit"));
    }

    /* After all that, the socket still works. */
    d.len = 0;
    dg_put_error(&d, f->seq, 0, NULL);
    assert_int_equal(transact_with(f, &d), 0);
}

/* Garbage from a fixed-seed generator, each followed by the right ACK so
 * that no call waits: every call returns 0 or an error, never crashes. */
static void
test_garbage(void **state)
{
    struct fixture *f = *state;
    uint32_t x = 12345;

    for (int i = 0; i < 3000; i++) {
        struct dgram d = { .len = 0 };
        size_t len;
        int r;

        x = x * 1103515245u + 12345u;
        len = 1 + (x >> 8) % 300;
        for (size_t k = 0; k < len; k++) {
            x = x * 1103515245u + 12345u;
            d.buf[k] = (uint8_t) (x >> 16);
        }
        if (len >= NLMSG_HDRLEN && (i & 1)) {
            /* Plausible framing, hostile content. */
            struct nlmsghdr *nlh = (struct nlmsghdr *) d.buf;

            nlh->nlmsg_len = len;
            nlh->nlmsg_seq = f->seq;
            nlh->nlmsg_type = (i & 2) ? NLMSG_ERROR : NLMSG_DONE;
            if (i & 4) {
                nlh->nlmsg_type = TEST_FAMILY;
            }
        }
        d.len = len;
        dg_send(f->srv, &d);
        d.len = 0;
        dg_put_error(&d, f->seq, 0, NULL);
        r = transact_with(f, &d);
        assert_true(r <= 0);
        /* A transaction that failed on the garbage leaves its ACK
         * unread: the next one must skip it (stale seq). */
    }
    {
        struct dgram d = { .len = 0 };

        dg_put_error(&d, f->seq, -ENOSPC, NULL);
        assert_int_equal(transact_with(f, &d), -ENOSPC);
    }
}

static void
test_timeout_and_reset(void **state)
{
    struct fixture *f = *state;

    /* weird goes away: the transaction fails at once. */
    shutdown(f->srv, SHUT_RDWR);
    assert_int_equal(transact_with(f, NULL), -ECONNRESET);
}

/* ---- Dumps. ---- */

static int
collect(const struct nlmsghdr *nlh, void *aux)
{
    int *n = aux;
    uint8_t cmd;
    int r = nlc_parse_genl(nlh, TEST_FAMILY, 4, &cmd, NULL);

    if (!r) {
        (*n)++;
    }
    return r;
}

static void
test_dump(void **state)
{
    struct fixture *f = *state;
    uint8_t genl[GENL_HDRLEN + 4] = { 1, 1 };
    struct dgram d = { .len = 0 };
    uint64_t buf[32];
    int32_t done_err;
    int n = 0;

    /* Two parts of 3 and 2, DONE with 0. */
    for (int i = 0; i < 3; i++) {
        dg_put(&d, TEST_FAMILY, NLM_F_MULTI, f->seq, genl, sizeof genl);
    }
    dg_send(f->srv, &d);
    d.len = 0;
    for (int i = 0; i < 2; i++) {
        dg_put(&d, TEST_FAMILY, NLM_F_MULTI, f->seq, genl, sizeof genl);
    }
    done_err = 0;
    dg_put(&d, NLMSG_DONE, NLM_F_MULTI, f->seq, &done_err, 4);
    dg_send(f->srv, &d);
    assert_int_equal(nlc_dump_all(f->sock, request(buf, sizeof buf),
                                  collect, &n), 0);
    assert_int_equal(n, 5);
    f->seq++;
    drain(f->srv);

    /* DONE carrying an error and its extack text. */
    {
        uint8_t payload[64];
        struct nlattr *a = (struct nlattr *) (payload + 4);

        done_err = -ENODEV;
        memcpy(payload, &done_err, 4);
        a->nla_type = NLMSGERR_ATTR_MSG;
        a->nla_len = NLA_HDRLEN + 7;
        memcpy(a + 1, "no dp!", 7);
        d.len = 0;
        dg_put(&d, NLMSG_DONE, NLM_F_MULTI | NLM_F_ACK_TLVS, f->seq,
               payload, 4 + NLA_ALIGN(a->nla_len));
        dg_send(f->srv, &d);
        n = 0;
        assert_int_equal(nlc_dump_all(f->sock, request(buf, sizeof buf),
                                      collect, &n), -ENODEV);
        assert_string_equal(dpif_last_error(), "no dp!");
        f->seq++;
    }

    /* A DONE of 2 bytes, and a DONE with a positive error. */
    d.len = 0;
    dg_put(&d, NLMSG_DONE, NLM_F_MULTI, f->seq, &done_err, 2);
    dg_send(f->srv, &d);
    assert_int_equal(nlc_dump_all(f->sock, request(buf, sizeof buf),
                                  collect, &n), -EPROTO);
    f->seq++;
    done_err = 3;
    d.len = 0;
    dg_put(&d, NLMSG_DONE, NLM_F_MULTI, f->seq, &done_err, 4);
    dg_send(f->srv, &d);
    assert_int_equal(nlc_dump_all(f->sock, request(buf, sizeof buf),
                                  collect, &n), -EPROTO);
    f->seq++;

    /* A callback failure ends the dump with it, after reading to DONE:
     * an entry whose headers are cut short. */
    d.len = 0;
    dg_put(&d, TEST_FAMILY, NLM_F_MULTI, f->seq, genl, 1);
    dg_put(&d, TEST_FAMILY, NLM_F_MULTI, f->seq, genl, sizeof genl);
    dg_send(f->srv, &d);
    d.len = 0;
    done_err = 0;
    dg_put(&d, NLMSG_DONE, NLM_F_MULTI, f->seq, &done_err, 4);
    dg_send(f->srv, &d);
    n = 0;
    assert_int_equal(nlc_dump_all(f->sock, request(buf, sizeof buf),
                                  collect, &n), -EPROTO);
    assert_int_equal(n, 0);
    f->seq++;

    /* The socket is clean: the next transaction works. */
    d.len = 0;
    dg_put_error(&d, f->seq, 0, NULL);
    assert_int_equal(transact_with(f, &d), 0);
}

static void
test_dump_recv(void **state)
{
    struct fixture *f = *state;
    uint8_t genl[GENL_HDRLEN + 4] = { 1, 1 };
    struct dgram d = { .len = 0 };
    struct nlc_dump dump;
    uint64_t buf[32];
    uint8_t *part = malloc(NLC_RECV_SIZE);
    const struct nlmsghdr *nlh;
    size_t off = 0;
    int32_t zero = 0;
    int len, n = 0;

    assert_non_null(part);
    assert_int_equal(nlc_dump_start(f->sock, request(buf, sizeof buf),
                                    &dump), 0);
    /* Entries of this dump, one of another seq and one with its seq for
     * another port id (both skipped), a DONE for that other port id (not
     * the end), then DONE, in the same datagram. */
    dg_put(&d, TEST_FAMILY, NLM_F_MULTI, dump.seq, genl, sizeof genl);
    dg_put(&d, TEST_FAMILY, NLM_F_MULTI, dump.seq + 9, genl, sizeof genl);
    dg_put(&d, TEST_FAMILY, NLM_F_MULTI, dump.seq, genl,
           sizeof genl)->nlmsg_pid = TEST_PID + 1;
    dg_put(&d, NLMSG_DONE, NLM_F_MULTI, dump.seq, &zero,
           4)->nlmsg_pid = TEST_PID + 1;
    dg_put(&d, TEST_FAMILY, NLM_F_MULTI, dump.seq, genl, sizeof genl);
    dg_put(&d, NLMSG_DONE, NLM_F_MULTI, dump.seq, &zero, 4);
    dg_send(f->srv, &d);
    len = nlc_dump_recv(&dump, part, NLC_RECV_SIZE);
    assert_true(len > 0);
    assert_true(dump.done);
    assert_int_equal(dump.status, 0);
    while ((nlh = nlc_dump_next_msg(&dump, part, len, &off))) {
        assert_int_equal(nlh->nlmsg_type, TEST_FAMILY);
        n++;
    }
    assert_int_equal(n, 2);
    assert_int_equal(nlc_dump_recv(&dump, part, NLC_RECV_SIZE), 0);

    /* Broken framing ends a dump with -EPROTO. */
    assert_int_equal(nlc_dump_start(f->sock, request(buf, sizeof buf),
                                    &dump), 0);
    raw_send(f->srv, "\x30\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00"
             "\x00\x00\x00\x00\x00\x00", 18);
    assert_int_equal(nlc_dump_recv(&dump, part, NLC_RECV_SIZE), -EPROTO);
    assert_true(dump.done);
    assert_int_equal(dump.status, -EPROTO);
    assert_int_equal(nlc_dump_recv(&dump, part, NLC_RECV_SIZE), 0);
    free(part);
}

/* ---- Timeouts. ---- */

static void
test_timeouts(void **state)
{
    struct fixture *f = *state;
    struct dgram d = { .len = 0 };
    char junk[512] = { 0 };
    uint64_t buf[32];
    uint64_t t0;
    int sz = 4096;
    int k = 0;

    assert_int_equal(nlc_set_timeout(f->sock, 0), -EINVAL);
    assert_int_equal(nlc_set_timeout(f->sock, 200), 0);

    /* No answer: -ETIMEDOUT after the timeout, with the reason. */
    t0 = tu_now_ms();
    assert_int_equal(nlc_transact(f->sock, request(buf, sizeof buf), NULL,
                                  NULL), -ETIMEDOUT);
    assert_true(tu_now_ms() - t0 >= 150 && tu_now_ms() - t0 < 5000);
    assert_non_null(strstr(dpif_last_error(), "within 200 ms"));
    f->seq++;
    drain(f->srv);

    /* Its answer comes late: the next call skips it. */
    dg_put_error(&d, f->seq - 1, -EINVAL, "late");
    dg_put_error(&d, f->seq, 0, NULL);
    assert_int_equal(transact_with(f, &d), 0);

    /* weird stops reading: the socket fills up.  A send then fails with
     * -ETIMEDOUT after the timeout instead of blocking for ever. */
    assert_int_equal(setsockopt(nlc_fd(f->sock), SOL_SOCKET, SO_SNDBUF, &sz,
                                sizeof sz), 0);
    while (send(nlc_fd(f->sock), junk, sizeof junk, MSG_DONTWAIT) > 0) {
        k++;
    }
    assert_true(k > 0);
    t0 = tu_now_ms();
    assert_int_equal(nlc_transact(f->sock, request(buf, sizeof buf), NULL,
                                  NULL), -ETIMEDOUT);
    assert_true(tu_now_ms() - t0 >= 150 && tu_now_ms() - t0 < 5000);
    assert_non_null(strstr(dpif_last_error(), "did not take"));
    assert_int_equal(nlc_setsockopt(f->sock, WEIR_SOCK_EXT_ACK, 1),
                     -ETIMEDOUT);
    f->seq++;
}

/* ---- A dump on a shared socket. ---- */

struct shared_call {
    struct nlc_sock *sock;
    bool dump;
    int n;
    int result;
};

static void *
shared_call_main(void *c_)
{
    struct shared_call *c = c_;
    uint64_t buf[32];

    if (c->dump) {
        c->result = nlc_dump_all(c->sock, request(buf, sizeof buf), collect,
                                 &c->n);
    } else {
        c->result = nlc_transact(c->sock, request(buf, sizeof buf), NULL,
                                 NULL);
    }
    return NULL;
}

/* Receives the next request the client sends (waiting up to 5 s) into
 * 'buf'; returns its sequence number. */
static uint32_t
srv_next_request(int fd, uint8_t *buf, size_t size)
{
    const struct nlmsghdr *nlh = (const struct nlmsghdr *) buf;

    assert_true(tu_fd_readable(fd, 5000));
    assert_true(recv(fd, buf, size, 0) >= (ssize_t) NLMSG_HDRLEN);
    return nlh->nlmsg_seq;
}

/* nlc_dump_all() holds the socket from its request to NLMSG_DONE: a
 * transaction of another thread waits for it, and so reads none of the
 * dump's parts as its own. */
static void
test_dump_shared(void **state)
{
    struct fixture *f = *state;
    uint8_t genl[GENL_HDRLEN + 4] = { 1, 1 };
    struct shared_call dump = { .sock = f->sock, .dump = true };
    struct shared_call txn = { .sock = f->sock, .dump = false };
    struct dgram d = { .len = 0 };
    uint8_t rx[4096];
    int32_t zero = 0;
    pthread_t td, tt;
    uint32_t seq;

    assert_int_equal(pthread_create(&td, NULL, shared_call_main, &dump), 0);
    seq = srv_next_request(f->srv, rx, sizeof rx);
    assert_true(((const struct nlmsghdr *) rx)->nlmsg_flags & NLM_F_DUMP);
    assert_int_equal(pthread_create(&tt, NULL, shared_call_main, &txn), 0);
    /* The transaction waits: nothing of it comes while the dump runs. */
    assert_false(tu_fd_readable(f->srv, 200));

    dg_put(&d, TEST_FAMILY, NLM_F_MULTI, seq, genl, sizeof genl);
    dg_put(&d, TEST_FAMILY, NLM_F_MULTI, seq, genl, sizeof genl);
    dg_send(f->srv, &d);
    d.len = 0;
    dg_put(&d, NLMSG_DONE, NLM_F_MULTI, seq, &zero, 4);
    dg_send(f->srv, &d);
    pthread_join(td, NULL);
    assert_int_equal(dump.result, 0);
    assert_int_equal(dump.n, 2);

    /* Then the transaction goes. */
    seq = srv_next_request(f->srv, rx, sizeof rx);
    d.len = 0;
    dg_put_error(&d, seq, 0, NULL);
    dg_send(f->srv, &d);
    pthread_join(tt, NULL);
    assert_int_equal(txn.result, 0);
    f->seq = seq + 1;
}

/* ---- Notifications. ---- */

static void
test_recv_nb(void **state)
{
    struct fixture *f = *state;
    uint8_t genl[GENL_HDRLEN + 4] = { 1, 1 };
    struct dgram d = { .len = 0 };
    uint8_t buf[4096];

    assert_int_equal(nlc_recv_nb(f->sock, buf, sizeof buf), -EAGAIN);

    dg_put(&d, TEST_FAMILY, 0, 0, genl, sizeof genl);
    dg_send(f->srv, &d);
    assert_int_equal(nlc_recv_nb(f->sock, buf, sizeof buf), (int) d.len);

    d.len = 0;
    dg_put(&d, NLMSG_OVERRUN, 0, 0, NULL, 0);
    dg_send(f->srv, &d);
    assert_int_equal(nlc_recv_nb(f->sock, buf, sizeof buf), -ENOBUFS);
    assert_int_equal(nlc_recv_nb(f->sock, buf, sizeof buf), -EAGAIN);

    /* Too big for the caller's buffer; then broken framing. */
    d.len = 0;
    dg_put(&d, TEST_FAMILY, 0, 0, NULL, 200);
    dg_send(f->srv, &d);
    assert_int_equal(nlc_recv_nb(f->sock, buf, 64), -EPROTO);
    raw_send(f->srv, "\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
             "\x00\x00\x00\x00", 16);
    assert_int_equal(nlc_recv_nb(f->sock, buf, sizeof buf), -EPROTO);

    /* An overrun ends a transaction: weird dropped the answers that did
     * not fit, and drops the rest of the datagram's, so a request not yet
     * answered fails with -ENOBUFS instead of waiting for an ACK that
     * will not come.  A late answer is skipped by the next call. */
    d.len = 0;
    dg_put(&d, NLMSG_OVERRUN, 0, 0, NULL, 0);
    assert_int_equal(transact_with(f, &d), -ENOBUFS);
    assert_int_equal(nlc_recv_nb(f->sock, buf, sizeof buf), -EAGAIN);
    d.len = 0;
    dg_put_error(&d, f->seq - 1, 0, NULL);
    dg_put_error(&d, f->seq, 0, NULL);
    assert_int_equal(transact_with(f, &d), 0);

    shutdown(f->srv, SHUT_RDWR);
    assert_int_equal(nlc_recv_nb(f->sock, buf, sizeof buf), -ECONNRESET);
}

/* ---- Families. ---- */

/* Queues an nlctrl answer for 'name' with id 'id' and one group. */
static void
queue_family(struct fixture *f, const char *name, uint16_t id,
             const char *grp, uint32_t grp_id, bool corrupt)
{
    uint64_t buf[128];
    struct nlmsghdr *nlh;
    struct nlattr *grps, *g;
    struct dgram d = { .len = 0 };

    nlh = nlc_msg_start(buf, sizeof buf, GENL_ID_CTRL, 0,
                        CTRL_CMD_NEWFAMILY, 2, 0, NULL);
    assert_non_null(nlh);
    nlh->nlmsg_seq = f->seq;
    assert_true(mnl_attr_put_u16_check(nlh, sizeof buf, CTRL_ATTR_FAMILY_ID,
                                       id));
    assert_true(mnl_attr_put_strz_check(nlh, sizeof buf,
                                        CTRL_ATTR_FAMILY_NAME, name));
    grps = mnl_attr_nest_start_check(nlh, sizeof buf,
                                     CTRL_ATTR_MCAST_GROUPS);
    g = mnl_attr_nest_start_check(nlh, sizeof buf, 1);
    assert_true(mnl_attr_put_u32_check(nlh, sizeof buf,
                                       CTRL_ATTR_MCAST_GRP_ID, grp_id));
    assert_true(mnl_attr_put_strz_check(nlh, sizeof buf,
                                        CTRL_ATTR_MCAST_GRP_NAME, grp));
    mnl_attr_nest_end(nlh, g);
    mnl_attr_nest_end(nlh, grps);
    if (corrupt) {
        g->nla_len = 200;       /* The group entry runs past its nest. */
    }
    memcpy(d.buf, nlh, nlh->nlmsg_len);
    d.len = nlh->nlmsg_len;
    dg_put_error(&d, f->seq, 0, NULL);
    dg_send(f->srv, &d);
}

static void
test_family(void **state)
{
    struct fixture *f = *state;
    struct dgram d = { .len = 0 };
    uint32_t grp = 0;
    uint16_t id = 0;

    /* The fixture's socket has path "": its own cache entries. */
    queue_family(f, "test_fam_a", 0x31, "grp_a", 9, true);
    assert_int_equal(nlc_family(f->sock, "test_fam_a", &id, "grp_a", &grp),
                     -EPROTO);
    f->seq++;
    drain(f->srv);

    queue_family(f, "test_fam_a", 0x31, "grp_a", 9, false);
    assert_int_equal(nlc_family(f->sock, "test_fam_a", &id, "grp_a", &grp),
                     0);
    assert_int_equal(id, 0x31);
    assert_int_equal(grp, 9);
    f->seq++;
    drain(f->srv);

    /* Cached: nothing is asked (nothing is queued either). */
    id = 0;
    assert_int_equal(nlc_family(f->sock, "test_fam_a", &id, NULL, NULL), 0);
    assert_int_equal(id, 0x31);
    assert_int_equal(nlc_family(f->sock, "test_fam_a", &id, "nope", &grp),
                     -EOPNOTSUPP);
    assert_int_equal(recv(f->srv, d.buf, sizeof d.buf, MSG_DONTWAIT), -1);

    /* An answer for another family is refused. */
    queue_family(f, "test_fam_c", 0x33, "g", 1, false);
    assert_int_equal(nlc_family(f->sock, "test_fam_b", &id, NULL, NULL),
                     -EPROTO);
    f->seq++;
    drain(f->srv);

    /* Unknown family. */
    dg_put_error(&d, f->seq, -ENOENT, NULL);
    dg_send(f->srv, &d);
    assert_int_equal(nlc_family(f->sock, "test_fam_d", &id, NULL, NULL),
                     -EOPNOTSUPP);
    f->seq++;
}

/* ---- Attribute parsing. ---- */

static void
test_parse_attrs(void **state)
{
    uint64_t buf[64];
    const struct nlattr *tb[4];
    struct nlmsghdr *nlh;
    struct nlattr *a;
    uint8_t cmd;

    (void) state;
    nlh = nlc_msg_start(buf, sizeof buf, TEST_FAMILY, 0, 3, 1, 4, NULL);
    assert_true(mnl_attr_put_u32_check(nlh, sizeof buf, 1, 0x01010101));
    assert_true(mnl_attr_put_u32_check(nlh, sizeof buf, 9, 1)); /* Unknown */
    assert_true(mnl_attr_put_strz_check(nlh, sizeof buf, 2, "ab"));
    assert_int_equal(nlc_parse_genl(nlh, TEST_FAMILY, 4, &cmd, NULL), 0);
    assert_int_equal(cmd, 3);
    assert_int_equal(nlc_parse_attrs(nlh, 4, tb, 3), 0);
    assert_non_null(tb[1]);
    assert_non_null(tb[2]);
    assert_null(tb[3]);
    assert_true(nlc_attr_len_ok(tb[1], 4, "x"));
    assert_false(nlc_attr_len_ok(tb[1], 8, "x"));
    assert_true(nlc_attr_str_ok(tb[2], 16, "s"));
    assert_false(nlc_attr_str_ok(tb[2], 2, "s"));
    assert_false(nlc_attr_str_ok(tb[1], 16, "s"));   /* No NUL. */

    /* Wrong family; headers cut. */
    assert_int_equal(nlc_parse_genl(nlh, TEST_FAMILY + 1, 4, &cmd, NULL),
                     -EPROTO);
    assert_int_equal(nlc_parse_genl(nlh, TEST_FAMILY, 400, &cmd, NULL),
                     -EPROTO);

    /* Duplicate. */
    assert_true(mnl_attr_put_u32_check(nlh, sizeof buf, 1, 2));
    assert_int_equal(nlc_parse_attrs(nlh, 4, tb, 3), -EPROTO);
    assert_non_null(strstr(dpif_last_error(), "duplicate"));

    /* An attribute running past the message, and one shorter than its
     * header. */
    nlh = nlc_msg_start(buf, sizeof buf, TEST_FAMILY, 0, 3, 1, 4, NULL);
    assert_true(mnl_attr_put_u32_check(nlh, sizeof buf, 1, 1));
    a = (struct nlattr *) ((uint8_t *) nlh + NLMSG_HDRLEN + GENL_HDRLEN + 4);
    a->nla_len = 64;
    assert_int_equal(nlc_parse_attrs(nlh, 4, tb, 3), -EPROTO);
    a->nla_len = 2;
    assert_int_equal(nlc_parse_attrs(nlh, 4, tb, 3), -EPROTO);
    /* 2 trailing bytes. */
    a->nla_len = 8;
    nlh->nlmsg_len += 2;
    assert_int_equal(nlc_parse_attrs(nlh, 4, tb, 3), -EPROTO);
    /* No attributes at all is fine. */
    nlh = nlc_msg_start(buf, sizeof buf, TEST_FAMILY, 0, 3, 1, 4, NULL);
    assert_int_equal(nlc_parse_attrs(nlh, 4, tb, 3), 0);
    assert_null(tb[1]);

    /* Headers that do not fit the buffer. */
    assert_null(nlc_msg_start(buf, 20, TEST_FAMILY, 0, 3, 1, 4, NULL));
}


/* ---- The netlink provider against a fake weird. ---- */

#define FAKE_DP_IFINDEX 7
#define FAKE_FAM_DP 0x20
#define FAKE_FAM_VPORT 0x21
#define FAKE_FAM_FLOW 0x22
#define FAKE_FAM_PACKET 0x23
#define FAKE_GRP_VPORT 6
#define FAKE_MAX_CONNS 16

/* What the fake answers flow, port and datapath requests with. */
enum fake_mode {
    FAKE_GOOD,
    FAKE_UFID_LONG,             /* A 20-byte UFID. */
    FAKE_STATS_SHORT,           /* OVS_FLOW_ATTR_STATS of 8 bytes. */
    FAKE_USED_SHORT,            /* OVS_FLOW_ATTR_USED of 4 bytes. */
    FAKE_TCP_FLAGS_LONG,        /* OVS_FLOW_ATTR_TCP_FLAGS of 2 bytes. */
    FAKE_ATTR_OVERRUN,          /* Last attribute runs past the message. */
    FAKE_DUP_KEY,               /* OVS_FLOW_ATTR_KEY twice. */
    FAKE_NO_ID,                 /* Neither key nor UFID. */
    FAKE_HDR_CUT,               /* Too short for the headers. */
    FAKE_WRONG_FAMILY,          /* A reply of another family. */
    FAKE_N_MODES,
};

struct fake {
    char dir[32];
    char path[64];
    int lfd;
    int conns[FAKE_MAX_CONNS];
    uint32_t pids[FAKE_MAX_CONNS];
    int n_conns;
    uint32_t next_pid;
    pthread_t thread;
    atomic_bool stop;
    atomic_int mode;            /* For flow, vport and dp GETs (not the
                                 * GET of dpif_open()). */
    atomic_bool dp_ready;       /* The datapath is open: 'mode' applies to
                                 * datapath requests too. */
    atomic_uint push_upcalls;   /* A pid: send it a bad, then a good
                                 * upcall; 0 when done. */
    atomic_bool port_set_fails; /* Dumps have one port, whose SET fails
                                 * with -EIO. */
    atomic_int dp_sets;         /* OVS_DP_CMD_SETs seen. */
    atomic_uint dp_set_features;    /* The user features of the last. */
};

static void
fake_send(int fd, const struct nlmsghdr *nlh)
{
    (void) send(fd, nlh, nlh->nlmsg_len, MSG_NOSIGNAL);
}

static void
fake_ack(int fd, const struct nlmsghdr *req)
{
    struct dgram d = { .len = 0 };

    dg_put_error(&d, req->nlmsg_seq, 0, NULL);
    (void) send(fd, d.buf, d.len, MSG_NOSIGNAL);
}

/* Starts a reply to 'req' of 'family' in 'buf'. */
static struct nlmsghdr *
fake_start(uint64_t *buf, size_t size, uint16_t family, uint8_t cmd,
           const struct nlmsghdr *req, uint16_t flags)
{
    struct ovs_header *oh;
    struct nlmsghdr *nlh = nlc_msg_start(buf, size, family, 0, cmd, 1,
                                         sizeof *oh, (void **) &oh);

    nlh->nlmsg_flags = flags;
    nlh->nlmsg_seq = req ? req->nlmsg_seq : 0;
    nlh->nlmsg_pid = req ? req->nlmsg_pid : 0;
    oh->dp_ifindex = FAKE_DP_IFINDEX;
    return nlh;
}

/* A flow message in 'mode'. */
static struct nlmsghdr *
fake_flow(uint64_t *buf, size_t size, const struct nlmsghdr *req,
          uint16_t flags, int mode)
{
    static const uint8_t ufid[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    struct ovs_flow_stats st = { .n_packets = 5, .n_bytes = 300 };
    uint16_t family = mode == FAKE_WRONG_FAMILY ? FAKE_FAM_VPORT
                                                : FAKE_FAM_FLOW;
    struct nlmsghdr *nlh = fake_start(buf, size, family, OVS_FLOW_CMD_NEW,
                                      req, flags);
    struct nlattr *key;

    if (mode != FAKE_NO_ID) {
        assert_true(mnl_attr_put_check(nlh, size, OVS_FLOW_ATTR_UFID,
                                       mode == FAKE_UFID_LONG ? 20 : 16,
                                       ufid));
        key = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
        mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 1);
        mnl_attr_nest_end(nlh, key);
    }
    if (mode == FAKE_DUP_KEY) {
        key = mnl_attr_nest_start(nlh, OVS_FLOW_ATTR_KEY);
        mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 2);
        mnl_attr_nest_end(nlh, key);
    }
    mnl_attr_put(nlh, OVS_FLOW_ATTR_STATS,
                 mode == FAKE_STATS_SHORT ? 8 : sizeof st, &st);
    if (mode == FAKE_USED_SHORT) {
        mnl_attr_put_u32(nlh, OVS_FLOW_ATTR_USED, 1);
    }
    if (mode == FAKE_TCP_FLAGS_LONG) {
        mnl_attr_put_u16(nlh, OVS_FLOW_ATTR_TCP_FLAGS, 2);
    }
    mnl_attr_put(nlh, OVS_FLOW_ATTR_ACTIONS, 0, NULL);
    if (mode == FAKE_ATTR_OVERRUN) {
        struct nlattr *a = mnl_nlmsg_get_payload_tail(nlh);

        mnl_attr_put_u32(nlh, OVS_FLOW_ATTR_USED, 1);
        a->nla_len = 200;
    }
    if (mode == FAKE_HDR_CUT) {
        nlh->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + 2;
    }
    return nlh;
}

/* A vport message: good, or with a name lacking its NUL. */
static struct nlmsghdr *
fake_vport(uint64_t *buf, size_t size, const struct nlmsghdr *req,
           uint16_t flags, uint8_t cmd, int mode)
{
    struct nlmsghdr *nlh = fake_start(buf, size, FAKE_FAM_VPORT, cmd, req,
                                      flags);

    mnl_attr_put_u32(nlh, OVS_VPORT_ATTR_PORT_NO, 3);
    mnl_attr_put_u32(nlh, OVS_VPORT_ATTR_TYPE, OVS_VPORT_TYPE_NETDEV);
    if (mode == FAKE_GOOD) {
        mnl_attr_put_strz(nlh, OVS_VPORT_ATTR_NAME, "fakeport");
    } else {
        mnl_attr_put(nlh, OVS_VPORT_ATTR_NAME, 8, "fakeport");
    }
    return nlh;
}

/* A datapath message: good, or with a short OVS_DP_ATTR_STATS. */
static struct nlmsghdr *
fake_dp(uint64_t *buf, size_t size, const struct nlmsghdr *req, int mode)
{
    struct ovs_dp_stats st = { .n_hit = 1 };
    struct nlmsghdr *nlh = fake_start(buf, size, FAKE_FAM_DP,
                                      OVS_DP_CMD_NEW, req, 0);

    mnl_attr_put_strz(nlh, OVS_DP_ATTR_NAME, "fake");
    mnl_attr_put(nlh, OVS_DP_ATTR_STATS,
                 mode == FAKE_GOOD ? sizeof st : 12, &st);
    mnl_attr_put_u32(nlh, OVS_DP_ATTR_USER_FEATURES, 0);
    return nlh;
}

static void
fake_ctrl(int fd, const struct nlmsghdr *req)
{
    static const struct {
        const char *name;
        uint16_t id;
    } fams[] = {
        { OVS_DATAPATH_FAMILY, FAKE_FAM_DP },
        { OVS_VPORT_FAMILY, FAKE_FAM_VPORT },
        { OVS_FLOW_FAMILY, FAKE_FAM_FLOW },
        { OVS_PACKET_FAMILY, FAKE_FAM_PACKET },
    };
    const struct nlattr *tb[CTRL_ATTR_MAX + 1];
    uint64_t buf[128];
    struct nlmsghdr *nlh;
    struct nlattr *grps, *g;
    const char *name;
    uint8_t cmd;

    if (nlc_parse_genl(req, GENL_ID_CTRL, 0, &cmd, NULL)
        || nlc_parse_attrs(req, 0, tb, CTRL_ATTR_MAX)
        || !tb[CTRL_ATTR_FAMILY_NAME]) {
        return;
    }
    name = mnl_attr_get_str(tb[CTRL_ATTR_FAMILY_NAME]);
    for (size_t i = 0; i < sizeof fams / sizeof *fams; i++) {
        if (strcmp(name, fams[i].name)) {
            continue;
        }
        nlh = nlc_msg_start(buf, sizeof buf, GENL_ID_CTRL, 0,
                            CTRL_CMD_NEWFAMILY, 2, 0, NULL);
        nlh->nlmsg_flags = 0;
        nlh->nlmsg_seq = req->nlmsg_seq;
        mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
        mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, fams[i].id);
        if (fams[i].id == FAKE_FAM_VPORT) {
            grps = mnl_attr_nest_start(nlh, CTRL_ATTR_MCAST_GROUPS);
            g = mnl_attr_nest_start(nlh, 1);
            mnl_attr_put_u32(nlh, CTRL_ATTR_MCAST_GRP_ID, FAKE_GRP_VPORT);
            mnl_attr_put_strz(nlh, CTRL_ATTR_MCAST_GRP_NAME,
                              OVS_VPORT_MCGROUP);
            mnl_attr_nest_end(nlh, g);
            mnl_attr_nest_end(nlh, grps);
        }
        fake_send(fd, nlh);
        fake_ack(fd, req);
        return;
    }
    {
        struct dgram d = { .len = 0 };

        dg_put_error(&d, req->nlmsg_seq, -ENOENT, NULL);
        (void) send(fd, d.buf, d.len, MSG_NOSIGNAL);
    }
}

/* Sends NLMSG_DONE for dump request 'req'. */
static void
fake_done(int fd, const struct nlmsghdr *req)
{
    struct dgram d = { .len = 0 };
    int32_t zero = 0;

    dg_put(&d, NLMSG_DONE, NLM_F_MULTI, req->nlmsg_seq, &zero,
           4)->nlmsg_pid = req->nlmsg_pid;
    (void) send(fd, d.buf, d.len, MSG_NOSIGNAL);
}

/* Answers one request message. */
static void
fake_request(struct fake *fk, int fd, const struct nlmsghdr *req)
{
    int mode = atomic_load(&fk->mode);
    bool dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
    uint8_t cmd = req->nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN
                  ? ((const struct genlmsghdr *) NLMSG_DATA(req))->cmd : 0;
    uint64_t buf[1024];
    struct nlmsghdr *nlh;

    switch (req->nlmsg_type) {
    case GENL_ID_CTRL:
        fake_ctrl(fd, req);
        return;
    case FAKE_FAM_DP:
        if (dump) {
            fake_done(fd, req);
            return;
        }
        if (cmd == OVS_DP_CMD_SET) {
            const struct nlattr *tb[OVS_DP_ATTR_MAX + 1];

            if (!nlc_parse_attrs(req, sizeof(struct ovs_header), tb,
                                 OVS_DP_ATTR_MAX)
                && tb[OVS_DP_ATTR_USER_FEATURES]) {
                atomic_store(&fk->dp_set_features,
                             mnl_attr_get_u32(tb[OVS_DP_ATTR_USER_FEATURES]));
            }
            atomic_fetch_add(&fk->dp_sets, 1);
        }
        nlh = fake_dp(buf, sizeof buf, req,
                      atomic_load(&fk->dp_ready) ? mode : FAKE_GOOD);
        fake_send(fd, nlh);
        break;
    case FAKE_FAM_VPORT:
        if (dump) {
            if (atomic_load(&fk->port_set_fails)) {
                nlh = fake_vport(buf, sizeof buf, req, NLM_F_MULTI,
                                 OVS_VPORT_CMD_NEW, FAKE_GOOD);
                fake_send(fd, nlh);
            }
            fake_done(fd, req);
            return;
        }
        if (cmd == OVS_VPORT_CMD_SET && atomic_load(&fk->port_set_fails)) {
            struct dgram d = { .len = 0 };

            dg_put_error(&d, req->nlmsg_seq, -EIO, NULL);
            (void) send(fd, d.buf, d.len, MSG_NOSIGNAL);
            return;
        }
        nlh = fake_vport(buf, sizeof buf, req, 0, OVS_VPORT_CMD_NEW, mode);
        fake_send(fd, nlh);
        break;
    case FAKE_FAM_FLOW:
        if (dump) {
            /* One bad flow (in 'mode'), one good, in one part. */
            struct dgram d = { .len = 0 };

            nlh = fake_flow(buf, sizeof buf, req, NLM_F_MULTI, mode);
            memcpy(d.buf, nlh, NLMSG_ALIGN(nlh->nlmsg_len));
            d.len = NLMSG_ALIGN(nlh->nlmsg_len);
            nlh = fake_flow(buf, sizeof buf, req, NLM_F_MULTI, FAKE_GOOD);
            memcpy(d.buf + d.len, nlh, nlh->nlmsg_len);
            d.len += NLMSG_ALIGN(nlh->nlmsg_len);
            (void) send(fd, d.buf, d.len, MSG_NOSIGNAL);
            fake_done(fd, req);
            return;
        }
        if (req->nlmsg_flags & NLM_F_ECHO || ((const struct genlmsghdr *)
                                              NLMSG_DATA(req))->cmd
                                             == OVS_FLOW_CMD_GET) {
            nlh = fake_flow(buf, sizeof buf, req, 0, mode);
            fake_send(fd, nlh);
        }
        break;
    default:
        break;
    }
    if (req->nlmsg_flags & NLM_F_ACK) {
        fake_ack(fd, req);
    }
}

/* Sends pid 'pid' an upcall with a malformed key, then a good one. */
static void
fake_upcalls(struct fake *fk, uint32_t pid)
{
    static const uint8_t frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint64_t buf[256];
    struct nlmsghdr *nlh;
    struct nlattr *key;
    int fd = -1;

    for (int i = 0; i < fk->n_conns; i++) {
        if (fk->pids[i] == pid) {
            fd = fk->conns[i];
        }
    }
    if (fd < 0) {
        return;
    }
    for (int good = 0; good < 2; good++) {
        nlh = fake_start(buf, sizeof buf, FAKE_FAM_PACKET,
                         OVS_PACKET_CMD_MISS, NULL, 0);
        key = mnl_attr_nest_start(nlh, OVS_PACKET_ATTR_KEY);
        if (good) {
            mnl_attr_put_u32(nlh, OVS_KEY_ATTR_IN_PORT, 4);
        } else {
            mnl_attr_put_u16(nlh, OVS_KEY_ATTR_IN_PORT, 4);    /* Short. */
        }
        mnl_attr_nest_end(nlh, key);
        mnl_attr_put(nlh, OVS_PACKET_ATTR_PACKET, sizeof frame, frame);
        fake_send(fd, nlh);
    }
}

static void
fake_conn_input(struct fake *fk, int i)
{
    static uint8_t buf[70000];
    const struct nlmsghdr *nlh;
    size_t off = 0;
    ssize_t n = recv(fk->conns[i], buf, sizeof buf, 0);

    if (n <= 0) {
        close(fk->conns[i]);
        fk->conns[i] = fk->conns[fk->n_conns - 1];
        fk->pids[i] = fk->pids[fk->n_conns - 1];
        fk->n_conns--;
        return;
    }
    nlh = (const struct nlmsghdr *) buf;
    if (nlh->nlmsg_type == WEIR_NLMSG_HELLO) {
        fk->pids[i] = fk->next_pid++;
        queue_hello(fk->conns[i], fk->pids[i], 0, WEIR_HELLO_VERSION);
        return;
    }
    if (nlh->nlmsg_type == WEIR_NLMSG_SOCKOPT) {
        return;
    }
    while (nlc_next_msg(buf, n, &off, &nlh) > 0) {
        fake_request(fk, fk->conns[i], nlh);
    }
}

static void *
fake_main(void *fk_)
{
    struct fake *fk = fk_;

    while (!atomic_load(&fk->stop)) {
        struct pollfd pfds[FAKE_MAX_CONNS + 1];
        uint32_t pid = atomic_load(&fk->push_upcalls);
        int n = fk->n_conns;

        if (pid) {
            fake_upcalls(fk, pid);
            atomic_store(&fk->push_upcalls, 0);
        }
        pfds[0] = (struct pollfd) { .fd = fk->lfd, .events = POLLIN };
        for (int i = 0; i < n; i++) {
            pfds[i + 1] = (struct pollfd) { .fd = fk->conns[i],
                                            .events = POLLIN };
        }
        if (poll(pfds, n + 1, 20) <= 0) {
            continue;
        }
        for (int i = n - 1; i >= 0; i--) {
            if (pfds[i + 1].revents) {
                fake_conn_input(fk, i);
            }
        }
        if (pfds[0].revents & POLLIN && fk->n_conns < FAKE_MAX_CONNS) {
            int fd = accept(fk->lfd, NULL, NULL);

            if (fd >= 0) {
                fk->conns[fk->n_conns] = fd;
                fk->pids[fk->n_conns] = 0;
                fk->n_conns++;
            }
        }
    }
    return NULL;
}

static int
setup_fake(void **state)
{
    struct fake *fk = calloc(1, sizeof *fk);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };

    assert_non_null(fk);
    snprintf(fk->dir, sizeof fk->dir, "/tmp/weir-nlc-XXXXXX");
    assert_non_null(mkdtemp(fk->dir));
    snprintf(fk->path, sizeof fk->path, "%s/fake.sock", fk->dir);
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", fk->path);
    fk->lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    assert_true(fk->lfd >= 0);
    assert_int_equal(bind(fk->lfd, (struct sockaddr *) &sun, sizeof sun),
                     0);
    assert_int_equal(listen(fk->lfd, 16), 0);
    fk->next_pid = 100;
    atomic_init(&fk->stop, false);
    atomic_init(&fk->mode, FAKE_GOOD);
    atomic_init(&fk->dp_ready, false);
    atomic_init(&fk->push_upcalls, 0);
    atomic_init(&fk->port_set_fails, false);
    atomic_init(&fk->dp_sets, 0);
    atomic_init(&fk->dp_set_features, 0);
    assert_int_equal(pthread_create(&fk->thread, NULL, fake_main, fk), 0);
    dpif_set_control_path(fk->path);
    *state = fk;
    return 0;
}

static int
teardown_fake(void **state)
{
    struct fake *fk = *state;

    atomic_store(&fk->stop, true);
    pthread_join(fk->thread, NULL);
    for (int i = 0; i < fk->n_conns; i++) {
        close(fk->conns[i]);
    }
    close(fk->lfd);
    unlink(fk->path);
    rmdir(fk->dir);
    dpif_set_control_path(NULL);
    free(fk);
    return 0;
}

static void
test_provider_malformed(void **state)
{
    struct fake *fk = *state;
    static uint8_t buf[DPIF_FLOW_BUFSIZE];
    const uint8_t key[8] = { 8, 0, OVS_KEY_ATTR_IN_PORT, 0, 1, 0, 0, 0 };
    struct dpif_ufid ufid = { .len = 16, .id = { 1, 2, 3, 4, 5, 6, 7, 8,
                                                 9, 10 } };
    struct dpif_flow_stats st;
    struct dpif_dp_stats ds;
    struct dpif_upcall up;
    struct dpif_flow flow;
    struct dpif_port port;
    struct dpif *dpif;

    assert_int_equal(dpif_open("netlink", "fake", false, &dpif), 0);
    atomic_store(&fk->dp_ready, true);

    /* The good reply first: the decoders accept it. */
    assert_int_equal(dpif_flow_get(dpif, NULL, 0, &ufid, buf, sizeof buf,
                                   &flow), 0);
    assert_int_equal(flow.ufid.len, 16);
    assert_int_equal(flow.stats.n_packets, 5);
    assert_int_equal(flow.key_len, 8);
    assert_non_null(flow.actions);
    assert_int_equal(flow.actions_len, 0);

    /* Every malformed flow reply: -EPROTO from a get, a put that wants
     * statistics, a delete that wants them. */
    for (int mode = FAKE_GOOD + 1; mode < FAKE_N_MODES; mode++) {
        atomic_store(&fk->mode, mode);
        assert_int_equal(dpif_flow_get(dpif, NULL, 0, &ufid, buf, sizeof buf,
                                       &flow), -EPROTO);
        assert_true(dpif_last_error()[0] != '\0');
        assert_int_equal(dpif_flow_put(dpif, DPIF_FP_CREATE, key,
                                       sizeof key, NULL, 0, &ufid, NULL, 0,
                                       &st), -EPROTO);
        assert_int_equal(dpif_flow_del(dpif, NULL, 0, &ufid, &st), -EPROTO);
        /* Without statistics nothing is read back: the ACK is all. */
        assert_int_equal(dpif_flow_put(dpif, DPIF_FP_CREATE, key,
                                       sizeof key, NULL, 0, &ufid, NULL, 0,
                                       NULL), 0);
    }

    /* A dump part with one malformed and one good flow: the good one
     * comes out, the dump ends with -EPROTO. */
    for (int mode = FAKE_GOOD + 1; mode < FAKE_N_MODES; mode++) {
        struct dpif_flow_dump *dump;
        struct dpif_flow_dump_thread *t;
        struct dpif_flow flows[4];
        int n, total = 0;

        atomic_store(&fk->mode, mode);
        dump = dpif_flow_dump_create(dpif, false);
        assert_non_null(dump);
        t = dpif_flow_dump_thread_create(dump);
        while ((n = dpif_flow_dump_next(t, flows, 4)) > 0) {
            total += n;
            assert_int_equal(flows[0].stats.n_bytes, 300);
        }
        dpif_flow_dump_thread_destroy(t);
        assert_int_equal(total, 1);
        assert_int_equal(dpif_flow_dump_destroy(dump), -EPROTO);
    }

    /* A port whose name lacks its NUL; a short datapath STATS. */
    atomic_store(&fk->mode, FAKE_GOOD);
    assert_int_equal(dpif_port_query_by_number(dpif, 3, &port), 0);
    assert_string_equal(port.name, "fakeport");
    assert_string_equal(port.type, "system");
    atomic_store(&fk->mode, FAKE_STATS_SHORT);
    assert_int_equal(dpif_port_query_by_number(dpif, 3, &port), -EPROTO);
    assert_int_equal(dpif_get_dp_stats(dpif, &ds), -EPROTO);

    /* Upcalls: one with a 2-byte in_port is skipped, the next comes. */
    atomic_store(&fk->mode, FAKE_GOOD);
    assert_int_equal(dpif_handlers_set(dpif, 1), 0);
    atomic_store(&fk->push_upcalls, dpif_handler_pid(dpif, 0));
    assert_int_equal(dpif_recv_wait(dpif, 0, 5000), 0);
    for (int i = 0; i < 200; i++) {
        int r = dpif_recv(dpif, 0, &up);

        if (r != -EAGAIN) {
            assert_int_equal(r, 0);
            break;
        }
        usleep(10000);
    }
    assert_int_equal(up.in_port, 4);
    assert_int_equal(up.packet_len, 60);
    assert_int_equal(up.type, DPIF_UC_MISS);
    assert_int_equal(dpif_recv(dpif, 0, &up), -EAGAIN);
    assert_int_equal(dpif_handlers_set(dpif, 0), 0);
    dpif_close(dpif);
}

/* dpif_handlers_set() that fails half-way (weird refuses a port's new
 * PIDs): the dpif keeps the handlers it had (none), and the datapath is
 * set back (no per-CPU dispatch). */
static void
test_provider_handlers_rollback(void **state)
{
    struct fake *fk = *state;
    struct dpif_upcall up;
    struct dpif *dpif;

    assert_int_equal(dpif_open("netlink", "fake", false, &dpif), 0);
    atomic_store(&fk->dp_ready, true);
    atomic_store(&fk->port_set_fails, true);
    assert_int_equal(dpif_handlers_set(dpif, 2), -EIO);
    assert_true(dpif_last_error()[0] != '\0');
    assert_int_equal(dpif_handler_pid(dpif, 0), 0);
    assert_int_equal(dpif_recv(dpif, 0, &up), -EINVAL);
    /* The DP SET with the handlers, then the one that sets it back. */
    assert_int_equal(atomic_load(&fk->dp_sets), 2);
    assert_false(atomic_load(&fk->dp_set_features)
                 & OVS_DP_F_DISPATCH_UPCALL_PER_CPU);

    atomic_store(&fk->port_set_fails, false);
    assert_int_equal(dpif_handlers_set(dpif, 2), 0);
    assert_true(dpif_handler_pid(dpif, 1) != 0);
    assert_int_equal(atomic_load(&fk->dp_sets), 3);
    assert_true(atomic_load(&fk->dp_set_features)
                & OVS_DP_F_DISPATCH_UPCALL_PER_CPU);
    assert_int_equal(dpif_handlers_set(dpif, 0), 0);
    dpif_close(dpif);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello),
        cmocka_unit_test(test_open_no_weird),
        cmocka_unit_test_setup_teardown(test_ack_and_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_replies, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_and_reset, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_dump, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump_recv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recv_nb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_family, setup, teardown),
        cmocka_unit_test(test_parse_attrs),
        cmocka_unit_test_setup_teardown(test_provider_malformed, setup_fake,
                                        teardown_fake),
        cmocka_unit_test_setup_teardown(test_provider_handlers_rollback,
                                        setup_fake, teardown_fake),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
