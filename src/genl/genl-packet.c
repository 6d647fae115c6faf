/* SPDX-License-Identifier: Apache-2.0 */
/* ovs_packet: OVS_PACKET_CMD_EXECUTE, and the OVS_PACKET_CMD_MISS and
 * _ACTION messages that carry upcalls to clients.
 *
 * What
 * ====
 *
 * EXECUTE runs a client's action list on a packet it sends, as the
 * kernel's ovs_packet_cmd_execute(); its only answer is the ACK or the
 * error.  genl_packet_upcall_put() writes an upcall as the kernel's
 * queue_userspace_packet() writes it, for the core to queue to the
 * connection whose port id the upcall names.
 *
 * Design
 * ======
 *
 * EXECUTE.  The checks come in the kernel's order: the policy (a PACKET
 * shorter than an Ethernet header is -ERANGE, "Attribute failed policy
 * validation", since the kernel's packet_policy gives it a minimum length;
 * the core's policy kinds have no minimum, so it is checked here), PACKET,
 * KEY and ACTIONS present (-EINVAL), the key's metadata, the actions
 * against the packet's flow key, then the datapath (-ENODEV), which
 * refuses actions this build does not run with -EOPNOTSUPP, or with
 * -EINVAL in a probe (OVS_PACKET_ATTR_PROBE), as a kernel that does not
 * know them.  From the
 * key only the metadata is taken, as ovs_flow_key_extract_userspace()
 * takes it: recirc_id, dp_hash, skb_priority, in_port and skb_mark; the
 * rest of the flow key is extracted from the packet.  The attribute stream
 * must parse as the kernel's parse_flow_nlattrs() wants it (no type 0 or
 * above OVS_KEY_ATTR_MAX, no duplicates, fixed lengths, no trailing or
 * unpadded bytes), and in_port must be below 65535.  What weird cannot do
 * is refused, not ignored: tunnel metadata and nonzero conntrack metadata
 * (-EOPNOTSUPP).  A key with eth_type and no eth says the packet has no
 * Ethernet header (the kernel's MAC_PROTO_NONE, what Open vSwitch sends
 * for a packet that missed after pop_eth): it is executed as an L3 packet
 * of that type (md.l3_type), a type below 0x600 or a VLAN type being
 * -EINVAL as in the kernel.  An in_port
 * that names no port is kept in the packet's metadata, as the kernel
 * keeps it in the key (it then processes the packet as if received on the
 * local port); without one, the metadata has FKEY_IN_PORT_NONE.
 *
 * MRU and HASH are accepted and have no effect: weird's output does not
 * fragment, and its packets have no receive hash for the hash() action to
 * reuse.  OVS_PACKET_ATTR_UPCALL_PID (Linux 6.17) is above this family's
 * maxattr (that of Linux 6.12), so it is skipped as an unknown attribute,
 * as those kernels skip it; a client that looks at the maxattr nlctrl
 * reports knows not to rely on it.
 *
 * The packet runs on a dp_thread of the datapath that this file makes on
 * the first EXECUTE and keeps in 'gdp->exec_thr' (the core destroys it
 * with the datapath).  dp_execute() transmits what the actions output and
 * queues the upcalls they make before it returns.
 *
 * Upcall messages.  nlmsg_pid and nlmsg_seq 0, dp_ifindex of the
 * datapath, then KEY (the packet's flow key, a nest without NLA_F_NESTED),
 * USERDATA (userspace() cookie), ACTIONS (when the userspace() action
 * asked for them), HASH, and PACKET last.  EGRESS_TUN_KEY is never sent
 * (no tunnels), nor MRU (no IP fragment reassembly) nor LEN (the upcall
 * does not keep the length from before a trunc()).  HASH is always sent,
 * as the kernel always sends it, with value 0: "no hash computed", which
 * Open vSwitch passes back in EXECUTE only when nonzero.  PACKET is padded
 * to 4 bytes unless the datapath has OVS_DP_F_UNALIGNED, in which case the
 * message ends right after the packet's last byte (pad_packet()), and so
 * does 'mb': its length is then not a multiple of 4, and the caller sends
 * it as it is, with nothing appended.
 *
 * Thread-safety
 * =============
 *
 * The server's thread.  dp_execute() makes the thread's RCU reads.
 *
 * Ownership
 * =========
 *
 * Request attributes are borrowed; the packet made for EXECUTE is given to
 * dp_execute().  genl_packet_upcall_put() borrows the upcall.
 */

#include <errno.h>
#include <libmnl/libmnl.h>
#include <string.h>

#include "codec/actions-nl.h"
#include "codec/fkey-attrs.h"
#include "codec/fkey-nl.h"
#include "codec/nl-attr.h"
#include "genl/genl-private.h"
#include "lib/errbuf.h"
#include "packet/flow-extract.h"
#include "packet/flow-key.h"
#include "packet/packet.h"

