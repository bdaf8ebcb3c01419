/*
 * qtest: migrating tpm-crb with a real swtpm on both sides. Idle
 * migration (PCRs and a key survive), migration in the middle of a
 * chunked upload and of a chunked download, save to a file and restore
 * into a fresh process, compatibility with x-allow-chunk-migration=off
 * destinations and the defaults, and destinations that must refuse a
 * stream: corrupted device states, a smaller TPM buffer, truncations.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include <glib/gstdio.h>

#include "hw/acpi/tpm.h"
#include "tpm-crb-emu.h"
#include "tpm-proc.h"
#include "tpm-crb-util.h"
#include "migration-stream.h"

#define CRB(off) ((uint64_t)TPM_CRB_ADDR_BASE + (off))
#define CRB_DATA CRB(A_CRB_DATA_BUFFER)
#define SMALL_W 64
#define MIGRATION_TIMEOUT_US (60 * G_USEC_PER_SEC)

static const char *qemu_binary(void)
{
    const char *bin = g_getenv("QTEST_QEMU_BINARY");

    g_assert_nonnull(bin);
    return bin;
}

/* A VM: the emulator process and what stands behind its TPM. */
typedef struct VM {
    char *tpm_dir;
    GPid tpm_pid;
    SocketAddress *tpm_addr;
    TPMEmu *emu;
    TPMProc *p;
} VM;

/*
 * Start a VM with machine type machine, extra tpm-crb properties devopts
 * ("" or ",prop=value...") and extra arguments (NULL-terminated). With
 * emu, the TPM is that fake instead of a fresh swtpm.
 */
static VM *vm_start_with(const char *binary, const char *machine,
                         const char *devopts, const char *const *extra,
                         TPMEmu *emu)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    VM *vm = g_new0(VM, 1);
    const char *sock;

    if (emu) {
        vm->emu = emu;
        sock = tpm_emu_socket_path(emu);
    } else {
        vm->tpm_dir = g_dir_make_tmp("tpm-crb-mig-XXXXXX", &err);
        g_assert_no_error(err);
        g_assert_true(tpm_crb_util_swtpm_start(vm->tpm_dir, &vm->tpm_pid,
                                           &vm->tpm_addr, &err));
        g_assert_no_error(err);
        sock = vm->tpm_addr->u.q_unix.path;
    }
    g_ptr_array_add(args, g_strdup("-M"));
    g_ptr_array_add(args, g_strdup(machine));
    g_ptr_array_add(args, g_strdup("-nodefaults"));
    /*
     * The chunking cases run on q35 and opt in; the cases that name a
     * machine type (other versions, the defaults) leave both off.
     */
    if (!strcmp(machine, "q35")) {
        g_ptr_array_add(args, g_strdup("-global"));
        g_ptr_array_add(args, g_strdup("tpm-crb.cap-chunk=on"));
        g_ptr_array_add(args, g_strdup("-global"));
        g_ptr_array_add(args, g_strdup("tpm-crb.x-allow-chunk-migration=on"));
    }
    g_ptr_array_add(args, g_strdup("-chardev"));
    g_ptr_array_add(args, g_strdup_printf("socket,id=chr,path=%s", sock));
    g_ptr_array_add(args, g_strdup("-tpmdev"));
    g_ptr_array_add(args, g_strdup("emulator,id=tpm0,chardev=chr"));
    g_ptr_array_add(args, g_strdup("-device"));
    g_ptr_array_add(args, g_strdup_printf("tpm-crb,tpmdev=tpm0%s",
                                          devopts));
    for (; extra && *extra; extra++) {
        g_ptr_array_add(args, g_strdup(*extra));
    }
    g_ptr_array_add(args, NULL);
    vm->p = tpm_proc_spawn(binary, (const char *const *)args->pdata, true);
    tpm_proc_connect(vm->p, true);
    return vm;
}

static VM *vm_start(const char *machine, const char *devopts,
                    const char *const *extra, TPMEmu *emu)
{
    return vm_start_with(qemu_binary(), machine, devopts, extra, emu);
}


static void vm_stop(VM *vm)
{
    if (!vm) {
        return;
    }
    if (!vm->p->exited) {
        /* A clean exit: no sanitizer report, no leak, no crash. */
        int status = tpm_proc_quit(vm->p);

        if (status != 0) {
            g_autofree char *out = tpm_proc_stderr(vm->p);

            g_error("the emulator exited with status %d:\n%s", status, out);
        }
    }
    tpm_proc_free(vm->p);
    if (vm->tpm_dir) {
        tpm_crb_util_swtpm_kill(vm->tpm_pid);
        qapi_free_SocketAddress(vm->tpm_addr);
        tpm_crb_util_rmdir(vm->tpm_dir);
        g_free(vm->tpm_dir);
    }
    g_free(vm);
}

/* QMP */

static QDict *vm_qmp(VM *vm, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static QDict *vm_qmp(VM *vm, const char *fmt, ...)
{
    g_autofree char *cmd = NULL;
    va_list ap;

    va_start(ap, fmt);
    cmd = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return tpm_proc_qmp(vm->p, cmd);
}

static char *vm_runstate(VM *vm)
{
    QDict *rsp = vm_qmp(vm, "{'execute': 'query-status'}");
    char *status;

    g_assert_true(qdict_haskey(rsp, "return"));
    status = g_strdup(qdict_get_str(
                          qdict_get_qdict(rsp, "return"),
                          "status"));
    qobject_unref(rsp);
    return status;
}

/* Poll query-migrate until a final status; returns it, *desc if failed. */
static char *vm_wait_migration(VM *vm, char **desc)
{
    return tpm_proc_wait_migration(vm->p, MIGRATION_TIMEOUT_US / 1000, desc);
}

static void vm_migrate(VM *src, const char *uri)
{
    QDict *rsp = vm_qmp(src, "{'execute': 'migrate', "
                             "'arguments': {'uri': '%s'}}", uri);

    if (!qdict_haskey(rsp, "return")) {
        g_error("migrate %s refused: %s", uri,
                qdict_get_str(qdict_get_qdict(rsp, "error"), "desc"));
    }
    qobject_unref(rsp);
}

static void assert_status(VM *vm, const char *want)
{
    g_autofree char *status = vm_wait_migration(vm, NULL);

    g_assert_cmpstr(status, ==, want);
}

static void assert_runstate(VM *vm, const char *want)
{
    g_autofree char *state = vm_runstate(vm);

    g_assert_cmpstr(state, ==, want);
}

/*
 * A destination that listens on uri (migrate-incoming returns once it
 * does). After a refused stream it keeps running (exit-on-error off) so
 * that the test can ask it what happened. accel: NULL, or extra options.
 */
static VM *vm_start_incoming_with(const char *binary, const char *machine,
                                  const char *devopts,
                                  const char *const *accel, TPMEmu *emu,
                                  const char *uri)
{
    const char *extra[] = {
        "-incoming", "defer",
        accel ? accel[0] : NULL, accel ? accel[1] : NULL,
        accel ? accel[2] : NULL, NULL
    };
    VM *dst = vm_start_with(binary, machine, devopts, extra, emu);
    QDict *rsp;

    rsp = vm_qmp(dst, "{'execute': 'migrate-incoming', 'arguments': "
                 "{'uri': '%s', 'exit-on-error': false}}", uri);
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    return dst;
}

/* Migrate src to a new destination over a unix socket. */
static VM *migrate_to_new(VM *src, const char *devopts, TPMEmu *emu)
{
    g_autofree char *uri = g_strdup_printf("unix:%s/mig.sock", src->p->dir);
    VM *dst = vm_start_incoming_with(qemu_binary(), "q35", devopts, NULL,
                                     emu, uri);

    vm_migrate(src, uri);
    assert_status(src, "completed");
    assert_status(dst, "completed");
    assert_runstate(src, "postmigrate");
    assert_runstate(dst, "running");
    return dst;
}

/* CRB access */

static uint32_t crb_r(VM *vm, uint32_t off)
{
    return tpm_proc_readl(vm->p, CRB(off));
}

static void crb_w(VM *vm, uint32_t off, uint32_t val)
{
    tpm_proc_writel(vm->p, CRB(off), val);
}

static void window_write(VM *vm, const uint8_t *buf, size_t len)
{
    tpm_qtest_memwrite(vm->p->qtest_fd, vm->p->qtest_in, CRB_DATA, buf, len);
}

static GByteArray *window_read(VM *vm, size_t len)
{
    GByteArray *ba = g_byte_array_sized_new(len);

    g_byte_array_set_size(ba, len);
    tpm_qtest_memread(vm->p->qtest_fd, vm->p->qtest_in, CRB_DATA, ba->data,
                      len);
    return ba;
}

static void crb_begin(VM *vm)
{
    crb_w(vm, A_CRB_LOC_CTRL, R_CRB_LOC_CTRL_requestAccess_MASK);
    crb_w(vm, A_CRB_CTRL_REQ, R_CRB_CTRL_REQ_cmdReady_MASK);
}

static void crb_wait_done(VM *vm)
{
    gint64 deadline = g_get_monotonic_time() + MIGRATION_TIMEOUT_US;

    while (crb_r(vm, A_CRB_CTRL_START) & R_CRB_CTRL_START_invoke_MASK) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }
    g_assert_cmpuint(crb_r(vm, A_CRB_CTRL_STS) &
                     R_CRB_CTRL_STS_tpmSts_MASK, ==, 0);
}

static size_t n_chunks(size_t len, uint32_t w)
{
    return (len + w - 1) / w;
}

/*
 * Put piece k (0-based) of cmd in the window and hand it over: with
 * nextChunk, or with Start for the last piece.
 */
static void upload_piece(VM *vm, const GByteArray *cmd, uint32_t w, size_t k)
{
    size_t off = k * w;
    size_t n = MIN(w, cmd->len - off);

    window_write(vm, cmd->data + off, n);
    crb_w(vm, A_CRB_CTRL_START, k + 1 < n_chunks(cmd->len, w) ?
          R_CRB_CTRL_START_nextChunk_MASK : R_CRB_CTRL_START_invoke_MASK);
}

static uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

/*
 * Read the rest of a response whose first `have` chunks were already
 * read: the window now holds chunk have-1. Returns the whole response,
 * taking earlier chunks from `so_far`.
 */
static GByteArray *download_rest(VM *vm, uint32_t w, GByteArray *so_far)
{
    GByteArray *rsp = g_byte_array_new();
    uint32_t total;

    g_byte_array_append(rsp, so_far->data, so_far->len);
    g_assert_cmpuint(rsp->len, >=, 10);
    total = be32(rsp->data + 2);
    while (rsp->len < total) {
        g_autoptr(GByteArray) piece = NULL;

        crb_w(vm, A_CRB_CTRL_START, R_CRB_CTRL_START_nextChunk_MASK);
        piece = window_read(vm, MIN(w, total - rsp->len));
        g_byte_array_append(rsp, piece->data, piece->len);
    }
    g_byte_array_set_size(rsp, total);
    return rsp;
}

