/*
 * The "emulator" TPM backend: talks to swtpm over its control channel (a
 * -chardev socket) and a data channel (one end of a socketpair handed to
 * swtpm with CMD_SET_DATAFD).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include <sys/socket.h>
#include <swtpm/tpm_ioctl.h>
#include "qapi/error.h"
#include "qemu/bswap.h"
#include "qemu/error-report.h"
#include "qemu/module.h"
#include "chardev/char-fe.h"
#include "migration/blocker.h"
#include "qom/object.h"
#include "migration/vmstate.h"
#include "system/runstate.h"
#include "system/tpm_backend.h"
#include "system/tpm_util.h"
#include "tpm_int.h"
#include "trace.h"

#define TYPE_TPM_EMULATOR "tpm-emulator"
OBJECT_DECLARE_SIMPLE_TYPE(TPMEmulator, TPM_EMULATOR)

/*
 * swtpm answers control commands in microseconds; the bound only keeps a
 * stalled swtpm from holding the main loop (or the worker) forever.
 */
#define TPM_EMULATOR_CTRL_TIMEOUT_MS 10000
/* A cancel is a request from the guest's MMIO write: wait only briefly. */
#define TPM_EMULATOR_CANCEL_TIMEOUT_MS 200
/* Optional trailing reply bytes after an error result. */
#define TPM_EMULATOR_TRAILER_TIMEOUT_MS 50
/*
 * Once the first byte of a response has arrived, swtpm has written the
 * whole response; the rest must follow promptly. Waiting for the first
 * byte is unbounded: a TPM command may legitimately run for minutes.
 */
#define TPM_EMULATOR_DATA_TIMEOUT_MS 5000
/* swtpm's state blobs are tens of KiB; refuse absurd announced sizes. */
#define TPM_EMULATOR_MAX_BLOB_SIZE (16 * MiB)
/* swtpm flags results that are warnings rather than failures. */
#define TPM_EMULATOR_NON_FATAL 0x800

#define TPM_EMULATOR_IMPLEMENTS_ALL_CAPS(S, cap) (((S)->caps & (cap)) == (cap))

/* swtpm's state, carried in the migration stream. */
typedef struct TPMBlobBuffers {
    uint32_t permanent_flags;
    TPMSizedBuffer permanent;

    uint32_t volatil_flags;
    TPMSizedBuffer volatil;

    uint32_t savestate_flags;
    TPMSizedBuffer savestate;
} TPMBlobBuffers;

struct TPMEmulator {
    TPMBackend parent;

    char *chardev;
    CharBackend ctrl_chr;
    /* Our end of the data socketpair; swtpm holds the other one. */
    int data_fd;
    TPMVersion tpm_version;
    ptm_cap caps;
    Error *migration_blocker;

    /*
     * The control channel is used by the main loop and by the worker
     * (CMD_SET_LOCALITY before a command); ctrl_lock serialises it and
     * protects the fields below it.
     */
    GMutex ctrl_lock;
    uint8_t cur_locty_number;
    /* Reply bytes of a timed-out control command that are still due. */
    size_t ctrl_stale;
    /* The control stream lost framing or the peer went away. */
    bool ctrl_broken;

    /* Set by the worker when swtpm closed the data channel. */
    gint data_broken;

    bool established_flag;
    bool established_flag_cached;

    TPMBlobBuffers state_blobs;
};

static const char *tpm_emulator_cmd_name(uint32_t cmd)
{
    static const char *const names[] = {
        [CMD_GET_CAPABILITY] = "CMD_GET_CAPABILITY",
        [CMD_INIT] = "CMD_INIT",
        [CMD_SHUTDOWN] = "CMD_SHUTDOWN",
        [CMD_GET_TPMESTABLISHED] = "CMD_GET_TPMESTABLISHED",
        [CMD_SET_LOCALITY] = "CMD_SET_LOCALITY",
        [CMD_CANCEL_TPM_CMD] = "CMD_CANCEL_TPM_CMD",
        [CMD_RESET_TPMESTABLISHED] = "CMD_RESET_TPMESTABLISHED",
        [CMD_GET_STATEBLOB] = "CMD_GET_STATEBLOB",
        [CMD_SET_STATEBLOB] = "CMD_SET_STATEBLOB",
        [CMD_STOP] = "CMD_STOP",
        [CMD_SET_DATAFD] = "CMD_SET_DATAFD",
        [CMD_SET_BUFFERSIZE] = "CMD_SET_BUFFERSIZE",
    };

    if (cmd < ARRAY_SIZE(names) && names[cmd]) {
        return names[cmd];
    }
    return "control command";
}

static const char *tpm_emulator_strerror(uint32_t tpm_result)
{
    switch (tpm_result) {
    case TPM_BAD_PARAMETER:
        return " (bad parameter)";
    case TPM_FAIL:
        return " (operation failed)";
    case TPM_BAD_ORDINAL:
        return " (not allowed in the TPM's current state)";
    case TPM_RC_FAILURE:
        return " (TPM failure)";
    default:
        return "";
    }
}

static bool tpm_emulator_is_timeout(int err)
{
    return err == ETIMEDOUT || err == EAGAIN || err == EWOULDBLOCK;
}

/* Read exactly len control bytes; on failure errno says why (0: EOF). */
static bool tpm_emulator_ctrl_read(TPMEmulator *tpm, void *buf, size_t len,
                                   int timeout_ms)
{
    int n;

    qemu_chr_fe_set_timeout(&tpm->ctrl_chr, timeout_ms);
    n = qemu_chr_fe_read_all(&tpm->ctrl_chr, buf, len);
    if (n == (int)len) {
        return true;
    }
    if (n >= 0) {
        errno = 0;
    }
    return false;
}

/*
 * Before a new command, consume the reply of an earlier command that
 * timed out, so that replies stay paired with their commands.
 */