#define PACKET_ETH_HLEN 14
#define PACKET_DP_MAX_PORTS 65535   /* The kernel's DP_MAX_PORTS. */

static const struct genl_policy packet_policy[OVS_PACKET_ATTR_MAX + 1] = {
    /* At least PACKET_ETH_HLEN bytes: packet_check_policy(). */
    [OVS_PACKET_ATTR_PACKET] = { GENL_ATTR_UNSPEC, 0 },
    [OVS_PACKET_ATTR_KEY] = { GENL_ATTR_NESTED, 0 },
    [OVS_PACKET_ATTR_ACTIONS] = { GENL_ATTR_NESTED, 0 },
    [OVS_PACKET_ATTR_PROBE] = { GENL_ATTR_FLAG, 0 },
    [OVS_PACKET_ATTR_MRU] = { GENL_ATTR_U16, 0 },
    [OVS_PACKET_ATTR_HASH] = { GENL_ATTR_U64, 0 },
};

/* Returns true if the 'len' bytes at 'p' are all zero. */
static bool
packet_all_zero(const void *p, size_t len)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < len; i++) {
        if (b[i]) {
            return false;
        }
    }
    return true;
}

/* The name of key attribute 'type', for messages. */
static const char *
packet_key_name(uint16_t type)
{
    const char *name = fkey_attr_name(type);

    return name ? name : "unknown";
}

static uint32_t
packet_get_u32(const struct nlattr *a)
{
    uint32_t v;

    memcpy(&v, mnl_attr_get_payload(a), sizeof v);
    return v;
}

/* Indexes the OVS_KEY_ATTR_* stream of 'ka' into 'tb' as the kernel's
 * parse_flow_nlattrs() checks it.  Returns 0 or -EINVAL. */
static int
packet_parse_key(struct genl_req *req, const struct nlattr *ka,
                 const struct nlattr *tb[OVS_KEY_ATTR_MAX + 1])
{
    const uint8_t *p = mnl_attr_get_payload(ka);
    size_t rem = mnl_attr_get_payload_len(ka);

    memset(tb, 0, (OVS_KEY_ATTR_MAX + 1) * sizeof *tb);
    while (rem >= MNL_ATTR_HDRLEN) {
        struct nlattr hdr;
        const struct nlattr *a = (const struct nlattr *) p;
        uint16_t type;
        size_t plen, step;
        int want;

        memcpy(&hdr, p, sizeof hdr);
        if (hdr.nla_len < MNL_ATTR_HDRLEN || hdr.nla_len > rem) {
            break;
        }
        type = hdr.nla_type & NLA_TYPE_MASK;
        plen = hdr.nla_len - MNL_ATTR_HDRLEN;
        if (type == 0 || type > OVS_KEY_ATTR_MAX) {
            errbuf_set(req->err, "key: attribute type %u out of range "
                       "(1 to %d)", type, OVS_KEY_ATTR_MAX);
            return -EINVAL;
        }
        if (tb[type]) {
            errbuf_set(req->err, "key: duplicate %s attribute (type %u)",
                       packet_key_name(type), type);
            return -EINVAL;
        }
        want = fkey_attr_len(type);
        if ((want > 0 && plen != (size_t) want)
            || (want == FKEY_ATTR_VARIABLE && plen % 4)) {
            errbuf_set(req->err, "key: %s attribute has %zu bytes, "
                       "expected %d", packet_key_name(type), plen, want);
            return -EINVAL;
        }
        tb[type] = a;
        step = MNL_ALIGN((size_t) hdr.nla_len);
        if (step > rem) {
            /* The kernel counts the missing padding as leftover. */
            errbuf_set(req->err, "key: last attribute not padded");
            return -EINVAL;
        }
        p += step;
        rem -= step;
    }
    if (rem) {
        errbuf_set(req->err, "key: %zu bytes left over after the last "
                   "attribute", rem);
        return -EINVAL;
    }
    return 0;
}

/* Fills 'md' from the key of an EXECUTE (ovs_nla_get_flow_metadata()).
 * Returns 0, -EINVAL or -EOPNOTSUPP, with the reason and bad attribute. */
static int
packet_key_metadata(struct genl_req *req, const struct nlattr *ka,
                    struct pkt_metadata *md)
{
    static const uint16_t ct_types[] = {
        OVS_KEY_ATTR_CT_STATE, OVS_KEY_ATTR_CT_ZONE, OVS_KEY_ATTR_CT_MARK,
        OVS_KEY_ATTR_CT_LABELS, OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4,
        OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6,
    };
    const struct nlattr *tb[OVS_KEY_ATTR_MAX + 1];
    const struct nlattr *a;
    int error;

    req->bad_attr = ka;
    error = packet_parse_key(req, ka, tb);
    if (error) {
        return error;
    }

