/*
 * Global settings of the emulator that the command line fills in.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef SYSTEM_SYSTEM_H
#define SYSTEM_SYSTEM_H

/* -name guest=NAME (NULL when not given). */
extern const char *qemu_name;

/* Parse the command line and build the machine; exits on error. */
void qemu_init(int argc, char **argv);
/* Tear down what qemu_init built, after the main loop returned. */
void qemu_cleanup(int status);

#endif /* SYSTEM_SYSTEM_H */
