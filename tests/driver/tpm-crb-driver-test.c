/*
 * Tests of the reference TPM CRB driver against a real emulator and a
 * real swtpm: chunked commands and responses checked byte for byte, the
 * non-chunked path on Debian's QEMU 7.2, crbRspRetry, and the driver's
 * error paths (no chunking capability, timeout, tpmSts).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <signal.h>
#include <sys/wait.h>
#include "qemu/bswap.h"
#include "tpm-crb-driver.h"
#include "qtest-accessor.h"
#include "tpm-launch.h"

#define PEER_QEMU_DEFAULT "/usr/bin/qemu-system-x86_64"
#define HASH_LEN 1000

typedef struct Fixture {
    char *dir;
    TpmLaunch *launch;
    QtestAccessor *qa;
    TpmCrbDriver *drv;
} Fixture;

/*
 * A test double around the qtest accessor: when armed, it moves the
 * device on by one response chunk (nextChunk) just before the driver
 * reads the response header, so that the driver sees the second chunk
 * where it expects the first and must recover with crbRspRetry.
 */
typedef struct FaultAccessor {
    QtestAccessor *inner;
    uint64_t rsp_addr;
    bool armed;
    unsigned injected;
} FaultAccessor;

static bool fa_read32(void *o, uint64_t a, uint32_t *v, Error **errp)
{
    return qtest_accessor_ops.read32(((FaultAccessor *)o)->inner, a, v, errp);
}

static bool fa_write32(void *o, uint64_t a, uint32_t v, Error **errp)
{
    return qtest_accessor_ops.write32(((FaultAccessor *)o)->inner, a, v,
                                      errp);
}

static bool fa_read_buf(void *o, uint64_t a, void *b, size_t l, Error **errp)
{
    FaultAccessor *fa = o;

    if (fa->armed && a == fa->rsp_addr && l == TPM_CRB_HDR_SIZE) {
        fa->armed = false;
        fa->injected++;
        /* CTRL_START.nextChunk */
        if (!qtest_accessor_ops.write32(fa->inner, TPM_CRB_LOC0_BASE + 0x4c,
                                        1u << 2, errp)) {
            return false;
        }
    }
    return qtest_accessor_ops.read_buf(fa->inner, a, b, l, errp);
}

static bool fa_write_buf(void *o, uint64_t a, const void *b, size_t l,
                         Error **errp)
{
    return qtest_accessor_ops.write_buf(((FaultAccessor *)o)->inner, a, b, l,
                                        errp);
}

static const TpmCrbAccessorOps fault_ops = {
    .read32 = fa_read32, .write32 = fa_write32,
    .read_buf = fa_read_buf, .write_buf = fa_write_buf,
};

static const char *our_emulator(void)
{
    return g_getenv("QTEST_QEMU_BINARY");
}

static bool fx_start(Fixture *f, const char *emulator, unsigned window,
                     bool no_chunk)
{
    g_autoptr(GError) gerr = NULL;
    g_autofree char *state = NULL;
    g_autofree char *swtpm = g_find_program_in_path("swtpm");
    Error *err = NULL;
    TpmLaunchConfig lc = {
        .emulator = emulator, .window = window, .no_chunk = no_chunk,
    };

    memset(f, 0, sizeof(*f));
    if (!swtpm) {
        g_test_skip("swtpm is not installed (Debian package swtpm)");
        return false;
    }
    if (!emulator || !g_file_test(emulator, G_FILE_TEST_IS_EXECUTABLE)) {
        g_autofree char *msg = g_strdup_printf("emulator '%s' not found",
                                               emulator ? emulator : "");
        g_test_skip(msg);
        return false;
    }
    f->dir = g_dir_make_tmp("tpm-crb-driver-test-XXXXXX", &gerr);
    g_assert_no_error(gerr);
    state = g_build_filename(f->dir, "state", NULL);
    lc.state_dir = state;
    lc.run_dir = f->dir;
    f->launch = tpm_launch_start(&lc, &err);
    if (!f->launch) {
        g_test_message("%s", error_get_pretty(err));
    }
    g_assert_null(err);
    f->qa = qtest_accessor_connect(f->launch->qtest_path, 10000, 10000, &err);
    g_assert_null(err);
    f->drv = tpm_crb_driver_new(&qtest_accessor_ops, f->qa,
                                TPM_CRB_LOC0_BASE);
    tpm_crb_driver_probe(f->drv, &err);
    g_assert_null(err);
    tpm_crb_driver_request_locality(f->drv, &err);
    g_assert_null(err);
    return true;
}

