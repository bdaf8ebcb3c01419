/*
 * MMIO accessor for the reference TPM CRB driver over the qtest text
 * protocol: "readl ADDR" / "writel ADDR VAL" for registers, "read ADDR
 * SIZE" / "write ADDR SIZE 0xHEX" for the data window. Works with this
 * tree's emulator and with any QEMU started with -qtest.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "qtest-accessor.h"

/*
 * Buffer copies go in pieces so that a reply line stays small: a piece
 * of 2 KiB is a 4 KiB hex line. Anything longer from the emulator is a
 * protocol error, which keeps our memory bounded whatever it sends.
 */
#define QTEST_PIECE 2048
#define QTEST_MAX_LINE (4 * QTEST_PIECE + 64)

struct QtestAccessor {
    int fd;
    bool broken;
    unsigned reply_timeout_ms;
    char path[108];
    size_t len;
    char buf[QTEST_MAX_LINE];
};

void qtest_accessor_free(QtestAccessor *qa)
{
    if (!qa) {
        return;
    }
    if (qa->fd >= 0) {
        close(qa->fd);
    }
    g_free(qa);
}

static int qtest_try_connect(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return -errno;
    }
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int err = errno;

        close(fd);
        return -err;
    }
    return fd;
}

int qtest_accessor_dial(const char *path, unsigned connect_timeout_ms,
                        Error **errp)
{
    int64_t deadline = g_get_monotonic_time() +
                       (int64_t)connect_timeout_ms * 1000;
    int fd;

    if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        error_setg(errp, "qtest: socket path '%s' is too long", path);
        return -1;
    }
    for (;;) {
        fd = qtest_try_connect(path);
        if (fd >= 0) {
            return fd;
        }
        /* Only "not there yet" is worth waiting for. */
        if ((fd != -ENOENT && fd != -ECONNREFUSED) ||
            g_get_monotonic_time() >= deadline) {
            error_setg_errno(errp, -fd, "qtest: cannot connect to '%s'",
                             path);
            return -1;
        }
        g_usleep(20 * 1000);
    }
}

QtestAccessor *qtest_accessor_new_fd(int fd, const char *label,
                                     unsigned reply_timeout_ms)
{
    QtestAccessor *qa = g_new0(QtestAccessor, 1);

    qa->fd = fd;
    qa->reply_timeout_ms = reply_timeout_ms;
    g_strlcpy(qa->path, label, sizeof(qa->path));
    return qa;
}

QtestAccessor *qtest_accessor_connect(const char *path,
                                      unsigned connect_timeout_ms,
                                      unsigned reply_timeout_ms,
                                      Error **errp)
{
    int fd = qtest_accessor_dial(path, connect_timeout_ms, errp);

    if (fd < 0) {
        return NULL;
    }
    return qtest_accessor_new_fd(fd, path, reply_timeout_ms);
}

static bool qtest_wait_fd(QtestAccessor *qa, short events, int64_t deadline,
                          Error **errp)
{
    struct pollfd pfd = { .fd = qa->fd, .events = events };

    for (;;) {
        int64_t left_ms = (deadline - g_get_monotonic_time()) / 1000;
        int r;

        if (left_ms <= 0) {
            error_setg(errp, "qtest: no reply from the emulator at '%s' "
                       "within %u ms", qa->path, qa->reply_timeout_ms);
            return false;
        }
        r = poll(&pfd, 1, (int)MIN(left_ms, INT_MAX));
        if (r > 0) {
            return true;
        }
        if (r < 0 && errno != EINTR) {
            error_setg_errno(errp, errno, "qtest: poll");
            return false;
        }
    }
}

static bool qtest_send(QtestAccessor *qa, const char *line, int64_t deadline,
                       Error **errp)
{
    size_t len = strlen(line), off = 0;

    while (off < len) {
        ssize_t n;

        if (!qtest_wait_fd(qa, POLLOUT, deadline, errp)) {
            return false;
        }
        n = send(qa->fd, line + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            error_setg_errno(errp, errno, "qtest: sending to '%s'",
                             qa->path);
            return false;
        }
        off += n;
    }
    return true;
}

