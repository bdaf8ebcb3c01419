/*
 * The qtest protocol server: a line protocol on a socket through which a
 * test reads and writes guest memory and moves the virtual clock. Replies
 * match QEMU's byte for byte (system/qtest.c in QEMU describes the
 * protocol). Where QEMU asserts on malformed input, we answer
 * "FAIL <reason>" and keep the connection; see qtest_fail_* below.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/timer.h"
#include "qom/object.h"
#include "chardev/char-fe.h"
#include "system/memory.h"
#include "system/qtest.h"
#include "system/runstate.h"
#include "trace.h"

/*
 * Bounds on what one command may make us allocate (QEMU has none): reads
 * and writes carry their data in one line, memset works in pieces.
 */
#define QTEST_MAX_XFER      (16 * 1024 * 1024)
#define QTEST_MAX_MEMSET    (1024ULL * 1024 * 1024)
#define QTEST_MAX_LINE      (2 * QTEST_MAX_XFER + 256)

#define FMT_timeval "%.06f"

bool qtest_allowed = true;

typedef struct QTestServer {
    CharBackend chr;
    GString *inbuf;
    /* Dropping an over-long line until its newline. */
    bool discarding;
    /*
     * inbuf bytes already known to hold no newline: each read is searched
     * once, not the whole partial line again (quadratic in its length).
     */
    size_t scanned;
    bool opened;
    FILE *log_fp;
    GTimer *timer;
    /* Fuzzing (qtest_server_feed): replies are collected here instead. */
    GString *capture;
} QTestServer;

static QTestServer *qtest;

static void qtest_log_timestamp(QTestServer *q)
{
    if (q->log_fp && q->opened) {
        fprintf(q->log_fp, "[S +" FMT_timeval "] ",
                g_timer_elapsed(q->timer, NULL));
    }
}

static void qtest_send(QTestServer *q, const char *str)
{
    qtest_log_timestamp(q);
    if (q->capture) {
        g_string_append(q->capture, str);
    } else {
        qemu_chr_fe_write(&q->chr, (const uint8_t *)str, strlen(str));
    }
    if (q->log_fp && q->opened) {
        fputs(str, q->log_fp);
        fflush(q->log_fp);
    }
}

static void G_GNUC_PRINTF(2, 3) qtest_sendf(QTestServer *q,
                                            const char *fmt, ...)
{
    g_autofree char *buf = NULL;
    va_list ap;

    va_start(ap, fmt);
    buf = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    qtest_send(q, buf);
}

/*
 * Argument helpers: QEMU g_assert()s these; a malformed line must not
 * take the emulator down, so we answer FAIL and carry on.
 */
static bool qtest_args(QTestServer *q, gchar **words, int n)
{
    int i;

    for (i = 1; i <= n; i++) {
        if (!words[i]) {
            qtest_sendf(q, "FAIL missing argument for '%s'\n", words[0]);
            return false;
        }
    }
    return true;
}

static bool qtest_u64(QTestServer *q, const char *word, uint64_t *val)
{
    if (qemu_strtou64(word, NULL, 0, val) < 0) {
        qtest_sendf(q, "FAIL invalid number '%s'\n", word);
        return false;
    }
    return true;
}

static bool qtest_i64(QTestServer *q, const char *word, int64_t *val)
{
    if (qemu_strtoi64(word, NULL, 0, val) < 0) {
        qtest_sendf(q, "FAIL invalid number '%s'\n", word);
        return false;
    }
    return true;
}

static bool qtest_size(QTestServer *q, const char *word, uint64_t max,
                       uint64_t *len)
{
    if (!qtest_u64(q, word, len)) {
        return false;
    }
    if (*len > max) {
        qtest_sendf(q, "FAIL size 0x%" PRIx64 " exceeds the limit of 0x%"
                    PRIx64 " bytes\n", *len, max);
        return false;
    }
    return true;
}

static int hex2nib(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    } else if (ch >= 'a' && ch <= 'f') {
        return 10 + (ch - 'a');
    } else if (ch >= 'A' && ch <= 'F') {
        return 10 + (ch - 'A');
    }
    return -1;
}

