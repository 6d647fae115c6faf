/* SPDX-License-Identifier: Apache-2.0 */
/* dpx-golden: runs one golden case of the action executor.
 *
 * Usage: dpx-golden CASEDIR
 *
 * CASEDIR is one case written by tests/data/gen-action-goldens.py (see
 * its docstring for the files).  The runner does what the datapath does
 * around dpx_execute(): it parses every input packet (a frame shorter
 * than 14 bytes is dropped, DP_DROP_TOO_SHORT), validates the action list
 * with act_validate() (with the first packet's key unless the case says
 * "validate none") and dpx_check_supported(), runs the list once on the
 * whole batch with a recording environment, and compares what came out
 * with what scapy expects: the bytes per output port in order, the
 * upcalls and the recirculations (bytes, in order, and their metadata),
 * and the drop counts per reason.  Each upcall's key must also equal a
 * fresh parse of the upcalled bytes (unless "keycheck=no").
 *
 * Prints one line per difference and exits 1 if there was any, 0 if none,
 * 2 if the case cannot be read.  Run by tests/system/
 * test_action_goldens.py; not a Meson test. */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libmnl/libmnl.h>

#include "codec/actions-nl.h"
#include "codec/actions-text.h"
#include "dp/drop.h"
#include "dp/execute.h"
#include "lib/errbuf.h"
#include "lib/text.h"
#include "packet/flow-extract.h"
#include "packet/packet.h"

#define MAX_ITEMS 256
#define ACTS_MAX 8192

struct blob {
    uint8_t *bytes;
    size_t len;
};

/* Something that left the action list. */
struct item {
    struct blob pkt;
    uint32_t port;              /* Output port; recirc depth. */
    struct pkt_metadata md;
    struct flow_key key;        /* Upcalls. */
    struct act_userspace u;     /* Upcalls; userdata copied below. */
    struct blob userdata;
    struct blob actions;        /* Upcalls: the list passed, or empty. */
    bool has_actions;
};

struct record {
    struct item out[MAX_ITEMS];
    int n_out;
    struct item up[MAX_ITEMS];
    int n_up;
    struct item recirc[MAX_ITEMS];
    int n_recirc;
    uint64_t drops[DP_N_DROP_REASONS];
    uint32_t random;
};

static int n_failures;

static void
fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
    va_list args;

    va_start(args, fmt);
    fputs("FAIL: ", stdout);
    vprintf(fmt, args);
    fputc('\n', stdout);
    va_end(args);
    n_failures++;
}

static void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p) {
        fprintf(stderr, "dpx-golden: out of memory\n");
        exit(2);
    }
    return p;
}

static struct blob
blob_copy(const void *p, size_t n)
{
    struct blob b = { xmalloc(n), n };

    if (n) {
        memcpy(b.bytes, p, n);
    }
    return b;
}

static struct item *
next_item(struct item *items, int *n)
{
    if (*n >= MAX_ITEMS) {
        fprintf(stderr, "dpx-golden: more than %d results\n", MAX_ITEMS);
        exit(2);
    }
    memset(&items[*n], 0, sizeof items[*n]);
    return &items[(*n)++];
}

/* ---- The recording environment. ---- */

static void
rec_output(void *aux, uint32_t port, struct pkt_batch *b)
{
    struct record *r = aux;

    for (uint32_t i = 0; i < b->n; i++) {
        struct item *it = next_item(r->out, &r->n_out);

        it->pkt = blob_copy(b->pkts[i]->data, b->pkts[i]->len);
        it->port = port;
        it->md = b->pkts[i]->md;
        if (b->pkts[i]->cutlen) {
            fail("output to port %"PRIu32" with cutlen %"PRIu32, port,
                 b->pkts[i]->cutlen);
        }
    }
    pkt_batch_free(b);
}

static int
rec_upcall(void *aux, const struct packet *p, const struct flow_key *key,
           const struct act_userspace *u, const void *actions,
           size_t actions_len)
{
    struct record *r = aux;
    struct item *it = next_item(r->up, &r->n_up);

    it->pkt = blob_copy(p->data, p->len);
    it->md = p->md;
    it->key = *key;
    it->u = *u;
    it->userdata = blob_copy(u->userdata, u->userdata_len);
    it->u.userdata = NULL;
    it->has_actions = actions != NULL;
    it->actions = blob_copy(actions, actions_len);
    return 0;
}

static void
rec_recirc(void *aux, struct pkt_batch *b, int depth)
{
    struct record *r = aux;

    for (uint32_t i = 0; i < b->n; i++) {
        struct item *it = next_item(r->recirc, &r->n_recirc);

        it->pkt = blob_copy(b->pkts[i]->data, b->pkts[i]->len);
        it->port = (uint32_t) depth;
        it->md = b->pkts[i]->md;
    }
    pkt_batch_free(b);
}

