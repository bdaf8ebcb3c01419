/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * tpm-crb-bench-qtest: the TPM through the qtest protocol (benchmark
 * part 2). This project's emulator and Debian's QEMU 7.2 (peer mode:
 * "-accel tcg -S", no chunking, so only commands that fit the 3968-byte
 * window), each with its own swtpm of the same version, and a trivial
 * qtest-like echo server that answers the same lines with replies of the
 * same length. One client drives all three, alternating batches in one
 * run.
 *
 * A socket round trip between two processes costs tens of microseconds
 * even against the echo server, which swamps wall-clock differences
 * between emulators. So besides the median wall latency per command the
 * report carries, per command, the emulator's own CPU time (all threads,
 * from /proc/PID/task/TID/schedstat, summed over a batch), swtpm's CPU
 * time, and the echo floor measured in the same run.
 */

#include "qemu/osdep.h"
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "bench-common.h"

#define REPLY_TIMEOUT_MS 20000
#define LINE_MAX_BYTES (2 * BENCH_MAX_MSG + 256)

enum { TARGET_OURS, TARGET_PEER, TARGET_ECHO, TARGET__MAX };
static const char *const target_name[TARGET__MAX] = {
    "ours", "qemu-7.2", "echo",
};

typedef struct Target {
    const char *name;
    pid_t pid;
    BenchSwtpm swtpm;
    bool has_swtpm;
    char *dir;
    char *sock_path;
    int fd;
    GString *rx;
    unsigned lines;
} Target;

/* ---- line client ---------------------------------------------------- */

static void G_GNUC_NORETURN fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void G_GNUC_NORETURN fail(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fprintf(stderr, "tpm-crb-bench-qtest: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void send_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = RETRY_ON_EINTR(send(fd, buf, len, MSG_NOSIGNAL));

        if (n < 0) {
            fail("send: %s", g_strerror(errno));
        }
        buf += n;
        len -= n;
    }
}

/* The reply line, without its newline; the buffer stays in t->rx. */
static char *recv_line(Target *t, size_t *len)
{
    char *eol;

    for (;;) {
        eol = memchr(t->rx->str, '\n', t->rx->len);
        if (eol) {
            break;
        }
        {
            struct pollfd pfd = { .fd = t->fd, .events = POLLIN };
            char buf[16384];
            ssize_t n;

            if (RETRY_ON_EINTR(poll(&pfd, 1, REPLY_TIMEOUT_MS)) <= 0) {
                fail("%s: no reply within %d ms", t->name, REPLY_TIMEOUT_MS);
            }
            n = RETRY_ON_EINTR(recv(t->fd, buf, sizeof(buf), 0));
            if (n <= 0) {
                fail("%s: connection %s", t->name,
                     n ? g_strerror(errno) : "closed");
            }
            if (t->rx->len + n > LINE_MAX_BYTES) {
                fail("%s: reply line too long", t->name);
            }
            g_string_append_len(t->rx, buf, n);
        }
    }
    *eol = 0;
    *len = eol - t->rx->str;
    return t->rx->str;
}

static void consume_line(Target *t, size_t len)
{
    g_string_erase(t->rx, 0, len + 1);
}

/* Send one line, check the reply starts with "OK", return its argument. */
static void transact_line(Target *t, const char *line, size_t len,
                          GString *arg)
{
    size_t rlen;
    char *reply;

    send_all(t->fd, line, len);
    reply = recv_line(t, &rlen);
    t->lines++;
    if (strncmp(reply, "OK", 2)) {
        fail("%s: '%.40s' answered '%.80s'", t->name, line, reply);
    }
    if (arg) {
        g_string_assign(arg, rlen > 3 ? reply + 3 : "");
    }
    consume_line(t, rlen);
}

static void q_writel(Target *t, uint64_t addr, uint32_t val)
{
    char line[64];
    int n = snprintf(line, sizeof(line), "writel 0x%" PRIx64 " 0x%x\n",
                     addr, val);

    transact_line(t, line, n, NULL);
}

static uint32_t q_readl(Target *t, uint64_t addr, GString *scratch)
{
    char line[64];
    int n = snprintf(line, sizeof(line), "readl 0x%" PRIx64 "\n", addr);

    transact_line(t, line, n, scratch);
    return g_ascii_strtoull(scratch->str, NULL, 16);
}

