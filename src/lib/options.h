/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_LIB_OPTIONS_H
#define WEIR_LIB_OPTIONS_H 1

/* Option strings: "key=value,key=value".
 *
 * What
 * ====
 *
 * The one parser of the option strings that port providers take
 * (port_open()'s 'options').  A caller describes the keys it knows in a
 * table of 'struct opt_def', each with a type and a place for its value,
 * and opts_parse() checks the whole string against the table:
 *
 *   OPT_BOOL   "true" or "false".
 *   OPT_U32    decimal digits only (no sign, no spaces), from 'min' to
 *              'max', and with 'pow2' a power of 2 too.
 *   OPT_STR    any text but the empty string (a value cannot hold a comma).
 *   OPT_ENUM   one of 'names'; the value is its index in 'names'.
 *   OPT_MAC    a MAC address "xx:xx:xx:xx:xx:xx" (hex digits of either
 *              case).
 *
 * A NULL or empty string sets no option.  Otherwise every comma-separated
 * item must be "key=value" with a key of the table, each key at most
 * once.  The first item that breaks a rule makes opts_parse() return
 * -EINVAL with a reason that names the key or the item:
 *
 *   empty option in 'loop=true,'
 *   unknown option 'speed' (tap ports know mac and mtu)
 *   option 'loop' has no value (key=value)
 *   option 'loop' given twice
 *   option 'capture': 'yes' is not true or false
 *   n_rxq must be 1 to 64, not '0'
 *   ring_size must be a power of 2 from 64 to 16384, not '100'
 *   mode must be auto, native or generic, not 'fast'
 *   option 'rx' needs a file name
 *   option 'mac': '02:11' is not a MAC address (xx:xx:xx:xx:xx:xx)
 *
 * Checks that involve more than one value, or that say more of a value
 * than its type can (a MAC address must be unicast), are the caller's,
 * after opts_parse() returned 0.
 *
 * Design
 * ======
 *
 * opts_parse() parses into a scratch copy of the values and writes the
 * destinations only once the whole string has passed: a call that fails
 * writes nothing at all, so a caller may preset its defaults in the
 * destinations themselves and need not undo anything on error.
 *
 * Thread-safety
 * =============
 *
 * opts_parse() is reentrant; the destinations are the caller's to guard.
 *
 * Ownership
 * =========
 *
 * The table and the option string are borrowed.  The value of a given
 * OPT_STR key is a malloc'd copy that opts_parse() stores in '*str' on
 * success, replacing what was there without freeing it (start it as
 * NULL); from then on the caller frees it.  When opts_parse() fails, the
 * copies it made are freed and '*str' keeps what it held.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct errbuf;

enum opt_type {
    OPT_BOOL,
    OPT_U32,
    OPT_STR,
    OPT_ENUM,
    OPT_MAC,
};

/* One key an option string may give.  Set 'key', 'type', the member of
 * the union that 'type' names and that type's fields, by name:
 *
 *     { .key = "n_rxq", .type = OPT_U32, .u32 = &n_rxq, .min = 1,
 *       .max = 64 },
 */
struct opt_def {
    const char *key;
    enum opt_type type;
    union {                     /* Where the value goes. */
        bool *b;                /* OPT_BOOL. */
        uint32_t *u32;          /* OPT_U32. */
        char **str;             /* OPT_STR: a malloc'd copy. */
        int *index;             /* OPT_ENUM: an index into 'names'. */
        uint8_t *mac;           /* OPT_MAC: 6 bytes. */
    };
    uint32_t min, max;          /* OPT_U32: the range, both included. */
    bool pow2;                  /* OPT_U32: a power of 2 too. */
    const char *const *names;   /* OPT_ENUM: the values, NULL-terminated. */
    const char *what;           /* OPT_STR: what the value is, for the
                                 * reason an empty one gets ("a file
                                 * name"); NULL: "a value". */
    bool *seen;                 /* Optional: set to whether the key was
                                 * given (on success only). */
};

/* Parses 'options' (NULL or "" for none) against the 'n_defs' keys at
 * 'defs'.  'owner' names who knows those keys, in the plural, for the
 * reason an unknown key gets: "tap ports" gives "unknown option 'speed'
 * (tap ports know mac and mtu)", or with no keys at all "(tap ports take
 * no options)".
 *
 * Returns: 0 after storing the value of every key given (and every
 * 'seen'); keys not given leave their destination as it was.  -EINVAL (a
 * broken rule), or -ENOMEM, with a reason in 'err' and nothing stored.
 * 'err' is not touched on success.
 *
 * Context: any; reentrant.  Allocates. */
int opts_parse(const char *options, const struct opt_def *defs,
               size_t n_defs, const char *owner, struct errbuf *err);

#endif /* lib/options.h */
