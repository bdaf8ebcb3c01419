/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * tpm-crb-bridge: connects TCTI-based TPM software (tpm2-tools, tss2
 * ESAPI/FAPI) to the tpm-crb device through the reference CRB driver.
 *
 * It speaks the protocol of tss2's "cmd" TCTI: raw TPM commands arrive on
 * stdin, raw responses leave on stdout, one after the other, until stdin
 * closes. Each command goes through the device's CRB interface over qtest,
 * in chunks when the device window is smaller than the command or the
 * response.
 *
 *   tpm2_getrandom -T "cmd:tpm-crb-bridge --window 64" 16
 */

#include "qemu/osdep.h"
#include <signal.h>
#include "qemu/bswap.h"
#include "qemu/error-report.h"
#include "tpm-crb-driver.h"
#include "qtest-accessor.h"
#include "devmem-accessor.h"
#include "tpm-launch.h"
#include "bridge-session.h"
#include "tpm2-cc-names.h"

/* Larger than any TPM's command buffer; bounds what stdin can make us hold */
#define BRIDGE_MAX_COMMAND (64 * 1024)

#define BRIDGE_QTEST_CONNECT_MS 10000
#define BRIDGE_QTEST_REPLY_MS 30000

/* TPM_RC_FAILURE, answered when the driver could not run a command. */
#define TPM_RC_FAILURE 0x101
/* TPM2_Startup's answer when the TPM is already started. */
#define TPM_RC_INITIALIZE 0x100
#define TPM2_CC_STARTUP 0x144
#define TPM2_SU_CLEAR 0x0000

typedef struct BridgeOptions {
    char *qtest_path;
    char *devmem_path;
    char *session_dir;
    char *emulator;
    bool emulator_explicit;
    char *swtpm;
    char *accel;
    int window;
    gboolean no_chunk;
    gboolean oneshot;
    gboolean start;
    gboolean stop;
    gboolean status;
    char *stats_path;
    char *report_path;
    gboolean expect_multichunk;
    gboolean keep_transients;
    int idle_timeout;
    int timeout_ms;
} BridgeOptions;

static volatile sig_atomic_t bridge_terminate;

static void bridge_on_signal(int sig)
{
    bridge_terminate = 1;
}

/* Read exactly len bytes; 0 at a clean EOF before the first byte. */
static ssize_t bridge_read_full(int fd, uint8_t *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t n = read(fd, buf + off, len - off);

        if (n < 0 && errno == EINTR && !bridge_terminate) {
            continue;
        }
        if (n < 0) {
            return -1;
        }
        if (n == 0) {
            break;
        }
        off += n;
    }
    return off;
}

static bool bridge_write_full(int fd, const uint8_t *buf, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t n = write(fd, buf + off, len - off);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        off += n;
    }
    return true;
}

/*
 * One line per command, tab-separated, appended with a single write so
 * that bridges running one after the other share one file:
 * cc name bytes_in bytes_out chunks_in chunks_out retries result time_us
 * window origin
 * where origin is "tool" for what the TPM software sent and "bridge" for
 * the bridge's own clean-up commands.
 */
static void bridge_log_stats(const char *path, const TpmCrbXferStats *st,
                             bool ok, uint32_t window, const char *origin)
{
    const char *name = tpm2_cc_name(st->cc);
    g_autofree char *result = ok ? g_strdup_printf("0x%" PRIx32, st->rc)
                                 : g_strdup("error");
    g_autofree char *line = NULL;
    int fd;

    if (!path) {
        return;
    }
    line = g_strdup_printf("0x%08" PRIx32 "\t%s\t%zu\t%zu\t%u\t%u\t%u\t%s\t%"
                           PRId64 "\t%" PRIu32 "\t%s\n", st->cc,
                           name ? name : "unknown", st->bytes_in,
                           st->bytes_out, st->chunks_in, st->chunks_out,
                           st->retries, result, st->time_us, window,
                           origin);
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0 || !bridge_write_full(fd, (uint8_t *)line, strlen(line))) {
        warn_report("cannot append statistics to '%s': %s", path,
                    g_strerror(errno));
    }
    if (fd >= 0) {
        close(fd);
    }
}