static void mem_read(hwaddr addr, void *buf, uint64_t len)
{
    address_space_read(&address_space_memory, addr, MEMTXATTRS_UNSPECIFIED,
                       buf, len);
}

static void mem_write(hwaddr addr, const void *buf, uint64_t len)
{
    address_space_write(&address_space_memory, addr, MEMTXATTRS_UNSPECIFIED,
                        buf, len);
}

static unsigned access_size(char suffix)
{
    switch (suffix) {
    case 'b':
        return 1;
    case 'w':
        return 2;
    case 'l':
        return 4;
    case 'q':
        return 8;
    }
    return 0;
}

/* writeb/w/l/q ADDR VALUE: the target is little-endian. */
static void qtest_cmd_write(QTestServer *q, gchar **words, unsigned size)
{
    uint64_t addr, value;
    uint8_t data[8];
    unsigned i;

    if (!qtest_args(q, words, 2) || !qtest_u64(q, words[1], &addr) ||
        !qtest_u64(q, words[2], &value)) {
        return;
    }
    for (i = 0; i < size; i++) {
        data[i] = value >> (8 * i);
    }
    mem_write(addr, data, size);
    qtest_send(q, "OK\n");
}

static void qtest_cmd_read(QTestServer *q, gchar **words, unsigned size)
{
    uint64_t addr, value = 0;
    uint8_t data[8];
    unsigned i;

    if (!qtest_args(q, words, 1) || !qtest_u64(q, words[1], &addr)) {
        return;
    }
    mem_read(addr, data, size);
    for (i = 0; i < size; i++) {
        value |= (uint64_t)data[i] << (8 * i);
    }
    qtest_sendf(q, "OK 0x%016" PRIx64 "\n", value);
}

static void qtest_cmd_read_buf(QTestServer *q, gchar **words, bool b64)
{
    g_autofree uint8_t *data = NULL;
    g_autofree char *enc = NULL;
    uint64_t addr, len, i;

    if (!qtest_args(q, words, 2) || !qtest_u64(q, words[1], &addr) ||
        !qtest_size(q, words[2], QTEST_MAX_XFER, &len)) {
        return;
    }
    if (!b64 && !len) {
        /* QEMU asserts here: there is no hex form of nothing. */
        qtest_send(q, "FAIL read of 0 bytes\n");
        return;
    }
    data = g_malloc(len ? len : 1);
    mem_read(addr, data, len);
    if (b64) {
        enc = g_base64_encode(data, len);
        qtest_sendf(q, "OK %s\n", enc);
        return;
    }
    enc = g_malloc(2 * len + 1);
    for (i = 0; i < len; i++) {
        snprintf(enc + 2 * i, 3, "%02x", data[i]);
    }
    qtest_sendf(q, "OK 0x%s\n", enc);
}

static void qtest_cmd_write_buf(QTestServer *q, gchar **words)
{
    g_autofree uint8_t *data = NULL;
    uint64_t addr, len, i;
    const char *hex;
    size_t data_len;

    if (!qtest_args(q, words, 3) || !qtest_u64(q, words[1], &addr) ||
        !qtest_size(q, words[2], QTEST_MAX_XFER, &len)) {
        return;
    }
    hex = words[3];
    data_len = strlen(hex);
    if (data_len < 3) {
        qtest_send(q, "ERR invalid argument size\n");
        return;
    }
    /* DATA is 0x then hex pairs; short data is zero-filled, as in QEMU. */
    data = g_malloc0(len ? len : 1);
    for (i = 0; i < len && i * 2 + 4 <= data_len; i++) {
        int hi = hex2nib(hex[i * 2 + 2]);
        int lo = hex2nib(hex[i * 2 + 3]);

        if (hi < 0 || lo < 0) {
            qtest_sendf(q, "FAIL invalid hex data at byte %" PRIu64 "\n", i);
            return;
        }
        data[i] = (hi << 4) | lo;
    }
    mem_write(addr, data, len);
    qtest_send(q, "OK\n");
}

