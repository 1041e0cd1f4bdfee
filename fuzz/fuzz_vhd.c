/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the VHD reader (fixed and dynamic disks; read-only): the input is an image
 * file; see fuzz_image.h for what is done with it.
 *
 * Build: make fuzz-vhd; run: tests/fuzz/test_fuzz.sh or make fuzz.
 */
#include "fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_image_input(data, size, "vpc");
}
