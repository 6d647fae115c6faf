/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: the flow-key codecs (codec/fkey-nl.c, codec/fkey-text-*.c).
 *
 * usage: bench-codec FILE.pcap [ROUNDS]
 *
 * Extracts the key of every packet of FILE.pcap, then times, over ROUNDS
 * passes (default 100):
 *
 *   BENCH codec_key_encode_mops  fkey_to_nl() calls per second, millions
 *   BENCH codec_key_decode_mops  fkey_from_nl() calls per second, millions
 *   BENCH codec_key_format_kops  fkey_format() calls per second, thousands
 *
 * These bound how fast flow dumps and upcalls can be built and read.
 * Never fails on speed. */

#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "codec/fkey-nl.h"
#include "codec/fkey-text.h"
#include "lib/text.h"
#include "packet/flow-extract.h"
#include "packet/flow-key.h"
#include "bench-util.h"

struct encoded {
    uint8_t bytes[FKEY_NL_MAX_LEN];
    size_t len;
};

static size_t
load_keys(const char *file, struct flow_key **keysp)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *hdr;
    const u_char *data;
    struct flow_key *keys = NULL;
    size_t n = 0, cap = 0;
    pcap_t *pcap = pcap_open_offline(file, errbuf);

    if (!pcap) {
        fprintf(stderr, "%s\n", errbuf);
        exit(1);
    }
    while (pcap_next_ex(pcap, &hdr, &data) == 1) {
        struct pkt_metadata md = { .in_port = 1 };

        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            keys = realloc(keys, cap * sizeof *keys);
            if (!keys) {
                abort();
            }
        }
        if (!fkey_extract(data, hdr->caplen, &md, &keys[n])) {
            n++;
        }
    }
    pcap_close(pcap);
    *keysp = keys;
    return n;
}

int
main(int argc, char *argv[])
{
    long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 100;
    struct flow_key *keys, out;
    struct encoded *enc;
    struct sbuf sb = SBUF_INIT;
    union {
        struct nlmsghdr nlh;
        uint8_t b[MNL_NLMSG_HDRLEN + FKEY_NL_MAX_LEN];
    } u;
    uint64_t sink = 0;
    double t0, t_enc, t_dec, t_fmt;
    size_t n;

    if (argc < 2 || rounds <= 0) {
        fprintf(stderr, "usage: %s FILE.pcap [ROUNDS]\n", argv[0]);
        return 2;
    }
    n = load_keys(argv[1], &keys);
    if (!n) {
        fprintf(stderr, "%s: no packets\n", argv[1]);
        return 1;
    }
    enc = calloc(n, sizeof *enc);
    if (!enc) {
        abort();
    }

    t0 = bench_now();
    for (long r = 0; r < rounds; r++) {
        for (size_t i = 0; i < n; i++) {
            mnl_nlmsg_put_header(u.b);
            if (fkey_to_nl(&keys[i], &u.nlh, sizeof u)) {
                abort();
            }
            sink += u.nlh.nlmsg_len;
        }
    }
    t_enc = bench_now() - t0;

    for (size_t i = 0; i < n; i++) {
        mnl_nlmsg_put_header(u.b);
        fkey_to_nl(&keys[i], &u.nlh, sizeof u);
        enc[i].len = u.nlh.nlmsg_len - MNL_NLMSG_HDRLEN;
        memcpy(enc[i].bytes, mnl_nlmsg_get_payload(&u.nlh), enc[i].len);
    }

    t0 = bench_now();
    for (long r = 0; r < rounds; r++) {
        for (size_t i = 0; i < n; i++) {
            sink += fkey_from_nl(enc[i].bytes, enc[i].len, &out, NULL);
            sink += out.tp_src;
        }
    }
    t_dec = bench_now() - t0;

    /* Text is slower: a tenth of the rounds. */
    t0 = bench_now();
    for (long r = 0; r < (rounds + 9) / 10; r++) {
        for (size_t i = 0; i < n; i++) {
            sbuf_clear(&sb);
            fkey_format(enc[i].bytes, enc[i].len, NULL, 0, false, &sb);
            sink += sb.len;
        }
    }
    t_fmt = bench_now() - t0;

    printf("BENCH codec_key_encode_mops %.2f Mops\n",
           (double) n * rounds / t_enc / 1e6);
    printf("BENCH codec_key_decode_mops %.2f Mops\n",
           (double) n * rounds / t_dec / 1e6);
    printf("BENCH codec_key_format_kops %.0f kops\n",
           (double) n * ((rounds + 9) / 10) / t_fmt / 1e3);
    fprintf(stderr, "(%zu keys x %ld rounds; sink %"PRIu64")\n", n, rounds,
            sink);
    sbuf_uninit(&sb);
    free(enc);
    free(keys);
    return 0;
}