/* A whole transfer, chunked as needed. */
static GByteArray *transfer(VM *vm, const GByteArray *cmd, uint32_t w)
{
    g_autoptr(GByteArray) first = NULL;
    g_autoptr(GByteArray) head = NULL;

    crb_begin(vm);
    for (size_t k = 0; k < n_chunks(cmd->len, w); k++) {
        upload_piece(vm, cmd, w, k);
    }
    crb_wait_done(vm);
    head = window_read(vm, 10);
    first = window_read(vm, MIN(w, be32(head->data + 2)));
    return download_rest(vm, w, first);
}

static void assert_rc_success(const GByteArray *rsp)
{
    g_assert_cmpuint(rsp->len, >=, 10);
    g_assert_cmphex(be32(rsp->data + 6), ==, 0);
}

/* TPM 2 commands */

static GByteArray *bytes(const uint8_t *p, size_t len)
{
    GByteArray *ba = g_byte_array_new();

    g_byte_array_append(ba, p, len);
    return ba;
}

static GByteArray *cmd_startup(void)
{
    static const uint8_t c[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44,
        0x00, 0x00,
    };

    return bytes(c, sizeof(c));
}

/* TPM2_PCR_Extend(PCR 10, SHA-256 digest of all `fill` bytes). */
static GByteArray *cmd_pcr_extend(uint8_t fill)
{
    static const uint8_t head[] = {
        0x80, 0x02, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x01, 0x82,
        0x00, 0x00, 0x00, 0x0a,                     /* PCR 10 */
        0x00, 0x00, 0x00, 0x09,                     /* auth area */
        0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x0b,         /* 1 SHA-256 */
    };
    GByteArray *c = bytes(head, sizeof(head));

    for (int i = 0; i < 32; i++) {
        g_byte_array_append(c, &fill, 1);
    }
    g_assert_cmpuint(c->len, ==, 0x41);
    return c;
}

/* TPM2_PCR_Read of PCRs 0-7, SHA-256: a 300-byte response. */
static GByteArray *cmd_pcr_read(void)
{
    static const uint8_t c[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x01, 0x7e,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x0b, 0x03, 0xff, 0x00, 0x00,
    };

    return bytes(c, sizeof(c));
}

/* TPM2_PCR_Read of PCR 10 only. */
static GByteArray *cmd_pcr10_read(void)
{
    static const uint8_t c[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x01, 0x7e,
        0x00, 0x00, 0x00, 0x01, 0x00, 0x0b, 0x03, 0x00, 0x04, 0x00,
    };

    return bytes(c, sizeof(c));
}

/* TPM2_Hash of len pattern bytes (SHA-256, TPM_RH_NULL). */
static GByteArray *cmd_hash(uint16_t len)
{
    static const uint8_t head[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x7d,
    };
    static const uint8_t tail[] = {
        0x00, 0x0b, 0x40, 0x00, 0x00, 0x07,
    };
    GByteArray *c = bytes(head, sizeof(head));
    uint8_t sz[2] = { len >> 8, len };

    g_byte_array_append(c, sz, 2);
    for (uint16_t i = 0; i < len; i++) {
        uint8_t b = i * 7 + 3;

        g_byte_array_append(c, &b, 1);
    }
    g_byte_array_append(c, tail, sizeof(tail));
    c->data[2] = c->len >> 24;
    c->data[3] = c->len >> 16;
    c->data[4] = c->len >> 8;
    c->data[5] = c->len;
    return c;
}

/* TPM2_CreatePrimary: an ECC P-256 storage key under the owner. */
static GByteArray *cmd_create_primary(void)
{
    static const uint8_t c[] = {
        0x80, 0x02, 0x00, 0x00, 0x00, 0x43, 0x00, 0x00, 0x01, 0x31,
        0x40, 0x00, 0x00, 0x01,                     /* TPM_RH_OWNER */
        0x00, 0x00, 0x00, 0x09,                     /* password session */
        0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x04, 0x00, 0x00, 0x00, 0x00,         /* inSensitive */
        0x00, 0x1a,                                 /* inPublic, 26 */
        0x00, 0x23, 0x00, 0x0b,                     /* ECC, SHA-256 */
        0x00, 0x03, 0x00, 0x72,                     /* restricted decrypt */
        0x00, 0x00,                                 /* no policy */
        0x00, 0x06, 0x00, 0x80, 0x00, 0x43,         /* AES-128-CFB */
        0x00, 0x10, 0x00, 0x03, 0x00, 0x10,         /* NULL, P-256, NULL */
        0x00, 0x00, 0x00, 0x00,                     /* unique */
        0x00, 0x00,                                 /* outsideInfo */
        0x00, 0x00, 0x00, 0x00,                     /* creationPCR */
    };

    return bytes(c, sizeof(c));
}

static GByteArray *cmd_read_public(uint32_t handle)
{
    uint8_t c[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x01, 0x73,
        handle >> 24, handle >> 16, handle >> 8, handle,
    };

    return bytes(c, sizeof(c));
}

/*
 * NV index 0x01500010: 32 bytes, owner read and write, no DA (the owner's
 * auth is empty, so a password session with an empty HMAC).
 */
#define NV_INDEX 0x01500010
#define NV_SIZE 32

static GByteArray *cmd_nv_define(void)
{
    static const uint8_t c[] = {
        0x80, 0x02, 0x00, 0x00, 0x00, 0x2d, 0x00, 0x00, 0x01, 0x2a,
        0x40, 0x00, 0x00, 0x01,                     /* TPM_RH_OWNER */
        0x00, 0x00, 0x00, 0x09,                     /* auth area */
        0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00,                                 /* auth */
        0x00, 0x0e,                                 /* publicInfo, 14 */
        0x01, 0x50, 0x00, 0x10, 0x00, 0x0b,         /* index, SHA-256 */
        0x02, 0x02, 0x00, 0x02,                     /* NO_DA, OWNER r/w */
        0x00, 0x00, 0x00, NV_SIZE,                  /* no policy, size */
    };

    return bytes(c, sizeof(c));
}

/* The NV index's contents for a given fill: fill, fill + 1, ... */
static void nv_pattern(uint8_t fill, uint8_t out[NV_SIZE])
{
    for (int i = 0; i < NV_SIZE; i++) {
        out[i] = fill + i;
    }
}

static GByteArray *cmd_nv_write(uint8_t fill)
{
    static const uint8_t head[] = {
        0x80, 0x02, 0x00, 0x00, 0x00, 0x43, 0x00, 0x00, 0x01, 0x37,
        0x40, 0x00, 0x00, 0x01, 0x01, 0x50, 0x00, 0x10,
        0x00, 0x00, 0x00, 0x09,                     /* auth area */
        0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, NV_SIZE,
    };
    static const uint8_t offset[] = { 0x00, 0x00 };
    GByteArray *c = bytes(head, sizeof(head));
    uint8_t data[NV_SIZE];

    nv_pattern(fill, data);
    g_byte_array_append(c, data, sizeof(data));
    g_byte_array_append(c, offset, sizeof(offset));
    g_assert_cmpuint(c->len, ==, 0x43);
    return c;
}

static GByteArray *cmd_nv_read(void)
{
    static const uint8_t c[] = {
        0x80, 0x02, 0x00, 0x00, 0x00, 0x23, 0x00, 0x00, 0x01, 0x4e,
        0x40, 0x00, 0x00, 0x01, 0x01, 0x50, 0x00, 0x10,
        0x00, 0x00, 0x00, 0x09,                     /* auth area */
        0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, NV_SIZE, 0x00, 0x00,                  /* size, offset */
    };

    return bytes(c, sizeof(c));
}

/*
 * The NV index holds what tpm_make_state(fill) wrote. Returns the whole
 * NV_Read response, to compare byte for byte.
 */
static GByteArray *assert_nv_holds(VM *vm, uint8_t fill)
{
    g_autoptr(GByteArray) c = cmd_nv_read();
    GByteArray *r = transfer(vm, c, TPM_CRB_DATA_BUFFER_SIZE);
    uint8_t want[NV_SIZE];

    assert_rc_success(r);
    nv_pattern(fill, want);
    /* header, parameterSize, TPM2B size, the bytes */
    g_assert_cmpuint(r->len, >=, 16 + NV_SIZE);
    g_assert_cmpuint((r->data[14] << 8) | r->data[15], ==, NV_SIZE);
    g_assert_cmpmem(r->data + 16, NV_SIZE, want, NV_SIZE);
    return r;
}

static void tpm_startup(VM *vm, uint32_t w)
{
    g_autoptr(GByteArray) c = cmd_startup();
    g_autoptr(GByteArray) r = transfer(vm, c, w);

    assert_rc_success(r);
}

/*
 * Give a freshly started TPM state that must survive a move: TPM2_Startup,
 * PCR 10 extended with fill, an NV index written with nv_pattern(fill), a
 * transient primary key. Returns PCR 10 as read after the extend;
 * *create is the CreatePrimary response.
 */
static GByteArray *tpm_make_state(VM *vm, uint8_t fill, GByteArray **create)
{
    g_autoptr(GByteArray) extend = cmd_pcr_extend(fill);
    g_autoptr(GByteArray) pcr = cmd_pcr10_read();
    g_autoptr(GByteArray) primary = cmd_create_primary();
    g_autoptr(GByteArray) define = cmd_nv_define();
    g_autoptr(GByteArray) write = cmd_nv_write(fill);
    g_autoptr(GByteArray) r = NULL, r_define = NULL, r_write = NULL;
    GByteArray *r_pcr;

    tpm_startup(vm, TPM_CRB_DATA_BUFFER_SIZE);
    r = transfer(vm, extend, TPM_CRB_DATA_BUFFER_SIZE);
    assert_rc_success(r);
    r_define = transfer(vm, define, TPM_CRB_DATA_BUFFER_SIZE);
    assert_rc_success(r_define);
    r_write = transfer(vm, write, TPM_CRB_DATA_BUFFER_SIZE);
    assert_rc_success(r_write);
    r_pcr = transfer(vm, pcr, TPM_CRB_DATA_BUFFER_SIZE);
    assert_rc_success(r_pcr);
    *create = transfer(vm, primary, TPM_CRB_DATA_BUFFER_SIZE);
    assert_rc_success(*create);
    return r_pcr;
}

/* Tests */

