/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_TOOLS_WEIR_DP_H
#define WEIR_TOOLS_WEIR_DP_H 1

/* "weir dp": the ovs-dpctl-compatible commands, shared between their
 * files (private to src/tools).
 *
 * What
 * ====
 *
 * weir-dp.c parses the command line and runs the datapath commands (show,
 * dump-dps, add-dp, del-dp); weir-dp-port.c the port commands (add-if,
 * set-if, del-if); weir-dp-flow.c the flow commands (dump-flows,
 * add-flow, mod-flow, get-flow, del-flow, del-flows, add-flows,
 * mod-flows); weir-dp-filter.c the dump-flows filter; weir-dp-text.c
 * the output forms shared by all of them (statistics, flow lines, port
 * names, JSON); weir-dp-monitor.c the monitor command (a dpif
 * monitor).
 *
 * Design
 * ======
 *
 * Every command goes through libweir's dpif API with the "netlink"
 * provider, exactly as a third-party client would, and prints what Open
 * vSwitch 3.1's ovs-dpctl prints for the same state (lib/dpctl.c), so
 * that scripts and python3-openvswitch's ovs.flow.odp parser keep
 * working.  Where weir has more to say (--terse, --json, monitor) the
 * output is documented in man/weir.1.
 *
 * Thread-safety
 * =============
 *
 * Single-threaded: the CLI is one process per command.
 *
 * Ownership
 * =========
 *
 * Output goes to caller sbufs or stdout; inputs are borrowed.  Functions
 * that return allocated objects say who frees them. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weir/dpif.h"

struct errbuf;
struct sbuf;

/* Command-line options (ovs-dpctl's, plus weir's). */
struct dp_opts {
    bool statistics;            /* -s, --statistics */
    int more;                   /* -m, --more (count) */
    bool names;                 /* --names, --no-names; without either,
                                 * names with -m (as ovs-dpctl) */
    bool names_set;             /* --names or --no-names was given */
    bool clear;                 /* --clear */
    bool may_create;            /* --may-create */
    bool read_only;             /* --read-only */
    bool terse;                 /* --terse */
    bool json;                  /* --json */
};

/* ---- Datapaths (weir-dp.c). ---- */

/* Splits a datapath argument "[type@]name" ('type' "system", "netlink"
 * or none) into its name, copied into 'name' (DPIF_NAME_MAX bytes).
 * Returns true, or false after printing the reason. */
bool dp_parse_name(const char *arg, char name[DPIF_NAME_MAX]);

/* Opens the datapath named by 'arg' ("[type@]name"), or, if 'arg' is
 * NULL, the only one there is (ovs-dpctl's default).  Prints the reason
 * on failure (no such datapath, none or several, weird not running).
 * Returns 0 and '*dpifp' (close it with dpif_close()), or -errno. */
int dp_open(const char *arg, struct dpif **dpifp);

/* Prints "weir: PREFIX: REASON (strerror)", REASON being
 * dpif_last_error() when it has one; when weird cannot be reached (and
 * the dpif gave no reason), a message that names the control socket
 * instead.  Returns WEIR_EXIT_ERROR. */
int dp_fail(const char *prefix, int error);

/* Whether 'error', from a call that connects to weird (dpif_open(),
 * dpif_enumerate(), dpif_monitor_create()), means weird cannot be
 * reached (no socket, nobody listening, no permission). */
bool dp_is_unreachable(int error);

/* Prints why weird could not be reached, naming the control socket.
 * Returns WEIR_EXIT_ERROR. */
int dp_unreachable(int error);

/* ---- Ports and their names (weir-dp-text.c). ---- */

struct dp_port_names {
    struct dpif_port *ports;    /* Sorted by port_no. */
    size_t n;
};

/* Fills 'pn' with every port of 'dpif'.  Returns 0 or -errno. */
int dp_port_names_load(const struct dpif *dpif, struct dp_port_names *pn);
void dp_port_names_free(struct dp_port_names *pn);
/* The name of port 'port_no', or NULL. */
const char *dp_port_names_get(const struct dp_port_names *pn,
                              uint32_t port_no);
