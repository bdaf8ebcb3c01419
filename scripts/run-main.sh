#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job (make run): filled in by the tpm2-tools bridge work.
echo "make run: not yet: the tpm2-tools session through the chunked interface lands with the reference driver (issue 6)."
exit 0