/* Return the next line without its newline; the caller frees it. */
static char *qtest_recv_line(QtestAccessor *qa, int64_t deadline,
                             Error **errp)
{
    for (;;) {
        char *nl = memchr(qa->buf, '\n', qa->len);
        ssize_t n;

        if (nl) {
            size_t line_len = nl - qa->buf;
            char *line = g_strndup(qa->buf, line_len);

            qa->len -= line_len + 1;
            memmove(qa->buf, nl + 1, qa->len);
            return line;
        }
        if (qa->len == sizeof(qa->buf)) {
            error_setg(errp, "qtest: reply line from '%s' longer than %zu "
                       "bytes", qa->path, sizeof(qa->buf));
            return NULL;
        }
        if (!qtest_wait_fd(qa, POLLIN, deadline, errp)) {
            return NULL;
        }
        n = recv(qa->fd, qa->buf + qa->len, sizeof(qa->buf) - qa->len,
                 MSG_DONTWAIT);
        if (n == 0) {
            error_setg(errp, "qtest: the emulator closed the connection "
                       "at '%s'", qa->path);
            return NULL;
        }
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            error_setg_errno(errp, errno, "qtest: receiving from '%s'",
                             qa->path);
            return NULL;
        }
        qa->len += n;
    }
}

/*
 * Send one command line and return what follows "OK" (possibly ""),
 * skipping the asynchronous "IRQ ..." lines qtest may interleave.
 */
static char *qtest_command(QtestAccessor *qa, const char *cmd, Error **errp)
{
    int64_t deadline = g_get_monotonic_time() +
                       (int64_t)qa->reply_timeout_ms * 1000;

    /*
     * After a timeout or an I/O error a late reply may still arrive and
     * would be taken for the answer to the next command: stop here.
     */
    if (qa->broken) {
        error_setg(errp, "qtest: connection to '%s' unusable after an "
                   "earlier error", qa->path);
        return NULL;
    }
    if (!qtest_send(qa, cmd, deadline, errp)) {
        qa->broken = true;
        return NULL;
    }
    for (;;) {
        g_autofree char *line = qtest_recv_line(qa, deadline, errp);
        g_autofree char *verb = NULL;

        if (!line) {
            qa->broken = true;
            return NULL;
        }
        if (g_str_has_prefix(line, "IRQ ")) {
            continue;
        }
        if (strcmp(line, "OK") == 0) {
            return g_strdup("");
        }
        if (g_str_has_prefix(line, "OK ")) {
            return g_strdup(line + 3);
        }
        verb = g_strndup(cmd, strcspn(cmd, " \n"));
        error_setg(errp, "qtest: the emulator rejected %s: %.200s", verb,
                   line);
        return NULL;
    }
}

bool qtest_accessor_sync(QtestAccessor *qa, Error **errp)
{
    int64_t deadline = g_get_monotonic_time() +
                       (int64_t)qa->reply_timeout_ms * 1000;
    uint64_t tag = ((uint64_t)g_random_int() << 32) | g_random_int();
    g_autofree char *marker = g_strdup_printf("tpm-crb-sync-%016" PRIx64
                                              "-b", tag);
    g_autofree char *lines = g_strdup_printf("tpm-crb-sync-%016" PRIx64
                                             "-a\n%s\n", tag, marker);

    /*
     * The first line may be glued to a partial line left by a dead
     * client; the second one arrives whole, and qtest answers unknown
     * commands with "FAIL Unknown command '<word>'", which names it.
     */
    if (qa->broken) {
        error_setg(errp, "qtest: connection to '%s' unusable after an "
                   "earlier error", qa->path);
        return false;
    }
    if (!qtest_send(qa, lines, deadline, errp)) {
        qa->broken = true;
        return false;
    }
    for (;;) {
        g_autofree char *line = qtest_recv_line(qa, deadline, errp);

        if (!line) {
            qa->broken = true;
            error_prepend(errp, "resynchronising: ");
            return false;
        }
        if (g_str_has_prefix(line, "FAIL") && strstr(line, marker)) {
            return true;
        }
    }
}

