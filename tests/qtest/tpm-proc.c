/*
 * A minimal harness for the TPM backend qtests that must see what
 * libqtest hides: the emulator's exit status and stderr, a plain qtest
 * socket, and a peer QEMU started with its own command line.
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

#include "qapi/error.h"
#include "qemu/units.h"
#include "tpm-proc.h"

/* Generous: the emulator may run under sanitizers or valgrind. */
#define TPM_PROC_REPLY_TIMEOUT_MS 60000
#define TPM_PROC_CONNECT_TIMEOUT_MS 30000
/* A qtest or QMP line longer than this is a protocol error. */
#define TPM_PROC_MAX_LINE (1 * MiB)

TPMProc *tpm_proc_spawn(const char *binary, const char *const *args,
                        bool with_sockets)
{
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    TPMProc *p = g_new0(TPMProc, 1);
    bool has_accel = false;
    size_t i;

    p->dir = g_dir_make_tmp("tpm-proc-XXXXXX", &err);
    g_assert_no_error(err);
    p->qtest_path = g_build_filename(p->dir, "qtest", NULL);
    p->qmp_path = g_build_filename(p->dir, "qmp", NULL);
    p->stderr_path = g_build_filename(p->dir, "stderr", NULL);
    p->qtest_fd = -1;
    p->qmp_fd = -1;
    p->qtest_in = g_string_new("");
    p->qmp_in = g_string_new("");

    g_ptr_array_add(argv, g_strdup(binary));
    for (i = 0; args[i]; i++) {
        has_accel |= !strcmp(args[i], "-accel");
        g_ptr_array_add(argv, g_strdup(args[i]));
    }
    if (with_sockets) {
        /*
         * As libqtest does, unless the caller chose (the 7.2 peer has no qtest
         * accelerator: -accel tcg -S): no guest CPU runs, so no firmware
         * talks to the TPM behind the test's back (SeaBIOS would send its
         * own TPM2_Startup and PCR extends under TCG).
         */
        if (!has_accel) {
            g_ptr_array_add(argv, g_strdup("-accel"));
            g_ptr_array_add(argv, g_strdup("qtest"));
        }
        g_ptr_array_add(argv, g_strdup("-qtest"));
        g_ptr_array_add(argv, g_strdup_printf("unix:%s,server=on,wait=off",
                                              p->qtest_path));
        g_ptr_array_add(argv, g_strdup("-qmp"));
        g_ptr_array_add(argv, g_strdup_printf("unix:%s,server=on,wait=off",
                                              p->qmp_path));
    }
    g_ptr_array_add(argv, NULL);

    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
    g_subprocess_launcher_set_stdout_file_path(launcher, p->stderr_path);
    p->proc = g_subprocess_launcher_spawnv(launcher,
                                           (const char *const *)argv->pdata,
                                           &err);
    g_assert_no_error(err);
    return p;
}

int tpm_proc_connect_unix(const char *path, int timeout_ms)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    gint64 deadline = g_get_monotonic_time() + timeout_ms * (gint64)1000;

    g_assert_cmpuint(strlen(path), <, sizeof(un.sun_path));
    strcpy(un.sun_path, path);
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        g_assert_cmpint(fd, >=, 0);
        if (connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0) {
            return fd;
        }
        close(fd);
        if (g_get_monotonic_time() > deadline) {
            return -1;
        }
        g_usleep(10 * 1000);
    }
}

/* Read one '\n'-terminated line (without it) from fd, bounded in time. */
static char *tpm_proc_read_line(int fd, GString *inbuf)
{
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        char *nl = memchr(inbuf->str, '\n', inbuf->len);
        char chunk[4096];
        ssize_t n;

        if (nl) {
            char *line = g_strndup(inbuf->str, nl - inbuf->str);

            g_string_erase(inbuf, 0, nl - inbuf->str + 1);
            return line;
        }
        g_assert_cmpuint(inbuf->len, <, TPM_PROC_MAX_LINE);
        n = RETRY_ON_EINTR(poll(&pfd, 1, TPM_PROC_REPLY_TIMEOUT_MS));
        if (n == 0) {
            g_error("no reply within %d ms", TPM_PROC_REPLY_TIMEOUT_MS);
        }
        n = RETRY_ON_EINTR(read(fd, chunk, sizeof(chunk)));
        if (n <= 0) {
            return NULL;
        }
        g_string_append_len(inbuf, chunk, n);
    }
}

