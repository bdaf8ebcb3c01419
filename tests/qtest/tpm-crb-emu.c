/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * tpm-emu: an in-process fake of swtpm's control and data protocol for
 * transport tests (see tpm-emu.h).
 *
 * One thread polls the listening socket, the control connection, the
 * data channel and a wake-up pipe; the test thread changes the script
 * and reads counters under a mutex. Control messages are framed as swtpm
 * frames them: a big-endian command code, a request of a size that
 * depends on the command (extra bytes ignored), and a response that is
 * only the 4-byte result when the command fails.
 */

#include "qemu/osdep.h"
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "backends/tpm/tpm_ioctl.h"

#include "tpm-crb-emu.h"

/* TPM 1.2-style result codes that swtpm's control channel returns. */
#define EMU_TPM_SUCCESS         0x00
#define EMU_TPM_BAD_PARAMETER   0x03
#define EMU_TPM_FAIL            0x09
#define EMU_TPM_BAD_ORDINAL     0x0a
#define EMU_TPM_IOERROR         0x1f
#define EMU_TPM_BAD_LOCALITY    0x3d

#define EMU_HEADER_SIZE         10
#define EMU_MIN_BUFFER_SIZE     128
/* Bounds on what a peer can make the fake buffer. */
#define EMU_MAX_COMMAND_SIZE    (1 * 1024 * 1024)
#define EMU_MAX_BLOB_SIZE       (16 * 1024 * 1024)
#define EMU_MAX_CTRL_CMD        CMD_GET_INFO

#define TPM2_ST_NO_SESSIONS     0x8001
#define TPM_RC_CANCELED         0x909

struct TPMEmu {
    GMutex lock;
    GCond cond;
    GThread *thread;
    char *dir;
    char *path;

    int listen_fd;
    int ctrl_fd;
    int data_fd;
    int wake[2];
    bool quit;

    /* TPM model */
    uint32_t max_size;
    uint32_t cur_size;
    bool init_fails;
    bool running;
    uint8_t locality;
    uint8_t established;
    GByteArray *blobs[PTM_BLOB_TYPE_SAVESTATE + 1];

    /* Script */
    TPMEmuReply reply;
    GByteArray *fixed;
    uint32_t sized;
    uint32_t short_len;
    GByteArray *held_cmd;
    bool release_req;
    /* How a held command is answered on release (ECHO by default). */
    TPMEmuReply stall_reply;

    /* Counters */
    unsigned commands;
    unsigned ctrl[EMU_MAX_CTRL_CMD + 1];
    GByteArray *last_cmd;
};

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

uint8_t tpm_emu_pattern_byte(uint32_t i)
{
    return (uint8_t)(i * 31 + (i >> 8) + 7);
}

static void emu_close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/*
 * Read up to len bytes from fd, waiting for data but giving up when the
 * emulator is asked to quit. Returns the count, 0 on EOF, -1 on error.
 */
static ssize_t emu_read_some(TPMEmu *emu, int fd, void *buf, size_t len)
{
    struct pollfd pfd[2] = {
        { .fd = fd, .events = POLLIN },
        { .fd = emu->wake[0], .events = POLLIN },
    };
    ssize_t n;

    for (;;) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        if (pfd[0].revents) {
            break;
        }
        if (pfd[1].revents) {
            bool quit;

            g_mutex_lock(&emu->lock);
            quit = emu->quit;
            g_mutex_unlock(&emu->lock);
            if (quit) {
                return -1;
            }
            /* A release request; it is handled by the main loop later. */
            pfd[1].events = 0;
        }
    }
    n = RETRY_ON_EINTR(read(fd, buf, len));
    return n;
}

static bool emu_read_full(TPMEmu *emu, int fd, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t n = emu_read_some(emu, fd, p, len);

        if (n <= 0) {
            return false;
        }
        p += n;
        len -= n;
    }
    return true;
}

static bool emu_write_full(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = RETRY_ON_EINTR(send(fd, p, len, MSG_NOSIGNAL));

        if (n <= 0) {
            return false;
        }
        p += n;
        len -= n;
    }
    return true;
}

