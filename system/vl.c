/*
 * The command line of qemu-system-x86_64 and the order in which it builds
 * the machine: parse everything, then trace, chardevs, monitors, machine
 * (with compat and -global properties), TPM backends, devices, the qtest
 * server, reset, and the initial run state.
 *
 * The options QEMU's libqtest passes are accepted; other QEMU options get
 * one clear line saying this build does not have them.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <signal.h>
#include <sys/prctl.h>
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/option.h"
#include "qom/object.h"
#include "chardev/char.h"
#include "hw/core/boards.h"
#include "hw/core/qdev-properties.h"
#include "migration/blocker.h"
#include "migration/misc.h"
#include "monitor/monitor.h"
#include "monitor/qdev.h"
#include "system/qtest.h"
#include "system/runstate.h"
#include "system/system.h"
#include "system/tpm.h"
#include "trace/control.h"

#define QEMU_VERSION "11.1.0"
#define BUILD_SCOPE "it hosts only the tpm-crb device under the qtest " \
                    "accelerator"

/* Above this, -m is refused instead of failing to allocate later. */
#define MAX_RAM_SIZE (16 * GiB)

const char *qemu_name;

typedef enum {
    OPT_QTEST, OPT_QTEST_LOG, OPT_CHARDEV, OPT_MON, OPT_QMP, OPT_QMP_PRETTY,
    OPT_DISPLAY, OPT_AUDIO, OPT_RUN_WITH, OPT_ACCEL, OPT_MACHINE, OPT_MEM,
    OPT_NODEFAULTS, OPT_S, OPT_DEVICE, OPT_GLOBAL, OPT_OBJECT, OPT_TPMDEV,
    OPT_INCOMING, OPT_ONLY_MIGRATABLE, OPT_NAME, OPT_VERSION, OPT_HELP,
    OPT_TRACE, OPT_ENABLE_KVM, OPT_NONE_ONLY, OPT_NO_USER_CONFIG,
} OptionIndex;

typedef struct OptionDef {
    const char *name;
    bool has_arg;
    OptionIndex index;
} OptionDef;

static const OptionDef options[] = {
    { "qtest", true, OPT_QTEST },
    { "qtest-log", true, OPT_QTEST_LOG },
    { "chardev", true, OPT_CHARDEV },
    { "mon", true, OPT_MON },
    { "qmp", true, OPT_QMP },
    { "qmp-pretty", true, OPT_QMP_PRETTY },
    { "display", true, OPT_DISPLAY },
    { "audio", true, OPT_AUDIO },
    { "run-with", true, OPT_RUN_WITH },
    { "accel", true, OPT_ACCEL },
    { "machine", true, OPT_MACHINE },
    { "M", true, OPT_MACHINE },
    { "m", true, OPT_MEM },
    { "nodefaults", false, OPT_NODEFAULTS },
    { "S", false, OPT_S },
    { "device", true, OPT_DEVICE },
    { "global", true, OPT_GLOBAL },
    { "object", true, OPT_OBJECT },
    { "tpmdev", true, OPT_TPMDEV },
    { "incoming", true, OPT_INCOMING },
    { "only-migratable", false, OPT_ONLY_MIGRATABLE },
    { "name", true, OPT_NAME },
    { "version", false, OPT_VERSION },
    { "h", false, OPT_HELP },
    { "help", false, OPT_HELP },
    { "trace", true, OPT_TRACE },
    { "enable-kvm", false, OPT_ENABLE_KVM },
    /* Options whose only value here is "none": asking for nothing. */
    { "serial", true, OPT_NONE_ONLY },
    { "parallel", true, OPT_NONE_ONLY },
    { "monitor", true, OPT_NONE_ONLY },
    { "vga", true, OPT_NONE_ONLY },
    { "net", true, OPT_NONE_ONLY },
    { "nic", true, OPT_NONE_ONLY },
    { "no-user-config", false, OPT_NO_USER_CONFIG },
    { "nodefconfig", false, OPT_NO_USER_CONFIG },
};