static void test_idle(void)
{
    g_autoptr(GByteArray) pcr = cmd_pcr10_read();
    g_autoptr(GByteArray) r_pcr = NULL, r_create = NULL;
    g_autoptr(GByteArray) r_pcr2 = NULL, r_pub = NULL, read_pub = NULL;
    g_autoptr(GByteArray) nv = NULL;
    uint32_t handle, pub_len;
    VM *src, *dst;

    src = vm_start("q35", "", NULL, NULL);
    r_pcr = tpm_make_state(src, 0x5a, &r_create);
    handle = be32(r_create->data + 10);
    g_assert_cmphex(handle >> 24, ==, 0x80);

    dst = migrate_to_new(src, "", NULL);

    /* The PCR value, the NV index and the transient key are there. */
    r_pcr2 = transfer(dst, pcr, TPM_CRB_DATA_BUFFER_SIZE);
    g_assert_cmpmem(r_pcr2->data, r_pcr2->len, r_pcr->data, r_pcr->len);
    nv = assert_nv_holds(dst, 0x5a);
    read_pub = cmd_read_public(handle);
    r_pub = transfer(dst, read_pub, TPM_CRB_DATA_BUFFER_SIZE);
    assert_rc_success(r_pub);
    /* outPublic: at 18 in CreatePrimary's response, at 10 here. */
    pub_len = 2 + ((r_create->data[18] << 8) | r_create->data[19]);
    g_assert_cmpmem(r_pub->data + 10, pub_len, r_create->data + 18,
                    pub_len);

    vm_stop(dst);
    vm_stop(src);
}

/*
 * Migrate after upload piece k of a multi-chunk TPM2_Hash; finish on the
 * destination; the response is the one the source gives unmigrated.
 */
static void test_mid_upload(void)
{
    g_autoptr(GByteArray) cmd = cmd_hash(200);
    g_autoptr(GByteArray) want = NULL;
    g_autofree char *devopts = g_strdup_printf(",x-data-buffer-size=%d",
                                               SMALL_W);
    size_t n = n_chunks(cmd->len, SMALL_W);

    g_assert_cmpuint(n, >=, 3);
    for (size_t k = 1; k < n; k++) {
        g_autoptr(GByteArray) win_src = NULL, win_dst = NULL, got = NULL;
        VM *src = vm_start("q35", devopts, NULL, NULL);
        VM *dst;

        g_assert_cmpuint(crb_r(src, A_CRB_INTF_ID) &
                         R_CRB_INTF_ID_CapCRBChunk_MASK, !=, 0);
        tpm_startup(src, SMALL_W);
        if (!want) {
            want = transfer(src, cmd, SMALL_W);
            assert_rc_success(want);
        }
        crb_begin(src);
        for (size_t i = 0; i < k; i++) {
            upload_piece(src, cmd, SMALL_W, i);
        }
        /* The next piece already sits in the window, not yet handed over. */
        window_write(src, cmd->data + k * SMALL_W,
                     MIN(SMALL_W, cmd->len - k * SMALL_W));
        win_src = window_read(src, SMALL_W);

        dst = migrate_to_new(src, devopts, NULL);
        win_dst = window_read(dst, SMALL_W);
        g_assert_cmpmem(win_dst->data, win_dst->len, win_src->data,
                        win_src->len);
        for (size_t i = k; i < n; i++) {
            upload_piece(dst, cmd, SMALL_W, i);
        }
        crb_wait_done(dst);
        {
            g_autoptr(GByteArray) first = window_read(dst, MIN(SMALL_W,
                                                               want->len));

            got = download_rest(dst, SMALL_W, first);
        }
        g_assert_cmpmem(got->data, got->len, want->data, want->len);
        vm_stop(dst);
        vm_stop(src);
    }
}

/*
 * Migrate after k response chunks of a 300-byte PCR_Read were read: the
 * destination gives chunk k+1 next, and crbRspRetry gives the first.
 */
static void test_mid_download(void)
{
    g_autoptr(GByteArray) cmd = cmd_pcr_read();
    g_autoptr(GByteArray) want = NULL;
    g_autofree char *devopts = g_strdup_printf(",x-data-buffer-size=%d",
                                               SMALL_W);
    size_t n = 0;

    for (size_t k = 1; !want || k < n; k++) {
        g_autoptr(GByteArray) win_src = NULL, win_dst = NULL;
        g_autoptr(GByteArray) next = NULL, first = NULL, got = NULL;
        VM *src = vm_start("q35", devopts, NULL, NULL);
        VM *dst;

        tpm_startup(src, SMALL_W);
        if (!want) {
            want = transfer(src, cmd, SMALL_W);
            assert_rc_success(want);
            n = n_chunks(want->len, SMALL_W);
            g_assert_cmpuint(n, >=, 3);
        }
        crb_begin(src);
        upload_piece(src, cmd, SMALL_W, 0);
        crb_wait_done(src);
        for (size_t i = 1; i < k; i++) {
            crb_w(src, A_CRB_CTRL_START, R_CRB_CTRL_START_nextChunk_MASK);
        }
        win_src = window_read(src, SMALL_W);
        g_assert_cmpmem(win_src->data,
                        MIN(SMALL_W, want->len - (k - 1) * SMALL_W),
                        want->data + (k - 1) * SMALL_W,
                        MIN(SMALL_W, want->len - (k - 1) * SMALL_W));

        dst = migrate_to_new(src, devopts, NULL);
        win_dst = window_read(dst, SMALL_W);
        g_assert_cmpmem(win_dst->data, win_dst->len, win_src->data,
                        win_src->len);

        /* The next chunk continues where the source stopped. */
        crb_w(dst, A_CRB_CTRL_START, R_CRB_CTRL_START_nextChunk_MASK);
        next = window_read(dst, MIN(SMALL_W, want->len - k * SMALL_W));
        g_assert_cmpmem(next->data, next->len, want->data + k * SMALL_W,
                        next->len);
        /* crbRspRetry starts over; then the whole response reads back. */
        crb_w(dst, A_CRB_CTRL_START, R_CRB_CTRL_START_crbRspRetry_MASK);
        first = window_read(dst, SMALL_W);
        g_assert_cmpmem(first->data, first->len, want->data, SMALL_W);
        got = download_rest(dst, SMALL_W, first);
        g_assert_cmpmem(got->data, got->len, want->data, want->len);

        vm_stop(dst);
        vm_stop(src);
    }
}

/* Save mid-upload to a file; restore into a fresh process later. */
static void test_file_restore(void)
{
    g_autoptr(GByteArray) cmd = cmd_hash(150);
    g_autoptr(GByteArray) want = NULL, got = NULL, first = NULL;
    g_autofree char *devopts = g_strdup_printf(",x-data-buffer-size=%d",
                                               SMALL_W);
    g_autofree char *dir = NULL, *file = NULL, *uri = NULL;
    const char *extra[] = { "-incoming", "defer", NULL };
    size_t n = n_chunks(cmd->len, SMALL_W);
    QDict *rsp;
    VM *src, *dst;

    src = vm_start("q35", devopts, NULL, NULL);
    /* Outside the source's directory, which goes away with it. */
    dir = g_dir_make_tmp("tpm-crb-mig-file-XXXXXX", NULL);
    g_assert_nonnull(dir);
    file = g_build_filename(dir, "state.mig", NULL);
    uri = g_strdup_printf("file:%s", file);
    tpm_startup(src, SMALL_W);
    want = transfer(src, cmd, SMALL_W);
    assert_rc_success(want);
    crb_begin(src);
    upload_piece(src, cmd, SMALL_W, 0);
    upload_piece(src, cmd, SMALL_W, 1);
    vm_migrate(src, uri);
    assert_status(src, "completed");
    assert_runstate(src, "postmigrate");
    vm_stop(src);

    dst = vm_start("q35", devopts, extra, NULL);
    assert_runstate(dst, "inmigrate");
    rsp = vm_qmp(dst, "{'execute': 'migrate-incoming', "
                 "'arguments': {'uri': '%s'}}", uri);
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    assert_status(dst, "completed");
    assert_runstate(dst, "running");
    for (size_t i = 2; i < n; i++) {
        upload_piece(dst, cmd, SMALL_W, i);
    }
    crb_wait_done(dst);
    first = window_read(dst, MIN(SMALL_W, want->len));
    got = download_rest(dst, SMALL_W, first);
    g_assert_cmpmem(got->data, got->len, want->data, want->len);
    vm_stop(dst);
    g_unlink(file);
    g_rmdir(dir);
}

/* Read the whole file a migration wrote. */
static GByteArray *read_stream(const char *path)
{
    g_autoptr(GError) err = NULL;
    char *data;
    gsize len;

    g_assert_true(g_file_get_contents(path, &data, &len, &err));
    return g_byte_array_new_take((guint8 *)data, len);
}

/*
 * Start a destination reading path; wait for its verdict. It keeps
 * running after a refused stream (exit-on-error off) so that the test
 * can ask it what happened.
 */
static VM *vm_start_incoming(const char *devopts, TPMEmu *emu,
                             const char *uri)
{
    return vm_start_incoming_with(qemu_binary(), "q35", devopts, NULL, emu,
                                  uri);
}

static VM *load_file(const char *path, const char *devopts, TPMEmu *emu,
                     char **desc)
{
    g_autofree char *uri = g_strdup_printf("file:%s", path);
    VM *dst = vm_start_incoming(devopts, emu, uri);

    /* Wait for the load to end; desc says how. */
    g_free(vm_wait_migration(dst, desc));
    return dst;
}

/*
 * A source whose destination refused the stream. Without a return path
 * it may not know: if it had sent everything it ends "completed" and
 * waits in postmigrate until its user resumes it (cont); if the
 * destination closed the channel first, its migration "failed" and it
 * runs on by itself. Either way it serves on.
 */
