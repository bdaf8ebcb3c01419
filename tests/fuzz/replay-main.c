/*
 * A main() for the fuzz targets without libFuzzer: runs every file of
 * the given corpus directories (or the given files) through the target
 * once, one TAP test case per directory. This is how gcc builds, the
 * sanitizer build and valgrind replay the committed corpora; fuzzing
 * itself needs clang's -fsanitize=fuzzer (meson -Dfuzzing=true).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "fuzz-common.h"

static unsigned replay_path(const char *path)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *data = NULL;
    gsize len;

    if (!g_file_get_contents(path, &data, &len, &err)) {
        g_error("%s: %s", path, err->message);
    }
    LLVMFuzzerTestOneInput((const uint8_t *)data, len);
    return 1;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_replay(gconstpointer opaque)
{
    const char *path = opaque;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    GDir *dir;
    const char *name;
    unsigned n = 0;
    guint i;

    if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
        replay_path(path);
        return;
    }
    dir = g_dir_open(path, 0, &err);
    g_assert_no_error(err);
    while ((name = g_dir_read_name(dir))) {
        g_ptr_array_add(names, g_build_filename(path, name, NULL));
    }
    g_dir_close(dir);
    /* Same order everywhere, so that a failure reproduces. */
    g_ptr_array_sort(names, compare_names);
    for (i = 0; i < names->len; i++) {
        n += replay_path(g_ptr_array_index(names, i));
    }
    if (!n) {
        g_test_skip("empty corpus");
        return;
    }
    g_test_message("%s: %u inputs replayed", path, n);
}

int main(int argc, char **argv)
{
    int i;

    g_test_init(&argc, &argv, NULL);
    LLVMFuzzerInitialize(&argc, &argv);
    for (i = 1; i < argc; i++) {
        g_autofree char *base = g_path_get_basename(argv[i]);
        g_autofree char *tpath = g_strdup_printf("/fuzz/replay/%s", base);

        g_test_add_data_func(tpath, argv[i], test_replay);
    }
    return g_test_run();
}
