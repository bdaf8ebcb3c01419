/*
 * Fuzz target for the tpm-crb device's chunked transfers (PTP v1.07
 * §6.5.3.9).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Each input is a sequence of steps a guest driver could take (locality,
 * cmdReady/goIdle, window writes, nextChunk, Start, crbRspRetry, cancel,
 * any register read or write, waiting), the device's state saved and
 * loaded back as a migration does (one byte of it changed, or four bytes
 * set to any value: a length or an offset), possibly into a destination
 * whose TPM has another buffer, and changes of the TPM: an in-process
 * fake of swtpm (tests/qtest/tpm-crb-emu.c) that echoes the command,
 * answers with a response of any declared size or with bytes taken from
 * the input, and restarts with a buffer of any size or fails to start.
 * The device asserts its own invariants after every MMIO write and
 * completion; this target checks what the guest sees: whenever a command
 * completes, the window holds the first chunk of exactly the response the
 * TPM sent (or the device's own TPM_RC_COMMAND_SIZE answer) and, with
 * chunking, zeros after it, never bytes of an earlier response; tpmSts is
 * set only by a response the device must refuse or a TPM that did not
 * start; CapCRBChunk is offered exactly when the TPM's buffer is larger
 * than the window.
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "hw/acpi/tpm.h"
#include "hw/qdev-core.h"
#include "io/channel-buffer.h"
#include "migration/vmstate.h"
#include "migration/qemu-file.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/tpm-crb-emu.h"
#include "fuzz.h"

#define CRB(off) ((uint64_t)TPM_CRB_ADDR_BASE + (off))
#define WINDOW 64
#define TPM_BUFFER 4096
#define HEADER 10
/* How long a command may take the backend before the step gives up */
#define COMPLETION_TIMEOUT_US (5 * G_USEC_PER_SEC)

enum {
    STEP_LOCALITY,      /* request or relinquish */
    STEP_CTRL_REQ,      /* cmdReady or goIdle */
    STEP_WINDOW,        /* bytes of the input into the window */
    STEP_HEADER,        /* a command header of any declared size */
    STEP_NEXT_CHUNK,
    STEP_START,
    STEP_RETRY,
    STEP_CANCEL,
    STEP_REGISTER,      /* any value, any size, any register */
    STEP_REPLY,         /* what the TPM answers from now on */
    STEP_WAIT,          /* until Start clears; then check the window */
    STEP_MIGRATE,       /* save, change a byte or a field, load back */
    STEP_READ,          /* any register, any size */
    STEP_RESTART,       /* the TPM's buffer, whether it starts; a reset */
    STEP_MIGRATE_TO,    /* as STEP_MIGRATE, to a TPM of another buffer */
    STEP_MAX
};

static TPMEmu *emu;
/* The window as it was when the guest wrote Start */
static uint8_t window_at_start[WINDOW];

/* What the fake answers, as the checks need to know it */
static TPMEmuReply reply;
static uint32_t reply_size;
static uint8_t fixed[HEADER + WINDOW];
static size_t fixed_len;

/* The TPM's buffer, as the device found it at the last reset */
static uint32_t tpm_buffer = TPM_BUFFER;

typedef struct Input {
    const uint8_t *p;
    size_t len;
} Input;

static uint8_t take8(Input *in)
{
    uint8_t v = 0;

    if (in->len) {
        v = *in->p++;
        in->len--;
    }
    return v;
}

static uint16_t take16(Input *in)
{
    return (take8(in) << 8) | take8(in);
}

static uint32_t take32(Input *in)
{
    return ((uint32_t)take16(in) << 16) | take16(in);
}

static void set_reply(TPMEmuReply r)
{
    reply = r;
    tpm_emu_set_reply(emu, r);
}

/* The response the fake gives to cmd, as it puts it on the wire. */
static GByteArray *expected_response(const GByteArray *cmd)
{
    GByteArray *rsp = g_byte_array_new();

    switch (reply) {
    case TPM_EMU_REPLY_ECHO:
        g_byte_array_append(rsp, cmd->data, cmd->len);
        break;
    case TPM_EMU_REPLY_FIXED:
        g_byte_array_append(rsp, fixed, fixed_len);
        break;
    case TPM_EMU_REPLY_SIZED: {
        /* The fake sends at least a header, declaring what it sends. */
        uint32_t size = MAX(reply_size, HEADER);
        uint8_t hdr[HEADER] = { 0x80, 0x01, size >> 24, size >> 16,
                                size >> 8, size };

        g_byte_array_append(rsp, hdr, sizeof(hdr));
        for (uint32_t i = HEADER; i < size && i < TPM_BUFFER; i++) {
            uint8_t b = tpm_emu_pattern_byte(i);

            g_byte_array_append(rsp, &b, 1);
        }
        break;
    }
    default:
        g_assert_not_reached();
    }
    return rsp;
}

