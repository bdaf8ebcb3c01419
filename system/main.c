/*
 * qemu-system-x86_64: build the machine from the command line, run the
 * main loop until a shutdown is requested, clean up and exit.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "system/runstate.h"
#include "system/system.h"

int main(int argc, char **argv)
{
    int status;

    qemu_init(argc, argv);
    qemu_main_loop();
    status = qemu_main_loop_exit_status();
    qemu_cleanup(status);
    return status;
}
