/*
 * Device model core: DeviceState, DeviceClass, realize/unrealize/reset,
 * with the subset of QEMU's qdev API that the hosted devices use.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_CORE_QDEV_H
#define HW_CORE_QDEV_H

#include "qom/object.h"

typedef enum DeviceCategory {
    DEVICE_CATEGORY_BRIDGE,
    DEVICE_CATEGORY_USB,
    DEVICE_CATEGORY_STORAGE,
    DEVICE_CATEGORY_NETWORK,
    DEVICE_CATEGORY_INPUT,
    DEVICE_CATEGORY_DISPLAY,
    DEVICE_CATEGORY_SOUND,
    DEVICE_CATEGORY_MISC,
    DEVICE_CATEGORY_CPU,
    DEVICE_CATEGORY_WATCHDOG,
    DEVICE_CATEGORY_MAX
} DeviceCategory;

typedef struct DeviceState DeviceState;
typedef struct DeviceClass DeviceClass;
typedef struct BusState BusState;
typedef struct Property Property;
typedef struct VMStateDescription VMStateDescription;

typedef void (*DeviceRealize)(DeviceState *dev, Error **errp);
typedef void (*DeviceUnrealize)(DeviceState *dev);
typedef void (*DeviceReset)(DeviceState *dev);

#define TYPE_DEVICE "device"
OBJECT_DECLARE_TYPE(DeviceState, DeviceClass, DEVICE)

struct DeviceClass {
    ObjectClass parent_class;

    unsigned long categories[BITS_TO_LONGS(DEVICE_CATEGORY_MAX)];
    const char *fw_name;
    const char *desc;

    const Property *props_;
    uint16_t props_count_;

    /* Whether -device may create it. */
    bool user_creatable;
    bool hotpluggable;

    DeviceReset legacy_reset;
    DeviceRealize realize;
    DeviceUnrealize unrealize;

    const VMStateDescription *vmsd;
    const char *bus_type;
};

struct DeviceState {
    Object parent_obj;

    char *id;
    bool realized;
    /* Migration instance id of its vmsd, when one is registered. */
    int instance_id_alias;
};

/*
 * device_class_set_props: install a class's static properties. The array
 * size is taken at compile time, as in QEMU 9.2 and later.
 */
#define device_class_set_props(dc, props) \
    device_class_set_props_n((dc), (props), ARRAY_SIZE(props))
void device_class_set_props_n(DeviceClass *dc, const Property *props,
                              size_t n);
void device_class_set_legacy_reset(DeviceClass *dc, DeviceReset dev_reset);

DeviceState *qdev_new(const char *name);
DeviceState *qdev_try_new(const char *name);
/* Realize a device; bus is always NULL here (no buses are modelled). */
bool qdev_realize(DeviceState *dev, BusState *bus, Error **errp);
bool qdev_realize_and_unref(DeviceState *dev, BusState *bus, Error **errp);
void qdev_unrealize(DeviceState *dev);

/* Reset one device through its class hook (legacy_reset). */
void device_cold_reset(DeviceState *dev);

/* Migration-blocked check at start-up: see migration/blocker.h. */
const char *qdev_fw_name(DeviceState *dev);

#endif /* HW_CORE_QDEV_H */