static void
rec_drop(void *aux, enum dp_drop_reason reason, uint32_t n)
{
    struct record *r = aux;

    if ((unsigned int) reason >= DP_N_DROP_REASONS) {
        fail("drop with bad reason %d", (int) reason);
        return;
    }
    r->drops[reason] += n;
}

static uint32_t
rec_random(void *aux)
{
    return ((struct record *) aux)->random;
}

/* ---- Reading the case. ---- */

static char case_dir[4096];

static const char *
case_path(const char *name)
{
    static char path[4200];

    snprintf(path, sizeof path, "%s/%s", case_dir, name);
    return path;
}

/* Reads every frame of pcap file 'name' into 'out'.  Returns the number
 * read, or -1 if the file does not exist. */
static int
read_pcap(const char *name, struct blob *out, int max)
{
    char err[PCAP_ERRBUF_SIZE];
    struct pcap_pkthdr *hdr;
    const u_char *data;
    pcap_t *pcap;
    int n = 0;

    if (access(case_path(name), F_OK)) {
        return -1;
    }
    pcap = pcap_open_offline(case_path(name), err);
    if (!pcap) {
        fprintf(stderr, "dpx-golden: %s: %s\n", case_path(name), err);
        exit(2);
    }
    while (pcap_next_ex(pcap, &hdr, &data) == 1) {
        if (n >= max) {
            fprintf(stderr, "dpx-golden: %s: too many packets\n", name);
            exit(2);
        }
        out[n++] = blob_copy(data, hdr->caplen);
    }
    pcap_close(pcap);
    return n;
}

/* Reads text file 'name' into 'buf', without the trailing newline. */
static void
read_text(const char *name, char *buf, size_t size)
{
    FILE *f = fopen(case_path(name), "r");
    size_t n;

    if (!f) {
        fprintf(stderr, "dpx-golden: %s: %s\n", case_path(name),
                strerror(errno));
        exit(2);
    }
    n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) {
        buf[--n] = '\0';
    }
}

/* Encodes action text into 'acts'; returns its length. */
static size_t
parse_actions(const char *text, uint8_t *acts, size_t size)
{
    union {
        struct nlmsghdr nlh;
        uint8_t b[ACTS_MAX + MNL_NLMSG_HDRLEN];
    } u;
    struct errbuf eb;
    size_t used, len;

    memset(&u, 0, sizeof u);
    mnl_nlmsg_put_header(u.b);
    if (act_parse(text, &used, &u.nlh, sizeof u, &eb) || text[used]) {
        fprintf(stderr, "dpx-golden: actions \"%s\": %s\n", text,
                text[used] ? "trailing text" : eb.msg);
        exit(2);
    }
    len = mnl_nlmsg_get_payload_len(&u.nlh);
    if (len > size) {
        exit(2);
    }
    memcpy(acts, mnl_nlmsg_get_payload(&u.nlh), len);
    return len;
}

/* Returns a heap copy of the string in 'sb' and frees 'sb'. */
static char *
sbuf_take(struct sbuf *sb)
{
    char *s = strdup(sbuf_str(sb));

    if (!s) {
        exit(2);
    }
    sbuf_uninit(sb);
    return s;
}

/* Formats an action list canonically. */
static char *
format_actions(const void *acts, size_t len)
{
    struct sbuf sb = SBUF_INIT;

    act_format(acts, len, &sb);
    return sbuf_take(&sb);
}

/* ---- Comparing. ---- */

static void
hexdump(const char *label, const struct blob *b)
{
    printf("  %s (%zu bytes):", label, b->len);
    for (size_t i = 0; i < b->len; i++) {
        printf("%s%02x", i % 32 ? (i % 2 ? "" : " ") : "\n    ",
               b->bytes[i]);
    }
    printf("\n");
}

static void
compare_bytes(const char *what, const struct blob *want,
              const struct blob *got)
{
    size_t n = want->len < got->len ? want->len : got->len;
    size_t i;

    for (i = 0; i < n && want->bytes[i] == got->bytes[i]; i++) {
        continue;
    }
    if (i == n && want->len == got->len) {
        return;
    }
    fail("%s: bytes differ at offset %zu (expected %zu bytes, got %zu)",
         what, i, want->len, got->len);
    hexdump("expected", want);
    hexdump("got", got);
}

