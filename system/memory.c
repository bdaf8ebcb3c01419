/*
 * Memory regions and the system address space: lookup of the region that
 * decodes an address, and QEMU's access-size rules for MMIO (valid and
 * impl sizes, splitting, widening, alignment).
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "system/memory.h"
#include "trace.h"

static MemoryRegion system_memory;
static bool system_memory_ready;
AddressSpace address_space_memory;

MemoryRegion *get_system_memory(void)
{
    if (!system_memory_ready) {
        /* The whole 64-bit physical space; nothing behind it by default. */
        memory_region_init(&system_memory, NULL, "system", UINT64_MAX);
        address_space_memory.name = g_strdup("memory");
        address_space_memory.root = &system_memory;
        system_memory_ready = true;
    }
    return &system_memory;
}

void memory_region_init(MemoryRegion *mr, Object *owner, const char *name,
                        uint64_t size)
{
    memset(mr, 0, sizeof(*mr));
    mr->owner = owner;
    mr->name = g_strdup(name);
    mr->size = size;
    mr->enabled = true;
    if (owner) {
        owner->owned_regions = g_slist_prepend(owner->owned_regions, mr);
    }
}

void memory_region_init_io(MemoryRegion *mr, Object *owner,
                           const MemoryRegionOps *ops, void *opaque,
                           const char *name, uint64_t size)
{
    memory_region_init(mr, owner, name, size);
    mr->ops = ops;
    mr->opaque = opaque;
    mr->terminates = true;
}

bool memory_region_init_ram(MemoryRegion *mr, Object *owner,
                            const char *name, uint64_t size, Error **errp)
{
    memory_region_init(mr, owner, name, size);
    mr->ram_block = g_try_malloc0(size ? size : 1);
    if (!mr->ram_block) {
        error_setg(errp, "cannot set up guest memory '%s': out of memory "
                   "(%" PRIu64 " bytes)", name, size);
        return false;
    }
    mr->ram = true;
    mr->terminates = true;
    return true;
}

void memory_region_finalize(MemoryRegion *mr)
{
    g_assert(!mr->container);
    g_slist_free(mr->subregions);
    mr->subregions = NULL;
    g_clear_pointer(&mr->ram_block, g_free);
    g_clear_pointer(&mr->name, g_free);
}

/*
 * Subregions are kept highest priority first; among equal priorities the
 * one added last comes first and so wins, as in QEMU.
 */
static gint subregion_order(gconstpointer a, gconstpointer b)
{
    const MemoryRegion *ra = a;
    const MemoryRegion *rb = b;

    return rb->priority - ra->priority;
}

void memory_region_add_subregion_overlap(MemoryRegion *mr, hwaddr offset,
                                         MemoryRegion *subregion,
                                         int priority)
{
    g_assert(!subregion->container);
    subregion->container = mr;
    subregion->addr = offset;
    subregion->priority = priority;
    mr->subregions = g_slist_prepend(mr->subregions, subregion);
    mr->subregions = g_slist_sort(mr->subregions, subregion_order);
}

void memory_region_add_subregion(MemoryRegion *mr, hwaddr offset,
                                 MemoryRegion *subregion)
{
    memory_region_add_subregion_overlap(mr, offset, subregion, 0);
}

void memory_region_del_subregion(MemoryRegion *mr, MemoryRegion *subregion)
{
    g_assert(subregion->container == mr);
    mr->subregions = g_slist_remove(mr->subregions, subregion);
    subregion->container = NULL;
}

void memory_region_set_enabled(MemoryRegion *mr, bool enabled)
{
    mr->enabled = enabled;
}

uint64_t memory_region_size(MemoryRegion *mr)
{
    return mr->size;
}

const char *memory_region_name(const MemoryRegion *mr)
{
    return mr->name;
}

bool memory_region_is_ram(MemoryRegion *mr)
{
    return mr->ram;
}

void *memory_region_get_ram_ptr(MemoryRegion *mr)
{
    g_assert(mr->ram);
    return mr->ram_block;
}

void memory_region_set_dirty(MemoryRegion *mr, hwaddr addr, hwaddr size)
{
    mr->dirty = true;
}

/*
 * Find the region that decodes addr (relative to mr). *plen is reduced to
 * the bytes from addr that the same decoding covers: up to the end of the
 * found region or of the gap, and never past the start of another
 * subregion, which might take over there.
 */