static void qtest_cmd_b64write(QTestServer *q, gchar **words)
{
    g_autofree uint8_t *data = NULL;
    uint64_t addr, len;
    gsize out_len;

    if (!qtest_args(q, words, 3) || !qtest_u64(q, words[1], &addr) ||
        !qtest_size(q, words[2], QTEST_MAX_XFER, &len)) {
        return;
    }
    if (strlen(words[3]) < 3) {
        qtest_send(q, "ERR invalid argument size\n");
        return;
    }
    data = g_base64_decode(words[3], &out_len);
    if (out_len != len) {
        if (q->log_fp && q->opened) {
            qtest_log_timestamp(q);
            fprintf(q->log_fp, "b64write: data length mismatch (told %"
                    PRIu64 ", found %zu)\n", len, (size_t)out_len);
        }
        /* QEMU truncates (and reads past its buffer when short); we too. */
        out_len = MIN(out_len, len);
    }
    mem_write(addr, data, out_len);
    qtest_send(q, "OK\n");
}

static void qtest_cmd_memset(QTestServer *q, gchar **words)
{
    uint64_t addr, len, pattern, done;
    uint8_t chunk[64 * 1024];

    if (!qtest_args(q, words, 3) || !qtest_u64(q, words[1], &addr) ||
        !qtest_size(q, words[2], QTEST_MAX_MEMSET, &len) ||
        !qtest_u64(q, words[3], &pattern)) {
        return;
    }
    memset(chunk, (uint8_t)pattern, sizeof(chunk));
    for (done = 0; done < len; done += MIN(len - done, sizeof(chunk))) {
        mem_write(addr + done, chunk, MIN(len - done, sizeof(chunk)));
    }
    qtest_send(q, "OK\n");
}

static void qtest_cmd_clock_step(QTestServer *q, gchar **words)
{
    int64_t old_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    int64_t ns, new_ns;

    if (words[1]) {
        if (!qtest_i64(q, words[1], &ns)) {
            return;
        }
    } else {
        ns = qemu_clock_deadline_ns_all(QEMU_CLOCK_VIRTUAL,
                                        QEMU_TIMER_ATTR_ALL);
        if (ns < 0) {
            qtest_send(q, "FAIL cannot advance clock to the next deadline "
                       "because there is no pending deadline\n");
            return;
        }
    }
    if (ns < 0 || old_ns > INT64_MAX - ns) {
        qtest_send(q, "FAIL could not advance time\n");
        return;
    }
    new_ns = qemu_clock_advance_virtual_time(old_ns + ns);
    if (new_ns > old_ns) {
        qtest_sendf(q, "OK %" PRIi64 "\n", new_ns);
    } else {
        qtest_send(q, "FAIL could not advance time\n");
    }
}

static void qtest_cmd_clock_set(QTestServer *q, gchar **words)
{
    int64_t ns, new_ns;

    if (!qtest_args(q, words, 1) || !qtest_i64(q, words[1], &ns)) {
        return;
    }
    new_ns = qemu_clock_advance_virtual_time(ns);
    qtest_sendf(q, "%s %" PRIi64 "\n", new_ns == ns ? "OK" : "FAIL", new_ns);
}

/* There is no I/O port space: reads float high, writes vanish. */
static void qtest_cmd_pio(QTestServer *q, gchar **words, bool is_in,
                          unsigned size)
{
    uint64_t addr, value;

    if (!qtest_args(q, words, is_in ? 1 : 2) ||
        !qtest_u64(q, words[1], &addr) ||
        (!is_in && !qtest_u64(q, words[2], &value))) {
        return;
    }
    if (addr > 0xffff) {
        qtest_sendf(q, "FAIL port address 0x%" PRIx64 " above 0xffff\n",
                    addr);
        return;
    }
    if (is_in) {
        qtest_sendf(q, "OK 0x%04x\n",
                    (uint32_t)MAKE_64BIT_MASK(0, size * 8));
    } else {
        qtest_send(q, "OK\n");
    }
}

static void qtest_cmd_irq(QTestServer *q, gchar **words)
{
    if (!qtest_args(q, words, 1)) {
        return;
    }
    if (!object_resolve_path(words[1], NULL)) {
        qtest_send(q, "FAIL Unknown device\n");
        return;
    }
    /* No device in this host has GPIO lines. */
    qtest_send(q, "FAIL No intercepts installed\n");
}

