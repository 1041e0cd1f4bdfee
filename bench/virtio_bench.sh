#!/bin/sh
# SPDX-License-Identifier: MIT
# virtio benchmark, wirt against qemu-system-riscv64 -M virt with the same
# guest, image and devices; see bench/virtio_bench.py for what is measured.
# Usage: bench/virtio_bench.sh [wirt|qemu ...]
exec python3 "$(dirname "$0")/virtio_bench.py" "$@"
