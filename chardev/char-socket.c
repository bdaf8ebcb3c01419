/*
 * The unix socket chardev backend: client (connect at creation) and
 * server (listen; wait=on blocks for the first client, wait=off accepts
 * from the main loop), with non-blocking output queued on the main loop.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "chardev-internal.h"
#include "trace.h"

static bool chr_make_addr(Chardev *chr, struct sockaddr_un *addr,
                          Error **errp)
{
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    if (strlen(chr->path) >= sizeof(addr->sun_path)) {
        error_setg(errp, "UNIX socket path '%s' is too long", chr->path);
        error_append_hint(errp, "Path must be less than %zu bytes\n",
                          sizeof(addr->sun_path));
        return false;
    }
    strcpy(addr->sun_path, chr->path);
    return true;
}

static void chr_socket_connected(Chardev *chr, int fd)
{
    ChardevPrivate *p = chr->priv;

    chr->fd = fd;
    g_byte_array_set_size(p->outbuf, 0);
    trace_chardev_connected(chr->label);
    chr_socket_update_watches(chr);
    if (p->event) {
        p->event(p->opaque, CHR_EVENT_OPENED);
    }
}

bool chr_socket_open(Chardev *chr, Error **errp)
{
    struct sockaddr_un addr;
    int fd;

    if (!chr_make_addr(chr, &addr, errp)) {
        return false;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error_setg_errno(errp, errno, "Failed to create socket");
        return false;
    }

    if (!chr->server) {
        if (RETRY_ON_EINTR(connect(fd, (struct sockaddr *)&addr,
                                   sizeof(addr))) < 0) {
            error_setg_errno(errp, errno, "Failed to connect to '%s'",
                             chr->path);
            close(fd);
            return false;
        }
        chr->fd = fd;
        return true;
    }

    /* As QEMU does: a stale socket file from an earlier run is replaced. */
    unlink(chr->path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        error_setg_errno(errp, errno, "Failed to bind socket to %s",
                         chr->path);
        close(fd);
        return false;
    }
    chr->priv->unlink_path = true;
    if (listen(fd, 1) < 0) {
        error_setg_errno(errp, errno, "Failed to listen on socket");
        close(fd);
        unlink(chr->path);
        return false;
    }
    chr->listen_fd = fd;

    if (chr->wait) {
        info_report("QEMU waiting for connection on: disconnected:unix:%s,"
                    "server=on", chr->path);
        if (!chr_socket_wait_connected(chr, 0)) {
            error_setg_errno(errp, errno, "Failed to accept a connection "
                             "on '%s'", chr->path);
            close(fd);
            chr->listen_fd = -1;
            unlink(chr->path);
            return false;
        }
    }
    return true;
}

bool chr_socket_wait_connected(Chardev *chr, int timeout_ms)
{
    struct pollfd pfd = { .fd = chr->listen_fd, .events = POLLIN };
    int fd, ret;

    if (chr->fd >= 0) {
        return true;
    }
    if (chr->listen_fd < 0) {
        errno = ENOTCONN;
        return false;
    }
    do {
        ret = poll(&pfd, 1, timeout_ms > 0 ? timeout_ms : -1);
    } while (ret < 0 && errno == EINTR);
    if (ret <= 0) {
        if (ret == 0) {
            errno = ETIMEDOUT;
        }
        return false;
    }
    fd = RETRY_ON_EINTR(accept4(chr->listen_fd, NULL, NULL, SOCK_CLOEXEC));
    if (fd < 0) {
        return false;
    }
    chr_socket_connected(chr, fd);
    return true;
}

static gboolean chr_socket_accept_cb(gint fd, GIOCondition cond,
                                     gpointer opaque)
{
    Chardev *chr = opaque;
    int cfd;

    cfd = RETRY_ON_EINTR(accept4(fd, NULL, NULL, SOCK_CLOEXEC));
    if (cfd < 0) {
        /* Spurious wake-up or a client that left already: keep waiting. */
        return G_SOURCE_CONTINUE;
    }
    /* One client at a time, as QEMU's socket chardev. */
    chr->priv->accept_watch = 0;
    chr_socket_connected(chr, cfd);
    return G_SOURCE_REMOVE;
}

