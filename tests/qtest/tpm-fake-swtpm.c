/*
 * A small in-process stand-in for swtpm's control and data channels,
 * for backend faults a real swtpm cannot be made to show: a missing
 * capability, one channel closing while the other stays up.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <glib/gstdio.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "qemu/bswap.h"
#include "tpm-fake-swtpm.h"

struct FakeSwtpm {
    char *dir;
    char *path;
    ptm_cap caps;
    int listen_fd;
    int ctrl_fd;
    int data_fd;
    /* Written to stop the thread. */
    int wake[2];
    GThread *thread;
    gint commands;
    /* Non-zero: responses declare this many bytes but carry only 10. */
    gint short_declared;
    /* Non-zero: responses declare this many bytes and carry them all. */
    gint oversized;
};

ptm_cap fake_swtpm_default_caps(void)
{
    return PTM_CAP_INIT | PTM_CAP_SHUTDOWN | PTM_CAP_GET_TPMESTABLISHED |
           PTM_CAP_SET_LOCALITY | PTM_CAP_CANCEL_TPM_CMD |
           PTM_CAP_RESET_TPMESTABLISHED | PTM_CAP_GET_STATEBLOB |
           PTM_CAP_SET_STATEBLOB | PTM_CAP_STOP | PTM_CAP_SET_DATAFD |
           PTM_CAP_SET_BUFFERSIZE;
}

static bool fake_read_full(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t n = RETRY_ON_EINTR(read(fd, p, len));

        if (n <= 0) {
            return false;
        }
        p += n;
        len -= n;
    }
    return true;
}

static void fake_write_full(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = RETRY_ON_EINTR(send(fd, p, len, MSG_NOSIGNAL));

        if (n <= 0) {
            return;
        }
        p += n;
        len -= n;
    }
}

static void fake_close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* One control command; false when the control connection is over. */
static bool fake_handle_ctrl(FakeSwtpm *f)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    uint8_t hdr[4], body[16], out[16];
    struct iovec iov = { .iov_base = hdr, .iov_len = sizeof(hdr) };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = cbuf, .msg_controllen = sizeof(cbuf),
    };
    struct cmsghdr *cmsg;
    size_t in_len = 0, out_len = 4;
    ssize_t n;
    uint32_t cmd;

    n = RETRY_ON_EINTR(recvmsg(f->ctrl_fd, &msg, MSG_WAITALL));
    if (n != sizeof(hdr)) {
        return false;
    }
    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
            fake_close(&f->data_fd);
            memcpy(&f->data_fd, CMSG_DATA(cmsg), sizeof(int));
        }
    }

    cmd = ldl_be_p(hdr);
    switch (cmd) {
    case CMD_INIT:
    case CMD_SET_LOCALITY:
    case CMD_SET_BUFFERSIZE:
    case CMD_RESET_TPMESTABLISHED:
        in_len = 4;
        break;
    }
    if (in_len && !fake_read_full(f->ctrl_fd, body, in_len)) {
        return false;
    }

    memset(out, 0, sizeof(out));
    switch (cmd) {
    case CMD_GET_CAPABILITY:
        stl_be_p(out, f->caps >> 32);
        stl_be_p(out + 4, f->caps);
        out_len = 8;
        break;
    case CMD_SET_BUFFERSIZE:
        stl_be_p(out + 4, ldl_be_p(body) ? ldl_be_p(body) : 4096);
        stl_be_p(out + 8, 128);
        stl_be_p(out + 12, 4096);
        out_len = 16;
        break;
    case CMD_GET_TPMESTABLISHED:
        out_len = 8;
        break;
    case CMD_SHUTDOWN:
        fake_write_full(f->ctrl_fd, out, out_len);
        return false;
    }
    fake_write_full(f->ctrl_fd, out, out_len);
    return true;
}

