/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_GENL_GENL_PRIVATE_H
#define WEIR_GENL_GENL_PRIVATE_H 1

/* Inside src/genl: how the core (genl.c: connections, dispatch, errors,
 * dumps, multicast, upcall delivery), the datapath registry
 * (genl-registry.c) and the families (genl-ctrl.c, genl-dp.c,
 * genl-vport.c, genl-flow.c, genl-packet.c, genl-meter.c, genl-ct-limit.c)
 * fit together.
 *
 * A family is a table: name, id, version, header size, attribute policy,
 * commands, multicast group.  The core parses each request (nlmsghdr,
 * genlmsghdr, the family's fixed header, attributes checked against the
 * policy the way the kernel's liberal genetlink validation does: unknown
 * types skipped, the last of duplicates wins, too-short values refused),
 * finds the command, and calls its doit or dumpit.  A doit returns 0 (ACK
 * if NLM_F_ACK) or -errno (NLMSG_ERROR), setting 'req->err' to the
 * extack text and 'req->bad_attr' to the attribute at fault if any.
 *
 * Message building: a 'struct genl_msgbuf' is one datagram under
 * construction, with a fixed capacity; genl_msg_start() opens a message
 * in it, attributes are added with libmnl's _check calls using
 * genl_msg_room() as the buffer length, genl_msg_end() commits it.  A
 * message that does not fit is cancelled and the datagram sent as it is
 * (dumps), or the request fails with -EMSGSIZE (doit replies are sized
 * to always fit). */

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/openvswitch.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp/dp.h"
#include "genl/genl.h"
#include "lib/errbuf.h"

struct dp_upcall;

/* Family ids and multicast group ids weird gives out.  nlctrl's are fixed
 * by the kernel ABI; the others are dynamic in the kernel, so clients
 * resolve them by name. */
#define GENL_FAMILY_ID_DATAPATH 0x20
#define GENL_FAMILY_ID_VPORT 0x21
#define GENL_FAMILY_ID_FLOW 0x22
#define GENL_FAMILY_ID_PACKET 0x23
#define GENL_FAMILY_ID_METER 0x24
#define GENL_FAMILY_ID_CT_LIMIT 0x25
#define GENL_MCGRP_ID_CTRL GENL_ID_CTRL     /* "notify". */
#define GENL_MCGRP_ID_DATAPATH 5
#define GENL_MCGRP_ID_VPORT 6
#define GENL_MCGRP_ID_FLOW 7
#define GENL_MCGRP_ID_METER 8
#define GENL_MCGRP_ID_CT_LIMIT 9

/* Largest datagram weird sends for a dump part, and the capacity of a
 * doit reply (enough for any flow or vport message). */
#define GENL_DUMP_DGRAM_SIZE 32768
#define GENL_REPLY_SIZE 65536

/* ---- Message buffers. ---- */

struct genl_msgbuf {
    uint8_t *data;
    size_t len;                 /* Bytes of committed messages. */
    size_t cap;
};

/* Return 0 or -ENOMEM. */
int genl_msgbuf_init(struct genl_msgbuf *mb, size_t cap);
void genl_msgbuf_uninit(struct genl_msgbuf *mb);

struct genl_family;

/* Opens a message at the tail of 'mb': nlmsghdr (type = the family's id,
 * 'flags', 'portid', 'seq'), genlmsghdr ('cmd', the family's version) and,
 * for the OVS families, a struct ovs_header with 'dp_ifindex'.
 * Returns the message, or NULL if 'mb' has no room for the headers. */
struct nlmsghdr *genl_msg_start(struct genl_msgbuf *mb,
                                const struct genl_family *fam, uint8_t cmd,
                                uint32_t portid, uint32_t seq,
                                uint16_t flags, uint32_t dp_ifindex);

/* The buffer length to pass to libmnl _check calls on 'nlh'. */
size_t genl_msg_room(const struct genl_msgbuf *mb,
                     const struct nlmsghdr *nlh);

