/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * qtest: tpm-crb across a migration's switchover, with transfers the
 * guest has under way when the VM stops.
 *
 * - A command executing when the VM stops (live, to a file, after a
 *   pause; chunking on and off): its response reaches the destination's
 *   window. A fake TPM holds the reply and releases it on a timer; the
 *   test proves that the stop caught the command (the source's STOP
 *   event comes after the release, and the downtime covers the rest of
 *   the hold). Once more with a real swtpm and TPM2_CreatePrimary.
 * - A command chunk written into the window before the migration and
 *   announced with nextChunk after it, at the first and a middle chunk.
 * - A response delivered whole before the migration: crbRspRetry gives
 *   it again after it, and the acknowledging nextChunk is ignored.
 * - A command refused at its first chunk: one TPM_RC_COMMAND_SIZE at
 *   Start, none of its pieces reaches the TPM, with and without a
 *   migration in the middle.
 * - A TPM that does not answer at the switchover: the migration fails,
 *   the source runs on and gets its response once the TPM answers; the
 *   same when the answer comes after the stop gave up but before the
 *   device's state is saved.
 *
 * Machines are pc-q35-10.2 with chunking opted in by properties.
 */

#include "qemu/osdep.h"
#include <glib/gstdio.h>

#include "libqtest.h"
#include "qobject/qdict.h"
#include "system/tpm_util.h"
#include "migration/migration-qmp.h"
#include "migration/migration-util.h"
#include "tpm-crb-emu.h"
#include "tpm-crb-chunk-util.h"
#include "tpm-crb-util.h"

#define MACHINE "pc-q35-10.2"
#define CHUNK_ON TPM_CRB_OPT_IN
#define CHUNK_OFF "-global tpm-crb.cap-chunk=off"
/* How long the fake TPM holds a command once the migration is asked for */
#define HOLD_MS 2000

/* A VM and what stands behind its TPM: a fake, or a real swtpm. */
typedef struct VM {
    QTestState *qts;
    TPMEmu *emu;
    /* Commands the fake had seen once QEMU was up (its probe). */
    unsigned emu_base;
    char *tpm_dir;
    GPid tpm_pid;
    SocketAddress *tpm_addr;
} VM;

static VM *vm_start(TPMEmu *emu, const char *opts, const char *extra)
{
    g_autoptr(GError) err = NULL;
    VM *vm = g_new0(VM, 1);
    const char *sock;

    if (emu) {
        vm->emu = emu;
        sock = tpm_emu_socket_path(emu);
    } else {
        vm->tpm_dir = g_dir_make_tmp("tpm-crb-switchover-XXXXXX", &err);
        g_assert_no_error(err);
        g_assert_true(tpm_crb_util_swtpm_start(vm->tpm_dir, &vm->tpm_pid,
                                               &vm->tpm_addr, &err));
        g_assert_no_error(err);
        sock = vm->tpm_addr->u.q_unix.path;
    }
    vm->qts = qtest_initf("-M " MACHINE " -nodefaults "
                          "-chardev socket,id=chr,path=%s "
                          "-tpmdev emulator,id=tpm0,chardev=chr "
                          "-device tpm-crb,tpmdev=tpm0 %s %s",
                          sock, opts, extra ? extra : "");
    if (emu) {
        vm->emu_base = tpm_emu_command_count(emu);
    }
    return vm;
}

static void vm_free(VM *vm)
{
    qtest_quit(vm->qts);
    if (vm->emu) {
        tpm_emu_stop(vm->emu);
    } else {
        tpm_crb_util_swtpm_kill(vm->tpm_pid);
        qapi_free_SocketAddress(vm->tpm_addr);
        tpm_crb_util_rmdir(vm->tpm_dir);
        g_free(vm->tpm_dir);
    }
    g_free(vm);
}

/* TPM commands that reached vm's fake TPM from the test. */
static unsigned vm_tpm_commands(VM *vm)
{
    return tpm_emu_command_count(vm->emu) - vm->emu_base;
}

