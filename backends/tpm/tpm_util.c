/*
 * TPM backend helpers: error responses, self-test detection, probing the
 * TPM version over a data channel, and trace dumps of TPM buffers.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <poll.h>
#include <sys/socket.h>
#include "qemu/bswap.h"
#include "qemu/error-report.h"
#include "system/tpm_util.h"
#include "tpm_int.h"
#include "trace.h"

/* How long the version probe waits for an answer. */
#define TPM_UTIL_PROBE_TIMEOUT_MS 1000

void tpm_util_write_error_response(uint8_t *out, uint32_t out_len,
                                   uint16_t tag, uint32_t errcode)
{
    if (out_len < TPM_HEADER_SIZE) {
        return;
    }
    stw_be_p(out, tag);
    stl_be_p(out + 2, TPM_HEADER_SIZE);
    stl_be_p(out + 6, errcode);
}

/*
 * The response a backend leaves in the buffer when the command could not
 * be run at all. Like QEMU, a TPM 1.2 TPM_FAIL: the device also learns of
 * the failure through request_completed(ret != 0).
 */
void tpm_util_write_fatal_error_response(uint8_t *out, uint32_t out_len)
{
    tpm_util_write_error_response(out, out_len, TPM_TAG_RSP_COMMAND,
                                  TPM_FAIL);
}

bool tpm_util_is_selftest(const uint8_t *in, uint32_t in_len)
{
    if (in_len < TPM_HEADER_SIZE) {
        return false;
    }

    switch (tpm_cmd_get_tag(in)) {
    case TPM_TAG_RQU_COMMAND:
        return tpm_cmd_get_ordinal(in) == TPM_ORD_ContinueSelfTest;
    case TPM2_ST_NO_SESSIONS:
    case TPM2_ST_SESSIONS:
        return tpm_cmd_get_ordinal(in) == TPM2_CC_SelfTest;
    default:
        return false;
    }
}

/*
 * Send a request on fd and wait a bounded time for one well-formed
 * response (a single read, as a TPM sends its response in one piece).
 * Returns 0 or a negative errno.
 */
static int tpm_util_request(int fd, const uint8_t *req, size_t req_len,
                            uint8_t *rsp, size_t rsp_len, uint16_t *tag)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    ssize_t n;

    n = RETRY_ON_EINTR(send(fd, req, req_len, MSG_NOSIGNAL));
    if (n < 0) {
        return -errno;
    }
    if ((size_t)n != req_len) {
        return -EIO;
    }

    n = RETRY_ON_EINTR(poll(&pfd, 1, TPM_UTIL_PROBE_TIMEOUT_MS));
    if (n < 0) {
        return -errno;
    }
    if (n == 0) {
        return -ETIMEDOUT;
    }

    n = RETRY_ON_EINTR(recv(fd, rsp, rsp_len, 0));
    if (n < 0) {
        return -errno;
    }
    if (n == 0) {
        return -ECONNRESET;
    }
    if (n < TPM_HEADER_SIZE || tpm_cmd_get_size(rsp) != (uint32_t)n) {
        return -EBADMSG;
    }

    *tag = tpm_cmd_get_tag(rsp);
    return 0;
}

/*
 * A TPM 2 answers a TPM 2 command with a TPM 2 tag, even with an error
 * (and even before it was initialised); a TPM 1.2 answers anything with
 * a TPM 1.2 tag. Returns 0 with *tpm_version set, or a negative errno.
 */
int tpm_util_test_tpmdev(int tpm_fd, TPMVersion *tpm_version)
{
    uint8_t req[TPM_HEADER_SIZE];
    uint8_t rsp[1024];
    uint16_t tag;
    int ret;

    *tpm_version = TPM_VERSION_UNSPEC;

    stw_be_p(req, TPM2_ST_NO_SESSIONS);
    stl_be_p(req + 2, sizeof(req));
    stl_be_p(req + 6, TPM2_CC_ReadClock);
    ret = tpm_util_request(tpm_fd, req, sizeof(req), rsp, sizeof(rsp), &tag);
    if (ret < 0) {
        return ret;
    }
    if (tag == TPM2_ST_NO_SESSIONS) {
        *tpm_version = TPM_VERSION_2_0;
        trace_tpm_util_test_tpmdev(*tpm_version);
        return 0;
    }

    stw_be_p(req, TPM_TAG_RQU_COMMAND);
    stl_be_p(req + 2, sizeof(req));
    stl_be_p(req + 6, TPM_ORD_GetTicks);
    ret = tpm_util_request(tpm_fd, req, sizeof(req), rsp, sizeof(rsp), &tag);
    if (ret < 0) {
        return ret;
    }
    if (tag == TPM_TAG_RSP_COMMAND) {
        *tpm_version = TPM_VERSION_1_2;
        trace_tpm_util_test_tpmdev(*tpm_version);
        return 0;
    }

    return -EPROTO;
}

void tpm_sized_buffer_reset(TPMSizedBuffer *tsb)
{
    g_free(tsb->buffer);
    tsb->buffer = NULL;
    tsb->size = 0;
}

void tpm_util_show_buffer(const unsigned char *buffer, size_t buffer_size,
                          const char *string)
{
    g_autoptr(GString) line = NULL;
    size_t len, i;

    if (!_TRACE_TPM_UTIL_SHOW_BUFFER_EVENT.dstate ||
        buffer_size < TPM_HEADER_SIZE) {
        return;
    }

    /* Never trust the header beyond the bytes that are really there. */
    len = MIN(tpm_cmd_get_size(buffer), buffer_size);
    line = g_string_sized_new(len * 3 + len / 16 + 1);
    for (i = 0; i < len; i++) {
        if (i && !(i % 16)) {
            g_string_append_c(line, '\n');
        }
        g_string_append_printf(line, "%.2X ", buffer[i]);
    }
    trace_tpm_util_show_buffer(string, len, line->str);
}
