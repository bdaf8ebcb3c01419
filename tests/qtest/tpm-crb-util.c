/*
 * Helpers for the TPM qtests: moving a TPM command through the CRB
 * window, standard TPM 2 commands, and starting/stopping swtpm.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "hw/acpi/tpm.h"
#include "libqtest.h"
#include "tpm-crb-util.h"

/* The device completes on its main loop; give a slow (sanitised) one time. */
#define TPM_UTIL_START_TIMEOUT_US (30 * G_USEC_PER_SEC)
#define TPM_UTIL_SWTPM_START_TIMEOUT_US (10 * G_USEC_PER_SEC)

static uint32_t tpm_crb_util_crb_readl(QTestState *s, uint64_t reg)
{
    return qtest_readl(s, TPM_CRB_ADDR_BASE + reg);
}

void tpm_crb_util_crb_transfer(QTestState *s,
                           const unsigned char *req, size_t req_size,
                           unsigned char *rsp, size_t rsp_size)
{
    uint64_t caddr, raddr;
    uint32_t start, sts;
    gint64 end_time;

    /* 32-bit reads: the CRB registers are 32 bits wide (PTP 6.5.3). */
    caddr = tpm_crb_util_crb_readl(s, A_CRB_CTRL_CMD_LADDR) |
            (uint64_t)tpm_crb_util_crb_readl(s, A_CRB_CTRL_CMD_HADDR) << 32;
    raddr = tpm_crb_util_crb_readl(s, A_CRB_CTRL_RSP_ADDR) |
            (uint64_t)tpm_crb_util_crb_readl(s, A_CRB_CTRL_RSP_ADDR + 4) << 32;

    /* requestAccess for locality 0 */
    qtest_writeb(s, TPM_CRB_ADDR_BASE + A_CRB_LOC_CTRL, 1);

    qtest_memwrite(s, caddr, req, req_size);

    qtest_writel(s, TPM_CRB_ADDR_BASE + A_CRB_CTRL_START, 1);
    end_time = g_get_monotonic_time() + TPM_UTIL_START_TIMEOUT_US;
    for (;;) {
        start = tpm_crb_util_crb_readl(s, A_CRB_CTRL_START);
        if (!(start & 1) || g_get_monotonic_time() >= end_time) {
            break;
        }
        g_usleep(1000);
    }
    g_assert_cmpint(start & 1, ==, 0);
    sts = tpm_crb_util_crb_readl(s, A_CRB_CTRL_STS);
    g_assert_cmpint(sts & 1, ==, 0);

    qtest_memread(s, raddr, rsp, rsp_size);
}

void tpm_crb_util_startup(QTestState *s, tx_func *tx)
{
    /* TPM2_Startup(TPM_SU_CLEAR) */
    static const unsigned char cmd[] = {
        0x80, 0x01,                 /* TPM_ST_NO_SESSIONS */
        0x00, 0x00, 0x00, 0x0c,     /* size */
        0x00, 0x00, 0x01, 0x44,     /* TPM_CC_Startup */
        0x00, 0x00,                 /* TPM_SU_CLEAR */
    };
    static const unsigned char exp[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0a,
        0x00, 0x00, 0x00, 0x00,     /* TPM_RC_SUCCESS */
    };
    unsigned char buffer[1024];

    tx(s, cmd, sizeof(cmd), buffer, sizeof(buffer));

    g_assert_cmpmem(buffer, sizeof(exp), exp, sizeof(exp));
}

void tpm_crb_util_pcrextend(QTestState *s, tx_func *tx)
{
    /* TPM2_PCR_Extend(PCR 10, password session, SHA-256 "test" || 0s) */
    static const unsigned char cmd[] = {
        0x80, 0x02,                 /* TPM_ST_SESSIONS */
        0x00, 0x00, 0x00, 0x41,     /* size: 65 */
        0x00, 0x00, 0x01, 0x82,     /* TPM_CC_PCR_Extend */
        0x00, 0x00, 0x00, 0x0a,     /* pcrHandle: PCR 10 */
        0x00, 0x00, 0x00, 0x09,     /* authorizationSize */
        0x40, 0x00, 0x00, 0x09,     /* TPM_RS_PW */
        0x00, 0x00,                 /* nonce: empty */
        0x00,                       /* sessionAttributes */
        0x00, 0x00,                 /* hmac: empty password */
        0x00, 0x00, 0x00, 0x01,     /* TPML_DIGEST_VALUES.count */
        0x00, 0x0b,                 /* TPM_ALG_SHA256 */
        't', 'e', 's', 't', 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0,
    };
    static const unsigned char exp[] = {
        0x80, 0x02, 0x00, 0x00, 0x00, 0x13,
        0x00, 0x00, 0x00, 0x00,     /* TPM_RC_SUCCESS */
        0x00, 0x00, 0x00, 0x00,     /* parameterSize */
        0x00, 0x00,                 /* nonce */
        0x01,                       /* continueSession */
        0x00, 0x00,                 /* hmac */
    };
    unsigned char buffer[1024];

    tx(s, cmd, sizeof(cmd), buffer, sizeof(buffer));

    g_assert_cmpmem(buffer, sizeof(exp), exp, sizeof(exp));
}