static bool tpm_emulator_ctrl_resync(TPMEmulator *tpm, Error **errp)
{
    uint8_t scratch[64];

    if (tpm->ctrl_broken) {
        error_setg(errp, "tpm-emulator: the control channel to swtpm is "
                   "unusable after an earlier failure");
        return false;
    }
    while (tpm->ctrl_stale) {
        size_t len = MIN(tpm->ctrl_stale, sizeof(scratch));

        if (!tpm_emulator_ctrl_read(tpm, scratch, len,
                                    TPM_EMULATOR_CTRL_TIMEOUT_MS)) {
            if (errno && tpm_emulator_is_timeout(errno)) {
                error_setg(errp, "tpm-emulator: swtpm has not answered an "
                           "earlier control command within %d ms",
                           TPM_EMULATOR_CTRL_TIMEOUT_MS);
            } else {
                tpm->ctrl_broken = true;
                error_setg(errp, "tpm-emulator: lost the control channel "
                           "to swtpm: %s",
                           errno ? strerror(errno) : "connection closed");
            }
            return false;
        }
        trace_tpm_emulator_ctrl_discard_stale(len);
        tpm->ctrl_stale -= len;
    }
    return true;
}

/*
 * Send control command cmd with msg_len_in bytes of msg, and read its
 * reply (at most msg_len_out bytes) back into msg. Called with ctrl_lock
 * held.
 *
 * swtpm sends only the 4-byte result when a command fails, so the reply
 * is read result first; CMD_GET_CAPABILITY has no result field.
 */
static int tpm_emulator_ctrlcmd_locked(TPMEmulator *tpm, uint32_t cmd,
                                       void *msg, size_t msg_len_in,
                                       size_t msg_len_out, int timeout_ms,
                                       Error **errp)
{
    g_autofree uint8_t *buf = g_malloc(sizeof(uint32_t) + msg_len_in);
    uint8_t *out = msg;
    size_t first;
    uint32_t res;
    int n;

    trace_tpm_emulator_ctrlcmd(cmd, msg_len_in, msg_len_out);

    if (!tpm_emulator_ctrl_resync(tpm, errp)) {
        return -1;
    }

    stl_be_p(buf, cmd);
    if (msg_len_in) {
        memcpy(buf + sizeof(uint32_t), msg, msg_len_in);
    }

    qemu_chr_fe_set_timeout(&tpm->ctrl_chr, timeout_ms);
    n = qemu_chr_fe_write_all(&tpm->ctrl_chr, buf,
                              sizeof(uint32_t) + msg_len_in);
    if (n != (int)(sizeof(uint32_t) + msg_len_in)) {
        /* A partial command would be misread by swtpm: give up on it. */
        tpm->ctrl_broken = true;
        error_setg(errp, "tpm-emulator: could not send %s to swtpm: %s",
                   tpm_emulator_cmd_name(cmd),
                   n < 0 ? strerror(errno) : "short write");
        return -1;
    }

    if (msg_len_out == 0) {
        return 0;
    }

    first = cmd == CMD_GET_CAPABILITY ? msg_len_out
                                      : MIN(msg_len_out, sizeof(ptm_res));
    if (!tpm_emulator_ctrl_read(tpm, out, first, timeout_ms)) {
        if (errno && tpm_emulator_is_timeout(errno)) {
            tpm->ctrl_stale = first;
            trace_tpm_emulator_ctrlcmd_timeout(cmd, timeout_ms);
            error_setg(errp, "tpm-emulator: swtpm did not answer %s within "
                       "%d ms", tpm_emulator_cmd_name(cmd), timeout_ms);
        } else {
            tpm->ctrl_broken = true;
            error_setg(errp, "tpm-emulator: no answer to %s from swtpm: %s",
                       tpm_emulator_cmd_name(cmd),
                       errno ? strerror(errno) : "connection closed");
        }
        return -1;
    }
    if (first == msg_len_out) {
        return 0;
    }

    res = ldl_be_p(out);
    if (res != 0 && !(res & TPM_EMULATOR_NON_FATAL)) {
        /*
         * Failure replies are normally the bare result; a few commands
         * send their whole structure anyway. Take it if it is there.
         */
        tpm_emulator_ctrl_read(tpm, out + first, msg_len_out - first,
                               TPM_EMULATOR_TRAILER_TIMEOUT_MS);
        return 0;
    }
    if (!tpm_emulator_ctrl_read(tpm, out + first, msg_len_out - first,
                                timeout_ms)) {
        tpm->ctrl_broken = true;
        error_setg(errp, "tpm-emulator: incomplete answer to %s from swtpm: "
                   "%s", tpm_emulator_cmd_name(cmd),
                   errno ? strerror(errno) : "connection closed");
        return -1;
    }
    return 0;
}

static int tpm_emulator_ctrlcmd(TPMEmulator *tpm, uint32_t cmd, void *msg,
                                size_t msg_len_in, size_t msg_len_out,
                                Error **errp)
{
    int ret;

    g_mutex_lock(&tpm->ctrl_lock);
    ret = tpm_emulator_ctrlcmd_locked(tpm, cmd, msg, msg_len_in, msg_len_out,
                                      TPM_EMULATOR_CTRL_TIMEOUT_MS, errp);
    g_mutex_unlock(&tpm->ctrl_lock);
    return ret;
}

/* A control command whose whole reply is a ptm_res. */
static int tpm_emulator_ctrlcmd_res(TPMEmulator *tpm, uint32_t cmd,
                                    Error **errp)
{
    ptm_res res = 0;
    uint32_t result;

    if (tpm_emulator_ctrlcmd(tpm, cmd, &res, 0, sizeof(res), errp) < 0) {
        return -1;
    }
    result = be32_to_cpu(res);
    if (result != 0) {
        error_setg(errp, "tpm-emulator: TPM result for %s: 0x%x%s",
                   tpm_emulator_cmd_name(cmd), result,
                   tpm_emulator_strerror(result));
        return -1;
    }
    return 0;
}

/* The data channel, used by the worker only. */

/*
 * Bytes waiting before a new command was sent are the rest of a response
 * that an earlier command gave up on: drop them so that this command's
 * response is read from its first byte.
 */
