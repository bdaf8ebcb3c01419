/*
 * QTest for the tpm-crb device's guest ABI per machine type, with and
 * without chunking opted in, and for the emulator backend's bound on a
 * response that does not fit the buffer.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * - The machine types are stock QEMU's: -machine help prints the same
 *   list as the stock peer (TPM_CRB_STOCK_QEMU).
 * - With swtpm (its buffer B is 4096 bytes, more than the 3968-byte data
 *   buffer), CapCRBChunk is offered only where cap-chunk=on was given:
 *   INTF_ID reads 0x00025C11 there and 0x00025811 everywhere else. Every
 *   machine type keeps stock QEMU's RAM blocks: tpm-crb-cmd and tpm-ppi.
 * - A swtpm stand-in that answers with a response larger than the buffer
 *   the device gave the backend: the command fails cleanly (tpmSts set,
 *   Start cleared), the data channel stays in step for the next command,
 *   and QEMU keeps running. (Stock QEMU 10.2.2 reads the
 *   whole response into the data buffer: 32 bytes past its end for the
 *   4000-byte case, which then even succeeds; up to the end of the page
 *   and an EFAULT for 8192 bytes.)
 */

#include "qemu/osdep.h"
#include <glib/gstdio.h>

#include "hw/acpi/tpm.h"
#include "libqtest.h"
#include "qobject/qdict.h"
#include "tpm-util.h"
#include "tpm-fake-swtpm.h"

#define CRB_ADDR(reg) (TPM_CRB_ADDR_BASE + A_CRB_##reg)

#define CHUNK_ON " -global tpm-crb.cap-chunk=on"

typedef struct MachineABI {
    const char *machine;
    const char *opts;
    uint32_t intf_id;
} MachineABI;

static const MachineABI machines[] = {
    { "pc-q35-10.2", "", 0x00025811 },
    { "q35", "", 0x00025811 },
    { "pc-i440fx-10.2", "", 0x00025811 },
    { "pc", "", 0x00025811 },
    { "q35", CHUNK_ON, 0x00025C11 },
    { "pc-i440fx-10.2", CHUNK_ON, 0x00025C11 },
};

/* Wait for a socket that a child process creates. */
static void wait_for_path(const char *path)
{
    for (int i = 0; i < 500 && !g_file_test(path, G_FILE_TEST_EXISTS); i++) {
        g_usleep(10 * 1000);
    }
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
}

static QTestState *start_vm(const char *machine, const char *opts,
                            const char *ctrl_path)
{
    return qtest_initf("-machine %s -nodefaults%s "
                       "-chardev socket,id=chr,path=%s "
                       "-tpmdev emulator,id=dev,chardev=chr "
                       "-device tpm-crb,tpmdev=dev", machine, opts,
                       ctrl_path);
}

static char *machine_help(const char *binary)
{
    const char *argv[] = { binary, "-machine", "help", NULL };
    g_autoptr(GError) err = NULL;
    char *out = NULL;
    int status;

    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
                               G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                               NULL, &status, &err));
    g_assert_no_error(err);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    return out;
}

/* No machine type of our own: the list, aliases and default are stock's. */
static void test_machine_list(void)
{
    const char *stock = g_getenv("TPM_CRB_STOCK_QEMU");
    g_autofree char *ours = NULL, *theirs = NULL;

    if (!stock || !*stock) {
        g_test_skip("TPM_CRB_STOCK_QEMU (the stock peer) is not set");
        return;
    }
    ours = machine_help(g_getenv("QTEST_QEMU_BINARY"));
    theirs = machine_help(stock);
    g_assert_cmpstr(ours, ==, theirs);
}

static void test_machine_abi(const void *opaque)
{
    const MachineABI *m = opaque;
    g_autofree char *dir = g_dir_make_tmp("tpm-crb-abi-XXXXXX", NULL);
    g_autofree char *sock = g_build_filename(dir, "sock", NULL);
    g_autoptr(GError) err = NULL;
    g_autofree char *ramblocks = NULL;
    SocketAddress *addr = NULL;
    QTestState *s;
    GPid pid;

    if (!tpm_util_swtpm_has_tpm2()) {
        g_test_skip("swtpm with TPM 2 support not found");
        return;
    }
    if (!qtest_has_machine(m->machine)) {
        g_test_skip("machine type not built in");
        return;
    }
    g_assert_true(tpm_util_swtpm_start(dir, &pid, &addr, &err));
    g_assert_no_error(err);
    wait_for_path(sock);

    s = start_vm(m->machine, m->opts, sock);
    g_assert_cmphex(qtest_readl(s, CRB_ADDR(INTF_ID)), ==, m->intf_id);
    g_assert_cmphex(qtest_readl(s, CRB_ADDR(INTF_ID2)), ==, 0x1014);
    g_assert_cmpuint(qtest_readl(s, CRB_ADDR(CTRL_CMD_SIZE)), ==,
                     TPM_CRB_DATA_BUFFER_SIZE);
    g_assert_cmphex(qtest_readl(s, CRB_ADDR(CTRL_STS)), ==,
                    R_CRB_CTRL_STS_tpmIdle_MASK);

    ramblocks = qtest_hmp(s, "info ramblock");
    g_assert_nonnull(strstr(ramblocks, "tpm-crb-cmd"));
    g_assert_nonnull(strstr(ramblocks, "tpm-ppi"));

    qtest_quit(s);
    tpm_util_swtpm_kill(pid);
    qapi_free_SocketAddress(addr);
    g_unlink(sock);
    g_rmdir(dir);
}

