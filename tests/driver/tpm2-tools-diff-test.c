/*
 * Differential test of tpm2-tools through the tpm-crb device: the same
 * tpm2-tools session (contrib/tpm-crb-bridge/workload.sh) runs directly
 * against a swtpm through tss2's swtpm TCTI, and through the bridge and
 * the device at windows of 3968, 512 and 64 bytes; the transcripts must
 * agree (random values and key material masked by the workload), and the
 * bridge's statistics must show the chunking that the window implies.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "bridge-session.h"
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

/*
 * Each workload run is bounded (it takes about a second; RSA-3072 key
 * generation is its slowest command), and so is each TPM command the
 * bridge sends, so that a hang fails the test well within meson's
 * timeout: four workloads of at most 120 s.
 */
#define WORKLOAD_TIMEOUT_S "120"
#define COMMAND_TIMEOUT_MS "30000"

static char *reference;     /* transcript of the direct swtpm run */
static char *top_dir;

static const char *bridge(void)
{
    return g_getenv("TPM_CRB_BRIDGE");
}

static bool have_tools(void)
{
    const char *progs[] = { "swtpm", "tpm2_getcap", "timeout", NULL };
    int i;

    for (i = 0; progs[i]; i++) {
        g_autofree char *p = g_find_program_in_path(progs[i]);

        if (!p) {
            g_autofree char *msg = g_strdup_printf("'%s' is not installed",
                                                   progs[i]);
            g_test_skip(msg);
            return false;
        }
    }
    if (!bridge() || !g_getenv("TPM_CRB_WORKLOAD")) {
        g_test_skip("TPM_CRB_BRIDGE / TPM_CRB_WORKLOAD not set (run under "
                    "meson test)");
        return false;
    }
    return true;
}

