#!/bin/bash
# SPDX-License-Identifier: MIT
# Runner entry point for the qcow2 crash-consistency test (crash_test.sh).
exec "$(dirname "$0")/crash_test.sh" "$@"
