/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target for the action executor (dp/execute.c, dp/execute-edit.c
 * and the header edits of packet/packet-edit.c).
 *
 * Input layout:
 *
 *   bytes 0-1   length N of the action list, big-endian (cut to what the
 *               input holds)
 *   byte  2     batch and depth: 1 + (b % 3) copies of the frame, first
 *               pass at recirculation depth (b / 3) % (DPX_MAX_RECIRC + 1)
 *   byte  3     seed of the environment's random() (for sample())
 *   N bytes     the action list, OVS_ACTION_ATTR_* netlink attributes
 *   the rest    the Ethernet frame
 *
 * The datapath runs only lists it accepted at flow install, on packets of
 * that flow, so the target does the same: the frame must parse
 * (packet_parse()), and the list must pass act_validate() against its key
 * and dpx_check_supported(); only then does dpx_execute() run it on the
 * batch.
 *
 * The environment frees whatever leaves the list.  output() and upcall()
 * read every byte they are given, so that ASan sees a packet, or a
 * truncated view of one, that claims bytes it does not have.  recirc()
 * parses the packets again, as the datapath does, and runs the same list
 * on those whose new key it still validates against (a flow's actions
 * only meet packets that its key matches), at most MAX_RERUNS passes per
 * input: recirc() inside clone() could otherwise fan out exponentially
 * below DPX_MAX_RECIRC.
 *
 * Besides the sanitizers, the target checks the promises of execute.h and
 * aborts if one breaks: dpx_execute() empties the batch; output gets no
 * pending cutlen; recirculated packets are Ethernet frames, at the next
 * depth, never beyond DPX_MAX_RECIRC; drops have a real reason; an
 * upcall's action list lies inside the list being run; and an upcall's
 * key describes the bytes that come with it (unless the list has a
 * trunc(): an upcall then may see a cut view, whose key is the whole
 * packet's). */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/actions-nl.h"
#include "codec/actions-text.h"
#include "dp/drop.h"
#include "dp/execute.h"
#include "lib/errbuf.h"
#include "lib/text.h"
#include "packet/flow-extract.h"
#include "packet/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR_LEN 4               /* Length, batch and depth, seed. */
#define MAX_RERUNS 16           /* Recirculation passes per input. */

/* The environment's state, for one input. */
struct fz {
    const uint8_t *acts;        /* The list (an exact-size copy). */
    size_t acts_len;
    bool may_trunc;             /* The list has a trunc() somewhere. */
    uint32_t rng;               /* fz_random()'s state. */
    int reruns;                 /* Recirculation passes run so far. */
    uint32_t sink;              /* What reading the bytes added up to. */
};

static void env_init(struct dpx_env *env, struct fz *z, int depth);

/* Reads every byte of 'p', so that ASan checks them. */
static void
touch(struct fz *z, const struct packet *p)
{
    for (uint32_t i = 0; i < p->len; i++) {
        z->sink += p->data[i];
    }
}

static void
fz_output(void *aux, uint32_t port, struct pkt_batch *b)
{
    struct fz *z = aux;

    (void) port;
    if (!b->n || b->n > PKT_BATCH_MAX) {
        abort();
    }
    for (uint32_t i = 0; i < b->n; i++) {
        if (b->pkts[i]->cutlen) {
            abort();
        }
        touch(z, b->pkts[i]);
    }
    pkt_batch_free(b);
}

static int
fz_upcall(void *aux, const struct packet *p, const struct flow_key *key,
          const struct act_userspace *u, const void *actions,
          size_t actions_len)
{
    struct fz *z = aux;
    const uint8_t *ud = u->userdata;
    const uint8_t *list = actions;
    struct flow_key fresh;

    touch(z, p);
    for (size_t i = 0; i < u->userdata_len; i++) {
        z->sink += ud[i];
    }
    if ((list != NULL) != u->include_actions || (!list && actions_len)) {
        abort();
    }
    if (list
        && (list < z->acts || actions_len > z->acts_len
            || (size_t) (list - z->acts) > z->acts_len - actions_len)) {
        abort();
    }
    if (key->mac_proto == FKEY_MAC_ETHERNET && !z->may_trunc
        && (fkey_extract(p->data, p->len, &p->md, &fresh)
            || memcmp(&fresh, key, sizeof fresh))) {
        abort();                /* A stale key. */
    }
    return 0;
}

static void
fz_recirc(void *aux, struct pkt_batch *b, int depth)
{
    struct fz *z = aux;
    struct flow_key keys[PKT_BATCH_MAX];
    struct pkt_batch next;
    struct dpx_env env;

    if (!b->n || b->n > PKT_BATCH_MAX || depth < 1
        || depth > DPX_MAX_RECIRC) {
        abort();
    }
    pkt_batch_init(&next);
    for (uint32_t i = 0; i < b->n; i++) {
        struct packet *p = b->pkts[i];

        /* A recirculated packet is an Ethernet frame, so it parses; a
         * pending trunc() stays pending, as in the datapath. */
        if (packet_parse(p, &keys[next.n])) {
            abort();
        }
        touch(z, p);
        if (z->reruns >= MAX_RERUNS
            || act_validate(z->acts, z->acts_len, &keys[next.n], NULL)) {
            packet_free(p);
            continue;
        }
        pkt_batch_add(&next, p);
    }
    b->n = 0;
    if (!next.n) {
        return;
    }
    z->reruns++;
    env_init(&env, z, depth);
    dpx_execute(&env, &next, keys, z->acts, z->acts_len);
    if (next.n) {
        abort();
    }
}

static void
fz_drop(void *aux, enum dp_drop_reason reason, uint32_t n)
{
    (void) aux;
    if ((unsigned int) reason >= DP_N_DROP_REASONS || !n) {
        abort();
    }
}

/* sample()'s coin: a linear congruential generator (Numerical Recipes'
 * constants).  Its low bits are poor, but sample() compares the whole
 * value with the probability, which the high bits decide. */
static uint32_t
fz_random(void *aux)
{
    struct fz *z = aux;

    z->rng = z->rng * 1664525u + 1013904223u;
    return z->rng;
}

static void
env_init(struct dpx_env *env, struct fz *z, int depth)
{
    memset(env, 0, sizeof *env);
    env->aux = z;
    env->output = fz_output;
    env->upcall = fz_upcall;
    env->recirc = fz_recirc;
    env->drop = fz_drop;
    env->random = fz_random;
    env->depth = depth;
}

/* True if the list 'acts' has a trunc() at any depth.  The text form
 * says so plainly; nothing else in it can read "trunc(". */
static bool
has_trunc(const void *acts, size_t len)
{
    struct sbuf s = SBUF_INIT;
    bool found;

    act_format(acts, len, &s);
    found = strstr(sbuf_str(&s), "trunc(") != NULL;
    sbuf_uninit(&s);
    return found;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct flow_key keys[3];
    struct pkt_batch b;
    struct dpx_env env;
    struct packet *p;
    struct fz z;
    size_t acts_len, frame_len;
    uint8_t *acts;
    int n_copies, depth;

    if (size < HDR_LEN) {
        return 0;
    }
    acts_len = (size_t) data[0] << 8 | data[1];
    if (acts_len > size - HDR_LEN) {
        acts_len = size - HDR_LEN;
    }
    frame_len = size - HDR_LEN - acts_len;
    n_copies = 1 + data[2] % 3;
    depth = data[2] / 3 % (DPX_MAX_RECIRC + 1);

    p = packet_create(data + HDR_LEN + acts_len, frame_len);
    if (!p) {
        return 0;
    }
    p->md.in_port = 1;
    if (packet_parse(p, &keys[0])) {
        packet_free(p);
        return 0;
    }

    /* An exact-size copy, so that ASan sees any read past the end. */
    acts = malloc(acts_len ? acts_len : 1);
    if (!acts) {
        packet_free(p);
        return 0;
    }
    memcpy(acts, data + HDR_LEN, acts_len);
    if (act_validate(acts, acts_len, &keys[0], NULL)
        || dpx_check_supported(acts, acts_len, NULL)) {
        packet_free(p);
        free(acts);
        return 0;
    }

    memset(&z, 0, sizeof z);
    z.acts = acts;
    z.acts_len = acts_len;
    z.may_trunc = has_trunc(acts, acts_len);
    z.rng = data[3];

    pkt_batch_init(&b);
    pkt_batch_add(&b, p);
    for (int i = 1; i < n_copies; i++) {
        struct packet *c = packet_clone(p);

        if (!c) {
            break;
        }
        keys[i] = keys[0];
        pkt_batch_add(&b, c);
    }
    env_init(&env, &z, depth);
    dpx_execute(&env, &b, keys, acts, acts_len);
    if (b.n) {
        abort();
    }
    free(acts);
    return 0;
}
