/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/errbuf.h"

#include <stdio.h>
#include <string.h>

void
errbuf_clear(struct errbuf *eb)
{
    if (eb) {
        eb->msg[0] = '\0';
    }
}

void
errbuf_set(struct errbuf *eb, const char *fmt, ...)
{
    va_list args;

    if (!eb) {
        return;
    }
    va_start(args, fmt);
    vsnprintf(eb->msg, sizeof eb->msg, fmt, args);
    va_end(args);
}

void
errbuf_prefix(struct errbuf *eb, const char *fmt, ...)
{
    char old[ERRBUF_SIZE];
    va_list args;
    int n;

    if (!eb) {
        return;
    }
    memcpy(old, eb->msg, sizeof old);
    va_start(args, fmt);
    n = vsnprintf(eb->msg, sizeof eb->msg, fmt, args);
    va_end(args);
    if (n >= 0 && (size_t) n < sizeof eb->msg) {
        snprintf(eb->msg + n, sizeof eb->msg - n, "%s", old);
    }
}

bool
errbuf_is_set(const struct errbuf *eb)
{
    return eb && eb->msg[0];
}
