/* SPDX-License-Identifier: MIT */
/*
 * `wirt serve`: the host service.  A REST API (docs/api.md) over HTTP
 * (libmicrohttpd) on an owner-only Unix socket, or on TCP with a bearer
 * token (and TLS for any address but loopback), calling the vm/ library.
 */
#ifndef WIRT_SERVE_SERVE_H
#define WIRT_SERVE_SERVE_H

/* argv[0] is "serve".  Runs until SIGINT/SIGTERM; returns the exit status. */
int serve_main(int argc, char **argv);

#endif
