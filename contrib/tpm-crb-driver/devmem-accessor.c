/*
 * MMIO accessor for the reference TPM CRB driver inside a guest: the CRB
 * page mapped through /dev/mem. Registers are read and written as
 * aligned 32-bit accesses, the data window a byte at a time except for
 * aligned 32-bit runs, so that every access is one the device accepts
 * (PTP v1.07 §6.5.3: the CRB registers take 1, 2 and 4-byte accesses).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/mman.h>
#include "devmem-accessor.h"

#define DEVMEM_PAGE 4096

struct DevmemAccessor {
    int fd;
    uint64_t base;
    volatile uint8_t *page;
};

DevmemAccessor *devmem_accessor_open(const char *path, uint64_t base,
                                     Error **errp)
{
    DevmemAccessor *da;
    void *p;
    int fd;

    if (base % DEVMEM_PAGE) {
        error_setg(errp, "devmem accessor: base 0x%" PRIx64 " is not "
                   "page aligned", base);
        return NULL;
    }
    fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
    if (fd < 0) {
        error_setg_errno(errp, errno, "devmem accessor: cannot open '%s'",
                         path);
        return NULL;
    }
    p = mmap(NULL, DEVMEM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
             base);
    if (p == MAP_FAILED) {
        int err = errno;

        close(fd);
        error_setg_errno(errp, err, "devmem accessor: cannot map 0x%" PRIx64
                         " from '%s'%s", base, path, err == EPERM ?
                         " (is a driver bound to it? with "
                         "CONFIG_IO_STRICT_DEVMEM only unclaimed I/O memory "
                         "maps)" : "");
        return NULL;
    }
    da = g_new0(DevmemAccessor, 1);
    da->fd = fd;
    da->base = base;
    da->page = p;
    return da;
}

void devmem_accessor_free(DevmemAccessor *da)
{
    if (!da) {
        return;
    }
    munmap((void *)da->page, DEVMEM_PAGE);
    close(da->fd);
    g_free(da);
}

/* The offset of [addr, addr + len) in the page, or false with an error. */
static bool da_offset(DevmemAccessor *da, uint64_t addr, size_t len,
                      size_t *off, Error **errp)
{
    if (addr < da->base || len > DEVMEM_PAGE ||
        addr - da->base > DEVMEM_PAGE - len) {
        error_setg(errp, "devmem accessor: 0x%" PRIx64 "+%zu is outside "
                   "the mapped page at 0x%" PRIx64, addr, len, da->base);
        return false;
    }
    *off = addr - da->base;
    return true;
}

static bool da_read32(void *opaque, uint64_t addr, uint32_t *val,
                      Error **errp)
{
    DevmemAccessor *da = opaque;
    size_t off;

    if (!da_offset(da, addr, 4, &off, errp)) {
        return false;
    }
    *val = *(volatile uint32_t *)(da->page + off);
    return true;
}

static bool da_write32(void *opaque, uint64_t addr, uint32_t val,
                       Error **errp)
{
    DevmemAccessor *da = opaque;
    size_t off;

    if (!da_offset(da, addr, 4, &off, errp)) {
        return false;
    }
    *(volatile uint32_t *)(da->page + off) = val;
    return true;
}

static bool da_read_buf(void *opaque, uint64_t addr, void *buf, size_t len,
                        Error **errp)
{
    DevmemAccessor *da = opaque;
    uint8_t *out = buf;
    size_t off, i = 0;

    if (!da_offset(da, addr, len, &off, errp)) {
        return false;
    }
    while (i < len) {
        if ((off + i) % 4 == 0 && len - i >= 4) {
            uint32_t v = *(volatile uint32_t *)(da->page + off + i);

            memcpy(out + i, &v, 4);
            i += 4;
        } else {
            out[i] = da->page[off + i];
            i++;
        }
    }
    return true;
}

static bool da_write_buf(void *opaque, uint64_t addr, const void *buf,
                         size_t len, Error **errp)
{
    DevmemAccessor *da = opaque;
    const uint8_t *in = buf;
    size_t off, i = 0;

    if (!da_offset(da, addr, len, &off, errp)) {
        return false;
    }
    while (i < len) {
        if ((off + i) % 4 == 0 && len - i >= 4) {
            uint32_t v;

            memcpy(&v, in + i, 4);
            *(volatile uint32_t *)(da->page + off + i) = v;
            i += 4;
        } else {
            da->page[off + i] = in[i];
            i++;
        }
    }
    return true;
}

const TpmCrbAccessorOps devmem_accessor_ops = {
    .read32 = da_read32,
    .write32 = da_write32,
    .read_buf = da_read_buf,
    .write_buf = da_write_buf,
};
