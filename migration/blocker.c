/*
 * Migration blockers: each is an Error saying why the VM cannot migrate.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "migration/blocker.h"

static GSList *migration_blockers;
static bool only_migratable;

void migrate_set_only_migratable(bool only)
{
    only_migratable = only;
}

int migrate_add_blocker_normal(Error **reasonp, Error **errp)
{
    return migrate_add_blocker(reasonp, errp);
}

int migrate_add_blocker(Error **reasonp, Error **errp)
{
    g_assert(reasonp && *reasonp);

    if (only_migratable) {
        error_propagate_prepend(errp, *reasonp,
                                "disallowing migration blocker "
                                "(--only-migratable) for: ");
        *reasonp = NULL;
        return -EACCES;
    }
    migration_blockers = g_slist_prepend(migration_blockers, *reasonp);
    return 0;
}

void migrate_del_blocker(Error **reasonp)
{
    if (*reasonp) {
        migration_blockers = g_slist_remove(migration_blockers, *reasonp);
        error_free(*reasonp);
        *reasonp = NULL;
    }
}

const Error *migration_first_blocker(void)
{
    /* The oldest blocker is the one QEMU reports. */
    GSList *last = g_slist_last(migration_blockers);

    return last ? last->data : NULL;
}