/* QEMU options this build knows of but does not have. */
static const char *const unsupported_options[] = {
    "netdev", "drive", "blockdev", "cdrom", "hda", "hdb", "hdc", "hdd",
    "fda", "fdb", "mtdblock", "sd", "pflash", "snapshot", "kernel",
    "initrd", "append", "dtb", "bios", "boot", "cpu", "smp", "numa",
    "rtc", "usb", "usbdevice", "spice", "vnc", "sdl", "curses", "gdb",
    "s", "d", "D", "L", "icount", "loadvm", "pidfile", "daemonize",
    "nographic", "no-reboot", "no-shutdown", "action", "overcommit",
    "msg", "sandbox", "plugin", "fsdev", "virtfs", "virtfs_synth",
    "audiodev", "iscsi", "add-fd", "set", "mem-path", "mem-prealloc",
    "k", "semihosting", "semihosting-config", "watchdog-action", "fw_cfg",
    "acpitable", "smbios", "uuid", "singlestep", "one-insn-per-tb",
    "preconfig", "readconfig", "writeconfig", "compat", "async-teardown",
    "chroot", "runas", "echr", "portrait", "rotate", "full-screen",
    "g", "prom-env", "xen-domid", "xen-attach", "xen-domid-restrict",
    "device-help", "machine-help", "win2k-hack", "no-hpet", "no-acpi",
    "no-fd-bootchk", "no-quit", "alt-grab", "ctrl-grab", "enable-sync-profile",
    "seed", "bt", "option-rom", "nodefaults-all", "spice-app",
    NULL
};

/* Everything the command line asked for, before anything is built. */
typedef struct CmdlineConfig {
    GPtrArray *chardevs;
    GPtrArray *mons;
    GPtrArray *qmps;        /* "P:" prefix when pretty */
    GPtrArray *objects;
    GPtrArray *devices;
    GPtrArray *globals;
    GPtrArray *traces;
    GPtrArray *machine_opts;
    GPtrArray *accels;
    const char *qtest_chrdev;
    const char *qtest_log;
    const char *incoming;
    uint64_t ram_size;
    bool autostart;
    bool only_migratable;
    bool exit_with_parent;
} CmdlineConfig;

static void G_GNUC_NORETURN cmdline_fail(const char *opt, const char *arg,
                                         Error *err)
{
    if (arg) {
        error_prepend(&err, "-%s %s: ", opt, arg);
    } else if (opt) {
        error_prepend(&err, "-%s: ", opt);
    }
    error_report_err(err);
    exit(1);
}

static void G_GNUC_NORETURN G_GNUC_PRINTF(3, 4)
cmdline_failf(const char *opt, const char *arg, const char *fmt, ...)
{
    Error *err = NULL;
    char *msg;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    error_setg(&err, "%s", msg);
    /* Freed by hand: cmdline_fail() exits, cleanups would not run. */
    g_free(msg);
    cmdline_fail(opt, arg, err);
}

static void version(void)
{
    printf("QEMU emulator version " QEMU_VERSION " (tpm-crb-chunk)\n"
           "Copyright (c) 2026 The tpm-crb-chunk authors\n");
}

static void help(void)
{
    version();
    printf("usage: qemu-system-x86_64 [options]\n\n"
           "This build hosts the tpm-crb device under the qtest "
           "accelerator.\nSupported options:\n"
           "-machine|-M NAME[,accel=qtest][,PROP=VALUE]  machine type "
           "(-M help lists)\n"
           "-m SIZE                 guest RAM (default: the machine's)\n"
           "-accel qtest            the only accelerator\n"
           "-qtest unix:PATH[,server=on,wait=off]  qtest protocol socket\n"
           "-qtest-log FILE         log of the qtest protocol (none: off)\n"
           "-chardev socket,id=ID,path=PATH[,server=on,wait=off]\n"
           "-mon chardev=ID,mode=control[,pretty=on]  QMP monitor\n"
           "-qmp unix:PATH[,server=on,wait=off]  QMP monitor on a socket\n"
           "-object monitor-qmp,id=ID,chardev=ID  QMP monitor\n"
           "-tpmdev emulator,id=ID,chardev=ID  TPM backend (help lists)\n"
           "-device DRIVER[,id=ID][,PROP=VALUE]  (help lists, "
           "DRIVER,help shows properties)\n"
           "-global DRIVER.PROP=VALUE\n"
           "-incoming URI|defer     wait for an incoming migration\n"
           "-only-migratable        refuse devices that block migration\n"
           "-S                      do not start the VM\n"
           "-trace PATTERN|enable=PATTERN|events=FILE|file=FILE|help\n"
           "-name NAME              -display none  -audio none  "
           "-nodefaults\n"
           "-run-with exit-with-parent=on\n"
           "-version  -h\n");
}

