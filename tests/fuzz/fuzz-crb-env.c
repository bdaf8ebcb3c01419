/*
 * The tpm-crb device in-process, for fuzz targets (see fuzz-crb-env.h).
 * The backend's worker waits for the verdict the input gives, so a run is
 * deterministic however the threads are scheduled; completions arrive
 * through the main loop as with a real backend.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/bswap.h"
#include "qemu/main-loop.h"
#include "qom/object.h"
#include "hw/core/qdev.h"
#include "hw/acpi/tpm.h"
#include "hw/tpm/tpm_crb_internal.h"
#include "system/memory.h"
#include "system/reset.h"
#include "system/runstate.h"
#include "system/tpm.h"
#include "system/tpm_backend.h"
#include "system/tpm_util.h"
#include "fuzz-crb-env.h"

#define TYPE_TPM_FUZZ_BACKEND "tpm-fuzz-backend"
OBJECT_DECLARE_SIMPLE_TYPE(FuzzBackend, TPM_FUZZ_BACKEND)

#define FUZZ_BACKEND_ID "fuzz0"
#define CRB_BASE TPM_CRB_ADDR_BASE

struct FuzzBackend {
    TPMBackend parent_obj;

    size_t buffer_size;
    bool cancel_answers;
    unsigned cancels;

    /* Worker handshake: the worker waits in handle_request for a verdict. */
    GMutex lock;
    GCond cond;
    bool worker_waiting;
    bool have_verdict;
    Verdict verdict;
    /* A verdict was given; the completion must be awaited. */
    bool answered;
};

static FuzzBackend *fuzz_be;

/* Worker thread. */
static void fuzz_be_handle_request(TPMBackend *tb, TPMBackendCmd *cmd,
                                   Error **errp)
{
    FuzzBackend *fb = TPM_FUZZ_BACKEND(tb);
    Verdict v;
    uint32_t i, n;

    g_mutex_lock(&fb->lock);
    fb->worker_waiting = true;
    g_cond_broadcast(&fb->cond);
    while (!fb->have_verdict) {
        g_cond_wait(&fb->cond, &fb->lock);
    }
    v = fb->verdict;
    fb->have_verdict = false;
    fb->worker_waiting = false;
    g_mutex_unlock(&fb->lock);

    /* The command must be exactly what the guest declared, at most B. */
    g_assert(cmd->in_len >= TPM_HEADER_SIZE);
    g_assert(cmd->in_len == tpm_cmd_get_size(cmd->in));
    g_assert(cmd->in_len <= fb->buffer_size);

    if (v.kind == VERDICT_FAIL) {
        error_setg(errp, "fuzz backend: command failed");
        return;
    }
    n = MIN(v.produced, cmd->out_len);
    for (i = 0; i < n; i++) {
        cmd->out[i] = (uint8_t)(i * 7 + 1);
    }
    if (n >= TPM_HEADER_SIZE) {
        stw_be_p(cmd->out, 0x8001);
        stl_be_p(cmd->out + 2, v.declared);
        stl_be_p(cmd->out + 6, v.rc);
    }
    /* As a backend that knows how many bytes it received. */
    cmd->out_len = n;
}

/* Main loop: hand the stalled worker a verdict (it may not wait yet). */
static void fuzz_be_give_verdict(FuzzBackend *fb, const Verdict *v)
{
    if (!fb->parent_obj.cmd || fb->answered) {
        return;
    }
    g_mutex_lock(&fb->lock);
    fb->verdict = *v;
    fb->have_verdict = true;
    g_cond_broadcast(&fb->cond);
    g_mutex_unlock(&fb->lock);
    fb->answered = true;
}

/* Main loop: wait for a verdict's completion, then run pending BHs. */
void fuzz_crb_settle(void)
{
    FuzzBackend *fb = fuzz_be;

    if (fb->answered) {
        while (fb->parent_obj.cmd) {
            aio_poll(qemu_get_aio_context(), true);
        }
        fb->answered = false;
    }
    while (aio_poll(qemu_get_aio_context(), false)) {
        /* run everything that is ready */
    }
}

static void fuzz_be_cancel_cmd(TPMBackend *tb)
{
    FuzzBackend *fb = TPM_FUZZ_BACKEND(tb);
    /* What libtpms answers a cancelled command with. */
    Verdict v = { VERDICT_ANSWER, TPM_HEADER_SIZE, TPM_HEADER_SIZE, 0x909 };

    fb->cancels++;
    if (fb->cancel_answers) {
        fuzz_be_give_verdict(fb, &v);
    }
}