/* Sets '*port_no' to the number of port 'name'; returns false if none. */
bool dp_port_names_find(const struct dp_port_names *pn, const char *name,
                        uint32_t *port_no);

/* ---- Text (weir-dp-text.c). ---- */

/* Milliseconds on CLOCK_MONOTONIC, the clock of dpif_flow_stats.used_ms. */
int64_t dp_now_ms(void);

/* Appends OVS's dpif_flow_stats_format(): "packets:N, bytes:N,
 * used:S.SSSs" (or "used:never"), then ", flags:F" for nonzero TCP
 * flags. */
void dp_format_stats(const struct dpif_flow_stats *stats, int64_t now_ms,
                     struct sbuf *out);

/* Appends OVS's packet_format_tcp_flags() letters ("S", "F", "P", "R",
 * "U", ".", "E", "C", "N"); "none" for 0. */
void dp_format_tcp_flags(uint16_t flags, struct sbuf *out);

/* Appends one flow as "ovs-dpctl dump-flows" prints it: "ufid:U, " first
 * when 'verbose' (or 'with_ufid') and the flow has one, the key (with its
 * mask; every field when 'verbose'), the statistics, ", dp:ovs" when
 * 'verbose' (what ovs-dpctl -m shows for a kernel datapath), and
 * ", actions:...".  With 'names', port numbers in in_port() and in output
 * actions print as port names.  A terse flow (no key) prints as
 * "ufid:U, packets:..." with no key; a flow without actions (NULL: left
 * out of a terse dump) ends after the statistics. */
void dp_format_flow(const struct dpif_flow *flow, bool verbose,
                    bool with_ufid, const struct dp_port_names *names,
                    int64_t now_ms, struct sbuf *out);

/* Appends the key text of 'flow' (with its mask), with names as above. */
void dp_format_key(const struct dpif_flow *flow, bool verbose,
                   const struct dp_port_names *names, struct sbuf *out);

/* Appends the actions text of 'flow', with names as above. */
void dp_format_actions(const struct dpif_flow *flow,
                       const struct dp_port_names *names, struct sbuf *out);

/* Rewrites, in 'text' (action text as act_format() prints it), every
 * output action's port number that names a port of 'names' into the
 * port's name, as OVS's format_odp_actions() does with port names:
 * at the top level and inside clone(), sample(...,actions()),
 * check_pkt_len(...,gt(),le()) and dec_ttl(le_1()).  The result is
 * appended to 'out'.  Exposed for the unit checks. */
void dp_names_in_actions(const char *text, const struct dp_port_names *names,
                         struct sbuf *out);

/* Appends "port N: NAME" and, unless the type is "system" with no
 * options, " (TYPE)" or " (TYPE: k=v, k=v)" with the port's options
 * sorted by key, as ovs-dpctl show does. */
void dp_format_port(const struct dpif_port *port, struct sbuf *out);

/* Appends " (X.Y KiB)" etc. for 'bytes' >= 1024, as ovs-dpctl show -s. */
void dp_format_human_size(uint64_t bytes, struct sbuf *out);

/* ---- JSON (weir-dp-text.c). ---- */

/* A streaming JSON writer into an sbuf: it places commas and quotes; the
 * caller opens and closes objects and arrays in order.  'key' is the
 * member name inside an object, NULL inside an array or at the top. */
#define DP_JSON_MAX_DEPTH 16

struct dp_json {
    struct sbuf *out;
    int depth;
    bool has_item[DP_JSON_MAX_DEPTH];
};

void dp_json_init(struct dp_json *j, struct sbuf *out);
void dp_json_open(struct dp_json *j, const char *key, char bracket);
void dp_json_close(struct dp_json *j, char bracket);
void dp_json_str(struct dp_json *j, const char *key, const char *s);
void dp_json_strn(struct dp_json *j, const char *key, const char *s,
                  size_t n);
void dp_json_u64(struct dp_json *j, const char *key, uint64_t v);
void dp_json_double(struct dp_json *j, const char *key, double v,
                    int decimals);
void dp_json_bool(struct dp_json *j, const char *key, bool v);
void dp_json_null(struct dp_json *j, const char *key);

