/*
 * Shared pieces of the tpm-crb benchmarks (see bench-common.h).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "backends/tpm/tpm_ioctl.h"

#include "bench-common.h"

#define TPM2_ST_NO_SESSIONS 0x8001
#define TPM2_ST_SESSIONS    0x8002
#define TPM2_CC_STARTUP     0x144
#define TPM2_CC_PCR_EXTEND  0x182
#define TPM2_CC_GET_RANDOM  0x17B
#define TPM2_RS_PW          0x40000009
#define TPM2_ALG_SHA256     0x000B

/* Generous: a loaded 2-core machine may stall swtpm for a while. */
#define BENCH_IO_TIMEOUT_MS 10000

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

uint32_t bench_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static uint8_t *bench_cmd_header(BenchCommand *c, const char *name,
                                 uint16_t tag, uint32_t len, uint32_t cc)
{
    c->name = name;
    c->len = len;
    c->bytes = g_malloc0(len);
    put_be16(c->bytes, tag);
    put_be32(c->bytes + 2, len);
    put_be32(c->bytes + 6, cc);
    return c->bytes + BENCH_HDR_SIZE;
}

void bench_cmd_startup(BenchCommand *c)
{
    uint8_t *p = bench_cmd_header(c, "Startup", TPM2_ST_NO_SESSIONS, 12,
                                  TPM2_CC_STARTUP);

    put_be16(p, 0); /* TPM_SU_CLEAR */
}

void bench_cmd_get_random(BenchCommand *c)
{
    uint8_t *p = bench_cmd_header(c, "GetRandom", TPM2_ST_NO_SESSIONS, 12,
                                  TPM2_CC_GET_RANDOM);

    put_be16(p, 32);
}

void bench_cmd_pcr_extend(BenchCommand *c)
{
    /* header, handle, auth size, password session, count, alg, digest */
    uint32_t len = BENCH_HDR_SIZE + 4 + 4 + 9 + 4 + 2 + 32;
    uint8_t *p = bench_cmd_header(c, "PCR_Extend", TPM2_ST_SESSIONS, len,
                                  TPM2_CC_PCR_EXTEND);
    unsigned i;

    put_be32(p, 10);                /* PCR 10 */
    put_be32(p + 4, 9);             /* authorizationSize */
    put_be32(p + 8, TPM2_RS_PW);    /* empty password session */
    /* nonce size 0, attributes 0, hmac size 0: bytes 12..16 stay zero */
    put_be32(p + 17, 1);            /* one digest */
    put_be16(p + 21, TPM2_ALG_SHA256);
    for (i = 0; i < 32; i++) {
        p[23 + i] = i;
    }
}

void bench_cmd_framed(BenchCommand *c, const char *name, uint32_t len)
{
    uint8_t *p;

    g_assert(len >= 12);
    p = bench_cmd_header(c, name, TPM2_ST_NO_SESSIONS, len,
                         TPM2_CC_GET_RANDOM);
    put_be16(p, 32);
}

void bench_cmd_free(BenchCommand *c)
{
    g_clear_pointer(&c->bytes, g_free);
}

