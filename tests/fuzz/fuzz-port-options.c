/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for port option strings (port/port.h port_open(), and the
 * dummy provider's "key=value,..." parser).
 *
 * The input, NUL-terminated, is given as the options of a dummy port and
 * as a port name.  Whatever happens must be a clean result: 0 with a port
 * (which is then used once and closed) or a negative errno with a reason.
 * Any broken property abort()s. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errbuf.h"
#include "packet/packet.h"
#include "port/port-dummy.h"
#include "port/port.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