static const OptionDef *lookup_option(const char *name)
{
    guint i;

    for (i = 0; i < G_N_ELEMENTS(options); i++) {
        if (!strcmp(options[i].name, name)) {
            return &options[i];
        }
    }
    return NULL;
}

static bool is_unsupported_option(const char *name)
{
    int i;

    for (i = 0; unsupported_options[i]; i++) {
        if (!strcmp(unsupported_options[i], name)) {
            return true;
        }
    }
    return false;
}

/* The qtest accelerator is all there is; name the one refused. */
static void select_accel(const char *opt, const char *arg, const char *list)
{
    static const char *const other_accels[] = {
        "kvm", "tcg", "xen", "hvf", "whpx", "nvmm", "mshv", NULL
    };
    GStrv names = g_strsplit(list, ":", -1);
    const char *refused = NULL;
    int i, j;

    for (i = 0; names[i]; i++) {
        if (!strcmp(names[i], "qtest")) {
            g_strfreev(names);
            return;
        }
    }
    for (i = 0; names[i] && !refused; i++) {
        for (j = 0; other_accels[j]; j++) {
            if (!strcmp(names[i], other_accels[j])) {
                refused = other_accels[j];
                break;
            }
        }
    }
    /* Freed before exiting: nothing may be left allocated at exit(). */
    g_strfreev(names);
    if (refused) {
        cmdline_failf(opt, arg, "the %s accelerator is not supported by "
                      "this build (it runs the qtest accelerator only)",
                      refused);
    }
    cmdline_failf(opt, arg, "invalid accelerator %s", list);
}

static QemuOptsList qemu_accel_opts = {
    .name = "accel",
    .implied_opt_name = "accel",
    .desc = {
        { .name = "accel", .type = QEMU_OPT_STRING },
        { .name = "thread", .type = QEMU_OPT_STRING },
        { /* end of list */ }
    },
};

static void parse_accel(CmdlineConfig *cfg, const char *arg)
{
    Error *err = NULL;
    QemuOpts *opts;
    const char *name;

    if (!strcmp(arg, "help")) {
        printf("Accelerators supported in QEMU binary:\nqtest\n");
        exit(0);
    }
    opts = qemu_opts_parse(&qemu_accel_opts, arg, true, &err);
    if (!opts) {
        cmdline_fail("accel", arg, err);
    }
    name = qemu_opt_get(opts, "accel");
    if (!name) {
        cmdline_failf("accel", arg, "Parameter 'accel' is missing");
    }
    select_accel("accel", arg, name);
    qemu_opts_del(opts);
}

static bool parse_size(const char *str, uint64_t *size)
{
    uint64_t mul = MiB;     /* QEMU: -m without suffix means MiB */
    char *end;
    double val;

    if (!g_ascii_isdigit(str[0])) {
        return false;
    }
    errno = 0;
    val = g_ascii_strtod(str, &end);
    if (errno || end == str) {
        return false;
    }
    switch (*end) {
    case '\0':
        break;
    case 'b': case 'B':
        mul = 1;
        break;
    case 'k': case 'K':
        mul = KiB;
        break;
    case 'm': case 'M':
        mul = MiB;
        break;
    case 'g': case 'G':
        mul = GiB;
        break;
    case 't': case 'T':
        mul = 1024 * GiB;
        break;
    default:
        return false;
    }
    if (*end && end[1]) {
        return false;
    }
    if (val * mul >= 18446744073709551616.0) {
        return false;
    }
    *size = (uint64_t)(val * mul);
    return true;
}

