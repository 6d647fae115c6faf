/* SPDX-License-Identifier: Apache-2.0 */
/* "weir flow ...": the flow codecs from the command line.
 *
 *   extract FILE.pcap [--in-port N]   one exact flow key per packet
 *   parse [--verbose|-m] TEXT|-       text -> netlink -> flow_key -> text
 *   encode-nl [--actions] TEXT|-      text -> netlink bytes (hex)
 *   decode-nl [--actions] [--check] HEX|-   netlink bytes (hex) -> text
 *
 * With '-', each line of standard input is one input and yields exactly
 * one output line (an "error: ..." line for a bad input), so that batch
 * users can pair outputs with inputs; the exit status is then 1 if any line
 * failed.  extract keeps one line per packet the same way: a frame too
 * short for a key prints an "error: ..." line and does not change the exit
 * status. */

#include "tools/weir.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "codec/actions-nl.h"
#include "codec/actions-text.h"
#include "codec/fkey-nl.h"
#include "codec/fkey-text.h"
#include "codec/ufid.h"
#include "lib/errbuf.h"
#include "lib/text.h"
#include "packet/flow-extract.h"
#include "packet/flow-key.h"

/* Room for one key or mask stream; the kernel's keys are far smaller. */
#define KEY_BUF_SIZE 4096
/* The longest action list accepted, as in Open vSwitch's parser: what a
 * 16-bit netlink length can count (each action attribute, too, is held to
 * that by the codec).  Inside an OVS_FLOW_ATTR_ACTIONS attribute only 65531
 * bytes fit; the protocol layer enforces that. */
#define ACT_TEXT_MAX 65535
#define ACT_BUF_SIZE (MNL_NLMSG_HDRLEN + ACT_TEXT_MAX)

/* A bare netlink attribute stream built with libmnl: a message header
 * followed by attributes.  The stream is the message payload. */
struct nlstream {
    struct nlmsghdr *nlh;
    size_t size;
};

static void
nlstream_init(struct nlstream *ns, size_t size)
{
    void *buf = calloc(1, size);

    if (!buf) {
        abort();
    }
    ns->nlh = mnl_nlmsg_put_header(buf);
    ns->size = size;
}

static void
nlstream_uninit(struct nlstream *ns)
{
    free(ns->nlh);
}

static void
nlstream_reset(struct nlstream *ns)
{
    ns->nlh->nlmsg_len = MNL_NLMSG_HDRLEN;
}

static const void *
nlstream_data(const struct nlstream *ns)
{
    return mnl_nlmsg_get_payload(ns->nlh);
}

static size_t
nlstream_len(const struct nlstream *ns)
{
    return ns->nlh->nlmsg_len - MNL_NLMSG_HDRLEN;
}

/* Copies 'n' raw bytes into the stream as they are (for decode-nl). */
static void
nlstream_put_raw(struct nlstream *ns, const uint8_t *p, size_t n)
{
    nlstream_reset(ns);
    memcpy(mnl_nlmsg_get_payload_tail(ns->nlh), p, n);
    ns->nlh->nlmsg_len += n;
}

static void
flow_usage(FILE *f)
{
    fprintf(f,
"usage: weir flow COMMAND [ARG...]\n"
"\n"
"  extract FILE.pcap [--in-port N]\n"
"      print the exact datapath flow key of every packet in FILE.pcap, one\n"
"      line per packet, in ovs-dpctl syntax\n"
"  parse [--verbose|-m] 'KEY[ ACTIONS]' | -\n"
"      parse a flow (optionally preceded by 'ufid:UUID,'), encode it to\n"
"      netlink, decode it as the datapath would, and print it canonically\n"
"  encode-nl [--actions] TEXT | -\n"
"      print the netlink attribute bytes of a key (KEYHEX, or KEYHEX\n"
"      MASKHEX when the text has '/' masks) or of an action list, in hex\n"
"  decode-nl [--actions] [--check] HEX | -\n"
"      print netlink attribute bytes (as encode-nl prints them) as text;\n"
"      with --check, first validate them as the datapath would\n"
"\n"
"With '-', every line of standard input is one input and gives exactly\n"
"one output line.  Exit status: 0 ok, 1 bad input, 2 usage error.\n");
}