static const char hexdig[] = "0123456789abcdef";

static void q_write(Target *t, uint64_t addr, const uint8_t *data,
                    uint32_t len, GString *line)
{
    uint32_t i;

    g_string_printf(line, "write 0x%" PRIx64 " 0x%x 0x", addr, len);
    for (i = 0; i < len; i++) {
        g_string_append_c(line, hexdig[data[i] >> 4]);
        g_string_append_c(line, hexdig[data[i] & 15]);
    }
    g_string_append_c(line, '\n');
    transact_line(t, line->str, line->len, NULL);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void q_read(Target *t, uint64_t addr, uint8_t *data, uint32_t len,
                   GString *scratch)
{
    char line[64];
    int n = snprintf(line, sizeof(line), "read 0x%" PRIx64 " 0x%x\n", addr,
                     len);
    uint32_t i;

    transact_line(t, line, n, scratch);
    if (scratch->len != 2 + 2 * (size_t)len) {
        fail("%s: read of %u bytes answered %zu characters", t->name, len,
             scratch->len);
    }
    for (i = 0; i < len; i++) {
        int hi = hexval(scratch->str[2 + 2 * i]);
        int lo = hexval(scratch->str[3 + 2 * i]);

        if (hi < 0 || lo < 0) {
            fail("%s: bad hex in read reply", t->name);
        }
        data[i] = hi << 4 | lo;
    }
}

/*
 * One TPM command through the window, as a driver without chunking does
 * it: cmdReady, command, Start, poll Start, header, rest, goIdle.
 */
static uint32_t crb_command(Target *t, const BenchCommand *c, uint8_t *rsp,
                            GString *line, GString *scratch)
{
    uint64_t base = BENCH_CRB_BASE;
    uint32_t size;

    q_writel(t, base + BENCH_CRB_CTRL_REQ, BENCH_CRB_CMD_READY);
    q_write(t, base + BENCH_CRB_DATA, c->bytes, c->len, line);
    q_writel(t, base + BENCH_CRB_CTRL_START, BENCH_CRB_START);
    while (q_readl(t, base + BENCH_CRB_CTRL_START, scratch) &
           BENCH_CRB_START) {
        /* poll, as fast as the protocol allows */
    }
    q_read(t, base + BENCH_CRB_DATA, rsp, BENCH_HDR_SIZE, scratch);
    size = bench_be32(rsp + 2);
    if (size < BENCH_HDR_SIZE || size > 3968) {
        fail("%s: %s: response declares %u bytes", t->name, c->name, size);
    }
    if (size > BENCH_HDR_SIZE) {
        q_read(t, base + BENCH_CRB_DATA + BENCH_HDR_SIZE,
               rsp + BENCH_HDR_SIZE, size - BENCH_HDR_SIZE, scratch);
    }
    q_writel(t, base + BENCH_CRB_CTRL_REQ, BENCH_CRB_GO_IDLE);
    return size;
}

/* ---- the echo floor ------------------------------------------------- */

/*
 * A trivial qtest-like server: for each line a reply of the length the
 * emulator's would have ("OK", "OK 0x%016x", "OK 0x" + 2 hex per byte).
 * A window read at the data buffer's start answers a response header
 * declaring the size the client announced ("bench-rsp-size N", untimed),
 * so the client reads exactly as many lines and bytes as from a TPM.
 */
static void echo_serve(int fd)
{
    GString *rx = g_string_new("");
    GString *reply = g_string_new("");
    uint32_t rsp_size = BENCH_HDR_SIZE;

    for (;;) {
        char *eol;
        char buf[16384];
        ssize_t n;

        while ((eol = memchr(rx->str, '\n', rx->len))) {
            size_t len = eol - rx->str;
            char **w;

            *eol = 0;
            w = g_strsplit(rx->str, " ", 4);
            if (!w[0]) {
                g_string_assign(reply, "FAIL empty\n");
            } else if (!strcmp(w[0], "read") && w[1] && w[2]) {
                uint64_t addr = g_ascii_strtoull(w[1], NULL, 16);
                uint32_t size = g_ascii_strtoull(w[2], NULL, 16);
                uint32_t i;

                g_string_assign(reply, "OK 0x");
                for (i = 0; i < size && i < BENCH_MAX_MSG; i++) {
                    uint8_t b = 0;

                    if (addr == BENCH_CRB_BASE + BENCH_CRB_DATA) {
                        /* tag 0x8001, size, rc 0 */
                        b = i == 0 ? 0x80 : i == 1 ? 0x01 :
                            i >= 2 && i < 6 ? rsp_size >> (8 * (5 - i)) : 0;
                    }
                    g_string_append_c(reply, hexdig[b >> 4]);
                    g_string_append_c(reply, hexdig[b & 15]);
                }
                g_string_append_c(reply, '\n');
            } else if (!strncmp(w[0], "read", 4)) {
                g_string_assign(reply, "OK 0x0000000000000000\n");
            } else if (!strcmp(w[0], "bench-rsp-size") && w[1]) {
                rsp_size = g_ascii_strtoull(w[1], NULL, 10);
                g_string_assign(reply, "OK\n");
            } else {
                g_string_assign(reply, "OK\n");
            }
            g_strfreev(w);
            g_string_erase(rx, 0, len + 1);
            send_all(fd, reply->str, reply->len);
        }
        n = RETRY_ON_EINTR(recv(fd, buf, sizeof(buf), 0));
        if (n <= 0) {
            break;
        }
        g_string_append_len(rx, buf, n);
        if (rx->len > LINE_MAX_BYTES) {
            break;
        }
    }
    g_string_free(rx, TRUE);
    g_string_free(reply, TRUE);
}

static int listen_unix(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    g_assert(strlen(path) < sizeof(addr.sun_path));
    strcpy(addr.sun_path, path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(fd, 1) < 0) {
        fail("listen on %s: %s", path, g_strerror(errno));
    }
    return fd;
}

/* ---- starting and stopping the targets ------------------------------ */

static void target_connect(Target *t)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;

    strcpy(addr.sun_path, t->sock_path);
    for (;;) {
        int status;

        t->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(t->fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
            break;
        }
        close(t->fd);
        t->fd = -1;
        if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
            t->pid = -1;
            fail("%s exited at start-up (status 0x%x)", t->name, status);
        }
        if (g_get_monotonic_time() > deadline) {
            fail("%s did not listen on %s within 30 s", t->name,
                 t->sock_path);
        }
        g_usleep(5000);
    }
    t->rx = g_string_new("");
}

