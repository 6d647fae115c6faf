/* SPDX-License-Identifier: Apache-2.0 */
/* OVS_ACTION_ATTR_USERSPACE <-> ovs-dpctl text: userspace(pid=N,...,
 * actions,tunnel_out_port=N), with Open vSwitch's userspace cookies
 * (sFlow(), slow_path(), flow_sample(), ipfix(), controller()) or raw
 * userdata(hex).  See actions-text.h for when a cookie prints decoded. */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/openvswitch.h>

#include "codec/actions-nl.h"
#include "codec/actions-text-private.h"
#include "lib/errbuf.h"
#include "lib/text.h"

/* Open vSwitch's userspace cookie ('struct user_action_cookie' in OVS
 * lib/odp-util.h): 48 bytes in host byte order, the layout ovs-vswitchd
 * puts in OVS_USERSPACE_ATTR_USERDATA. */
#define COOKIE_LEN 48
enum cookie_type {
    COOKIE_SFLOW = 1,
    COOKIE_SLOW_PATH = 2,
    COOKIE_FLOW_SAMPLE = 3,
    COOKIE_IPFIX = 4,
    COOKIE_CONTROLLER = 5,
};
#define OFPP_NONE 0xffff

struct cookie {
    uint16_t type;
    uint16_t vlan_tci;          /* sFlow, host order of the be16. */
    uint32_t output;            /* sFlow output; ipfix/flow_sample port. */
    uint32_t reason32;          /* slow_path reason. */
    uint16_t probability;
    uint32_t collector_set_id, obs_domain_id, obs_point_id;
    uint32_t direction;
    uint8_t dont_send, continuation;
    uint16_t reason16;
    uint32_t recirc_id;
    uint64_t rule_cookie;
    uint16_t controller_id, max_len;
};

static const char *const slow_path_names[] = {
    "cfm", "bfd", "lacp", "stp", "lldp", "action", "match",
};
#define N_SLOW_PATH (sizeof slow_path_names / sizeof *slow_path_names)

static void
put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void
put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void
cookie_encode(const struct cookie *c, uint8_t out[COOKIE_LEN])
{
    memset(out, 0, COOKIE_LEN);
    put16(out, c->type);
    put32(out + 4, OFPP_NONE);
    switch (c->type) {
    case COOKIE_SFLOW:
        put16(out + 24, htons(c->vlan_tci));
        put32(out + 28, c->output);
        break;
    case COOKIE_SLOW_PATH:
        put32(out + 28, c->reason32);
        break;
    case COOKIE_FLOW_SAMPLE:
        put16(out + 24, c->probability);
        put32(out + 28, c->collector_set_id);
        put32(out + 32, c->obs_domain_id);
        put32(out + 36, c->obs_point_id);
        put32(out + 40, c->output);
        put32(out + 44, c->direction);
        break;
    case COOKIE_IPFIX:
        put32(out + 24, c->output);
        break;
    case COOKIE_CONTROLLER:
        out[24] = c->dont_send;
        out[25] = c->continuation;
        put16(out + 26, c->reason16);
        put32(out + 28, c->recirc_id);
        put32(out + 32, htonl(c->rule_cookie >> 32));
        put32(out + 36, htonl(c->rule_cookie & 0xffffffff));
        put16(out + 40, c->controller_id);
        put16(out + 42, c->max_len);
        break;
    default:
        break;
    }
}

static void
cookie_decode(const uint8_t *p, struct cookie *c)
{
    memset(c, 0, sizeof *c);
    c->type = load_u16(p);
    switch (c->type) {
    case COOKIE_SFLOW:
        c->vlan_tci = ntohs(load_u16(p + 24));
        c->output = load_u32(p + 28);
        break;
    case COOKIE_SLOW_PATH:
        c->reason32 = load_u32(p + 28);
        break;
    case COOKIE_FLOW_SAMPLE:
        c->probability = load_u16(p + 24);
        c->collector_set_id = load_u32(p + 28);
        c->obs_domain_id = load_u32(p + 32);
        c->obs_point_id = load_u32(p + 36);
        c->output = load_u32(p + 40);
        c->direction = load_u32(p + 44);
        break;
    case COOKIE_IPFIX:
        c->output = load_u32(p + 24);
        break;
    case COOKIE_CONTROLLER:
        c->dont_send = !!p[24];
        c->continuation = !!p[25];
        c->reason16 = load_u16(p + 26);
        c->recirc_id = load_u32(p + 28);
        c->rule_cookie = ((uint64_t) ntohl(load_u32(p + 32)) << 32)
                         | ntohl(load_u32(p + 36));
        c->controller_id = load_u16(p + 40);
        c->max_len = load_u16(p + 42);
        break;
    default:
        break;
    }
}