void tpm_crb_util_pcrread(QTestState *s, tx_func *tx,
                      const unsigned char *exp_resp, size_t exp_resp_size)
{
    /* TPM2_PCR_Read(SHA-256: PCR 10) */
    static const unsigned char cmd[] = {
        0x80, 0x01,                 /* TPM_ST_NO_SESSIONS */
        0x00, 0x00, 0x00, 0x14,     /* size: 20 */
        0x00, 0x00, 0x01, 0x7e,     /* TPM_CC_PCR_Read */
        0x00, 0x00, 0x00, 0x01,     /* TPML_PCR_SELECTION.count */
        0x00, 0x0b,                 /* TPM_ALG_SHA256 */
        0x03, 0x00, 0x04, 0x00,     /* sizeofSelect 3, bit 10 */
    };
    unsigned char buffer[1024];

    tx(s, cmd, sizeof(cmd), buffer, sizeof(buffer));

    /* Bytes 10..13 are pcrUpdateCounter, which depends on history. */
    g_assert(exp_resp_size >= 15);
    g_assert_cmpmem(buffer, 10, exp_resp, 10);
    g_assert_cmpmem(&buffer[14], exp_resp_size - 14,
                    &exp_resp[14], exp_resp_size - 14);
}

bool tpm_crb_util_swtpm_has_tpm2(void)
{
    const char *argv[] = { "swtpm", "socket", "--help", NULL };
    g_autofree char *out = NULL;

    if (!g_spawn_sync(NULL, (char **)argv, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &out, NULL, NULL, NULL)) {
        return false;
    }
    return out && strstr(out, "--tpm2");
}

static bool tpm_crb_util_unix_connectable(const char *path)
{
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    int fd;
    bool ok;

    if (strlen(path) >= sizeof(un.sun_path)) {
        return false;
    }
    strcpy(un.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    ok = connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0;
    close(fd);
    return ok;
}

/*
 * In the forked child: die with the test. A test that aborts between
 * start and kill would otherwise leave swtpm running for ever, holding
 * the TAP pipe open so that meson waits for it.
 */
static void tpm_crb_util_swtpm_child_setup(gpointer opaque)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

gboolean tpm_crb_util_swtpm_start(const char *path, GPid *pid,
                              SocketAddress **addr, GError **error)
{
    g_autofree char *tpmstate = g_strdup_printf("dir=%s", path);
    g_autofree char *sock = g_build_filename(path, "sock", NULL);
    g_autofree char *ctrl = g_strdup_printf("type=unixio,path=%s", sock);
    const char *argv[] = {
        "swtpm", "socket", "--tpm2",
        "--tpmstate", tpmstate,
        "--ctrl", ctrl,
        NULL
    };
    gint64 deadline;
    int status;

    *pid = 0;
    *addr = NULL;
    /* swtpm's stdout must not mix into the test's TAP output. */
    if (!g_spawn_async(NULL, (char **)argv, NULL,
                       G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                       G_SPAWN_STDOUT_TO_DEV_NULL,
                       tpm_crb_util_swtpm_child_setup, NULL, pid, error)) {
        return FALSE;
    }

    deadline = g_get_monotonic_time() + TPM_UTIL_SWTPM_START_TIMEOUT_US;
    while (!tpm_crb_util_unix_connectable(sock)) {
        if (waitpid(*pid, &status, WNOHANG) == *pid) {
            g_set_error(error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
                        "swtpm exited at start-up (status 0x%x)", status);
            *pid = 0;
            return FALSE;
        }
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
                        "swtpm did not listen on %s within 10 s", sock);
            tpm_crb_util_swtpm_kill(*pid);
            *pid = 0;
            return FALSE;
        }
        g_usleep(10 * 1000);
    }

    *addr = g_new0(SocketAddress, 1);
    (*addr)->type = SOCKET_ADDRESS_TYPE_UNIX;
    (*addr)->u.q_unix.path = g_steal_pointer(&sock);
    return TRUE;
}

void tpm_crb_util_swtpm_kill(GPid pid)
{
    if (pid <= 0) {
        return;
    }
    /* A stopped swtpm must be able to act on SIGKILL: it can. */
    kill(pid, SIGKILL);
    RETRY_ON_EINTR(waitpid(pid, NULL, 0));
    g_spawn_close_pid(pid);
}

bool tpm_crb_util_swtpm_wait_exit(GPid pid, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + timeout_ms * (gint64)1000;

    do {
        pid_t r = waitpid(pid, NULL, WNOHANG);

        if (r == pid || (r < 0 && errno == ECHILD)) {
            return true;
        }
        g_usleep(10 * 1000);
    } while (g_get_monotonic_time() < deadline);
    return false;
}

void tpm_crb_util_rmdir(const char *path)
{
    const char *name;
    GDir *dir = g_dir_open(path, 0, NULL);

    if (dir) {
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *file = g_build_filename(path, name, NULL);

            g_unlink(file);
        }
        g_dir_close(dir);
    }
    g_assert_cmpint(g_rmdir(path), ==, 0);
}