static void parse_mem(CmdlineConfig *cfg, const char *arg)
{
    g_auto(GStrv) parts = g_strsplit(arg, ",", -1);
    const char *value = NULL;
    int i;

    for (i = 0; parts[i]; i++) {
        if (g_str_has_prefix(parts[i], "size=")) {
            value = parts[i] + strlen("size=");
        } else if (i == 0 && !strchr(parts[i], '=')) {
            value = parts[i];
        } else {
            cmdline_failf("m", arg, "Parameter '%.*s' is not supported by "
                          "this build (only size= is)",
                          (int)strcspn(parts[i], "="), parts[i]);
        }
    }
    if (!value || !parse_size(value, &cfg->ram_size)) {
        Error *err = NULL;

        error_setg(&err, "Parameter 'size' expects a non-negative number "
                   "below 2^64");
        error_append_hint(&err, "Optional suffix k, M, G, T, P or E means "
                          "kilo-, mega-, giga-, tera-, peta-\nand exabytes, "
                          "respectively.\n");
        cmdline_fail("m", arg, err);
    }
    if (cfg->ram_size < MiB) {
        cmdline_failf("m", arg, "ram size too small (at least 1 MiB)");
    }
    if (cfg->ram_size > MAX_RAM_SIZE) {
        cmdline_failf("m", arg, "ram size 0x%" PRIx64 " exceeds this "
                      "build's limit of %llu GiB", cfg->ram_size,
                      MAX_RAM_SIZE / GiB);
    }
}

static QemuOptsList qemu_run_with_opts = {
    .name = "run-with",
    .desc = {
        { .name = "exit-with-parent", .type = QEMU_OPT_BOOL },
        { .name = "async-teardown", .type = QEMU_OPT_BOOL },
        { .name = "chroot", .type = QEMU_OPT_STRING },
        { .name = "user", .type = QEMU_OPT_STRING },
        { /* end of list */ }
    },
};

static void parse_run_with(CmdlineConfig *cfg, const char *arg)
{
    static const char *const unsupported[] = {
        "async-teardown", "chroot", "user", NULL
    };
    Error *err = NULL;
    QemuOpts *opts = qemu_opts_parse(&qemu_run_with_opts, arg, false, &err);
    int i;

    if (!opts) {
        cmdline_fail("run-with", arg, err);
    }
    for (i = 0; unsupported[i]; i++) {
        if (qemu_opt_has(opts, unsupported[i])) {
            cmdline_failf("run-with", arg, "Parameter '%s' is not supported "
                          "by this build (only exit-with-parent is)",
                          unsupported[i]);
        }
    }
    cfg->exit_with_parent = qemu_opt_get_bool_err(opts, "exit-with-parent",
                                                  cfg->exit_with_parent,
                                                  &err);
    if (err) {
        cmdline_fail("run-with", arg, err);
    }
    qemu_opts_del(opts);
}

static void parse_none_only(const char *opt, const char *arg)
{
    if (strcmp(arg, "none")) {
        cmdline_failf(opt, arg, "only 'none' is supported by this build "
                      "(" BUILD_SCOPE ")");
    }
}

static void parse_display(const char *arg)
{
    if (!strcmp(arg, "help")) {
        printf("Available display backend types:\nnone\n");
        exit(0);
    }
    parse_none_only("display", arg);
}

static void parse_audio(const char *arg)
{
    if (!strcmp(arg, "help")) {
        printf("Available audio drivers:\nnone\n");
        exit(0);
    }
    if (strcmp(arg, "none") && strcmp(arg, "driver=none") &&
        !g_str_has_prefix(arg, "none,") &&
        !g_str_has_prefix(arg, "driver=none,")) {
        cmdline_failf("audio", arg, "only 'none' is supported by this build "
                      "(" BUILD_SCOPE ")");
    }
}