/* Runs 'fn' on 'arg', or on every line of stdin if 'arg' is "-". */
static int
for_each_input(const char *arg, bool (*fn)(const char *, void *),
               void *aux)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    bool ok = true;

    if (strcmp(arg, "-")) {
        return fn(arg, aux) ? WEIR_EXIT_OK : WEIR_EXIT_ERROR;
    }
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
            line[--n] = '\0';
        }
        ok = fn(line, aux) && ok;
    }
    free(line);
    return ok ? WEIR_EXIT_OK : WEIR_EXIT_ERROR;
}

/* Reports a bad input: on stdout as its output line (so batch output stays
 * aligned with the input) and on stderr. */
static bool
input_error(const char *what, const struct errbuf *eb)
{
    const char *reason = errbuf_is_set(eb) ? eb->msg : "invalid input";

    printf("error: %s: %s\n", what, reason);
    fflush(stdout);
    weir_error("%s: %s", what, reason);
    return false;
}

static const char *
skip_spaces(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return s;
}

/* act_parse() into 'ns', with a reason that names the real limit when the
 * list is too long for the stream's buffer. */
static int
parse_actions(const char *s, size_t *used, struct nlstream *ns,
              struct errbuf *eb)
{
    int error = act_parse(s, used, ns->nlh, ns->size, eb);

    if (error == -EMSGSIZE && strstr(eb->msg, "do not fit")) {
        errbuf_set(eb, "more than %d bytes of actions (a netlink length "
                   "is 16 bits)", ACT_TEXT_MAX);
    }
    return error;
}

/* ---- extract ---------------------------------------------------------- */

static int
cmd_extract(int argc, char *argv[])
{
    char errbuf_pcap[PCAP_ERRBUF_SIZE];
    struct pkt_metadata md = { 0 };
    const char *file = NULL;
    struct nlstream ns;
    struct sbuf sb = SBUF_INIT;
    struct pcap_pkthdr *hdr;
    const u_char *data;
    pcap_t *pcap;
    uint64_t n = 0;
    int status = WEIR_EXIT_OK;
    int retval;

    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--in-port") && i + 1 < argc) {
            char *end;
            unsigned long v = strtoul(argv[++i], &end, 10);

            if (*end || end == argv[i] || argv[i][0] == '-'
                || v >= DP_MAX_PORTS) {
                weir_error("--in-port: '%s' is not a port number (0 to %d)",
                           argv[i], DP_MAX_PORTS - 1);
                return WEIR_EXIT_USAGE;
            }
            md.in_port = v;
        } else if (!strcmp(argv[i], "--help")) {
            flow_usage(stdout);
            return WEIR_EXIT_OK;
        } else if (argv[i][0] == '-' || file) {
            weir_error("extract: unexpected argument '%s'", argv[i]);
            return WEIR_EXIT_USAGE;
        } else {
            file = argv[i];
        }
    }
    if (!file) {
        weir_error("extract: missing FILE.pcap");
        return WEIR_EXIT_USAGE;
    }

    pcap = pcap_open_offline(file, errbuf_pcap);
    if (!pcap) {
        weir_error("%s", errbuf_pcap);
        return WEIR_EXIT_ERROR;
    }
    if (pcap_datalink(pcap) != DLT_EN10MB) {
        weir_error("%s: not an Ethernet capture (link type %d)", file,
                   pcap_datalink(pcap));
        pcap_close(pcap);
        return WEIR_EXIT_ERROR;
    }

    nlstream_init(&ns, KEY_BUF_SIZE);
    while ((retval = pcap_next_ex(pcap, &hdr, &data)) == 1) {
        struct flow_key key;

        n++;
        if (fkey_extract(data, hdr->caplen, &md, &key) < 0) {
            /* Keep one output line per packet.  The capture itself is
             * fine, so this does not change the exit status. */
            printf("error: packet %"PRIu64": %"PRIu32"-byte frame is "
                   "shorter than an Ethernet header\n", n, hdr->caplen);
            weir_error("packet %"PRIu64": %"PRIu32"-byte frame is shorter "
                       "than an Ethernet header: no flow key", n,
                       hdr->caplen);
            continue;
        }
        nlstream_reset(&ns);
        if (fkey_to_nl(&key, ns.nlh, ns.size) < 0) {
            weir_error("packet %"PRIu64": key does not fit", n);
            status = WEIR_EXIT_ERROR;
            break;
        }
        sbuf_clear(&sb);
        fkey_format(nlstream_data(&ns), nlstream_len(&ns), NULL, 0, false,
                    &sb);
        puts(sbuf_str(&sb));
    }
    if (retval == -1) {
        weir_error("%s: %s", file, pcap_geterr(pcap));
        status = WEIR_EXIT_ERROR;
    }
    sbuf_uninit(&sb);
    nlstream_uninit(&ns);
    pcap_close(pcap);
    return status;
}

