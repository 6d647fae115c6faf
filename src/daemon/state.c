/* SPDX-License-Identifier: Apache-2.0 */
/* The state file: format, parser, atomic writes, restore.  See state.h. */

#include "daemon/state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "genl/genl.h"
#include "lib/errbuf.h"
#include "lib/log.h"
#include "lib/rcu.h"
#include "lib/text.h"

/* Longest type name ("system", "afpacket", ...). */
#define STATE_TYPE_MAX 31

/* Largest state file read; anything bigger is not one weird wrote. */
#define STATE_FILE_MAX (16u << 20)

#define STATE_MAX_FIELDS 8

/* ---- Formatting. ---- */

/* A bounded output buffer that counts what did not fit, as snprintf. */
struct lbuf {
    char *buf;
    size_t size;
    size_t len;                 /* Bytes wanted so far. */
};

static void
lbuf_putc(struct lbuf *lb, char c)
{
    if (lb->len + 1 < lb->size) {
        lb->buf[lb->len] = c;
    }
    lb->len++;
}

static void
lbuf_puts(struct lbuf *lb, const char *s)
{
    for (; *s; s++) {
        lbuf_putc(lb, *s);
    }
}

/* Writes 's' with the escapes of state.h. */
static void
lbuf_put_escaped(struct lbuf *lb, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; *s; s++) {
        unsigned char c = (unsigned char) *s;

        if (c <= 0x20 || c >= 0x7f || c == '%') {
            lbuf_putc(lb, '%');
            lbuf_putc(lb, hex[c >> 4]);
            lbuf_putc(lb, hex[c & 15]);
        } else {
            lbuf_putc(lb, (char) c);
        }
    }
}

static size_t
lbuf_finish(struct lbuf *lb)
{
    if (lb->size) {
        lb->buf[lb->len < lb->size ? lb->len : lb->size - 1] = '\0';
    }
    return lb->len;
}

size_t
state_format_dp(char *buf, size_t size, const char *name, uint32_t features)
{
    struct lbuf lb = { buf, size, 0 };
    char num[32];

    lbuf_puts(&lb, "datapath ");
    lbuf_put_escaped(&lb, name);
    snprintf(num, sizeof num, " features=0x%08" PRIx32 "\n", features);
    lbuf_puts(&lb, num);
    return lbuf_finish(&lb);
}

size_t
state_format_port(char *buf, size_t size, const char *dp_name,
                  const char *name, const char *type, const char *options,
                  uint32_t port_no)
{
    struct lbuf lb = { buf, size, 0 };
    char num[32];

    lbuf_puts(&lb, "port ");
    lbuf_put_escaped(&lb, dp_name);
    lbuf_putc(&lb, ' ');
    lbuf_put_escaped(&lb, name);
    lbuf_puts(&lb, " type=");
    lbuf_put_escaped(&lb, type);
    snprintf(num, sizeof num, " port_no=%" PRIu32, port_no);
    lbuf_puts(&lb, num);
    if (options && *options) {
        lbuf_puts(&lb, " options=");
        lbuf_put_escaped(&lb, options);
    }
    lbuf_putc(&lb, '\n');
    return lbuf_finish(&lb);
}

/* ---- Parsing. ---- */

/* One field of a line: 'len' bytes at 's' (not NUL-terminated). */
struct field {
    const char *s;
    size_t len;
};

static int
hexval(char c)
{
    return hex_digit_value((unsigned char) c);
}

/* Decodes the escaped field 'f' into 'out' (room for 'max' bytes and a
 * NUL).  Returns 0 or -EINVAL with the reason ('what' names the field). */
static int
decode_field(const struct field *f, char *out, size_t max, const char *what,
             struct errbuf *err)
{
    size_t n = 0;

    for (size_t i = 0; i < f->len; i++) {
        unsigned char c = (unsigned char) f->s[i];

        if (c == '%') {
            int hi, lo;

            if (i + 2 >= f->len) {
                errbuf_set(err, "%s: '%%' not followed by two hex digits",
                           what);
                return -EINVAL;
            }
            hi = hexval(f->s[i + 1]);
            lo = hexval(f->s[i + 2]);
            if (hi < 0 || lo < 0) {
                errbuf_set(err, "%s: '%%' not followed by two hex digits",
                           what);
                return -EINVAL;
            }
            c = (unsigned char) (hi << 4 | lo);
            if (!c) {
                errbuf_set(err, "%s: %%00 (a NUL byte) is not allowed",
                           what);
                return -EINVAL;
            }
            i += 2;
        }
        if (n >= max) {
            errbuf_set(err, "%s longer than %zu bytes", what, max);
            return -EINVAL;
        }
        out[n++] = (char) c;
    }
    if (!n) {
        errbuf_set(err, "empty %s", what);
        return -EINVAL;
    }
    out[n] = '\0';
    return 0;
}