static int tpm_emulator_data_drain(TPMEmulator *tpm)
{
    uint8_t scratch[256];
    size_t total = 0;
    ssize_t n;

    for (;;) {
        n = RETRY_ON_EINTR(recv(tpm->data_fd, scratch, sizeof(scratch),
                                MSG_DONTWAIT));
        if (n > 0) {
            total += n;
            continue;
        }
        if (n == 0) {
            return -ECONNRESET;
        }
        if (tpm_emulator_is_timeout(errno)) {
            break;
        }
        return -errno;
    }
    if (total) {
        trace_tpm_emulator_data_discard_stale(total);
    }
    return 0;
}

static int tpm_emulator_data_write(TPMEmulator *tpm, const uint8_t *buf,
                                   size_t len)
{
    ssize_t n;

    while (len) {
        /* MSG_NOSIGNAL: a dead swtpm must give EPIPE, not SIGPIPE. */
        n = RETRY_ON_EINTR(send(tpm->data_fd, buf, len, MSG_NOSIGNAL));
        if (n < 0) {
            return -errno;
        }
        buf += n;
        len -= n;
    }
    return 0;
}

/*
 * Read exactly len bytes. The wait for the first byte is bounded by
 * first_timeout_ms (-1: none), every later wait by
 * TPM_EMULATOR_DATA_TIMEOUT_MS. *got counts the bytes read.
 */
static int tpm_emulator_data_read(TPMEmulator *tpm, uint8_t *buf, size_t len,
                                  int first_timeout_ms, size_t *got)
{
    struct pollfd pfd = { .fd = tpm->data_fd, .events = POLLIN };
    int timeout = first_timeout_ms;
    ssize_t n;

    *got = 0;
    while (*got < len) {
        n = RETRY_ON_EINTR(poll(&pfd, 1, timeout));
        if (n < 0) {
            return -errno;
        }
        if (n == 0) {
            return -ETIMEDOUT;
        }
        n = RETRY_ON_EINTR(recv(tpm->data_fd, buf + *got, len - *got, 0));
        if (n < 0) {
            return -errno;
        }
        if (n == 0) {
            return -ECONNRESET;
        }
        *got += n;
        timeout = TPM_EMULATOR_DATA_TIMEOUT_MS;
    }
    return 0;
}

static void tpm_emulator_data_error(TPMEmulator *tpm, int err,
                                    const char *what, Error **errp)
{
    if (err == -ECONNRESET || err == -EPIPE) {
        g_atomic_int_set(&tpm->data_broken, 1);
        error_setg(errp, "tpm-emulator: %s: swtpm closed the data channel "
                   "(did it exit?)", what);
    } else if (err == -ETIMEDOUT) {
        error_setg(errp, "tpm-emulator: %s: swtpm stopped sending within "
                   "%d ms", what, TPM_EMULATOR_DATA_TIMEOUT_MS);
    } else {
        error_setg(errp, "tpm-emulator: %s: %s", what, strerror(-err));
    }
}

static int tpm_emulator_unix_tx_bufs(TPMEmulator *tpm,
                                     const uint8_t *in, uint32_t in_len,
                                     uint8_t *out, uint32_t out_len,
                                     bool *selftest_done, Error **errp)
{
    bool is_selftest = tpm_util_is_selftest(in, in_len);
    uint32_t rsp_len;
    size_t got;
    int ret;

    *selftest_done = false;

    if (out_len < TPM_HEADER_SIZE) {
        error_setg(errp, "tpm-emulator: response buffer of %u bytes cannot "
                   "hold a TPM header", out_len);
        return -1;
    }

    ret = tpm_emulator_data_drain(tpm);
    if (ret == 0) {
        ret = tpm_emulator_data_write(tpm, in, in_len);
    }
    if (ret < 0) {
        tpm_emulator_data_error(tpm, ret, "could not send the command", errp);
        return -1;
    }

    ret = tpm_emulator_data_read(tpm, out, TPM_HEADER_SIZE, -1, &got);
    if (ret < 0) {
        tpm_emulator_data_error(tpm, ret, "could not read the response "
                                "header", errp);
        return -1;
    }

    /*
     * Never read beyond the buffer the device gave us. What remains of
     * an oversized response is dropped before the next command.
     */
    rsp_len = tpm_cmd_get_size(out);
    if (rsp_len < TPM_HEADER_SIZE) {
        error_setg(errp, "tpm-emulator: swtpm sent a response header "
                   "declaring %u bytes, less than the header itself",
                   rsp_len);
        return -1;
    }
    if (rsp_len > out_len) {
        error_setg(errp, "tpm-emulator: swtpm sent a response of %u bytes, "
                   "larger than the buffer of %u bytes", rsp_len, out_len);
        return -1;
    }

    ret = tpm_emulator_data_read(tpm, out + TPM_HEADER_SIZE,
                                 rsp_len - TPM_HEADER_SIZE,
                                 TPM_EMULATOR_DATA_TIMEOUT_MS, &got);
    if (ret < 0) {
        g_autofree char *what = g_strdup_printf(
            "response cut short after %zu of %u bytes",
            TPM_HEADER_SIZE + got, rsp_len);

        tpm_emulator_data_error(tpm, ret, what, errp);
        return -1;
    }

    trace_tpm_emulator_response(rsp_len);

    if (is_selftest) {
        *selftest_done = tpm_cmd_get_errcode(out) == 0;
    }
    return 0;
}