int64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t bench_proc_cpu_ns(pid_t pid)
{
    g_autofree char *taskdir = g_strdup_printf("/proc/%d/task", (int)pid);
    g_autoptr(GDir) dir = g_dir_open(taskdir, 0, NULL);
    const char *tid;
    int64_t total = 0;

    if (!dir) {
        return -1;
    }
    while ((tid = g_dir_read_name(dir))) {
        g_autofree char *path = g_strdup_printf("%s/%s/schedstat", taskdir,
                                                tid);
        g_autofree char *text = NULL;

        /* A thread that exits between the listing and the read: skip. */
        if (g_file_get_contents(path, &text, NULL, NULL)) {
            total += g_ascii_strtoll(text, NULL, 10);
        }
    }
    return total;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

double bench_median(double *v, size_t n)
{
    g_assert(n > 0);
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int bench_connect_unix(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int err = errno;

        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

bool bench_swtpm_start(BenchSwtpm *s, GError **errp)
{
    g_autofree char *state = NULL;
    g_autofree char *ctrl = NULL;
    gint64 deadline;
    int fd;

    memset(s, 0, sizeof(*s));
    s->dir = g_dir_make_tmp("tpm-crb-bench-XXXXXX", errp);
    if (!s->dir) {
        return false;
    }
    s->ctrl_path = g_build_filename(s->dir, "ctrl", NULL);
    state = g_strdup_printf("dir=%s", s->dir);
    ctrl = g_strdup_printf("type=unixio,path=%s", s->ctrl_path);
    {
        const char *argv[] = {
            "swtpm", "socket", "--tpm2", "--tpmstate", state,
            "--ctrl", ctrl, NULL
        };

        if (!g_spawn_async(NULL, (char **)argv, NULL,
                           G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                           G_SPAWN_STDOUT_TO_DEV_NULL,
                           NULL, NULL, &s->pid, errp)) {
            g_prefix_error(errp, "bench: cannot start swtpm: ");
            return false;
        }
    }

    /* Ready once the control socket accepts a connection. */
    deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while ((fd = bench_connect_unix(s->ctrl_path)) < 0) {
        int status;

        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "bench: swtpm exited at start-up (status 0x%x)",
                        status);
            return false;
        }
        if (g_get_monotonic_time() > deadline) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                        "bench: swtpm did not listen on %s within 10 s",
                        s->ctrl_path);
            return false;
        }
        g_usleep(2000);
    }
    /* swtpm serves one control connection at a time: give it back. */
    close(fd);
    return true;
}

static void bench_rmtree(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *p = g_build_filename(path, name, NULL);

        g_unlink(p);
    }
    g_rmdir(path);
}

void bench_swtpm_stop(BenchSwtpm *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        RETRY_ON_EINTR(waitpid(s->pid, NULL, 0));
        g_spawn_close_pid(s->pid);
        s->pid = 0;
    }
    if (s->dir) {
        bench_rmtree(s->dir);
    }
    g_clear_pointer(&s->dir, g_free);
    g_clear_pointer(&s->ctrl_path, g_free);
}

/* Wait (bounded) for fd to become readable. */
static bool bench_wait_readable(int fd, GError **errp)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int n = RETRY_ON_EINTR(poll(&pfd, 1, BENCH_IO_TIMEOUT_MS));

    if (n <= 0) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                    "bench: no answer from the TPM within %d ms",
                    BENCH_IO_TIMEOUT_MS);
        return false;
    }
    return true;
}

static bool bench_read_full(int fd, void *buf, size_t len, GError **errp)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t n;

        if (!bench_wait_readable(fd, errp)) {
            return false;
        }
        n = RETRY_ON_EINTR(recv(fd, p, len, 0));
        if (n <= 0) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                        "bench: TPM channel %s",
                        n ? g_strerror(errno) : "closed");
            return false;
        }
        p += n;
        len -= n;
    }
    return true;
}

static bool bench_write_full(int fd, const void *buf, size_t len,
                             GError **errp)
{
    const uint8_t *p = buf;

    while (len) {
        ssize_t n = RETRY_ON_EINTR(send(fd, p, len, MSG_NOSIGNAL));

        if (n < 0) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE,
                        "bench: TPM channel: %s", g_strerror(errno));
            return false;
        }
        p += n;
        len -= n;
    }
    return true;
}

/*
 * One control command: the big-endian code, the request, then a reply of
 * reply_len bytes whose first word is the TPM result.
 */
