/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/text.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
sbuf_init(struct sbuf *sb)
{
    sb->s = NULL;
    sb->len = 0;
    sb->cap = 0;
}

void
sbuf_uninit(struct sbuf *sb)
{
    if (sb) {
        free(sb->s);
        sbuf_init(sb);
    }
}

void
sbuf_clear(struct sbuf *sb)
{
    sb->len = 0;
    if (sb->s) {
        sb->s[0] = '\0';
    }
}

static void
sbuf_reserve(struct sbuf *sb, size_t extra)
{
    size_t need = sb->len + extra + 1;

    if (need > sb->cap) {
        size_t cap = sb->cap ? sb->cap : 64;

        while (cap < need) {
            cap *= 2;
        }
        sb->s = realloc(sb->s, cap);
        if (!sb->s) {
            abort();
        }
        sb->cap = cap;
    }
}

void
sbuf_putn(struct sbuf *sb, const char *s, size_t n)
{
    sbuf_reserve(sb, n);
    memcpy(sb->s + sb->len, s, n);
    sb->len += n;
    sb->s[sb->len] = '\0';
}

void
sbuf_put(struct sbuf *sb, const char *s)
{
    sbuf_putn(sb, s, strlen(s));
}

void
sbuf_putc(struct sbuf *sb, char c)
{
    sbuf_putn(sb, &c, 1);
}

void
sbuf_vprintf(struct sbuf *sb, const char *fmt, va_list args)
{
    va_list copy;
    size_t room;
    int n;

    /* Try in the space we have; grow and retry once if it was short. */
    sbuf_reserve(sb, 64);
    room = sb->cap - sb->len;
    va_copy(copy, args);
    n = vsnprintf(sb->s + sb->len, room, fmt, copy);
    va_end(copy);
    if (n < 0) {
        abort();
    }
    if ((size_t) n >= room) {
        sbuf_reserve(sb, n);
        vsnprintf(sb->s + sb->len, n + 1, fmt, args);
    }
    sb->len += n;
}

void
sbuf_printf(struct sbuf *sb, const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    sbuf_vprintf(sb, fmt, args);
    va_end(args);
}

void
sbuf_chop(struct sbuf *sb, size_t n)
{
    sb->len = n > sb->len ? 0 : sb->len - n;
    if (sb->s) {
        sb->s[sb->len] = '\0';
    }
}

const char *
sbuf_str(const struct sbuf *sb)
{
    return sb->s ? sb->s : "";
}

void
sbuf_put_hex(struct sbuf *sb, const void *p_, size_t n)
{
    const uint8_t *p = p_;

    for (size_t i = 0; i < n; i++) {
        sbuf_printf(sb, "%02x", p[i]);
    }
}

int
hex_digit_value(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    } else if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int
hex_to_bytes(const char *s, uint8_t *out, size_t max)
{
    size_t n = 0;
    int hi = -1;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
    }
    for (; *s; s++) {
        int v;

        if (isspace((unsigned char) *s)) {
            continue;
        }
        v = hex_digit_value((unsigned char) *s);
        if (v < 0) {
            return -EINVAL;
        }
        if (hi < 0) {
            hi = v;
        } else {
            if (n >= max) {
                return -EMSGSIZE;
            }
            out[n++] = (uint8_t) (hi << 4 | v);
            hi = -1;
        }
    }
    return hi < 0 ? (int) n : -EINVAL;
}