static void target_start(Target *t, int kind, const char *binary)
{
    GError *err = NULL;
    pid_t pid;

    memset(t, 0, sizeof(*t));
    t->name = target_name[kind];
    t->fd = -1;
    t->dir = g_dir_make_tmp("tpm-crb-benchq-XXXXXX", &err);
    if (!t->dir) {
        fail("%s", err->message);
    }
    t->sock_path = g_build_filename(t->dir, "qtest", NULL);

    if (kind == TARGET_ECHO) {
        int lfd = listen_unix(t->sock_path);

        pid = fork();
        if (pid < 0) {
            fail("fork: %s", g_strerror(errno));
        }
        if (pid == 0) {
            int fd;

            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
            fd = accept(lfd, NULL, NULL);
            if (fd >= 0) {
                echo_serve(fd);
            }
            _exit(0);
        }
        close(lfd);
        t->pid = pid;
        target_connect(t);
        return;
    }

    if (!bench_swtpm_start(&t->swtpm, &err)) {
        fail("%s", err->message);
    }
    t->has_swtpm = true;
    {
        g_autofree char *qtest = g_strdup_printf(
            "unix:%s,server=on,wait=off", t->sock_path);
        g_autofree char *chr = g_strdup_printf(
            "socket,id=chrtpm,path=%s", t->swtpm.ctrl_path);
        const char *argv[32];
        int n = 0;

        argv[n++] = binary;
        argv[n++] = "-machine";
        argv[n++] = "q35";
        argv[n++] = "-nodefaults";
        argv[n++] = "-display";
        argv[n++] = "none";
        argv[n++] = "-qtest";
        argv[n++] = qtest;
        argv[n++] = "-qtest-log";
        argv[n++] = "none";
        argv[n++] = "-chardev";
        argv[n++] = chr;
        argv[n++] = "-tpmdev";
        argv[n++] = "emulator,id=tpm0,chardev=chrtpm";
        argv[n++] = "-device";
        argv[n++] = "tpm-crb,tpmdev=tpm0";
        if (kind == TARGET_PEER) {
            /* No qtest accelerator in 7.2; -S keeps the firmware off. */
            argv[n++] = "-accel";
            argv[n++] = "tcg";
            argv[n++] = "-S";
        } else {
            argv[n++] = "-accel";
            argv[n++] = "qtest";
        }
        argv[n] = NULL;

        pid = fork();
        if (pid < 0) {
            fail("fork: %s", g_strerror(errno));
        }
        if (pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);

            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
            if (devnull >= 0) {
                dup2(devnull, 1);
            }
            execvp(binary, (char **)argv);
            fprintf(stderr, "exec %s: %s\n", binary, g_strerror(errno));
            _exit(127);
        }
        t->pid = pid;
    }
    target_connect(t);
}

