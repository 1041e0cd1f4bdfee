/* SPDX-License-Identifier: MIT */
#include "util/size.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <strings.h>

bool parse_size(const char *text, uint64_t *out)
{
    if (!text || !isdigit((unsigned char)*text))
        return false;
    errno = 0;
    char *end;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno)
        return false;
    unsigned shift = 0;
    switch (toupper((unsigned char)*end)) {
    case 'K':
        shift = 10;
        break;
    case 'M':
        shift = 20;
        break;
    case 'G':
        shift = 30;
        break;
    case 'T':
        shift = 40;
        break;
    case 'P':
        shift = 50;
        break;
    case 'E':
        shift = 60;
        break;
    case '\0':
        break;
    default:
        return false;
    }
    if (shift) {
        end++;
        if (!strcasecmp(end, "iB"))
            end += 2;
        else if (!strcasecmp(end, "B"))
            end += 1;
    } else if (!strcasecmp(end, "B")) {
        end += 1;
    }
    if (*end)
        return false;
    if (shift && value > (UINT64_MAX >> shift))
        return false;
    *out = (uint64_t)value << shift;
    return true;
}