static GByteArray *emu_sized_response(uint32_t size)
{
    GByteArray *rsp = g_byte_array_sized_new(size);
    uint32_t i;

    size = MAX(size, EMU_HEADER_SIZE);
    g_byte_array_set_size(rsp, size);
    rsp->data[0] = TPM2_ST_NO_SESSIONS >> 8;
    rsp->data[1] = TPM2_ST_NO_SESSIONS & 0xff;
    put_be32(rsp->data + 2, size);
    put_be32(rsp->data + 6, 0);
    for (i = EMU_HEADER_SIZE; i < size; i++) {
        rsp->data[i] = tpm_emu_pattern_byte(i);
    }
    return rsp;
}

static void emu_send_rc(TPMEmu *emu, uint32_t rc)
{
    uint8_t rsp[EMU_HEADER_SIZE];

    rsp[0] = TPM2_ST_NO_SESSIONS >> 8;
    rsp[1] = TPM2_ST_NO_SESSIONS & 0xff;
    put_be32(rsp + 2, EMU_HEADER_SIZE);
    put_be32(rsp + 6, rc);
    if (!emu_write_full(emu->data_fd, rsp, sizeof(rsp))) {
        emu_close(&emu->data_fd);
    }
}

/* Called with the lock held. */
static void emu_answer(TPMEmu *emu, const GByteArray *cmd)
{
    g_autoptr(GByteArray) rsp = NULL;
    const uint8_t *out;
    size_t len;

    switch (emu->reply) {
    case TPM_EMU_REPLY_ECHO:
    case TPM_EMU_REPLY_STALL:
        out = cmd->data;
        len = cmd->len;
        break;
    case TPM_EMU_REPLY_FIXED:
        out = emu->fixed->data;
        len = emu->fixed->len;
        break;
    case TPM_EMU_REPLY_SIZED:
        rsp = emu_sized_response(emu->sized);
        out = rsp->data;
        len = rsp->len;
        break;
    case TPM_EMU_REPLY_SHORT:
        rsp = emu_sized_response(emu->sized);
        emu_write_full(emu->data_fd, rsp->data, MIN(emu->short_len, rsp->len));
        emu_close(&emu->data_fd);
        return;
    case TPM_EMU_REPLY_FAIL:
    default:
        emu_close(&emu->data_fd);
        return;
    }
    if (!emu_write_full(emu->data_fd, out, len)) {
        emu_close(&emu->data_fd);
    }
}

static void emu_handle_data(TPMEmu *emu)
{
    g_autoptr(GByteArray) cmd = g_byte_array_new();
    uint32_t size;

    g_byte_array_set_size(cmd, EMU_HEADER_SIZE);
    if (!emu_read_full(emu, emu->data_fd, cmd->data, EMU_HEADER_SIZE)) {
        emu_close(&emu->data_fd);
        return;
    }
    size = get_be32(cmd->data + 2);
    if (size > EMU_MAX_COMMAND_SIZE) {
        emu_close(&emu->data_fd);
        return;
    }
    if (size > EMU_HEADER_SIZE) {
        g_byte_array_set_size(cmd, size);
        if (!emu_read_full(emu, emu->data_fd, cmd->data + EMU_HEADER_SIZE,
                           size - EMU_HEADER_SIZE)) {
            emu_close(&emu->data_fd);
            return;
        }
    }

    g_mutex_lock(&emu->lock);
    emu->commands++;
    g_byte_array_set_size(emu->last_cmd, 0);
    g_byte_array_append(emu->last_cmd, cmd->data, cmd->len);
    if (emu->reply == TPM_EMU_REPLY_STALL) {
        emu->held_cmd = g_steal_pointer(&cmd);
        emu->release_req = false;
        g_cond_broadcast(&emu->cond);
    } else {
        emu_answer(emu, cmd);
    }
    g_mutex_unlock(&emu->lock);
}

/* Request bytes each control command needs after its code. */
static size_t emu_ctrl_req_size(uint32_t cmd)
{
    switch (cmd) {
    case CMD_INIT:
        return sizeof(((ptm_init *)0)->u.req);
    case CMD_SET_LOCALITY:
        return sizeof(((ptm_loc *)0)->u.req);
    case CMD_RESET_TPMESTABLISHED:
        return sizeof(((ptm_reset_est *)0)->u.req);
    case CMD_GET_STATEBLOB:
        return sizeof(((ptm_getstate *)0)->u.req);
    case CMD_SET_STATEBLOB:
        return offsetof(ptm_setstate, u.req.data);
    case CMD_SET_BUFFERSIZE:
        return sizeof(((ptm_setbuffersize *)0)->u.req);
    default:
        return 0;
    }
}