/* ---- Formatting. ---- */

/* Prints the cookie at 'p' as OVS does: decoded whenever it has a known
 * type, even though the text leaves out the OpenFlow in_port and bridge
 * UUID that ovs-vswitchd puts in every cookie (and, for sFlow, the CFI
 * bit), so that dump-flows output matches ovs-dpctl's.  Parsing that text
 * gives a cookie with in_port OFPP_NONE and a zero UUID; the text, not the
 * bytes, is what round-trips.  Returns false to have the caller print
 * userdata(hex) instead, for a type OVS does not know or a slow_path
 * reason this build has no name for. */
static bool
cookie_format(const uint8_t *p, struct sbuf *out)
{
    struct cookie c;

    cookie_decode(p, &c);
    switch (c.type) {
    case COOKIE_SFLOW:
        sbuf_printf(out, ",sFlow(vid=%d,pcp=%d,output=%"PRIu32")",
                    c.vlan_tci & 0xfff, c.vlan_tci >> 13, c.output);
        return true;
    case COOKIE_SLOW_PATH:
        if (c.reason32 >> N_SLOW_PATH) {
            return false;
        }
        sbuf_put(out, ",slow_path(");
        if (!c.reason32) {
            sbuf_putc(out, '0');
        }
        for (size_t i = 0, n = 0; i < N_SLOW_PATH; i++) {
            if (c.reason32 & (1u << i)) {
                sbuf_printf(out, "%s%s", n++ ? "," : "", slow_path_names[i]);
            }
        }
        sbuf_putc(out, ')');
        return true;
    case COOKIE_FLOW_SAMPLE:
        if (c.direction > 2) {
            return false;
        }
        sbuf_printf(out, ",flow_sample(probability=%"PRIu16
                    ",collector_set_id=%"PRIu32",obs_domain_id=%"PRIu32
                    ",obs_point_id=%"PRIu32",output_port=%"PRIu32"%s)",
                    c.probability, c.collector_set_id, c.obs_domain_id,
                    c.obs_point_id, c.output,
                    c.direction == 1 ? ",ingress"
                    : c.direction == 2 ? ",egress" : "");
        return true;
    case COOKIE_IPFIX:
        sbuf_printf(out, ",ipfix(output_port=%"PRIu32")", c.output);
        return true;
    case COOKIE_CONTROLLER:
        sbuf_printf(out, ",controller(reason=%"PRIu16",dont_send=%d"
                    ",continuation=%d,recirc_id=%"PRIu32
                    ",rule_cookie=%#"PRIx64",controller_id=%"PRIu16
                    ",max_len=%"PRIu16")", c.reason16, c.dont_send,
                    c.continuation, c.recirc_id, c.rule_cookie,
                    c.controller_id, c.max_len);
        return true;
    default:
        return false;
    }
}

void
actt_format_userspace(const struct nlattr *a, struct sbuf *out)
{
    struct act_userspace u;

    if (act_userspace_parse(a, &u)) {
        sbuf_put(out, "userspace(error)");
        return;
    }
    sbuf_printf(out, "userspace(pid=%"PRIu32, u.pid);
    if (u.userdata
        && !(u.userdata_len == COOKIE_LEN
             && cookie_format(u.userdata, out))) {
        sbuf_put(out, ",userdata(");
        sbuf_put_hex(out, u.userdata, u.userdata_len);
        sbuf_putc(out, ')');
    }
    if (u.include_actions) {
        sbuf_put(out, ",actions");
    }
    if (u.has_tun_port) {
        sbuf_printf(out, ",tunnel_out_port=%"PRIu32, u.tun_port);
    }
    sbuf_putc(out, ')');
}

