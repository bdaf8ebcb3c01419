/*
 * qtest protocol test: every command's reply, byte for byte, on RAM and
 * on unassigned memory, plus the libqtest accessors built on them. Runs
 * against this build and (QTEST_QEMU_PEER=1) against a stock QEMU, whose
 * replies ours must equal.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"

/* Guest RAM on q35 starts at 0; nothing is mapped at 4 GiB (128 MiB RAM). */
#define RAM_ADDR        0x1000
#define UNASSIGNED_ADDR 0x100000000ULL

typedef struct Exchange {
    const char *line;
    const char *reply;
} Exchange;

static QTestState *start(void)
{
    return qtest_init("-M q35 -m 128M -nodefaults");
}

static void run_table(QTestState *qts, const Exchange *table, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        g_autofree char *reply = qtest_raw_line(qts, table[i].line);

        g_test_message("> %s  < %s", table[i].line, reply);
        g_assert_cmpstr(reply, ==, table[i].reply);
    }
}

static void test_endianness(void)
{
    static const Exchange table[] = {
        { "endianness", "OK little" },
    };
    QTestState *qts = start();

    run_table(qts, table, G_N_ELEMENTS(table));
    g_assert_false(qtest_big_endian(qts));
    qtest_quit(qts);
}

/* Values are little-endian in memory: the bytes show the order. */
static void test_ram_accessors(void)
{
    static const Exchange table[] = {
        { "writel 0x1000 0x12345678", "OK" },
        { "readl 0x1000", "OK 0x0000000012345678" },
        { "readw 0x1000", "OK 0x0000000000005678" },
        { "readw 0x1002", "OK 0x0000000000001234" },
        { "readb 0x1001", "OK 0x0000000000000056" },
        { "read 0x1000 4", "OK 0x78563412" },
        { "writeq 0x1008 0x0102030405060708", "OK" },
        { "readq 0x1008", "OK 0x0102030405060708" },
        { "readl 0x100c", "OK 0x0000000001020304" },
        { "read 0x1008 8", "OK 0x0807060504030201" },
        { "writew 0x1010 0xbeef", "OK" },
        { "writeb 0x1012 0x7f", "OK" },
        { "readl 0x1010", "OK 0x00000000007fbeef" },
        /* Wider values are truncated to the access size. */
        { "writeb 0x1014 0x1ff", "OK" },
        { "readb 0x1014", "OK 0x00000000000000ff" },
    };
    QTestState *qts = start();

    run_table(qts, table, G_N_ELEMENTS(table));
    qtest_quit(qts);
}

static void test_ram_buffers(void)
{
    static const Exchange table[] = {
        { "write 0x2000 4 0xaabbccdd", "OK" },
        { "read 0x2000 4", "OK 0xaabbccdd" },
        /* Short data is zero-filled up to SIZE. */
        { "write 0x2000 4 0xff", "OK" },
        { "read 0x2000 4", "OK 0xff000000" },
        { "b64write 0x3000 3 AQID", "OK" },
        { "b64read 0x3000 3", "OK AQID" },
        { "read 0x3000 3", "OK 0x010203" },
        { "memset 0x4000 5 0xa5", "OK" },
        { "read 0x4000 6", "OK 0xa5a5a5a5a500" },
        /* Zero bytes is allowed for memset and does nothing. */
        { "memset 0x4000 0 0x11", "OK" },
        { "readb 0x4000", "OK 0x00000000000000a5" },
        /* Fewer than 3 characters of data is refused, as in QEMU. */
        { "write 0x2000 4 0", "ERR invalid argument size" },
        { "b64write 0x2000 4 A", "ERR invalid argument size" },
    };
    QTestState *qts = start();

    run_table(qts, table, G_N_ELEMENTS(table));
    qtest_quit(qts);
}

static void test_unassigned(void)
{
    static const Exchange table[] = {
        { "readb 0x100000000", "OK 0x0000000000000000" },
        { "readl 0x100000000", "OK 0x0000000000000000" },
        { "readq 0x100000000", "OK 0x0000000000000000" },
        { "writel 0x100000000 0xffffffff", "OK" },
        { "readl 0x100000000", "OK 0x0000000000000000" },
        { "write 0x100000000 2 0xffff", "OK" },
        { "read 0x100000000 2", "OK 0x0000" },
        { "b64read 0x100000000 3", "OK AAAA" },
    };
    QTestState *qts = start();

    run_table(qts, table, G_N_ELEMENTS(table));
    qtest_quit(qts);
}