static void qtest_process_command(QTestServer *q, gchar **words)
{
    const char *cmd = words[0];
    size_t len = cmd ? strlen(cmd) : 0;

    if (q->log_fp) {
        int i;

        fprintf(q->log_fp, "[R +" FMT_timeval "]",
                q->timer ? g_timer_elapsed(q->timer, NULL) : 0.0);
        for (i = 0; words[i]; i++) {
            fprintf(q->log_fp, " %s", words[i]);
        }
        fputc('\n', q->log_fp);
    }
    if (!cmd) {
        /* QEMU asserts on an empty line. */
        qtest_send(q, "FAIL empty command\n");
        return;
    }
    trace_qtest_command(cmd);

    if (len == 6 && g_str_has_prefix(cmd, "write") && access_size(cmd[5])) {
        qtest_cmd_write(q, words, access_size(cmd[5]));
    } else if (len == 5 && g_str_has_prefix(cmd, "read") &&
               access_size(cmd[4])) {
        qtest_cmd_read(q, words, access_size(cmd[4]));
    } else if (!strcmp(cmd, "read")) {
        qtest_cmd_read_buf(q, words, false);
    } else if (!strcmp(cmd, "b64read")) {
        qtest_cmd_read_buf(q, words, true);
    } else if (!strcmp(cmd, "write")) {
        qtest_cmd_write_buf(q, words);
    } else if (!strcmp(cmd, "b64write")) {
        qtest_cmd_b64write(q, words);
    } else if (!strcmp(cmd, "memset")) {
        qtest_cmd_memset(q, words);
    } else if (!strcmp(cmd, "endianness")) {
        qtest_send(q, "OK little\n");
    } else if (!strcmp(cmd, "clock_step")) {
        qtest_cmd_clock_step(q, words);
    } else if (!strcmp(cmd, "clock_set")) {
        qtest_cmd_clock_set(q, words);
    } else if (len == 4 && g_str_has_prefix(cmd, "out") &&
               access_size(cmd[3]) && cmd[3] != 'q') {
        qtest_cmd_pio(q, words, false, access_size(cmd[3]));
    } else if (len == 3 && g_str_has_prefix(cmd, "in") &&
               access_size(cmd[2]) && cmd[2] != 'q') {
        qtest_cmd_pio(q, words, true, access_size(cmd[2]));
    } else if (!strcmp(cmd, "irq_intercept_in") ||
               !strcmp(cmd, "irq_intercept_out") ||
               !strcmp(cmd, "set_irq_in")) {
        qtest_cmd_irq(q, words);
    } else if (!strcmp(cmd, "module_load")) {
        /* Everything is built in. */
        qtest_send(q, "FAIL\n");
    } else {
        qtest_sendf(q, "FAIL Unknown command '%s'\n", cmd);
    }
}

static void qtest_process_inbuf(QTestServer *q)
{
    char *end;

    while (qtest && (end = memchr(q->inbuf->str + q->scanned, '\n',
                                  q->inbuf->len - q->scanned))) {
        size_t len = end - q->inbuf->str;
        g_autofree char *cmd = g_strndup(q->inbuf->str, len);
        g_auto(GStrv) words = NULL;

        g_string_erase(q->inbuf, 0, len + 1);
        q->scanned = 0;
        if (q->discarding) {
            q->discarding = false;
            qtest_sendf(q, "FAIL line longer than %d bytes\n",
                        QTEST_MAX_LINE);
            continue;
        }
        words = g_strsplit(cmd, " ", 0);
        qtest_process_command(q, words);
    }
    if (qtest == q) {
        q->scanned = q->inbuf->len;
    }
}

static int qtest_can_read(void *opaque)
{
    return 4096;
}

static void qtest_read(void *opaque, const uint8_t *buf, int size)
{
    QTestServer *q = opaque;

    g_string_append_len(q->inbuf, (const char *)buf, size);
    qtest_process_inbuf(q);
    if (q->inbuf->len > QTEST_MAX_LINE) {
        /* No newline in sight: drop the line, answer when it ends. */
        g_string_truncate(q->inbuf, 0);
        q->scanned = 0;
        q->discarding = true;
    }
}