/* Device reset: a stalled command ends (as swtpm's CMD_INIT would). */
static void fuzz_be_reset(TPMBackend *tb)
{
    FuzzBackend *fb = TPM_FUZZ_BACKEND(tb);
    Verdict v = { VERDICT_FAIL };

    fuzz_be_give_verdict(fb, &v);
}

static int fuzz_be_startup_tpm(TPMBackend *tb, size_t buffersize)
{
    FuzzBackend *fb = TPM_FUZZ_BACKEND(tb);

    /* The device asks for B or min(B, W), never more than B. */
    g_assert(buffersize <= fb->buffer_size);
    return 0;
}

static size_t fuzz_be_get_buffer_size(TPMBackend *tb)
{
    return TPM_FUZZ_BACKEND(tb)->buffer_size;
}

static TPMVersion fuzz_be_get_tpm_version(TPMBackend *tb)
{
    return TPM_VERSION_2_0;
}

static void fuzz_be_init(Object *obj)
{
    FuzzBackend *fb = TPM_FUZZ_BACKEND(obj);

    g_mutex_init(&fb->lock);
    g_cond_init(&fb->cond);
}

static void fuzz_be_class_init(ObjectClass *klass, const void *data)
{
    TPMBackendClass *tbc = TPM_BACKEND_CLASS(klass);

    tbc->type = TPM_TYPE_EMULATOR;
    tbc->desc = "in-process fuzzing backend";
    tbc->handle_request = fuzz_be_handle_request;
    tbc->cancel_cmd = fuzz_be_cancel_cmd;
    tbc->reset = fuzz_be_reset;
    tbc->startup_tpm = fuzz_be_startup_tpm;
    tbc->get_buffer_size = fuzz_be_get_buffer_size;
    tbc->get_tpm_version = fuzz_be_get_tpm_version;
}

static const TypeInfo fuzz_be_info = {
    .name = TYPE_TPM_FUZZ_BACKEND,
    .parent = TYPE_TPM_BACKEND,
    .instance_size = sizeof(FuzzBackend),
    .instance_init = fuzz_be_init,
    .class_init = fuzz_be_class_init,
};

void fuzz_crb_env_init(void)
{
    Error *err = NULL;

    type_register_static(&fuzz_be_info);
    if (qemu_init_main_loop(&err) < 0) {
        error_report_err(err);
        abort();
    }
    fuzz_be = TPM_FUZZ_BACKEND(object_new(TYPE_TPM_FUZZ_BACKEND));
    fuzz_be->parent_obj.id = g_strdup(FUZZ_BACKEND_ID);
    tpm_backend_register(TPM_BACKEND(fuzz_be));
}

uint32_t fuzz_crb_backend_buffer_size(void)
{
    return fuzz_be->buffer_size;
}

void fuzz_crb_verdict(const Verdict *v)
{
    fuzz_be_give_verdict(fuzz_be, v);
}

/* The sizes that matter: around W = 3968, swtpm's 4096, libtpms 0.11's
 * 8 KiB, the 64 KiB maximum, and odd ones below the window. */
static const uint32_t buffer_sizes[] = {
    4096, 8192, 3968, 65536, 1024, 4097, 100, 16, 12288, 5000,
};
static const uint32_t window_sizes[] = {
    3968, 16, 64, 1000, 3967, 17, 2048, 512,
};