    memset(md, 0, sizeof *md);
    md->in_port = FKEY_IN_PORT_NONE;
    if ((a = tb[OVS_KEY_ATTR_RECIRC_ID])) {
        md->recirc_id = packet_get_u32(a);
    }
    if ((a = tb[OVS_KEY_ATTR_DP_HASH])) {
        md->dp_hash = packet_get_u32(a);
    }
    if ((a = tb[OVS_KEY_ATTR_PRIORITY])) {
        md->priority = packet_get_u32(a);
    }
    if ((a = tb[OVS_KEY_ATTR_SKB_MARK])) {
        md->skb_mark = packet_get_u32(a);
    }
    if ((a = tb[OVS_KEY_ATTR_IN_PORT])) {
        md->in_port = packet_get_u32(a);
        if (md->in_port >= PACKET_DP_MAX_PORTS) {
            errbuf_set(req->err, "key: in_port %u exceeds the largest "
                       "port number %d", md->in_port,
                       PACKET_DP_MAX_PORTS - 1);
            return -EINVAL;
        }
    }
    if ((a = tb[OVS_KEY_ATTR_TUNNEL])) {
        if (!mnl_attr_get_payload_len(a)) {
            errbuf_set(req->err, "key: tunnel metadata without a "
                       "destination");
            return -EINVAL;
        }
        errbuf_set(req->err, "key: tunnel metadata is not supported");
        return -EOPNOTSUPP;
    }
    for (size_t i = 0; i < sizeof ct_types / sizeof ct_types[0]; i++) {
        a = tb[ct_types[i]];
        if (a && !packet_all_zero(mnl_attr_get_payload(a),
                                  mnl_attr_get_payload_len(a))) {
            errbuf_set(req->err, "key: conntrack metadata (%s) is not "
                       "supported", packet_key_name(ct_types[i]));
            return -EOPNOTSUPP;
        }
    }
    if (!tb[OVS_KEY_ATTR_ETHERNET] && (a = tb[OVS_KEY_ATTR_ETHERTYPE])) {
        /* No Ethernet header: the packet starts at L3 and the key's type
         * says which (the kernel's metadata_from_nlattrs()). */
        be16 type;

        memcpy(&type, mnl_attr_get_payload(a), sizeof type);
        if (ntohs(type) < ETH_TYPE_MIN) {
            errbuf_set(req->err, "key: EtherType %#x is less than min %#x",
                       ntohs(type), ETH_TYPE_MIN);
            req->bad_attr = a;
            return -EINVAL;
        }
        if (fkey_eth_type_is_vlan(type)) {
            errbuf_set(req->err, "key: a packet without an Ethernet "
                       "header cannot have a VLAN type (%#x)", ntohs(type));
            req->bad_attr = a;
            return -EINVAL;
        }
        md->l3_type = type;
    }
    req->bad_attr = NULL;
    return 0;
}

/* The datapath's dp_thread for EXECUTE, made on first use. */
static struct dp_thread *
packet_exec_thread(struct genl_dp *gdp)
{
    if (!gdp->exec_thr) {
        /* Executed packets are looked up only after recirc(): no cache. */
        struct dp_thread_config cfg = { .emc = false };

        gdp->exec_thr = dp_thread_create(gdp->dp, &cfg);
    }
    return gdp->exec_thr;
}

/* OVS_PACKET_CMD_EXECUTE (ovs_packet_cmd_execute()). */
static int
packet_cmd_execute(struct genl_req *req)
{
    const struct nlattr *pa = req->tb[OVS_PACKET_ATTR_PACKET];
    const struct nlattr *ka = req->tb[OVS_PACKET_ATTR_KEY];
    const struct nlattr *aa = req->tb[OVS_PACKET_ATTR_ACTIONS];
    struct pkt_metadata md;
    struct flow_key key;
    struct dp_thread *thr;
    struct packet *packet;
    struct genl_dp *gdp;
    const void *acts;
    size_t acts_len;
    int error;

    req->probe = req->tb[OVS_PACKET_ATTR_PROBE] != NULL;
    if (pa && mnl_attr_get_payload_len(pa) < PACKET_ETH_HLEN) {
        errbuf_set(req->err, "Attribute failed policy validation");
        req->bad_attr = pa;
        return -ERANGE;
    }
    if (!pa || !ka || !aa) {
        errbuf_set(req->err, "%s attribute missing",
                   !pa ? "packet" : !ka ? "key" : "actions");
        return -EINVAL;
    }
    error = packet_key_metadata(req, ka, &md);
    if (error) {
        return error;
    }

    /* The actions are checked against the packet's flow key, before the
     * datapath is looked at, as in the kernel.  dp_execute() checks them
     * again (and whether this build runs them). */
    acts = mnl_attr_get_payload(aa);
    acts_len = mnl_attr_get_payload_len(aa);
    fkey_extract(mnl_attr_get_payload(pa), mnl_attr_get_payload_len(pa),
                 &md, &key);
    error = act_validate(acts, acts_len, &key, req->err);
    if (error) {
        errbuf_prefix(req->err, "actions: ");
        req->bad_attr = aa;
        return error;
    }

    gdp = genl_dp_by_ifindex(req->srv, req->dp_ifindex);
    if (!gdp) {
        errbuf_set(req->err, "no datapath with ifindex %u",
                   req->dp_ifindex);
        return -ENODEV;
    }
    thr = packet_exec_thread(gdp);
    if (!thr) {
        errbuf_set(req->err, "no thread state left in datapath %s to "
                   "execute packets", gdp->name);
        return -ENOMEM;
    }
    packet = packet_create(mnl_attr_get_payload(pa),
                           mnl_attr_get_payload_len(pa));
    if (!packet) {
        errbuf_set(req->err, "out of memory for the packet");
        return -ENOMEM;
    }
    packet->md = md;
    error = dp_execute(thr, packet, acts, acts_len, req->err);
    if (error) {
        req->bad_attr = aa;
        /* An action this build does not run, in a feature probe: -EINVAL,
         * the kernel's answer for an action type it does not know (as for
         * flow probes: genl-flow.c flow_dp_error()). */
        if (error == -EOPNOTSUPP && req->probe) {
            error = -EINVAL;
        }
    }
    return error;
}