/* Commits / drops the message opened last. */
void genl_msg_end(struct genl_msgbuf *mb, struct nlmsghdr *nlh);
void genl_msg_cancel(struct genl_msgbuf *mb, struct nlmsghdr *nlh);

/* Appends attribute 'type' with the 'len' bytes of 'data' (a 64-bit value
 * or a struct of them) to 'nlh', whose buffer is 'room' bytes, as the
 * kernel's nla_put_64bit() does: first an empty attribute 'pad_type'
 * (the family's *_ATTR_PAD) when the value would otherwise not be 8-byte
 * aligned, but only on architectures without efficient unaligned access,
 * so never on x86-64 or arm64 (where the kernel never pads either).
 * Returns false if it does not fit (then the caller cancels the
 * message). */
bool genl_put_64bit(struct nlmsghdr *nlh, size_t room, uint16_t type,
                    size_t len, const void *data, uint16_t pad_type);

/* ---- Requests and families. ---- */

#define GENL_MAX_ATTR 32        /* Highest attribute type of any family. */

struct genl_req {
    struct genl_server *srv;
    struct genl_conn *conn;
    const struct nlmsghdr *nlh;
    const struct genlmsghdr *genl;
    uint32_t dp_ifindex;        /* OVS families: ovs_header; else 0. */
    const struct nlattr *tb[GENL_MAX_ATTR + 1];  /* NULL when absent. */
    struct errbuf *err;         /* Extack text for a rejection. */
    const struct nlattr *bad_attr;  /* For NLMSGERR_ATTR_OFFS, or NULL. */
    bool probe;                 /* Feature probe: do not log. */
};

/* Dump state kept between parts, as the kernel's cb->args. */
struct genl_dump_state {
    uint64_t args[6];
};

/* How an attribute is checked before the command sees it. */
enum genl_attr_kind {
    GENL_ATTR_UNSPEC,           /* Not checked (or unknown: skipped). */
    GENL_ATTR_FLAG,             /* Any length (the kernel: 0). */
    GENL_ATTR_U8,
    GENL_ATTR_U16,
    GENL_ATTR_U32,
    GENL_ATTR_U64,
    GENL_ATTR_STRING,           /* NUL-terminated, at most 'max_len'
                                 * bytes with the NUL. */
    GENL_ATTR_NESTED,
    GENL_ATTR_BINARY,           /* At most 'max_len' bytes (0: any). */
    GENL_ATTR_EXACT,            /* Exactly 'max_len' bytes. */
};

struct genl_policy {
    enum genl_attr_kind kind;
    uint16_t max_len;
};

struct genl_op {
    uint8_t cmd;
    bool admin;                 /* GENL_ADMIN_PERM (reported by nlctrl). */
    bool dump_attrs;            /* The dumpit reads the request's
                                 * attributes: the core parses them for
                                 * every part, and a policy violation ends
                                 * the dump (the kernel's ovs_flow dump
                                 * parses its own).  Else, as the kernel's
                                 * GENL_DONT_VALIDATE_DUMP, they are
                                 * neither checked nor in 'req->tb'. */
    /* Handles a request.  Returns 0 (ACK if NLM_F_ACK) or -errno. */
    int (*doit)(struct genl_req *req);
    /* Appends the next entries of a dump to 'out' (one datagram), each
     * a message with NLM_F_MULTI.  Returns 1 if more entries remain, 0
     * at the end (the core appends NLMSG_DONE), or -errno (the core ends
     * the dump with NLMSG_DONE carrying the error, as the kernel does).
     * 'req' is the dump request, re-parsed for every part. */
    int (*dumpit)(struct genl_req *req, struct genl_msgbuf *out,
                  struct genl_dump_state *st);
};

struct genl_family {
    const char *name;
    uint16_t id;
    uint8_t version;
    uint32_t hdrsize;           /* Fixed header after genlmsghdr. */
    uint16_t maxattr;
    const struct genl_policy *policy;   /* maxattr + 1 entries. */
    const struct genl_op *ops;
    size_t n_ops;
    const char *mcgrp_name;     /* NULL: no multicast group. */
    uint32_t mcgrp_id;
};

