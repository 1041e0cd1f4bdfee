/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: state files (vmm/state_file.c, docs/state-format.md).
 * The first byte (mod 3) picks what the rest of the input is:
 *   0: a file's first block, for state_file_parse_header (with the
 *      input's length as the file size);
 *   1: a machine state stream (the part the header's CRC covers), loaded
 *      into a real board that is not running (machine_load);
 *   2: patches to the board's own valid stream (3 bytes each: le16
 *      offset, a byte to XOR there; a first byte cuts the stream), so the
 *      mutations reach the harts' and devices' own checks.
 * Harts and every built-in device must refuse anything malformed with an
 * error, never crash or read past the stream.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine/board.h"
#include "state/state.h"
#include "vmm/machine_state.h"
#include "vmm/state_file.h"

static struct board *board;
static struct state_writer valid; /* the board's own state, as saved */

static void make_board(void)
{
    struct board_config cfg = {.ram_size = 16u << 20, .nharts = 2};
    char err[256];
    board = board_new(&cfg, err, sizeof(err));
    if (!board) {
        fprintf(stderr, "fuzz_state: %s\n", err);
        abort();
    }
    state_writer_init(&valid);
    machine_save(board, &valid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!board)
        make_board();
    if (size < 1)
        return 0;
    char err[512];
    if (data[0] % 3 == 2) {
        if (size < 2 || !valid.len)
            return 0;
        size_t len = valid.len - (data[1] % 8 == 0 ? data[1] % valid.len : 0);
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, valid.buf, len);
        for (size_t i = 2; len && i + 3 <= size; i += 3) {
            size_t off = (size_t)(data[i] | data[i + 1] << 8) % len;
            copy[off] ^= data[i + 2];
        }
        machine_load(board, copy, len, false, err, sizeof(err));
        free(copy);
        return 0;
    }
    if (data[0] % 3 == 0) {
        struct state_file_header h;
        uint8_t block[STATE_FILE_HEADER_SIZE] = {0};
        size_t n = size - 1 < sizeof(block) ? size - 1 : sizeof(block);
        memcpy(block, data + 1, n);
        state_file_parse_header(block, sizeof(block), size - 1, &h, err, sizeof(err));
        return 0;
    }
    machine_load(board, data + 1, size - 1, false, err, sizeof(err));
    return 0;
}