/*
 * Receive one control message into in (code first), and any fd passed
 * with it. Returns false when the connection is gone or misbehaves.
 */
static bool emu_ctrl_recv(TPMEmu *emu, GByteArray *in, int *passed_fd)
{
    uint8_t buf[4096];
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control,
        .msg_controllen = sizeof(control),
    };
    struct cmsghdr *cmsg;
    ssize_t n;

    n = RETRY_ON_EINTR(recvmsg(emu->ctrl_fd, &msg, MSG_CMSG_CLOEXEC));
    if (n <= 0) {
        return false;
    }
    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
            cmsg->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int fd;

            memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
            if (*passed_fd >= 0) {
                close(*passed_fd);
            }
            *passed_fd = fd;
        }
    }
    g_byte_array_append(in, buf, n);

    /* Like swtpm: wait until the command's whole request is in. */
    for (;;) {
        if (in->len >= 4) {
            uint32_t cmd = get_be32(in->data);
            size_t needed = 4 + emu_ctrl_req_size(cmd);

            if (cmd == CMD_SET_STATEBLOB && in->len >= needed) {
                uint32_t blob_len = get_be32(in->data + 4 + 8);

                if (blob_len > EMU_MAX_BLOB_SIZE) {
                    return false;
                }
                needed += blob_len;
            }
            if (in->len >= needed) {
                return true;
            }
        }
        n = emu_read_some(emu, emu->ctrl_fd, buf, sizeof(buf));
        if (n <= 0) {
            return false;
        }
        g_byte_array_append(in, buf, n);
    }
}

/* Called with the lock held. */
static void emu_handle_ctrl_locked(TPMEmu *emu, GByteArray *in,
                                   int *passed_fd, GByteArray *out)
{
    uint32_t cmd = get_be32(in->data);
    const uint8_t *req = in->data + 4;
    uint32_t res = EMU_TPM_SUCCESS;
    uint8_t word[16];

    if (cmd <= EMU_MAX_CTRL_CMD) {
        emu->ctrl[cmd]++;
    }

    switch (cmd) {
    case CMD_GET_CAPABILITY: {
        uint64_t caps = PTM_CAP_INIT | PTM_CAP_SHUTDOWN |
            PTM_CAP_GET_TPMESTABLISHED | PTM_CAP_SET_LOCALITY |
            PTM_CAP_CANCEL_TPM_CMD | PTM_CAP_RESET_TPMESTABLISHED |
            PTM_CAP_GET_STATEBLOB | PTM_CAP_SET_STATEBLOB | PTM_CAP_STOP |
            PTM_CAP_GET_CONFIG | PTM_CAP_SET_DATAFD |
            PTM_CAP_SET_BUFFERSIZE;

        put_be32(word, caps >> 32);
        put_be32(word + 4, (uint32_t)caps);
        g_byte_array_append(out, word, 8);
        return;
    }
    case CMD_INIT:
        if (emu->init_fails) {
            res = EMU_TPM_FAIL;
            break;
        }
        emu->running = true;
        break;
    case CMD_STOP:
    case CMD_SHUTDOWN:
        emu->running = false;
        break;
    case CMD_GET_TPMESTABLISHED:
        if (!emu->running) {
            res = EMU_TPM_BAD_ORDINAL;
            break;
        }
        memset(word, 0, 8);
        word[4] = emu->established;
        g_byte_array_append(out, word, 8);
        return;
    case CMD_SET_LOCALITY:
        if (req[0] > 4) {
            res = EMU_TPM_BAD_LOCALITY;
        } else {
            emu->locality = req[0];
        }
        break;
    case CMD_RESET_TPMESTABLISHED:
        if (!emu->running) {
            res = EMU_TPM_BAD_ORDINAL;
        } else if (req[0] > 4) {
            res = EMU_TPM_BAD_LOCALITY;
        } else {
            emu->established = 0;
        }
        break;
    case CMD_CANCEL_TPM_CMD:
        if (!emu->running) {
            res = EMU_TPM_BAD_ORDINAL;
        } else if (emu->held_cmd && emu->data_fd >= 0) {
            g_clear_pointer(&emu->held_cmd, g_byte_array_unref);
            emu_send_rc(emu, TPM_RC_CANCELED);
        }
        break;
    case CMD_GET_STATEBLOB: {
        uint32_t type = get_be32(req + 4);
        uint32_t offset = get_be32(req + 8);
        GByteArray *blob;
        uint32_t len = 0;

        if (!emu->running) {
            res = EMU_TPM_BAD_ORDINAL;
            break;
        }
        if (type < PTM_BLOB_TYPE_PERMANENT ||
            type > PTM_BLOB_TYPE_SAVESTATE) {
            res = EMU_TPM_BAD_PARAMETER;
            break;
        }
        blob = emu->blobs[type];
        if (blob && offset < blob->len) {
            len = blob->len - offset;
        }
        put_be32(word, EMU_TPM_SUCCESS);
        put_be32(word + 4, 0);
        put_be32(word + 8, len);
        put_be32(word + 12, len);
        g_byte_array_append(out, word, 16);
        if (len) {
            g_byte_array_append(out, blob->data + offset, len);
        }
        return;
    }
    case CMD_SET_STATEBLOB: {
        uint32_t type = get_be32(req + 4);
        uint32_t len = get_be32(req + 8);

        if (emu->running) {
            res = EMU_TPM_BAD_ORDINAL;
        } else if (type < PTM_BLOB_TYPE_PERMANENT ||
                   type > PTM_BLOB_TYPE_SAVESTATE) {
            res = EMU_TPM_BAD_PARAMETER;
        } else {
            if (!emu->blobs[type]) {
                emu->blobs[type] = g_byte_array_new();
            }
            g_byte_array_set_size(emu->blobs[type], 0);
            g_byte_array_append(emu->blobs[type], req + 12, len);
        }
        break;
    }
    case CMD_GET_CONFIG:
        memset(word, 0, 8);
        g_byte_array_append(out, word, 8);
        return;
    case CMD_SET_DATAFD:
        if (emu->data_fd >= 0) {
            res = EMU_TPM_IOERROR;
        } else if (*passed_fd < 0) {
            res = EMU_TPM_BAD_PARAMETER;
        } else {
            emu->data_fd = *passed_fd;
            *passed_fd = -1;
        }
        break;
    case CMD_SET_BUFFERSIZE: {
        uint32_t wanted = get_be32(req);
        /* A TPM built with a buffer smaller than the usual minimum */
        uint32_t min_size = MIN(EMU_MIN_BUFFER_SIZE, emu->max_size);

        if (wanted && emu->running) {
            res = EMU_TPM_BAD_ORDINAL;
            break;
        }
        if (wanted) {
            emu->cur_size = CLAMP(wanted, min_size, emu->max_size);
        }
        put_be32(word, EMU_TPM_SUCCESS);
        put_be32(word + 4, emu->cur_size);
        put_be32(word + 8, min_size);
        put_be32(word + 12, emu->max_size);
        g_byte_array_append(out, word, 16);
        return;
    }
    default:
        res = EMU_TPM_BAD_ORDINAL;
        break;
    }
    put_be32(word, res);
    g_byte_array_append(out, word, 4);
}