/* Worker thread (the only ctrl user besides the main loop). */
static int tpm_emulator_set_locality(TPMEmulator *tpm, uint8_t locty_number,
                                     Error **errp)
{
    ptm_loc loc;
    uint32_t result;
    int ret = 0;

    g_mutex_lock(&tpm->ctrl_lock);
    if (tpm->cur_locty_number == locty_number) {
        goto out;
    }

    trace_tpm_emulator_set_locality(locty_number);

    memset(&loc, 0, sizeof(loc));
    loc.u.req.loc = locty_number;
    ret = tpm_emulator_ctrlcmd_locked(tpm, CMD_SET_LOCALITY, &loc,
                                      sizeof(loc), sizeof(loc.u.resp),
                                      TPM_EMULATOR_CTRL_TIMEOUT_MS, errp);
    if (ret < 0) {
        goto out;
    }

    result = be32_to_cpu(loc.u.resp.tpm_result);
    if (result != 0) {
        error_setg(errp, "tpm-emulator: TPM result for CMD_SET_LOCALITY(%u): "
                   "0x%x%s", locty_number, result,
                   tpm_emulator_strerror(result));
        ret = -1;
        goto out;
    }
    tpm->cur_locty_number = locty_number;

out:
    g_mutex_unlock(&tpm->ctrl_lock);
    return ret;
}

static void tpm_emulator_handle_request(TPMBackend *tb, TPMBackendCmd *cmd,
                                        Error **errp)
{
    TPMEmulator *tpm = TPM_EMULATOR(tb);

    trace_tpm_emulator_handle_request(cmd->in_len, cmd->out_len);

    if (tpm_emulator_set_locality(tpm, cmd->locty, errp) < 0 ||
        tpm_emulator_unix_tx_bufs(tpm, cmd->in, cmd->in_len,
                                  cmd->out, cmd->out_len,
                                  &cmd->selftest_done, errp) < 0) {
        tpm_util_write_fatal_error_response(cmd->out, cmd->out_len);
        return;
    }
    /* Tell the front end how many bytes of cmd->out are this response. */
    cmd->out_len = tpm_cmd_get_size(cmd->out);
}

static int tpm_emulator_probe_caps(TPMEmulator *tpm, Error **errp)
{
    ptm_cap caps = 0;

    if (tpm_emulator_ctrlcmd(tpm, CMD_GET_CAPABILITY, &caps, 0,
                             sizeof(caps), errp) < 0) {
        return -1;
    }
    tpm->caps = be64_to_cpu(caps);

    trace_tpm_emulator_probe_caps(tpm->caps);
    return 0;
}

static int tpm_emulator_check_caps(TPMEmulator *tpm, Error **errp)
{
    static const struct {
        ptm_cap cap;
        const char *name;
    } cap_names[] = {
        { PTM_CAP_INIT, "INIT" },
        { PTM_CAP_SHUTDOWN, "SHUTDOWN" },
        { PTM_CAP_GET_TPMESTABLISHED, "GET_TPMESTABLISHED" },
        { PTM_CAP_SET_LOCALITY, "SET_LOCALITY" },
        { PTM_CAP_RESET_TPMESTABLISHED, "RESET_TPMESTABLISHED" },
        { PTM_CAP_SET_DATAFD, "SET_DATAFD" },
        { PTM_CAP_STOP, "STOP" },
        { PTM_CAP_SET_BUFFERSIZE, "SET_BUFFERSIZE" },
    };
    g_autoptr(GString) missing = NULL;
    ptm_cap needed;
    const char *version;
    size_t i;

    needed = PTM_CAP_INIT | PTM_CAP_SHUTDOWN | PTM_CAP_GET_TPMESTABLISHED |
             PTM_CAP_SET_LOCALITY | PTM_CAP_SET_DATAFD | PTM_CAP_STOP |
             PTM_CAP_SET_BUFFERSIZE;
    switch (tpm->tpm_version) {
    case TPM_VERSION_1_2:
        version = "1.2";
        break;
    case TPM_VERSION_2_0:
        needed |= PTM_CAP_RESET_TPMESTABLISHED;
        version = "2";
        break;
    default:
        error_setg(errp, "tpm-emulator: TPM version has not been set");
        return -1;
    }

    if (TPM_EMULATOR_IMPLEMENTS_ALL_CAPS(tpm, needed)) {
        return 0;
    }

    missing = g_string_new("");
    for (i = 0; i < ARRAY_SIZE(cap_names); i++) {
        if ((needed & cap_names[i].cap) && !(tpm->caps & cap_names[i].cap)) {
            g_string_append_printf(missing, "%s%s", missing->len ? ", " : "",
                                   cap_names[i].name);
        }
    }
    error_setg(errp, "tpm-emulator: TPM does not implement the capabilities "
               "required for TPM %s: missing %s (has 0x%" PRIx64 ")",
               version, missing->str, (uint64_t)tpm->caps);
    return -1;
}

static int tpm_emulator_stop_tpm(TPMEmulator *tpm, Error **errp)
{
    return tpm_emulator_ctrlcmd_res(tpm, CMD_STOP, errp);
}

/* wanted_size 0 queries; anything else needs a stopped TPM. */
static int tpm_emulator_set_buffer_size(TPMEmulator *tpm, size_t wanted_size,
                                        size_t *actual_size, Error **errp)
{
    ptm_setbuffersize psbs;
    uint32_t result;

    if (wanted_size > UINT32_MAX) {
        error_setg(errp, "tpm-emulator: buffer size %zu is too large",
                   wanted_size);
        return -1;
    }
    if (wanted_size && tpm_emulator_stop_tpm(tpm, errp) < 0) {
        return -1;
    }

    memset(&psbs, 0, sizeof(psbs));
    psbs.u.req.buffersize = cpu_to_be32(wanted_size);
    if (tpm_emulator_ctrlcmd(tpm, CMD_SET_BUFFERSIZE, &psbs,
                             sizeof(psbs.u.req), sizeof(psbs.u.resp),
                             errp) < 0) {
        return -1;
    }

    result = be32_to_cpu(psbs.u.resp.tpm_result);
    if (result != 0) {
        error_setg(errp, "tpm-emulator: TPM result for CMD_SET_BUFFERSIZE(%zu):"
                   " 0x%x%s", wanted_size, result,
                   tpm_emulator_strerror(result));
        return -1;
    }

    if (actual_size) {
        *actual_size = be32_to_cpu(psbs.u.resp.buffersize);
    }

    trace_tpm_emulator_set_buffer_size(be32_to_cpu(psbs.u.resp.buffersize),
                                       be32_to_cpu(psbs.u.resp.minsize),
                                       be32_to_cpu(psbs.u.resp.maxsize));
    return 0;
}

