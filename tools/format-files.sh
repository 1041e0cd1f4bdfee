#!/bin/bash
# SPDX-License-Identifier: MIT
# The C files .clang-format governs: every tracked *.c/*.h under src, tests,
# fuzz and bench, except tests/isa/*.h, which are assembler macro headers
# included by .S files (clang-format would mangle them as C).
cd "$(dirname "$0")/.."
git ls-files 'src/*.[ch]' 'tests/*.[ch]' 'fuzz/*.[ch]' 'bench/*.[ch]' |
    grep -v '^tests/isa/.*\.h$'
