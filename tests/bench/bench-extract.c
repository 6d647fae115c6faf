/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: flow-key extraction (packet/flow-extract.c).
 *
 * usage: bench-extract FILE.pcap [ROUNDS]
 *
 * Loads every packet of FILE.pcap into memory, then extracts the flow key
 * of each packet ROUNDS times (default 200) and prints
 *
 *   BENCH extract_mpps <million packets per second> Mpps
 *
 * With ROUNDS given on the command line and run under callgrind, the
 * instruction count of the run is what scripts/bench.sh uses for
 * extract_instr_per_pkt (two runs with different ROUNDS cancel the loading
 * cost).  Never fails on speed. */

#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packet/flow-extract.h"
#include "packet/flow-key.h"
#include "bench-util.h"

struct frame {
    uint8_t *data;
    size_t len;
};

int
main(int argc, char *argv[])
{
    char errbuf[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *hdr;
    const u_char *data;
    struct frame *frames = NULL;
    size_t n = 0, cap = 0;
    long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 200;
    uint64_t sink = 0;
    double start, elapsed;
    pcap_t *pcap;

    if (argc < 2 || rounds <= 0) {
        fprintf(stderr, "usage: %s FILE.pcap [ROUNDS]\n", argv[0]);
        return 2;
    }
    pcap = pcap_open_offline(argv[1], errbuf);
    if (!pcap) {
        fprintf(stderr, "%s\n", errbuf);
        return 1;
    }
    while (pcap_next_ex(pcap, &hdr, &data) == 1) {
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            frames = realloc(frames, cap * sizeof *frames);
            if (!frames) {
                abort();
            }
        }
        frames[n].data = malloc(hdr->caplen);
        if (!frames[n].data) {
            abort();
        }
        memcpy(frames[n].data, data, hdr->caplen);
        frames[n].len = hdr->caplen;
        n++;
    }
    pcap_close(pcap);
    if (!n) {
        fprintf(stderr, "%s: no packets\n", argv[1]);
        return 1;
    }

    start = bench_now();
    for (long r = 0; r < rounds; r++) {
        for (size_t i = 0; i < n; i++) {
            struct pkt_metadata md = { .in_port = (uint32_t) i & 7 };
            struct flow_key key;

            fkey_extract(frames[i].data, frames[i].len, &md, &key);
            /* Keep the compiler from dropping the work. */
            sink += key.tp_src ^ key.eth_type ^ key.addr.ipv4.src;
        }
    }
    elapsed = bench_now() - start;

    printf("BENCH extract_mpps %.2f Mpps\n",
           (double) n * rounds / elapsed / 1e6);
    fprintf(stderr, "(%zu packets x %ld rounds in %.3f s; sink %"PRIu64")\n",
            n, rounds, elapsed, sink);
    for (size_t i = 0; i < n; i++) {
        free(frames[i].data);
    }
    free(frames);
    return 0;
}