/* Checks one "key=value" metadata token of an expectation against 'it'. */
static void
check_md_token(const char *what, const char *tok, const struct item *it,
               bool is_upcall)
{
    const char *eq = strchr(tok, '=');
    size_t klen = eq ? (size_t) (eq - tok) : strlen(tok);
    const char *v = eq ? eq + 1 : "";
    unsigned long long want = strtoull(v, NULL, 0);
    uint64_t got;

#define KEY_IS(S) (klen == strlen(S) && !strncmp(tok, S, klen))
    if (KEY_IS("priority")) {
        got = it->md.priority;
    } else if (KEY_IS("mark")) {
        got = it->md.skb_mark;
    } else if (KEY_IS("recirc_id") || KEY_IS("id")) {
        got = it->md.recirc_id;
    } else if (KEY_IS("in_port")) {
        got = it->md.in_port;
    } else if (KEY_IS("l3_type")) {
        got = ntohs(it->md.l3_type);
    } else if (KEY_IS("depth") && !is_upcall) {
        got = it->port;
    } else if (KEY_IS("pid") && is_upcall) {
        got = it->u.pid;
    } else if (KEY_IS("dp_hash")) {
        got = it->md.dp_hash;
        if (!strcmp(v, "nonzero")) {
            if (!got) {
                fail("%s: dp_hash is 0", what);
            }
            if (is_upcall && it->key.dp_hash != it->md.dp_hash) {
                fail("%s: key dp_hash %#"PRIx32" != packet's %#"PRIx64,
                     what, it->key.dp_hash, got);
            }
            return;
        }
    } else if (KEY_IS("userdata") && is_upcall) {
        struct sbuf sb = SBUF_INIT;
        char *hex;

        for (size_t i = 0; i < it->userdata.len; i++) {
            sbuf_printf(&sb, "%02x", it->userdata.bytes[i]);
        }
        hex = sbuf_take(&sb);
        if (strcmp(v, "-") ? it->u.userdata_len == 0 || strcmp(v, hex)
                           : it->userdata.len != 0) {
            fail("%s: userdata %s, expected %s", what,
                 *hex ? hex : "-", v);
        }
        free(hex);
        return;
    } else if (KEY_IS("actions") && is_upcall) {
        if (!strcmp(v, "-")) {
            if (it->has_actions) {
                fail("%s: actions passed, none expected", what);
            }
        } else {
            uint8_t acts[ACTS_MAX];
            size_t len = parse_actions(v, acts, sizeof acts);
            char *want_text = format_actions(acts, len);
            char *got_text = format_actions(it->actions.bytes,
                                            it->actions.len);

            if (!it->has_actions || strcmp(want_text, got_text)) {
                fail("%s: actions \"%s\", expected \"%s\"", what,
                     it->has_actions ? got_text : "(none)", want_text);
            }
            free(want_text);
            free(got_text);
        }
        return;
    } else if (KEY_IS("keycheck")) {
        return;                 /* Handled by the caller. */
    } else {
        fprintf(stderr, "dpx-golden: unknown token \"%s\"\n", tok);
        exit(2);
    }
#undef KEY_IS
    if (got != want) {
        fail("%s: %.*s is %"PRIu64", expected %llu", what, (int) klen, tok,
             got, want);
    }
}

/* Checks the tokens of one "upcall ..." or "recirc ..." line. */
static void
check_md_line(const char *what, char *line, const struct item *it,
              bool is_upcall)
{
    char *save = NULL;

    for (char *tok = strtok_r(line, " ", &save); tok;
         tok = strtok_r(NULL, " ", &save)) {
        check_md_token(what, tok, it, is_upcall);
    }
}

/* The upcall's key must be what the upcalled bytes parse to. */
static void
check_upcall_key(const char *what, const struct item *it)
{
    struct flow_key fresh;

    /* With or without an Ethernet header: md.l3_type says which. */
    if (fkey_extract(it->pkt.bytes, it->pkt.len, &it->md, &fresh)) {
        fail("%s: upcalled frame has no key", what);
    } else if (memcmp(&fresh, &it->key, sizeof fresh)) {
        fail("%s: key passed to the upcall is not the packet's key", what);
    }
}

static int
port_of(const char *name)
{
    unsigned int port;
    int n;

    if (sscanf(name, "out-%u.pcap%n", &port, &n) == 1
        && (size_t) n == strlen(name)) {
        return (int) port;
    }
    return -1;
}

