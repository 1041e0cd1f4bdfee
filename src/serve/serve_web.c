/* SPDX-License-Identifier: MIT */
/*
 * The web UI's side of `wirt serve`: its static files, the login that
 * turns the bearer token into a cookie, and the checks that keep other
 * web sites from using that cookie (CSRF).
 *
 * The files are ours (web/) plus xterm.js and noVNC, pinned in
 * web/package-lock.json and copied into build/web by `make web`; the
 * browser never fetches anything from elsewhere, and the Content Security
 * Policy says so.
 */
#include "serve/serve_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#define WEB_MAX_FILE (16u << 20)

/* Constant time in the token's length: no timing oracle. */
static bool token_equal(const char *given, const char *token)
{
    size_t n = strlen(token);
    if (!given || n == 0 || strlen(given) != n)
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(given[i] ^ token[i]);
    return diff == 0;
}

enum serve_auth serve_web_auth(const struct serve *sv, struct MHD_Connection *c)
{
    if (!sv->tcp)
        return SERVE_AUTH_SOCKET;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (h && !strncmp(h, "Bearer ", 7) && token_equal(h + 7, sv->token))
        return SERVE_AUTH_BEARER;
    const char *cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SERVE_COOKIE);
    if (token_equal(cookie, sv->token))
        return SERVE_AUTH_COOKIE;
    return SERVE_AUTH_NONE;
}

bool serve_web_same_origin(struct MHD_Connection *c, const char *method, const char **why)
{
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (origin) {
        const char *sep = strstr(origin, "://");
        if (!host || !sep || strcmp(sep + 3, host)) {
            *why = "the request comes from another origin";
            return false;
        }
    }
    bool reads = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    if (!reads && !MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Wirt-Request")) {
        *why = "a browser request that changes something needs the X-Wirt-Request header";
        return false;
    }
    if (!origin && MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upgrade")) {
        *why = "a WebSocket without an Origin header";
        return false;
    }
    return true;
}

void serve_web_locate(struct serve *sv, const char *given)
{
    if (given) {
        snprintf(sv->web_dir, sizeof(sv->web_dir), "%s", given);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    sv->web_dir[0] = '\0';
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0';
    char index[PATH_MAX + 32];
    snprintf(index, sizeof(index), "%s/web/index.html", exe);
    if (strlen(exe) + 5 < sizeof(sv->web_dir) && access(index, R_OK) == 0)
        snprintf(sv->web_dir, sizeof(sv->web_dir), "%.*s/web", (int)(sizeof(sv->web_dir) - 5), exe);
}

bool serve_web_handles(const char *url)
{
    return !strcmp(url, "/") || !strncmp(url, "/ui/", 4) || !strcmp(url, "/login") ||
           !strcmp(url, "/logout");
}

/* A path inside the web directory: plain names only, nothing hidden and
 * no way up. */
static bool web_path_ok(const char *rel)
{
    size_t n = strlen(rel);
    if (n == 0 || n > 200)
        return false;
    const char *component = rel;
    for (const char *p = rel; *p; p++) {
        char ch = *p;
        bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                     (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_' || ch == '/';
        if (!plain)
            return false;
        if (p == component && (ch == '.' || ch == '/'))
            return false; /* "..", ".hidden", "//" */
        if (ch == '/')
            component = p + 1;
    }
    return *component != '\0';
}

static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".map", "application/json"},
        {".woff2", "font/woff2"},
        {".ttf", "font/ttf"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(dot, types[i].ext))
            return types[i].type;
    return "application/octet-stream";
}

static void security_headers(struct MHD_Response *r)
{
    /* Everything from this server; xterm.js styles its rows inline. */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                            "img-src 'self' data: blob:; connect-src 'self'; "
                            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

static enum MHD_Result send_file(struct serve *sv, struct MHD_Connection *c, const char *rel)
{
    if (!sv->web_dir[0])
        return serve_send_error(c, 404,
                                "the web UI is not built: run `make web` (or give wirt serve "
                                "--web DIR)");
    if (!web_path_ok(rel))
        return serve_send_error(c, 404, "no such file");
    char path[PATH_MAX + 256];
    snprintf(path, sizeof(path), "%s/%s", sv->web_dir, rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat s;
    if (fd < 0 || fstat(fd, &s) != 0 || !S_ISREG(s.st_mode) || (uint64_t)s.st_size > WEB_MAX_FILE) {
        if (fd >= 0)
            close(fd);
        return serve_send_error(c, 404, "no such file");
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)s.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", content_type(rel));
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    security_headers(r);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_cookie(struct serve *sv, struct MHD_Connection *c, const char *value,
                                   int max_age)
{
    char cookie[256];
    snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
             SERVE_COOKIE, value, max_age, sv->tls ? "; Secure" : "");
    static const char ok[] = "{\"ok\":true}";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof(ok) - 1, (void *)ok, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Set-Cookie", cookie);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* POST /login {"token": "..."}: the token the service printed (or
 * STORE/serve.token) becomes an HttpOnly, SameSite=Strict cookie, so the
 * page's scripts never hold it and other sites cannot send it. */
static enum MHD_Result login(struct serve *sv, struct MHD_Connection *c, const char *body,
                             size_t body_len)
{
    const char *why = NULL;
    if (!serve_web_same_origin(c, "POST", &why))
        return serve_send_error(c, 403, "login: %s", why);
    if (!sv->tcp)
        return send_cookie(sv, c, "socket", 3600); /* the socket's mode is the check */
    json_object *o = body_len ? json_tokener_parse(body) : NULL;
    json_object *t = NULL;
    bool ok = o && json_object_is_type(o, json_type_object) &&
              json_object_object_get_ex(o, "token", &t) &&
              json_object_is_type(t, json_type_string) &&
              token_equal(json_object_get_string(t), sv->token);
    json_object_put(o);
    if (!ok)
        return serve_send_error(c, 401, "login: wrong token (see STORE/serve.token)");
    return send_cookie(sv, c, sv->token, 7 * 24 * 3600);
}

enum MHD_Result serve_web(struct serve *sv, struct MHD_Connection *c, const char *method,
                          const char *url, const char *body, size_t body_len)
{
    if (!strcmp(url, "/login")) {
        if (strcmp(method, "POST"))
            return serve_send_error(c, 405, "login: use POST");
        return login(sv, c, body, body_len);
    }
    if (!strcmp(url, "/logout")) {
        if (strcmp(method, "GET") && strcmp(method, "POST"))
            return serve_send_error(c, 405, "logout: use GET or POST");
        return send_cookie(sv, c, "", 0);
    }
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return serve_send_error(c, 405, "%s: the UI's files are read-only", url);
    return send_file(sv, c, !strcmp(url, "/") ? "index.html" : url + 4);
}