static TPMEmu *emu_new(uint32_t buffer_size)
{
    g_autoptr(GError) err = NULL;
    TPMEmu *emu = tpm_emu_start(buffer_size, &err);

    g_assert_no_error(err);
    return emu;
}

/* Live migration of src into a new destination over a unix socket. */
static VM *migrate_live(VM *src, const char *opts, TPMEmu *emu,
                        const char *dir)
{
    g_autofree char *uri = g_strdup_printf("unix:%s/mig.sock", dir);
    VM *dst = vm_start(emu, opts, "-incoming defer");

    migrate_incoming_qmp(dst->qts, uri, NULL, "{}");
    migrate_qmp(src->qts, dst->qts, uri, NULL, "{}");
    wait_for_migration_complete(src->qts);
    wait_for_migration_complete(dst->qts);
    return dst;
}

/* Save src to a file, then load it into a new destination. */
static VM *migrate_file(VM *src, const char *opts, TPMEmu *emu,
                        const char *dir)
{
    g_autofree char *uri = g_strdup_printf("file:%s/mig.file", dir);
    VM *dst;

    migrate_qmp(src->qts, NULL, uri, NULL, "{}");
    wait_for_migration_complete(src->qts);
    dst = vm_start(emu, opts, "-incoming defer");
    migrate_incoming_qmp(dst->qts, uri, NULL, "{}");
    wait_for_migration_complete(dst->qts);
    return dst;
}

/* The time of a QMP event, in microseconds since the epoch. */
static int64_t event_time_us(QDict *ev)
{
    QDict *ts = qdict_get_qdict(ev, "timestamp");

    return qdict_get_int(ts, "seconds") * G_USEC_PER_SEC +
           qdict_get_int(ts, "microseconds");
}

typedef struct Releaser {
    TPMEmu *emu;
    unsigned delay_ms;
    int64_t released_us;    /* wall clock, as QMP timestamps */
    GThread *thread;
} Releaser;

static gpointer releaser_run(gpointer opaque)
{
    Releaser *r = opaque;

    g_usleep(r->delay_ms * 1000);
    r->released_us = g_get_real_time();
    tpm_emu_release(r->emu);
    return NULL;
}

static void releaser_start(Releaser *r, TPMEmu *emu, unsigned delay_ms)
{
    r->emu = emu;
    r->delay_ms = delay_ms;
    r->released_us = 0;
    r->thread = g_thread_new("release", releaser_run, r);
}

static void releaser_join(Releaser *r)
{
    g_thread_join(r->thread);
}

static void begin_command(VM *vm)
{
    crb_request_locality(vm->qts);
    crb_cmd_ready(vm->qts);
}

static void assert_sized_response(const GByteArray *rsp, uint32_t size)
{
    uint32_t i;

    g_assert_cmpuint(rsp->len, ==, size);
    g_assert_cmphex(crb_be32(rsp->data + 2), ==, size);
    g_assert_cmphex(crb_be32(rsp->data + 6), ==, 0);
    for (i = 10; i < size; i++) {
        if (rsp->data[i] != tpm_emu_pattern_byte(i)) {
            g_error("response byte %u is 0x%02x, the TPM sent 0x%02x", i,
                    rsp->data[i], tpm_emu_pattern_byte(i));
        }
    }
}

typedef enum HowMigrated {
    LIVE,
    TO_FILE,
    PAUSED_TO_FILE,
} HowMigrated;

typedef struct ExecCase {
    const char *name;
    HowMigrated how;
    bool chunking;
} ExecCase;

/*
 * A command is executing in the TPM (held by the fake) when the VM
 * stops. Its response is HOLD_MS away; it must be in the destination's
 * window, byte for byte, and the test proves the stop caught it.
 */
