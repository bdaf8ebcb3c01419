/*
 * Start and stop a swtpm plus an emulator with a tpm-crb device and a
 * qtest server socket, the way the bridge and the driver tests need them.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "tpm-launch.h"

#define LAUNCH_READY_TIMEOUT_MS 20000
#define LAUNCH_STOP_TIMEOUT_MS 5000

/* Children must not outlive whoever started them, even after a crash. */
static void launch_child_setup(gpointer opaque)
{
    prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static GPid launch_spawn(char **argv, const char *log_path, Error **errp)
{
    g_autoptr(GError) gerr = NULL;
    GPid pid = 0;
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    bool ok = false;

    if (devnull < 0 || log < 0) {
        error_setg_errno(errp, errno, "cannot open '%s'",
                         log < 0 ? log_path : "/dev/null");
    } else {
        ok = g_spawn_async_with_fds(NULL, argv, NULL,
                                    G_SPAWN_DO_NOT_REAP_CHILD |
                                    G_SPAWN_SEARCH_PATH,
                                    launch_child_setup, NULL, &pid,
                                    devnull, log, log, &gerr);
        if (!ok) {
            error_setg(errp, "cannot start %s: %s", argv[0], gerr->message);
        }
    }
    if (devnull >= 0) {
        close(devnull);
    }
    if (log >= 0) {
        close(log);
    }
    return ok ? pid : 0;
}

/*
 * A pid of 0 means "not started", -1 "exited and reaped". True when the
 * process has exited (now or before).
 */
static bool launch_reap(GPid *pid, int *status)
{
    pid_t r;

    if (*pid < 0) {
        return true;
    }
    if (*pid == 0) {
        return false;
    }
    r = waitpid(*pid, status, WNOHANG);
    if (r == *pid || (r < 0 && errno == ECHILD)) {
        g_spawn_close_pid(*pid);
        *pid = -1;
        return true;
    }
    return false;
}

static char *launch_describe_exit(const char *what, int status)
{
    if (WIFEXITED(status)) {
        return g_strdup_printf("%s exited with status %d", what,
                               WEXITSTATUS(status));
    }
    if (WIFSIGNALED(status)) {
        return g_strdup_printf("%s was killed by signal %d", what,
                               WTERMSIG(status));
    }
    return g_strdup_printf("%s is gone", what);
}

char *tpm_launch_log_tail(const char *path)
{
    g_autofree char *text = NULL;
    gsize len;
    const char *p;
    int lines = 0;

    if (!g_file_get_contents(path, &text, &len, NULL) || len == 0) {
        return g_strdup("(no log output)");
    }
    while (len > 0 && text[len - 1] == '\n') {
        text[--len] = '\0';
    }
    for (p = text + len; p > text; p--) {
        if (p[-1] == '\n' && ++lines == 5) {
            break;
        }
    }
    return g_strdup(p);
}

bool tpm_launch_alive(TpmLaunch *l, char **why)
{
    int status = 0;

    /* A process that exited before is reported once, with its status. */
    if (launch_reap(&l->emu_pid, &status)) {
        g_autofree char *d = launch_describe_exit("the emulator", status);
        g_autofree char *tail = tpm_launch_log_tail(l->emu_log);

        *why = g_strdup_printf("%s; its log (%s) ends with:\n%s", d,
                               l->emu_log, tail);
        return false;
    }
    if (launch_reap(&l->swtpm_pid, &status)) {
        g_autofree char *d = launch_describe_exit("swtpm", status);
        g_autofree char *tail = tpm_launch_log_tail(l->swtpm_log);

        *why = g_strdup_printf("%s; its log (%s) ends with:\n%s", d,
                               l->swtpm_log, tail);
        return false;
    }
    return true;
}

/* Debian's QEMU 7.2 has no qtest accelerator: it then runs tcg, stopped. */
static const char *launch_pick_accel(const char *emulator)
{
    const char *argv[] = { emulator, "-accel", "help", NULL };
    g_autofree char *out = NULL;
    g_auto(GStrv) lines = NULL;
    bool tcg = false;
    int i;

    if (!g_spawn_sync(NULL, (char **)argv, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &out, NULL, NULL, NULL)) {
        return "qtest";
    }
    lines = g_strsplit(out, "\n", -1);
    for (i = 0; lines[i]; i++) {
        g_strstrip(lines[i]);
        if (strcmp(lines[i], "qtest") == 0) {
            return "qtest";
        }
        tcg |= strcmp(lines[i], "tcg") == 0;
    }
    return tcg ? "tcg" : "qtest";
}

/*
 * Whether the emulator's tpm-crb has chunked transfers (cap-chunk, off
 * by default): stock QEMU and its older versions do not.
 */
static bool launch_has_cap_chunk(const char *emulator)
{
    const char *argv[] = { emulator, "-device", "tpm-crb,help", NULL };
    g_autofree char *out = NULL;

    if (!g_spawn_sync(NULL, (char **)argv, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &out, NULL, NULL, NULL)) {
        return false;
    }
    return strstr(out, "cap-chunk") != NULL;
}

static bool launch_wait_path(TpmLaunch *l, const char *path,
                             const char *what, Error **errp)
{
    int64_t deadline = g_get_monotonic_time() +
                       LAUNCH_READY_TIMEOUT_MS * 1000LL;

    while (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_autofree char *why = NULL;

        if (!tpm_launch_alive(l, &why)) {
            error_setg(errp, "%s did not start: %s", what, why);
            return false;
        }
        if (g_get_monotonic_time() > deadline) {
            error_setg(errp, "%s did not create '%s' within %d ms", what,
                       path, LAUNCH_READY_TIMEOUT_MS);
            return false;
        }
        g_usleep(10 * 1000);
    }
    return true;
}

static void launch_kill(GPid *pid)
{
    int64_t deadline = g_get_monotonic_time() +
                       LAUNCH_STOP_TIMEOUT_MS * 1000LL;
    int status;

    if (*pid <= 0) {
        return;
    }
    kill(*pid, SIGTERM);
    while (!launch_reap(pid, &status)) {
        if (g_get_monotonic_time() > deadline) {
            kill(*pid, SIGKILL);
            waitpid(*pid, &status, 0);
            g_spawn_close_pid(*pid);
            *pid = -1;
            return;
        }
        g_usleep(10 * 1000);
    }
}

void tpm_launch_stop(TpmLaunch *l)
{
    if (!l) {
        return;
    }
    /* The emulator first: it may still talk to swtpm while it exits. */
    launch_kill(&l->emu_pid);
    launch_kill(&l->swtpm_pid);
    unlink(l->qtest_path);
    unlink(l->ctrl_path);
    g_free(l->run_dir);
    g_free(l->ctrl_path);
    g_free(l->qtest_path);
    g_free(l->emu_log);
    g_free(l->swtpm_log);
    g_free(l);
}

static char **launch_swtpm_argv(const TpmLaunchConfig *cfg, TpmLaunch *l)
{
    GPtrArray *a = g_ptr_array_new();

    g_ptr_array_add(a, g_strdup(cfg->swtpm ? cfg->swtpm : "swtpm"));
    g_ptr_array_add(a, g_strdup("socket"));
    g_ptr_array_add(a, g_strdup("--tpm2"));
    g_ptr_array_add(a, g_strdup("--tpmstate"));
    g_ptr_array_add(a, g_strdup_printf("dir=%s", cfg->state_dir));
    g_ptr_array_add(a, g_strdup("--ctrl"));
    g_ptr_array_add(a, g_strdup_printf("type=unixio,path=%s", l->ctrl_path));
    /* The emulator's INIT then brings the TPM up with TPM2_Startup(CLEAR). */
    g_ptr_array_add(a, g_strdup("--flags"));
    g_ptr_array_add(a, g_strdup("startup-clear"));
    /* Leave with the emulator, whatever way it goes. */
    g_ptr_array_add(a, g_strdup("--terminate"));
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

static char **launch_emu_argv(const TpmLaunchConfig *cfg, TpmLaunch *l)
{
    GPtrArray *a = g_ptr_array_new();
    const char *accel = cfg->accel ? cfg->accel
                                   : launch_pick_accel(cfg->emulator);
    GString *dev = g_string_new("tpm-crb,tpmdev=tpm0");
    int i;

    g_ptr_array_add(a, g_strdup(cfg->emulator));
    g_ptr_array_add(a, g_strdup("-M"));
    g_ptr_array_add(a, g_strdup("q35"));
    g_ptr_array_add(a, g_strdup("-accel"));
    g_ptr_array_add(a, g_strdup(accel));
    if (strcmp(accel, "qtest") != 0) {
        /* A real CPU must not run firmware that would use the TPM first. */
        g_ptr_array_add(a, g_strdup("-S"));
        g_ptr_array_add(a, g_strdup("-nodefaults"));
    }
    g_ptr_array_add(a, g_strdup("-display"));
    g_ptr_array_add(a, g_strdup("none"));
    g_ptr_array_add(a, g_strdup("-qtest"));
    g_ptr_array_add(a, g_strdup_printf("unix:%s,server=on,wait=off",
                                       l->qtest_path));
    g_ptr_array_add(a, g_strdup("-qtest-log"));
    g_ptr_array_add(a, g_strdup("/dev/null"));
    g_ptr_array_add(a, g_strdup("-chardev"));
    g_ptr_array_add(a, g_strdup_printf("socket,id=chrtpm,path=%s",
                                       l->ctrl_path));
    g_ptr_array_add(a, g_strdup("-tpmdev"));
    g_ptr_array_add(a, g_strdup("emulator,id=tpm0,chardev=chrtpm"));
    if (cfg->window) {
        g_string_append_printf(dev, ",x-data-buffer-size=%u", cfg->window);
    }
    /* Chunking is opt-in: on wherever the device has it, unless no_chunk */
    if (launch_has_cap_chunk(cfg->emulator)) {
        g_string_append(dev, cfg->no_chunk ? ",cap-chunk=off"
                                           : ",cap-chunk=on");
    }
    g_ptr_array_add(a, g_strdup("-device"));
    g_ptr_array_add(a, g_string_free(dev, FALSE));
    for (i = 0; cfg->extra_args && cfg->extra_args[i]; i++) {
        g_ptr_array_add(a, g_strdup(cfg->extra_args[i]));
    }
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

TpmLaunch *tpm_launch_start(const TpmLaunchConfig *cfg, Error **errp)
{
    g_auto(GStrv) swtpm_argv = NULL;
    g_auto(GStrv) emu_argv = NULL;
    TpmLaunch *l;

    if (g_mkdir_with_parents(cfg->run_dir, 0700) < 0 ||
        g_mkdir_with_parents(cfg->state_dir, 0700) < 0) {
        error_setg_errno(errp, errno, "cannot create '%s' or '%s'",
                         cfg->run_dir, cfg->state_dir);
        return NULL;
    }
    l = g_new0(TpmLaunch, 1);
    l->run_dir = g_strdup(cfg->run_dir);
    l->ctrl_path = g_build_filename(cfg->run_dir, "swtpm.ctrl", NULL);
    l->qtest_path = g_build_filename(cfg->run_dir, "qtest.sock", NULL);
    l->emu_log = g_build_filename(cfg->run_dir, "emulator.log", NULL);
    l->swtpm_log = g_build_filename(cfg->run_dir, "swtpm.log", NULL);
    unlink(l->ctrl_path);
    unlink(l->qtest_path);

    swtpm_argv = launch_swtpm_argv(cfg, l);
    l->swtpm_pid = launch_spawn(swtpm_argv, l->swtpm_log, errp);
    if (!l->swtpm_pid ||
        !launch_wait_path(l, l->ctrl_path, "swtpm", errp)) {
        tpm_launch_stop(l);
        return NULL;
    }
    emu_argv = launch_emu_argv(cfg, l);
    l->emu_pid = launch_spawn(emu_argv, l->emu_log, errp);
    if (!l->emu_pid ||
        !launch_wait_path(l, l->qtest_path, "the emulator", errp)) {
        tpm_launch_stop(l);
        return NULL;
    }
    return l;
}