static void fx_stop(Fixture *f)
{
    g_clear_pointer(&f->drv, tpm_crb_driver_free);
    g_clear_pointer(&f->qa, qtest_accessor_free);
    g_clear_pointer(&f->launch, tpm_launch_stop);
    if (f->dir) {
        const char *argv[] = { "rm", "-rf", f->dir, NULL };

        g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
                     NULL, NULL, NULL, NULL, NULL);
        g_free(f->dir);
        f->dir = NULL;
    }
}

static uint32_t run(Fixture *f, const uint8_t *cmd, size_t len, uint8_t *rsp,
                    size_t *rsp_len, TpmCrbXferStats *st)
{
    Error *err = NULL;

    tpm_crb_driver_transmit(f->drv, cmd, len, rsp, TPM_CRB_MAX_RESPONSE,
                            rsp_len, st, &err);
    if (err) {
        g_test_message("%s", error_get_pretty(err));
    }
    g_assert_null(err);
    return ldl_be_p(rsp + 6);
}

/* No firmware runs before the test: send TPM2_Startup(CLEAR) ourselves. */
static void startup(Fixture *f)
{
    uint8_t cmd[12], rsp[TPM_CRB_MAX_RESPONSE];
    size_t len;
    uint32_t rc;

    stw_be_p(cmd, 0x8001);
    stl_be_p(cmd + 2, 12);
    stl_be_p(cmd + 6, 0x144);
    stw_be_p(cmd + 10, 0);
    rc = run(f, cmd, sizeof(cmd), rsp, &len, NULL);
    g_assert_true(rc == 0 || rc == 0x100);
}

/* TPM2_Hash(data, SHA-256, TPM_RH_NULL) of HASH_LEN known bytes. */
static size_t build_hash_cmd(uint8_t *cmd, uint8_t *data)
{
    size_t i, len = TPM_CRB_HDR_SIZE + 2 + HASH_LEN + 2 + 4;

    for (i = 0; i < HASH_LEN; i++) {
        data[i] = i * 7 + 3;
    }
    stw_be_p(cmd, 0x8001);
    stl_be_p(cmd + 2, len);
    stl_be_p(cmd + 6, 0x17d);
    stw_be_p(cmd + 10, HASH_LEN);
    memcpy(cmd + 12, data, HASH_LEN);
    stw_be_p(cmd + 12 + HASH_LEN, 0x000b);
    stl_be_p(cmd + 14 + HASH_LEN, 0x40000007);
    return len;
}

/* The TPM's digest must be GLib's SHA-256 of the same bytes. */
static void check_hash(Fixture *f, TpmCrbXferStats *st)
{
    uint8_t cmd[HASH_LEN + 64], data[HASH_LEN], rsp[TPM_CRB_MAX_RESPONSE];
    uint8_t want[32];
    gsize want_len = sizeof(want);
    size_t len = build_hash_cmd(cmd, data), rsp_len;
    g_autoptr(GChecksum) ck = g_checksum_new(G_CHECKSUM_SHA256);

    g_checksum_update(ck, data, HASH_LEN);
    g_checksum_get_digest(ck, want, &want_len);
    g_assert_cmphex(run(f, cmd, len, rsp, &rsp_len, st), ==, 0);
    g_assert_cmpuint(rsp_len, >=, 12 + 32);
    g_assert_cmpuint(lduw_be_p(rsp + 10), ==, 32);
    g_assert_cmpmem(rsp + 12, 32, want, 32);
    g_assert_cmpuint(st->bytes_in, ==, len);
}

