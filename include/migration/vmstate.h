/*
 * Device state described as data: VMStateDescription, its fields and
 * subsections, with QEMU's names and meaning.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MIGRATION_VMSTATE_H
#define MIGRATION_VMSTATE_H

#include "qom/object.h"
#include "migration/qemu-file-types.h"

typedef struct VMStateInfo VMStateInfo;
typedef struct VMStateField VMStateField;
typedef struct VMStateDescription VMStateDescription;

struct VMStateInfo {
    const char *name;
    int (*get)(QEMUFile *f, void *pv, size_t size, const VMStateField *field);
    int (*put)(QEMUFile *f, void *pv, size_t size, const VMStateField *field);
};

enum VMStateFlags {
    VMS_SINGLE = 0x001,
    VMS_POINTER = 0x002,
    VMS_ARRAY = 0x004,
    VMS_STRUCT = 0x008,
    VMS_VARRAY_INT32 = 0x010,
    VMS_BUFFER = 0x020,
    VMS_ARRAY_OF_POINTER = 0x040,
    VMS_VARRAY_UINT16 = 0x080,
    VMS_VBUFFER = 0x100,
    VMS_MULTIPLY = 0x200,
    VMS_VARRAY_UINT8 = 0x400,
    VMS_VARRAY_UINT32 = 0x800,
    VMS_MUST_EXIST = 0x1000,
    VMS_ALLOC = 0x2000,
    VMS_MULTIPLY_ELEMENTS = 0x4000,
    VMS_VSTRUCT = 0x8000,
};

struct VMStateField {
    const char *name;
    size_t offset;
    size_t size;
    size_t start;
    int num;
    size_t num_offset;
    size_t size_offset;
    const VMStateInfo *info;
    enum VMStateFlags flags;
    const VMStateDescription *vmsd;
    int version_id;
    bool (*field_exists)(void *opaque, int version_id);
};

typedef enum MigrationPriority {
    MIG_PRI_DEFAULT = 0,
    MIG_PRI_MAX,
} MigrationPriority;

struct VMStateDescription {
    const char *name;
    bool unmigratable;
    int version_id;
    int minimum_version_id;
    MigrationPriority priority;
    int (*pre_load)(void *opaque);
    int (*post_load)(void *opaque, int version_id);
    bool (*post_load_errp)(void *opaque, int version_id, Error **errp);
    int (*pre_save)(void *opaque);
    bool (*pre_save_errp)(void *opaque, Error **errp);
    int (*post_save)(void *opaque);
    bool (*needed)(void *opaque);
    const VMStateField *fields;
    const VMStateDescription * const *subsections;
};

extern const VMStateInfo vmstate_info_bool;
extern const VMStateInfo vmstate_info_int8;
extern const VMStateInfo vmstate_info_int16;
extern const VMStateInfo vmstate_info_int32;
extern const VMStateInfo vmstate_info_int64;
extern const VMStateInfo vmstate_info_uint8;
extern const VMStateInfo vmstate_info_uint16;
extern const VMStateInfo vmstate_info_uint32;
extern const VMStateInfo vmstate_info_uint64;
extern const VMStateInfo vmstate_info_buffer;
extern const VMStateInfo vmstate_info_gbytearray;

#define vmstate_offset_value(_state, _field, _type) \
    (offsetof(_state, _field) + type_check(_type, typeof_field(_state, _field)))
#define vmstate_offset_array(_state, _field, _type, _num) \
    (offsetof(_state, _field) + \
     type_check_array(_type, typeof_field(_state, _field), _num))
#define vmstate_offset_pointer(_state, _field, _type) \
    (offsetof(_state, _field) + \
     type_check_pointer(_type, typeof_field(_state, _field)))

#define VMSTATE_SINGLE_TEST(_field, _state, _test, _version, _info, _type) { \
    .name = (stringify(_field)), \
    .version_id = (_version), \
    .field_exists = (_test), \
    .size = sizeof(_type), \
    .info = &(_info), \
    .flags = VMS_SINGLE, \
    .offset = vmstate_offset_value(_state, _field, _type), \
}

#define VMSTATE_SINGLE(_field, _state, _version, _info, _type) \
    VMSTATE_SINGLE_TEST(_field, _state, NULL, _version, _info, _type)

#define VMSTATE_ARRAY(_field, _state, _num, _version, _info, _type) { \
    .name = (stringify(_field)), \
    .version_id = (_version), \
    .num = (_num), \
    .info = &(_info), \
    .size = sizeof(_type), \
    .flags = VMS_ARRAY, \
    .offset = vmstate_offset_array(_state, _field, _type, _num), \
}

/* A buffer of *_field_size bytes allocated on load (g_malloc). */
#define VMSTATE_VBUFFER_ALLOC_UINT32(_field, _state, _version, \
                                     _test, _field_size) { \
    .name = (stringify(_field)), \
    .version_id = (_version), \
    .field_exists = (_test), \
    .size_offset = vmstate_offset_value(_state, _field_size, uint32_t), \
    .info = &vmstate_info_buffer, \
    .flags = VMS_VBUFFER | VMS_POINTER | VMS_ALLOC, \
    .offset = offsetof(_state, _field), \
}

