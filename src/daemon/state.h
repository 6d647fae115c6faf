/* SPDX-License-Identifier: Apache-2.0 */
#ifndef WEIR_DAEMON_STATE_H
#define WEIR_DAEMON_STATE_H 1

/* weird's state file: the datapaths and ports clients made, so that a
 * restarted weird has them again (flows are not kept, as the kernel
 * module keeps none across a reload).
 *
 * What
 * ====
 *
 * A text file, one line per datapath and per port, in the order they are
 * re-created:
 *
 *     # weird state file (written by weird; edit only while it is stopped)
 *     datapath ovs-system features=0x00000005
 *     port ovs-system eth1 type=system port_no=1
 *     port ovs-system p0 type=pcap port_no=2 options=file=/tmp/a%20b.pcap
 *
 * Fields are separated by one or more spaces or tabs.  Names and option
 * strings are written with every byte at or below 0x20, at or above 0x7f,
 * and '%' itself as "%XX" (two hex digits), so a field never holds a
 * space.  "#" lines and blank lines are comments.  The keys of a line may
 * come in any order; each once.  A port line names a datapath given on an
 * earlier line.
 *
 * The default file is /run/weir/weird.state (STATE_DEFAULT_PATH): on a
 * tmpfs, so the datapaths outlive a restart of weird but not a reboot of
 * the host, which is exactly how long the kernel module's datapaths live.
 * --state=PATH chooses another file; an empty PATH disables it.
 *
 * Design
 * ======
 *
 *   - Writing: genl calls state_file_changed() inside the request that
 *     changed something; that only arms a zero-timeout libevent timer, so
 *     a burst of changes (ovs-vswitchd adding 100 ports) costs one write
 *     after the burst, and no request waits for a disk.  The write is
 *     atomic: "PATH.tmp", fsync(), rename() over PATH, fsync() of the
 *     directory.  A failed write is logged and retried a second later.
 *   - Reading (state_file_restore(), at start): the whole file is parsed
 *     before anything is made, so a malformed file makes nothing.  Then
 *     each datapath and port is re-created with genl_server_dp_create() /
 *     genl_server_port_add(), with its port number; one that fails (a
 *     device gone) is logged at WARN and skipped, as are the ports of a
 *     datapath that failed, and the file is rewritten without them.
 *   - A malformed file: weird starts empty, logs an ERR naming the file,
 *     line and reason, and renames the file to "PATH.bad" (replacing an
 *     older one) so it is neither used nor lost.  Starting empty is what
 *     an operator wants here: the state is a cache of what the controller
 *     (ovs-vswitchd, which re-adds its datapath and ports from its
 *     database) made, and a switch daemon that refuses to start takes the
 *     host's networking down with it.  A file that exists but cannot be
 *     read (EACCES, EIO) is another matter: nothing is known about it, so
 *     weird refuses to start.
 *   - state_parse() is the whole parser, on a buffer with a length (no
 *     NUL needed, NUL bytes refused), with callbacks: bounds-checked and
 *     fuzzed (tests/fuzz/fuzz-state.c).
 *
 * Thread-safety
 * =============
 *
 * A state_file lives on its event_base's thread, which must be a
 * registered RCU reader (as genl requires); its timer callback goes
 * online and offline like every event callback.  state_parse() is
 * reentrant.
 *
 * Ownership
 * =========
 *
 * The state_file borrows the event_base and, from state_file_restore()
 * on, the genl_server; state_file_detach() ends the latter. */

#include <stddef.h>
#include <stdint.h>

struct errbuf;
struct event_base;
struct genl_server;

#define STATE_DEFAULT_PATH "/run/weir/weird.state"

/* Longest name (datapath or port) and option string, decoded, without
 * the NUL; longest line. */
#define STATE_NAME_MAX 255
#define STATE_OPTIONS_MAX 4095
#define STATE_LINE_MAX 16384

struct state_parse_cbs {
    /* A "datapath" line.  Returns 0, or -errno to stop the parse (with a
     * reason in 'err', which state_parse() prefixes with the line). */
    int (*datapath)(const char *name, uint32_t features, unsigned int line,
                    void *aux, struct errbuf *err);
    /* A "port" line; 'options' is NULL when the line has none. */
    int (*port)(const char *dp_name, const char *name, const char *type,
                const char *options, uint32_t port_no, unsigned int line,
                void *aux, struct errbuf *err);
    void *aux;
};

/* Parses 'len' bytes of state file text at 'text', calling 'cbs' (may be
 * NULL, or have NULL members) for each datapath and port line, in order.
 * Returns: 0; -EINVAL with "line N: reason" in 'err' for a malformed
 * line (unknown keyword or key, a key twice or missing, a bad number or
 * escape, a field too long, a NUL byte, a port of a datapath not given
 * before, a datapath given twice); -ENOMEM; or a callback's error. */
int state_parse(const char *text, size_t len,
                const struct state_parse_cbs *cbs, struct errbuf *err);

/* Formats one datapath or port line (with its newline) into 'buf' of
 * 'size' bytes.  Returns the length it needs without the NUL (as
 * snprintf: the line was cut if that is >= 'size'). */
size_t state_format_dp(char *buf, size_t size, const char *name,
                       uint32_t features);
size_t state_format_port(char *buf, size_t size, const char *dp_name,
                         const char *name, const char *type,
                         const char *options, uint32_t port_no);

/* Makes the directory 'path' is in, and its parents (mkdir -p), mode
 * 0755 for those it makes; for the daemon's other files (socket, pidfile,
 * log) too.  Returns 0 or -errno. */
int state_make_dirs(const char *path);

struct state_file;

/* Makes the state file object for 'path' (not read yet); its directory is
 * made (mode 0755) if missing.  Returns NULL with the reason in 'err'. */
struct state_file *state_file_create(struct event_base *base,
                                     const char *path, struct errbuf *err);

/* Reads the file and re-creates its datapaths and ports in 'genl', which
 * the state file then writes from.  A missing file is an empty one; a
 * malformed one is renamed to PATH.bad and logged (weird starts empty).
 * Context: online.
 * Returns: the number of datapaths and ports re-created (>= 0);
 * -errno with the reason in 'err' when the file cannot be read, or the
 * bad copy cannot be made. */
int state_file_restore(struct state_file *sf, struct genl_server *genl,
                       struct errbuf *err);

/* genl's 'changed' callback (struct genl_config): schedules a write.
 * 'aux' is the state_file.  Context: the event_base's thread. */
void state_file_changed(void *aux);

/* Writes the file now if a write is pending.  Context: online.
 * Returns 0 or -errno (logged). */
int state_file_flush(struct state_file *sf);

/* Stops writing (before the genl server is destroyed, so that the
 * removal of every datapath at shutdown is not recorded). */
void state_file_detach(struct state_file *sf);

/* Frees 'sf' (NULL is a no-op); a pending write is dropped (call
 * state_file_flush() first). */
void state_file_destroy(struct state_file *sf);

#endif /* daemon/state.h */