static void
compare_outputs(const struct record *r)
{
    static struct blob want[MAX_ITEMS];
    bool seen[MAX_ITEMS] = { false };
    struct dirent *de;
    DIR *dir = opendir(case_dir);

    if (!dir) {
        fprintf(stderr, "dpx-golden: %s: %s\n", case_dir, strerror(errno));
        exit(2);
    }
    while ((de = readdir(dir))) {
        char name[300], what[64];
        int port = port_of(de->d_name);
        int n, k = 0;

        if (port < 0) {
            continue;
        }
        snprintf(name, sizeof name, "%s", de->d_name);
        n = read_pcap(name, want, MAX_ITEMS);
        for (int i = 0; i < r->n_out; i++) {
            if (r->out[i].port != (uint32_t) port) {
                continue;
            }
            seen[i] = true;
            if (k < n) {
                snprintf(what, sizeof what, "port %d packet %d", port, k);
                compare_bytes(what, &want[k], &r->out[i].pkt);
            }
            k++;
        }
        if (k != n) {
            fail("port %d: %d packets, expected %d", port, k, n);
        }
        for (int i = 0; i < n; i++) {
            free(want[i].bytes);
        }
    }
    closedir(dir);
    for (int i = 0; i < r->n_out; i++) {
        if (!seen[i]) {
            fail("unexpected output to port %"PRIu32, r->out[i].port);
        }
    }
}

/* Compares upcalls or recirculations with "upcalls.pcap"/"recirc.pcap"
 * and the matching expectation lines. */
static void
compare_items(const char *kind, const char *pcap, const struct item *items,
              int n_items, char **lines, int n_lines, bool is_upcall)
{
    static struct blob want[MAX_ITEMS];
    int n = read_pcap(pcap, want, MAX_ITEMS);

    if (n < 0) {
        n = 0;
    }
    if (n != n_lines) {
        fprintf(stderr, "dpx-golden: %s: %d packets but %d lines\n", pcap,
                n, n_lines);
        exit(2);
    }
    if (n_items != n) {
        fail("%d %ss, expected %d", n_items, kind, n);
    }
    for (int i = 0; i < n && i < n_items; i++) {
        char what[64];

        snprintf(what, sizeof what, "%s %d", kind, i);
        compare_bytes(what, &want[i], &items[i].pkt);
        if (is_upcall && !strstr(lines[i], "keycheck=no")) {
            check_upcall_key(what, &items[i]);
        }
        check_md_line(what, lines[i], &items[i], is_upcall);
    }
    for (int i = 0; i < n; i++) {
        free(want[i].bytes);
    }
}

static void
free_items(struct item *items, int n)
{
    for (int i = 0; i < n; i++) {
        free(items[i].pkt.bytes);
        free(items[i].userdata.bytes);
        free(items[i].actions.bytes);
    }
}

