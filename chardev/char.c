/*
 * Character devices: -chardev parsing, the registry of chardevs by id,
 * and the front-end API (CharBackend) in its blocking form (TPM emulator
 * control channel) and its event-driven form (QMP, qtest).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include <sys/socket.h>
#include "qapi/error.h"
#include "qemu/option.h"
#include "chardev/char-fe.h"
#include "chardev-internal.h"
#include "trace.h"

static QemuOptsList qemu_chardev_opts = {
    .name = "chardev",
    .implied_opt_name = "backend",
    .desc = {
        { .name = "backend", .type = QEMU_OPT_STRING },
        { .name = "path", .type = QEMU_OPT_STRING },
        { .name = "server", .type = QEMU_OPT_BOOL },
        { .name = "wait", .type = QEMU_OPT_BOOL },
        /* QEMU's older spelling of wait=off. */
        { .name = "nowait", .type = QEMU_OPT_BOOL },
        /* Known to QEMU, refused below with a reason. */
        { .name = "host", .type = QEMU_OPT_STRING },
        { .name = "port", .type = QEMU_OPT_STRING },
        { .name = "fd", .type = QEMU_OPT_STRING },
        { .name = "mux", .type = QEMU_OPT_BOOL },
        { .name = "logfile", .type = QEMU_OPT_STRING },
        { .name = "reconnect", .type = QEMU_OPT_NUMBER },
        { .name = "reconnect-ms", .type = QEMU_OPT_NUMBER },
        { .name = "telnet", .type = QEMU_OPT_BOOL },
        { .name = "websocket", .type = QEMU_OPT_BOOL },
        { .name = "tls-creds", .type = QEMU_OPT_STRING },
        { .name = "abstract", .type = QEMU_OPT_BOOL },
        { /* end of list */ }
    },
};

/* Other QEMU chardev backends: named in the error, not "invalid". */
static const char *const known_backends[] = {
    "null", "vc", "ringbuf", "memory", "file", "pipe", "pty", "stdio",
    "serial", "tty", "parallel", "parport", "udp", "msmouse", "wctablet",
    "braille", "testdev", "spicevmc", "spiceport", "qemu-vdagent", "dbus",
    "hub", NULL
};

static const char *const unsupported_keys[] = {
    "host", "port", "fd", "mux", "logfile", "reconnect", "reconnect-ms",
    "telnet", "websocket", "tls-creds", "abstract", NULL
};

static GHashTable *chardevs;

static GHashTable *chardev_table(void)
{
    if (!chardevs) {
        chardevs = g_hash_table_new(g_str_hash, g_str_equal);
    }
    return chardevs;
}

Chardev *qemu_chr_find(const char *label)
{
    return label ? g_hash_table_lookup(chardev_table(), label) : NULL;
}

static void chardev_free(Chardev *chr)
{
    if (chr->priv) {
        if (chr->priv->outbuf) {
            g_byte_array_unref(chr->priv->outbuf);
        }
        g_free(chr->priv);
    }
    g_free(chr->pending_fds);
    g_free(chr->label);
    g_free(chr->path);
    g_free(chr);
}

Chardev *qemu_chr_new_from_opts(QemuOpts *opts, Error **errp)
{
    const char *backend = qemu_opt_get(opts, "backend");
    const char *id = qemu_opts_id(opts);
    const char *path = qemu_opt_get(opts, "path");
    Error *err = NULL;
    Chardev *chr;
    bool server, wait;
    int i;

    if (!id) {
        error_setg(errp, "chardev: no id specified");
        return NULL;
    }
    if (!backend) {
        error_setg(errp, "chardev: \"%s\" missing backend", id);
        return NULL;
    }
    if (strcmp(backend, "socket")) {
        for (i = 0; known_backends[i]; i++) {
            if (!strcmp(backend, known_backends[i])) {
                error_setg(errp, "chardev backend '%s' is not supported by "
                           "this build (it supports unix sockets only: "
                           "socket,path=...)", backend);
                return NULL;
            }
        }
        error_setg(errp, "'%s' is not a valid char driver name", backend);
        return NULL;
    }
    for (i = 0; unsupported_keys[i]; i++) {
        if (qemu_opt_has(opts, unsupported_keys[i])) {
            error_setg(errp, "chardev '%s': parameter '%s' is not supported "
                       "by this build (it supports unix sockets only: "
                       "path=, server=, wait=)", id, unsupported_keys[i]);
            return NULL;
        }
    }
    if (!path) {
        error_setg(errp, "chardev '%s': Parameter 'path' is missing (this "
                   "build supports unix sockets only)", id);
        return NULL;
    }
    if (qemu_chr_find(id)) {
        error_setg(errp, "Duplicate ID '%s' for chardev", id);
        return NULL;
    }

    server = qemu_opt_get_bool_err(opts, "server", false, &err);
    wait = qemu_opt_get_bool_err(opts, "wait", true, err ? NULL : &err);
    if (!err && qemu_opt_get_bool_err(opts, "nowait", false, &err)) {
        wait = false;
    }
    if (err) {
        error_propagate(errp, err);
        return NULL;
    }
    if (!server && qemu_opt_has(opts, "wait")) {
        error_setg(errp, "chardev '%s': 'wait' option is incompatible with "
                   "socket in client connect mode", id);
        return NULL;
    }

    chr = g_new0(Chardev, 1);
    chr->label = g_strdup(id);
    chr->path = g_strdup(path);
    chr->server = server;
    chr->wait = server && wait;
    chr->fd = -1;
    chr->listen_fd = -1;
    chr->priv = g_new0(ChardevPrivate, 1);
    chr->priv->outbuf = g_byte_array_new();

    if (!chr_socket_open(chr, errp)) {
        chardev_free(chr);
        return NULL;
    }
    g_hash_table_insert(chardev_table(), chr->label, chr);
    trace_chardev_new(chr->label, chr->path, chr->server);
    return chr;
}

