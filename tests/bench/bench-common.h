/*
 * Shared pieces of the tpm-crb benchmarks (tests/bench): the TPM commands
 * they send, a swtpm started per run, a client that talks to swtpm's data
 * channel directly (control socket + CMD_SET_DATAFD, as the emulator
 * backend does), clocks, per-process CPU time and medians.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TESTS_BENCH_BENCH_COMMON_H
#define TESTS_BENCH_BENCH_COMMON_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_HDR_SIZE 10
/* Far above any buffer a benchmark uses (the fake's largest is 64 KiB). */
#define BENCH_MAX_MSG (64 * 1024)

/* The CRB registers the benchmarks touch (SPEC §2), offsets from base. */
#define BENCH_CRB_BASE        0xFED40000ULL
#define BENCH_CRB_LOC_CTRL    0x08
#define BENCH_CRB_CTRL_REQ    0x40
#define BENCH_CRB_CTRL_STS    0x44
#define BENCH_CRB_CTRL_START  0x4C
#define BENCH_CRB_DATA        0x80
#define BENCH_CRB_START       (1u << 0)
#define BENCH_CRB_NEXT_CHUNK  (1u << 2)
#define BENCH_CRB_CMD_READY   (1u << 0)
#define BENCH_CRB_GO_IDLE     (1u << 1)

typedef struct BenchCommand {
    const char *name;
    uint8_t *bytes;
    uint32_t len;
} BenchCommand;

/* TPM2_Startup(SU_CLEAR). */
void bench_cmd_startup(BenchCommand *c);
/* TPM2_GetRandom(32). */
void bench_cmd_get_random(BenchCommand *c);
/* TPM2_PCR_Extend(PCR 10, one SHA-256 digest), password session. */
void bench_cmd_pcr_extend(BenchCommand *c);
/*
 * A well-framed command of exactly len bytes: a TPM2_GetRandom header
 * declaring len, the parameter, then zero padding. A TPM receives all of
 * it and answers TPM_RC_SIZE (trailing bytes); the fake echoes it.
 */
void bench_cmd_framed(BenchCommand *c, const char *name, uint32_t len);
void bench_cmd_free(BenchCommand *c);

uint32_t bench_be32(const uint8_t *p);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_now_ns(void);
/*
 * CPU time of the live threads of process pid so far, in nanoseconds:
 * the sum of /proc/PID/task/TID/schedstat's on-CPU time (nanosecond
 * resolution, unlike stat's clock ticks). -1 if unreadable.
 */
int64_t bench_proc_cpu_ns(pid_t pid);
/* Median of n values (n > 0); the array is left sorted. */
double bench_median(double *v, size_t n);

/* A swtpm socket process with a fresh state directory. */
typedef struct BenchSwtpm {
    GPid pid;
    char *dir;
    char *ctrl_path;
} BenchSwtpm;

/* swtpm socket --tpm2 --ctrl type=unixio,path=DIR/ctrl; false + message. */
bool bench_swtpm_start(BenchSwtpm *s, GError **errp);
void bench_swtpm_stop(BenchSwtpm *s);

/*
 * A client of swtpm's (or the fake's) control protocol that hands over a
 * socketpair with CMD_SET_DATAFD, sends CMD_INIT, learns the buffer size
 * and then moves TPM commands over the data channel itself.
 */
typedef struct BenchDirect {
    int ctrl_fd;
    int data_fd;
    uint32_t buffer_size;
} BenchDirect;

bool bench_direct_open(BenchDirect *d, const char *ctrl_path, GError **errp);
/* One command: send it, read the header, then the rest of the response. */
bool bench_direct_transact(BenchDirect *d, const uint8_t *cmd, uint32_t len,
                           uint8_t *rsp, uint32_t rsp_max, uint32_t *rsp_len,
                           GError **errp);
void bench_direct_close(BenchDirect *d);

/* "GNU/Linux, N CPUs (MODEL), load a b c" for the report. */
char *bench_machine_description(void);

#endif /* TESTS_BENCH_BENCH_COMMON_H */
