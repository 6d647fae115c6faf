/* SPDX-License-Identifier: Apache-2.0 */
#include "lib/options.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/errbuf.h"
#include "lib/text.h"

/* The value of one key, parsed but not stored yet. */
struct opt_val {
    bool given;
    union {
        bool b;
        uint32_t u32;
        char *str;              /* Owned until stored. */
        int index;
        uint8_t mac[6];
    };
};

/* Appends 'word', the 'i'th of 'n' words, to the list in 'buf' ('size'
 * bytes, NUL-terminated), so that the words read "a", "a<conj>b" or "a,
 * b<conj>c" ('conj' is " and " or " or ").  A list too long is cut. */
static void
list_append(char *buf, size_t size, const char *word, size_t i, size_t n,
            const char *conj)
{
    size_t len = strlen(buf);

    snprintf(buf + len, size - len, "%s%s",
             !i ? "" : i + 1 < n ? ", " : conj, word);
}

/* Sets the reason for the unknown key 'key' in 'err': it lists the keys
 * of 'defs'. */
static void
set_unknown(const char *key, const struct opt_def *defs, size_t n_defs,
            const char *owner, struct errbuf *err)
{
    char known[ERRBUF_SIZE] = "";

    if (!n_defs) {
        errbuf_set(err, "unknown option '%s' (%s take no options)", key,
                   owner);
        return;
    }
    for (size_t i = 0; i < n_defs; i++) {
        list_append(known, sizeof known, defs[i].key, i, n_defs, " and ");
    }
    errbuf_set(err, "unknown option '%s' (%s know %s)", key, owner, known);
}

/* Sets the reason for 'value', which is none of the names of the OPT_ENUM
 * 'def', in 'err': it lists the names. */
static void
set_not_named(const struct opt_def *def, const char *value,
              struct errbuf *err)
{
    char names[ERRBUF_SIZE] = "";
    size_t n = 0;

    while (def->names[n]) {
        n++;
    }
    for (size_t i = 0; i < n; i++) {
        list_append(names, sizeof names, def->names[i], i, n, " or ");
    }
    errbuf_set(err, "%s must be %s, not '%s'", def->key, names, value);
}

/* Parses the decimal number 's' (digits only) into '*out'.  Returns false
 * if 's' is empty, holds anything but digits or exceeds UINT32_MAX. */
static bool
parse_u32(const char *s, uint32_t *out)
{
    uint64_t n = 0;

    if (!*s) {
        return false;
    }
    for (; *s; s++) {
        if (*s < '0' || *s > '9') {
            return false;
        }
        n = n * 10 + (uint64_t) (*s - '0');
        if (n > UINT32_MAX) {
            return false;
        }
    }
    *out = (uint32_t) n;
    return true;
}

/* Parses the MAC address 's' ("xx:xx:xx:xx:xx:xx") into 'mac'.  Returns
 * false if 's' is anything else. */
static bool
parse_mac(const char *s, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        int hi = hex_digit_value((unsigned char) s[0]);
        int lo = hi < 0 ? -1 : hex_digit_value((unsigned char) s[1]);

        if (lo < 0 || s[2] != (i < 5 ? ':' : '\0')) {
            return false;
        }
        mac[i] = (uint8_t) (hi << 4 | lo);
        s += 3;
    }
    return true;
}

/* Parses 'value', the value of 'def', into 'val'.  Returns 0, or -EINVAL
 * (-ENOMEM) with a reason in 'err'. */
