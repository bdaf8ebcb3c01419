/*
 * Migration blockers: reasons that make the VM unmigratable.
 *
 * Copyright (c) 2026 The tpm-crb-chunk authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef MIGRATION_BLOCKER_H
#define MIGRATION_BLOCKER_H

/*
 * Add *reasonp as a blocker. Fails (and frees *reasonp, setting it NULL)
 * when -only-migratable is in effect, with errp saying why. Returns 0 on
 * success, negative on failure.
 */
int migrate_add_blocker(Error **reasonp, Error **errp);
int migrate_add_blocker_normal(Error **reasonp, Error **errp);
/* Remove and free the blocker; *reasonp becomes NULL. */
void migrate_del_blocker(Error **reasonp);
/* The first blocker, or NULL when migration is allowed. */
const Error *migration_first_blocker(void);
/* Set by -only-migratable. */
void migrate_set_only_migratable(bool only);

#endif /* MIGRATION_BLOCKER_H */