static void test_unknown_command(void)
{
    static const Exchange table[] = {
        { "frobnicate 1 2", "FAIL Unknown command 'frobnicate'" },
        { "readl 0x1000", "OK 0x0000000000000000" },
    };
    QTestState *qts = start();

    run_table(qts, table, G_N_ELEMENTS(table));
    qtest_quit(qts);
}

static void test_clock(void)
{
    static const Exchange table[] = {
        { "clock_step", "FAIL cannot advance clock to the next deadline "
                        "because there is no pending deadline" },
        { "clock_step 100", "OK 100" },
        { "clock_set 50", "FAIL 100" },
        { "clock_set 1000", "OK 1000" },
    };
    QTestState *qts;

    if (qtest_peer_mode()) {
        g_test_skip("the peer runs TCG, not the qtest accelerator: "
                    "it has no client-driven virtual clock");
        return;
    }
    qts = start();
    run_table(qts, table, G_N_ELEMENTS(table));
    g_assert_cmpint(qtest_clock_step(qts, 24), ==, 1024);
    g_assert_cmpint(qtest_clock_set(qts, 5000), ==, 5000);
    qtest_quit(qts);
}

/* The libqtest helpers over several pages of random bytes. */
static void test_libqtest_round_trips(void)
{
    const size_t len = 3 * 4096 + 17;
    g_autofree uint8_t *in = g_malloc(len);
    g_autofree uint8_t *out = g_malloc(len);
    QTestState *qts = start();
    size_t i;

    for (i = 0; i < len; i++) {
        in[i] = g_test_rand_int_range(0, 256);
    }
    qtest_memwrite(qts, RAM_ADDR, in, len);
    qtest_memread(qts, RAM_ADDR, out, len);
    g_assert_cmpmem(in, len, out, len);

    for (i = 0; i < len; i++) {
        in[i] ^= 0x5a;
    }
    qtest_bufwrite(qts, RAM_ADDR + 0x10000, in, len);
    qtest_bufread(qts, RAM_ADDR + 0x10000, out, len);
    g_assert_cmpmem(in, len, out, len);
    qtest_memread(qts, RAM_ADDR + 0x10000, out, len);
    g_assert_cmpmem(in, len, out, len);

    qtest_memset(qts, RAM_ADDR, 0xc3, 64);
    qtest_memread(qts, RAM_ADDR, out, 65);
    for (i = 0; i < 64; i++) {
        g_assert_cmphex(out[i], ==, 0xc3);
    }
    g_assert_cmphex(out[64], ==, in[64] ^ 0x5a);

    qtest_writeq(qts, RAM_ADDR, 0x1122334455667788ULL);
    g_assert_cmphex(qtest_readq(qts, RAM_ADDR), ==, 0x1122334455667788ULL);
    g_assert_cmphex(qtest_readl(qts, RAM_ADDR + 4), ==, 0x11223344);
    g_assert_cmphex(qtest_readw(qts, RAM_ADDR + 2), ==, 0x5566);
    g_assert_cmphex(qtest_readb(qts, RAM_ADDR + 7), ==, 0x11);
    qtest_writew(qts, RAM_ADDR, 0xabcd);
    qtest_writeb(qts, RAM_ADDR + 2, 0xef);
    qtest_writel(qts, RAM_ADDR + 4, 0xcafef00d);
    g_assert_cmphex(qtest_readq(qts, RAM_ADDR), ==, 0xcafef00d55efabcdULL);

    g_assert_cmphex(qtest_readl(qts, UNASSIGNED_ADDR), ==, 0);
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("qtest-protocol/endianness", test_endianness);
    qtest_add_func("qtest-protocol/ram-accessors", test_ram_accessors);
    qtest_add_func("qtest-protocol/ram-buffers", test_ram_buffers);
    qtest_add_func("qtest-protocol/unassigned", test_unassigned);
    qtest_add_func("qtest-protocol/unknown-command", test_unknown_command);
    qtest_add_func("qtest-protocol/clock", test_clock);
    qtest_add_func("qtest-protocol/libqtest-round-trips",
                   test_libqtest_round_trips);
    return g_test_run();
}