static QemuOptsList qemu_name_opts = {
    .name = "name",
    .implied_opt_name = "guest",
    .desc = {
        { .name = "guest", .type = QEMU_OPT_STRING },
        { .name = "process", .type = QEMU_OPT_STRING },
        { .name = "debug-threads", .type = QEMU_OPT_BOOL },
        { /* end of list */ }
    },
};

static void parse_name(const char *arg)
{
    Error *err = NULL;
    QemuOpts *opts = qemu_opts_parse(&qemu_name_opts, arg, true, &err);
    const char *proc;

    if (!opts) {
        cmdline_fail("name", arg, err);
    }
    g_free((char *)qemu_name);
    qemu_name = g_strdup(qemu_opt_get(opts, "guest"));
    proc = qemu_opt_get(opts, "process");
    if (proc) {
        prctl(PR_SET_NAME, proc);
    }
    qemu_opts_del(opts);
}

static void print_machines(void)
{
    GSList *list = object_class_get_list_sorted(TYPE_MACHINE, false);
    GSList *l;

    printf("Supported machines are:\n");
    for (l = list; l; l = l->next) {
        MachineClass *mc = l->data;

        if (mc->alias) {
            printf("%-20s %s (alias of %s)\n", mc->alias, mc->desc, mc->name);
        }
        printf("%-20s %s%s%s\n", mc->name, mc->desc,
               mc->is_default ? " (default)" : "",
               mc->deprecation_reason ? " (deprecated)" : "");
    }
    g_slist_free(list);
}

static void parse_argv(CmdlineConfig *cfg, int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *name, *optarg = NULL;
        const OptionDef *def;
        Error *err = NULL;

        if (arg[0] != '-') {
            cmdline_failf(NULL, NULL, "%s: disk images are not supported by "
                          "this build (" BUILD_SCOPE ")", arg);
        }
        name = arg + 1;
        if (name[0] == '-') {
            name++;     /* --option works like -option, as in QEMU */
        }
        def = lookup_option(name);
        if (!def) {
            if (is_unsupported_option(name)) {
                cmdline_failf(name, NULL, "not supported by this build ("
                              BUILD_SCOPE ")");
            }
            cmdline_failf(name, NULL, "invalid option");
        }
        if (def->has_arg) {
            if (i + 1 >= argc) {
                cmdline_failf(name, NULL, "requires an argument");
            }
            optarg = argv[++i];
        }

        switch (def->index) {
        case OPT_QTEST:
            cfg->qtest_chrdev = optarg;
            break;
        case OPT_QTEST_LOG:
            cfg->qtest_log = optarg;
            break;
        case OPT_CHARDEV:
            if (!strcmp(optarg, "help")) {
                printf("Available chardev backend types: \n  socket\n");
                exit(0);
            }
            g_ptr_array_add(cfg->chardevs, (gpointer)optarg);
            break;
        case OPT_MON:
            g_ptr_array_add(cfg->mons, (gpointer)optarg);
            break;
        case OPT_QMP:
            g_ptr_array_add(cfg->qmps, g_strdup_printf("-:%s", optarg));
            break;
        case OPT_QMP_PRETTY:
            g_ptr_array_add(cfg->qmps, g_strdup_printf("P:%s", optarg));
            break;
        case OPT_DISPLAY:
            parse_display(optarg);
            break;
        case OPT_AUDIO:
            parse_audio(optarg);
            break;
        case OPT_RUN_WITH:
            parse_run_with(cfg, optarg);
            break;
        case OPT_ACCEL:
            parse_accel(cfg, optarg);
            break;
        case OPT_MACHINE:
            if (!strcmp(optarg, "help") || !strcmp(optarg, "?")) {
                print_machines();
                exit(0);
            }
            g_ptr_array_add(cfg->machine_opts, (gpointer)optarg);
            break;
        case OPT_MEM:
            parse_mem(cfg, optarg);
            break;
        case OPT_NODEFAULTS:
        case OPT_NO_USER_CONFIG:
            /* No default devices and no config files exist here. */
            break;
        case OPT_S:
            cfg->autostart = false;
            break;
        case OPT_DEVICE:
            if (qdev_device_help(optarg, &err)) {
                if (err) {
                    cmdline_fail("device", optarg, err);
                }
                exit(0);
            }
            g_ptr_array_add(cfg->devices, (gpointer)optarg);
            break;
        case OPT_GLOBAL:
            g_ptr_array_add(cfg->globals, (gpointer)optarg);
            break;
        case OPT_OBJECT:
            if (!strcmp(optarg, "help")) {
                printf("List of user creatable objects:\n  monitor-qmp\n");
                exit(0);
            }
            g_ptr_array_add(cfg->objects, (gpointer)optarg);
            break;
        case OPT_TPMDEV:
            /* Checked now, created with the other backends later. */
            if (tpm_config_parse(optarg, &err)) {
                if (!err) {
                    error_setg(&err, "-tpmdev %s: invalid TPM backend "
                               "configuration", optarg);
                }
                error_report_err(err);
                exit(1);
            }
            break;
        case OPT_INCOMING:
            cfg->incoming = optarg;
            break;
        case OPT_ONLY_MIGRATABLE:
            cfg->only_migratable = true;
            break;
        case OPT_NAME:
            parse_name(optarg);
            break;
        case OPT_VERSION:
            version();
            exit(0);
        case OPT_HELP:
            help();
            exit(0);
        case OPT_TRACE:
            g_ptr_array_add(cfg->traces, (gpointer)optarg);
            break;
        case OPT_ENABLE_KVM:
            select_accel(name, NULL, "kvm");
            break;
        case OPT_NONE_ONLY:
            parse_none_only(name, optarg);
            break;
        }
    }
}