Chardev *qemu_chr_new_from_string(const char *optstr, Error **errp)
{
    QemuOpts *opts = qemu_opts_parse(&qemu_chardev_opts, optstr, true, errp);
    Chardev *chr;

    if (!opts) {
        return NULL;
    }
    chr = qemu_chr_new_from_opts(opts, errp);
    qemu_opts_del(opts);
    return chr;
}

Chardev *qemu_chr_new(const char *label, const char *filename, Error **errp)
{
    g_autofree char *optstr = NULL;

    if (!strcmp(filename, "none")) {
        return NULL;
    }
    if (!g_str_has_prefix(filename, "unix:")) {
        error_setg(errp, "'%s': this build supports only unix:PATH[,server="
                   "on,wait=off] character devices", filename);
        return NULL;
    }
    optstr = g_strdup_printf("socket,id=%s,path=%s", label,
                             filename + strlen("unix:"));
    return qemu_chr_new_from_string(optstr, errp);
}

void qemu_chr_delete(Chardev *chr)
{
    if (!chr) {
        return;
    }
    g_hash_table_remove(chardev_table(), chr->label);
    chr_socket_close(chr);
    chardev_free(chr);
}

void qemu_chr_cleanup(void)
{
    GList *all, *l;

    if (!chardevs) {
        return;
    }
    all = g_hash_table_get_values(chardevs);
    /* Replies and events already queued (the SHUTDOWN event) go out. */
    for (l = all; l; l = l->next) {
        chr_socket_flush(l->data, 1000);
    }
    for (l = all; l; l = l->next) {
        qemu_chr_delete(l->data);
    }
    g_list_free(all);
    g_clear_pointer(&chardevs, g_hash_table_unref);
}

/* Front end */

bool qemu_chr_fe_init(CharBackend *be, Chardev *chr, Error **errp)
{
    if (!chr) {
        error_setg(errp, "no chardev given");
        return false;
    }
    if (chr->has_frontend) {
        error_setg(errp, "Device '%s' is in use", chr->label);
        return false;
    }
    chr->has_frontend = true;
    chr->priv->be = be;
    be->chr = chr;
    return true;
}

void qemu_chr_fe_deinit(CharBackend *be, bool del)
{
    Chardev *chr = be->chr;

    if (!chr) {
        return;
    }
    chr_socket_remove_watches(chr);
    chr->priv->can_read = NULL;
    chr->priv->read = NULL;
    chr->priv->event = NULL;
    chr->priv->opaque = NULL;
    chr->priv->be = NULL;
    chr->has_frontend = false;
    be->chr = NULL;
    if (del) {
        qemu_chr_delete(chr);
    }
}

Chardev *qemu_chr_fe_get_driver(CharBackend *be)
{
    return be->chr;
}

bool qemu_chr_fe_backend_connected(CharBackend *be)
{
    /*
     * A client socket is connected from creation; a server only once its
     * peer arrived (or will be, for a blocking front end, on first use).
     */
    return be->chr && (be->chr->fd >= 0 || be->chr->listen_fd >= 0);
}

void qemu_chr_fe_set_timeout(CharBackend *be, int timeout_ms)
{
    if (be->chr) {
        be->chr->timeout_ms = timeout_ms;
    }
}

int qemu_chr_fe_set_msgfds(CharBackend *be, int *fds, int num)
{
    Chardev *chr = be->chr;

    if (!chr || num < 0) {
        return -1;
    }
    g_free(chr->pending_fds);
    chr->pending_fds = num ? g_memdup2(fds, num * sizeof(int)) : NULL;
    chr->n_pending_fds = num;
    return 0;
}