static void target_stop(Target *t)
{
    if (t->fd >= 0) {
        close(t->fd);
        t->fd = -1;
    }
    if (t->pid > 0) {
        /* Closing the qtest connection asks ours to exit; be sure. */
        kill(t->pid, SIGKILL);
        RETRY_ON_EINTR(waitpid(t->pid, NULL, 0));
        t->pid = -1;
    }
    if (t->has_swtpm) {
        bench_swtpm_stop(&t->swtpm);
    }
    if (t->rx) {
        g_string_free(t->rx, TRUE);
    }
    if (t->sock_path) {
        g_unlink(t->sock_path);
    }
    if (t->dir) {
        g_rmdir(t->dir);
    }
    g_free(t->sock_path);
    g_free(t->dir);
}

/* ---- measurement ---------------------------------------------------- */

typedef struct Sample {
    GArray *wall_us;     /* per command */
    double emu_cpu_us;   /* summed over batches */
    double tpm_cpu_us;
    unsigned commands;
    unsigned lines;
    uint32_t rsp_len;
} Sample;

static void run_batch(Target *t, const BenchCommand *c, unsigned n,
                      bool record, Sample *s, uint8_t *rsp, GString *line,
                      GString *scratch)
{
    int64_t emu0, tpm0 = 0, emu1, tpm1 = 0;
    unsigned lines0 = t->lines;
    unsigned i;

    emu0 = bench_proc_cpu_ns(t->pid);
    if (t->has_swtpm) {
        tpm0 = bench_proc_cpu_ns(t->swtpm.pid);
    }
    for (i = 0; i < n; i++) {
        int64_t t0 = bench_now_ns();
        uint32_t size = crb_command(t, c, rsp, line, scratch);
        double us = (bench_now_ns() - t0) / 1e3;

        s->rsp_len = size;
        if (record) {
            g_array_append_val(s->wall_us, us);
        }
    }
    emu1 = bench_proc_cpu_ns(t->pid);
    if (t->has_swtpm) {
        tpm1 = bench_proc_cpu_ns(t->swtpm.pid);
    }
    if (record) {
        s->emu_cpu_us += (emu1 - emu0) / 1e3;
        s->tpm_cpu_us += (tpm1 - tpm0) / 1e3;
        s->commands += n;
        s->lines += t->lines - lines0;
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: tpm-crb-bench-qtest --ours BIN [--peer BIN] "
            "[--rounds N] [--batch N] [--out FILE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *ours = NULL, *peer = "/usr/bin/qemu-system-x86_64";
    const char *outpath = NULL;
    unsigned rounds = 10, batch = 30;
    Target targets[TARGET__MAX];
    bool present[TARGET__MAX] = { true, true, true };
    BenchCommand cmds[4], startup;
    unsigned ncmds = 0;
    Sample samples[TARGET__MAX][4];
    g_autofree uint8_t *rsp = g_malloc(BENCH_MAX_MSG);
    g_autoptr(GString) line = g_string_new("");
    g_autoptr(GString) scratch = g_string_new("");
    FILE *out = stdout;
    unsigned r, k, j;
    int i;

    for (i = 1; i < argc; i++) {
        if (i + 1 >= argc) {
            usage();
        }
        if (!strcmp(argv[i], "--ours")) {
            ours = argv[++i];
        } else if (!strcmp(argv[i], "--peer")) {
            peer = argv[++i];
        } else if (!strcmp(argv[i], "--rounds")) {
            rounds = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--batch")) {
            batch = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--out")) {
            outpath = argv[++i];
        } else {
            usage();
        }
    }
    if (!ours || rounds < 1 || batch < 1) {
        usage();
    }
    if (!g_file_test(peer, G_FILE_TEST_IS_EXECUTABLE)) {
        fprintf(stderr, "tpm-crb-bench-qtest: %s not found: the QEMU 7.2 "
                "column is skipped\n", peer);
        present[TARGET_PEER] = false;
    }
    if (outpath) {
        out = fopen(outpath, "a");
        if (!out) {
            fail("%s: %s", outpath, g_strerror(errno));
        }
    }
    signal(SIGPIPE, SIG_IGN);

    /* Commands that fit 3968 bytes: QEMU 7.2 cannot chunk. */
    bench_cmd_get_random(&cmds[ncmds++]);
    bench_cmd_pcr_extend(&cmds[ncmds++]);
    bench_cmd_framed(&cmds[ncmds++], "Framed1K", 1024);
    bench_cmd_startup(&startup);

    for (k = 0; k < TARGET__MAX; k++) {
        if (!present[k]) {
            continue;
        }
        target_start(&targets[k], k, k == TARGET_OURS ? ours : peer);
        for (j = 0; j < ncmds; j++) {
            samples[k][j] = (Sample) {
                .wall_us = g_array_new(FALSE, FALSE, sizeof(double)),
            };
        }
        if (k != TARGET_ECHO) {
            q_writel(&targets[k], BENCH_CRB_BASE + BENCH_CRB_LOC_CTRL, 1);
            crb_command(&targets[k], &startup, rsp, line, scratch);
        }
    }

    /* Warm up every path once, then alternate batches, rotating order. */
    for (r = 0; r <= rounds; r++) {
        for (j = 0; j < ncmds; j++) {
            for (k = 0; k < TARGET__MAX; k++) {
                unsigned tk = (k + r + j) % TARGET__MAX;
                Target *t = &targets[tk];
                Sample *s = &samples[tk][j];

                if (!present[tk]) {
                    continue;
                }
                if (tk == TARGET_ECHO) {
                    /* Announce the response size the TPMs gave (untimed). */
                    char ann[64];
                    uint32_t size = samples[TARGET_OURS][j].rsp_len;
                    int n = snprintf(ann, sizeof(ann),
                                     "bench-rsp-size %u\n",
                                     size ? size : BENCH_HDR_SIZE);

                    transact_line(t, ann, n, NULL);
                    t->lines--;
                }
                run_batch(t, &cmds[j], r ? batch : 5, r > 0, s, rsp, line,
                          scratch);
            }
        }
    }

    {
        g_autofree char *machine = bench_machine_description();

        fprintf(out, "# qtest: %s; %u rounds x %u commands per target\n",
                machine, rounds, batch);
    }
    for (j = 0; j < ncmds; j++) {
        for (k = 0; k < TARGET__MAX; k++) {
            Sample *s = &samples[k][j];

            if (!present[k]) {
                continue;
            }
            fprintf(out, "qtest\t%s\t%s\t%u\t%u\t%.2f\t%.2f\t%.2f\t%.2f\t%u"
                    "\n", target_name[k], cmds[j].name, cmds[j].len,
                    s->rsp_len,
                    bench_median((double *)s->wall_us->data,
                                 s->wall_us->len),
                    s->emu_cpu_us / s->commands, s->tpm_cpu_us / s->commands,
                    (double)s->lines / s->commands, s->commands);
            g_array_free(s->wall_us, TRUE);
        }
    }
    if (out != stdout) {
        fclose(out);
    }

    for (k = 0; k < TARGET__MAX; k++) {
        if (present[k]) {
            target_stop(&targets[k]);
        }
    }
    for (j = 0; j < ncmds; j++) {
        bench_cmd_free(&cmds[j]);
    }
    bench_cmd_free(&startup);
    return 0;
}