/* ---- parse ------------------------------------------------------------ */

struct parse_ctx {
    bool verbose;
    struct nlstream key, mask, acts, out_key, out_mask;
};

static bool
parse_one(const char *text, void *ctx_)
{
    struct parse_ctx *ctx = ctx_;
    struct errbuf eb;
    struct flow_key key;
    struct flow_mask mask;
    struct ufid ufid = { .len = 0 };
    struct sbuf sb = SBUF_INIT;
    enum fkey_fit fit;
    const char *s = skip_spaces(text);
    size_t used;

    errbuf_clear(&eb);
    nlstream_reset(&ctx->key);
    nlstream_reset(&ctx->mask);
    nlstream_reset(&ctx->acts);

    if (!strncmp(s, "ufid:", 5)) {
        if (ufid_parse(s, &used, &ufid, &eb) < 0) {
            return input_error("ufid", &eb);
        }
        s = skip_spaces(s + used);
        if (*s == ',') {
            s = skip_spaces(s + 1);
        }
    }

    if (fkey_parse(s, &used, ctx->key.nlh, ctx->key.size, ctx->mask.nlh,
                   ctx->mask.size, &eb) < 0) {
        return input_error("key", &eb);
    }
    s = skip_spaces(s + used);
    if (*s == ',') {
        s = skip_spaces(s + 1);
    }
    if (!strncmp(s, "actions:", 8)) {
        s += 8;
    }
    if (*s) {
        if (parse_actions(s, &used, &ctx->acts, &eb) < 0) {
            return input_error("actions", &eb);
        }
        if (*skip_spaces(s + used)) {
            errbuf_set(&eb, "unexpected text '%s' after the actions",
                       skip_spaces(s + used));
            return input_error("actions", &eb);
        }
    }

    /* Decode as the datapath does, then encode canonically.  A flow
     * whose key or mask has attributes the datapath would drop (tunnel,
     * conntrack, NSH, unknown types: FKEY_FIT_TOO_MUCH) is refused, as
     * installing it would widen its match. */
    fit = fkey_from_nl(nlstream_data(&ctx->key), nlstream_len(&ctx->key),
                       &key, &eb);
    if (fit == FKEY_FIT_TOO_MUCH) {
        errbuf_set(&eb, "has attributes weir's datapath does not model yet "
                   "(tunnel, conntrack, nsh, packet_type, nd_ext or "
                   "unknown types)");
    }
    if (fit == FKEY_FIT_ERROR || fit == FKEY_FIT_TOO_MUCH) {
        return input_error("key", &eb);
    }
    fit = fmask_from_nl(nlstream_data(&ctx->mask), nlstream_len(&ctx->mask),
                        &key, &mask, &eb);
    if (fit == FKEY_FIT_TOO_MUCH) {
        errbuf_set(&eb, "has attributes weir's datapath does not model "
                   "yet");
    }
    if (fit == FKEY_FIT_ERROR || fit == FKEY_FIT_TOO_MUCH) {
        return input_error("mask", &eb);
    }
    if (*s && act_validate(nlstream_data(&ctx->acts),
                           nlstream_len(&ctx->acts), &key, &eb) < 0) {
        return input_error("actions", &eb);
    }
    nlstream_reset(&ctx->out_key);
    nlstream_reset(&ctx->out_mask);
    if (fkey_to_nl(&key, ctx->out_key.nlh, ctx->out_key.size) < 0
        || fmask_to_nl(&key, &mask, ctx->out_mask.nlh,
                       ctx->out_mask.size) < 0) {
        errbuf_set(&eb, "encoded key does not fit in %d bytes",
                   KEY_BUF_SIZE);
        return input_error("key", &eb);
    }

    if (ufid.len) {
        ufid_format(&ufid, &sb);
        sbuf_putc(&sb, ',');
    }
    fkey_format(nlstream_data(&ctx->out_key), nlstream_len(&ctx->out_key),
                nlstream_data(&ctx->out_mask), nlstream_len(&ctx->out_mask),
                ctx->verbose, &sb);
    if (*s) {
        sbuf_put(&sb, " actions:");
        act_format(nlstream_data(&ctx->acts), nlstream_len(&ctx->acts),
                   &sb);
    }
    puts(sbuf_str(&sb));
    fflush(stdout);
    sbuf_uninit(&sb);
    return true;
}