/* Run argv with extra environment; return its exit status. */
static int run_capture(char **argv, const char *tcti, char **out,
                       char **err)
{
    g_auto(GStrv) env = g_get_environ();
    g_autoptr(GError) gerr = NULL;
    int status = -1;

    if (tcti) {
        env = g_environ_setenv(env, "TPM2TOOLS_TCTI", tcti, TRUE);
    }
    if (!g_spawn_sync(NULL, argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL, out,
                      err, &status, &gerr)) {
        g_test_message("cannot run %s: %s", argv[0], gerr->message);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static char *run_workload(const char *tcti, const char *name, int *rc)
{
    g_autofree char *dir = g_build_filename(top_dir, name, NULL);
    g_autofree char *err = NULL;
    char *out = NULL;
    char *argv[] = { (char *)"timeout", (char *)WORKLOAD_TIMEOUT_S,
                     (char *)"sh", (char *)g_getenv("TPM_CRB_WORKLOAD"), dir,
                     NULL };

    *rc = run_capture(argv, tcti, &out, &err);
    if (*rc != 0) {
        g_test_message("workload '%s' exit %d; stderr:\n%s", name, *rc, err);
    }
    return out;
}

/* Two consecutive free TCP ports on 127.0.0.1 (swtpm's TCTI needs P, P+1). */
static int pick_port_pair(void)
{
    int attempt;

    for (attempt = 0; attempt < 50; attempt++) {
        struct sockaddr_in a = { .sin_family = AF_INET };
        socklen_t len = sizeof(a);
        int s1 = socket(AF_INET, SOCK_STREAM, 0);
        int s2 = socket(AF_INET, SOCK_STREAM, 0);
        int port = -1;

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (s1 >= 0 && s2 >= 0 &&
            bind(s1, (struct sockaddr *)&a, sizeof(a)) == 0 &&
            getsockname(s1, (struct sockaddr *)&a, &len) == 0 &&
            ntohs(a.sin_port) < 65535) {
            port = ntohs(a.sin_port);
            a.sin_port = htons(port + 1);
            if (bind(s2, (struct sockaddr *)&a, sizeof(a)) != 0) {
                port = -1;
            }
        }
        close(s1);
        close(s2);
        if (port > 0) {
            return port;
        }
    }
    return -1;
}

static bool wait_port(int port, GPid pid)
{
    int64_t deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

    while (g_get_monotonic_time() < deadline) {
        struct sockaddr_in a = { .sin_family = AF_INET };
        int s = socket(AF_INET, SOCK_STREAM, 0);
        int status;
        bool ok;

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port);
        ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
        close(s);
        if (ok) {
            return true;
        }
        if (waitpid(pid, &status, WNOHANG) == pid) {
            return false;
        }
        g_usleep(20 * 1000);
    }
    return false;
}

static void stop_child(GPid pid)
{
    int status;
    int i;

    kill(pid, SIGTERM);
    for (i = 0; i < 500; i++) {
        if (waitpid(pid, &status, WNOHANG) != 0) {
            return;
        }
        g_usleep(10 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
}

/* The direct run: swtpm on TCP, tpm2-tools through the swtpm TCTI. */
static const char *get_reference(void)
{
    int attempt;

    for (attempt = 0; !reference && attempt < 3; attempt++) {
        g_autofree char *state = g_build_filename(top_dir, "ref-state", NULL);
        g_autofree char *tpmstate = g_strdup_printf("dir=%s", state);
        g_autofree char *server = NULL;
        g_autofree char *ctrl = NULL;
        g_autofree char *tcti = NULL;
        g_autoptr(GError) gerr = NULL;
        int port = pick_port_pair();
        GPid pid;
        int rc;

        g_assert_cmpint(port, >, 0);
        g_mkdir_with_parents(state, 0700);
        server = g_strdup_printf("type=tcp,port=%d,bindaddr=127.0.0.1", port);
        ctrl = g_strdup_printf("type=tcp,port=%d,bindaddr=127.0.0.1",
                               port + 1);
        {
            char *argv[] = { (char *)"swtpm", (char *)"socket",
                             (char *)"--tpm2", (char *)"--tpmstate", tpmstate,
                             (char *)"--server", server, (char *)"--ctrl",
                             ctrl, (char *)"--flags",
                             (char *)"not-need-init,startup-clear", NULL };

            g_assert_true(g_spawn_async(NULL, argv, NULL,
                                        G_SPAWN_SEARCH_PATH |
                                        G_SPAWN_DO_NOT_REAP_CHILD |
                                        G_SPAWN_STDOUT_TO_DEV_NULL,
                                        NULL, NULL, &pid, &gerr));
        }
        if (!wait_port(port, pid)) {
            /* Lost a race for the port: try another pair. */
            stop_child(pid);
            continue;
        }
        tcti = g_strdup_printf("swtpm:host=127.0.0.1,port=%d", port);
        reference = run_workload(tcti, "reference", &rc);
        stop_child(pid);
        g_assert_cmpint(rc, ==, 0);
    }
    g_assert_nonnull(reference);
    return reference;
}

/* Report the first line where the transcripts part. */
static void compare_transcripts(const char *want, const char *got,
                                const char *what)
{
    g_auto(GStrv) a = g_strsplit(want, "\n", -1);
    g_auto(GStrv) b = g_strsplit(got, "\n", -1);
    int i;

    for (i = 0; a[i] && b[i]; i++) {
        if (strcmp(a[i], b[i]) != 0) {
            break;
        }
    }
    if (a[i] || b[i]) {
        g_test_message("%s: transcripts differ at line %d:\n  swtpm: %s\n"
                       "  device: %s", what, i + 1, a[i] ? a[i] : "(end)",
                       b[i] ? b[i] : "(end)");
        g_test_fail();
    }
}

typedef struct ChunkCounts {
    unsigned rows, multi_in, multi_out, both, errors, wrong_window;
} ChunkCounts;

static ChunkCounts read_stats(const char *path, unsigned window)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    ChunkCounts c = { 0 };
    int i;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (i = 0; lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], "\t", -1);
        unsigned cin, cout;

        if (g_strv_length(f) < 10) {
            continue;
        }
        c.rows++;
        cin = atoi(f[4]);
        cout = atoi(f[5]);
        c.multi_in += cin > 1;
        c.multi_out += cout > 1;
        c.both += cin > 1 && cout > 1;
        c.errors += strcmp(f[7], "error") == 0;
        c.wrong_window += (unsigned)atoi(f[9]) != window;
    }
    return c;
}

