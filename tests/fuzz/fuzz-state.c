/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for weird's state file parser (daemon/state.h
 * state_parse()).
 *
 * The input is parsed as a state file.  It must come back as a clean
 * result: 0, or a negative errno with a reason that names the line.  A
 * file that parses is formatted again, line by line, with
 * state_format_dp() / state_format_port(), and that text must parse to
 * exactly the same lines again (the writer never writes what the reader
 * refuses, and what the reader takes round-trips).  Any broken property
 * abort()s. */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/state.h"
#include "lib/errbuf.h"
#include "lib/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Formats each line it is given into 'out'. */
static int
fmt_dp(const char *name, uint32_t features, unsigned int line, void *aux,
       struct errbuf *err)
{
    struct sbuf *out = aux;
    char buf[STATE_LINE_MAX + 2];

    if (!*name || strlen(name) > STATE_NAME_MAX || !line) {
        abort();
    }
    if (state_format_dp(buf, sizeof buf, name, features) >= sizeof buf) {
        abort();
    }
    sbuf_put(out, buf);
    return 0;
}

static int
fmt_port(const char *dp_name, const char *name, const char *type,
         const char *options, uint32_t port_no, unsigned int line,
         void *aux, struct errbuf *err)
{
    struct sbuf *out = aux;
    char buf[STATE_LINE_MAX + 2];

    if (!*dp_name || !*name || !*type || !line || !port_no
        || port_no == UINT32_MAX || (options && !*options)
        || (options && strlen(options) > STATE_OPTIONS_MAX)) {
        abort();
    }
    if (state_format_port(buf, sizeof buf, dp_name, name, type, options,
                          port_no) >= sizeof buf) {
        abort();
    }
    sbuf_put(out, buf);
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct state_parse_cbs cbs = { fmt_dp, fmt_port, NULL };
    struct sbuf first = SBUF_INIT, second = SBUF_INIT;
    struct errbuf err;
    int error;

    cbs.aux = &first;
    error = state_parse((const char *) data, size, &cbs, &err);
    if (error) {
        if (error != -EINVAL && error != -ENOMEM) {
            abort();
        }
        if (error == -EINVAL && strncmp(err.msg, "line ", 5)) {
            abort();
        }
        sbuf_uninit(&first);
        return 0;
    }
    if (errbuf_is_set(&err)) {
        abort();
    }

    cbs.aux = &second;
    error = state_parse(sbuf_str(&first), first.len, &cbs, &err);
    if (error || first.len != second.len
        || memcmp(sbuf_str(&first), sbuf_str(&second), first.len)) {
        abort();
    }
    sbuf_uninit(&first);
    sbuf_uninit(&second);
    return 0;
}