static QemuOptsList qemu_machine_opts = {
    .name = "machine",
    .implied_opt_name = "type",
};

typedef struct MachineSettings {
    char *type;
    /* Other keys, for the machine object, last setting wins. */
    GPtrArray *keys;
    GPtrArray *values;
    const char *source;
} MachineSettings;

static int machine_collect(void *opaque, const char *name, const char *value,
                           Error **errp)
{
    MachineSettings *ms = opaque;
    guint i;

    if (!strcmp(name, "type")) {
        g_free(ms->type);
        ms->type = g_strdup(value);
        return 0;
    }
    if (!strcmp(name, "accel")) {
        select_accel("machine", ms->source, value);
        return 0;
    }
    for (i = 0; i < ms->keys->len; i++) {
        if (!strcmp(g_ptr_array_index(ms->keys, i), name)) {
            g_free(g_ptr_array_index(ms->values, i));
            ms->values->pdata[i] = g_strdup(value);
            return 0;
        }
    }
    g_ptr_array_add(ms->keys, g_strdup(name));
    g_ptr_array_add(ms->values, g_strdup(value));
    return 0;
}

static void create_machine(CmdlineConfig *cfg)
{
    MachineSettings ms = {
        .keys = g_ptr_array_new_with_free_func(g_free),
        .values = g_ptr_array_new_with_free_func(g_free),
    };
    MachineClass *mc;
    Object *obj;
    guint i;

    /* Several -machine options merge, as in QEMU. */
    for (i = 0; i < cfg->machine_opts->len; i++) {
        const char *arg = g_ptr_array_index(cfg->machine_opts, i);
        Error *err = NULL;
        QemuOpts *opts = qemu_opts_parse(&qemu_machine_opts, arg, true,
                                         &err);

        if (!opts) {
            cmdline_fail("machine", arg, err);
        }
        ms.source = arg;
        qemu_opt_foreach(opts, machine_collect, &ms, NULL);
        qemu_opts_del(opts);
    }

    if (ms.type) {
        mc = find_machine_class(ms.type);
        if (!mc) {
            Error *err = NULL;

            error_setg(&err, "unsupported machine type: \"%s\"", ms.type);
            error_append_hint(&err, "Use -machine help to list supported "
                              "machines\n");
            cmdline_fail(NULL, NULL, err);
        }
    } else {
        mc = find_default_machine_class();
        if (!mc) {
            cmdline_failf(NULL, NULL, "No machine specified, and there is "
                          "no default");
        }
    }

    obj = object_new(object_class_get_name(OBJECT_CLASS(mc)));
    current_machine = MACHINE(obj);
    object_property_add_child(object_get_root(), "machine", obj);
    object_unref(obj);
    current_machine->accel = g_strdup("qtest");
    current_machine->ram_size = cfg->ram_size;

    for (i = 0; i < ms.keys->len; i++) {
        Error *err = NULL;

        if (!object_property_parse(obj, g_ptr_array_index(ms.keys, i),
                                   g_ptr_array_index(ms.values, i), &err)) {
            cmdline_fail(NULL, NULL, err);
        }
    }

    /* Compat properties first, then -global, so that the user wins. */
    for (i = 0; mc->compat_props && i < mc->compat_props->len; i++) {
        qdev_prop_register_global(g_ptr_array_index(mc->compat_props, i));
    }
    for (i = 0; i < cfg->globals->len; i++) {
        Error *err = NULL;

        if (!qdev_global_parse(g_ptr_array_index(cfg->globals, i), &err)) {
            cmdline_fail("global", g_ptr_array_index(cfg->globals, i), err);
        }
    }

    if (mc->init) {
        mc->init(current_machine);
    }
    g_free(ms.type);
    g_ptr_array_unref(ms.keys);
    g_ptr_array_unref(ms.values);
}

