/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * qtest: the emulator's memory stays bounded under hostile guest traffic.
 *
 * A million register writes (TPM_CRB_MEMORY_WRITES overrides the count):
 * nextChunk far beyond the declared command size, headers declaring less
 * than a header, more than the TPM buffer or 4 GiB, Start before the last
 * chunk, cmdReady in the middle of uploads. The qtest lines are sent in
 * pipelined batches straight on the socket, and every reply must be OK.
 * The emulator's resident memory (/proc/PID/status VmRSS) after the
 * traffic may exceed what it was after a warm-up by a small margin only:
 * the device buffers at most B bytes whatever the guest does.
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "qemu/units.h"
#include <sys/socket.h>

#include "hw/acpi/tpm.h"
#include "tpm-fake-swtpm.h"
#include "tpm-proc.h"

#define CRB(reg) (TPM_CRB_ADDR_BASE + A_CRB_##reg)
#define CRB_WINDOW (TPM_CRB_ADDR_BASE + A_CRB_DATA_BUFFER)
/* Lines per batch: their replies fit in the socket buffers. */
#define BATCH 2000
#define WARMUP_WRITES 100000
/* A leak of 2 bytes per write over a million writes exceeds this. */
#define RSS_MARGIN_KB 2048
/*
 * Under ASan the allocator's per-size caches, the (1 MiB) quarantine and
 * shadow pages add about 2.5 MiB over a million writes without any leak
 * (LeakSanitizer checks for real leaks at exit); 8 bytes per write still
 * exceed this.
 */
#define RSS_MARGIN_ASAN_KB 8192

static int rss_margin_kb;

static long vm_rss_kb(GSubprocess *proc)
{
    g_autofree char *path = g_strdup_printf("/proc/%s/status",
                                            g_subprocess_get_identifier(proc));
    g_autofree char *text = NULL;
    const char *line, *end;
    long kib;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    line = strstr(text, "\nVmRSS:");
    g_assert_nonnull(line);
    g_assert_cmpint(qemu_strtol(line + strlen("\nVmRSS:"), &end, 10,
                                &kib), ==, 0);
    return kib;
}

/* The next write of the hostile pattern, as a qtest line. */
static void append_write(GString *out, unsigned long n)
{
    /* Header sizes: B, below a header, above B, 4 GiB - 1, two windows. */
    static const uint32_t sizes[] = { 4096, 5, 4097, 0xffffffff, 7936 };
    unsigned step = n % 100;

    if (step == 0) {
        g_string_append_printf(out, "writel 0x%x 1\n", CRB(CTRL_REQ));
    } else if (step == 1) {
        uint32_t s = sizes[(n / 100) % G_N_ELEMENTS(sizes)];

        /* Tag 0x8001 and the size, big-endian, in one 8-byte write. */
        g_string_append_printf(out, "writeq 0x%x 0x%02x%02x%02x%02x0180\n",
                               CRB_WINDOW, s & 0xff, (s >> 8) & 0xff,
                               (s >> 16) & 0xff, s >> 24);
    } else if (step == 99) {
        /* Start before the last chunk: answered by the device itself. */
        g_string_append_printf(out, "writel 0x%x 1\n", CRB(CTRL_START));
    } else {
        g_string_append_printf(out, "writel 0x%x 4\n", CRB(CTRL_START));
    }
}

static void send_batch(TPMProc *p, unsigned long *n, unsigned count)
{
    g_autoptr(GString) out = g_string_new("");
    unsigned i, oks = 0;
    size_t off = 0;

    for (i = 0; i < count; i++) {
        append_write(out, (*n)++);
    }
    while (off < out->len) {
        ssize_t w = send(p->qtest_fd, out->str + off, out->len - off,
                         MSG_NOSIGNAL);

        g_assert_cmpint(w, >, 0);
        off += w;
    }
    while (oks < count) {
        char buf[4096];
        ssize_t r = recv(p->qtest_fd, buf, sizeof(buf), 0);
        char *nl;

        g_assert_cmpint(r, >, 0);
        g_string_append_len(p->qtest_in, buf, r);
        while ((nl = strchr(p->qtest_in->str, '\n'))) {
            g_assert_true(g_str_has_prefix(p->qtest_in->str, "OK"));
            g_string_erase(p->qtest_in, 0, nl - p->qtest_in->str + 1);
            oks++;
        }
    }
}

static void run_writes(TPMProc *p, unsigned long *n, unsigned long total)
{
    while (total) {
        unsigned count = MIN(total, BATCH);

        send_batch(p, n, count);
        total -= count;
    }
}

static void test_memory_bounded(void)
{
    const char *env = g_getenv("TPM_CRB_MEMORY_WRITES");
    unsigned long writes = 1000000;
    FakeSwtpm *fake = fake_swtpm_new(fake_swtpm_default_caps());
    g_autofree char *chardev = g_strdup_printf("socket,id=chr,path=%s",
                                               fake_swtpm_path(fake));
    const char *args[] = {
        "-M", "q35", "-nodefaults", "-display", "none",
        "-global", "tpm-crb.cap-chunk=on",
        "-chardev", chardev,
        "-tpmdev", "emulator,id=tpm0,chardev=chr",
        "-device", "tpm-crb,tpmdev=tpm0,x-data-buffer-size=64",
        NULL
    };
    const char *bin = g_getenv("QTEST_QEMU_BINARY");
    unsigned long n = 0;
    long before, after;
    gint64 t0;
    TPMProc *p;

    g_assert_nonnull(bin);
    if (env) {
        g_assert_cmpint(qemu_strtoul(env, NULL, 0, &writes), ==, 0);
    }
    if (g_getenv("VALGRIND_QEMU_REAL")) {
        g_test_skip("under valgrind the emulator's RSS is valgrind's, and a "
                    "million writes take too long");
        fake_swtpm_free(fake);
        return;
    }
    p = tpm_proc_spawn(bin, args, true);
    tpm_proc_connect(p, true);
    tpm_proc_writel(p, CRB(LOC_CTRL), 1);

    run_writes(p, &n, WARMUP_WRITES);
    before = vm_rss_kb(p->proc);
    t0 = g_get_monotonic_time();
    run_writes(p, &n, writes);
    after = vm_rss_kb(p->proc);
    g_test_message("%lu writes in %.1f s; VmRSS %ld kB after warm-up, "
                   "%ld kB after (margin %d kB)", writes,
                   (g_get_monotonic_time() - t0) / 1e6, before, after,
                   rss_margin_kb);
    g_assert_cmpint(after - before, <, rss_margin_kb);

    /* Still a working TPM interface. */
    g_assert_cmphex(tpm_proc_readl(p, CRB(CTRL_STS)) & 1, ==, 0);
    g_assert_cmpint(tpm_proc_quit(p), ==, 0);
    tpm_proc_free(p);
    fake_swtpm_free(fake);
}

int main(int argc, char **argv)
{
    const char *asan = g_getenv("ASAN_OPTIONS");

    g_test_init(&argc, &argv, NULL);
    rss_margin_kb = asan ? RSS_MARGIN_ASAN_KB : RSS_MARGIN_KB;
    /*
     * ASan keeps freed memory in a quarantine (256 MiB by default), which
     * the traffic's short-lived allocations fill: that is not growth of
     * the emulator's own. Keep it small for the child in sanitizer runs.
     */
    if (asan) {
        g_autofree char *opts = g_strconcat(asan, ":quarantine_size_mb=1",
                                            NULL);

        g_setenv("ASAN_OPTIONS", opts, TRUE);
    }
    g_test_add_func("/tpm-crb/memory/bounded", test_memory_bounded);
    return g_test_run();
}