/*
 * The cmd TCTI loop. A command the driver cannot run is answered with
 * TPM_RC_FAILURE so that the TPM software reports a TPM error rather than
 * a broken pipe; the driver's reason goes to stderr, which the TCTI
 * leaves connected to the user's terminal.
 */
static bool bridge_serve(TpmCrbDriver *drv, const char *stats_path)
{
    g_autofree uint8_t *cmd = g_malloc(BRIDGE_MAX_COMMAND);
    g_autofree uint8_t *rsp = g_malloc(TPM_CRB_MAX_RESPONSE);
    bool all_ok = true;

    while (!bridge_terminate) {
        TpmCrbXferStats st;
        Error *err = NULL;
        size_t rsp_len = 0;
        uint32_t size;
        ssize_t n;
        bool ok;

        n = bridge_read_full(STDIN_FILENO, cmd, TPM_CRB_HDR_SIZE);
        if (n == 0 || bridge_terminate) {
            break;
        }
        if (n != TPM_CRB_HDR_SIZE) {
            error_report("truncated command header on stdin (%zd of %d "
                         "bytes)", n, TPM_CRB_HDR_SIZE);
            return false;
        }
        size = ldl_be_p(cmd + 2);
        if (size < TPM_CRB_HDR_SIZE || size > BRIDGE_MAX_COMMAND) {
            error_report("command header on stdin declares %" PRIu32
                         " bytes (accepted: %d..%d)", size,
                         TPM_CRB_HDR_SIZE, BRIDGE_MAX_COMMAND);
            return false;
        }
        n = bridge_read_full(STDIN_FILENO, cmd + TPM_CRB_HDR_SIZE,
                             size - TPM_CRB_HDR_SIZE);
        if (n != (ssize_t)(size - TPM_CRB_HDR_SIZE)) {
            error_report("truncated command on stdin (%zd of %" PRIu32
                         " bytes)", n < 0 ? n : n + TPM_CRB_HDR_SIZE, size);
            return false;
        }

        ok = tpm_crb_driver_transmit(drv, cmd, size, rsp,
                                     TPM_CRB_MAX_RESPONSE, &rsp_len, &st,
                                     &err);
        bridge_log_stats(stats_path, &st, ok,
                         tpm_crb_driver_cmd_window(drv), "tool");
        if (!ok) {
            error_report_err(err);
            all_ok = false;
            stw_be_p(rsp, 0x8001);
            stl_be_p(rsp + 2, TPM_CRB_HDR_SIZE);
            stl_be_p(rsp + 6, TPM_RC_FAILURE);
            rsp_len = TPM_CRB_HDR_SIZE;
        }
        if (!bridge_write_full(STDOUT_FILENO, rsp, rsp_len)) {
            error_report("cannot write the response to stdout: %s",
                         g_strerror(errno));
            return false;
        }
    }
    return all_ok;
}

/*
 * Firmware sends TPM2_Startup before any OS driver runs; with no firmware
 * in front of the device, the bridge does it. A TPM that is already up
 * answers TPM_RC_INITIALIZE and keeps its state.
 */
static bool bridge_startup(TpmCrbDriver *drv, const char *stats_path,
                           Error **errp)
{
    uint8_t cmd[12], rsp[TPM_CRB_HDR_SIZE + 64];
    TpmCrbXferStats st;
    size_t rsp_len;
    uint32_t rc;
    bool ok;

    stw_be_p(cmd, 0x8001);
    stl_be_p(cmd + 2, sizeof(cmd));
    stl_be_p(cmd + 6, TPM2_CC_STARTUP);
    stw_be_p(cmd + 10, TPM2_SU_CLEAR);
    ok = tpm_crb_driver_transmit(drv, cmd, sizeof(cmd), rsp, sizeof(rsp),
                                 &rsp_len, &st, errp);
    bridge_log_stats(stats_path, &st, ok, tpm_crb_driver_cmd_window(drv),
                     "bridge");
    if (!ok) {
        error_prepend(errp, "TPM2_Startup: ");
        return false;
    }
    rc = ldl_be_p(rsp + 6);
    if (rc != 0 && rc != TPM_RC_INITIALIZE) {
        error_setg(errp, "TPM2_Startup(CLEAR) failed with TPM rc 0x%03"
                   PRIx32, rc);
        return false;
    }
    return true;
}