static void vm_resume_after_refusal(VM *vm)
{
    g_autofree char *status = vm_wait_migration(vm, NULL);
    QDict *rsp;

    if (!strcmp(status, "failed")) {
        assert_runstate(vm, "running");
        return;
    }
    g_assert_cmpstr(status, ==, "completed");
    assert_runstate(vm, "postmigrate");
    rsp = vm_qmp(vm, "{'execute': 'cont'}");
    g_assert_true(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
}

/*
 * The destination refused: status failed, never ran, said why (want,
 * unless NULL: any reason).
 */
static void assert_refused(VM *dst, const char *desc, const char *want)
{
    if (!desc || (want && !strstr(desc, want))) {
        g_error("expected a failure mentioning '%s', got: %s",
                want ? want : "anything", desc ? desc : "(none)");
    }
    assert_runstate(dst, "inmigrate");
}

/*
 * A response read whole is kept for crbRspRetry and travels in the
 * subsection, which an x-allow-chunk-migration=off destination refuses.
 * Once the driver's next cmdReady drops it, the stream holds no chunk
 * state and that destination takes it.
 */
static void test_allow_off_accepts(void)
{
    g_autoptr(GByteArray) pcr = cmd_pcr_read();
    g_autoptr(GError) err = NULL;
    g_autofree char *devopts = g_strdup_printf(",x-data-buffer-size=%d",
                                               SMALL_W);
    g_autofree char *dst_opts = g_strdup_printf(
        "%s,x-allow-chunk-migration=off", devopts);
    int round;

    /*
     * A fresh source each round: QEMU 10.2.2 leaks the file name of an
     * outgoing file: migration when the same VM migrates again.
     */
    for (round = 0; round < 2; round++) {
        g_autoptr(GByteArray) r1 = NULL, r2 = NULL, stream = NULL;
        g_autoptr(MigStream) ms = NULL;
        g_autofree char *file = NULL, *uri = NULL, *desc = NULL;
        CRBMigState st;
        VM *src, *dst;

        src = vm_start("q35", devopts, NULL, NULL);
        tpm_startup(src, SMALL_W);
        /* A multi-chunk response, read to the end: DRAINED. */
        r1 = transfer(src, pcr, SMALL_W);
        assert_rc_success(r1);
        g_assert_cmpuint(r1->len, >, SMALL_W);
        if (round) {
            /* The driver's next command begins: the response is gone. */
            crb_w(src, A_CRB_CTRL_REQ, R_CRB_CTRL_REQ_cmdReady_MASK);
        }
        file = g_build_filename(src->p->dir, "allow-off.mig", NULL);
        uri = g_strdup_printf("file:%s", file);
        vm_migrate(src, uri);
        assert_status(src, "completed");
        stream = read_stream(file);
        ms = mig_stream_parse(stream->data, stream->len, &err);
        g_assert_no_error(err);
        g_assert_true(crb_mig_decode(ms->payload, &st, &err));
        g_assert_no_error(err);
        g_assert_cmpint(st.has_chunk, ==, !round);
        crb_mig_clear(&st);

        dst = load_file(file, dst_opts, NULL, &desc);
        if (!round) {
            assert_refused(dst, desc, "x-allow-chunk-migration=off");
        } else {
            /* The stream loads where chunk state is refused, and serves. */
            g_assert_null(desc);
            assert_runstate(dst, "running");
            r2 = transfer(dst, pcr, SMALL_W);
            g_assert_cmpmem(r2->data, r2->len, r1->data, r1->len);
        }
        vm_stop(dst);
        vm_stop(src);
        g_unlink(file);
    }
}

/* With a transfer in flight, x-allow-chunk-migration=off refuses. */
static void test_allow_off_refuses(void)
{
    g_autoptr(GByteArray) cmd = cmd_hash(200);
    g_autoptr(GByteArray) want = NULL, got = NULL, first = NULL;
    g_autofree char *devopts = g_strdup_printf(",x-data-buffer-size=%d",
                                               SMALL_W);
    g_autofree char *dst_opts = g_strdup_printf(
        "%s,x-allow-chunk-migration=off", devopts);
    g_autofree char *uri = NULL, *desc = NULL, *status = NULL;
    size_t n = n_chunks(cmd->len, SMALL_W);
    VM *src, *dst;

    src = vm_start("q35", devopts, NULL, NULL);
    tpm_startup(src, SMALL_W);
    want = transfer(src, cmd, SMALL_W);
    crb_begin(src);
    upload_piece(src, cmd, SMALL_W, 0);

    uri = g_strdup_printf("unix:%s/mig.sock", src->p->dir);
    dst = vm_start_incoming(dst_opts, NULL, uri);
    vm_migrate(src, uri);
    status = vm_wait_migration(dst, &desc);
    g_assert_cmpstr(status, ==, "failed");
    assert_refused(dst, desc, "x-allow-chunk-migration=off");

    /* The source finishes the command it had started, correctly. */
    vm_resume_after_refusal(src);
    for (size_t i = 1; i < n; i++) {
        upload_piece(src, cmd, SMALL_W, i);
    }
    crb_wait_done(src);
    first = window_read(src, MIN(SMALL_W, want->len));
    got = download_rest(src, SMALL_W, first);
    g_assert_cmpmem(got->data, got->len, want->data, want->len);
    vm_stop(dst);
    vm_stop(src);
}

/*
 * An outgoing migration that cannot even connect fails cleanly: the
 * source keeps running and its TPM answers.
 */
static void test_outgoing_failure(void)
{
    g_autoptr(GByteArray) pcr = cmd_pcr10_read();
    g_autoptr(GByteArray) r1 = NULL, r2 = NULL;
    g_autofree char *uri = NULL, *desc = NULL, *status = NULL;
    QDict *rsp;
    VM *src;

    src = vm_start("q35", "", NULL, NULL);
    tpm_startup(src, TPM_CRB_DATA_BUFFER_SIZE);
    r1 = transfer(src, pcr, TPM_CRB_DATA_BUFFER_SIZE);
    assert_rc_success(r1);

    /*
     * QEMU accepts the command and fails the migration as it connects;
     * either way the migration ends "failed", with the reason.
     */
    uri = g_strdup_printf("unix:%s/nobody-listens.sock", src->p->dir);
    rsp = vm_qmp(src, "{'execute': 'migrate', 'arguments': {'uri': '%s'}}",
                 uri);
    qobject_unref(rsp);
    status = vm_wait_migration(src, &desc);
    g_assert_cmpstr(status, ==, "failed");
    g_assert_nonnull(desc);
    g_assert_nonnull(strstr(desc, "nobody-listens.sock"));
    assert_runstate(src, "running");

    /* Nobody listens on this TCP port either. */
    rsp = vm_qmp(src, "{'execute': 'migrate', "
                 "'arguments': {'uri': 'tcp:127.0.0.1:1'}}");
    if (!qdict_haskey(rsp, "error")) {
        g_free(status);
        g_free(desc);
        desc = NULL;
        status = vm_wait_migration(src, &desc);
        g_assert_cmpstr(status, ==, "failed");
    }
    qobject_unref(rsp);
    assert_runstate(src, "running");

    r2 = transfer(src, pcr, TPM_CRB_DATA_BUFFER_SIZE);
    g_assert_cmpmem(r2->data, r2->len, r1->data, r1->len);
    vm_stop(src);
}

static gpointer release_later(gpointer opaque)
{
    g_usleep(500 * 1000);
    tpm_emu_release(opaque);
    return NULL;
}

/*
 * migrate_cancel while the source waits for an executing command (its
 * pre_save): the migration ends "cancelled", the source runs on and the
 * guest gets the command's response there.
 */
static void test_cancel(void)
{
    static const uint8_t cmd[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x7b,
        0x00, 0x08,
    };
    g_autoptr(TPMEmu) emu = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GByteArray) head = NULL;
    g_autofree char *file = NULL, *uri = NULL, *status = NULL;
    QDict *reply;
    GThread *releaser;
    VM *src;

    emu = tpm_emu_start(4096, &err);
    g_assert_no_error(err);
    src = vm_start("q35", "", NULL, emu);
    tpm_emu_set_reply(emu, TPM_EMU_REPLY_STALL);
    crb_begin(src);
    window_write(src, cmd, sizeof(cmd));
    crb_w(src, A_CRB_CTRL_START, R_CRB_CTRL_START_invoke_MASK);
    g_assert_true(tpm_emu_wait_held(emu, 10000));

    file = g_build_filename(src->p->dir, "cancelled.mig", NULL);
    uri = g_strdup_printf("file:%s", file);
    vm_migrate(src, uri);
    /* The command is released only after the cancel was sent. */
    releaser = g_thread_new("release", release_later, emu);
    reply = vm_qmp(src, "{'execute': 'migrate_cancel'}");
    g_assert_true(qdict_haskey(reply, "return"));
    qobject_unref(reply);
    g_thread_join(releaser);

    status = vm_wait_migration(src, NULL);
    g_assert_cmpstr(status, ==, "cancelled");
    assert_runstate(src, "running");

    /* The guest's command completed on the source (echoed by the fake). */
    crb_wait_done(src);
    head = window_read(src, sizeof(cmd));
    g_assert_cmpmem(head->data, head->len, cmd, sizeof(cmd));
    vm_stop(src);
    g_unlink(file);
}

/*
 * cap-chunk=on without x-allow-chunk-migration: migrate fails with the
 * blocker's message, naming the property and 11.1, writes nothing, and
 * the source serves on, chunking included.
 */
static void test_blocker(gconstpointer opaque)
{
    const char *machine = opaque;
    g_autofree char *dir = g_dir_make_tmp("tpm-crb-mig-file-XXXXXX", NULL);
    g_autofree char *file = NULL, *uri = NULL;
    g_autoptr(GByteArray) cmd = cmd_pcr_read();
    g_autoptr(GByteArray) r = NULL;
    const char *desc;
    QDict *rsp, *err;
    VM *vm;

    g_assert_nonnull(dir);
    vm = vm_start(machine, ",cap-chunk=on", NULL, NULL);
    g_assert_cmpuint(crb_r(vm, A_CRB_INTF_ID) &
                     R_CRB_INTF_ID_CapCRBChunk_MASK, !=, 0);
    tpm_startup(vm, TPM_CRB_DATA_BUFFER_SIZE);
    file = g_build_filename(dir, "blocked.mig", NULL);
    uri = g_strdup_printf("file:%s", file);
    rsp = vm_qmp(vm, "{'execute': 'migrate', 'arguments': {'uri': '%s'}}",
                 uri);
    g_assert_true(qdict_haskey(rsp, "error"));
    err = qdict_get_qdict(rsp, "error");
    desc = qdict_get_str(err, "desc");
    g_test_message("migrate: %s", desc);
    g_assert_nonnull(strstr(desc, "x-allow-chunk-migration"));
    g_assert_nonnull(strstr(desc, "11.1"));
    qobject_unref(rsp);
    g_assert_false(g_file_test(file, G_FILE_TEST_EXISTS));
    assert_runstate(vm, "running");
    /* A 300-byte response in 64-byte chunks, on the source still */
    r = transfer(vm, cmd, SMALL_W);
    assert_rc_success(r);
    g_assert_cmpuint(r->len, ==, 300);
    vm_stop(vm);
    g_rmdir(dir);
}

/*
 * The defaults: no CapCRBChunk, and the VM migrates; cap-chunk=on alone
 * fails -only-migratable.
 */