/*
 * A command completed. The device accepts a response whose declared size
 * R has 10 <= R <= B and R <= the bytes sent; then the window holds its
 * first min(W, R) bytes and, with chunking, zeros. Otherwise tpmSts is
 * set. B is the TPM's buffer, with chunking or (a buffer no larger than
 * W) without.
 */
static void check_completion(QTestState *s, unsigned count_before)
{
    uint32_t sts = qtest_readl(s, CRB(A_CRB_CTRL_STS));
    uint8_t win[WINDOW];
    g_autoptr(GByteArray) rsp = NULL;
    uint32_t declared, n;

    qtest_memread(s, CRB(A_CRB_DATA_BUFFER), win, sizeof(win));
    if (tpm_emu_command_count(emu) == count_before) {
        /*
         * Answered by the device itself, a framing error; or
         * the Start was not for it to take (another locality, say) and
         * the window is as the guest left it.
         */
        static const uint8_t size_error[HEADER] = {
            0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x42,
        };

        if (!memcmp(win, window_at_start, WINDOW)) {
            return;
        }
        g_assert_cmpmem(win, HEADER, size_error, HEADER);
        n = HEADER;
    } else {
        g_autoptr(GByteArray) cmd = tpm_emu_last_command(emu);

        rsp = expected_response(cmd);
        declared = rsp->len >= HEADER ? ldl_be_p(rsp->data + 2) : 0;
        if (declared < HEADER || declared > tpm_buffer ||
            declared > rsp->len) {
            g_assert_true(sts & R_CRB_CTRL_STS_tpmSts_MASK);
            return;
        }
        /* tpmSts may be left from an earlier failure; not set anew */
        n = MIN(WINDOW, declared);
        g_assert_cmpmem(win, n, rsp->data, n);
    }
    /*
     * Without chunking the bytes after it are the guest's, as in QEMU
     * 7.2's window; it may have written them while the command ran.
     */
    for (uint32_t i = n; i < WINDOW && tpm_buffer > WINDOW; i++) {
        g_assert_cmpuint(win[i], ==, 0);
    }
}

static bool start_set(QTestState *s)
{
    return qtest_readl(s, CRB(A_CRB_CTRL_START)) &
           R_CRB_CTRL_START_invoke_MASK;
}

/* Run the main loop until no command is executing. */
static void wait_completion(QTestState *s)
{
    gint64 deadline = g_get_monotonic_time() + COMPLETION_TIMEOUT_US;

    while (start_set(s)) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        main_loop_wait(false);
    }
}

static DeviceState *crb_device(void)
{
    return DEVICE(object_resolve_path_type("", "tpm-crb", NULL));
}

/*
 * The device's state as a migration saves it (the caller has let any
 * executing command complete, as the VM stop handler does), in a buffer
 * to load from.
 */
static QIOChannelBuffer *save_device(void)
{
    DeviceState *dev = crb_device();
    QIOChannelBuffer *out = qio_channel_buffer_new(4096);
    QIOChannelBuffer *in;
    QEMUFile *f;

    f = qemu_file_new_output(QIO_CHANNEL(out));
    g_assert_cmpint(vmstate_save_state(f, DEVICE_GET_CLASS(dev)->vmsd, dev,
                                       NULL, &error_abort), ==, 0);
    g_assert_cmpint(qemu_fflush(f), ==, 0);
    /* Closing the file closes the channel, which frees its buffer. */
    in = qio_channel_buffer_new(out->usage);
    memcpy(in->data, out->data, out->usage);
    in->usage = out->usage;
    qemu_fclose(f);
    object_unref(OBJECT(out));
    return in;
}

/*
 * With bit 15 of at clear, the byte at at is XORed with flip (0: no
 * change); with it set, the four bytes there become value, big-endian (a
 * length or an offset of any size, which single bytes rarely make).
 */
static void change_state(QIOChannelBuffer *state, uint16_t at, uint8_t flip,
                         uint32_t value)
{
    if (at & 0x8000 && state->usage >= 4) {
        stl_be_p(state->data + (at & 0x7fff) % (state->usage - 3), value);
    } else if (state->usage) {
        state->data[at % state->usage] ^= flip;
    }
}

/*
 * Load state into the device, and free it. Returns whether the load was
 * accepted: then the state is one the device could be in, and the next
 * step's MMIO write asserts its invariants on it.
 */