static int tpm_emulator_startup_tpm_resume(TPMEmulator *tpm,
                                           size_t buffersize,
                                           bool is_resume, Error **errp)
{
    ptm_init init;
    uint32_t result;

    trace_tpm_emulator_startup_tpm_resume(is_resume, buffersize);

    if (buffersize != 0 &&
        tpm_emulator_set_buffer_size(tpm, buffersize, NULL, errp) < 0) {
        return -1;
    }

    memset(&init, 0, sizeof(init));
    if (is_resume) {
        /* The volatile state came from the stream; do not reuse it. */
        init.u.req.init_flags = cpu_to_be32(PTM_INIT_FLAG_DELETE_VOLATILE);
    }
    if (tpm_emulator_ctrlcmd(tpm, CMD_INIT, &init, sizeof(init),
                             sizeof(init.u.resp), errp) < 0) {
        return -1;
    }

    result = be32_to_cpu(init.u.resp.tpm_result);
    if (result != 0) {
        error_setg(errp, "tpm-emulator: TPM result for CMD_INIT: 0x%x%s",
                   result, tpm_emulator_strerror(result));
        return -1;
    }

    /* A restarted TPM may report another establishment bit. */
    tpm->established_flag_cached = false;
    return 0;
}

static int tpm_emulator_startup_tpm(TPMBackend *tb, size_t buffersize)
{
    TPMEmulator *tpm = TPM_EMULATOR(tb);
    Error *err = NULL;
    int ret;

    if (runstate_check(RUN_STATE_INMIGRATE)) {
        /* The TPM is started by post_load with the incoming state. */
        ret = buffersize ?
              tpm_emulator_set_buffer_size(tpm, buffersize, NULL, &err) : 0;
    } else {
        ret = tpm_emulator_startup_tpm_resume(tpm, buffersize, false, &err);
    }
    if (ret < 0) {
        error_report_err(err);
    }
    return ret;
}

static bool tpm_emulator_get_tpm_established_flag(TPMBackend *tb)
{
    TPMEmulator *tpm = TPM_EMULATOR(tb);
    Error *err = NULL;
    ptm_est est;

    if (tpm->established_flag_cached) {
        return tpm->established_flag;
    }

    memset(&est, 0, sizeof(est));
    if (tpm_emulator_ctrlcmd(tpm, CMD_GET_TPMESTABLISHED, &est, 0,
                             sizeof(est.u.resp), &err) < 0) {
        error_report_err(err);
        return false;
    }
    if (be32_to_cpu(est.u.resp.tpm_result) != 0) {
        error_report("tpm-emulator: TPM result for CMD_GET_TPMESTABLISHED: "
                     "0x%x%s", be32_to_cpu(est.u.resp.tpm_result),
                     tpm_emulator_strerror(
                         be32_to_cpu(est.u.resp.tpm_result)));
        return false;
    }
    trace_tpm_emulator_get_tpm_established_flag(est.u.resp.bit);

    tpm->established_flag_cached = true;
    tpm->established_flag = est.u.resp.bit != 0;
    return tpm->established_flag;
}

static int tpm_emulator_reset_tpm_established_flag(TPMBackend *tb,
                                                   uint8_t locty)
{
    TPMEmulator *tpm = TPM_EMULATOR(tb);
    ptm_reset_est reset_est;
    Error *err = NULL;
    uint32_t result;

    /* Only a TPM 2 implements it. */
    if (tpm->tpm_version != TPM_VERSION_2_0) {
        return 0;
    }

    memset(&reset_est, 0, sizeof(reset_est));
    reset_est.u.req.loc = locty;
    if (tpm_emulator_ctrlcmd(tpm, CMD_RESET_TPMESTABLISHED, &reset_est,
                             sizeof(reset_est), sizeof(reset_est.u.resp),
                             &err) < 0) {
        error_report_err(err);
        return -1;
    }

    result = be32_to_cpu(reset_est.u.resp.tpm_result);
    if (result != 0) {
        error_report("tpm-emulator: TPM result for CMD_RESET_TPMESTABLISHED: "
                     "0x%x%s", result, tpm_emulator_strerror(result));
        return -1;
    }

    tpm->established_flag_cached = false;
    return 0;
}

/*
 * Main loop, on the guest's CTRL_CANCEL write: must not stall the guest.
 * If the worker holds the control channel, or swtpm does not answer at
 * once, give up; a late reply is discarded by the next control command.
 */
static void tpm_emulator_cancel_cmd(TPMBackend *tb)
{
    TPMEmulator *tpm = TPM_EMULATOR(tb);
    Error *err = NULL;
    ptm_res res = 0;
    int ret;

    if (!TPM_EMULATOR_IMPLEMENTS_ALL_CAPS(tpm, PTM_CAP_CANCEL_TPM_CMD)) {
        trace_tpm_emulator_cancel_cmd_not_supt();
        return;
    }

    if (!g_mutex_trylock(&tpm->ctrl_lock)) {
        trace_tpm_emulator_cancel_cmd_busy();
        return;
    }
    ret = tpm_emulator_ctrlcmd_locked(tpm, CMD_CANCEL_TPM_CMD, &res, 0,
                                      sizeof(res),
                                      TPM_EMULATOR_CANCEL_TIMEOUT_MS, &err);
    if (ret < 0 && tpm->ctrl_stale) {
        /* Stalled swtpm: expected here, the trace point says it. */
        error_free(err);
        err = NULL;
    }
    g_mutex_unlock(&tpm->ctrl_lock);

    if (err) {
        error_report_err(err);
    } else if (ret == 0 && res != 0) {
        error_report("tpm-emulator: TPM result for CMD_CANCEL_TPM_CMD: 0x%x%s",
                     be32_to_cpu(res), tpm_emulator_strerror(be32_to_cpu(res)));
    }
}

static TPMVersion tpm_emulator_get_tpm_version(TPMBackend *tb)
{
    return TPM_EMULATOR(tb)->tpm_version;
}