static MemoryRegion *memory_region_lookup(MemoryRegion *mr, hwaddr addr,
                                          hwaddr *offset, uint64_t *plen)
{
    for (GSList *e = mr->subregions; e; e = e->next) {
        MemoryRegion *sub = e->data;

        if (!sub->enabled || !sub->size) {
            continue;
        }
        if (sub->addr > addr) {
            *plen = MIN(*plen, sub->addr - addr);
        }
    }
    for (GSList *e = mr->subregions; e; e = e->next) {
        MemoryRegion *sub = e->data;
        MemoryRegion *leaf;

        if (!sub->enabled || addr < sub->addr ||
            addr - sub->addr >= sub->size) {
            continue;
        }
        *plen = MIN(*plen, sub->size - (addr - sub->addr));
        leaf = memory_region_lookup(sub, addr - sub->addr, offset, plen);
        if (leaf) {
            return leaf;
        }
    }
    if (mr->terminates) {
        *offset = addr;
        *plen = MIN(*plen, mr->size - addr);
        return mr;
    }
    return NULL;
}

static bool memory_region_access_valid(MemoryRegion *mr, hwaddr addr,
                                       unsigned size, bool is_write,
                                       MemTxAttrs attrs)
{
    const MemoryRegionOps *ops = mr->ops;
    unsigned min = ops->valid.min_access_size ? : 1;
    unsigned max = ops->valid.max_access_size ? : 4;

    if (!ops->valid.unaligned && (addr & (size - 1))) {
        return false;
    }
    if (size < min || size > max) {
        return false;
    }
    if (ops->valid.accepts &&
        !ops->valid.accepts(mr->opaque, addr, size, is_write, attrs)) {
        return false;
    }
    return true;
}

static bool memory_region_big_endian(MemoryRegion *mr)
{
    return mr->ops->endianness == DEVICE_BIG_ENDIAN;
}

static uint64_t bswap_size(uint64_t v, unsigned size)
{
    switch (size) {
    case 2:
        return GUINT16_SWAP_LE_BE((uint16_t)v);
    case 4:
        return GUINT32_SWAP_LE_BE((uint32_t)v);
    case 8:
        return GUINT64_SWAP_LE_BE(v);
    default:
        return v;
    }
}

static MemTxResult mmio_read_one(MemoryRegion *mr, hwaddr addr,
                                 uint64_t *val, unsigned size,
                                 MemTxAttrs attrs)
{
    if (mr->ops->read_with_attrs) {
        return mr->ops->read_with_attrs(mr->opaque, addr, val, size, attrs);
    }
    *val = mr->ops->read(mr->opaque, addr, size);
    return MEMTX_OK;
}

static MemTxResult mmio_write_one(MemoryRegion *mr, hwaddr addr,
                                  uint64_t val, unsigned size,
                                  MemTxAttrs attrs)
{
    if (mr->ops->write_with_attrs) {
        return mr->ops->write_with_attrs(mr->opaque, addr, val, size, attrs);
    }
    mr->ops->write(mr->opaque, addr, val, size);
    return MEMTX_OK;
}

/*
 * Deliver an access of `size` bytes through callbacks that implement
 * impl.min..impl.max: wider accesses are split into several callbacks,
 * narrower ones are widened to impl.min and the wanted bytes kept. The
 * value is in the device's byte order (little-endian unless it says).
 */
static MemTxResult access_with_adjusted_size(MemoryRegion *mr, hwaddr addr,
                                             uint64_t *value, unsigned size,
                                             bool is_write, MemTxAttrs attrs)
{
    unsigned impl_min = mr->ops->impl.min_access_size ? : 1;
    unsigned impl_max = mr->ops->impl.max_access_size ? : 4;
    unsigned access_size = MAX(MIN(size, impl_max), impl_min);
    uint64_t access_mask = MAKE_64BIT_MASK(0, access_size * 8);
    MemTxResult r = MEMTX_OK;
    uint64_t result = 0;

    for (unsigned i = 0; i < size; i += access_size) {
        unsigned shift = memory_region_big_endian(mr)
                         ? (size - access_size - i) * 8 : i * 8;

        if (is_write) {
            r |= mmio_write_one(mr, addr + i,
                                (*value >> shift) & access_mask,
                                access_size, attrs);
        } else {
            uint64_t tmp = 0;

            r |= mmio_read_one(mr, addr + i, &tmp, access_size, attrs);
            result |= (tmp & access_mask) << shift;
        }
    }
    if (!is_write) {
        *value = size < 8 ? result & MAKE_64BIT_MASK(0, size * 8) : result;
    }
    return r;
}