#define TPM2_CC_GET_CAPABILITY 0x17A
#define TPM2_CC_FLUSH_CONTEXT 0x165
#define TPM2_CAP_HANDLES 0x1
#define TPM2_TRANSIENT_FIRST 0x80000000u
#define BRIDGE_MAX_FLUSH 64

/*
 * What a resource manager (/dev/tpmrm0, tpm2-abrmd) does when a client
 * goes: flush the transient objects it left loaded. tpm2-tools keeps its
 * keys in context files and loads them again when needed, so without
 * this a session of tools fills the TPM's few object slots
 * (TPM_RC_OBJECT_MEMORY). Commands are logged like the client's.
 */
static bool bridge_flush_transients(TpmCrbDriver *drv, const char *stats_path,
                                    Error **errp)
{
    uint8_t cmd[22], rsp[TPM_CRB_HDR_SIZE + 9 + 4 * BRIDGE_MAX_FLUSH];
    uint32_t handles[BRIDGE_MAX_FLUSH];
    TpmCrbXferStats st;
    size_t rsp_len;
    uint32_t count, i;
    bool ok;

    stw_be_p(cmd, 0x8001);
    stl_be_p(cmd + 2, 22);
    stl_be_p(cmd + 6, TPM2_CC_GET_CAPABILITY);
    stl_be_p(cmd + 10, TPM2_CAP_HANDLES);
    stl_be_p(cmd + 14, TPM2_TRANSIENT_FIRST);
    stl_be_p(cmd + 18, BRIDGE_MAX_FLUSH);
    ok = tpm_crb_driver_transmit(drv, cmd, 22, rsp, sizeof(rsp), &rsp_len,
                                 &st, errp);
    bridge_log_stats(stats_path, &st, ok, tpm_crb_driver_cmd_window(drv),
                     "bridge");
    if (!ok) {
        return false;
    }
    if (ldl_be_p(rsp + 6) != 0) {
        return true;
    }
    if (rsp_len < TPM_CRB_HDR_SIZE + 9 ||
        (count = ldl_be_p(rsp + TPM_CRB_HDR_SIZE + 5)) > BRIDGE_MAX_FLUSH ||
        rsp_len < TPM_CRB_HDR_SIZE + 9 + 4 * (size_t)count) {
        error_setg(errp, "malformed TPM2_GetCapability(handles) response "
                   "of %zu bytes", rsp_len);
        return false;
    }
    for (i = 0; i < count; i++) {
        handles[i] = ldl_be_p(rsp + TPM_CRB_HDR_SIZE + 9 + 4 * i);
    }
    for (i = 0; i < count; i++) {
        stl_be_p(cmd + 2, 14);
        stl_be_p(cmd + 6, TPM2_CC_FLUSH_CONTEXT);
        stl_be_p(cmd + 10, handles[i]);
        ok = tpm_crb_driver_transmit(drv, cmd, 14, rsp, sizeof(rsp),
                                     &rsp_len, &st, errp);
        bridge_log_stats(stats_path, &st, ok,
                         tpm_crb_driver_cmd_window(drv), "bridge");
        if (!ok) {
            return false;
        }
    }
    return true;
}

typedef struct ReportRow {
    char *name;
    uint64_t in, out, cin, cout, retries, time_us;
    char *result;
    bool by_bridge;
} ReportRow;

static void report_row_clear(ReportRow *r)
{
    g_free(r->name);
    g_free(r->result);
}

/* Lines of 10 fields come from bridges that did not log the origin. */
static bool report_parse(const char *line, ReportRow *r)
{
    g_auto(GStrv) f = g_strsplit(line, "\t", -1);
    uint64_t *nums[] = { &r->in, &r->out, &r->cin, &r->cout, &r->retries };
    guint n = g_strv_length(f);
    int i;

    if (n != 10 && n != 11) {
        return false;
    }
    for (i = 0; i < 5; i++) {
        if (!g_ascii_string_to_unsigned(f[2 + i], 10, 0, G_MAXUINT32,
                                        nums[i], NULL)) {
            return false;
        }
    }
    if (!g_ascii_string_to_unsigned(f[8], 10, 0, G_MAXINT64, &r->time_us,
                                    NULL)) {
        return false;
    }
    r->by_bridge = n == 11 && strcmp(f[10], "bridge") == 0;
    r->name = r->by_bridge ? g_strdup_printf("[%.24s]", f[1])
                           : g_strndup(f[1], 26);
    r->result = g_strndup(f[7], 16);
    return true;
}