/*
 * Unlike QEMU, query without CMD_STOP: swtpm accepts a query while
 * running, and the device may ask at any time.
 */
static size_t tpm_emulator_get_buffer_size(TPMBackend *tb)
{
    TPMEmulator *tpm = TPM_EMULATOR(tb);
    Error *err = NULL;
    size_t actual_size;

    if (tpm_emulator_set_buffer_size(tpm, 0, &actual_size, &err) < 0) {
        error_report_err(err);
        return 4096;
    }
    return actual_size;
}

static int tpm_emulator_block_migration(TPMEmulator *tpm, Error **errp)
{
    ptm_cap caps = PTM_CAP_GET_STATEBLOB | PTM_CAP_SET_STATEBLOB |
                   PTM_CAP_STOP;

    if (TPM_EMULATOR_IMPLEMENTS_ALL_CAPS(tpm, caps)) {
        return 0;
    }
    error_setg(&tpm->migration_blocker, "Migration disabled: TPM emulator "
               "does not support migration");
    if (migrate_add_blocker(&tpm->migration_blocker, errp) < 0) {
        return -1;
    }
    return 0;
}

static int tpm_emulator_prepare_data_fd(TPMEmulator *tpm, Error **errp)
{
    int fds[2] = { -1, -1 };
    Error *local_err = NULL;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
        error_setg_errno(errp, errno, "tpm-emulator: Failed to create "
                         "socketpair");
        return -1;
    }

    qemu_chr_fe_set_msgfds(&tpm->ctrl_chr, fds + 1, 1);
    if (tpm_emulator_ctrlcmd_res(tpm, CMD_SET_DATAFD, &local_err) < 0) {
        error_propagate_prepend(errp, local_err, "tpm-emulator: could not "
                                "hand the data channel to swtpm: ");
        close(fds[0]);
        close(fds[1]);
        return -1;
    }

    /* swtpm has its copy now; ours would hide its exit from us. */
    close(fds[1]);
    tpm->data_fd = fds[0];
    return 0;
}

static int tpm_emulator_handle_device_opts(TPMEmulator *tpm, QemuOpts *opts,
                                           Error **errp)
{
    const char *value;
    Chardev *dev;
    int ret;

    value = qemu_opt_get(opts, "chardev");
    if (!value) {
        error_setg(errp, "tpm-emulator: parameter 'chardev' is missing");
        return -1;
    }

    dev = qemu_chr_find(value);
    if (!dev) {
        error_setg(errp, "tpm-emulator: tpm chardev '%s' not found", value);
        return -1;
    }

    if (!qemu_chr_fe_init(&tpm->ctrl_chr, dev, errp)) {
        error_prepend(errp, "tpm-emulator: No valid chardev found at '%s': ",
                      value);
        return -1;
    }
    tpm->chardev = g_strdup(value);

    if (!qemu_chr_fe_backend_connected(&tpm->ctrl_chr)) {
        error_setg(errp, "tpm-emulator: chardev '%s' is not connected to "
                   "swtpm", value);
        return -1;
    }

    if (tpm_emulator_prepare_data_fd(tpm, errp) < 0) {
        return -1;
    }

    ret = tpm_util_test_tpmdev(tpm->data_fd, &tpm->tpm_version);
    if (ret < 0) {
        error_setg(errp, "tpm-emulator: '%s' is not emulating a TPM device: "
                   "%s", value, strerror(-ret));
        return -1;
    }

    switch (tpm->tpm_version) {
    case TPM_VERSION_1_2:
        trace_tpm_emulator_handle_device_opts_tpm12();
        break;
    case TPM_VERSION_2_0:
        trace_tpm_emulator_handle_device_opts_tpm2();
        break;
    default:
        trace_tpm_emulator_handle_device_opts_unspec();
    }

    if (tpm_emulator_probe_caps(tpm, errp) < 0 ||
        tpm_emulator_check_caps(tpm, errp) < 0) {
        return -1;
    }

    return tpm_emulator_block_migration(tpm, errp);
}

static TPMBackend *tpm_emulator_create(QemuOpts *opts, Error **errp)
{
    TPMBackend *tb = TPM_BACKEND(object_new(TYPE_TPM_EMULATOR));

    if (tpm_emulator_handle_device_opts(TPM_EMULATOR(tb), opts, errp) < 0) {
        trace_tpm_emulator_handle_device_opts_startup_error();
        object_unref(OBJECT(tb));
        return NULL;
    }

    return tb;
}

static const QemuOptDesc tpm_emulator_cmdline_opts[] = {
    TPM_STANDARD_CMDLINE_OPTS,
    {
        .name = "chardev",
        .type = QEMU_OPT_STRING,
        .help = "Character device to use for out-of-band control messages",
    },
    { /* end of list */ },
};

/* State blobs (SPEC section 5: swtpm's state travels with the device). */