static void test_executing(gconstpointer opaque)
{
    const ExecCase *c = opaque;
    /* With chunking, a response of two chunks: the second one travels. */
    uint32_t rsp_size = c->chunking ? 6000 : 3000;
    const char *opts = c->chunking ? CHUNK_ON : CHUNK_OFF;
    g_autofree char *dir = g_dir_make_tmp("tpm-crb-exec-XXXXXX", NULL);
    g_autoptr(GByteArray) cmd = crb_make_command(200, 0x131, 7);
    g_autoptr(GByteArray) rsp = NULL;
    TPMEmu *emu_src = emu_new(8192), *emu_dst = emu_new(8192);
    Releaser rel;
    int64_t asked_us, stop_us, downtime_ms;
    QDict *ev;
    VM *src, *dst;

    src = vm_start(emu_src, opts, NULL);
    g_assert_cmpint(crb_cap_chunk(src->qts), ==, c->chunking);
    tpm_emu_set_response_size(emu_src, rsp_size);
    tpm_emu_set_stall_reply(emu_src, TPM_EMU_REPLY_SIZED);
    tpm_emu_set_reply(emu_src, TPM_EMU_REPLY_STALL);
    begin_command(src);
    crb_send(src->qts, cmd->data, cmd->len, NULL);
    g_assert_true(tpm_emu_wait_held(emu_src, 10000));

    asked_us = g_get_real_time();
    releaser_start(&rel, emu_src, HOLD_MS);
    switch (c->how) {
    case LIVE:
        dst = migrate_live(src, opts, emu_dst, dir);
        break;
    case TO_FILE:
        dst = migrate_file(src, opts, emu_dst, dir);
        break;
    case PAUSED_TO_FILE:
    default:
        /* What virsh save does: stop, then migrate the paused VM. */
        qtest_qmp_assert_success(src->qts, "{'execute': 'stop'}");
        dst = migrate_file(src, opts, emu_dst, dir);
        break;
    }
    releaser_join(&rel);

    /*
     * The VM stopped while the command was held: the STOP event, sent
     * once the stop is done, comes after the release...
     */
    ev = qtest_qmp_eventwait_ref(src->qts, "STOP");
    stop_us = event_time_us(ev);
    qobject_unref(ev);
    g_test_message("%s: migration asked at 0, released at %" PRId64
                   " ms, STOP at %" PRId64 " ms", c->name,
                   (rel.released_us - asked_us) / 1000,
                   (stop_us - asked_us) / 1000);
    g_assert_cmpint(stop_us, >=, rel.released_us);
    /* ...and the stop began well before it (live: the downtime). */
    if (c->how != PAUSED_TO_FILE) {
        downtime_ms = read_migrate_property_int(src->qts, "downtime");
        g_test_message("%s: downtime %" PRId64 " ms", c->name, downtime_ms);
        g_assert_cmpint(downtime_ms, >=, HOLD_MS / 4);
    }

    /* The destination's guest reads the TPM's response. */
    g_assert_true(crb_wait_start_clear(dst->qts));
    g_assert_false(crb_tpm_sts(dst->qts));
    rsp = crb_receive(dst->qts, NULL);
    assert_sized_response(rsp, rsp_size);
    /* The destination's TPM never saw the command. */
    g_assert_cmpuint(vm_tpm_commands(dst), ==, 0);

    vm_free(dst);
    vm_free(src);
    tpm_crb_util_rmdir(dir);
}

static GByteArray *cmd_startup(void)
{
    static const uint8_t c[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44,
        0x00, 0x00,
    };
    GByteArray *ba = g_byte_array_new();

    return g_byte_array_append(ba, c, sizeof(c));
}

/* TPM2_CreatePrimary: an RSA 2048 storage key under the owner hierarchy */
static GByteArray *cmd_create_primary(void)
{
    static const uint8_t c[] = {
        0x80, 0x02, 0x00, 0x00, 0x00, 0x43, 0x00, 0x00, 0x01, 0x31,
        0x40, 0x00, 0x00, 0x01,                     /* TPM_RH_OWNER */
        0x00, 0x00, 0x00, 0x09,                     /* auth area */
        0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x01, 0x00, 0x00,
        0x00, 0x04, 0x00, 0x00, 0x00, 0x00,         /* inSensitive */
        0x00, 0x1a,                                 /* inPublic */
        0x00, 0x01, 0x00, 0x0b,                     /* RSA, SHA256 */
        0x00, 0x03, 0x00, 0x72,                     /* attributes */
        0x00, 0x00,                                 /* authPolicy */
        0x00, 0x06, 0x00, 0x80, 0x00, 0x43,         /* AES 128 CFB */
        0x00, 0x10, 0x08, 0x00,                     /* null scheme, 2048 */
        0x00, 0x00, 0x00, 0x00,                     /* exponent */
        0x00, 0x00,                                 /* unique */
        0x00, 0x00,                                 /* outsideInfo */
        0x00, 0x00, 0x00, 0x00,                     /* creationPCR */
    };
    GByteArray *ba = g_byte_array_new();

    return g_byte_array_append(ba, c, sizeof(c));
}