/* Parses "0x" and 1 to 8 hex digits. */
static int
parse_features(const char *s, size_t len, uint32_t *out, struct errbuf *err)
{
    uint32_t v = 0;

    if (len < 3 || len > 10 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) {
        errbuf_set(err, "features: want 0x and 1 to 8 hex digits");
        return -EINVAL;
    }
    for (size_t i = 2; i < len; i++) {
        int d = hexval(s[i]);

        if (d < 0) {
            errbuf_set(err, "features: want 0x and 1 to 8 hex digits");
            return -EINVAL;
        }
        v = v << 4 | (uint32_t) d;
    }
    *out = v;
    return 0;
}

/* Parses a decimal port number, 1 to UINT32_MAX - 1. */
static int
parse_port_no(const char *s, size_t len, uint32_t *out, struct errbuf *err)
{
    uint64_t v = 0;

    if (!len || len > 10) {
        errbuf_set(err, "port_no: want a decimal number");
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            errbuf_set(err, "port_no: want a decimal number");
            return -EINVAL;
        }
        v = v * 10 + (uint64_t) (s[i] - '0');
    }
    if (!v || v >= UINT32_MAX) {
        errbuf_set(err, "port_no %" PRIu64 " out of range (1 to %" PRIu32
                   ")", v, UINT32_MAX - 1);
        return -EINVAL;
    }
    *out = (uint32_t) v;
    return 0;
}

static bool
valid_type(const char *t)
{
    size_t n = strlen(t);

    if (!n || n > STATE_TYPE_MAX) {
        return false;
    }
    for (; *t; t++) {
        if (!((*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9')
              || *t == '_' || *t == '-')) {
            return false;
        }
    }
    return true;
}

/* The names of the datapaths seen so far (for references and
 * duplicates). */
struct dp_names {
    char **names;
    size_t n, cap;
};

static bool
dp_names_has(const struct dp_names *d, const char *name)
{
    for (size_t i = 0; i < d->n; i++) {
        if (!strcmp(d->names[i], name)) {
            return true;
        }
    }
    return false;
}

static int
dp_names_add(struct dp_names *d, const char *name)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 8;
        char **p = realloc(d->names, cap * sizeof *p);

        if (!p) {
            return -ENOMEM;
        }
        d->names = p;
        d->cap = cap;
    }
    d->names[d->n] = strdup(name);
    if (!d->names[d->n]) {
        return -ENOMEM;
    }
    d->n++;
    return 0;
}

static void
dp_names_free(struct dp_names *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->names[i]);
    }
    free(d->names);
}

/* Splits the key=value field 'f' into key and value. */
static int
split_kv(const struct field *f, struct field *key, struct field *value,
         struct errbuf *err)
{
    const char *eq = memchr(f->s, '=', f->len);

    if (!eq) {
        errbuf_set(err, "'%.*s' is not key=value", (int) (f->len > 40 ? 40
                   : f->len), f->s);
        return -EINVAL;
    }
    key->s = f->s;
    key->len = (size_t) (eq - f->s);
    value->s = eq + 1;
    value->len = f->len - key->len - 1;
    return 0;
}

static bool
field_is(const struct field *f, const char *s)
{
    return f->len == strlen(s) && !memcmp(f->s, s, f->len);
}

/* Scratch space for one line's decoded fields. */
struct line_buf {
    char dp[STATE_NAME_MAX + 1];
    char name[STATE_NAME_MAX + 1];
    char type[STATE_TYPE_MAX + 1];
    char options[STATE_OPTIONS_MAX + 1];
};