static void tpm_proc_write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = RETRY_ON_EINTR(send(fd, buf, len, MSG_NOSIGNAL));

        g_assert_cmpint(n, >, 0);
        buf += n;
        len -= n;
    }
}

void tpm_proc_connect(TPMProc *p, bool with_qmp)
{
    p->qtest_fd = tpm_proc_connect_unix(p->qtest_path,
                                        TPM_PROC_CONNECT_TIMEOUT_MS);
    g_assert_cmpint(p->qtest_fd, >=, 0);
    if (with_qmp) {
        g_autofree char *greeting = NULL;
        QDict *rsp;

        p->qmp_fd = tpm_proc_connect_unix(p->qmp_path,
                                          TPM_PROC_CONNECT_TIMEOUT_MS);
        g_assert_cmpint(p->qmp_fd, >=, 0);
        greeting = tpm_proc_read_line(p->qmp_fd, p->qmp_in);
        g_assert_nonnull(greeting);
        g_assert_nonnull(strstr(greeting, "\"QMP\""));
        rsp = tpm_proc_qmp(p, "{'execute': 'qmp_capabilities'}");
        g_assert_true(qdict_haskey(rsp, "return"));
        qobject_unref(rsp);
    }
}

char *tpm_qtest_cmd(int fd, GString *inbuf, const char *fmt, ...)
{
    g_autofree char *cmd = NULL;
    va_list ap;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    tpm_proc_write_all(fd, cmd, strlen(cmd));
    for (;;) {
        char *line = tpm_proc_read_line(fd, inbuf);

        g_assert_nonnull(line);
        /* Interrupt notifications may interleave with replies. */
        if (g_str_has_prefix(line, "IRQ ")) {
            g_free(line);
            continue;
        }
        if (!g_str_has_prefix(line, "OK")) {
            g_error("qtest command '%s' failed: %s", g_strchomp(cmd), line);
        }
        return line;
    }
}

uint32_t tpm_qtest_readl(int fd, GString *inbuf, uint64_t addr)
{
    g_autofree char *line = tpm_qtest_cmd(fd, inbuf, "readl 0x%" PRIx64 "\n",
                                          addr);
    uint64_t v = g_ascii_strtoull(line + 3, NULL, 0);

    return v;
}

void tpm_qtest_writel(int fd, GString *inbuf, uint64_t addr, uint32_t val)
{
    g_free(tpm_qtest_cmd(fd, inbuf, "writel 0x%" PRIx64 " 0x%x\n",
                         addr, val));
}

void tpm_qtest_writeb(int fd, GString *inbuf, uint64_t addr, uint8_t val)
{
    g_free(tpm_qtest_cmd(fd, inbuf, "writeb 0x%" PRIx64 " 0x%x\n",
                         addr, val));
}

void tpm_qtest_memwrite(int fd, GString *inbuf, uint64_t addr,
                        const void *data, size_t size)
{
    const uint8_t *d = data;
    GString *hex = g_string_sized_new(size * 2 + 64);
    size_t i;

    g_string_printf(hex, "write 0x%" PRIx64 " 0x%zx 0x", addr, size);
    for (i = 0; i < size; i++) {
        g_string_append_printf(hex, "%02x", d[i]);
    }
    g_string_append_c(hex, '\n');
    g_free(tpm_qtest_cmd(fd, inbuf, "%s", hex->str));
    g_string_free(hex, TRUE);
}

void tpm_qtest_memread(int fd, GString *inbuf, uint64_t addr,
                       void *data, size_t size)
{
    g_autofree char *line = tpm_qtest_cmd(fd, inbuf,
                                          "read 0x%" PRIx64 " 0x%zx\n",
                                          addr, size);
    const char *hex = line + 3;
    uint8_t *d = data;
    size_t i;

    g_assert_true(g_str_has_prefix(hex, "0x"));
    hex += 2;
    g_assert_cmpuint(strlen(hex), ==, size * 2);
    for (i = 0; i < size; i++) {
        d[i] = g_ascii_xdigit_value(hex[2 * i]) << 4 |
               g_ascii_xdigit_value(hex[2 * i + 1]);
    }
}

uint32_t tpm_proc_readl(TPMProc *p, uint64_t addr)
{
    return tpm_qtest_readl(p->qtest_fd, p->qtest_in, addr);
}