extern const struct genl_family genl_ctrl_family;      /* genl-ctrl.c */
extern const struct genl_family genl_dp_family;        /* genl-dp.c */
extern const struct genl_family genl_vport_family;     /* genl-vport.c */
extern const struct genl_family genl_flow_family;      /* genl-flow.c */
extern const struct genl_family genl_packet_family;    /* genl-packet.c */
extern const struct genl_family genl_meter_family;     /* genl-meter.c */
extern const struct genl_family genl_ct_limit_family;  /* genl-ct-limit.c */

/* Every family, for nlctrl; NULL-terminated. */
extern const struct genl_family *const genl_families[];

const struct genl_family *genl_family_by_id(uint16_t id);
const struct genl_family *genl_family_by_name(const char *name);

/* For unit tests of the core only (weird never sets it): one more family,
 * found by genl_family_by_id() after the built-in ones but neither by
 * name nor in nlctrl's dump.  NULL by default. */
extern const struct genl_family *genl_test_family;

/* ---- Delivery. ---- */

/* Queues the datagram in 'mb' (a reply) for 'conn' and empties 'mb'.  As
 * the kernel's netlink_unicast() from a family, it counts against the
 * connection's receive buffer: when it does not fit, it is dropped and
 * the connection reads NLMSG_OVERRUN (genl.c essay). */
void genl_unicast(struct genl_conn *conn, struct genl_msgbuf *mb);

/* True if a reply to 'req' must be built for notification: NLM_F_ECHO, or
 * the family's group has members. */
bool genl_must_notify(const struct genl_req *req,
                      const struct genl_family *fam);

/* Sends the datagram in 'mb' (a NEW/DEL/SET reply) as the kernel's
 * genl_notify(): to the family's group members (but the requester when
 * it asked for NLM_F_ECHO) and, with NLM_F_ECHO, to the requester (as a
 * reply: see genl_unicast()).  Empties 'mb'. */
void genl_notify(struct genl_req *req, const struct genl_family *fam,
                 struct genl_msgbuf *mb);

/* Sends 'mb' to the group members of 'fam' (events with no request).
 * Empties 'mb'. */
void genl_multicast(struct genl_server *srv, const struct genl_family *fam,
                    struct genl_msgbuf *mb);

/* ---- Datapaths (genl-registry.c). ---- */

/* The size of a new datapath's masks cache (the kernel's
 * MC_DEFAULT_HASH_ENTRIES). */
#define GENL_MASKS_CACHE_DEFAULT 256u

/* What weird remembers of a vport beyond the datapath engine. */
struct genl_vport {
    uint32_t port_no;
    uint32_t ovs_type;          /* enum ovs_vport_type reported. */
    char dpif_type[16];         /* "system", "internal", or a provider. */
    char provider[16];          /* The port provider opened. */
    char *options;              /* Provider options, or NULL. */
    bool explicit_provider;     /* Made with WEIR_VPORT_OPT_PROVIDER:
                                 * reported back in OPTIONS. */
};

struct genl_dp {
    struct datapath *dp;
    char name[DP_NAME_MAX];
    uint32_t ifindex;           /* ovs_header dp_ifindex: the local
                                 * port's device, or made up. */
    uint32_t masks_cache_size;  /* OVS_DP_ATTR_MASKS_CACHE_SIZE;
                                 * GENL_MASKS_CACHE_DEFAULT at first. */
    struct genl_vport *vports;  /* Sorted by port_no. */
    size_t n_vports;
    struct dp_thread *exec_thr; /* genl-packet.c: runs OVS_PACKET_CMD_
                                 * EXECUTE on the server's thread; made
                                 * on the first one, NULL until then.
                                 * genl_dp_destroy() destroys it (on the
                                 * server's thread) before dp_destroy(). */
    struct genl_dp *next;       /* Server's list, in creation order. */
};