/* Parses a "datapath" line (fields after the keyword). */
static int
parse_dp_line(const struct field *fields, size_t n, struct line_buf *lb,
              struct dp_names *dps, const struct state_parse_cbs *cbs,
              unsigned int line_no, struct errbuf *err)
{
    bool have_features = false;
    uint32_t features = 0;
    int error;

    if (n < 1) {
        errbuf_set(err, "datapath: no name");
        return -EINVAL;
    }
    error = decode_field(&fields[0], lb->dp, STATE_NAME_MAX, "datapath name",
                         err);
    if (error) {
        return error;
    }
    for (size_t i = 1; i < n; i++) {
        struct field k, v;

        error = split_kv(&fields[i], &k, &v, err);
        if (error) {
            return error;
        }
        if (field_is(&k, "features")) {
            if (have_features) {
                errbuf_set(err, "features given twice");
                return -EINVAL;
            }
            error = parse_features(v.s, v.len, &features, err);
            if (error) {
                return error;
            }
            have_features = true;
        } else {
            errbuf_set(err, "datapath: unknown key '%.*s'",
                       (int) (k.len > 40 ? 40 : k.len), k.s);
            return -EINVAL;
        }
    }
    if (!have_features) {
        errbuf_set(err, "datapath: no features=");
        return -EINVAL;
    }
    if (dp_names_has(dps, lb->dp)) {
        errbuf_set(err, "datapath %s given twice", lb->dp);
        return -EINVAL;
    }
    error = dp_names_add(dps, lb->dp);
    if (error) {
        errbuf_set(err, "out of memory");
        return error;
    }
    if (cbs && cbs->datapath) {
        return cbs->datapath(lb->dp, features, line_no, cbs->aux, err);
    }
    return 0;
}

/* Parses a "port" line (fields after the keyword). */
static int
parse_port_line(const struct field *fields, size_t n, struct line_buf *lb,
                const struct dp_names *dps,
                const struct state_parse_cbs *cbs, unsigned int line_no,
                struct errbuf *err)
{
    bool have_type = false, have_port_no = false, have_options = false;
    uint32_t port_no = 0;
    int error;

    if (n < 2) {
        errbuf_set(err, "port: want a datapath name and a port name");
        return -EINVAL;
    }
    error = decode_field(&fields[0], lb->dp, STATE_NAME_MAX, "datapath name",
                         err);
    if (!error) {
        error = decode_field(&fields[1], lb->name, STATE_NAME_MAX,
                             "port name", err);
    }
    if (error) {
        return error;
    }
    for (size_t i = 2; i < n; i++) {
        struct field k, v;

        error = split_kv(&fields[i], &k, &v, err);
        if (error) {
            return error;
        }
        if (field_is(&k, "type")) {
            if (have_type) {
                errbuf_set(err, "type given twice");
                return -EINVAL;
            }
            error = decode_field(&v, lb->type, STATE_TYPE_MAX, "type", err);
            if (error) {
                return error;
            }
            if (!valid_type(lb->type)) {
                errbuf_set(err, "type: want lowercase letters, digits, "
                           "'_' and '-'");
                return -EINVAL;
            }
            have_type = true;
        } else if (field_is(&k, "port_no")) {
            if (have_port_no) {
                errbuf_set(err, "port_no given twice");
                return -EINVAL;
            }
            error = parse_port_no(v.s, v.len, &port_no, err);
            if (error) {
                return error;
            }
            have_port_no = true;
        } else if (field_is(&k, "options")) {
            if (have_options) {
                errbuf_set(err, "options given twice");
                return -EINVAL;
            }
            have_options = true;
            if (v.len) {
                error = decode_field(&v, lb->options, STATE_OPTIONS_MAX,
                                     "options", err);
                if (error) {
                    return error;
                }
            } else {
                lb->options[0] = '\0';
            }
        } else {
            errbuf_set(err, "port: unknown key '%.*s'",
                       (int) (k.len > 40 ? 40 : k.len), k.s);
            return -EINVAL;
        }
    }
    if (!have_type || !have_port_no) {
        errbuf_set(err, "port: no %s", !have_type ? "type=" : "port_no=");
        return -EINVAL;
    }
    if (!dp_names_has(dps, lb->dp)) {
        errbuf_set(err, "port %s: datapath %s not given before it",
                   lb->name, lb->dp);
        return -EINVAL;
    }
    if (cbs && cbs->port) {
        return cbs->port(lb->dp, lb->name, lb->type,
                         have_options && lb->options[0] ? lb->options : NULL,
                         port_no, line_no, cbs->aux, err);
    }
    return 0;
}