static const struct genl_op packet_ops[] = {
    { .cmd = OVS_PACKET_CMD_EXECUTE, .admin = true,
      .doit = packet_cmd_execute },
};

const struct genl_family genl_packet_family = {
    .name = OVS_PACKET_FAMILY,
    .id = GENL_FAMILY_ID_PACKET,
    .version = OVS_PACKET_VERSION,
    .hdrsize = sizeof(struct ovs_header),
    .maxattr = OVS_PACKET_ATTR_MAX,
    .policy = packet_policy,
    .ops = packet_ops,
    .n_ops = sizeof packet_ops / sizeof packet_ops[0],
    .mcgrp_name = NULL,
    .mcgrp_id = 0,
};

int
genl_packet_upcall_put(struct genl_msgbuf *mb, const struct genl_dp *gdp,
                       const struct dp_upcall *u, uint32_t portid)
{
    uint8_t cmd = u->type == DP_UPCALL_MISS ? OVS_PACKET_CMD_MISS
                                            : OVS_PACKET_CMD_ACTION;
    const struct packet *p = u->packet;
    struct nlmsghdr *nlh;
    struct nlattr *nest;
    uint64_t hash = 0;
    size_t room;

    /* 'portid' is where the message goes; the kernel's upcall messages
     * carry 0 as nlmsg_pid (genlmsg_put(skb, 0, 0, ...)). */
    (void) portid;
    nlh = genl_msg_start(mb, &genl_packet_family, cmd, 0, 0, 0,
                         gdp->ifindex);
    if (!nlh) {
        return -EMSGSIZE;
    }
    room = genl_msg_room(mb, nlh);

    nest = mnl_attr_nest_start_check(nlh, room, OVS_PACKET_ATTR_KEY);
    if (!nest) {
        goto nospace;
    }
    nest->nla_type = OVS_PACKET_ATTR_KEY;   /* No NLA_F_NESTED. */
    if (fkey_to_nl(&u->key, nlh, room)) {
        goto nospace;
    }
    mnl_attr_nest_end(nlh, nest);

    if (u->userdata
        && !codec_attr_put(nlh, room, OVS_PACKET_ATTR_USERDATA,
                           u->userdata_len, u->userdata)) {
        goto nospace;
    }
    if (u->actions_len
        && !codec_attr_put(nlh, room, OVS_PACKET_ATTR_ACTIONS,
                           u->actions_len, u->actions)) {
        goto nospace;
    }
    if (!mnl_attr_put_check(nlh, room, OVS_PACKET_ATTR_HASH, sizeof hash,
                            &hash)) {
        goto nospace;
    }
    if (!codec_attr_put(nlh, room, OVS_PACKET_ATTR_PACKET, p->len,
                        p->data)) {
        goto nospace;
    }
    genl_msg_end(mb, nlh);
    if (dp_get_user_features(gdp->dp) & OVS_DP_F_UNALIGNED) {
        /* The message, and the datagram, end with the packet's last
         * byte; nothing may be appended after it (the kernel sends each
         * upcall in a datagram of its own). */
        nlh->nlmsg_len -= (uint32_t) (MNL_ALIGN(p->len) - p->len);
        mb->len = (size_t) ((uint8_t *) nlh - mb->data) + nlh->nlmsg_len;
    }
    return 0;

nospace:
    genl_msg_cancel(mb, nlh);
    return -EMSGSIZE;
}