static void test_defaults(void)
{
    const char *only[] = { "-only-migratable", NULL };
    g_autofree char *dir = g_dir_make_tmp("tpm-crb-mig-file-XXXXXX", NULL);
    g_autofree char *file = NULL, *uri = NULL, *out = NULL;
    VM *vm;

    g_assert_nonnull(dir);
    file = g_build_filename(dir, "plain.mig", NULL);
    uri = g_strdup_printf("file:%s", file);

    /* Nothing opted in: stock's device, which migrates. */
    vm = vm_start("pc-q35-10.2", "", NULL, NULL);
    g_assert_cmpuint(crb_r(vm, A_CRB_INTF_ID) &
                     R_CRB_INTF_ID_CapCRBChunk_MASK, ==, 0);
    vm_migrate(vm, uri);
    assert_status(vm, "completed");
    vm_stop(vm);
    g_unlink(file);
    g_rmdir(dir);

    /* -only-migratable refuses to start at all. */
    {
        g_autoptr(GError) gerr = NULL;
        g_autofree char *tpm_dir = g_dir_make_tmp("tpm-crb-mig-XXXXXX",
                                                  &gerr);
        g_autofree char *chardev = NULL;
        SocketAddress *addr = NULL;
        GPid pid;
        TPMProc *p;

        g_assert_true(tpm_crb_util_swtpm_start(tpm_dir, &pid, &addr, &gerr));
        chardev = g_strdup_printf("socket,id=chr,path=%s",
                                  addr->u.q_unix.path);
        {
            const char *args[] = {
                "-M", "pc-q35-10.2", "-nodefaults", "-chardev", chardev,
                "-tpmdev", "emulator,id=tpm0,chardev=chr",
                "-device", "tpm-crb,tpmdev=tpm0,cap-chunk=on",
                only[0], NULL
            };

            p = tpm_proc_spawn(qemu_binary(), args, false);
        }
        g_assert_true(tpm_proc_wait(p, 30000));
        g_assert_cmpint(p->exit_status, ==, 1);
        out = tpm_proc_stderr(p);
        g_assert_nonnull(strstr(out, "only-migratable"));
        g_assert_nonnull(strstr(out, "11.1"));
        tpm_proc_free(p);
        tpm_crb_util_swtpm_kill(pid);
        qapi_free_SocketAddress(addr);
        tpm_crb_util_rmdir(tpm_dir);
    }
}

/* Corrupted device states */

typedef struct Corruption {
    const char *name;
    /* Which saved state it starts from: mid-upload or mid-download. */
    bool download;
    void (*apply)(CRBMigState *st);
    const char *expect;
} Corruption;

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

static void cor_cmd_short(CRBMigState *st)
{
    g_byte_array_set_size(st->cmd, 6);
}

static void cor_cmd_longer_than_declared(CRBMigState *st)
{
    put_be32(st->cmd->data + 2, st->cmd->len - 1);
}

/* Not whole chunks: no source sends that (whole chunks: a refusal) */
static void cor_cmd_declares_over_b(CRBMigState *st)
{
    g_byte_array_set_size(st->cmd, SMALL_W / 2);
    put_be32(st->cmd->data + 2, 1 * MiB);
}

static void cor_cmd_over_b(CRBMigState *st)
{
    guint old = st->cmd->len;

    g_byte_array_set_size(st->cmd, 64 * KiB);
    memset(st->cmd->data + old, 0xee, st->cmd->len - old);
    put_be32(st->cmd->data + 2, st->cmd->len);
}

static void cor_rsp_offset_past_end(CRBMigState *st)
{
    st->rsp_offset = st->rsp->len + SMALL_W;
}

static void cor_rsp_header(CRBMigState *st)
{
    put_be32(st->rsp->data + 2, st->rsp->len + 1);
}

static void cor_rsp_over_b(CRBMigState *st)
{
    guint old = st->rsp->len;

    g_byte_array_set_size(st->rsp, 64 * KiB);
    memset(st->rsp->data + old, 0xee, st->rsp->len - old);
    put_be32(st->rsp->data + 2, st->rsp->len);
}

static void cor_window_size(CRBMigState *st)
{
    st->regs[R_CRB_CTRL_CMD_SIZE] = 2 * SMALL_W;
    st->regs[R_CRB_CTRL_RSP_SIZE] = 2 * SMALL_W;
}

static void cor_start(CRBMigState *st)
{
    st->regs[R_CRB_CTRL_START] |= R_CRB_CTRL_START_invoke_MASK;
}

static void cor_cap_chunk(CRBMigState *st)
{
    st->regs[R_CRB_INTF_ID] ^= R_CRB_INTF_ID_CapCRBChunk_MASK;
}

static void cor_rsp_offset_zero(CRBMigState *st)
{
    st->rsp_offset = 0;
}

static void cor_rsp_offset_mid_chunk(CRBMigState *st)
{
    st->rsp_offset = SMALL_W / 2;
}

static const Corruption corruptions[] = {
    { "cmd-shorter-than-header", false, cor_cmd_short, "header" },
    { "cmd-longer-than-declared", false, cor_cmd_longer_than_declared,
      "declared size" },
    { "cmd-declares-more-than-b", false, cor_cmd_declares_over_b,
      "TPM buffer" },
    { "cmd-buffer-larger-than-b", false, cor_cmd_over_b, "TPM buffer" },
    { "rsp-offset-past-end", true, cor_rsp_offset_past_end, "offset" },
    { "rsp-header-disagrees", true, cor_rsp_header, "header" },
    { "rsp-buffer-larger-than-b", true, cor_rsp_over_b, "TPM buffer" },
    { "window-size", false, cor_window_size, "data window" },
    { "start-set", true, cor_start, "invoke" },
    { "cap-chunk", false, cor_cap_chunk, "CapCRBChunk" },
    { "rsp-offset-zero", true, cor_rsp_offset_zero, "chunk boundary" },
    { "rsp-offset-mid-chunk", true, cor_rsp_offset_mid_chunk,
      "chunk boundary" },
};

/* A source stopped mid-upload (after one piece) or mid-download. */
typedef struct SavedSource {
    VM *src;
    GByteArray *cmd;
    GByteArray *want;
    GByteArray *stream;
    char *path;
} SavedSource;

static void saved_source_start(SavedSource *s, bool download)
{
    g_autofree char *devopts = g_strdup_printf(",x-data-buffer-size=%d",
                                               SMALL_W);
    g_autofree char *uri = NULL;

    s->src = vm_start("q35", devopts, NULL, NULL);
    s->cmd = download ? cmd_pcr_read() : cmd_hash(200);
    tpm_startup(s->src, SMALL_W);
    s->want = transfer(s->src, s->cmd, SMALL_W);
    assert_rc_success(s->want);
    crb_begin(s->src);
    upload_piece(s->src, s->cmd, SMALL_W, 0);
    if (download) {
        crb_wait_done(s->src);
    }
    s->path = g_build_filename(s->src->p->dir, "saved.mig", NULL);
    uri = g_strdup_printf("file:%s", s->path);
    vm_migrate(s->src, uri);
    assert_status(s->src, "completed");
    s->stream = read_stream(s->path);
}

/* The source, after all that, still completes its transfer correctly. */
static void saved_source_finish(SavedSource *s, bool download)
{
    g_autoptr(GByteArray) got = NULL, first = NULL;

    if (!download) {
        for (size_t i = 1; i < n_chunks(s->cmd->len, SMALL_W); i++) {
            upload_piece(s->src, s->cmd, SMALL_W, i);
        }
        crb_wait_done(s->src);
    }
    first = window_read(s->src, MIN(SMALL_W, s->want->len));
    got = download_rest(s->src, SMALL_W, first);
    g_assert_cmpmem(got->data, got->len, s->want->data, s->want->len);
    vm_stop(s->src);
    g_unlink(s->path);
    g_free(s->path);
    g_byte_array_unref(s->cmd);
    g_byte_array_unref(s->want);
    g_byte_array_unref(s->stream);
}

static void write_stream(const char *path, const GByteArray *ba)
{
    g_autoptr(GError) err = NULL;

    g_assert_true(g_file_set_contents(path, (const char *)ba->data, ba->len,
                                      &err));
}

static void test_corrupt_states(void)
{
    g_autofree char *devopts = g_strdup_printf(",x-data-buffer-size=%d",
                                               SMALL_W);

    for (int download = 0; download <= 1; download++) {
        SavedSource s = { 0 };
        g_autofree char *bad_path = NULL;
        g_autoptr(GError) err = NULL;

        saved_source_start(&s, download);
        bad_path = g_build_filename(s.src->p->dir, "bad.mig", NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(corruptions); i++) {
            const Corruption *c = &corruptions[i];
            g_autoptr(MigStream) ms = NULL;
            g_autoptr(GByteArray) out = NULL;
            g_autofree char *desc = NULL;
            CRBMigState st;
            VM *dst;

            if (c->download != download) {
                continue;
            }
            g_test_message("corruption: %s", c->name);
            ms = mig_stream_parse(s.stream->data, s.stream->len, &err);
            g_assert_no_error(err);
            g_assert_true(crb_mig_decode(ms->payload, &st, &err));
            g_assert_true(st.has_chunk);
            g_assert_cmpuint(st.phase, ==, download ? CRB_MIG_PHASE_DOWNLOAD
                                                    : CRB_MIG_PHASE_UPLOAD);
            c->apply(&st);
            g_byte_array_unref(ms->payload);
            ms->payload = crb_mig_encode(&st);
            crb_mig_clear(&st);
            out = mig_stream_serialize(ms);
            write_stream(bad_path, out);

            dst = load_file(bad_path, devopts, NULL, &desc);
            assert_refused(dst, desc, c->expect);
            vm_stop(dst);
        }
        /* The unmodified stream does load: the refusals were the edits. */
        {
            g_autoptr(GByteArray) round = NULL;
            g_autoptr(MigStream) ms = mig_stream_parse(s.stream->data,
                                                       s.stream->len, &err);
            g_autofree char *desc = NULL;
            VM *dst;

            g_assert_no_error(err);
            round = mig_stream_serialize(ms);
            g_assert_cmpmem(round->data, round->len, s.stream->data,
                            s.stream->len);
            dst = load_file(s.path, devopts, NULL, &desc);
            g_assert_null(desc);
            assert_runstate(dst, "running");
            vm_stop(dst);
        }
        g_unlink(bad_path);
        saved_source_finish(&s, download);
    }
}

/*
 * QEMU 11.1 buffers whole chunks of a command declaring more than the
 * TPM buffer and refuses it at invoke, keeping its last response
 * meanwhile. Such a stream (mid-upload, header set to 1 MiB, a stale
 * 10-byte response) loads here as a latched refusal: the guest's invoke
 * gets TPM_RC_COMMAND_SIZE, and the TPM never sees the command.
 */