/* Parses one line of 'len' bytes at 'line'. */
static int
parse_line(const char *line, size_t len, struct line_buf *lb,
           struct dp_names *dps, const struct state_parse_cbs *cbs,
           unsigned int line_no, struct errbuf *err)
{
    struct field fields[STATE_MAX_FIELDS + 1];
    size_t n = 0;

    if (len > STATE_LINE_MAX) {
        errbuf_set(err, "longer than %d bytes", STATE_LINE_MAX);
        return -EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char) line[i];

        if ((c < 0x20 && c != '\t') || c >= 0x7f) {
            errbuf_set(err, "byte 0x%02x at column %zu (escape it as %%%02X)",
                       c, i + 1, c);
            return -EINVAL;
        }
    }

    for (size_t i = 0; i < len;) {
        while (i < len && (line[i] == ' ' || line[i] == '\t')) {
            i++;
        }
        if (i == len) {
            break;
        }
        size_t start = i;
        while (i < len && line[i] != ' ' && line[i] != '\t') {
            i++;
        }
        if (n == 0 && line[start] == '#') {
            return 0;
        }
        if (n == STATE_MAX_FIELDS) {
            errbuf_set(err, "more than %d fields", STATE_MAX_FIELDS);
            return -EINVAL;
        }
        fields[n].s = line + start;
        fields[n].len = i - start;
        n++;
    }
    if (!n) {
        return 0;
    }
    if (field_is(&fields[0], "datapath")) {
        return parse_dp_line(fields + 1, n - 1, lb, dps, cbs, line_no, err);
    }
    if (field_is(&fields[0], "port")) {
        return parse_port_line(fields + 1, n - 1, lb, dps, cbs, line_no,
                               err);
    }
    errbuf_set(err, "unknown keyword '%.*s' (want datapath or port)",
               (int) (fields[0].len > 40 ? 40 : fields[0].len), fields[0].s);
    return -EINVAL;
}

int
state_parse(const char *text, size_t len, const struct state_parse_cbs *cbs,
            struct errbuf *err)
{
    struct dp_names dps = { NULL, 0, 0 };
    struct line_buf *lb = malloc(sizeof *lb);
    unsigned int line_no = 0;
    size_t pos = 0;
    int error = 0;

    errbuf_clear(err);
    if (!lb) {
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t line_len = nl ? (size_t) (nl - line) : len - pos;

        line_no++;
        error = parse_line(line, line_len, lb, &dps, cbs, line_no, err);
        if (error) {
            errbuf_prefix(err, "line %u: ", line_no);
            break;
        }
        pos += line_len + (nl ? 1 : 0);
    }
    dp_names_free(&dps);
    free(lb);
    return error;
}

/* ---- The file. ---- */

struct state_file {
    struct event_base *base;    /* Borrowed. */
    char *path;
    char *tmp_path;             /* PATH.tmp */
    char *bad_path;             /* PATH.bad */
    struct genl_server *genl;   /* Borrowed; NULL before restore and
                                 * after detach. */
    struct event *ev_write;     /* Timer. */
    bool pending;               /* A write is scheduled. */
};

static struct wlog_rl rl_write = WLOG_RL_INIT(5, 10000);

static char *
path_with(const char *path, const char *suffix)
{
    size_t a = strlen(path), b = strlen(suffix);
    char *p = malloc(a + b + 1);

    if (p) {
        memcpy(p, path, a);
        memcpy(p + a, suffix, b + 1);
    }
    return p;
}

int
state_make_dirs(const char *path)
{
    char *dir = strdup(path);
    int error = 0;

    if (!dir) {
        return -ENOMEM;
    }
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        for (char *p = dir + 1;; p++) {
            if (*p != '/' && *p != '\0') {
                continue;
            }
            char saved = *p;

            *p = '\0';
            if (mkdir(dir, 0755)) {
                struct stat st;

                if (errno != EEXIST) {
                    error = -errno;
                    break;
                }
                if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
                    error = -ENOTDIR;
                    break;
                }
            }
            *p = saved;
            if (!saved) {
                break;
            }
        }
    }
    free(dir);
    return error;
}

/* What the walk of the genl server writes into. */
struct state_walk {
    struct sbuf sb;
    char line[STATE_LINE_MAX + 2];
};