int
main(int argc, char *argv[])
{
    static struct record rec;
    static struct blob inputs[PKT_BATCH_MAX + 1];
    char *up_lines[MAX_ITEMS], *rc_lines[MAX_ITEMS];
    int n_up_lines = 0, n_rc_lines = 0;
    uint64_t want_drops[DP_N_DROP_REASONS] = { 0 };
    int hash_groups[MAX_ITEMS], n_hash_groups = -1;
    bool validate_key = true, want_supported = true;
    uint32_t in_port = 1;
    int depth = 0;
    struct flow_key keys[PKT_BATCH_MAX];
    uint8_t acts[ACTS_MAX];
    char text[ACTS_MAX], expect[16384];
    struct pkt_batch batch;
    struct dpx_env env;
    struct errbuf eb;
    char *save = NULL;
    size_t acts_len;
    int n_in, error;

    if (argc != 2) {
        fprintf(stderr, "usage: dpx-golden CASEDIR\n");
        return 2;
    }
    snprintf(case_dir, sizeof case_dir, "%s", argv[1]);

    read_text("actions", text, sizeof text);
    acts_len = parse_actions(text, acts, sizeof acts);
    read_text("expect", expect, sizeof expect);
    for (char *line = strtok_r(expect, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char word[32], arg[64];
        unsigned long long n;

        if (!strncmp(line, "upcall ", 7)) {
            up_lines[n_up_lines++] = line + 7;
        } else if (!strncmp(line, "recirc ", 7)) {
            rc_lines[n_rc_lines++] = line + 7;
        } else if (!strncmp(line, "hash-groups", 11)) {
            char *p = line + 11, *end;

            n_hash_groups = 0;
            for (long g = strtol(p, &end, 10); end != p;
                 g = strtol(p, &end, 10)) {
                hash_groups[n_hash_groups++] = (int) g;
                p = end;
            }
        } else if (sscanf(line, "drop %31s %llu", word, &n) == 2) {
            int r;

            for (r = 0; r < DP_N_DROP_REASONS; r++) {
                if (!strcmp(word, dp_drop_name((enum dp_drop_reason) r))) {
                    want_drops[r] = n;
                    break;
                }
            }
            if (r == DP_N_DROP_REASONS) {
                fprintf(stderr, "dpx-golden: unknown drop reason %s\n",
                        word);
                return 2;
            }
        } else if (sscanf(line, "%31s %63s", word, arg) == 2) {
            if (!strcmp(word, "in_port")) {
                in_port = (uint32_t) strtoul(arg, NULL, 0);
            } else if (!strcmp(word, "depth")) {
                depth = (int) strtol(arg, NULL, 0);
            } else if (!strcmp(word, "random")) {
                rec.random = (uint32_t) strtoul(arg, NULL, 0);
            } else if (!strcmp(word, "validate")) {
                validate_key = !strcmp(arg, "key");
            } else if (!strcmp(word, "supported")) {
                want_supported = !strcmp(arg, "yes");
            } else {
                fprintf(stderr, "dpx-golden: bad line \"%s\"\n", line);
                return 2;
            }
        } else {
            fprintf(stderr, "dpx-golden: bad line \"%s\"\n", line);
            return 2;
        }
    }

    /* The datapath's side: parse, drop what has no key, validate. */
    n_in = read_pcap("input.pcap", inputs, PKT_BATCH_MAX);
    if (n_in < 0) {
        fprintf(stderr, "dpx-golden: no input.pcap\n");
        return 2;
    }
    pkt_batch_init(&batch);
    for (int i = 0; i < n_in; i++) {
        struct packet *p = packet_create(inputs[i].bytes, inputs[i].len);

        if (!p) {
            return 2;
        }
        p->md.in_port = in_port;
        if (packet_parse(p, &keys[batch.n])) {
            packet_free(p);
            rec.drops[DP_DROP_TOO_SHORT]++;
            continue;
        }
        pkt_batch_add(&batch, p);
    }
    error = act_validate(acts, acts_len,
                         validate_key && batch.n ? &keys[0] : NULL, &eb);
    if (error) {
        fail("act_validate: %s", eb.msg);
    }
    error = dpx_check_supported(acts, acts_len, &eb);
    if (want_supported ? error != 0 : error != -EOPNOTSUPP) {
        fail("dpx_check_supported: %d (%s), expected %s", error, eb.msg,
             want_supported ? "0" : "-EOPNOTSUPP");
    }

    memset(&env, 0, sizeof env);
    env.aux = &rec;
    env.output = rec_output;
    env.upcall = rec_upcall;
    env.recirc = rec_recirc;
    env.drop = rec_drop;
    env.random = rec_random;
    env.depth = depth;
    dpx_execute(&env, &batch, keys, acts, acts_len);
    if (batch.n) {
        fail("batch not empty after dpx_execute()");
    }

    compare_outputs(&rec);
    compare_items("upcall", "upcalls.pcap", rec.up, rec.n_up, up_lines,
                  n_up_lines, true);
    compare_items("recirc", "recirc.pcap", rec.recirc, rec.n_recirc,
                  rc_lines, n_rc_lines, false);
    for (int r = 0; r < DP_N_DROP_REASONS; r++) {
        if (rec.drops[r] != want_drops[r]) {
            fail("drop %s: %"PRIu64", expected %"PRIu64,
                 dp_drop_name((enum dp_drop_reason) r), rec.drops[r],
                 want_drops[r]);
        }
    }
    if (n_hash_groups >= 0) {
        if (n_hash_groups != rec.n_recirc) {
            fail("hash-groups: %d groups for %d recirculated packets",
                 n_hash_groups, rec.n_recirc);
        }
        for (int i = 0; i < n_hash_groups && i < rec.n_recirc; i++) {
            for (int j = 0; j < i; j++) {
                bool same = rec.recirc[i].md.dp_hash
                            == rec.recirc[j].md.dp_hash;

                if (same != (hash_groups[i] == hash_groups[j])) {
                    fail("dp_hash of recirc %d (%#"PRIx32") and %d "
                         "(%#"PRIx32") should %s", i,
                         rec.recirc[i].md.dp_hash, j,
                         rec.recirc[j].md.dp_hash,
                         same ? "differ" : "be equal");
                }
            }
        }
    }

    free_items(rec.out, rec.n_out);
    free_items(rec.up, rec.n_up);
    free_items(rec.recirc, rec.n_recirc);
    for (int i = 0; i < n_in; i++) {
        free(inputs[i].bytes);
    }
    if (n_failures) {
        printf("%s: %d difference%s (actions: %s)\n", case_dir, n_failures,
               n_failures == 1 ? "" : "s", text);
        return 1;
    }
    printf("%s: ok\n", case_dir);
    return 0;
}