/* _max_len: the longest array a load accepts, as QEMU's macro. */
#define VMSTATE_GBYTEARRAY(_field, _state, _version, _max_len) { \
    .name = (stringify(_field)), \
    .version_id = (_version), \
    .size = (_max_len), \
    .info = &vmstate_info_gbytearray, \
    .flags = VMS_SINGLE, \
    .offset = vmstate_offset_pointer(_state, _field, GByteArray), \
}

#define VMSTATE_BOOL_V(_f, _s, _v) \
    VMSTATE_SINGLE(_f, _s, _v, vmstate_info_bool, bool)
#define VMSTATE_INT32_V(_f, _s, _v) \
    VMSTATE_SINGLE(_f, _s, _v, vmstate_info_int32, int32_t)
#define VMSTATE_UINT8_V(_f, _s, _v) \
    VMSTATE_SINGLE(_f, _s, _v, vmstate_info_uint8, uint8_t)
#define VMSTATE_UINT16_V(_f, _s, _v) \
    VMSTATE_SINGLE(_f, _s, _v, vmstate_info_uint16, uint16_t)
#define VMSTATE_UINT32_V(_f, _s, _v) \
    VMSTATE_SINGLE(_f, _s, _v, vmstate_info_uint32, uint32_t)
#define VMSTATE_UINT64_V(_f, _s, _v) \
    VMSTATE_SINGLE(_f, _s, _v, vmstate_info_uint64, uint64_t)

#define VMSTATE_BOOL(_f, _s) VMSTATE_BOOL_V(_f, _s, 0)
#define VMSTATE_INT32(_f, _s) VMSTATE_INT32_V(_f, _s, 0)
#define VMSTATE_UINT8(_f, _s) VMSTATE_UINT8_V(_f, _s, 0)
#define VMSTATE_UINT16(_f, _s) VMSTATE_UINT16_V(_f, _s, 0)
#define VMSTATE_UINT32(_f, _s) VMSTATE_UINT32_V(_f, _s, 0)
#define VMSTATE_UINT64(_f, _s) VMSTATE_UINT64_V(_f, _s, 0)

#define VMSTATE_UINT8_ARRAY(_f, _s, _n) \
    VMSTATE_ARRAY(_f, _s, _n, 0, vmstate_info_uint8, uint8_t)
#define VMSTATE_UINT32_ARRAY(_f, _s, _n) \
    VMSTATE_ARRAY(_f, _s, _n, 0, vmstate_info_uint32, uint32_t)

#define VMSTATE_END_OF_LIST() { }

/*
 * Register a description with the migration engine: sections are saved
 * and loaded in registration order, matched by name and instance id.
 */
int vmstate_register_any(Object *obj, const VMStateDescription *vmsd,
                         void *opaque);
int vmstate_register(Object *obj, int instance_id,
                     const VMStateDescription *vmsd, void *opaque);
void vmstate_unregister(Object *obj, const VMStateDescription *vmsd,
                        void *opaque);

int vmstate_save_state(QEMUFile *f, const VMStateDescription *vmsd,
                       void *opaque, Error **errp);
int vmstate_load_state(QEMUFile *f, const VMStateDescription *vmsd,
                       void *opaque, int version_id, Error **errp);

#endif /* MIGRATION_VMSTATE_H */