static bool load_device(QIOChannelBuffer *state)
{
    DeviceState *dev = crb_device();
    const VMStateDescription *vmsd = DEVICE_GET_CLASS(dev)->vmsd;
    Error *err = NULL;
    QEMUFile *f;
    int ret;

    f = qemu_file_new_input(QIO_CHANNEL(state));
    ret = vmstate_load_state(f, vmsd, dev, vmsd->version_id, &err);
    qemu_fclose(f);
    object_unref(OBJECT(state));
    error_free(err);
    return ret == 0;
}

/*
 * Restart the TPM with a buffer of buffer bytes, starting or not, by a
 * reset of the machine, and check what the guest then sees: chunking
 * offered exactly when the buffer is larger than the window,
 * tpmSts exactly when the TPM did not start.
 */
static void restart_tpm(QTestState *s, uint32_t buffer, bool fails)
{
    uint32_t intf, sts;

    tpm_emu_set_buffer_size(emu, buffer);
    tpm_emu_set_init_failure(emu, fails);
    tpm_buffer = buffer;
    fuzz_reset(s);
    intf = qtest_readl(s, CRB(A_CRB_INTF_ID));
    sts = qtest_readl(s, CRB(A_CRB_CTRL_STS));
    g_assert_cmpuint(!!(intf & R_CRB_INTF_ID_CapCRBChunk_MASK), ==,
                     buffer > WINDOW);
    g_assert_cmpuint(!!(sts & R_CRB_CTRL_STS_tpmSts_MASK), ==, fails);
}

/* Once the command that Start handed over has completed, check it. */
static void settle(QTestState *s, bool *started, unsigned count_before)
{
    if (*started && !start_set(s)) {
        check_completion(s, count_before);
        *started = false;
    }
}