/* The server's datapaths.  Only genl-registry.c touches the members;
 * the server holds one (genl_server_registry()). */
struct genl_registry {
    struct genl_dp *dps;        /* In creation order. */
    uint32_t next_ifindex;      /* Next made-up dp_ifindex. */
};

/* Makes 'reg' empty. */
void genl_registry_init(struct genl_registry *reg);

/* genl.c: the registry of 'srv'. */
struct genl_registry *genl_server_registry(struct genl_server *srv);

/* genl.c: opens an upcall channel in 'gdp' for every bound connection
 * (after 'gdp' joined the registry) / closes every connection's channel in
 * 'gdp' (after it left it; its upcalls are lost). */
void genl_conns_dp_added(struct genl_server *srv, struct genl_dp *gdp);
void genl_conns_dp_removed(struct genl_server *srv,
                           const struct genl_dp *gdp);

struct genl_dp *genl_dp_by_ifindex(struct genl_server *srv, uint32_t ifindex);
struct genl_dp *genl_dp_by_name(struct genl_server *srv, const char *name);
/* The datapath after 'prev' in creation order (NULL: the first). */
struct genl_dp *genl_dp_next(struct genl_server *srv,
                             const struct genl_dp *prev);
/* The 'i'th datapath in creation order, or NULL (for dump cursors). */
struct genl_dp *genl_dp_at(struct genl_server *srv, uint64_t i);

/* Creates a datapath with its local port (upcall PID 'upcall_pid') and
 * PMD threads, and opens a channel for every bound connection.
 * Returns 0 and '*gdpp'; -EEXIST; -EINVAL; the local port's error. */
int genl_dp_create(struct genl_server *srv, const char *name,
                   uint32_t features, uint32_t upcall_pid,
                   struct genl_dp **gdpp, struct errbuf *err);

/* Destroys 'gdp' with its ports, flows, threads and the connections'
 * channels in it.  NULL is a no-op. */
void genl_dp_destroy(struct genl_server *srv, struct genl_dp *gdp);

/* Finds the vport record of 'port_no' in 'gdp', or NULL. */
struct genl_vport *genl_dp_vport(struct genl_dp *gdp, uint32_t port_no);

/* Tells the daemon that datapaths or ports changed (state file). */
void genl_changed(struct genl_server *srv);

/* The server's configuration. */
const struct genl_config *genl_server_config(const struct genl_server *srv);

/* genl-vport.c: adds a port (OVS_VPORT_CMD_NEW and state restore):
 * 'dpif_type' as in genl_server_port_add(), upcall PIDs 'pids' ('n_pids'
 * may be 0: none).  Records it in 'gdp->vports'.
 * Returns 0 or -errno with the reason in 'err'. */
int genl_vport_add(struct genl_server *srv, struct genl_dp *gdp,
                   const char *name, const char *dpif_type,
                   const char *provider, const char *options,
                   const uint32_t *pids, size_t n_pids,
                   uint32_t *port_no, struct errbuf *err);

/* genl-vport.c: forgets the record of 'port_no' (after dp_port_del()). */
void genl_vport_forget(struct genl_dp *gdp, uint32_t port_no);

/* genl-packet.c: appends an OVS_PACKET_CMD_MISS or _ACTION message for
 * upcall 'u' of datapath 'gdp', addressed to 'portid', to 'mb'.  With
 * OVS_DP_F_UNALIGNED in the datapath's features the message ends right
 * after the packet's last byte, as the kernel's does: 'mb->len' is then
 * unaligned and nothing may be appended after it (one upcall per
 * datagram).
 * Returns 0 or -EMSGSIZE (does not fit: 'mb' unchanged). */
int genl_packet_upcall_put(struct genl_msgbuf *mb, const struct genl_dp *gdp,
                           const struct dp_upcall *u, uint32_t portid);

#endif /* genl/genl-private.h */