/* "success", the TPM's response code by name, or "DRIVER ERROR". */
static char *report_result(const char *raw)
{
    guint64 rc;

    if (strcmp(raw, "error") == 0) {
        return g_strdup("DRIVER ERROR");
    }
    if (!g_ascii_string_to_unsigned(raw + (g_str_has_prefix(raw, "0x") ? 2
                                           : 0), 16, 0, G_MAXUINT32, &rc,
                                    NULL)) {
        return g_strdup("?");
    }
    return rc ? tpm2_rc_describe(rc) : g_strdup("success");
}

/* Print the statistics file as a table; see --expect-multichunk. */
static int bridge_report(const char *path, bool expect_multichunk)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) gerr = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GHashTable) tpm_errors =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GString) err_list = g_string_new("");
    unsigned n = 0, by_bridge = 0, multi_in = 0, multi_out = 0, both = 0;
    unsigned tpm_err = 0, drv_err = 0, bad = 0;
    uint64_t total_in = 0, total_out = 0;
    GHashTableIter it;
    gpointer key, value;
    int i;

    if (!g_file_get_contents(path, &text, NULL, &gerr)) {
        error_report("cannot read statistics: %s", gerr->message);
        return 1;
    }
    lines = g_strsplit(text, "\n", -1);
    printf("%4s  %-26s %8s %8s %6s %6s  %-14s %8s  %s\n", "#", "command",
           "bytes", "bytes", "chunks", "chunks", "result", "time",
           "several");
    printf("%4s  %-26s %8s %8s %6s %6s  %-14s %8s  %s\n", "", "", "in",
           "out", "in", "out", "", "ms", "chunks");
    for (i = 0; lines[i]; i++) {
        ReportRow r = { 0 };
        g_autofree char *res = NULL;
        const char *multi;

        if (!*lines[i]) {
            continue;
        }
        if (!report_parse(lines[i], &r)) {
            bad++;
            report_row_clear(&r);
            continue;
        }
        res = report_result(r.result);
        n++;
        by_bridge += r.by_bridge;
        total_in += r.in;
        total_out += r.out;
        multi_in += r.cin > 1;
        multi_out += r.cout > 1;
        both += r.cin > 1 && r.cout > 1;
        multi = r.cin > 1 && r.cout > 1 ? "both ways"
                : r.cin > 1 ? "in" : r.cout > 1 ? "out" : "";
        if (strcmp(r.result, "error") == 0) {
            drv_err++;
        } else if (strcmp(res, "success") != 0) {
            guint count = GPOINTER_TO_UINT(g_hash_table_lookup(tpm_errors,
                                                               res));

            tpm_err++;
            g_hash_table_replace(tpm_errors, g_strdup(res),
                                 GUINT_TO_POINTER(count + 1));
        }
        printf("%4u  %-26s %8" PRIu64 " %8" PRIu64 " %6" PRIu64 " %6" PRIu64
               "  %-14s %8.1f%s%s%s\n", n, r.name, r.in, r.out, r.cin,
               r.cout, res, r.time_us / 1000.0, *multi ? "  " : "", multi,
               r.retries ? "  (crbRspRetry)" : "");
        report_row_clear(&r);
    }
    g_hash_table_iter_init(&it, tpm_errors);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        g_string_append_printf(err_list, "%s%s x%u", err_list->len ? ", "
                               : " (", (char *)key, GPOINTER_TO_UINT(value));
    }
    if (err_list->len) {
        g_string_append_c(err_list, ')');
    }
    printf("%u commands (%u from the TPM software, %u from the bridge), %"
           PRIu64 " bytes in, %" PRIu64 " bytes out\n", n, n - by_bridge,
           by_bridge, total_in, total_out);
    printf("more than one chunk: %u in, %u out, %u both ways; TPM error "
           "responses: %u%s; driver errors: %u\n", multi_in, multi_out, both,
           tpm_err, err_list->str, drv_err);
    if (by_bridge) {
        printf("[...]: the bridge's own commands, flushing transient objects "
               "a tool left loaded (as a resource manager does)\n");
    }
    if (bad) {
        warn_report("%u malformed line(s) in '%s' skipped", bad, path);
    }
    if (expect_multichunk && both == 0) {
        error_report("no command took more than one chunk each way");
        return 3;
    }
    return 0;
}