static void
walk_dp(const char *name, uint32_t features, void *aux)
{
    struct state_walk *w = aux;

    if (strlen(name) > STATE_NAME_MAX) {
        wlog("state", WLOG_ERR, "datapath name too long to record: %.40s",
             name);
        return;
    }
    state_format_dp(w->line, sizeof w->line, name, features);
    sbuf_put(&w->sb, w->line);
}

static void
walk_port(const char *dp_name, const char *name, const char *type,
          const char *options, uint32_t port_no, void *aux)
{
    struct state_walk *w = aux;

    /* Record nothing the parser would refuse: one bad line would cost
     * the whole file at the next start. */
    if (strlen(dp_name) > STATE_NAME_MAX || strlen(name) > STATE_NAME_MAX
        || !valid_type(type) || (options && strlen(options)
                                 > STATE_OPTIONS_MAX)
        || !port_no || port_no == UINT32_MAX) {
        wlog("state", WLOG_ERR, "port %.40s of %.40s cannot be recorded "
             "(a name, type or options out of the file's limits)", name,
             dp_name);
        return;
    }
    state_format_port(w->line, sizeof w->line, dp_name, name, type, options,
                      port_no);
    sbuf_put(&w->sb, w->line);
}

/* Writes all of 'len' bytes.  Returns 0 or -errno. */
static int
write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        p += n;
        len -= (size_t) n;
    }
    return 0;
}

/* fsync()s the directory of 'path', so that a rename in it is durable. */
static int
sync_parent_dir(const char *path)
{
    char *dir = strdup(path);
    int error = 0;

    if (!dir) {
        return -ENOMEM;
    }
    char *slash = strrchr(dir, '/');
    const char *d = !slash ? "." : slash == dir ? "/" : dir;
    if (slash && slash != dir) {
        *slash = '\0';
    }
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd)) {
        error = -errno;
    }
    if (fd >= 0) {
        close(fd);
    }
    free(dir);
    return error;
}

/* Writes the file from the genl server.  Returns 0 or -errno (logged). */
static int
state_write(struct state_file *sf)
{
    struct state_walk *w = malloc(sizeof *w);
    const char *step = "open";
    int error = 0;
    int fd = -1;

    if (!w) {
        return -ENOMEM;
    }
    sbuf_init(&w->sb);
    sbuf_put(&w->sb, "# weird state file (written by weird; edit only "
             "while it is stopped)\n");
    genl_server_walk(sf->genl, walk_dp, walk_port, w);

    fd = open(sf->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        error = -errno;
        goto out;
    }
    step = "write";
    error = write_all(fd, sbuf_str(&w->sb), w->sb.len);
    if (error) {
        goto out;
    }
    step = "fsync";
    if (fsync(fd)) {
        error = -errno;
        goto out;
    }
    step = "close";
    if (close(fd)) {
        fd = -1;
        error = -errno;
        goto out;
    }
    fd = -1;
    step = "rename";
    if (rename(sf->tmp_path, sf->path)) {
        error = -errno;
        goto out;
    }
    step = "fsync of its directory";
    error = sync_parent_dir(sf->path);

out:
    if (fd >= 0) {
        close(fd);
    }
    if (error) {
        wlog_rl(&rl_write, "state", WLOG_ERR, "cannot write %s: %s: %s",
                sf->path, step, strerror(-error));
        unlink(sf->tmp_path);
    } else {
        wlog("state", WLOG_DBG, "wrote %s (%zu bytes)", sf->path, w->sb.len);
    }
    sbuf_uninit(&w->sb);
    free(w);
    return error;
}

static void
state_write_cb(evutil_socket_t fd, short what, void *aux)
{
    struct state_file *sf = aux;

    qsbr_online();
    sf->pending = false;
    if (sf->genl && state_write(sf)) {
        /* Try again in a second (a full disk may get room). */
        struct timeval tv = { 1, 0 };

        sf->pending = true;
        evtimer_add(sf->ev_write, &tv);
    }
    qsbr_offline();
}

struct state_file *
state_file_create(struct event_base *base, const char *path,
                  struct errbuf *err)
{
    struct state_file *sf = calloc(1, sizeof *sf);
    int error;