static QemuOptsList qemu_object_opts = {
    .name = "object",
    .implied_opt_name = "qom-type",
};

static void create_objects(CmdlineConfig *cfg)
{
    static const char *const qemu_object_types[] = {
        "memory-backend-ram", "memory-backend-file", "memory-backend-memfd",
        "secret", "rng-random", "rng-builtin", "rng-egd", "iothread",
        "tls-creds-x509", "tls-creds-psk", "tls-creds-anon", "throttle-group",
        "authz-simple", "filter-dump", "cryptodev-backend-builtin", "main-loop",
        "can-bus", "input-linux", "colo-compare", "dbus-vmstate", "qtest",
        NULL
    };
    guint i;

    for (i = 0; i < cfg->objects->len; i++) {
        const char *arg = g_ptr_array_index(cfg->objects, i);
        Error *err = NULL;
        QemuOpts *opts = qemu_opts_parse(&qemu_object_opts, arg, true, &err);
        const char *type;
        int j;

        if (!opts) {
            cmdline_fail("object", arg, err);
        }
        type = qemu_opt_get(opts, "qom-type");
        if (!type || !qemu_opts_id(opts)) {
            qemu_opts_del(opts);
            cmdline_failf("object", arg, "Parameter '%s' is missing",
                          type ? "id" : "qom-type");
        }
        if (!strcmp(type, "monitor-qmp")) {
            if (!monitor_object_add(opts, &err)) {
                cmdline_fail("object", arg, err);
            }
            qemu_opts_del(opts);
            continue;
        }
        for (j = 0; qemu_object_types[j]; j++) {
            if (!strcmp(type, qemu_object_types[j])) {
                break;
            }
        }
        /* Messages are built before the options (and type) are freed. */
        if (qemu_object_types[j]) {
            error_setg(&err, "object type '%s' is not supported by this "
                       "build (" BUILD_SCOPE ")", type);
        } else {
            error_setg(&err, "Parameter 'qom-type' does not accept value "
                       "'%s'", type);
        }
        qemu_opts_del(opts);
        cmdline_fail("object", arg, err);
    }
}

static void exit_with_parent(pid_t parent)
{
    /*
     * Linux delivers the signal when the parent dies; if it died before
     * we asked, we have been reparented already.
     */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) {
        cmdline_failf("run-with", "exit-with-parent=on",
                      "cannot set the parent-death signal: %s",
                      strerror(errno));
    }
    if (getppid() != parent) {
        exit(0);
    }
}