/* Milliseconds left until deadline (monotonic us), or -1 for no bound. */
static int chr_time_left(gint64 deadline)
{
    gint64 left;

    if (!deadline) {
        return -1;
    }
    left = (deadline - g_get_monotonic_time()) / 1000;
    return left > 0 ? (int)MIN(left, INT_MAX) : 0;
}

static bool chr_poll(int fd, short events, gint64 deadline)
{
    struct pollfd pfd = { .fd = fd, .events = events };
    int ret;

    do {
        ret = poll(&pfd, 1, chr_time_left(deadline));
    } while (ret < 0 && errno == EINTR);
    if (ret == 0) {
        errno = ETIMEDOUT;
        return false;
    }
    return ret > 0;
}

static gint64 chr_deadline(Chardev *chr)
{
    return chr->timeout_ms > 0 ?
        g_get_monotonic_time() + (gint64)chr->timeout_ms * 1000 : 0;
}

int qemu_chr_fe_write_all(CharBackend *be, const uint8_t *buf, int len)
{
    Chardev *chr = be->chr;
    gint64 deadline;
    int done = 0;

    if (!chr || len < 0) {
        errno = EINVAL;
        return -1;
    }
    deadline = chr_deadline(chr);
    if (chr->fd < 0 && !chr_socket_wait_connected(chr, chr->timeout_ms)) {
        return -1;
    }
    while (done < len) {
        struct iovec iov = {
            .iov_base = (void *)(buf + done),
            .iov_len = len - done,
        };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        g_autofree char *control = NULL;
        ssize_t n;

        if (chr->n_pending_fds) {
            /* The descriptors ride along with the first bytes. */
            size_t fdlen = chr->n_pending_fds * sizeof(int);
            struct cmsghdr *cmsg;

            control = g_malloc0(CMSG_SPACE(fdlen));
            msg.msg_control = control;
            msg.msg_controllen = CMSG_SPACE(fdlen);
            cmsg = CMSG_FIRSTHDR(&msg);
            cmsg->cmsg_level = SOL_SOCKET;
            cmsg->cmsg_type = SCM_RIGHTS;
            cmsg->cmsg_len = CMSG_LEN(fdlen);
            memcpy(CMSG_DATA(cmsg), chr->pending_fds, fdlen);
        }
        if (!chr_poll(chr->fd, POLLOUT, deadline)) {
            return -1;
        }
        n = sendmsg(chr->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return -1;
        }
        if (chr->n_pending_fds) {
            g_clear_pointer(&chr->pending_fds, g_free);
            chr->n_pending_fds = 0;
        }
        done += n;
    }
    return done;
}

int qemu_chr_fe_read_all(CharBackend *be, uint8_t *buf, int len)
{
    Chardev *chr = be->chr;
    gint64 deadline;
    int done = 0;

    if (!chr || len < 0) {
        errno = EINVAL;
        return -1;
    }
    deadline = chr_deadline(chr);
    if (chr->fd < 0 && !chr_socket_wait_connected(chr, chr->timeout_ms)) {
        return -1;
    }
    while (done < len) {
        ssize_t n;

        if (!chr_poll(chr->fd, POLLIN, deadline)) {
            return -1;
        }
        n = recv(chr->fd, buf + done, len - done, MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return -1;
        }
        if (n == 0) {
            /* Peer closed: report what arrived before. */
            break;
        }
        done += n;
    }
    return done;
}

void qemu_chr_fe_set_handlers(CharBackend *b,
                              IOCanReadHandler *fd_can_read,
                              IOReadHandler *fd_read,
                              IOEventHandler *fd_event,
                              BackendChangeHandler *be_change,
                              void *opaque,
                              GMainContext *context,
                              bool set_open)
{
    Chardev *chr = b->chr;
    ChardevPrivate *p;

    if (!chr) {
        return;
    }
    p = chr->priv;
    chr_socket_remove_watches(chr);
    p->can_read = fd_can_read;
    p->read = fd_read;
    p->event = fd_event;
    p->opaque = opaque;
    if (!fd_read && !fd_event) {
        return;
    }
    chr_socket_update_watches(chr);
    if (set_open && chr->fd >= 0 && fd_event) {
        fd_event(opaque, CHR_EVENT_OPENED);
    }
}

void qemu_chr_fe_accept_input(CharBackend *be)
{
    if (be->chr) {
        chr_socket_update_watches(be->chr);
    }
}

int qemu_chr_fe_write(CharBackend *be, const uint8_t *buf, int len)
{
    if (!be->chr || be->chr->fd < 0 || len < 0) {
        return -1;
    }
    return chr_socket_queue_write(be->chr, buf, len);
}

void qemu_chr_fe_disconnect(CharBackend *be)
{
    if (be->chr && be->chr->fd >= 0) {
        chr_socket_disconnect(be->chr);
    }
}
