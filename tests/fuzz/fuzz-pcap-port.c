/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the pcap port's reading of capture files
 * (port/port-pcap.c on top of libpcap): the input is the file.
 *
 * It goes into a memfd, and a pcap port opens it through /proc/self/fd
 * (no disk), once replaying and once looping.  Either the open fails
 * cleanly (a negative errno with a reason, no port) or every packet rx
 * hands out is a frame of 14 bytes or more, in at most PKT_BATCH_MAX per
 * call, and the port closes with nothing leaked.  Any broken property
 * abort()s. */

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/errbuf.h"
#include "packet/packet.h"
#include "port/port.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Opens the file at 'path' as a pcap port with 'extra' options and reads
 * up to 'max_calls' batches. */
static void
read_port(const char *path, const char *extra, int max_calls)
{
    char options[96];
    struct port *port;
    struct errbuf err;

    snprintf(options, sizeof options, "rx=%s%s", path, extra);
    errbuf_clear(&err);
    if (port_open("pcap", "weir-fz-pcap", options, &port, &err)) {
        if (port || !err.msg[0]) {
            abort();
        }
        return;
    }
    for (int i = 0; i < max_calls; i++) {
        struct pkt_batch b;
        int n;

        pkt_batch_init(&b);
        n = port_rx(port, 0, &b);
        if (n < 0 || n > PKT_BATCH_MAX || (uint32_t) n != b.n) {
            abort();
        }
        for (uint32_t j = 0; j < b.n; j++) {
            if (b.pkts[j]->len < 14) {
                abort();
            }
        }
        pkt_batch_free(&b);
        if (!n) {
            break;
        }
    }
    port_close(port);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = memfd_create("weir-fz-pcap", MFD_CLOEXEC);

    if (fd < 0) {
        abort();
    }
    if (size && write(fd, data, size) != (ssize_t) size) {
        abort();
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    read_port(path, "", 1000);
    read_port(path, ",loop=true", 8);
    close(fd);
    return 0;
}