/* Wait for CTRL_START.Start to clear; false after 10 s. */
static bool wait_start_clear(QTestState *s)
{
    for (int i = 0; i < 1000; i++) {
        if (!(qtest_readl(s, CRB_ADDR(CTRL_START)) &
              R_CRB_CTRL_START_invoke_MASK)) {
            return true;
        }
        g_usleep(10 * 1000);
    }
    return false;
}

typedef struct Oversized {
    const char *name;
    const char *opts;
    uint32_t declared;
} Oversized;

/*
 * The buffer the device gives the backend is B (4096) with chunking and
 * the 3968-byte data buffer without it. 4000 bytes overflow the latter
 * by 32 bytes, which stock QEMU 10.2.2 writes past the data buffer
 * without noticing (the command even succeeds there); 8192 bytes
 * overflow B.
 */
static const Oversized oversized[] = {
    { "default", "", 4000 },
    { "cap-chunk", CHUNK_ON, 8192 },
};

static void test_oversized_response(const void *opaque)
{
    const Oversized *o = opaque;
    /* TPM2_GetRandom(8) */
    static const uint8_t cmd[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x7b,
        0x00, 0x08
    };
    /* What the stand-in answers when it behaves */
    static const uint8_t success[] = {
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00
    };
    uint8_t got[sizeof(success)];
    FakeSwtpm *f = fake_swtpm_new(fake_swtpm_default_caps());
    g_autoptr(QDict) rsp = NULL;
    QTestState *s;
    unsigned before;

    s = start_vm("q35", o->opts, fake_swtpm_path(f));
    /* The backend has probed the TPM version already. */
    before = fake_swtpm_commands(f);

    fake_swtpm_oversized_response(f, o->declared);
    qtest_writel(s, CRB_ADDR(LOC_CTRL), R_CRB_LOC_CTRL_requestAccess_MASK);
    qtest_writel(s, CRB_ADDR(CTRL_REQ), R_CRB_CTRL_REQ_cmdReady_MASK);
    qtest_memwrite(s, CRB_ADDR(DATA_BUFFER), cmd, sizeof(cmd));
    qtest_writel(s, CRB_ADDR(CTRL_START), R_CRB_CTRL_START_invoke_MASK);

    g_assert_true(wait_start_clear(s));
    g_assert_cmpuint(fake_swtpm_commands(f), ==, before + 1);
    g_assert_cmphex(qtest_readl(s, CRB_ADDR(CTRL_STS)) &
                    R_CRB_CTRL_STS_tpmSts_MASK, ==,
                    R_CRB_CTRL_STS_tpmSts_MASK);

    /*
     * The rest of the oversized response was dropped: the next command's
     * response is read from its first byte (tpmSts stays set until reset,
     * like a real TPM's failure mode).
     */
    fake_swtpm_oversized_response(f, 0);
    qtest_memwrite(s, CRB_ADDR(DATA_BUFFER), cmd, sizeof(cmd));
    qtest_writel(s, CRB_ADDR(CTRL_START), R_CRB_CTRL_START_invoke_MASK);
    g_assert_true(wait_start_clear(s));
    g_assert_cmpuint(fake_swtpm_commands(f), ==, before + 2);
    qtest_memread(s, CRB_ADDR(DATA_BUFFER), got, sizeof(got));
    g_assert_cmpmem(got, sizeof(got), success, sizeof(success));

    /* QEMU is still there and running. */
    rsp = qtest_qmp(s, "{ 'execute': 'query-status' }");
    g_assert_true(qdict_haskey(rsp, "return"));
    g_assert_cmpstr(qdict_get_str(qdict_get_qdict(rsp, "return"), "status"),
                    ==, "running");

    qtest_quit(s);
    fake_swtpm_free(f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/tpm-crb-abi/machine-list", test_machine_list);
    for (size_t i = 0; i < G_N_ELEMENTS(machines); i++) {
        g_autofree char *path = g_strdup_printf(
            "/tpm-crb-abi/machine/%s%s", machines[i].machine,
            *machines[i].opts ? "/cap-chunk" : "");

        qtest_add_data_func(path, &machines[i], test_machine_abi);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(oversized); i++) {
        g_autofree char *path =
            g_strdup_printf("/tpm-crb-abi/oversized-response/%s/%u",
                            oversized[i].name, oversized[i].declared);

        qtest_add_data_func(path, &oversized[i], test_oversized_response);
    }

    return g_test_run();
}