static int
cmd_parse(int argc, char *argv[])
{
    struct parse_ctx ctx = { .verbose = false };
    const char *arg = NULL;
    int status;

    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-m")) {
            ctx.verbose = true;
        } else if (!strcmp(argv[i], "--help")) {
            flow_usage(stdout);
            return WEIR_EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            weir_error("parse: unknown option '%s'", argv[i]);
            return WEIR_EXIT_USAGE;
        } else if (arg) {
            weir_error("parse: unexpected argument '%s' (quote the flow)",
                       argv[i]);
            return WEIR_EXIT_USAGE;
        } else {
            arg = argv[i];
        }
    }
    if (!arg) {
        weir_error("parse: missing flow text");
        return WEIR_EXIT_USAGE;
    }
    nlstream_init(&ctx.key, KEY_BUF_SIZE);
    nlstream_init(&ctx.mask, KEY_BUF_SIZE);
    nlstream_init(&ctx.acts, ACT_BUF_SIZE);
    nlstream_init(&ctx.out_key, KEY_BUF_SIZE);
    nlstream_init(&ctx.out_mask, KEY_BUF_SIZE);
    status = for_each_input(arg, parse_one, &ctx);
    nlstream_uninit(&ctx.key);
    nlstream_uninit(&ctx.mask);
    nlstream_uninit(&ctx.acts);
    nlstream_uninit(&ctx.out_key);
    nlstream_uninit(&ctx.out_mask);
    return status;
}

/* ---- encode-nl / decode-nl -------------------------------------------- */

struct nl_ctx {
    bool actions;
    bool check;                 /* decode-nl: also validate (--check). */
    struct nlstream a, b;
};

static bool
encode_one(const char *text, void *ctx_)
{
    struct nl_ctx *ctx = ctx_;
    struct sbuf sb = SBUF_INIT;
    struct errbuf eb;
    const char *s = skip_spaces(text);
    size_t used;
    int error;

    errbuf_clear(&eb);
    nlstream_reset(&ctx->a);
    nlstream_reset(&ctx->b);
    if (ctx->actions) {
        error = parse_actions(s, &used, &ctx->a, &eb);
    } else {
        error = fkey_parse(s, &used, ctx->a.nlh, ctx->a.size, ctx->b.nlh,
                           ctx->b.size, &eb);
    }
    if (!error && *skip_spaces(s + used)) {
        errbuf_set(&eb, "unexpected text '%s'", skip_spaces(s + used));
        error = -EINVAL;
    }
    if (error) {
        return input_error(ctx->actions ? "actions" : "key", &eb);
    }
    sbuf_put_hex(&sb, nlstream_data(&ctx->a), nlstream_len(&ctx->a));
    if (!ctx->actions && strchr(s, '/')) {
        sbuf_putc(&sb, ' ');
        sbuf_put_hex(&sb, nlstream_data(&ctx->b), nlstream_len(&ctx->b));
    }
    puts(sbuf_str(&sb));
    fflush(stdout);
    sbuf_uninit(&sb);
    return true;
}

/* Parses one hex word of 'hex' (up to a space) into 'ns'. */
static bool
hex_word_to_stream(const char *hex, size_t n, struct nlstream *ns,
                   struct errbuf *eb)
{
    char *word = strndup(hex, n);
    uint8_t *bytes = malloc(ns->size);
    int len;

    if (!word || !bytes) {
        abort();
    }
    len = hex_to_bytes(word, bytes, ns->size - MNL_NLMSG_HDRLEN);
    free(word);
    if (len < 0) {
        errbuf_set(eb, "%s", len == -EMSGSIZE ? "too many bytes"
                                              : "not a hex string");
        free(bytes);
        return false;
    }
    nlstream_put_raw(ns, bytes, len);
    free(bytes);
    return true;
}