/*
 * The same with a real swtpm: TPM2_CreatePrimary (RSA 2048, slow), the
 * VM stopped at once, then migrated live. Whether the stop caught the
 * command depends on swtpm's speed (the time stop took is printed); the
 * destination must read a CreatePrimary response either way.
 */
static void test_executing_swtpm(void)
{
    g_autofree char *dir = g_dir_make_tmp("tpm-crb-exec-XXXXXX", NULL);
    g_autoptr(GByteArray) startup = cmd_startup();
    g_autoptr(GByteArray) create = cmd_create_primary();
    g_autoptr(GByteArray) rsp = NULL;
    int64_t stop_us;
    VM *src, *dst;

    if (!tpm_crb_util_swtpm_has_tpm2()) {
        g_test_skip("swtpm with TPM 2.0 support is not installed");
        return;
    }
    src = vm_start(NULL, CHUNK_ON, NULL);
    /* TPM_RC_INITIALIZE if swtpm was started with startup-clear. */
    rsp = crb_transfer(src->qts, startup->data, startup->len, NULL);
    g_assert_true(crb_be32(rsp->data + 6) == 0 ||
                  crb_be32(rsp->data + 6) == 0x100);
    g_byte_array_unref(rsp);

    begin_command(src);
    crb_send(src->qts, create->data, create->len, NULL);
    stop_us = g_get_monotonic_time();
    qtest_qmp_assert_success(src->qts, "{'execute': 'stop'}");
    stop_us = g_get_monotonic_time() - stop_us;
    dst = migrate_live(src, CHUNK_ON, NULL, dir);
    g_test_message("swtpm CreatePrimary: stop took %" PRId64 " ms",
                   stop_us / 1000);

    g_assert_true(crb_wait_start_clear(dst->qts));
    g_assert_false(crb_tpm_sts(dst->qts));
    rsp = crb_receive(dst->qts, NULL);
    g_assert_cmpuint(rsp->len, >, 256);
    g_assert_cmphex(crb_be32(rsp->data + 6), ==, 0);
    /* Not the command read back: a response tag and its own size. */
    g_assert_cmpmem(rsp->data, 2, "\x80\x02", 2);
    g_assert_cmpuint(crb_be32(rsp->data + 2), !=, create->len);

    vm_free(dst);
    vm_free(src);
    tpm_crb_util_rmdir(dir);
}

#define SMALL_W 256
#define SMALL_W_OPTS CHUNK_ON " -global tpm-crb.x-data-buffer-size=256"

static void window_put(VM *vm, const GByteArray *cmd, unsigned k)
{
    size_t off = (size_t)k * SMALL_W;

    qtest_memwrite(vm->qts, CRB_DATA_ADDR, cmd->data + off,
                   MIN(SMALL_W, cmd->len - off));
}

/*
 * Chunk k of a three-chunk command is in the window when the VM
 * migrates; the guest announces it with nextChunk on the destination.
 * The TPM (echo) must get the command whole.
 */