/* Writes one flow as a JSON object (schema in man/weir.1): "ufid",
 * "match", "packets", "bytes", "used", "tcp_flags", "actions" ("match"
 * null without a key, "actions" null when 'actions' is NULL). */
void dp_json_flow(struct dp_json *j, const char *key,
                  const struct dpif_flow *flow, bool verbose,
                  const struct dp_port_names *names, int64_t now_ms);

/* Writes statistics alone as a JSON object ("packets", "bytes", "used",
 * "tcp_flags"). */
void dp_json_stats(struct dp_json *j, const char *key,
                   const struct dpif_flow_stats *stats, int64_t now_ms);

/* Writes the members of a port object (the caller opens and closes it):
 * "port_no", "name", "type", "options" (an object of the "k=v" pairs). */
void dp_json_port_members(struct dp_json *j, const struct dpif_port *port);

/* ---- Key text input (weir-dp-flow.c). ---- */

/* Copies 'text' to a malloc'd string in which "in_port(NAME)" is
 * replaced by "in_port(N)" when NAME is a port of 'names' (ovs-dpctl
 * accepts port names there).  Never NULL. */
char *dp_subst_port_names(const char *text, const struct dp_port_names *names);

/* ---- Flow filter (weir-dp-filter.c). ---- */

#define DP_FILTER_BUF 2048

/* A dump-flows filter: ovs-dpctl's "filter=..." (a subset of ovs-ofctl's
 * match syntax: "in_port=1,tcp,tp_dst=80"), or a datapath key in
 * ovs-dpctl syntax ("in_port(1),eth_type(0x0800)", masks allowed), either
 * optionally with "ufid:UUID". */
struct dp_filter {
    bool has_ufid;
    struct dpif_ufid ufid;
    size_t key_len, mask_len;   /* 0: no key fields. */
    uint8_t key[DP_FILTER_BUF]; /* OVS_KEY_ATTR_* stream. */
    uint8_t mask[DP_FILTER_BUF];
};

/* Parses 'text' into 'f'.  'names' maps in_port names (may be NULL).
 * Returns 0, or -EINVAL with the reason in 'err'. */
int dp_filter_parse(const char *text, const struct dp_port_names *names,
                    struct dp_filter *f, struct errbuf *err);

/* Returns true if 'flow' passes 'f': its UFID is the filter's (if the
 * filter names one), and every bit that both the filter's mask and the
 * flow's mask match is equal in both keys (OVS's rule: a field the flow
 * wildcards passes any filter value).  A flow without a key (terse dump)
 * passes only filters without key fields. */
bool dp_filter_match(const struct dp_filter *f, const struct dpif_flow *flow);

/* ---- Commands. ---- */

/* Each takes the arguments after the command name; returns the exit
 * status.  weir-dp-port.c: */
int dp_cmd_add_if(int argc, char *argv[], const struct dp_opts *o);
int dp_cmd_set_if(int argc, char *argv[], const struct dp_opts *o);
int dp_cmd_del_if(int argc, char *argv[], const struct dp_opts *o);

/* weir-dp-flow.c: */

int dp_cmd_dump_flows(int argc, char *argv[], const struct dp_opts *o);
int dp_cmd_put_flow(int argc, char *argv[], const struct dp_opts *o,
                    bool modify);
int dp_cmd_get_flow(int argc, char *argv[], const struct dp_opts *o);
int dp_cmd_del_flow(int argc, char *argv[], const struct dp_opts *o);
int dp_cmd_del_flows(int argc, char *argv[], const struct dp_opts *o);
/* add-flows / mod-flows: 'modify' picks the default of lines without a
 * command word. */
int dp_cmd_process_flows(int argc, char *argv[], const struct dp_opts *o,
                         int default_cmd);

/* weir-dp-monitor.c: */
int dp_cmd_monitor(int argc, char *argv[], const struct dp_opts *o);

/* Default command of a flow file line without "add", "modify" or
 * "delete". */
enum { DP_FLOWS_ADD, DP_FLOWS_MOD, DP_FLOWS_DEL };

#endif /* tools/weir-dp.h */