static void test_refused_upload_from_11_1(void)
{
    g_autofree char *devopts = g_strdup_printf(",x-data-buffer-size=%d",
                                               SMALL_W);
    static const uint8_t stale[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00,
    };
    g_autoptr(GError) err = NULL;
    g_autoptr(MigStream) ms = NULL;
    g_autoptr(GByteArray) out = NULL, rsp = NULL;
    g_autofree char *path = NULL, *desc = NULL;
    SavedSource s = { 0 };
    CRBMigState st;
    VM *dst;

    saved_source_start(&s, false);
    ms = mig_stream_parse(s.stream->data, s.stream->len, &err);
    g_assert_no_error(err);
    g_assert_true(crb_mig_decode(ms->payload, &st, &err));
    g_assert_cmpuint(st.cmd->len, ==, SMALL_W);
    put_be32(st.cmd->data + 2, 1 * MiB);
    g_byte_array_append(st.rsp, stale, sizeof(stale));
    st.rsp_offset = sizeof(stale);
    g_byte_array_unref(ms->payload);
    ms->payload = crb_mig_encode(&st);
    crb_mig_clear(&st);
    out = mig_stream_serialize(ms);
    path = g_build_filename(s.src->p->dir, "from-11.1.mig", NULL);
    write_stream(path, out);

    dst = load_file(path, devopts, NULL, &desc);
    g_assert_null(desc);
    assert_runstate(dst, "running");
    crb_w(dst, A_CRB_CTRL_START, R_CRB_CTRL_START_invoke_MASK);
    crb_wait_done(dst);
    rsp = window_read(dst, 10);
    g_assert_cmphex(ldl_be_p(rsp->data + 6), ==, 0x142);
    g_assert_cmphex(crb_r(dst, A_CRB_CTRL_STS) &
                    R_CRB_CTRL_STS_tpmSts_MASK, ==, 0);
    vm_stop(dst);
    g_unlink(path);
    saved_source_finish(&s, false);
}

/*
 * The tpm-crb/chunk subsection, byte for byte: QEMU 11.1's
 * layout and nothing more, so that a stream moves between this QEMU and
 * QEMU 11.1. After the register array: QEMU_VM_SUBSECTION, the name,
 * version 0, the command (be32 length, bytes), the response (be32
 * length, bytes), the response offset (be32); then the section footer.
 */
static void test_layout(void)
{
    for (int download = 0; download <= 1; download++) {
        SavedSource s = { 0 };
        g_autoptr(MigStream) ms = NULL;
        g_autoptr(GError) err = NULL;
        const GByteArray *cmd, *rsp;
        const uint8_t *p;
        CRBMigState st;
        size_t at;

        saved_source_start(&s, download);
        ms = mig_stream_parse(s.stream->data, s.stream->len, &err);
        g_assert_no_error(err);
        g_assert_true(crb_mig_decode(ms->payload, &st, &err));
        g_assert_true(st.has_chunk);
        if (download) {
            /* The first window was read at completion. */
            g_assert_cmpuint(st.cmd->len, ==, 0);
            g_assert_cmpmem(st.rsp->data, st.rsp->len, s.want->data,
                            s.want->len);
            g_assert_cmpuint(st.rsp_offset, ==, SMALL_W);
        } else {
            /* One piece of the command arrived, no response is kept. */
            g_assert_cmpmem(st.cmd->data, st.cmd->len, s.cmd->data, SMALL_W);
            g_assert_cmpuint(st.rsp->len, ==, 0);
            g_assert_cmpuint(st.rsp_offset, ==, 0);
        }
        cmd = st.cmd;
        rsp = st.rsp;

        /* The same, read off the bytes themselves. */
        p = ms->payload->data;
        at = 4 * CRB_MIG_NREGS;
        g_assert_cmpuint(p[at], ==, 0x05);
        g_assert_cmpuint(p[at + 1], ==, strlen("tpm-crb/chunk"));
        g_assert_cmpmem(p + at + 2, 13, "tpm-crb/chunk", 13);
        at += 2 + 13;
        g_assert_cmpuint(ldl_be_p(p + at), ==, 0);
        at += 4;
        g_assert_cmpuint(ldl_be_p(p + at), ==, cmd->len);
        g_assert_cmpmem(p + at + 4, cmd->len, cmd->data, cmd->len);
        at += 4 + cmd->len;
        g_assert_cmpuint(ldl_be_p(p + at), ==, rsp->len);
        g_assert_cmpmem(p + at + 4, rsp->len, rsp->data, rsp->len);
        at += 4 + rsp->len;
        g_assert_cmpuint(ldl_be_p(p + at), ==, st.rsp_offset);
        at += 4;
        /* Nothing else: the section footer follows. */
        g_assert_cmpuint(at, ==, ms->payload->len);
        g_assert_cmpuint(ms->suffix->data[0], ==, 0x7e);

        crb_mig_clear(&st);
        saved_source_finish(&s, download);
    }
}

/*
 * A destination whose TPM buffer (4096) is smaller than the source's
 * (8192). Two chunks of an 8000-byte command buffered: more than that
 * TPM holds, so the destination refuses the stream and the source
 * completes the command. One chunk of it buffered: the destination loads
 * it as a command its TPM cannot take, the refusal latched as at its
 * first chunk, and the guest's invoke gets TPM_RC_COMMAND_SIZE.
 */
static void test_smaller_b(void)
{
    static const uint32_t big = 8000;
    g_autoptr(TPMEmu) emu_src = NULL;
    g_autoptr(TPMEmu) emu_dst = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GByteArray) cmd = NULL, got = NULL, first = NULL;
    g_autoptr(GByteArray) rsp = NULL;
    g_autofree char *uri = NULL, *desc = NULL, *status = NULL;
    unsigned calls;
    VM *src, *dst;

    emu_src = tpm_emu_start(8192, &err);
    g_assert_no_error(err);
    emu_dst = tpm_emu_start(4096, &err);
    g_assert_no_error(err);
    tpm_emu_set_reply(emu_src, TPM_EMU_REPLY_ECHO);

    src = vm_start("q35", "", NULL, emu_src);
    g_assert_cmpuint(crb_r(src, A_CRB_INTF_ID) &
                     R_CRB_INTF_ID_CapCRBChunk_MASK, !=, 0);
    cmd = g_byte_array_new();
    g_byte_array_set_size(cmd, big);
    for (uint32_t i = 0; i < big; i++) {
        cmd->data[i] = i * 13;
    }
    cmd->data[0] = 0x80;
    cmd->data[1] = 0x01;
    put_be32(cmd->data + 2, big);
    crb_begin(src);
    upload_piece(src, cmd, TPM_CRB_DATA_BUFFER_SIZE, 0);
    upload_piece(src, cmd, TPM_CRB_DATA_BUFFER_SIZE, 1);

    uri = g_strdup_printf("unix:%s/mig.sock", src->p->dir);
    dst = vm_start_incoming("", emu_dst, uri);
    vm_migrate(src, uri);
    status = vm_wait_migration(dst, &desc);
    g_assert_cmpstr(status, ==, "failed");
    assert_refused(dst, desc, "TPM buffer (4096)");
    vm_stop(dst);
    vm_resume_after_refusal(src);

    /* The source completes the 8000-byte command through its own TPM. */
    upload_piece(src, cmd, TPM_CRB_DATA_BUFFER_SIZE, 2);
    crb_wait_done(src);
    first = window_read(src, TPM_CRB_DATA_BUFFER_SIZE);
    got = download_rest(src, TPM_CRB_DATA_BUFFER_SIZE, first);
    g_assert_cmpmem(got->data, got->len, cmd->data, cmd->len);

    /* One chunk of it: the destination takes it as a refused command. */
    crb_begin(src);
    upload_piece(src, cmd, TPM_CRB_DATA_BUFFER_SIZE, 0);
    g_free(status);
    g_free(uri);
    uri = g_strdup_printf("unix:%s/mig2.sock", src->p->dir);
    dst = vm_start_incoming("", emu_dst, uri);
    vm_migrate(src, uri);
    status = vm_wait_migration(dst, NULL);
    g_assert_cmpstr(status, ==, "completed");
    calls = tpm_emu_command_count(emu_dst);
    upload_piece(dst, cmd, TPM_CRB_DATA_BUFFER_SIZE, 1);
    upload_piece(dst, cmd, TPM_CRB_DATA_BUFFER_SIZE, 2);
    crb_wait_done(dst);
    rsp = window_read(dst, 10);
    g_assert_cmphex(ldl_be_p(rsp->data + 6), ==, 0x142);
    g_assert_cmpuint(tpm_emu_command_count(emu_dst), ==, calls);
    vm_stop(dst);
    vm_stop(src);
}

/* Truncated streams: cut at every record boundary and inside each. */
static void test_truncation(void)
{
    g_autofree char *devopts = g_strdup_printf(",x-data-buffer-size=%d",
                                               SMALL_W);
    g_autoptr(GArray) cuts = g_array_new(false, false, sizeof(size_t));
    g_autoptr(MigStream) ms = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *cut_path = NULL;
    SavedSource s = { 0 };
    size_t v;

    saved_source_start(&s, true);
    ms = mig_stream_parse(s.stream->data, s.stream->len, &err);
    g_assert_no_error(err);

#define CUT(x) do { v = (x); g_array_append_val(cuts, v); } while (0)
    CUT(0);
    CUT(3);
    CUT(8);
    CUT(ms->section_offset / 2);
    /*
     * Every byte of the device's own record (header, registers,
     * subsection, footer); with -m slow, every byte of the whole stream.
     */
    if (g_test_slow()) {
        g_array_set_size(cuts, 0);
        for (size_t off = 0; off < s.stream->len; off++) {
            CUT(off);
        }
    } else {
        size_t end = ms->payload_offset + ms->payload->len + 5;

        for (size_t off = ms->section_offset; off < end; off++) {
            CUT(off);
        }
    }
#undef CUT

    cut_path = g_build_filename(s.src->p->dir, "cut.mig", NULL);
    for (guint i = 0; i < cuts->len; i++) {
        size_t cut = g_array_index(cuts, size_t, i);
        g_autoptr(GByteArray) part = g_byte_array_new();
        g_autofree char *desc = NULL;
        VM *dst;

        g_assert_cmpuint(cut, <, s.stream->len);
        g_test_message("truncated at %zu of %u", cut, s.stream->len);
        g_byte_array_append(part, s.stream->data, cut);
        write_stream(cut_path, part);
        dst = load_file(cut_path, devopts, NULL, &desc);
        assert_refused(dst, desc, NULL);
        vm_stop(dst);
    }
    g_unlink(cut_path);
    saved_source_finish(&s, true);
}