    errbuf_clear(err);
    if (!sf) {
        errbuf_set(err, "out of memory");
        return NULL;
    }
    sf->base = base;
    sf->path = strdup(path);
    sf->tmp_path = path_with(path, ".tmp");
    sf->bad_path = path_with(path, ".bad");
    sf->ev_write = evtimer_new(base, state_write_cb, sf);
    if (!sf->path || !sf->tmp_path || !sf->bad_path || !sf->ev_write) {
        errbuf_set(err, "out of memory");
        state_file_destroy(sf);
        return NULL;
    }
    if (!*path) {
        errbuf_set(err, "empty state file path");
        state_file_destroy(sf);
        return NULL;
    }
    error = state_make_dirs(path);
    if (error) {
        errbuf_set(err, "cannot create the directory of %s: %s", path,
                   strerror(-error));
        state_file_destroy(sf);
        return NULL;
    }
    return sf;
}

/* Reads the whole file into '*text'.  Returns its length, -ENOENT, -EFBIG
 * -EINVAL (not a regular file) or -errno. */
static ssize_t
read_file(const char *path, char **text)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t cap, len = 0;
    char *buf;

    *text = NULL;
    if (fd < 0) {
        return -errno;
    }
    if (fstat(fd, &st)) {
        int error = -errno;

        close(fd);
        return error;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    cap = (size_t) st.st_size + 1;
    if (cap > STATE_FILE_MAX) {
        close(fd);
        return -EFBIG;
    }
    buf = malloc(cap);
    if (!buf) {
        close(fd);
        return -ENOMEM;
    }
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - len);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int error = -errno;

            free(buf);
            close(fd);
            return error;
        }
        if (!n) {
            break;
        }
        len += (size_t) n;
        if (len == cap) {
            /* Grew since fstat(). */
            if (cap >= STATE_FILE_MAX) {
                free(buf);
                close(fd);
                return -EFBIG;
            }
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                close(fd);
                return -ENOMEM;
            }
            buf = p;
            cap *= 2;
        }
    }
    close(fd);
    *text = buf;
    return (ssize_t) len;
}

/* One line of the file, kept until the whole file is known good. */
struct state_entry {
    bool is_port;
    unsigned int line;
    uint32_t features;          /* Datapath. */
    uint32_t port_no;           /* Port. */
    bool failed;                /* Datapath: not re-created. */
    char *dp;
    char *name;                 /* Port. */
    char *type;                 /* Port. */
    char *options;              /* Port, may be NULL. */
};

struct state_entries {
    struct state_entry *e;
    size_t n, cap;
};

static struct state_entry *
entries_add(struct state_entries *es)
{
    if (es->n == es->cap) {
        size_t cap = es->cap ? 2 * es->cap : 16;
        struct state_entry *p = realloc(es->e, cap * sizeof *p);

        if (!p) {
            return NULL;
        }
        es->e = p;
        es->cap = cap;
    }
    memset(&es->e[es->n], 0, sizeof es->e[0]);
    return &es->e[es->n++];
}

static void
entries_free(struct state_entries *es)
{
    for (size_t i = 0; i < es->n; i++) {
        free(es->e[i].dp);
        free(es->e[i].name);
        free(es->e[i].type);
        free(es->e[i].options);
    }
    free(es->e);
}