static void test_differential(gconstpointer opaque)
{
    unsigned window = GPOINTER_TO_UINT(opaque);
    g_autofree char *name = g_strdup_printf("window-%u", window);
    g_autofree char *session = NULL;
    g_autofree char *stats = NULL;
    g_autofree char *tcti = NULL;
    g_autofree char *got = NULL;
    g_autofree char *out = NULL;
    const char *want;
    ChunkCounts c;
    int rc;

    if (!have_tools()) {
        return;
    }
    want = get_reference();
    session = g_build_filename(top_dir, "session", name, NULL);
    stats = g_build_filename(top_dir, "session", name, "stats.tsv", NULL);
    tcti = g_strdup_printf("cmd:%s --session %s --window %u --stats %s "
                           "--idle-timeout 60 --timeout-ms %s", bridge(),
                           session, window, stats, COMMAND_TIMEOUT_MS);
    got = run_workload(tcti, name, &rc);
    {
        char *argv[] = { (char *)bridge(), (char *)"--session", session,
                         (char *)"--stop", NULL };

        g_assert_cmpint(run_capture(argv, NULL, &out, NULL), ==, 0);
    }
    g_assert_cmpint(rc, ==, 0);
    compare_transcripts(want, got, name);

    c = read_stats(stats, window);
    g_test_message("window %u: %u commands, more than one chunk: %u in, %u "
                   "out, %u both ways", window, c.rows, c.multi_in,
                   c.multi_out, c.both);
    g_assert_cmpuint(c.rows, >=, 50);
    g_assert_cmpuint(c.errors, ==, 0);
    g_assert_cmpuint(c.wrong_window, ==, 0);
    if (window >= 3968) {
        g_assert_cmpuint(c.multi_in + c.multi_out, ==, 0);
    } else {
        g_assert_cmpuint(c.multi_in, >, 0);
        g_assert_cmpuint(c.multi_out, >, 0);
    }
    if (window <= 64) {
        g_assert_cmpuint(c.both, >, 0);
    }
}

/* Run one tool through a private no-chunk device; return its stderr. */
static char *run_no_chunk(char **tool_argv, const char *what)
{
    g_autofree char *tcti = NULL;
    g_autofree char *out = NULL;
    char *err = NULL;
    int rc;

    tcti = g_strdup_printf("cmd:%s --oneshot --window 64 --no-chunk",
                           bridge());
    rc = run_capture(tool_argv, tcti, &out, &err);
    g_test_message("%s: exit %d, stderr:\n%s", what, rc, err);
    g_assert_cmpint(rc, !=, 0);
    return err;
}

/*
 * Through tpm2-tools with cap-chunk=off and a 64-byte window (CapCRBChunk
 * reads 0). tpm2_hash of 1024 bytes sends a 1042-byte TPM2_Hash as its
 * first command: the driver must refuse it itself. tpm2_getrandom starts
 * with a 22-byte GetCapability whose 387-byte response cannot fit the
 * backend buffer a non-chunking device allows (min(B, W) = 64, SPEC §3):
 * the device reports tpmSts and the driver must say so.
 */