void fuzz_crb_check(DeviceState *dev)
{
    FuzzBackend *fb = fuzz_be;
    TPMCRBDebugState st;
    bool start;

    tpm_crb_debug_state(dev, &st);
    start = FIELD_EX32(st.ctrl_start, CRB_CTRL_START, Start);

    g_assert_cmpuint(st.phase, <, TPM_CRB_DEBUG_PHASE__MAX);
    /* Never more than B bytes buffered, whatever the guest writes. */
    g_assert_cmpuint(st.buffer_size, <=, fb->buffer_size);
    g_assert_cmpuint(st.command_len, <=, st.buffer_size);
    g_assert_cmpuint(st.response_len, <=, st.buffer_size);
    g_assert_cmpuint(st.response_offset, <=, st.response_len);
    /* nextChunk and crbRspRetry never stick. */
    g_assert_false(FIELD_EX32(st.ctrl_start, CRB_CTRL_START, nextChunk));
    g_assert_false(FIELD_EX32(st.ctrl_start, CRB_CTRL_START, crbRspRetry));
    /* Start = 1 exactly while the backend owns a command. */
    g_assert_cmpint(start, ==, st.phase == TPM_CRB_DEBUG_PHASE_EXECUTING);
    g_assert_cmpint(start, ==, fb->parent_obj.cmd != NULL);

    switch (st.phase) {
    case TPM_CRB_DEBUG_PHASE_IDLE:
        g_assert_cmpuint(st.command_len, ==, 0);
        g_assert_cmpuint(st.response_len, ==, 0);
        break;
    case TPM_CRB_DEBUG_PHASE_UPLOAD:
        /* Chunking off: the whole command comes with Start. */
        g_assert_true(st.chunking);
        g_assert_cmpuint(st.command_len, >=, TPM_HEADER_SIZE);
        g_assert_cmpuint(st.response_len, ==, 0);
        break;
    case TPM_CRB_DEBUG_PHASE_EXECUTING:
        break;
    case TPM_CRB_DEBUG_PHASE_DOWNLOAD:
        g_assert_true(st.chunking);
        g_assert_cmpuint(st.command_len, ==, 0);
        g_assert_cmpuint(st.response_offset, >, 0);
        g_assert_cmpuint(st.response_offset, <, st.response_len);
        break;
    case TPM_CRB_DEBUG_PHASE_DRAINED:
        g_assert_cmpuint(st.command_len, ==, 0);
        g_assert_cmpuint(st.response_len, >=, TPM_HEADER_SIZE);
        g_assert_cmpuint(st.response_offset, ==, st.response_len);
        break;
    }
}

void fuzz_crb_mmio_write(uint64_t off, unsigned size, uint64_t val)
{
    uint8_t buf[8];
    unsigned i;

    /* The bus is little-endian: byte i of the access is bits 8i.. */
    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = val >> (8 * i);
    }
    address_space_write(&address_space_memory, CRB_BASE + off,
                        MEMTXATTRS_UNSPECIFIED, buf, size);
}

uint64_t fuzz_crb_mmio_read(uint64_t off, unsigned size)
{
    uint8_t buf[8] = { 0 };
    uint64_t val = 0;
    unsigned i;

    address_space_read(&address_space_memory, CRB_BASE + off,
                       MEMTXATTRS_UNSPECIFIED, buf, size);
    for (i = 0; i < sizeof(buf); i++) {
        val |= (uint64_t)buf[i] << (8 * i);
    }
    return val;
}

DeviceState *fuzz_crb_create(uint8_t cfg, uint8_t sizes)
{
    FuzzBackend *fb = fuzz_be;
    DeviceState *dev = qdev_new(TYPE_TPM_CRB);

    fb->buffer_size = buffer_sizes[(sizes & 0xf) % ARRAY_SIZE(buffer_sizes)];
    fb->cancel_answers = cfg & 2;
    fb->cancels = 0;

    object_property_add_child(object_get_root(), "tpm-crb", OBJECT(dev));
    object_property_set_str(OBJECT(dev), "tpmdev", FUZZ_BACKEND_ID,
                            &error_abort);
    object_property_set_bool(OBJECT(dev), "cap-chunk", !(cfg & 1),
                             &error_abort);
    object_property_set_uint(OBJECT(dev), "x-data-buffer-size",
                             window_sizes[(sizes >> 4) %
                                          ARRAY_SIZE(window_sizes)],
                             &error_abort);
    qdev_realize(dev, NULL, &error_abort);
    object_unref(OBJECT(dev));
    qemu_devices_reset(SHUTDOWN_CAUSE_NONE);
    return dev;
}

void fuzz_crb_destroy(DeviceState *dev)
{
    FuzzBackend *fb = fuzz_be;
    Verdict v = { VERDICT_FAIL };

    fuzz_be_give_verdict(fb, &v);
    fuzz_crb_settle();
    qdev_unrealize(dev);
    object_unparent(OBJECT(dev));
    /* tpm_backend_init's reference: the backend serves the next device. */
    fb->parent_obj.tpmif = NULL;
    object_unref(OBJECT(dev));
}