static int
parse_value(const struct opt_def *def, const char *value,
            struct opt_val *val, struct errbuf *err)
{
    switch (def->type) {
    case OPT_BOOL:
        if (strcmp(value, "true") && strcmp(value, "false")) {
            errbuf_set(err, "option '%s': '%s' is not true or false",
                       def->key, value);
            return -EINVAL;
        }
        val->b = !strcmp(value, "true");
        return 0;

    case OPT_U32:
        if (!parse_u32(value, &val->u32)
            || val->u32 < def->min || val->u32 > def->max
            || (def->pow2 && (val->u32 & (val->u32 - 1)))) {
            errbuf_set(err, "%s must be %s%"PRIu32" to %"PRIu32", not '%s'",
                       def->key, def->pow2 ? "a power of 2 from " : "",
                       def->min, def->max, value);
            return -EINVAL;
        }
        return 0;

    case OPT_STR:
        if (!*value) {
            errbuf_set(err, "option '%s' needs %s", def->key,
                       def->what ? def->what : "a value");
            return -EINVAL;
        }
        val->str = strdup(value);
        if (!val->str) {
            errbuf_set(err, "out of memory");
            return -ENOMEM;
        }
        return 0;

    case OPT_ENUM:
        for (int i = 0; def->names[i]; i++) {
            if (!strcmp(value, def->names[i])) {
                val->index = i;
                return 0;
            }
        }
        set_not_named(def, value, err);
        return -EINVAL;

    case OPT_MAC:
        if (!parse_mac(value, val->mac)) {
            errbuf_set(err, "option '%s': '%s' is not a MAC address "
                       "(xx:xx:xx:xx:xx:xx)", def->key, value);
            return -EINVAL;
        }
        return 0;
    }
    abort();                    /* Not an opt_type: a bug in 'def'. */
}

/* Parses 'item', an item of the option string 'options' cut out of a
 * copy, into the value in 'vals' of its key among the 'n_defs' at
 * 'defs'.  Returns 0, or -EINVAL (-ENOMEM) with a reason in 'err'. */
static int
parse_item(char *item, const char *options, const struct opt_def *defs,
           size_t n_defs, struct opt_val *vals, const char *owner,
           struct errbuf *err)
{
    char *value = strchr(item, '=');
    struct opt_val *val;
    size_t i;

    if (!*item) {
        errbuf_set(err, "empty option in '%s'", options);
        return -EINVAL;
    }
    if (value) {
        *value++ = '\0';
    }
    for (i = 0; i < n_defs; i++) {
        if (!strcmp(item, defs[i].key)) {
            break;
        }
    }
    if (i == n_defs) {
        set_unknown(item, defs, n_defs, owner, err);
        return -EINVAL;
    }
    if (!value) {
        errbuf_set(err, "option '%s' has no value (key=value)", item);
        return -EINVAL;
    }
    val = &vals[i];
    if (val->given) {
        errbuf_set(err, "option '%s' given twice", item);
        return -EINVAL;
    }
    val->given = true;
    return parse_value(&defs[i], value, val, err);
}

/* Stores the values in 'vals' (NULL: none given) of the 'n_defs' keys at
 * 'defs' in their destinations. */
static void
store_values(const struct opt_def *defs, size_t n_defs,
             const struct opt_val *vals)
{
    for (size_t i = 0; i < n_defs; i++) {
        const struct opt_def *def = &defs[i];
        const struct opt_val *val = vals ? &vals[i] : NULL;
        bool given = val && val->given;

        if (def->seen) {
            *def->seen = given;
        }
        if (!given) {
            continue;
        }
        switch (def->type) {
        case OPT_BOOL:
            *def->b = val->b;
            break;
        case OPT_U32:
            *def->u32 = val->u32;
            break;
        case OPT_STR:
            *def->str = val->str;
            break;
        case OPT_ENUM:
            *def->index = val->index;
            break;
        case OPT_MAC:
            memcpy(def->mac, val->mac, sizeof val->mac);
            break;
        }
    }
}

int
opts_parse(const char *options, const struct opt_def *defs, size_t n_defs,
           const char *owner, struct errbuf *err)
{
    struct opt_val *vals;
    char *copy, *item, *next;
    size_t len;
    int error = 0;

    if (!options || !*options) {
        store_values(defs, n_defs, NULL);
        return 0;
    }

    /* One block: the values, then the copy of 'options' that the loop
     * cuts into items and keys. */
    len = strlen(options);
    vals = calloc(1, n_defs * sizeof *vals + len + 1);
    if (!vals) {
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    copy = (char *) (vals + n_defs);
    memcpy(copy, options, len + 1);

    /* strtok_r() would skip empty items; an empty item is an error. */
    for (item = copy; item && !error; item = next) {
        next = strchr(item, ',');
        if (next) {
            *next++ = '\0';
        }
        error = parse_item(item, options, defs, n_defs, vals, owner, err);
    }

    if (!error) {
        store_values(defs, n_defs, vals);
    } else {
        /* An OPT_STR value not given is NULL (calloc). */
        for (size_t i = 0; i < n_defs; i++) {
            if (defs[i].type == OPT_STR) {
                free(vals[i].str);
            }
        }
    }
    free(vals);
    return error;
}
