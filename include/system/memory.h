/*
 * Physical memory: MMIO and RAM regions, the system address space and
 * QEMU's access-size rules, with the subset of QEMU's memory API that the
 * hosted devices use.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef SYSTEM_MEMORY_H
#define SYSTEM_MEMORY_H

#include "qom/object.h"

typedef struct MemoryRegion MemoryRegion;
typedef struct MemoryRegionOps MemoryRegionOps;
typedef struct AddressSpace AddressSpace;

typedef uint32_t MemTxResult;
#define MEMTX_OK 0
#define MEMTX_ERROR (1U << 0)
#define MEMTX_DECODE_ERROR (1U << 1)
#define MEMTX_ACCESS_ERROR (1U << 2)

typedef struct MemTxAttrs {
    unsigned int unspecified:1;
    unsigned int secure:1;
    unsigned int requester_id:16;
} MemTxAttrs;

#define MEMTXATTRS_UNSPECIFIED ((MemTxAttrs) { .unspecified = 1 })

enum device_endian {
    DEVICE_NATIVE_ENDIAN,
    DEVICE_BIG_ENDIAN,
    DEVICE_LITTLE_ENDIAN,
};

/*
 * The rules a region's accesses obey, as in QEMU:
 * - valid: what the bus may issue. An access outside these bounds (size,
 *   alignment unless .unaligned, .accepts refusing it) is not delivered:
 *   reads return 0 and writes are dropped.
 * - impl: what the callbacks implement. Smaller accesses are widened to
 *   impl.min_access_size and the wanted bytes extracted (writes are
 *   read-modify-written only if the device says so; QEMU does not); larger
 *   ones are split into several callbacks.
 * Zero means the default: valid 1..4, impl 1..4.
 */
struct MemoryRegionOps {
    uint64_t (*read)(void *opaque, hwaddr addr, unsigned size);
    void (*write)(void *opaque, hwaddr addr, uint64_t data, unsigned size);
    MemTxResult (*read_with_attrs)(void *opaque, hwaddr addr, uint64_t *data,
                                   unsigned size, MemTxAttrs attrs);
    MemTxResult (*write_with_attrs)(void *opaque, hwaddr addr, uint64_t data,
                                    unsigned size, MemTxAttrs attrs);

    enum device_endian endianness;

    struct {
        unsigned min_access_size;
        unsigned max_access_size;
        bool unaligned;
        bool (*accepts)(void *opaque, hwaddr addr, unsigned size,
                        bool is_write, MemTxAttrs attrs);
    } valid;

    struct {
        unsigned min_access_size;
        unsigned max_access_size;
        bool unaligned;
    } impl;
};

struct MemoryRegion {
    /* private: */
    Object *owner;
    char *name;
    uint64_t size;
    hwaddr addr;
    int priority;
    bool enabled;
    bool ram;
    bool readonly;
    bool terminates;
    const MemoryRegionOps *ops;
    void *opaque;
    uint8_t *ram_block;
    MemoryRegion *container;
    /* Subregions, highest priority first, then most recently added. */
    GSList *subregions;
    /* Dirty tracking for RAM regions, one bit per byte range written. */
    bool dirty;
};

void memory_region_init(MemoryRegion *mr, Object *owner, const char *name,
                        uint64_t size);
void memory_region_init_io(MemoryRegion *mr, Object *owner,
                           const MemoryRegionOps *ops, void *opaque,
                           const char *name, uint64_t size);
bool memory_region_init_ram(MemoryRegion *mr, Object *owner,
                            const char *name, uint64_t size, Error **errp);
void memory_region_finalize(MemoryRegion *mr);

void memory_region_add_subregion(MemoryRegion *mr, hwaddr offset,
                                 MemoryRegion *subregion);
void memory_region_add_subregion_overlap(MemoryRegion *mr, hwaddr offset,
                                         MemoryRegion *subregion,
                                         int priority);
void memory_region_del_subregion(MemoryRegion *mr, MemoryRegion *subregion);
void memory_region_set_enabled(MemoryRegion *mr, bool enabled);

uint64_t memory_region_size(MemoryRegion *mr);
const char *memory_region_name(const MemoryRegion *mr);
bool memory_region_is_ram(MemoryRegion *mr);
void *memory_region_get_ram_ptr(MemoryRegion *mr);
void memory_region_set_dirty(MemoryRegion *mr, hwaddr addr, hwaddr size);

/* Dispatch one access to a region, applying its access-size rules. */
MemTxResult memory_region_dispatch_read(MemoryRegion *mr, hwaddr addr,
                                        uint64_t *pval, unsigned size,
                                        MemTxAttrs attrs);
MemTxResult memory_region_dispatch_write(MemoryRegion *mr, hwaddr addr,
                                         uint64_t data, unsigned size,
                                         MemTxAttrs attrs);

struct AddressSpace {
    char *name;
    MemoryRegion *root;
};

extern AddressSpace address_space_memory;
MemoryRegion *get_system_memory(void);

/*
 * Read or write len bytes of guest physical memory, splitting the access
 * at region boundaries and into the largest sizes each region accepts.
 * Bytes not backed by any region read as 0 and are dropped on write.
 */
MemTxResult address_space_read(AddressSpace *as, hwaddr addr,
                               MemTxAttrs attrs, void *buf, hwaddr len);
MemTxResult address_space_write(AddressSpace *as, hwaddr addr,
                                MemTxAttrs attrs, const void *buf,
                                hwaddr len);
MemTxResult address_space_rw(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
                             void *buf, hwaddr len, bool is_write);

/* Calls fn for every RAM region reachable from the system memory root. */
void memory_foreach_ram_region(void (*fn)(MemoryRegion *mr, void *opaque),
                               void *opaque);

#endif /* SYSTEM_MEMORY_H */