static void tpm_crb_fuzz(QTestState *s, const unsigned char *data,
                         size_t size)
{
    Input in = { data, size };
    /* A command handed over by a Start this input wrote, not yet seen */
    bool started = false;
    unsigned count = tpm_emu_command_count(emu);

    set_reply(TPM_EMU_REPLY_ECHO);
    while (in.len) {
        uint8_t step = take8(&in) % STEP_MAX;

        switch (step) {
        case STEP_LOCALITY:
            qtest_writel(s, CRB(A_CRB_LOC_CTRL), take8(&in) & 1 ?
                         R_CRB_LOC_CTRL_relinquish_MASK :
                         R_CRB_LOC_CTRL_requestAccess_MASK);
            break;
        case STEP_CTRL_REQ:
            qtest_writel(s, CRB(A_CRB_CTRL_REQ), take8(&in) & 1 ?
                         R_CRB_CTRL_REQ_goIdle_MASK :
                         R_CRB_CTRL_REQ_cmdReady_MASK);
            break;
        case STEP_WINDOW: {
            uint8_t buf[WINDOW];
            uint8_t off = take8(&in) % WINDOW;
            uint8_t len = take8(&in) % (WINDOW - off + 1);

            for (uint8_t i = 0; i < len; i++) {
                buf[i] = take8(&in);
            }
            qtest_memwrite(s, CRB(A_CRB_DATA_BUFFER) + off, buf, len);
            break;
        }
        case STEP_HEADER: {
            uint32_t declared = take16(&in) % (TPM_BUFFER + 2 * WINDOW);
            uint8_t hdr[HEADER] = { 0x80, 0x01, declared >> 24,
                                    declared >> 16, declared >> 8, declared,
                                    0x00, 0x00, 0x01, take8(&in) };

            qtest_memwrite(s, CRB(A_CRB_DATA_BUFFER), hdr, sizeof(hdr));
            break;
        }
        case STEP_NEXT_CHUNK:
            qtest_writel(s, CRB(A_CRB_CTRL_START),
                         R_CRB_CTRL_START_nextChunk_MASK);
            break;
        case STEP_START:
            if (!start_set(s)) {
                count = tpm_emu_command_count(emu);
                qtest_memread(s, CRB(A_CRB_DATA_BUFFER), window_at_start,
                              WINDOW);
                qtest_writel(s, CRB(A_CRB_CTRL_START),
                             R_CRB_CTRL_START_invoke_MASK);
                started = true;
            }
            break;
        case STEP_RETRY:
            qtest_writel(s, CRB(A_CRB_CTRL_START),
                         R_CRB_CTRL_START_crbRspRetry_MASK);
            break;
        case STEP_CANCEL:
            qtest_writel(s, CRB(A_CRB_CTRL_CANCEL), 1);
            break;
        case STEP_REGISTER: {
            uint8_t off = take8(&in) % A_CRB_DATA_BUFFER;
            uint32_t val = take32(&in);

            switch (take8(&in) % 3) {
            case 0:
                qtest_writeb(s, CRB(off), val);
                break;
            case 1:
                qtest_writew(s, CRB(off & ~1), val);
                break;
            default:
                /* A Start written here is not followed up by checks. */
                qtest_writel(s, CRB(off & ~3), val);
                break;
            }
            break;
        }
        case STEP_REPLY:
            /* Only between commands: the fake answers one at a time. */
            wait_completion(s);
            settle(s, &started, count);
            switch (take8(&in) % 3) {
            case 0:
                set_reply(TPM_EMU_REPLY_ECHO);
                break;
            case 1:
                reply_size = take16(&in) % (TPM_BUFFER + 2 * WINDOW);
                tpm_emu_set_response_size(emu, reply_size);
                set_reply(TPM_EMU_REPLY_SIZED);
                break;
            default:
                /*
                 * Any tag and response code, framed as sent: a header
                 * that declares other than what comes would leave the
                 * backend's channel out of step (or waiting: QEMU
                 * 10.2.2's emulator backend has no timeout), which is the
                 * backend's business, not the device's.
                 */
                fixed_len = HEADER + take8(&in) % (sizeof(fixed) - HEADER);
                for (size_t i = 0; i < fixed_len; i++) {
                    fixed[i] = take8(&in);
                }
                stl_be_p(fixed + 2, fixed_len);
                tpm_emu_set_response(emu, fixed, fixed_len);
                set_reply(TPM_EMU_REPLY_FIXED);
                break;
            }
            break;
        case STEP_WAIT:
            wait_completion(s);
            break;
        case STEP_READ: {
            uint8_t off = take8(&in) % A_CRB_DATA_BUFFER;

            switch (take8(&in) % 3) {
            case 0:
                qtest_readb(s, CRB(off));
                break;
            case 1:
                qtest_readw(s, CRB(off & ~1));
                break;
            default:
                qtest_readl(s, CRB(off & ~3));
                break;
            }
            break;
        }
        case STEP_MIGRATE:
        case STEP_MIGRATE_TO: {
            uint32_t buffer = step == STEP_MIGRATE_TO ?
                              take16(&in) % (TPM_BUFFER + 1) : 0;
            uint16_t at = take16(&in);
            uint8_t flip = take8(&in);
            uint32_t value = at & 0x8000 ? take32(&in) : 0;
            QIOChannelBuffer *state;

            wait_completion(s);
            settle(s, &started, count);
            state = save_device();
            change_state(state, at, flip, value);
            if (step == STEP_MIGRATE_TO) {
                /* The destination's TPM, started by its reset */
                restart_tpm(s, buffer, false);
            }
            if (!load_device(state)) {
                /*
                 * Refused: a destination never runs such a state. Here
                 * the device holds what was loaded before the refusal,
                 * so the machine is reset, as a new destination would be.
                 */
                fuzz_reset(s);
            }
            break;
        }
        case STEP_RESTART: {
            uint32_t buffer = take16(&in) % (TPM_BUFFER + 1);
            bool fails = take8(&in) & 1;

            wait_completion(s);
            settle(s, &started, count);
            restart_tpm(s, buffer, fails);
            break;
        }
        }
        /*
         * Let a completion land between any two steps (only the main
         * loop delivers it), and check the window as soon as it has.
         */
        flush_events(s);
        settle(s, &started, count);
    }
    wait_completion(s);
    settle(s, &started, count);
    /* The next input starts from the same TPM and device. */
    restart_tpm(s, TPM_BUFFER, false);
}

static GString *tpm_crb_fuzz_cmdline(FuzzTarget *t)
{
    /* The first word stands for argv[0] */
    GString *cmd = g_string_new(t->name);

    g_string_append_printf(cmd, " -machine q35,accel=qtest -m 512M "
                           "-display none -nodefaults "
                           "-chardev socket,id=chrtpm,path=%s "
                           "-tpmdev emulator,id=tpm0,chardev=chrtpm "
                           "-device tpm-crb,tpmdev=tpm0,cap-chunk=on,"
                           "x-allow-chunk-migration=on,"
                           "x-data-buffer-size=%d",
                           tpm_emu_socket_path(emu), WINDOW);
    return cmd;
}

static void tpm_crb_fuzz_pre_vm_init(void)
{
    g_autoptr(GError) err = NULL;

    emu = tpm_emu_start(TPM_BUFFER, &err);
    g_assert_no_error(err);
}

static void register_tpm_crb_fuzz_targets(void)
{
    fuzz_add_target(&(FuzzTarget){
        .name = "tpm-crb-chunks",
        .description = "Fuzz tpm-crb's chunked transfers against a TPM "
                       "that answers with any size, checking what the "
                       "guest sees",
        .get_init_cmdline = tpm_crb_fuzz_cmdline,
        .pre_vm_init = tpm_crb_fuzz_pre_vm_init,
        .fuzz = tpm_crb_fuzz,
    });
}

fuzz_target_init(register_tpm_crb_fuzz_targets);