/* TPM2_GetCapability(TPM_CAP_COMMANDS): a long, self-checking response. */
static void check_getcap_commands(Fixture *f, TpmCrbXferStats *st)
{
    uint8_t cmd[22], rsp[TPM_CRB_MAX_RESPONSE];
    size_t rsp_len;
    uint32_t count, i, prev = 0;

    stw_be_p(cmd, 0x8001);
    stl_be_p(cmd + 2, 22);
    stl_be_p(cmd + 6, 0x17a);
    stl_be_p(cmd + 10, 2);
    stl_be_p(cmd + 14, 0x11f);
    stl_be_p(cmd + 18, 256);
    g_assert_cmphex(run(f, cmd, sizeof(cmd), rsp, &rsp_len, st), ==, 0);
    g_assert_cmpuint(ldl_be_p(rsp + 11), ==, 2);
    count = ldl_be_p(rsp + 15);
    g_assert_cmpuint(count, >=, 50);
    g_assert_cmpuint(rsp_len, ==, 19 + 4 * (size_t)count);
    for (i = 0; i < count; i++) {
        uint32_t index = ldl_be_p(rsp + 19 + 4 * i) & 0xffff;

        g_assert_cmpuint(index, >, prev);
        prev = index;
    }
    g_assert_cmpuint(st->bytes_out, ==, rsp_len);
}

static void test_chunked_io(gconstpointer opaque)
{
    unsigned window = GPOINTER_TO_UINT(opaque);
    TpmCrbXferStats st;
    Fixture f;

    if (!fx_start(&f, our_emulator(), window, false)) {
        return;
    }
    /* swtpm's buffer (4096) exceeds any window we test: CapCRBChunk = 1. */
    g_assert_true(tpm_crb_driver_has_chunking(f.drv));
    g_assert_cmpuint(tpm_crb_driver_cmd_window(f.drv), ==, window);
    startup(&f);
    check_hash(&f, &st);
    g_assert_cmpuint(st.chunks_in, ==, (st.bytes_in + window - 1) / window);
    check_getcap_commands(&f, &st);
    g_assert_cmpuint(st.chunks_out, ==, (st.bytes_out + window - 1) / window);
    if (window < 512) {
        g_assert_cmpuint(st.chunks_out, >, 1);
    }
    fx_stop(&f);
}

static void test_no_chunk_capability(void)
{
    uint8_t cmd[HASH_LEN + 64], data[HASH_LEN], rsp[TPM_CRB_MAX_RESPONSE];
    size_t len = build_hash_cmd(cmd, data), rsp_len;
    Error *err = NULL;
    Fixture f;

    if (!fx_start(&f, our_emulator(), 64, true)) {
        return;
    }
    g_assert_false(tpm_crb_driver_has_chunking(f.drv));
    g_assert_false(tpm_crb_driver_transmit(f.drv, cmd, len, rsp, sizeof(rsp),
                                           &rsp_len, NULL, &err));
    g_assert_nonnull(strstr(error_get_pretty(err),
                            "does not offer chunking"));
    g_test_message("expected error: %s", error_get_pretty(err));
    error_free(err);
    fx_stop(&f);
}

static void test_rsp_retry(void)
{
    FaultAccessor fa = { 0 };
    TpmCrbXferStats st;
    Fixture f;

    if (!fx_start(&f, our_emulator(), 64, false)) {
        return;
    }
    startup(&f);
    tpm_crb_driver_free(f.drv);
    fa.inner = f.qa;
    fa.rsp_addr = TPM_CRB_LOC0_BASE + 0x80;
    f.drv = tpm_crb_driver_new(&fault_ops, &fa, TPM_CRB_LOC0_BASE);
    g_assert_true(tpm_crb_driver_probe(f.drv, NULL));
    fa.armed = true;
    check_getcap_commands(&f, &st);
    g_assert_cmpuint(fa.injected, ==, 1);
    g_assert_cmpuint(st.retries, ==, 1);
    fx_stop(&f);
}

static void test_timeout(void)
{
    uint8_t cmd[HASH_LEN + 64], data[HASH_LEN], rsp[TPM_CRB_MAX_RESPONSE];
    size_t len = build_hash_cmd(cmd, data), rsp_len;
    TpmCrbTimeouts t;
    Error *err = NULL;
    Fixture f;

    if (!fx_start(&f, our_emulator(), 64, false)) {
        return;
    }
    startup(&f);
    tpm_crb_driver_default_timeouts(&t);
    t.command_ms = 1000;
    tpm_crb_driver_set_timeouts(f.drv, &t);
    /* A TPM that never answers: swtpm stopped, not gone. */
    kill(f.launch->swtpm_pid, SIGSTOP);
    g_assert_false(tpm_crb_driver_transmit(f.drv, cmd, len, rsp, sizeof(rsp),
                                           &rsp_len, NULL, &err));
    kill(f.launch->swtpm_pid, SIGCONT);
    g_assert_nonnull(strstr(error_get_pretty(err), "timed out"));
    g_test_message("expected error: %s", error_get_pretty(err));
    error_free(err);
    fx_stop(&f);
}

