/* SPDX-License-Identifier: Apache-2.0 */
/* ovscompat-scan: what the shim reads of the netlink bytes it passes
 * through (ovscompat.h).  Only headers are read: the sequence number of
 * each dump request going out, the NLMSG_DONE and NLMSG_ERROR that end
 * dumps coming in, and weird's NLMSG_OVERRUN datagram.  The bytes are the
 * program's buffers (an iovec, as sendmsg() and recvmsg() have them), so a
 * header may straddle two of its entries: every header is copied out with
 * ovsc_iov_copy(), never read in place. */
#include "compat/ovscompat.h"

#include <errno.h>
#include <linux/netlink.h>
#include <string.h>

size_t
ovsc_iov_len(const struct iovec *iov, size_t n_iov)
{
    size_t total = 0;

    for (size_t i = 0; i < n_iov; i++) {
        if (iov[i].iov_len > SIZE_MAX - total) {
            return SIZE_MAX;
        }
        total += iov[i].iov_len;
    }
    return total;
}

size_t
ovsc_iov_copy(const struct iovec *iov, size_t n_iov, size_t off, void *dst,
              size_t len)
{
    unsigned char *out = dst;
    size_t done = 0;

    for (size_t i = 0; i < n_iov && done < len; i++) {
        size_t l = iov[i].iov_len;

        if (off >= l) {
            off -= l;
            continue;
        }
        size_t n = l - off < len - done ? l - off : len - done;

        memcpy(out + done, (const unsigned char *) iov[i].iov_base + off, n);
        done += n;
        off = 0;
    }
    return done;
}

/* Reads the netlink header at 'off' of a datagram of 'len' bytes into
 * '*nlh'.  Returns the offset of the next message, or 0 if there is no
 * well-formed message at 'off' (too few bytes left, or a length that is
 * shorter than a header or runs past the end: where the kernel stops). */
static size_t
scan_next(const struct iovec *iov, size_t n_iov, size_t len, size_t off,
          struct nlmsghdr *nlh)
{
    size_t next;

    if (off >= len || len - off < NLMSG_HDRLEN
        || ovsc_iov_copy(iov, n_iov, off, nlh, sizeof *nlh) != sizeof *nlh
        || nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > len - off) {
        return 0;
    }
    next = off + NLMSG_ALIGN(nlh->nlmsg_len);
    /* NLMSG_ALIGN() of a length that fits can pass the end by the padding
     * of the last message; 'len' ends the walk then. */
    return next < len ? next : len;
}

bool
ovsc_scan_overrun(const struct iovec *iov, size_t n_iov, size_t len)
{
    unsigned char buf[OVSC_OVERRUN_LEN];
    struct nlmsghdr nlh;
    int32_t error;

    if (len != OVSC_OVERRUN_LEN
        || ovsc_iov_copy(iov, n_iov, 0, buf, sizeof buf) != sizeof buf) {
        return false;
    }
    memcpy(&nlh, buf, sizeof nlh);
    memcpy(&error, buf + NLMSG_HDRLEN, sizeof error);
    return (nlh.nlmsg_len == OVSC_OVERRUN_LEN
            && nlh.nlmsg_type == NLMSG_OVERRUN && nlh.nlmsg_pid == 0
            && error == -ENOBUFS);
}

size_t
ovsc_scan_dump_requests(const struct iovec *iov, size_t n_iov, size_t len,
                        uint32_t *seqs, size_t max)
{
    size_t n = 0;
    size_t off = 0;

    for (;;) {
        struct nlmsghdr nlh;
        size_t next = scan_next(iov, n_iov, len, off, &nlh);

        if (!next) {
            return n;
        }
        /* The kernel hands only requests of protocol types to a family
         * (netlink_rcv_skb()), and generic netlink starts a dump only
         * when both bits of NLM_F_DUMP are set. */
        if ((nlh.nlmsg_flags & NLM_F_REQUEST)
            && nlh.nlmsg_type >= NLMSG_MIN_TYPE
            && (nlh.nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP) {
            if (n < max) {
                seqs[n] = nlh.nlmsg_seq;
            }
            n++;
        }
        off = next;
    }
}

size_t
ovsc_scan_dump_ends(const struct iovec *iov, size_t n_iov, size_t len,
                    uint32_t *open, size_t n_open)
{
    size_t off = 0;

    while (n_open) {
        struct nlmsghdr nlh;
        size_t next = scan_next(iov, n_iov, len, off, &nlh);

        if (!next) {
            break;
        }
        if (nlh.nlmsg_type == NLMSG_DONE || nlh.nlmsg_type == NLMSG_ERROR) {
            for (size_t i = 0; i < n_open; i++) {
                if (open[i] == nlh.nlmsg_seq) {
                    open[i] = open[--n_open];
                    break;
                }
            }
        }
        off = next;
    }
    return n_open;
}