static bool
decode_one(const char *text, void *ctx_)
{
    struct nl_ctx *ctx = ctx_;
    struct sbuf sb = SBUF_INIT;
    struct errbuf eb;
    const char *s = skip_spaces(text);
    const char *space = strchr(s, ' ');
    bool has_mask = false;

    errbuf_clear(&eb);
    if (!hex_word_to_stream(s, space ? (size_t) (space - s) : strlen(s),
                            &ctx->a, &eb)) {
        return input_error("hex", &eb);
    }
    if (space && *skip_spaces(space)) {
        if (ctx->actions) {
            errbuf_set(&eb, "actions take one hex word");
            return input_error("hex", &eb);
        }
        space = skip_spaces(space);
        if (!hex_word_to_stream(space, strlen(space), &ctx->b, &eb)) {
            return input_error("mask hex", &eb);
        }
        has_mask = true;
    }

    /* Without --check this is a pure formatter, as a debugging tool should
     * be: it shows what the bytes say even when a datapath would refuse
     * them (fkey_format() and act_format() print malformed parts in an
     * error form).  --check applies the datapath's rules first. */
    if (ctx->actions) {
        if (ctx->check && act_validate(nlstream_data(&ctx->a),
                                       nlstream_len(&ctx->a), NULL,
                                       &eb) < 0) {
            return input_error("actions", &eb);
        }
        act_format(nlstream_data(&ctx->a), nlstream_len(&ctx->a), &sb);
    } else {
        struct flow_key key;
        struct flow_mask mask;

        if (ctx->check
            && (fkey_from_nl(nlstream_data(&ctx->a), nlstream_len(&ctx->a),
                             &key, &eb) == FKEY_FIT_ERROR
                || (has_mask
                    && fmask_from_nl(nlstream_data(&ctx->b),
                                     nlstream_len(&ctx->b), &key, &mask,
                                     &eb) == FKEY_FIT_ERROR))) {
            return input_error(has_mask ? "key or mask" : "key", &eb);
        }
        fkey_format(nlstream_data(&ctx->a), nlstream_len(&ctx->a),
                    has_mask ? nlstream_data(&ctx->b) : NULL,
                    has_mask ? nlstream_len(&ctx->b) : 0, false, &sb);
    }
    puts(sbuf_str(&sb));
    fflush(stdout);
    sbuf_uninit(&sb);
    return true;
}

static int
cmd_nl(int argc, char *argv[], bool (*fn)(const char *, void *))
{
    struct nl_ctx ctx = { .actions = false };
    const char *arg = NULL;
    int status;

    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--actions")) {
            ctx.actions = true;
        } else if (!strcmp(argv[i], "--check") && fn == decode_one) {
            ctx.check = true;
        } else if (!strcmp(argv[i], "--help")) {
            flow_usage(stdout);
            return WEIR_EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            weir_error("unknown option '%s'", argv[i]);
            return WEIR_EXIT_USAGE;
        } else if (arg) {
            weir_error("unexpected argument '%s'", argv[i]);
            return WEIR_EXIT_USAGE;
        } else {
            arg = argv[i];
        }
    }
    if (!arg) {
        weir_error("missing input (text, hex, or '-' for stdin)");
        return WEIR_EXIT_USAGE;
    }
    nlstream_init(&ctx.a, ACT_BUF_SIZE);
    nlstream_init(&ctx.b, ACT_BUF_SIZE);
    status = for_each_input(arg, fn, &ctx);
    nlstream_uninit(&ctx.a);
    nlstream_uninit(&ctx.b);
    return status;
}

int
weir_flow_main(int argc, char *argv[])
{
    if (argc < 1) {
        flow_usage(stderr);
        return WEIR_EXIT_USAGE;
    }
    if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        flow_usage(stdout);
        return WEIR_EXIT_OK;
    }
    if (!strcmp(argv[0], "extract")) {
        return cmd_extract(argc - 1, argv + 1);
    } else if (!strcmp(argv[0], "parse")) {
        return cmd_parse(argc - 1, argv + 1);
    } else if (!strcmp(argv[0], "encode-nl")) {
        return cmd_nl(argc - 1, argv + 1, encode_one);
    } else if (!strcmp(argv[0], "decode-nl")) {
        return cmd_nl(argc - 1, argv + 1, decode_one);
    }
    weir_error("unknown flow command '%s' (try 'weir flow --help')",
               argv[0]);
    return WEIR_EXIT_USAGE;
}