static void test_no_chunk_capability(void)
{
    g_autofree char *dir = g_build_filename(top_dir, "nochunk", NULL);
    g_autofree char *data = g_build_filename(dir, "data.bin", NULL);
    g_autofree char *err = NULL;
    g_autofree uint8_t *bytes = g_malloc(1024);
    char *hash_argv[] = { (char *)"timeout", (char *)"120",
                          (char *)"tpm2_hash", (char *)"-g",
                          (char *)"sha256", (char *)"--hex", data, NULL };
    char *rand_argv[] = { (char *)"timeout", (char *)"120",
                          (char *)"tpm2_getrandom", (char *)"--hex",
                          (char *)"8", NULL };

    if (!have_tools()) {
        return;
    }
    g_mkdir_with_parents(dir, 0700);
    memset(bytes, 0x5a, 1024);
    g_assert_true(g_file_set_contents(data, (char *)bytes, 1024, NULL));

    err = run_no_chunk(hash_argv, "tpm2_hash");
    g_assert_nonnull(strstr(err, "command of 1042 bytes exceeds the 64-byte "
                            "command window and the device does not offer "
                            "chunking"));
    g_free(err);

    err = run_no_chunk(rand_argv, "tpm2_getrandom");
    g_assert_nonnull(strstr(err, "tpmSts = 1"));
}

/*
 * A client that dies mid-command on the session's shared qtest connection
 * leaves replies nobody read and half a command line behind; the next
 * bridge must resynchronise and work.
 */
static void test_session_resync(void)
{
    static const char debris[] = "readl 0xfed40030\nread 0xfed40080 0x40\n"
                                 "write 0xfed40080 0x4 0xab";
    g_autofree char *session = g_build_filename(top_dir, "session", "resync",
                                                NULL);
    g_autofree char *tcti = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autofree char *stop_out = NULL;
    char *start[] = { (char *)bridge(), (char *)"--session", session,
                      (char *)"--window", (char *)"64",
                      (char *)"--idle-timeout", (char *)"30",
                      (char *)"--start", NULL };
    char *stop[] = { (char *)bridge(), (char *)"--session", session,
                     (char *)"--stop", NULL };
    char *rand_argv[] = { (char *)"timeout", (char *)"60",
                          (char *)"tpm2_getrandom", (char *)"--hex",
                          (char *)"16", NULL };
    int fd, rc;

    if (!have_tools()) {
        return;
    }
    g_assert_cmpint(run_capture(start, NULL, NULL, NULL), ==, 0);
    /* Take the session's qtest connection, as a bridge does. */
    fd = bridge_session_take_qtest_fd(session, &error_abort);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, debris, strlen(debris)), ==, strlen(debris));
    /* Let the replies land in the socket before the next client comes. */
    g_usleep(200 * 1000);
    close(fd);

    tcti = g_strdup_printf("cmd:%s --session %s --window 64", bridge(),
                           session);
    rc = run_capture(rand_argv, tcti, &out, &err);
    /* Its stdout ("session ... stopped") is not TAP: keep it out. */
    run_capture(stop, NULL, &stop_out, NULL);
    g_test_message("tpm2_getrandom exit %d, stdout '%s', stderr:\n%s", rc,
                   out, err);
    g_assert_cmpint(rc, ==, 0);
    g_assert_cmpuint(strlen(g_strstrip(out)), ==, 32);
}

int main(int argc, char **argv)
{
    g_autoptr(GError) gerr = NULL;
    int ret;

    g_test_init(&argc, &argv, NULL);
    top_dir = g_dir_make_tmp("tpm2-tools-diff-XXXXXX", &gerr);
    g_assert_no_error(gerr);

    g_test_add_data_func("/tpm2-tools/differential/3968",
                         GUINT_TO_POINTER(3968), test_differential);
    g_test_add_data_func("/tpm2-tools/differential/512",
                         GUINT_TO_POINTER(512), test_differential);
    g_test_add_data_func("/tpm2-tools/differential/64",
                         GUINT_TO_POINTER(64), test_differential);
    g_test_add_func("/tpm2-tools/error/no-chunk-capability",
                    test_no_chunk_capability);
    g_test_add_func("/tpm2-tools/session/resync", test_session_resync);
    ret = g_test_run();

    {
        char *rm[] = { (char *)"rm", (char *)"-rf", top_dir, NULL };

        g_spawn_sync(NULL, rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                     NULL, NULL, NULL);
    }
    g_free(top_dir);
    g_free(reference);
    return ret;
}
