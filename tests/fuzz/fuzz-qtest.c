/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * libFuzzer target: the qtest text protocol server (system/qtest.c).
 *
 * The input is the byte stream a qtest client would send: any lines, any
 * length, any bytes. It is fed to a server of its own through
 * qtest_server_feed() over a little guest RAM and a tpm-crb with the fuzz
 * backend, so that reads and writes reach real memory and device
 * dispatch. Every command line gets exactly one reply line starting with
 * OK, FAIL or ERR; over-long lines are dropped and answered with FAIL.
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "system/memory.h"
#include "system/qtest.h"
#include "fuzz-common.h"
#include "fuzz-crb-env.h"

#define RAM_SIZE (64 * 1024)

static MemoryRegion ram;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_crb_env_init();
    memory_region_init_ram(&ram, NULL, "fuzz.ram", RAM_SIZE, &error_abort);
    memory_region_add_subregion(get_system_memory(), 0, &ram);
    return 0;
}

static void check_replies(const GString *reply)
{
    g_auto(GStrv) lines = g_strsplit(reply->str, "\n", -1);
    size_t i;

    /* Replies end with a newline: the last piece is empty. */
    g_assert_true(reply->len == 0 || reply->str[reply->len - 1] == '\n');
    for (i = 0; lines[i] && lines[i + 1]; i++) {
        g_assert_true(g_str_has_prefix(lines[i], "OK") ||
                      g_str_has_prefix(lines[i], "FAIL") ||
                      g_str_has_prefix(lines[i], "ERR"));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GString) reply = g_string_new("");
    /* The device's state carries over between inputs otherwise. */
    DeviceState *dev = fuzz_crb_create(size ? data[0] : 0, 0x01);

    qtest_server_feed(data, size, reply);
    check_replies(reply);
    fuzz_crb_destroy(dev);
    return 0;
}