/* ---- Parsing. ---- */

/* Parses the reasons of ",slow_path(...)" ("0)" or "cfm,lacp)"), after
 * the '(', into 'c'. */
static int
parse_slow_path(struct actt_parser *p, struct cookie *c)
{
    c->type = COOKIE_SLOW_PATH;
    if (actt_match(p, "0)")) {
        return 0;
    }
    for (;;) {
        size_t i;

        for (i = 0; i < N_SLOW_PATH; i++) {
            size_t n = strlen(slow_path_names[i]);

            if (!strncmp(p->s, slow_path_names[i], n)
                && (p->s[n] == ',' || p->s[n] == ')')) {
                c->reason32 |= 1u << i;
                p->s += n;
                break;
            }
        }
        if (i == N_SLOW_PATH) {
            return actt_syntax(p, "unknown slow_path reason");
        }
        if (actt_match(p, ")")) {
            return 0;
        }
        p->s++;                 /* ',' */
    }
}

/* Parses a decoded cookie (",sFlow(...)", ",slow_path(...)", ...) into
 * 'c', which the caller has zeroed.
 *
 * Returns: 1 if there was one, 0 if no cookie comes next, or -EINVAL. */
static int
parse_cookie(struct actt_parser *p, struct cookie *c)
{
    uint64_t v[8];
    int error;

    if (actt_match(p, ",sFlow(")) {
        if ((error = actt_field(p, "vid=", 0xfff, false, &v[0]))
            || (error = actt_field(p, ",pcp=", 7, false, &v[1]))
            || (error = actt_field(p, ",output=", UINT32_MAX, false, &v[2]))
            || (error = actt_expect(p, ")"))) {
            return error;
        }
        c->type = COOKIE_SFLOW;
        c->vlan_tci = v[0] | v[1] << 13;
        if (c->vlan_tci) {
            c->vlan_tci |= 0x1000;
        }
        c->output = v[2];
    } else if (actt_match(p, ",slow_path(")) {
        if ((error = parse_slow_path(p, c))) {
            return error;
        }
    } else if (actt_match(p, ",flow_sample(")) {
        if ((error = actt_field(p, "probability=", UINT16_MAX, false,
                                &v[0]))
            || (error = actt_field(p, ",collector_set_id=", UINT32_MAX,
                                   false, &v[1]))
            || (error = actt_field(p, ",obs_domain_id=", UINT32_MAX, false,
                                   &v[2]))
            || (error = actt_field(p, ",obs_point_id=", UINT32_MAX, false,
                                   &v[3]))
            || (error = actt_field(p, ",output_port=", UINT32_MAX, false,
                                   &v[4]))) {
            return error;
        }
        c->type = COOKIE_FLOW_SAMPLE;
        c->probability = v[0];
        c->collector_set_id = v[1];
        c->obs_domain_id = v[2];
        c->obs_point_id = v[3];
        c->output = v[4];
        c->direction = (actt_match(p, ",ingress") ? 1
                        : actt_match(p, ",egress") ? 2 : 0);
        if ((error = actt_expect(p, ")"))) {
            return error;
        }
    } else if (actt_match(p, ",ipfix(")) {
        if ((error = actt_field(p, "output_port=", UINT32_MAX, false,
                                &v[0]))
            || (error = actt_expect(p, ")"))) {
            return error;
        }
        c->type = COOKIE_IPFIX;
        c->output = v[0];
    } else if (actt_match(p, ",controller(")) {
        if ((error = actt_field(p, "reason=", UINT16_MAX, false, &v[0]))
            || (error = actt_field(p, ",dont_send=", UINT8_MAX, false,
                                   &v[1]))
            || (error = actt_field(p, ",continuation=", UINT8_MAX, false,
                                   &v[2]))
            || (error = actt_field(p, ",recirc_id=", UINT32_MAX, false,
                                   &v[3]))
            || (error = actt_field(p, ",rule_cookie=", UINT64_MAX, true,
                                   &v[4]))
            || (error = actt_field(p, ",controller_id=", UINT16_MAX, false,
                                   &v[5]))
            || (error = actt_field(p, ",max_len=", UINT16_MAX, false,
                                   &v[6]))
            || (error = actt_expect(p, ")"))) {
            return error;
        }
        c->type = COOKIE_CONTROLLER;
        c->reason16 = v[0];
        c->dont_send = !!v[1];
        c->continuation = !!v[2];
        c->recirc_id = v[3];
        c->rule_cookie = v[4];
        c->controller_id = v[5];
        c->max_len = v[6];
    } else {
        return 0;
    }
    return 1;
}