static bool bench_ctrl(BenchDirect *d, uint32_t cmd, const void *req,
                       size_t req_len, void *reply, size_t reply_len,
                       int pass_fd, GError **errp)
{
    uint8_t msg[64];
    uint32_t result;

    g_assert(req_len + 4 <= sizeof(msg) && reply_len >= 4);
    put_be32(msg, cmd);
    if (req_len) {
        memcpy(msg + 4, req, req_len);
    }
    if (pass_fd >= 0) {
        /* CMD_SET_DATAFD: the descriptor travels with the command code. */
        struct iovec iov = { .iov_base = msg, .iov_len = 4 + req_len };
        union {
            struct cmsghdr hdr;
            char buf[CMSG_SPACE(sizeof(int))];
        } ctl;
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1,
            .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
        };
        struct cmsghdr *c;

        memset(&ctl, 0, sizeof(ctl));
        c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
        if (RETRY_ON_EINTR(sendmsg(d->ctrl_fd, &mh, MSG_NOSIGNAL)) !=
            (ssize_t)(4 + req_len)) {
            g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FAILED,
                        "bench: sending control command 0x%x: %s", cmd,
                        g_strerror(errno));
            return false;
        }
    } else if (!bench_write_full(d->ctrl_fd, msg, 4 + req_len, errp)) {
        return false;
    }
    if (!bench_read_full(d->ctrl_fd, reply, 4, errp)) {
        return false;
    }
    result = bench_be32(reply);
    if (result) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "bench: control command 0x%x failed with 0x%x", cmd,
                    result);
        return false;
    }
    return bench_read_full(d->ctrl_fd, (uint8_t *)reply + 4, reply_len - 4,
                           errp);
}

bool bench_direct_open(BenchDirect *d, const char *ctrl_path, GError **errp)
{
    int fds[2];
    uint8_t reply[16];
    uint8_t req[4] = { 0 };

    d->ctrl_fd = bench_connect_unix(ctrl_path);
    d->data_fd = -1;
    if (d->ctrl_fd < 0) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "bench: cannot connect to %s: %s", ctrl_path,
                    g_strerror(errno));
        return false;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "bench: socketpair: %s", g_strerror(errno));
        return false;
    }
    if (!bench_ctrl(d, CMD_SET_DATAFD, NULL, 0, reply, 4, fds[1], errp)) {
        close(fds[0]);
        close(fds[1]);
        return false;
    }
    close(fds[1]);
    d->data_fd = fds[0];

    /* Buffer size 0: ask what is in use (B). */
    if (!bench_ctrl(d, CMD_SET_BUFFERSIZE, req, 4, reply, 16, -1, errp)) {
        return false;
    }
    d->buffer_size = bench_be32(reply + 4);
    /* init_flags 0: a plain power-on of the TPM. */
    return bench_ctrl(d, CMD_INIT, req, 4, reply, 4, -1, errp);
}

bool bench_direct_transact(BenchDirect *d, const uint8_t *cmd, uint32_t len,
                           uint8_t *rsp, uint32_t rsp_max, uint32_t *rsp_len,
                           GError **errp)
{
    uint32_t size;

    if (!bench_write_full(d->data_fd, cmd, len, errp) ||
        !bench_read_full(d->data_fd, rsp, BENCH_HDR_SIZE, errp)) {
        return false;
    }
    size = bench_be32(rsp + 2);
    if (size < BENCH_HDR_SIZE || size > rsp_max) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "bench: response declares %u bytes (room for %u)", size,
                    rsp_max);
        return false;
    }
    *rsp_len = size;
    return bench_read_full(d->data_fd, rsp + BENCH_HDR_SIZE,
                           size - BENCH_HDR_SIZE, errp);
}

void bench_direct_close(BenchDirect *d)
{
    if (d->data_fd >= 0) {
        close(d->data_fd);
        d->data_fd = -1;
    }
    if (d->ctrl_fd >= 0) {
        close(d->ctrl_fd);
        d->ctrl_fd = -1;
    }
}

char *bench_machine_description(void)
{
    g_autofree char *cpuinfo = NULL;
    g_autofree char *loadavg = NULL;
    g_autofree char *model = NULL;

    if (g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, NULL)) {
        char *p = strstr(cpuinfo, "model name");

        if (p && (p = strchr(p, ':'))) {
            model = g_strndup(p + 2, strcspn(p + 2, "\n"));
        }
    }
    if (g_file_get_contents("/proc/loadavg", &loadavg, NULL, NULL)) {
        loadavg[strcspn(loadavg, " ")] = 0;
        /* the 1-minute figure is enough to judge a run */
    }
    return g_strdup_printf("%ld CPUs (%s), 1-min load %s",
                           sysconf(_SC_NPROCESSORS_ONLN),
                           model ? model : "unknown CPU",
                           loadavg ? loadavg : "?");
}