void tpm_proc_writel(TPMProc *p, uint64_t addr, uint32_t val)
{
    tpm_qtest_writel(p->qtest_fd, p->qtest_in, addr, val);
}

QDict *tpm_proc_qmp(TPMProc *p, const char *json)
{
    g_autofree char *cmd = g_strdup_printf("%s\n", json);

    g_assert_cmpint(p->qmp_fd, >=, 0);
    /* QMP accepts single-quoted strings; keep the tests readable. */
    g_strdelimit(cmd, "'", '"');
    tpm_proc_write_all(p->qmp_fd, cmd, strlen(cmd));
    for (;;) {
        g_autofree char *line = tpm_proc_read_line(p->qmp_fd, p->qmp_in);
        QDict *obj;

        g_assert_nonnull(line);
        obj = qobject_to(QDict, qobject_from_json(line, &error_abort));
        g_assert_nonnull(obj);
        if (qdict_haskey(obj, "event")) {
            qobject_unref(obj);
            continue;
        }
        return obj;
    }
}

char *tpm_proc_wait_migration(TPMProc *p, int timeout_ms, char **desc)
{
    gint64 deadline = g_get_monotonic_time() + timeout_ms * (gint64)1000;

    for (;;) {
        QDict *rsp = tpm_proc_qmp(p, "{'execute': 'query-migrate'}");
        QDict *ret = qdict_get_qdict(rsp, "return");
        const char *status = qdict_haskey(ret, "status") ?
            qdict_get_str(ret, "status") : "";

        if (!strcmp(status, "completed") || !strcmp(status, "failed") ||
            !strcmp(status, "cancelled")) {
            char *result = g_strdup(status);

            if (desc) {
                *desc = qdict_haskey(ret, "error-desc") ?
                    g_strdup(qdict_get_str(ret, "error-desc")) : NULL;
            }
            qobject_unref(rsp);
            return result;
        }
        qobject_unref(rsp);
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(5 * 1000);
    }
}

static void tpm_proc_wait_cb(GObject *source, GAsyncResult *res,
                             gpointer opaque)
{
    bool *done = opaque;

    g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
    *done = true;
}

bool tpm_proc_wait(TPMProc *p, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + timeout_ms * (gint64)1000;
    bool done = false;

    if (p->exited) {
        return true;
    }
    g_subprocess_wait_async(p->proc, NULL, tpm_proc_wait_cb, &done);
    while (!done && g_get_monotonic_time() < deadline) {
        if (!g_main_context_iteration(NULL, FALSE)) {
            g_usleep(5 * 1000);
        }
    }
    if (!done) {
        return false;
    }
    p->exited = true;
    p->exit_status = g_subprocess_get_if_exited(p->proc) ?
                     g_subprocess_get_exit_status(p->proc) :
                     128 + g_subprocess_get_term_sig(p->proc);
    return true;
}

char *tpm_proc_stderr(TPMProc *p)
{
    char *contents = NULL;

    if (!g_file_get_contents(p->stderr_path, &contents, NULL, NULL)) {
        return g_strdup("");
    }
    return contents;
}

int tpm_proc_quit(TPMProc *p)
{
    QDict *rsp = tpm_proc_qmp(p, "{'execute': 'quit'}");

    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    if (!tpm_proc_wait(p, TPM_PROC_REPLY_TIMEOUT_MS)) {
        return -1;
    }
    return p->exit_status;
}

void tpm_proc_free(TPMProc *p)
{
    const char *name;
    GDir *dir;

    if (!p) {
        return;
    }
    if (!p->exited) {
        g_subprocess_force_exit(p->proc);
        tpm_proc_wait(p, TPM_PROC_REPLY_TIMEOUT_MS);
    }
    if (p->qtest_fd >= 0) {
        close(p->qtest_fd);
    }
    if (p->qmp_fd >= 0) {
        close(p->qmp_fd);
    }
    dir = g_dir_open(p->dir, 0, NULL);
    if (dir) {
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *file = g_build_filename(p->dir, name, NULL);

            g_unlink(file);
        }
        g_dir_close(dir);
    }
    g_rmdir(p->dir);
    g_object_unref(p->proc);
    g_string_free(p->qtest_in, TRUE);
    g_string_free(p->qmp_in, TRUE);
    g_free(p->dir);
    g_free(p->qtest_path);
    g_free(p->qmp_path);
    g_free(p->stderr_path);
    g_free(p);
}