static gboolean chr_socket_read_cb(gint fd, GIOCondition cond,
                                   gpointer opaque)
{
    Chardev *chr = opaque;
    ChardevPrivate *p = chr->priv;
    guint self = p->read_watch;
    uint8_t buf[4096];
    int want = sizeof(buf);
    ssize_t n;

    if (p->can_read) {
        want = MIN(p->can_read(p->opaque), (int)sizeof(buf));
        if (want <= 0) {
            /* The front end is busy: it calls accept_input when ready. */
            p->read_watch = 0;
            return G_SOURCE_REMOVE;
        }
    }
    n = recv(fd, buf, want, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
        p->read_watch = 0;
        chr_socket_disconnect(chr);
        return G_SOURCE_REMOVE;
    }
    if (p->read) {
        p->read(p->opaque, buf, n);
    }
    /* The handler may have disconnected or detached us. */
    if (chr->priv->read_watch != self) {
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static bool chr_socket_try_send(Chardev *chr)
{
    GByteArray *out = chr->priv->outbuf;

    while (out->len) {
        ssize_t n = send(chr->fd, out->data, out->len,
                         MSG_DONTWAIT | MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno == EAGAIN;
        }
        g_byte_array_remove_range(out, 0, n);
    }
    return true;
}

static gboolean chr_socket_write_cb(gint fd, GIOCondition cond,
                                    gpointer opaque)
{
    Chardev *chr = opaque;

    if (!chr_socket_try_send(chr)) {
        chr->priv->write_watch = 0;
        chr_socket_disconnect(chr);
        return G_SOURCE_REMOVE;
    }
    if (!chr->priv->outbuf->len) {
        chr->priv->write_watch = 0;
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

void chr_socket_update_watches(Chardev *chr)
{
    ChardevPrivate *p = chr->priv;

    if (!p->read && !p->event) {
        return;
    }
    if (chr->fd >= 0) {
        if (!p->read_watch) {
            p->read_watch = qemu_set_fd_handler_glib(
                chr->fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
                chr_socket_read_cb, chr);
        }
        if (p->outbuf->len && !p->write_watch) {
            p->write_watch = qemu_set_fd_handler_glib(
                chr->fd, G_IO_OUT, chr_socket_write_cb, chr);
        }
    } else if (chr->listen_fd >= 0 && !p->accept_watch) {
        p->accept_watch = qemu_set_fd_handler_glib(
            chr->listen_fd, G_IO_IN, chr_socket_accept_cb, chr);
    }
}

void chr_socket_remove_watches(Chardev *chr)
{
    ChardevPrivate *p = chr->priv;

    if (p->read_watch) {
        g_source_remove(p->read_watch);
        p->read_watch = 0;
    }
    if (p->write_watch) {
        g_source_remove(p->write_watch);
        p->write_watch = 0;
    }
    if (p->accept_watch) {
        g_source_remove(p->accept_watch);
        p->accept_watch = 0;
    }
}

void chr_socket_disconnect(Chardev *chr)
{
    ChardevPrivate *p = chr->priv;

    if (chr->fd < 0) {
        return;
    }
    chr_socket_remove_watches(chr);
    close(chr->fd);
    chr->fd = -1;
    g_byte_array_set_size(p->outbuf, 0);
    trace_chardev_disconnected(chr->label);
    if (p->event) {
        p->event(p->opaque, CHR_EVENT_CLOSED);
    }
    /* A server takes the next client; the event handler may have left. */
    chr_socket_update_watches(chr);
}

int chr_socket_queue_write(Chardev *chr, const uint8_t *buf, size_t len)
{
    ChardevPrivate *p = chr->priv;

    if (p->outbuf->len + len > CHARDEV_MAX_BACKLOG) {
        warn_report("chardev '%s': peer is not reading, %u bytes of output "
                    "pending; dropping the connection", chr->label,
                    p->outbuf->len);
        chr_socket_disconnect(chr);
        return -1;
    }
    g_byte_array_append(p->outbuf, buf, len);
    if (!chr_socket_try_send(chr)) {
        chr_socket_disconnect(chr);
        return -1;
    }
    if (p->outbuf->len && !p->write_watch && (p->read || p->event)) {
        p->write_watch = qemu_set_fd_handler_glib(
            chr->fd, G_IO_OUT, chr_socket_write_cb, chr);
    }
    return len;
}

void chr_socket_flush(Chardev *chr, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

    while (chr->fd >= 0 && chr->priv->outbuf->len) {
        struct pollfd pfd = { .fd = chr->fd, .events = POLLOUT };
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;

        if (left <= 0 || poll(&pfd, 1, left) <= 0 ||
            !chr_socket_try_send(chr)) {
            break;
        }
    }
}

void chr_socket_close(Chardev *chr)
{
    chr_socket_remove_watches(chr);
    if (chr->fd >= 0) {
        close(chr->fd);
        chr->fd = -1;
    }
    if (chr->listen_fd >= 0) {
        close(chr->listen_fd);
        chr->listen_fd = -1;
    }
    if (chr->priv->unlink_path) {
        unlink(chr->path);
        chr->priv->unlink_path = false;
    }
}