/* Fetch one state blob from swtpm into tsb. */
static int tpm_emulator_get_state_blob(TPMEmulator *tpm, uint8_t type,
                                       TPMSizedBuffer *tsb, uint32_t *flags,
                                       Error **errp)
{
    ptm_getstate pgs;
    uint32_t result, totlength, length;
    int ret = -1;
    int n;

    tpm_sized_buffer_reset(tsb);

    memset(&pgs, 0, sizeof(pgs));
    pgs.u.req.state_flags = cpu_to_be32(PTM_STATE_FLAG_DECRYPTED);
    pgs.u.req.type = cpu_to_be32(type);
    pgs.u.req.offset = 0;

    g_mutex_lock(&tpm->ctrl_lock);
    if (tpm_emulator_ctrlcmd_locked(tpm, CMD_GET_STATEBLOB, &pgs,
                                    sizeof(pgs.u.req),
                                    offsetof(ptm_getstate, u.resp.data),
                                    TPM_EMULATOR_CTRL_TIMEOUT_MS, errp) < 0) {
        goto out;
    }

    result = be32_to_cpu(pgs.u.resp.tpm_result);
    if (result != 0 && !(result & TPM_EMULATOR_NON_FATAL)) {
        error_setg(errp, "tpm-emulator: getting the state blob (type %d) "
                   "failed with TPM result 0x%x%s", type, result,
                   tpm_emulator_strerror(result));
        goto out;
    }

    totlength = be32_to_cpu(pgs.u.resp.totlength);
    length = be32_to_cpu(pgs.u.resp.length);
    if (totlength != length) {
        tpm->ctrl_broken = true;
        error_setg(errp, "tpm-emulator: state blob (type %d) announced %u "
                   "bytes but would send %u", type, totlength, length);
        goto out;
    }
    if (totlength > TPM_EMULATOR_MAX_BLOB_SIZE) {
        tpm->ctrl_broken = true;
        error_setg(errp, "tpm-emulator: state blob (type %d) of %u bytes "
                   "exceeds the limit of %llu bytes", type, totlength,
                   (unsigned long long)TPM_EMULATOR_MAX_BLOB_SIZE);
        goto out;
    }

    *flags = be32_to_cpu(pgs.u.resp.state_flags);
    if (totlength > 0) {
        tsb->buffer = g_malloc(totlength);
        qemu_chr_fe_set_timeout(&tpm->ctrl_chr, TPM_EMULATOR_CTRL_TIMEOUT_MS);
        n = qemu_chr_fe_read_all(&tpm->ctrl_chr, tsb->buffer, totlength);
        if (n != (int)totlength) {
            tpm->ctrl_broken = true;
            error_setg(errp, "tpm-emulator: could not read the state blob "
                       "(type %d): expected %u bytes, got %d", type,
                       totlength, n);
            tpm_sized_buffer_reset(tsb);
            goto out;
        }
    }
    tsb->size = totlength;
    ret = 0;

    trace_tpm_emulator_get_state_blob(type, tsb->size, *flags);

out:
    g_mutex_unlock(&tpm->ctrl_lock);
    return ret;
}

static void tpm_emulator_reset_state_blobs(TPMEmulator *tpm)
{
    tpm_sized_buffer_reset(&tpm->state_blobs.permanent);
    tpm_sized_buffer_reset(&tpm->state_blobs.volatil);
    tpm_sized_buffer_reset(&tpm->state_blobs.savestate);
}

static int tpm_emulator_get_state_blobs(TPMEmulator *tpm, Error **errp)
{
    TPMBlobBuffers *sb = &tpm->state_blobs;

    if (tpm_emulator_get_state_blob(tpm, PTM_BLOB_TYPE_PERMANENT,
                                    &sb->permanent, &sb->permanent_flags,
                                    errp) < 0 ||
        tpm_emulator_get_state_blob(tpm, PTM_BLOB_TYPE_VOLATILE,
                                    &sb->volatil, &sb->volatil_flags,
                                    errp) < 0 ||
        tpm_emulator_get_state_blob(tpm, PTM_BLOB_TYPE_SAVESTATE,
                                    &sb->savestate, &sb->savestate_flags,
                                    errp) < 0) {
        tpm_emulator_reset_state_blobs(tpm);
        return -1;
    }
    return 0;
}

/* Hand one state blob to swtpm (which must be stopped). */
static int tpm_emulator_set_state_blob(TPMEmulator *tpm, uint32_t type,
                                       TPMSizedBuffer *tsb, uint32_t flags,
                                       Error **errp)
{
    ptm_setstate pss;
    uint32_t result;
    int ret = -1;
    int n;

    if (tsb->size == 0) {
        return 0;
    }

    memset(&pss, 0, offsetof(ptm_setstate, u.req.data));
    pss.u.req.state_flags = cpu_to_be32(flags);
    pss.u.req.type = cpu_to_be32(type);
    pss.u.req.length = cpu_to_be32(tsb->size);

    g_mutex_lock(&tpm->ctrl_lock);
    /* The header first, then the blob, then one result for both. */
    if (tpm_emulator_ctrlcmd_locked(tpm, CMD_SET_STATEBLOB, &pss,
                                    offsetof(ptm_setstate, u.req.data), 0,
                                    TPM_EMULATOR_CTRL_TIMEOUT_MS, errp) < 0) {
        goto out;
    }

    n = qemu_chr_fe_write_all(&tpm->ctrl_chr, tsb->buffer, tsb->size);
    if (n != (int)tsb->size) {
        tpm->ctrl_broken = true;
        error_setg(errp, "tpm-emulator: writing the state blob (type %d) "
                   "failed: wrote %d of %u bytes", type, n, tsb->size);
        goto out;
    }

    if (!tpm_emulator_ctrl_read(tpm, &pss.u.resp, sizeof(pss.u.resp),
                                TPM_EMULATOR_CTRL_TIMEOUT_MS)) {
        tpm->ctrl_broken = true;
        error_setg(errp, "tpm-emulator: no result for the state blob "
                   "(type %d): %s", type,
                   errno ? strerror(errno) : "connection closed");
        goto out;
    }

    result = be32_to_cpu(pss.u.resp.tpm_result);
    if (result != 0) {
        error_setg(errp, "tpm-emulator: setting the state blob (type %d) "
                   "failed with TPM result 0x%x%s", type, result,
                   tpm_emulator_strerror(result));
        goto out;
    }
    ret = 0;

    trace_tpm_emulator_set_state_blob(type, tsb->size, flags);

out:
    g_mutex_unlock(&tpm->ctrl_lock);
    return ret;
}

static int tpm_emulator_set_state_blobs(TPMEmulator *tpm, Error **errp)
{
    TPMBlobBuffers *sb = &tpm->state_blobs;

    trace_tpm_emulator_set_state_blobs();

    if (tpm_emulator_stop_tpm(tpm, errp) < 0) {
        trace_tpm_emulator_set_state_blobs_error("Could not stop TPM");
        return -1;
    }

    if (tpm_emulator_set_state_blob(tpm, PTM_BLOB_TYPE_PERMANENT,
                                    &sb->permanent, sb->permanent_flags,
                                    errp) < 0 ||
        tpm_emulator_set_state_blob(tpm, PTM_BLOB_TYPE_VOLATILE,
                                    &sb->volatil, sb->volatil_flags,
                                    errp) < 0 ||
        tpm_emulator_set_state_blob(tpm, PTM_BLOB_TYPE_SAVESTATE,
                                    &sb->savestate, sb->savestate_flags,
                                    errp) < 0) {
        return -1;
    }

    trace_tpm_emulator_set_state_blobs_done();
    return 0;
}

