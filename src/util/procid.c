/* SPDX-License-Identifier: MIT */
#include "util/procid.h"

#include <unistd.h>

static long host_pid;

long wirt_host_pid(void)
{
    return host_pid ? host_pid : (long)getpid();
}

void wirt_set_host_pid(long pid)
{
    host_pid = pid;
}

bool wirt_in_pid_namespace(void)
{
    return host_pid != 0;
}