static int bridge_run(BridgeOptions *o)
{
    g_autofree char *tmp_dir = NULL;
    g_autofree char *session_qtest = NULL;
    g_autoptr(QtestAccessor) qa = NULL;
    g_autoptr(DevmemAccessor) da = NULL;
    g_autoptr(TpmCrbDriver) drv = NULL;
    TpmLaunch *launch = NULL;
    const char *qtest_path = o->qtest_path;
    TpmCrbTimeouts t;
    Error *err = NULL;
    int lock_fd = -1;
    int session_fd = -1;
    int ret = 1;

    if (o->devmem_path) {
        /* In a guest: the device itself, through its mapped page. */
        da = devmem_accessor_open(o->devmem_path, TPM_CRB_LOC0_BASE, &err);
        if (!da) {
            goto out;
        }
        drv = tpm_crb_driver_new(&devmem_accessor_ops, da,
                                 TPM_CRB_LOC0_BASE);
    } else if (o->oneshot) {
        g_autoptr(GError) gerr = NULL;
        g_autofree char *state = NULL;
        TpmLaunchConfig lc = {
            .emulator = o->emulator, .swtpm = o->swtpm, .accel = o->accel,
            .window = o->window, .no_chunk = o->no_chunk,
        };

        tmp_dir = g_dir_make_tmp("tpm-crb-bridge-XXXXXX", &gerr);
        if (!tmp_dir) {
            error_report("%s", gerr->message);
            return 1;
        }
        state = g_build_filename(tmp_dir, "state", NULL);
        lc.state_dir = state;
        lc.run_dir = tmp_dir;
        launch = tpm_launch_start(&lc, &err);
        if (!launch) {
            goto out;
        }
        qtest_path = launch->qtest_path;
    } else if (!qtest_path) {
        BridgeSessionConfig sc = {
            .dir = o->session_dir,
            .emulator = o->emulator,
            .emulator_set = o->emulator_explicit,
            .swtpm = o->swtpm, .accel = o->accel,
            .window = o->window, .window_set = o->window != 0,
            .no_chunk = o->no_chunk,
            .idle_timeout_s = o->idle_timeout,
        };

        if (o->status && !bridge_session_keeper_pid(o->session_dir)) {
            printf("session %s: not running\n", o->session_dir);
            return 3;
        }
        lock_fd = bridge_session_acquire(&sc, o->start ? NULL : &session_fd,
                                         &err);
        if (lock_fd < 0) {
            goto out;
        }
        if (o->start) {
            ret = 0;
            goto out;
        }
    }

    if (da) {
        /* the driver is there already */
    } else if (session_fd >= 0) {
        session_qtest = g_build_filename(o->session_dir, "qtest.sock", NULL);
        qtest_path = session_qtest;
        qa = qtest_accessor_new_fd(session_fd, session_qtest,
                                   BRIDGE_QTEST_REPLY_MS);
        /* An earlier bridge may have died mid-command on this connection. */
        if (!qtest_accessor_sync(qa, &err)) {
            goto out;
        }
    } else {
        qa = qtest_accessor_connect(qtest_path, BRIDGE_QTEST_CONNECT_MS,
                                    BRIDGE_QTEST_REPLY_MS, &err);
        if (!qa) {
            goto out;
        }
    }
    if (qa) {
        drv = tpm_crb_driver_new(&qtest_accessor_ops, qa, TPM_CRB_LOC0_BASE);
    }
    tpm_crb_driver_default_timeouts(&t);
    if (o->timeout_ms > 0) {
        t.command_ms = o->timeout_ms;
    }
    tpm_crb_driver_set_timeouts(drv, &t);
    if (!tpm_crb_driver_probe(drv, &err)) {
        goto out;
    }
    if (o->status) {
        printf("device at %s: INTF_ID 0x%08" PRIx32 ", command window %"
               PRIu32 ", response window %" PRIu32 ", CapCRBChunk %d\n",
               da ? o->devmem_path : qtest_path,
               tpm_crb_driver_intf_id(drv),
               tpm_crb_driver_cmd_window(drv),
               tpm_crb_driver_rsp_window(drv),
               tpm_crb_driver_has_chunking(drv));
        ret = 0;
        goto out;
    }
    if (!tpm_crb_driver_request_locality(drv, &err) ||
        !bridge_startup(drv, o->stats_path, &err)) {
        goto out;
    }
    ret = bridge_serve(drv, o->stats_path) ? 0 : 1;
    if (!o->keep_transients &&
        !bridge_flush_transients(drv, o->stats_path, &err)) {
        error_prepend(&err, "flushing transient objects: ");
    }
    /* Best effort: the next bridge requests the locality again anyway. */
    tpm_crb_driver_relinquish_locality(drv, NULL);

out:
    if (err) {
        error_report_err(err);
        ret = 1;
    }
    if (lock_fd >= 0) {
        bridge_session_release(o->session_dir, lock_fd);
    }
    if (launch) {
        g_clear_pointer(&qa, qtest_accessor_free);
        tpm_launch_stop(launch);
    }
    if (tmp_dir) {
        g_autofree char *state = g_build_filename(tmp_dir, "state", NULL);
        g_autoptr(GDir) d = g_dir_open(state, 0, NULL);
        const char *name;

        while (d && (name = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(state, name, NULL);

            unlink(p);
        }
        rmdir(state);
        g_clear_pointer(&d, g_dir_close);
        d = g_dir_open(tmp_dir, 0, NULL);
        while (d && (name = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(tmp_dir, name, NULL);

            unlink(p);
        }
        rmdir(tmp_dir);
    }
    return ret;
}

static char *bridge_default_emulator(void)
{
    const char *env = g_getenv("TPM_CRB_BRIDGE_EMULATOR");

    if (env && *env) {
        return g_strdup(env);
    }
#ifdef TPM_CRB_BRIDGE_BUILT_EMULATOR
    if (g_file_test(TPM_CRB_BRIDGE_BUILT_EMULATOR, G_FILE_TEST_IS_EXECUTABLE)) {
        return g_strdup(TPM_CRB_BRIDGE_BUILT_EMULATOR);
    }
#endif
    return g_strdup("qemu-system-x86_64");
}

static int bridge_main(BridgeOptions *o, const char *extra_arg)
{
    struct sigaction sa = { .sa_handler = bridge_on_signal };

    if (extra_arg) {
        error_report("unexpected argument '%s'", extra_arg);
        return 2;
    }
    if (o->window < 0 || o->idle_timeout < 0 || o->timeout_ms < 0) {
        error_report("--window, --idle-timeout and --timeout-ms take "
                     "non-negative numbers");
        return 2;
    }
    if (o->report_path) {
        return bridge_report(o->report_path, o->expect_multichunk);
    }
    if (!o->session_dir) {
        o->session_dir = bridge_session_default_dir();
    }
    if (o->stop) {
        Error *err = NULL;
        bool was_running;

        if (!bridge_session_stop(o->session_dir, &was_running, &err)) {
            error_report_err(err);
            return 1;
        }
        printf("session %s: %s\n", o->session_dir,
               was_running ? "stopped" : "was not running");
        return 0;
    }
    if (o->devmem_path && (o->qtest_path || o->oneshot || o->start)) {
        error_report("--devmem drives the device of the machine it runs "
                     "in; it does not go with --qtest, --oneshot or "
                     "--start");
        return 2;
    }
    if (o->qtest_path && (o->oneshot || o->start)) {
        error_report("--qtest attaches to a running emulator; it does not "
                     "go with --oneshot or --start");
        return 2;
    }
    o->emulator_explicit = o->emulator != NULL;
    if (!o->emulator && !o->qtest_path && !o->devmem_path) {
        o->emulator = bridge_default_emulator();
    }

    /*
     * The cmd TCTI sends SIGTERM when the TPM software finalizes it; end
     * the current loop iteration cleanly and give the locality back.
     */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return bridge_run(o);
}

int main(int argc, char **argv)
{
    BridgeOptions o = { .idle_timeout = 600 };
    GOptionEntry entries[] = {
        { "qtest", 'q', 0, G_OPTION_ARG_FILENAME, &o.qtest_path,
          "Use the running emulator whose qtest server socket is PATH "
          "(start nothing)", "PATH" },
        { "devmem", 0, 0, G_OPTION_ARG_FILENAME, &o.devmem_path,
          "In a guest: drive the machine's own CRB device through its "
          "page mapped from PATH (/dev/mem), with no kernel driver bound",
          "PATH" },
        { "session", 's', 0, G_OPTION_ARG_FILENAME, &o.session_dir,
          "Session directory of the background emulator and swtpm "
          "(default $XDG_RUNTIME_DIR/tpm-crb-bridge or "
          "/tmp/tpm-crb-bridge-UID)", "DIR" },
        { "oneshot", 0, 0, G_OPTION_ARG_NONE, &o.oneshot,
          "Start a private emulator and swtpm with a fresh TPM for this "
          "invocation only", NULL },
        { "emulator", 'e', 0, G_OPTION_ARG_FILENAME, &o.emulator,
          "Emulator binary to start", "PATH" },
        { "swtpm", 0, 0, G_OPTION_ARG_FILENAME, &o.swtpm,
          "swtpm binary to start", "PATH" },
        { "accel", 0, 0, G_OPTION_ARG_STRING, &o.accel,
          "Accelerator for a started emulator (default: qtest if offered, "
          "else tcg stopped with -S)", "NAME" },
        { "window", 'w', 0, G_OPTION_ARG_INT, &o.window,
          "Start the device with x-data-buffer-size=N", "N" },
        { "no-chunk", 0, 0, G_OPTION_ARG_NONE, &o.no_chunk,
          "Start the device with cap-chunk=off", NULL },
        { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &o.idle_timeout,
          "Stop a started background pair after SEC seconds unused "
          "(default 600, 0: until --stop)", "SEC" },
        { "timeout-ms", 't', 0, G_OPTION_ARG_INT, &o.timeout_ms,
          "Give up on a TPM command after MS milliseconds "
          "(default 300000)", "MS" },
        { "stats", 0, 0, G_OPTION_ARG_FILENAME, &o.stats_path,
          "Append per-command statistics to FILE", "FILE" },
        { "keep-transients", 0, 0, G_OPTION_ARG_NONE, &o.keep_transients,
          "Leave transient objects loaded when the TPM software "
          "disconnects (default: flush them, as a resource manager does)",
          NULL },
        { "start", 0, 0, G_OPTION_ARG_NONE, &o.start,
          "Start the session's background pair if needed, then exit",
          NULL },
        { "stop", 0, 0, G_OPTION_ARG_NONE, &o.stop,
          "Stop the session's background pair, then exit", NULL },
        { "status", 0, 0, G_OPTION_ARG_NONE, &o.status,
          "Describe the device (and session), then exit", NULL },
        { "report", 0, 0, G_OPTION_ARG_FILENAME, &o.report_path,
          "Print a statistics FILE as a table, then exit", "FILE" },
        { "expect-multichunk", 0, 0, G_OPTION_ARG_NONE,
          &o.expect_multichunk,
          "With --report: fail unless a command took more than one chunk "
          "each way", NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("- tss2 cmd TCTI bridge to the tpm-crb device");
    g_autoptr(GError) gerr = NULL;
    int ret;

    error_init(argv[0]);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx,
        "With neither --qtest nor --oneshot, the first invocation starts an "
        "emulator\nand a swtpm in the background (the session); later "
        "invocations reuse them,\nso TPM state persists between tpm2-tools "
        "commands. Example:\n"
        "  tpm2_getrandom -T \"cmd:tpm-crb-bridge --window 64\" 16\n");
    if (!g_option_context_parse(ctx, &argc, &argv, &gerr)) {
        error_report("%s", gerr->message);
        return 2;
    }
    ret = bridge_main(&o, argc > 1 ? argv[1] : NULL);
    g_free(o.qtest_path);
    g_free(o.session_dir);
    g_free(o.emulator);
    g_free(o.swtpm);
    g_free(o.accel);
    g_free(o.stats_path);
    g_free(o.report_path);
    return ret;
}
