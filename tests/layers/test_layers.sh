#!/bin/bash
# SPDX-License-Identifier: MIT
# Layers only point down: every #include in src/ against the floor order in
# tools/check-layers.py (docs/architecture.md, "Layers").
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python3 tools/check-layers.py