static int
collect_dp(const char *name, uint32_t features, unsigned int line,
           void *aux, struct errbuf *err)
{
    struct state_entry *e = entries_add(aux);

    if (!e || !(e->dp = strdup(name))) {
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    e->line = line;
    e->features = features;
    return 0;
}

static int
collect_port(const char *dp_name, const char *name, const char *type,
             const char *options, uint32_t port_no, unsigned int line,
             void *aux, struct errbuf *err)
{
    struct state_entry *e = entries_add(aux);

    if (!e) {
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    e->is_port = true;
    e->line = line;
    e->port_no = port_no;
    e->dp = strdup(dp_name);
    e->name = strdup(name);
    e->type = strdup(type);
    e->options = options ? strdup(options) : NULL;
    if (!e->dp || !e->name || !e->type || (options && !e->options)) {
        errbuf_set(err, "out of memory");
        return -ENOMEM;
    }
    return 0;
}

/* Returns true if the datapath 'name' of 'es' was not re-created. */
static bool
entries_dp_failed(const struct state_entries *es, const char *name)
{
    for (size_t i = 0; i < es->n; i++) {
        if (!es->e[i].is_port && !strcmp(es->e[i].dp, name)) {
            return es->e[i].failed;
        }
    }
    return true;
}

int
state_file_restore(struct state_file *sf, struct genl_server *genl,
                   struct errbuf *err)
{
    struct state_parse_cbs cbs = { collect_dp, collect_port, NULL };
    struct state_entries es = { NULL, 0, 0 };
    struct errbuf perr;
    unsigned int skipped = 0;
    int made = 0;
    char *text;
    ssize_t len;
    int error;

    errbuf_clear(err);
    sf->genl = genl;
    len = read_file(sf->path, &text);
    if (len == -ENOENT) {
        wlog("state", WLOG_INFO, "no state file %s: starting empty",
             sf->path);
        return 0;
    }
    if (len < 0 && len != -EFBIG) {
        errbuf_set(err, "cannot read the state file %s: %s", sf->path,
                   len == -EINVAL ? "not a regular file"
                                  : strerror((int) -len));
        return (int) len;
    }

    cbs.aux = &es;
    if (len == -EFBIG) {
        error = -EINVAL;
        errbuf_set(&perr, "larger than %u bytes", STATE_FILE_MAX);
    } else {
        error = state_parse(text, (size_t) len, &cbs, &perr);
    }
    free(text);
    if (error == -ENOMEM) {
        entries_free(&es);
        errbuf_set(err, "out of memory reading %s", sf->path);
        return error;
    }
    if (error) {
        entries_free(&es);
        if (rename(sf->path, sf->bad_path)) {
            error = -errno;
            errbuf_set(err, "state file %s: %s; and it cannot be kept as %s "
                       "(%s)", sf->path, perr.msg, sf->bad_path,
                       strerror(errno));
            return error;
        }
        wlog("state", WLOG_ERR, "state file %s: %s: starting without "
             "datapaths (the file is kept as %s)", sf->path, perr.msg,
             sf->bad_path);
        return 0;
    }

    for (size_t i = 0; i < es.n; i++) {
        struct state_entry *e = &es.e[i];
        struct errbuf gerr;

        errbuf_clear(&gerr);
        if (!e->is_port) {
            error = genl_server_dp_create(genl, e->dp, e->features, &gerr);
            if (error) {
                e->failed = true;
                skipped++;
                wlog("state", WLOG_WARN, "%s line %u: datapath %s not "
                     "re-created, nor its ports: %s", sf->path, e->line,
                     e->dp, gerr.msg[0] ? gerr.msg : strerror(-error));
                continue;
            }
            made++;
            continue;
        }
        if (entries_dp_failed(&es, e->dp)) {
            skipped++;
            continue;
        }
        uint32_t port_no = e->port_no;
        error = genl_server_port_add(genl, e->dp, e->name, e->type,
                                     e->options, &port_no, &gerr);
        if (error) {
            skipped++;
            wlog("state", WLOG_WARN, "%s line %u: port %s of %s not "
                 "re-created: %s", sf->path, e->line, e->name, e->dp,
                 gerr.msg[0] ? gerr.msg : strerror(-error));
            continue;
        }
        made++;
    }
    entries_free(&es);
    wlog("state", WLOG_INFO, "%s: re-created %d datapaths and ports%s",
         sf->path, made, skipped ? " (some skipped, see above)" : "");
    if (skipped) {
        state_file_changed(sf);
    }
    return made;
}

void
state_file_changed(void *aux)
{
    struct state_file *sf = aux;
    struct timeval now = { 0, 0 };

    if (!sf->genl || sf->pending) {
        return;
    }
    sf->pending = true;
    evtimer_add(sf->ev_write, &now);
}

int
state_file_flush(struct state_file *sf)
{
    if (!sf->pending || !sf->genl) {
        return 0;
    }
    event_del(sf->ev_write);
    sf->pending = false;
    return state_write(sf);
}

void
state_file_detach(struct state_file *sf)
{
    if (sf) {
        event_del(sf->ev_write);
        sf->pending = false;
        sf->genl = NULL;
    }
}

void
state_file_destroy(struct state_file *sf)
{
    if (!sf) {
        return;
    }
    if (sf->ev_write) {
        event_free(sf->ev_write);
    }
    free(sf->path);
    free(sf->tmp_path);
    free(sf->bad_path);
    free(sf);
}