static void test_chunk_in_window(gconstpointer opaque)
{
    unsigned k = GPOINTER_TO_UINT(opaque), i;
    g_autofree char *dir = g_dir_make_tmp("tpm-crb-win-XXXXXX", NULL);
    g_autoptr(GByteArray) cmd = crb_make_command(2 * SMALL_W + 100, 0x17b,
                                                 k);
    g_autoptr(GByteArray) rsp = NULL;
    TPMEmu *emu_dst = emu_new(4096);
    VM *src, *dst, *vm;

    src = vm_start(emu_new(4096), SMALL_W_OPTS, NULL);
    g_assert_true(crb_cap_chunk(src->qts));
    begin_command(src);
    for (i = 0; i < k; i++) {
        window_put(src, cmd, i);
        crb_writel(src->qts, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    }
    window_put(src, cmd, k);
    dst = migrate_live(src, SMALL_W_OPTS, emu_dst, dir);

    vm = dst;
    crb_writel(vm->qts, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    for (i = k + 1; i < 2; i++) {
        window_put(vm, cmd, i);
        crb_writel(vm->qts, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    }
    window_put(vm, cmd, 2);
    crb_writel(vm->qts, A_CRB_CTRL_START, CRB_START);
    g_assert_true(crb_wait_start_clear(vm->qts));
    rsp = crb_receive(vm->qts, NULL);
    g_assert_cmpmem(rsp->data, rsp->len, cmd->data, cmd->len);
    g_assert_cmpuint(vm_tpm_commands(dst), ==, 1);

    vm_free(dst);
    vm_free(src);
    tpm_crb_util_rmdir(dir);
}

/*
 * A response read whole before the migration is kept: crbRspRetry gives
 * it again on the destination, and a nextChunk over the untouched window
 * is the driver's acknowledgement, not a new command.
 */
static void test_drained(void)
{
    g_autofree char *dir = g_dir_make_tmp("tpm-crb-drained-XXXXXX", NULL);
    g_autoptr(GByteArray) cmd = crb_make_command(2 * SMALL_W + 100, 0x17b,
                                                 9);
    g_autoptr(GByteArray) rsp = NULL, again = NULL;
    TPMEmu *emu_dst = emu_new(4096);
    VM *src, *dst;

    src = vm_start(emu_new(4096), SMALL_W_OPTS, NULL);
    rsp = crb_transfer(src->qts, cmd->data, cmd->len, NULL);
    g_assert_cmpmem(rsp->data, rsp->len, cmd->data, cmd->len);
    dst = migrate_live(src, SMALL_W_OPTS, emu_dst, dir);

    crb_writel(dst->qts, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    crb_writel(dst->qts, A_CRB_CTRL_START, CRB_RSP_RETRY);
    again = crb_receive(dst->qts, NULL);
    g_assert_cmpmem(again->data, again->len, cmd->data, cmd->len);
    g_assert_cmpuint(vm_tpm_commands(dst), ==, 0);

    vm_free(dst);
    vm_free(src);
    tpm_crb_util_rmdir(dir);
}

/*
 * The first chunk declares a size the device cannot take; the driver
 * writes its other chunks, the second of which starts like a complete
 * command of its own, then Start. One TPM_RC_COMMAND_SIZE, at Start, and
 * nothing reaches either TPM; optionally migrated after the first chunk.
 */
static void refused_case(uint32_t declared, bool migrate)
{
    g_autofree char *dir = g_dir_make_tmp("tpm-crb-refused-XXXXXX", NULL);
    g_autoptr(GByteArray) cmd = crb_make_command(3 * SMALL_W, 0x17b, 5);
    g_autoptr(GByteArray) startup = cmd_startup();
    g_autoptr(GByteArray) rsp = NULL, next = NULL;
    VM *src, *dst = NULL, *vm;

    g_test_message("declared %" PRIu32 "%s", declared,
                   migrate ? ", migrated after the first chunk" : "");
    cmd->data[2] = declared >> 24;
    cmd->data[3] = declared >> 16;
    cmd->data[4] = declared >> 8;
    cmd->data[5] = declared;
    /* The second chunk looks like a whole 12-byte command. */
    memcpy(cmd->data + SMALL_W, startup->data, startup->len);

    src = vm_start(emu_new(4096), SMALL_W_OPTS, NULL);
    begin_command(src);
    window_put(src, cmd, 0);
    crb_writel(src->qts, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    vm = src;
    if (migrate) {
        dst = migrate_live(src, SMALL_W_OPTS, emu_new(4096), dir);
        vm = dst;
    }
    window_put(vm, cmd, 1);
    crb_writel(vm->qts, A_CRB_CTRL_START, CRB_NEXT_CHUNK);
    window_put(vm, cmd, 2);
    crb_writel(vm->qts, A_CRB_CTRL_START, CRB_START);
    g_assert_true(crb_wait_start_clear(vm->qts));
    g_assert_false(crb_tpm_sts(vm->qts));
    rsp = crb_receive(vm->qts, NULL);
    g_assert_cmpuint(rsp->len, ==, 10);
    g_assert_cmphex(crb_be32(rsp->data + 6), ==, TPM_RC_COMMAND_SIZE);
    g_assert_cmpuint(vm_tpm_commands(src), ==, 0);
    if (dst) {
        g_assert_cmpuint(vm_tpm_commands(dst), ==, 0);
    }

    /* The next command is served as usual. */
    next = crb_transfer(vm->qts, cmd->data + SMALL_W, 12, NULL);
    g_assert_cmpmem(next->data, next->len, cmd->data + SMALL_W, 12);

    if (dst) {
        vm_free(dst);
    }
    vm_free(src);
    tpm_crb_util_rmdir(dir);
}

static void test_refused(void)
{
    refused_case(4097, false);
    refused_case(5, false);
}

static void test_refused_migrated(void)
{
    refused_case(4097, true);
    refused_case(5, true);
}

/* Poll until the migration failed and the source runs again. */
static char *wait_failed_and_running(QTestState *qts)
{
    gint64 end = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
    char *desc = NULL;

    for (;;) {
        QDict *r = migrate_query(qts);
        const char *status = qdict_get_try_str(r, "status");

        g_assert_nonnull(status);
        if (!strcmp(status, "failed")) {
            desc = g_strdup(qdict_get_try_str(r, "error-desc"));
            qobject_unref(r);
            break;
        }
        g_assert_cmpstr(status, !=, "completed");
        qobject_unref(r);
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(20 * 1000);
    }
    for (;;) {
        QDict *r = qtest_qmp_assert_success_ref(qts,
                                                "{'execute': 'query-status'}");
        bool running = qdict_get_bool(r, "running");

        qobject_unref(r);
        if (running) {
            break;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, end);
        g_usleep(20 * 1000);
    }
    return desc;
}

/*
 * The TPM does not answer at the switchover: the migration fails with an
 * error, the source keeps running, and once the TPM answers the guest
 * reads its response there and its next command is served.
 */
static void test_stalled(void)
{
    g_autofree char *dir = g_dir_make_tmp("tpm-crb-stall-XXXXXX", NULL);
    g_autofree char *uri = g_strdup_printf("unix:%s/mig.sock", dir);
    g_autofree char *desc = NULL;
    g_autoptr(GByteArray) cmd = crb_make_command(100, 0x131, 3);
    g_autoptr(GByteArray) rsp = NULL, next = NULL;
    TPMEmu *emu_src = emu_new(8192);
    VM *src, *dst;

    src = vm_start(emu_src, CHUNK_ON, NULL);
    tpm_emu_set_reply(emu_src, TPM_EMU_REPLY_STALL);
    begin_command(src);
    crb_send(src->qts, cmd->data, cmd->len, NULL);
    g_assert_true(tpm_emu_wait_held(emu_src, 10000));

    dst = vm_start(emu_new(8192), CHUNK_ON, "-incoming defer");
    migrate_incoming_qmp(dst->qts, uri, NULL, "{}");
    migrate_qmp(src->qts, dst->qts, uri, NULL, "{}");
    desc = wait_failed_and_running(src->qts);
    g_test_message("the migration failed: %s", desc ? desc : "(no error)");
    g_assert_nonnull(desc);
    g_assert_nonnull(strstr(desc, "tpm"));

    /* Still executing on the source; the TPM answers now. */
    g_assert_true(FIELD_EX32(crb_readl(src->qts, A_CRB_CTRL_START),
                             CRB_CTRL_START, invoke));
    tpm_emu_set_reply(emu_src, TPM_EMU_REPLY_ECHO);
    tpm_emu_release(emu_src);
    g_assert_true(crb_wait_start_clear(src->qts));
    g_assert_false(crb_tpm_sts(src->qts));
    rsp = crb_receive(src->qts, NULL);
    g_assert_cmpmem(rsp->data, rsp->len, cmd->data, cmd->len);
    next = crb_transfer(src->qts, cmd->data, cmd->len, NULL);
    g_assert_cmpmem(next->data, next->len, cmd->data, cmd->len);

    qtest_set_expected_status(dst->qts, 1);
    vm_free(dst);
    vm_free(src);
    tpm_crb_util_rmdir(dir);
}

/*
 * The TPM answers after the stop handler gave up (10 s) but before the
 * device's state is saved: the response went into window RAM that was
 * already sent, so the migration fails, and the source's guest reads it.
 */
static void test_late_answer(void)
{
    g_autofree char *dir = g_dir_make_tmp("tpm-crb-late-XXXXXX", NULL);
    g_autofree char *uri = g_strdup_printf("unix:%s/mig.sock", dir);
    g_autofree char *desc = NULL;
    g_autoptr(GByteArray) cmd = crb_make_command(100, 0x131, 4);
    g_autoptr(GByteArray) rsp = NULL;
    TPMEmu *emu_src = emu_new(8192);
    Releaser rel;
    VM *src, *dst;

    src = vm_start(emu_src, CHUNK_ON, NULL);
    tpm_emu_set_reply(emu_src, TPM_EMU_REPLY_STALL);
    begin_command(src);
    crb_send(src->qts, cmd->data, cmd->len, NULL);
    g_assert_true(tpm_emu_wait_held(emu_src, 10000));

    dst = vm_start(emu_new(8192), CHUNK_ON, "-incoming defer");
    migrate_incoming_qmp(dst->qts, uri, NULL, "{}");
    /* After the stop handler's 10 s, within the emulator's next 10 s */
    releaser_start(&rel, emu_src, 15000);
    migrate_qmp(src->qts, dst->qts, uri, NULL, "{}");
    desc = wait_failed_and_running(src->qts);
    releaser_join(&rel);
    g_test_message("the migration failed: %s", desc ? desc : "(no error)");
    g_assert_nonnull(desc);
    g_assert_nonnull(strstr(desc, "completed after guest memory was saved"));

    g_assert_true(crb_wait_start_clear(src->qts));
    rsp = crb_receive(src->qts, NULL);
    g_assert_cmpmem(rsp->data, rsp->len, cmd->data, cmd->len);

    qtest_set_expected_status(dst->qts, 1);
    vm_free(dst);
    vm_free(src);
    tpm_crb_util_rmdir(dir);
}

static const ExecCase exec_cases[] = {
    { "live-chunking-on", LIVE, true },
    { "live-chunking-off", LIVE, false },
    { "file-chunking-on", TO_FILE, true },
    { "file-chunking-off", TO_FILE, false },
    { "paused-file-chunking-on", PAUSED_TO_FILE, true },
    { "paused-file-chunking-off", PAUSED_TO_FILE, false },
};

int main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);
    for (i = 0; i < G_N_ELEMENTS(exec_cases); i++) {
        g_autofree char *path = g_strdup_printf(
            "/tpm-crb-switchover/executing/%s", exec_cases[i].name);

        qtest_add_data_func(path, &exec_cases[i], test_executing);
    }
    qtest_add_func("/tpm-crb-switchover/executing/swtpm-create-primary",
                   test_executing_swtpm);
    qtest_add_data_func("/tpm-crb-switchover/chunk-in-window/first",
                        GUINT_TO_POINTER(0), test_chunk_in_window);
    qtest_add_data_func("/tpm-crb-switchover/chunk-in-window/middle",
                        GUINT_TO_POINTER(1), test_chunk_in_window);
    qtest_add_func("/tpm-crb-switchover/drained", test_drained);
    qtest_add_func("/tpm-crb-switchover/refused", test_refused);
    qtest_add_func("/tpm-crb-switchover/refused-migrated",
                   test_refused_migrated);
    qtest_add_func("/tpm-crb-switchover/stalled", test_stalled);
    qtest_add_func("/tpm-crb-switchover/late-answer", test_late_answer);
    return g_test_run();
}