static void qtest_event(void *opaque, QEMUChrEvent event)
{
    QTestServer *q = opaque;

    switch (event) {
    case CHR_EVENT_OPENED:
        g_clear_pointer(&q->timer, g_timer_destroy);
        q->timer = g_timer_new();
        q->opened = true;
        if (q->log_fp) {
            fprintf(q->log_fp, "[I " FMT_timeval "] OPENED\n",
                    g_timer_elapsed(q->timer, NULL));
        }
        break;
    case CHR_EVENT_CLOSED:
        q->opened = false;
        if (q->log_fp) {
            fprintf(q->log_fp, "[I +" FMT_timeval "] CLOSED\n",
                    g_timer_elapsed(q->timer, NULL));
            fflush(q->log_fp);
        }
        g_string_truncate(q->inbuf, 0);
        q->scanned = 0;
        q->discarding = false;
        /* The test that drove us is gone: leave, as QEMU under qtest. */
        trace_qtest_closed();
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_SIGNAL);
        break;
    default:
        break;
    }
}

bool qtest_server_init(const char *qtest_chrdev, const char *qtest_log,
                       Error **errp)
{
    ERRP_GUARD();
    QTestServer *q;
    Chardev *chr;

    if (qtest) {
        error_setg(errp, "Only one instance of qtest can be created");
        return false;
    }
    chr = qemu_chr_new("qtest", qtest_chrdev, errp);
    if (!chr) {
        if (!*errp) {
            error_setg(errp, "-qtest none: a qtest chardev is required");
        }
        error_prepend(errp, "Failed to initialize device for qtest: "
                      "\"%s\": ", qtest_chrdev);
        return false;
    }

    q = g_new0(QTestServer, 1);
    /*
     * libqtest passes -qtest-log /dev/null: formatting and flushing every
     * line into it would cost two system calls a line for nothing.
     */
    if (!qtest_log) {
        q->log_fp = stderr;
    } else if (strcmp(qtest_log, "none") && strcmp(qtest_log, "/dev/null")) {
        q->log_fp = fopen(qtest_log, "w+");
        if (!q->log_fp) {
            error_setg_errno(errp, errno, "Could not open qtest log '%s'",
                             qtest_log);
            qemu_chr_delete(chr);
            g_free(q);
            return false;
        }
    }
    if (!qemu_chr_fe_init(&q->chr, chr, errp)) {
        if (q->log_fp && q->log_fp != stderr) {
            fclose(q->log_fp);
        }
        qemu_chr_delete(chr);
        g_free(q);
        return false;
    }
    q->inbuf = g_string_new("");
    qtest = q;
    qemu_chr_fe_set_handlers(&q->chr, qtest_can_read, qtest_read,
                             qtest_event, NULL, q, NULL, true);
    return true;
}

void qtest_server_feed(const uint8_t *buf, size_t len, GString *reply)
{
    QTestServer *q;

    if (qtest) {
        /* Never mix with a real client's stream. */
        return;
    }
    q = g_new0(QTestServer, 1);
    q->inbuf = g_string_new("");
    q->capture = reply;
    qtest = q;
    /* In pieces of the size the chardev front end reads. */
    while (len && qtest) {
        int n = MIN(len, (size_t)qtest_can_read(q));

        qtest_read(q, buf, n);
        buf += n;
        len -= n;
    }
    qtest = NULL;
    g_string_free(q->inbuf, TRUE);
    g_free(q);
}

bool qtest_driver(void)
{
    return qtest != NULL;
}

void qtest_server_cleanup(void)
{
    QTestServer *q = qtest;

    if (!q) {
        return;
    }
    qtest = NULL;
    qemu_chr_fe_deinit(&q->chr, false);
    if (q->log_fp && q->log_fp != stderr) {
        fclose(q->log_fp);
    }
    g_clear_pointer(&q->timer, g_timer_destroy);
    g_string_free(q->inbuf, TRUE);
    g_free(q);
}