static void emu_handle_ctrl(TPMEmu *emu)
{
    g_autoptr(GByteArray) in = g_byte_array_new();
    g_autoptr(GByteArray) out = g_byte_array_new();
    int passed_fd = -1;
    bool ok;

    if (!emu_ctrl_recv(emu, in, &passed_fd)) {
        emu_close(&passed_fd);
        emu_close(&emu->ctrl_fd);
        /* The data channel belonged to the client that went away. */
        g_mutex_lock(&emu->lock);
        g_clear_pointer(&emu->held_cmd, g_byte_array_unref);
        g_mutex_unlock(&emu->lock);
        emu_close(&emu->data_fd);
        return;
    }
    g_mutex_lock(&emu->lock);
    emu_handle_ctrl_locked(emu, in, &passed_fd, out);
    g_mutex_unlock(&emu->lock);
    emu_close(&passed_fd);

    ok = emu_write_full(emu->ctrl_fd, out->data, out->len);
    if (!ok) {
        emu_close(&emu->ctrl_fd);
    }
}

static gpointer emu_thread(gpointer opaque)
{
    TPMEmu *emu = opaque;

    for (;;) {
        struct pollfd pfd[4];
        int n = 0, i_wake, i_listen = -1, i_ctrl = -1, i_data = -1;
        bool held;

        g_mutex_lock(&emu->lock);
        if (emu->quit) {
            g_mutex_unlock(&emu->lock);
            break;
        }
        if (emu->held_cmd && emu->release_req) {
            g_autoptr(GByteArray) cmd = g_steal_pointer(&emu->held_cmd);

            emu->release_req = false;
            if (emu->data_fd >= 0) {
                TPMEmuReply saved = emu->reply;

                emu->reply = emu->stall_reply;
                emu_answer(emu, cmd);
                emu->reply = saved;
            }
        }
        held = emu->held_cmd != NULL;
        g_mutex_unlock(&emu->lock);

        i_wake = n;
        pfd[n++] = (struct pollfd) { .fd = emu->wake[0], .events = POLLIN };
        if (emu->ctrl_fd < 0) {
            i_listen = n;
            pfd[n++] = (struct pollfd) { .fd = emu->listen_fd,
                                         .events = POLLIN };
        } else {
            i_ctrl = n;
            pfd[n++] = (struct pollfd) { .fd = emu->ctrl_fd,
                                         .events = POLLIN };
        }
        if (emu->data_fd >= 0 && !held) {
            i_data = n;
            pfd[n++] = (struct pollfd) { .fd = emu->data_fd,
                                         .events = POLLIN };
        }

        if (poll(pfd, n, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        if (pfd[i_wake].revents) {
            char c[16];

            if (read(emu->wake[0], c, sizeof(c)) < 0 && errno != EAGAIN) {
                break;
            }
            continue;
        }
        if (i_listen >= 0 && pfd[i_listen].revents) {
            emu->ctrl_fd = accept4(emu->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        }
        if (i_ctrl >= 0 && pfd[i_ctrl].revents) {
            emu_handle_ctrl(emu);
        }
        if (i_data >= 0 && pfd[i_data].revents && emu->data_fd >= 0) {
            emu_handle_data(emu);
        }
    }
    return NULL;
}

static void emu_wake(TPMEmu *emu)
{
    char c = 1;

    if (write(emu->wake[1], &c, 1) < 0) {
        /* The pipe is non-blocking; a full pipe already wakes the thread. */
    }
}

TPMEmu *tpm_emu_start(uint32_t buffer_size, GError **errp)
{
    g_autoptr(GError) err = NULL;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    TPMEmu *emu;

    emu = g_new0(TPMEmu, 1);
    g_mutex_init(&emu->lock);
    g_cond_init(&emu->cond);
    emu->listen_fd = emu->ctrl_fd = emu->data_fd = -1;
    emu->wake[0] = emu->wake[1] = -1;
    emu->max_size = emu->cur_size = buffer_size;
    emu->established = 0;
    emu->reply = TPM_EMU_REPLY_ECHO;
    emu->fixed = g_byte_array_new();
    emu->last_cmd = g_byte_array_new();
    emu->sized = EMU_HEADER_SIZE;

    emu->dir = g_dir_make_tmp("tpm-emu-XXXXXX", &err);
    if (!emu->dir) {
        g_propagate_error(errp, g_steal_pointer(&err));
        tpm_emu_stop(emu);
        return NULL;
    }
    emu->path = g_build_filename(emu->dir, "sock", NULL);
    if (strlen(emu->path) >= sizeof(addr.sun_path)) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                    "tpm-emu: socket path too long: %s", emu->path);
        tpm_emu_stop(emu);
        return NULL;
    }
    strcpy(addr.sun_path, emu->path);

    emu->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (emu->listen_fd < 0 ||
        bind(emu->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(emu->listen_fd, 1) < 0 ||
        pipe2(emu->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        g_set_error(errp, G_IO_ERROR, g_io_error_from_errno(errno),
                    "tpm-emu: cannot listen on %s: %s", emu->path,
                    g_strerror(errno));
        tpm_emu_stop(emu);
        return NULL;
    }

    emu->thread = g_thread_new("tpm-emu", emu_thread, emu);
    return emu;
}

void tpm_emu_stop(TPMEmu *emu)
{
    int i;

    if (!emu) {
        return;
    }
    if (emu->thread) {
        g_mutex_lock(&emu->lock);
        emu->quit = true;
        g_mutex_unlock(&emu->lock);
        emu_wake(emu);
        g_thread_join(emu->thread);
    }
    emu_close(&emu->data_fd);
    emu_close(&emu->ctrl_fd);
    emu_close(&emu->listen_fd);
    emu_close(&emu->wake[0]);
    emu_close(&emu->wake[1]);
    if (emu->path) {
        g_unlink(emu->path);
    }
    if (emu->dir) {
        g_rmdir(emu->dir);
    }
    for (i = 0; i < (int)G_N_ELEMENTS(emu->blobs); i++) {
        g_clear_pointer(&emu->blobs[i], g_byte_array_unref);
    }
    g_clear_pointer(&emu->held_cmd, g_byte_array_unref);
    g_byte_array_unref(emu->fixed);
    g_byte_array_unref(emu->last_cmd);
    g_free(emu->path);
    g_free(emu->dir);
    g_mutex_clear(&emu->lock);
    g_cond_clear(&emu->cond);
    g_free(emu);
}

const char *tpm_emu_socket_path(TPMEmu *emu)
{
    return emu->path;
}

void tpm_emu_set_reply(TPMEmu *emu, TPMEmuReply reply)
{
    g_mutex_lock(&emu->lock);
    emu->reply = reply;
    g_mutex_unlock(&emu->lock);
}

void tpm_emu_set_stall_reply(TPMEmu *emu, TPMEmuReply reply)
{
    g_assert(reply != TPM_EMU_REPLY_STALL);
    g_mutex_lock(&emu->lock);
    emu->stall_reply = reply;
    g_mutex_unlock(&emu->lock);
}

void tpm_emu_set_response(TPMEmu *emu, const void *buf, size_t len)
{
    g_mutex_lock(&emu->lock);
    g_byte_array_set_size(emu->fixed, 0);
    g_byte_array_append(emu->fixed, buf, len);
    g_mutex_unlock(&emu->lock);
}

void tpm_emu_set_response_size(TPMEmu *emu, uint32_t size)
{
    g_mutex_lock(&emu->lock);
    emu->sized = MIN(size, EMU_MAX_COMMAND_SIZE);
    g_mutex_unlock(&emu->lock);
}

void tpm_emu_set_short_len(TPMEmu *emu, uint32_t len)
{
    g_mutex_lock(&emu->lock);
    emu->short_len = len;
    g_mutex_unlock(&emu->lock);
}

void tpm_emu_set_buffer_size(TPMEmu *emu, uint32_t buffer_size)
{
    g_mutex_lock(&emu->lock);
    emu->max_size = emu->cur_size = buffer_size;
    g_mutex_unlock(&emu->lock);
}

void tpm_emu_set_init_failure(TPMEmu *emu, bool fail)
{
    g_mutex_lock(&emu->lock);
    emu->init_fails = fail;
    g_mutex_unlock(&emu->lock);
}

bool tpm_emu_wait_held(TPMEmu *emu, unsigned timeout_ms)
{
    gint64 end = g_get_monotonic_time() + timeout_ms * G_TIME_SPAN_MILLISECOND;
    bool held;

    g_mutex_lock(&emu->lock);
    while (!emu->held_cmd) {
        if (!g_cond_wait_until(&emu->cond, &emu->lock, end)) {
            break;
        }
    }
    held = emu->held_cmd != NULL;
    g_mutex_unlock(&emu->lock);
    return held;
}

void tpm_emu_release(TPMEmu *emu)
{
    g_mutex_lock(&emu->lock);
    emu->release_req = true;
    g_mutex_unlock(&emu->lock);
    emu_wake(emu);
}

unsigned tpm_emu_command_count(TPMEmu *emu)
{
    unsigned n;

    g_mutex_lock(&emu->lock);
    n = emu->commands;
    g_mutex_unlock(&emu->lock);
    return n;
}

unsigned tpm_emu_ctrl_count(TPMEmu *emu, uint32_t cmd)
{
    unsigned n = 0;

    g_mutex_lock(&emu->lock);
    if (cmd <= EMU_MAX_CTRL_CMD) {
        n = emu->ctrl[cmd];
    }
    g_mutex_unlock(&emu->lock);
    return n;
}

GByteArray *tpm_emu_last_command(TPMEmu *emu)
{
    GByteArray *copy = g_byte_array_new();

    g_mutex_lock(&emu->lock);
    g_byte_array_append(copy, emu->last_cmd->data, emu->last_cmd->len);
    g_mutex_unlock(&emu->lock);
    return copy;
}

uint32_t tpm_emu_buffer_size(TPMEmu *emu)
{
    uint32_t n;

    g_mutex_lock(&emu->lock);
    n = emu->cur_size;
    g_mutex_unlock(&emu->lock);
    return n;
}

uint8_t tpm_emu_locality(TPMEmu *emu)
{
    uint8_t n;

    g_mutex_lock(&emu->lock);
    n = emu->locality;
    g_mutex_unlock(&emu->lock);
    return n;
}