/* One TPM command: answer TPM_RC_SUCCESS with an empty TPM 2 response. */
static bool fake_handle_data(FakeSwtpm *f)
{
    uint8_t hdr[10], rsp[10];
    uint32_t len;

    if (!fake_read_full(f->data_fd, hdr, sizeof(hdr))) {
        return false;
    }
    for (len = ldl_be_p(hdr + 2); len > sizeof(hdr); len--) {
        uint8_t b;

        if (!fake_read_full(f->data_fd, &b, 1)) {
            return false;
        }
    }
    stw_be_p(rsp, 0x8001);
    len = g_atomic_int_get(&f->short_declared);
    stl_be_p(rsp + 2, len ? len : sizeof(rsp));
    stl_be_p(rsp + 6, 0);
    g_atomic_int_inc(&f->commands);
    len = g_atomic_int_get(&f->oversized);
    if (len > sizeof(rsp)) {
        g_autofree uint8_t *big = g_malloc(len);

        memcpy(big, rsp, sizeof(rsp));
        stl_be_p(big + 2, len);
        memset(big + sizeof(rsp), 0xa5, len - sizeof(rsp));
        fake_write_full(f->data_fd, big, len);
        return true;
    }
    fake_write_full(f->data_fd, rsp, sizeof(rsp));
    return true;
}

static gpointer fake_swtpm_thread(gpointer opaque)
{
    FakeSwtpm *f = opaque;

    for (;;) {
        struct pollfd pfd[4] = {
            { .fd = f->wake[0], .events = POLLIN },
            { .fd = f->ctrl_fd < 0 ? f->listen_fd : -1, .events = POLLIN },
            { .fd = f->ctrl_fd, .events = POLLIN },
            { .fd = f->data_fd, .events = POLLIN },
        };

        if (RETRY_ON_EINTR(poll(pfd, 4, -1)) < 0 || pfd[0].revents) {
            break;
        }
        if (pfd[1].revents & POLLIN) {
            f->ctrl_fd = accept4(f->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        }
        if (pfd[2].revents && !fake_handle_ctrl(f)) {
            fake_close(&f->ctrl_fd);
        }
        if (pfd[3].revents && !fake_handle_data(f)) {
            fake_close(&f->data_fd);
        }
    }
    return NULL;
}

FakeSwtpm *fake_swtpm_new(ptm_cap caps)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    FakeSwtpm *f = g_new0(FakeSwtpm, 1);
    g_autoptr(GError) err = NULL;

    f->caps = caps;
    f->ctrl_fd = -1;
    f->data_fd = -1;
    f->dir = g_dir_make_tmp("fake-swtpm-XXXXXX", &err);
    g_assert_no_error(err);
    f->path = g_build_filename(f->dir, "sock", NULL);
    g_assert_cmpuint(strlen(f->path), <, sizeof(un.sun_path));
    strcpy(un.sun_path, f->path);

    f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(f->listen_fd, >=, 0);
    g_assert_cmpint(bind(f->listen_fd, (struct sockaddr *)&un, sizeof(un)),
                    ==, 0);
    g_assert_cmpint(listen(f->listen_fd, 1), ==, 0);
    g_assert_cmpint(pipe2(f->wake, O_CLOEXEC), ==, 0);
    f->thread = g_thread_new("fake-swtpm", fake_swtpm_thread, f);
    return f;
}

const char *fake_swtpm_path(FakeSwtpm *f)
{
    return f->path;
}

unsigned fake_swtpm_commands(FakeSwtpm *f)
{
    return g_atomic_int_get(&f->commands);
}

void fake_swtpm_short_response(FakeSwtpm *f, uint32_t declared)
{
    g_atomic_int_set(&f->short_declared, declared);
}

void fake_swtpm_oversized_response(FakeSwtpm *f, uint32_t declared)
{
    g_atomic_int_set(&f->oversized, declared);
}

/* shutdown() from this thread; the fake's thread then sees EOF. */
void fake_swtpm_close_data(FakeSwtpm *f)
{
    shutdown(f->data_fd, SHUT_RDWR);
}

void fake_swtpm_close_ctrl(FakeSwtpm *f)
{
    shutdown(f->ctrl_fd, SHUT_RDWR);
}

void fake_swtpm_free(FakeSwtpm *f)
{
    g_assert_cmpint(write(f->wake[1], "x", 1), ==, 1);
    g_thread_join(f->thread);
    fake_close(&f->ctrl_fd);
    fake_close(&f->data_fd);
    fake_close(&f->listen_fd);
    fake_close(&f->wake[0]);
    fake_close(&f->wake[1]);
    g_unlink(f->path);
    g_rmdir(f->dir);
    g_free(f->path);
    g_free(f->dir);
    g_free(f);
}