/* Parses the hex digits of "userdata(HEX)" (the parser is after the '(')
 * into a new heap buffer, stored in '*datap' with its length in '*lenp'.
 * OVS's text allows as much userdata as a netlink attribute holds, far more
 * than a stack buffer should, hence the heap.
 *
 * Returns: 0; -EINVAL with a reason in 'p->err' for a non-hex character,
 * an odd number of digits or a missing ')'. */
static int
parse_userdata(struct actt_parser *p, uint8_t **datap, size_t *lenp)
{
    size_t n_hex = 0;
    uint8_t *data;

    while (hex_digit_value((unsigned char) p->s[n_hex]) >= 0) {
        n_hex++;
    }
    if (p->s[n_hex] != ')') {
        p->s += n_hex;
        return actt_syntax(p, "userdata: expected hex digits or ')'");
    }
    if (n_hex % 2) {
        return actt_syntax(p, "userdata: odd number of hex digits");
    }
    data = malloc(n_hex / 2 + 1);
    if (!data) {
        errbuf_set(p->err, "userdata: out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < n_hex / 2; i++) {
        data[i] = (uint8_t) (hex_digit_value((unsigned char) p->s[2 * i]) << 4
                             | hex_digit_value((unsigned char)
                                               p->s[2 * i + 1]));
    }
    p->s += n_hex + 1;
    *datap = data;
    *lenp = n_hex / 2;
    return 0;
}

int
actt_parse_userspace(struct actt_parser *p)
{
    uint8_t cookie[COOKIE_LEN], *ud = NULL, *ud_heap = NULL;
    size_t ud_len = 0;
    bool include_actions = false;
    uint64_t pid, port;
    struct nlattr *nest;
    struct cookie c;
    int error;

    memset(&c, 0, sizeof c);
    if ((error = actt_field(p, "pid=", UINT32_MAX, false, &pid))) {
        return error;
    }
    error = parse_cookie(p, &c);
    if (error < 0) {
        return error;
    } else if (error) {
        cookie_encode(&c, cookie);
        ud = cookie;
        ud_len = COOKIE_LEN;
    } else if (actt_match(p, ",userdata(")) {
        if ((error = parse_userdata(p, &ud_heap, &ud_len))) {
            return error;
        }
        ud = ud_heap;
    }
    if (actt_match(p, ",actions")) {
        include_actions = true;
    }

    nest = actt_nest_start(p, OVS_ACTION_ATTR_USERSPACE);
    if (!nest) {
        error = -EMSGSIZE;
        goto out;
    }
    if ((error = actt_put_u32(p, OVS_USERSPACE_ATTR_PID, pid))
        || (ud
            && (error = actt_put_attr(p, OVS_USERSPACE_ATTR_USERDATA,
                                      ud_len, ud)))
        || (include_actions
            && (error = actt_put_attr(p, OVS_USERSPACE_ATTR_ACTIONS, 0,
                                      NULL)))) {
        goto out;
    }
    if (actt_match(p, ",tunnel_out_port=")) {
        if ((error = actt_parse_num(p, UINT32_MAX, false, &port))
            || (error = actt_put_u32(p, OVS_USERSPACE_ATTR_EGRESS_TUN_PORT,
                                     port))) {
            goto out;
        }
    }
    if (!(error = actt_nest_end(p, nest))) {
        error = actt_expect(p, ")");
    }
out:
    free(ud_heap);
    return error;
}
