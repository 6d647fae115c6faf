/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_CODEC_UFID_H
#define WEIR_CODEC_UFID_H 1

/* Unique flow identifiers (UFIDs) and their text form.
 *
 * What
 * ====
 *
 * A UFID is the 1..16 opaque bytes of OVS_FLOW_ATTR_UFID that a client
 * chooses to name a datapath flow.  Open vSwitch always uses 16 bytes and
 * prints them as "ufid:" followed by a UUID, e.g.
 * "ufid:2d2fb4c7-1a4c-4d3e-9d53-3a5b8d4e6f70".
 *
 * Design
 * ======
 *
 * OVS keeps the 16 bytes as an ovs_u128, i.e. four 32-bit words in host
 * byte order, and prints them through its UUID format: word 0 as 8 hex
 * digits, word 1 as two groups of 4, word 2 as 4 + 4, word 3 as 8.  weir
 * does the same with the netlink bytes, so for the same bytes it prints
 * the same text as OVS running on the same host (on x86, each 4-byte group
 * appears byte-reversed compared with a plain hex dump).
 *
 * A UFID shorter than 16 bytes, which OVS never sends but the kernel
 * accepts, prints as "ufid:0x" followed by its bytes in plain hex order
 * ("ufid:0x0102" for the bytes 01 02).  A 16-byte UFID always prints in
 * the UUID form.
 *
 * Thread-safety
 * =============
 *
 * Reentrant; plain values.
 *
 * Ownership
 * =========
 *
 * 'struct ufid' is plain data, copied by value.  Inputs are borrowed;
 * text goes to the caller's sbuf.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct errbuf;
struct sbuf;

#define UFID_MAX_LEN 16
#define UFID_UUID_TEXT_LEN 36   /* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */

struct ufid {
    uint8_t len;                /* 1..16 bytes in 'id'. */
    uint8_t id[UFID_MAX_LEN];   /* Bytes past 'len' are zero. */
};

/* Appends the text of 'ufid' ("ufid:<uuid>" or "ufid:0x<hex>") to 'out'.
 * A 'ufid' whose 'len' is 0 or above 16 prints as "ufid:<invalid>". */
void ufid_format(const struct ufid *ufid, struct sbuf *out);

/* Parses "ufid:" followed by a UUID (16 bytes) or by "0x" and 2 to 32 hex
 * digits, an even number of them (1 to 16 bytes), at 's' into '*ufid'.
 * Hex digits may be upper or lower case.  Stops right after the last
 * digit; '*consumed' (if nonnull) is set to the characters used.
 *
 * Returns: 0; -EINVAL, with a reason in 'err', if 's' does not start with
 * a UFID in either form. */
int ufid_parse(const char *s, size_t *consumed, struct ufid *ufid,
               struct errbuf *err);

/* Returns true if 'a' and 'b' have the same length and bytes. */
bool ufid_equal(const struct ufid *a, const struct ufid *b);

/* Returns a hash of 'ufid' mixed with 'basis'.  UFIDs are usually random
 * already, so this is cheap rather than strong. */
uint32_t ufid_hash(const struct ufid *ufid, uint32_t basis);

#endif /* codec/ufid.h */