/*
 * the migration invariants, on a tpm-crb/chunk state that a destination with
 * TPM buffer b and window w loaded: what its post_load must have made
 * sure of before the guest could run.
 */
/* The loaded command declares a size that a TPM buffer of b refuses. */
static bool cmd_refused(const CRBMigState *st, uint32_t b)
{
    uint32_t size = be32(st->cmd->data + 2);

    return st->cmd->len >= 10 && (size < 10 || size > b);
}

static void assert_state_consistent(const CRBMigState *st, uint32_t b,
                                    uint32_t w)
{
    g_assert_cmpuint(st->cmd->len, <=, b);
    g_assert_cmpuint(st->rsp->len, <=, b);
    if (st->cmd->len && cmd_refused(st, b)) {
        /* Whole chunks of a command the TPM cannot take: a refusal */
        g_assert_cmpuint(st->cmd->len, >=, 10);
        g_assert_true(st->cmd->len % w == 0 || st->cmd->len == 10);
    } else if (st->cmd->len) {
        /* UPLOAD: a header, and no more than it declares */
        g_assert_cmpuint(st->cmd->len, >=, 10);
        g_assert_cmpuint(st->cmd->len, <=, be32(st->cmd->data + 2));
        g_assert_cmpuint(be32(st->cmd->data + 2), <=, b);
        /* PTP v1.07 §6.5.3.9: whole windows until the last piece */
        g_assert_true(st->cmd->len % w == 0 ||
                      st->cmd->len == be32(st->cmd->data + 2));
    } else if (st->rsp->len) {
        /* DOWNLOAD (or a drained one) */
        g_assert_cmpuint(st->rsp->len, >=, 10);
        g_assert_cmpuint(be32(st->rsp->data + 2), ==, st->rsp->len);
        g_assert_cmpuint(st->rsp_offset, >, 0);
        g_assert_cmpuint(st->rsp_offset, <=, st->rsp->len);
        g_assert_true(st->rsp_offset % w == 0 ||
                      st->rsp_offset == st->rsp->len);
    } else {
        g_assert_cmpuint(st->rsp_offset, ==, 0);
    }
}

/*
 * A destination that loaded st carries on from it: an upload takes the
 * rest of its declared size (from orig where it has bytes) and answers a
 * well-formed response; a download gives exactly st's response, chunk by
 * chunk, and crbRspRetry its first chunk. Then a fresh command works.
 */
static void assert_serves_from(VM *dst, const CRBMigState *st,
                               const GByteArray *orig, uint32_t b, uint32_t w)
{
    g_autoptr(GByteArray) pcr = cmd_pcr10_read();
    g_autoptr(GByteArray) r = NULL;

    if (st->cmd->len && cmd_refused(st, b)) {
        g_autoptr(GByteArray) head = NULL;

        /* The latched refusal: invoke gets TPM_RC_COMMAND_SIZE. */
        crb_w(dst, A_CRB_CTRL_START, R_CRB_CTRL_START_invoke_MASK);
        crb_wait_done(dst);
        head = window_read(dst, 10);
        g_assert_cmphex(be32(head->data + 6), ==, 0x142);
    } else if (st->cmd->len) {
        uint32_t size = be32(st->cmd->data + 2);
        g_autoptr(GByteArray) head = NULL, first = NULL, rsp = NULL;
        uint8_t piece[SMALL_W];

        g_assert_cmpuint(w, <=, sizeof(piece));
        for (uint32_t at = st->cmd->len; at < size; at += w) {
            uint32_t n = MIN(w, size - at);

            memset(piece, 0, sizeof(piece));
            if (at < orig->len) {
                memcpy(piece, orig->data + at, MIN(n, orig->len - at));
            }
            window_write(dst, piece, n);
            crb_w(dst, A_CRB_CTRL_START, at + n < size ?
                  R_CRB_CTRL_START_nextChunk_MASK :
                  R_CRB_CTRL_START_invoke_MASK);
        }
        crb_wait_done(dst);
        head = window_read(dst, 10);
        g_assert_cmpuint(be32(head->data + 2), >=, 10);
        g_assert_cmpuint(be32(head->data + 2), <=, b);
        first = window_read(dst, MIN(w, be32(head->data + 2)));
        rsp = download_rest(dst, w, first);
    } else if (st->rsp->len) {
        g_autoptr(GByteArray) again = NULL;

        for (uint32_t at = st->rsp_offset; at < st->rsp->len; at += w) {
            g_autoptr(GByteArray) chunk = NULL;
            uint32_t n = MIN(w, st->rsp->len - at);

            crb_w(dst, A_CRB_CTRL_START, R_CRB_CTRL_START_nextChunk_MASK);
            chunk = window_read(dst, n);
            g_assert_cmpmem(chunk->data, n, st->rsp->data + at, n);
        }
        crb_w(dst, A_CRB_CTRL_START, R_CRB_CTRL_START_crbRspRetry_MASK);
        again = window_read(dst, MIN(w, st->rsp->len));
        g_assert_cmpmem(again->data, again->len, st->rsp->data,
                        again->len);
    }
    r = transfer(dst, pcr, w);
    assert_rc_success(r);
}

/*
 * Flipped streams: every byte of the tpm-crb/chunk subsection in turn,
 * XORed with 0xff, mid-upload and mid-download. The destination never
 * crashes; it refuses with a message, or it loads a state that holds
 * the migration invariants and serves on from exactly that state.
 */
static void test_flips(void)
{
    g_autofree char *devopts = g_strdup_printf(",x-data-buffer-size=%d",
                                               SMALL_W);
    unsigned tried = 0, refused = 0, loaded = 0, unread = 0;

    for (int download = 0; download <= 1; download++) {
        SavedSource s = { 0 };
        g_autoptr(MigStream) ms = NULL;
        g_autoptr(GError) err = NULL;
        g_autofree char *bad_path = NULL;
        size_t from, to;

        saved_source_start(&s, download);
        ms = mig_stream_parse(s.stream->data, s.stream->len, &err);
        g_assert_no_error(err);
        from = ms->payload_offset + 4 * CRB_MIG_NREGS;
        to = ms->payload_offset + ms->payload->len;
        g_assert_cmpuint(s.stream->data[from], ==, 0x05);
        bad_path = g_build_filename(s.src->p->dir, "flipped.mig", NULL);

        for (size_t off = from; off < to; off++) {
            g_autoptr(GByteArray) bad = g_byte_array_new();
            g_autoptr(MigStream) bms = NULL;
            g_autoptr(GError) perr = NULL;
            g_autofree char *desc = NULL;
            CRBMigState st;
            VM *dst;

            g_byte_array_append(bad, s.stream->data, s.stream->len);
            bad->data[off] ^= 0xff;
            write_stream(bad_path, bad);
            dst = load_file(bad_path, devopts, NULL, &desc);
            tried++;
            if (desc) {
                g_test_message("flip at %zu: refused: %s", off - from, desc);
                assert_refused(dst, desc, NULL);
                refused++;
            } else {
                g_test_message("flip at %zu: loaded", off - from);
                assert_runstate(dst, "running");
                if (off - from >= 15 && off - from < 18) {
                    /*
                     * The upper bytes of the subsection's be32 version:
                     * QEMU's migration core reads it into 8 bits
                     * (vmstate_subsection_load), so they are not looked
                     * at and the state loaded is the one sent.
                     */
                    bad->data[off] ^= 0xff;
                    unread++;
                }
                bms = mig_stream_parse(bad->data, bad->len, &perr);
                g_assert_no_error(perr);
                g_assert_true(crb_mig_decode(bms->payload, &st, &perr));
                g_assert_true(st.has_chunk);
                assert_state_consistent(&st, 4096, SMALL_W);
                assert_serves_from(dst, &st, s.cmd, 4096, SMALL_W);
                crb_mig_clear(&st);
                loaded++;
            }
            vm_stop(dst);
        }
        g_unlink(bad_path);
        saved_source_finish(&s, download);
    }
    g_test_message("flips: %u tried, %u refused, %u loaded consistent "
                   "(%u of them in bytes QEMU does not read)",
                   tried, refused, loaded, unread);
    g_assert_cmpuint(tried, ==, refused + loaded);
    g_assert_cmpuint(refused, >, 0);
}

/*
 * Across versions: stock QEMU 10.2.2 (TPM_CRB_STOCK_QEMU) and
 * this one, both directions, and Debian 12's QEMU (7.2) to this one, each side
 * with its own swtpm whose state travels in the stream. After the move
 * PCR 10 holds both sides' extends, the NV index written on the source
 * reads back, the transient key made on the source is loaded, and the
 * next command works.
 *
 * Two device states: "traffic" right after the last response was read
 * (locality held, tpmIdle clear), and "idle" after goIdle and a
 * relinquished locality. Both have the register array travel and nothing
 * else of the device.
 */
typedef struct CrossCase {
    const char *machine;
    bool to_patched;        /* from the peer to this QEMU, or back */
    bool via_file;          /* a file: stream, or live over unix: */
    bool qemu_7_2;          /* the peer is /usr/bin's 7.2 */
    bool idle;              /* goIdle and relinquish before the move */
} CrossCase;

#define QEMU_7_2 "/usr/bin/qemu-system-x86_64"

/* The 7.2 peer has no qtest accelerator: a stopped TCG on both sides. */
static const char *const tcg_stopped[] = { "-accel", "tcg", "-S", NULL };

/* PCR 10 after extending old (its 62-byte read response) with fill. */
static void pcr10_extended(const GByteArray *old, uint8_t fill,
                           uint8_t out[32])
{
    g_autoptr(GChecksum) sha = g_checksum_new(G_CHECKSUM_SHA256);
    uint8_t data[32];
    gsize len = 32;

    g_assert_cmpuint(old->len, ==, 62);
    memset(data, fill, sizeof(data));
    g_checksum_update(sha, old->data + 30, 32);
    g_checksum_update(sha, data, sizeof(data));
    g_checksum_get_digest(sha, out, &len);
}