void qemu_init(int argc, char **argv)
{
    CmdlineConfig cfg = {
        .autostart = true,
    };
    pid_t parent = getppid();
    Error *err = NULL;
    guint i;

    error_init(argv[0]);
    cfg.chardevs = g_ptr_array_new();
    cfg.mons = g_ptr_array_new();
    cfg.qmps = g_ptr_array_new_with_free_func(g_free);
    cfg.objects = g_ptr_array_new();
    cfg.devices = g_ptr_array_new();
    cfg.globals = g_ptr_array_new();
    cfg.traces = g_ptr_array_new();
    cfg.machine_opts = g_ptr_array_new();
    cfg.accels = g_ptr_array_new();

    if (qemu_init_main_loop(&err) < 0) {
        cmdline_fail(NULL, NULL, err);
    }
    monitor_init_globals();

    parse_argv(&cfg, argc, argv);

    if (cfg.exit_with_parent) {
        exit_with_parent(parent);
    }

    for (i = 0; i < cfg.traces->len; i++) {
        const char *arg = g_ptr_array_index(cfg.traces, i);

        if (!trace_opt_parse(arg, &err)) {
            cmdline_fail("trace", arg, err);
        }
    }

    for (i = 0; i < cfg.chardevs->len; i++) {
        const char *arg = g_ptr_array_index(cfg.chardevs, i);

        if (!qemu_chr_new_from_string(arg, &err)) {
            cmdline_fail("chardev", arg, err);
        }
    }

    for (i = 0; i < cfg.mons->len; i++) {
        const char *arg = g_ptr_array_index(cfg.mons, i);

        if (!monitor_parse_mon(arg, &err)) {
            cmdline_fail("mon", arg, err);
        }
    }
    for (i = 0; i < cfg.qmps->len; i++) {
        const char *arg = g_ptr_array_index(cfg.qmps, i);
        bool pretty = arg[0] == 'P';

        if (!monitor_parse_qmp(arg + 2, pretty, &err)) {
            cmdline_fail(pretty ? "qmp-pretty" : "qmp", arg + 2, err);
        }
    }
    create_objects(&cfg);

    if (cfg.incoming) {
        /* Before the backends and the reset: the TPM waits for its state. */
        runstate_set(RUN_STATE_INMIGRATE);
    }
    if (cfg.only_migratable) {
        migrate_set_only_migratable(true);
    }

    create_machine(&cfg);

    if (tpm_init(&err)) {
        if (!err) {
            error_setg(&err, "TPM backend initialisation failed");
        }
        error_report_err(err);
        exit(1);
    }

    for (i = 0; i < cfg.devices->len; i++) {
        const char *arg = g_ptr_array_index(cfg.devices, i);

        if (!qdev_device_add_from_str(arg, &err)) {
            cmdline_fail("device", arg, err);
        }
    }

    if (cfg.qtest_chrdev &&
        !qtest_server_init(cfg.qtest_chrdev, cfg.qtest_log, &err)) {
        cmdline_fail(NULL, NULL, err);
    }

    qemu_system_reset(SHUTDOWN_CAUSE_NONE);

    if (cfg.incoming) {
        migration_set_incoming_autostart(cfg.autostart);
        if (!qemu_start_incoming_migration(cfg.incoming, &err)) {
            cmdline_fail("incoming", cfg.incoming, err);
        }
    } else if (cfg.autostart) {
        vm_start();
    } else {
        runstate_set(RUN_STATE_PRELAUNCH);
    }

    g_ptr_array_unref(cfg.chardevs);
    g_ptr_array_unref(cfg.mons);
    g_ptr_array_unref(cfg.qmps);
    g_ptr_array_unref(cfg.objects);
    g_ptr_array_unref(cfg.devices);
    g_ptr_array_unref(cfg.globals);
    g_ptr_array_unref(cfg.traces);
    g_ptr_array_unref(cfg.machine_opts);
    g_ptr_array_unref(cfg.accels);
}

void qemu_cleanup(int status)
{
    monitor_cleanup();
    qtest_server_cleanup();
    tpm_cleanup();
    qemu_chr_cleanup();
}