MemTxResult memory_region_dispatch_read(MemoryRegion *mr, hwaddr addr,
                                        uint64_t *pval, unsigned size,
                                        MemTxAttrs attrs)
{
    MemTxResult r;

    if (size > 8 || addr >= mr->size || mr->size - addr < size) {
        *pval = 0;
        return MEMTX_DECODE_ERROR;
    }
    if (mr->ram) {
        *pval = 0;
        memcpy(pval, mr->ram_block + addr, size);
        return MEMTX_OK;
    }
    if (!memory_region_access_valid(mr, addr, size, false, attrs)) {
        /* Not delivered: reads as an unassigned access would. */
        trace_memory_region_invalid_access(mr->name, addr, size, 0);
        *pval = 0;
        return MEMTX_DECODE_ERROR;
    }
    r = access_with_adjusted_size(mr, addr, pval, size, false, attrs);
    if (memory_region_big_endian(mr)) {
        *pval = bswap_size(*pval, size);
    }
    return r;
}

MemTxResult memory_region_dispatch_write(MemoryRegion *mr, hwaddr addr,
                                         uint64_t data, unsigned size,
                                         MemTxAttrs attrs)
{
    if (size > 8 || addr >= mr->size || mr->size - addr < size) {
        return MEMTX_DECODE_ERROR;
    }
    if (mr->ram) {
        if (!mr->readonly) {
            memcpy(mr->ram_block + addr, &data, size);
            mr->dirty = true;
        }
        return MEMTX_OK;
    }
    if (!memory_region_access_valid(mr, addr, size, true, attrs)) {
        trace_memory_region_invalid_access(mr->name, addr, size, 1);
        return MEMTX_DECODE_ERROR;
    }
    if (memory_region_big_endian(mr)) {
        data = bswap_size(data, size);
    }
    return access_with_adjusted_size(mr, addr, &data, size, true, attrs);
}

/*
 * The largest access the bus issues at addr for up to l bytes: a power of
 * two, no more than valid.max_access_size, naturally aligned unless the
 * callbacks accept unaligned accesses (QEMU's memory_access_size()).
 */
static unsigned memory_access_size(MemoryRegion *mr, uint64_t l, hwaddr addr)
{
    unsigned max = mr->ops->valid.max_access_size ? : 4;
    unsigned size = 1;

    if (!mr->ops->impl.unaligned) {
        hwaddr align = addr & -addr;

        if (align != 0 && align < max) {
            max = align;
        }
    }
    while (size * 2 <= max && size * 2 <= l) {
        size *= 2;
    }
    return size;
}

MemTxResult address_space_rw(AddressSpace *as, hwaddr addr, MemTxAttrs attrs,
                             void *buf, hwaddr len, bool is_write)
{
    uint8_t *p = buf;
    MemTxResult result = MEMTX_OK;

    if (!as->root) {
        get_system_memory();
    }
    while (len > 0) {
        hwaddr offset = 0;
        uint64_t l = len;
        MemoryRegion *mr = memory_region_lookup(as->root, addr, &offset, &l);

        if (l == 0) {
            /* A zero-sized stretch can only be the top of the space. */
            l = 1;
        }
        if (!mr) {
            /* Unassigned: reads are 0, writes are dropped. */
            if (!is_write) {
                memset(p, 0, l);
            }
            result |= MEMTX_DECODE_ERROR;
        } else if (mr->ram) {
            if (is_write) {
                if (!mr->readonly) {
                    memcpy(mr->ram_block + offset, p, l);
                    mr->dirty = true;
                }
            } else {
                memcpy(p, mr->ram_block + offset, l);
            }
        } else {
            uint64_t val = 0;

            l = memory_access_size(mr, l, offset);
            if (is_write) {
                memcpy(&val, p, l);
                result |= memory_region_dispatch_write(mr, offset, val, l,
                                                       attrs);
            } else {
                result |= memory_region_dispatch_read(mr, offset, &val, l,
                                                      attrs);
                memcpy(p, &val, l);
            }
        }
        p += l;
        addr += l;
        len -= l;
    }
    return result;
}

MemTxResult address_space_read(AddressSpace *as, hwaddr addr,
                               MemTxAttrs attrs, void *buf, hwaddr len)
{
    return address_space_rw(as, addr, attrs, buf, len, false);
}

MemTxResult address_space_write(AddressSpace *as, hwaddr addr,
                                MemTxAttrs attrs, const void *buf,
                                hwaddr len)
{
    return address_space_rw(as, addr, attrs, (void *)buf, len, true);
}

static void foreach_ram(MemoryRegion *mr,
                        void (*fn)(MemoryRegion *mr, void *opaque),
                        void *opaque)
{
    g_autoptr(GSList) oldest_first = g_slist_reverse(
        g_slist_copy(mr->subregions));

    if (mr->ram) {
        fn(mr, opaque);
    }
    for (GSList *e = oldest_first; e; e = e->next) {
        foreach_ram(e->data, fn, opaque);
    }
}

void memory_foreach_ram_region(void (*fn)(MemoryRegion *mr, void *opaque),
                               void *opaque)
{
    foreach_ram(get_system_memory(), fn, opaque);
}
