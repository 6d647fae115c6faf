/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for port option strings: the "key=value,..." parser
 * (lib/options.h) and the providers that use it (port/port.h
 * port_open()).
 *
 * The input, NUL-terminated, is given to opts_parse() with a key of every
 * type, as the options of a dummy port, of an afpacket and an afxdp port
 * on a device that does not exist, and as a port name.  Whatever happens
 * must be a clean result: 0 with a port (which is then used once and
 * closed) or values in their ranges, or a negative errno with a reason
 * and nothing written.  Any broken property abort()s.  (The tap and pcap
 * providers would make devices and files of what they parse: their keys'
 * types are the ones opts_parse() gets here.) */

#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errbuf.h"
#include "lib/options.h"
#include "packet/packet.h"
#include "port/port-dummy.h"
#include "port/port.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A name no network device has, for providers that look one up after
 * their options. */
#define FUZZ_NODEV "weir-fz-nodev"

/* opts_parse() on 's' with keys like the providers' own. */
static void
fuzz_opts_parse(const char *s)
{
    static const char *const modes[] = { "auto", "native", "generic", NULL };
    static const uint8_t unset_mac[6] = { 0xee, 0xee, 0xee, 0xee, 0xee,
                                          0xee };
    uint32_t n_rxq = 0, ring_size = 0;
    bool loop = false, seen_loop = true, seen_mac = true;
    uint8_t mac[6];
    char *rx = NULL;
    int mode = -1;
    const struct opt_def defs[] = {
        { .key = "loop", .type = OPT_BOOL, .b = &loop, .seen = &seen_loop },
        { .key = "n_rxq", .type = OPT_U32, .u32 = &n_rxq, .min = 1,
          .max = 64 },
        { .key = "ring_size", .type = OPT_U32, .u32 = &ring_size,
          .min = 64, .max = 16384, .pow2 = true },
        { .key = "rx", .type = OPT_STR, .str = &rx, .what = "a file name" },
        { .key = "mode", .type = OPT_ENUM, .index = &mode, .names = modes },
        { .key = "mac", .type = OPT_MAC, .mac = mac, .seen = &seen_mac },
    };
    struct errbuf err;
    int error;

    memcpy(mac, unset_mac, sizeof mac);
    errbuf_clear(&err);
    error = opts_parse(s, defs, sizeof defs / sizeof *defs, "fuzz ports",
                       &err);
    if (error) {
        /* Nothing written. */
        if ((error != -EINVAL && error != -ENOMEM) || !errbuf_is_set(&err)
            || loop || !seen_loop || !seen_mac || n_rxq || ring_size || rx
            || mode != -1 || memcmp(mac, unset_mac, sizeof mac)) {
            abort();
        }
        return;
    }
    if (errbuf_is_set(&err)
        || (n_rxq && n_rxq > 64)
        || (ring_size && (ring_size < 64 || ring_size > 16384
                          || (ring_size & (ring_size - 1))))
        || (rx && (!*rx || strchr(rx, ',')))
        || mode < -1 || mode > 2
        || (!seen_mac && memcmp(mac, unset_mac, sizeof mac))
        || (!seen_loop && loop)) {
        abort();
    }
    free(rx);
}

/* Opening a port of 'type' on FUZZ_NODEV with the options 's' fails: with
 * -ENODEV if the options pass, else with their reason. */
static void
fuzz_open_nodev(const char *type, const char *s)
{
    struct port *port = NULL;
    struct errbuf err;
    int error;

    errbuf_clear(&err);
    error = port_open(type, FUZZ_NODEV, s, &port, &err);
    if (!error || port || !errbuf_is_set(&err)
        || (error != -ENODEV && error != -EINVAL && error != -ENOMEM)) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    struct port *port = NULL;
    struct errbuf err;
    int error;

    if (!s) {
        return 0;
    }
    memcpy(s, data, size);
    s[size] = '\0';

    fuzz_opts_parse(s);
    /* Only where the device surely is not there: an afxdp port would
     * attach its XDP program to one that is. */
    if (!if_nametoindex(FUZZ_NODEV)) {
        fuzz_open_nodev("afpacket", s);
        fuzz_open_nodev("afxdp", s);
    }

    errbuf_clear(&err);
    error = port_open("dummy", "fz0", s, &port, &err);
    if (error) {
        if (error >= 0 || port || !errbuf_is_set(&err)) {
            abort();
        }
    } else {
        /* A working port: one frame in and out. */
        static const uint8_t frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff,
                                           0xff };
        struct pkt_batch b;

        if (!port || port_dummy_inject(port, frame, sizeof frame)) {
            abort();
        }
        pkt_batch_init(&b);
        if (port_rx(port, 0, &b) < 1) {
            abort();
        }
        port_tx(port, &b);
        port_close(port);
    }

    /* The same bytes as a port name: too long or empty is -EINVAL. */
    errbuf_clear(&err);
    port = NULL;
    error = port_open("dummy", s, NULL, &port, &err);
    if (!error) {
        if (!port || strlen(s) == 0 || strlen(s) >= PORT_NAME_MAX) {
            abort();
        }
        port_close(port);
    } else if (error >= 0 || port) {
        abort();
    }
    free(s);
    return 0;
}