/* The stock peer, or NULL after marking the test skipped. */
static const char *peer_binary(bool qemu_7_2)
{
    const char *peer = qemu_7_2 ? QEMU_7_2 : g_getenv("TPM_CRB_STOCK_QEMU");

    if (!peer || !g_file_test(peer, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip(qemu_7_2 ? QEMU_7_2 " (Debian 12's QEMU (7.2)) is not "
                    "installed" : "TPM_CRB_STOCK_QEMU does not name a stock "
                    "QEMU 10.2.2 (make stock builds it)");
        return NULL;
    }
    return peer;
}

/*
 * Move src into a new process of dst_bin, live over a unix socket or
 * through a file: stream. With accel (a stopped TCG) the destination
 * stays stopped; without, it runs.
 */
static VM *vm_move(VM *src, const char *dst_bin, const char *machine,
                   const char *const *accel, bool via_file)
{
    g_autofree char *path = g_strdup_printf(
        "%s/%s", src->p->dir, via_file ? "move.mig" : "move.sock");
    g_autofree char *uri = g_strdup_printf("%s:%s",
                                           via_file ? "file" : "unix", path);
    VM *dst;

    if (via_file) {
        vm_migrate(src, uri);
        assert_status(src, "completed");
    }
    dst = vm_start_incoming_with(dst_bin, machine, "", accel, NULL, uri);
    if (!via_file) {
        vm_migrate(src, uri);
        assert_status(src, "completed");
    }
    assert_status(dst, "completed");
    assert_runstate(src, "postmigrate");
    if (accel) {
        /* -S: the guest stays stopped (QEMU 10.2 says prelaunch) */
        g_autofree char *state = vm_runstate(dst);

        g_assert_true(!strcmp(state, "prelaunch") ||
                      !strcmp(state, "paused"));
    } else {
        assert_runstate(dst, "running");
    }
    if (via_file) {
        g_unlink(path);
    }
    return dst;
}

static void crb_go_idle(VM *vm)
{
    crb_w(vm, A_CRB_CTRL_REQ, R_CRB_CTRL_REQ_goIdle_MASK);
    crb_w(vm, A_CRB_LOC_CTRL, R_CRB_LOC_CTRL_relinquish_MASK);
    g_assert_cmpuint(crb_r(vm, A_CRB_CTRL_STS) & R_CRB_CTRL_STS_tpmIdle_MASK,
                     !=, 0);
    g_assert_cmpuint(crb_r(vm, A_CRB_LOC_STATE) &
                     R_CRB_LOC_STATE_locAssigned_MASK, ==, 0);
}

/* The device's registers as the source left them (idle or not). */
static void assert_device_as_left(VM *vm, bool idle)
{
    g_assert_cmpuint(crb_r(vm, A_CRB_CTRL_STS) & R_CRB_CTRL_STS_tpmIdle_MASK,
                     ==, idle ? R_CRB_CTRL_STS_tpmIdle_MASK : 0);
    g_assert_cmpuint(crb_r(vm, A_CRB_LOC_STATE) &
                     R_CRB_LOC_STATE_locAssigned_MASK, ==,
                     idle ? 0 : R_CRB_LOC_STATE_locAssigned_MASK);
    g_assert_cmpuint(crb_r(vm, A_CRB_CTRL_START), ==, 0);
}

static void test_cross_version(gconstpointer opaque)
{
    const CrossCase *c = opaque;
    const char *peer = peer_binary(c->qemu_7_2);
    const char *const *accel = c->qemu_7_2 ? tcg_stopped : NULL;
    g_autoptr(GByteArray) extend2 = cmd_pcr_extend(0x22);
    g_autoptr(GByteArray) pcr = cmd_pcr10_read();
    g_autoptr(GByteArray) r = NULL, before = NULL, after = NULL;
    g_autoptr(GByteArray) read_pub = NULL, r_pub = NULL, r_create = NULL;
    g_autoptr(GByteArray) nv = NULL;
    uint8_t want[32];
    VM *src, *dst;

    if (!peer) {
        return;
    }
    src = vm_start_with(c->to_patched ? peer : qemu_binary(), c->machine, "",
                        accel, NULL);
    before = tpm_make_state(src, 0x11, &r_create);
    read_pub = cmd_read_public(be32(r_create->data + 10));
    if (c->idle) {
        crb_go_idle(src);
    }

    dst = vm_move(src, c->to_patched ? qemu_binary() : peer, c->machine,
                  accel, c->via_file);
    assert_device_as_left(dst, c->idle);

    /* The source's extend, NV index and key; one more extend here */
    after = transfer(dst, pcr, TPM_CRB_DATA_BUFFER_SIZE);
    g_assert_cmpmem(after->data, after->len, before->data, before->len);
    nv = assert_nv_holds(dst, 0x11);
    r_pub = transfer(dst, read_pub, TPM_CRB_DATA_BUFFER_SIZE);
    assert_rc_success(r_pub);
    r = transfer(dst, extend2, TPM_CRB_DATA_BUFFER_SIZE);
    assert_rc_success(r);
    g_byte_array_unref(after);
    after = transfer(dst, pcr, TPM_CRB_DATA_BUFFER_SIZE);
    assert_rc_success(after);
    pcr10_extended(before, 0x22, want);
    g_assert_cmpmem(after->data + 30, 32, want, 32);

    vm_stop(dst);
    vm_stop(src);
}

/* What a guest can read of its TPM's state: PCRs 0-7, 10, the NV index */
typedef struct TPMView {
    GByteArray *pcrs;
    GByteArray *pcr10;
    GByteArray *nv;
} TPMView;

static void tpm_view_read(VM *vm, TPMView *v)
{
    g_autoptr(GByteArray) pcrs = cmd_pcr_read();
    g_autoptr(GByteArray) pcr10 = cmd_pcr10_read();

    v->pcrs = transfer(vm, pcrs, TPM_CRB_DATA_BUFFER_SIZE);
    assert_rc_success(v->pcrs);
    v->pcr10 = transfer(vm, pcr10, TPM_CRB_DATA_BUFFER_SIZE);
    assert_rc_success(v->pcr10);
    v->nv = assert_nv_holds(vm, 0x33);
}

static void tpm_view_assert_equal(const TPMView *a, const TPMView *b)
{
    g_assert_cmpmem(a->pcrs->data, a->pcrs->len, b->pcrs->data,
                    b->pcrs->len);
    g_assert_cmpmem(a->pcr10->data, a->pcr10->len, b->pcr10->data,
                    b->pcr10->len);
    g_assert_cmpmem(a->nv->data, a->nv->len, b->nv->data, b->nv->len);
}

static void tpm_view_clear(TPMView *v)
{
    g_byte_array_unref(v->pcrs);
    g_byte_array_unref(v->pcr10);
    g_byte_array_unref(v->nv);
}

/*
 * Stock -> this QEMU -> stock on pc-q35-10.2, an upgrade and its undoing:
 * the guest's TPM reads the same, byte for byte, on all three.
 */
static void test_round_trip(void)
{
    const char *peer = peer_binary(false);
    g_autoptr(GByteArray) r_create = NULL, pcr = NULL;
    TPMView v[3];
    VM *vm[3];

    if (!peer) {
        return;
    }
    vm[0] = vm_start_with(peer, "pc-q35-10.2", "", NULL, NULL);
    pcr = tpm_make_state(vm[0], 0x33, &r_create);
    tpm_view_read(vm[0], &v[0]);
    vm[1] = vm_move(vm[0], qemu_binary(), "pc-q35-10.2", NULL, false);
    tpm_view_read(vm[1], &v[1]);
    vm[2] = vm_move(vm[1], peer, "pc-q35-10.2", NULL, false);
    tpm_view_read(vm[2], &v[2]);
    for (int i = 0; i < 3; i++) {
        tpm_view_assert_equal(&v[0], &v[i]);
    }
    g_assert_cmpmem(v[2].pcr10->data, v[2].pcr10->len, pcr->data, pcr->len);
    for (int i = 2; i >= 0; i--) {
        tpm_view_clear(&v[i]);
        vm_stop(vm[i]);
    }
}

static void test_no_swtpm(void)
{
    g_test_skip("swtpm with TPM 2 support not found: every migration "
                "test needs a real swtpm on both sides");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    if (!tpm_crb_util_swtpm_has_tpm2()) {
        g_test_add_func("/tpm-crb/migration/skipped", test_no_swtpm);
        return g_test_run();
    }
    g_test_add_func("/tpm-crb/migration/idle", test_idle);
    for (int m = 0; m < 3; m++) {
        static const char *const machines[] = {
            "pc-q35-10.2", "pc-i440fx-10.2", "pc-q35-7.2"
        };

        for (int i = 0; i < 8; i++) {
            CrossCase *c = g_new0(CrossCase, 1);
            g_autofree char *name = NULL;

            c->machine = machines[m];
            c->qemu_7_2 = m == 2;
            c->to_patched = !(i & 1);
            c->via_file = i & 2;
            c->idle = i & 4;
            if (c->qemu_7_2 && (!c->to_patched || c->via_file)) {
                /* 7.2 -> this QEMU, live */
                g_free(c);
                continue;
            }
            name = g_strdup_printf("/tpm-crb/migration/cross/%s/%s/%s/%s/%s",
                                   c->machine,
                                   c->qemu_7_2 ? "qemu-7.2" : "stock-10.2.2",
                                   c->to_patched ? "to-patched" : "to-peer",
                                   c->via_file ? "file" : "unix",
                                   c->idle ? "idle" : "traffic");
            g_test_add_data_func_full(name, c, test_cross_version, g_free);
        }
    }
    g_test_add_func("/tpm-crb/migration/cross/pc-q35-10.2/round-trip",
                    test_round_trip);
    g_test_add_func("/tpm-crb/migration/mid-upload", test_mid_upload);
    g_test_add_func("/tpm-crb/migration/mid-download", test_mid_download);
    g_test_add_func("/tpm-crb/migration/file-restore", test_file_restore);
    g_test_add_func("/tpm-crb/migration/allow-off/accepts",
                    test_allow_off_accepts);
    g_test_add_func("/tpm-crb/migration/allow-off/refuses",
                    test_allow_off_refuses);
    g_test_add_func("/tpm-crb/migration/defaults", test_defaults);
    g_test_add_data_func("/tpm-crb/migration/blocker/pc-q35-10.2",
                         "pc-q35-10.2", test_blocker);
    g_test_add_data_func("/tpm-crb/migration/blocker/pc-i440fx-10.2",
                         "pc-i440fx-10.2", test_blocker);
    g_test_add_func("/tpm-crb/migration/outgoing-failure",
                    test_outgoing_failure);
    g_test_add_func("/tpm-crb/migration/cancel", test_cancel);
    g_test_add_func("/tpm-crb/migration/refuse/corrupt-states",
                    test_corrupt_states);
    g_test_add_func("/tpm-crb/migration/refuse/smaller-b", test_smaller_b);
    g_test_add_func("/tpm-crb/migration/layout", test_layout);
    g_test_add_func("/tpm-crb/migration/refused-upload-from-11.1",
                    test_refused_upload_from_11_1);
    g_test_add_func("/tpm-crb/migration/refuse/truncation", test_truncation);
    g_test_add_func("/tpm-crb/migration/refuse/flips", test_flips);
    return g_test_run();
}