static bool tpm_emulator_pre_save(void *opaque, Error **errp)
{
    TPMBackend *tb = opaque;

    trace_tpm_emulator_pre_save();

    /* The blobs must include the effect of the command in flight. */
    tpm_backend_finish_sync(tb);

    return tpm_emulator_get_state_blobs(TPM_EMULATOR(tb), errp) == 0;
}

static bool tpm_emulator_post_load(void *opaque, int version_id, Error **errp)
{
    TPMEmulator *tpm = TPM_EMULATOR(opaque);
    bool ok;

    ok = tpm_emulator_set_state_blobs(tpm, errp) == 0 &&
         tpm_emulator_startup_tpm_resume(tpm, 0, true, errp) == 0;

    /* swtpm has its copy; do not keep tens of KiB around. */
    tpm_emulator_reset_state_blobs(tpm);
    return ok;
}

static const VMStateDescription vmstate_tpm_emulator = {
    .name = "tpm-emulator",
    .version_id = 0,
    .minimum_version_id = 0,
    .pre_save_errp = tpm_emulator_pre_save,
    .post_load_errp = tpm_emulator_post_load,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(state_blobs.permanent_flags, TPMEmulator),
        VMSTATE_UINT32(state_blobs.permanent.size, TPMEmulator),
        VMSTATE_VBUFFER_ALLOC_UINT32(state_blobs.permanent.buffer,
                                     TPMEmulator, 0, NULL,
                                     state_blobs.permanent.size),

        VMSTATE_UINT32(state_blobs.volatil_flags, TPMEmulator),
        VMSTATE_UINT32(state_blobs.volatil.size, TPMEmulator),
        VMSTATE_VBUFFER_ALLOC_UINT32(state_blobs.volatil.buffer,
                                     TPMEmulator, 0, NULL,
                                     state_blobs.volatil.size),

        VMSTATE_UINT32(state_blobs.savestate_flags, TPMEmulator),
        VMSTATE_UINT32(state_blobs.savestate.size, TPMEmulator),
        VMSTATE_VBUFFER_ALLOC_UINT32(state_blobs.savestate.buffer,
                                     TPMEmulator, 0, NULL,
                                     state_blobs.savestate.size),

        VMSTATE_END_OF_LIST()
    },
};

static void tpm_emulator_inst_init(Object *obj)
{
    TPMEmulator *tpm = TPM_EMULATOR(obj);

    trace_tpm_emulator_inst_init();

    tpm->data_fd = -1;
    tpm->cur_locty_number = ~0;
    g_mutex_init(&tpm->ctrl_lock);

    vmstate_register_any(NULL, &vmstate_tpm_emulator, obj);
}

/*
 * Tell swtpm to exit. When swtpm is already gone (the data channel saw
 * it close), failing to reach it is expected and only traced.
 */
static void tpm_emulator_shutdown(TPMEmulator *tpm)
{
    Error *err = NULL;
    int ret;

    if (!tpm->chardev || tpm->data_fd < 0) {
        /* It was never set up. */
        return;
    }

    ret = tpm_emulator_ctrlcmd_res(tpm, CMD_SHUTDOWN, &err);
    trace_tpm_emulator_shutdown(ret);
    if (ret < 0) {
        if (g_atomic_int_get(&tpm->data_broken)) {
            error_free(err);
        } else {
            error_prepend(&err, "tpm-emulator: could not shut swtpm down "
                          "cleanly: ");
            error_report_err(err);
        }
    }
}

static void tpm_emulator_inst_finalize(Object *obj)
{
    TPMEmulator *tpm = TPM_EMULATOR(obj);

    tpm_emulator_shutdown(tpm);

    if (tpm->data_fd >= 0) {
        close(tpm->data_fd);
        tpm->data_fd = -1;
    }

    qemu_chr_fe_deinit(&tpm->ctrl_chr, false);
    g_free(tpm->chardev);

    if (tpm->migration_blocker) {
        migrate_del_blocker(&tpm->migration_blocker);
    }

    tpm_emulator_reset_state_blobs(tpm);
    g_mutex_clear(&tpm->ctrl_lock);

    vmstate_unregister(NULL, &vmstate_tpm_emulator, obj);
}

static void tpm_emulator_class_init(ObjectClass *klass, const void *data)
{
    TPMBackendClass *tbc = TPM_BACKEND_CLASS(klass);

    tbc->type = TPM_TYPE_EMULATOR;
    tbc->opts = tpm_emulator_cmdline_opts;
    tbc->desc = "TPM emulator backend driver";
    tbc->create = tpm_emulator_create;
    tbc->startup_tpm = tpm_emulator_startup_tpm;
    tbc->cancel_cmd = tpm_emulator_cancel_cmd;
    tbc->get_tpm_established_flag = tpm_emulator_get_tpm_established_flag;
    tbc->reset_tpm_established_flag = tpm_emulator_reset_tpm_established_flag;
    tbc->get_tpm_version = tpm_emulator_get_tpm_version;
    tbc->get_buffer_size = tpm_emulator_get_buffer_size;
    tbc->handle_request = tpm_emulator_handle_request;
}

static const TypeInfo tpm_emulator_info = {
    .name = TYPE_TPM_EMULATOR,
    .parent = TYPE_TPM_BACKEND,
    .instance_size = sizeof(TPMEmulator),
    .class_init = tpm_emulator_class_init,
    .instance_init = tpm_emulator_inst_init,
    .instance_finalize = tpm_emulator_inst_finalize,
};

static void tpm_emulator_register(void)
{
    type_register_static(&tpm_emulator_info);
}

type_init(tpm_emulator_register)