static bool qtest_parse_hex_value(const char *s, uint64_t *val)
{
    char *end;

    if (!g_str_has_prefix(s, "0x") || !g_ascii_isxdigit(s[2])) {
        return false;
    }
    errno = 0;
    *val = g_ascii_strtoull(s + 2, &end, 16);
    return errno == 0 && *end == '\0';
}

static bool qa_read32(void *opaque, uint64_t addr, uint32_t *val,
                      Error **errp)
{
    QtestAccessor *qa = opaque;
    g_autofree char *cmd = g_strdup_printf("readl 0x%" PRIx64 "\n", addr);
    g_autofree char *reply = qtest_command(qa, cmd, errp);
    uint64_t v;

    if (!reply) {
        return false;
    }
    if (!qtest_parse_hex_value(reply, &v) || v > UINT32_MAX) {
        error_setg(errp, "qtest: malformed readl reply '%.64s'", reply);
        return false;
    }
    *val = v;
    return true;
}

static bool qa_write32(void *opaque, uint64_t addr, uint32_t val,
                       Error **errp)
{
    QtestAccessor *qa = opaque;
    g_autofree char *cmd = g_strdup_printf("writel 0x%" PRIx64 " 0x%" PRIx32
                                           "\n", addr, val);
    g_autofree char *reply = qtest_command(qa, cmd, errp);

    return reply != NULL;
}

static bool qa_read_piece(QtestAccessor *qa, uint64_t addr, uint8_t *buf,
                          size_t len, Error **errp)
{
    g_autofree char *cmd = g_strdup_printf("read 0x%" PRIx64 " 0x%zx\n",
                                           addr, len);
    g_autofree char *reply = qtest_command(qa, cmd, errp);
    size_t i;

    if (!reply) {
        return false;
    }
    if (!g_str_has_prefix(reply, "0x") || strlen(reply) != 2 + 2 * len) {
        error_setg(errp, "qtest: read of %zu bytes at 0x%" PRIx64
                   " returned %zu characters", len, addr, strlen(reply));
        return false;
    }
    for (i = 0; i < len; i++) {
        int hi = g_ascii_xdigit_value(reply[2 + 2 * i]);
        int lo = g_ascii_xdigit_value(reply[3 + 2 * i]);

        if (hi < 0 || lo < 0) {
            error_setg(errp, "qtest: read at 0x%" PRIx64 " returned "
                       "non-hex data", addr);
            return false;
        }
        buf[i] = (hi << 4) | lo;
    }
    return true;
}

static bool qa_read_buf(void *opaque, uint64_t addr, void *buf, size_t len,
                        Error **errp)
{
    size_t off;

    for (off = 0; off < len; off += QTEST_PIECE) {
        if (!qa_read_piece(opaque, addr + off, (uint8_t *)buf + off,
                           MIN(len - off, (size_t)QTEST_PIECE), errp)) {
            return false;
        }
    }
    return true;
}

static bool qa_write_piece(QtestAccessor *qa, uint64_t addr,
                           const uint8_t *buf, size_t len, Error **errp)
{
    static const char hex[] = "0123456789abcdef";
    GString *cmd = g_string_sized_new(64 + 2 * len);
    g_autofree char *reply = NULL;
    size_t i;

    g_string_append_printf(cmd, "write 0x%" PRIx64 " 0x%zx 0x", addr, len);
    for (i = 0; i < len; i++) {
        g_string_append_c(cmd, hex[buf[i] >> 4]);
        g_string_append_c(cmd, hex[buf[i] & 0xf]);
    }
    g_string_append_c(cmd, '\n');
    reply = qtest_command(qa, cmd->str, errp);
    g_string_free(cmd, TRUE);
    return reply != NULL;
}

static bool qa_write_buf(void *opaque, uint64_t addr, const void *buf,
                         size_t len, Error **errp)
{
    size_t off;

    for (off = 0; off < len; off += QTEST_PIECE) {
        if (!qa_write_piece(opaque, addr + off, (const uint8_t *)buf + off,
                            MIN(len - off, (size_t)QTEST_PIECE), errp)) {
            return false;
        }
    }
    return true;
}

const TpmCrbAccessorOps qtest_accessor_ops = {
    .read32 = qa_read32,
    .write32 = qa_write32,
    .read_buf = qa_read_buf,
    .write_buf = qa_write_buf,
};