static void test_tpm_sts(void)
{
    uint8_t cmd[HASH_LEN + 64], data[HASH_LEN], rsp[TPM_CRB_MAX_RESPONSE];
    size_t len = build_hash_cmd(cmd, data), rsp_len;
    TpmCrbXferStats st;
    Error *err = NULL;
    int status;
    Fixture f;

    if (!fx_start(&f, our_emulator(), 64, false)) {
        return;
    }
    startup(&f);
    /* The backend's channel breaks: the device must report tpmSts. */
    kill(f.launch->swtpm_pid, SIGKILL);
    waitpid(f.launch->swtpm_pid, &status, 0);
    f.launch->swtpm_pid = -1;
    g_assert_false(tpm_crb_driver_transmit(f.drv, cmd, len, rsp, sizeof(rsp),
                                           &rsp_len, &st, &err));
    g_test_message("expected error: %s", error_get_pretty(err));
    g_assert_nonnull(strstr(error_get_pretty(err), "tpmSts = 1"));
    g_assert_true(st.tpm_sts);
    error_free(err);
    fx_stop(&f);
}

static void test_peer_qemu(void)
{
    const char *peer = g_getenv("TPM_CRB_PEER_QEMU");
    uint8_t big[4000], rsp[TPM_CRB_MAX_RESPONSE];
    TpmCrbXferStats st;
    Error *err = NULL;
    size_t rsp_len;
    Fixture f;

    if (!fx_start(&f, peer ? peer : PEER_QEMU_DEFAULT, 0, false)) {
        return;
    }
    /* QEMU 7.2: no chunking, the full 3968-byte window. */
    g_assert_cmphex(tpm_crb_driver_intf_id(f.drv), ==, 0x00025811);
    g_assert_false(tpm_crb_driver_has_chunking(f.drv));
    g_assert_cmpuint(tpm_crb_driver_cmd_window(f.drv), ==, 3968);
    startup(&f);
    check_hash(&f, &st);
    g_assert_cmpuint(st.chunks_in, ==, 1);
    check_getcap_commands(&f, &st);
    g_assert_cmpuint(st.chunks_out, ==, 1);

    memset(big, 0, sizeof(big));
    stw_be_p(big, 0x8001);
    stl_be_p(big + 2, sizeof(big));
    stl_be_p(big + 6, 0x17d);
    g_assert_false(tpm_crb_driver_transmit(f.drv, big, sizeof(big), rsp,
                                           sizeof(rsp), &rsp_len, NULL,
                                           &err));
    g_assert_nonnull(strstr(error_get_pretty(err),
                            "does not offer chunking"));
    g_test_message("expected error: %s", error_get_pretty(err));
    error_free(err);
    fx_stop(&f);
}

static void test_qtest_unreachable(void)
{
    Error *err = NULL;

    g_assert_null(qtest_accessor_connect("/nonexistent/qtest.sock", 100, 100,
                                         &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "cannot connect"));
    error_free(err);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/tpm-crb-driver/chunked-io/3968",
                         GUINT_TO_POINTER(3968), test_chunked_io);
    g_test_add_data_func("/tpm-crb-driver/chunked-io/512",
                         GUINT_TO_POINTER(512), test_chunked_io);
    g_test_add_data_func("/tpm-crb-driver/chunked-io/64",
                         GUINT_TO_POINTER(64), test_chunked_io);
    g_test_add_func("/tpm-crb-driver/error/no-chunk-capability",
                    test_no_chunk_capability);
    g_test_add_func("/tpm-crb-driver/rsp-retry", test_rsp_retry);
    g_test_add_func("/tpm-crb-driver/error/timeout", test_timeout);
    g_test_add_func("/tpm-crb-driver/error/tpm-sts", test_tpm_sts);
    g_test_add_func("/tpm-crb-driver/peer-qemu-7.2", test_peer_qemu);
    g_test_add_func("/tpm-crb-driver/error/qtest-unreachable",
                    test_qtest_unreachable);
    return g_test_run();
}
