/* static.c - the demo page and the web package at `/`, from --static DIR: GET only, MIME types by
 * extension, no path traversal (no "..", no hidden segments, and the resolved path must stay
 * inside the root), directories serve their index.html. Caching: every file has an ETag (size and
 * mtime: nothing about the host's disk) and is revalidated on each use (`no-cache`: a 304 instead
 * of the bytes, never a stale file after a deploy); a URL that names one content for good is
 * `immutable`: a `v` query argument (the package asks its models as `?v=<sha256>`), or a path under
 * /v/<hash>/ (tools/build-web's versioned alias of the package: its modules import each other by
 * relative URLs, which a query would not follow). Compression: tools/build-web writes FILE.gz beside
 * each compressible file; when the request allows gzip (and asks no Range) that file is sent as the
 * same resource with Content-Encoding: gzip and its own ETag; the server never compresses. */
#include "server.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *mime_of(const char *path) {
    static const struct { const char *ext, *type; } T[] = {
        {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"}, {".js", "text/javascript"},
        {".mjs", "text/javascript"}, {".wasm", "application/wasm"}, {".json", "application/json"},
        {".css", "text/css"}, {".vfm", "application/octet-stream"}, {".bin", "application/octet-stream"},
        {".png", "image/png"}, {".jpg", "image/jpeg"}, {".jpeg", "image/jpeg"}, {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"}, {".txt", "text/plain; charset=utf-8"}, {".map", "application/json"},
        {".md", "text/markdown; charset=utf-8"}, {".ts", "text/plain; charset=utf-8"}, {".webm", "video/webm"},
        {".mp4", "video/mp4"}, {".woff2", "font/woff2"}, {".webp", "image/webp"},
    };
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) if (!strcasecmp(dot, T[i].ext)) return T[i].type;
    return "application/octet-stream";
}

/* Percent-decoding is not needed: libmicrohttpd has already unescaped the path. */
static int safe_path(const char *u) {
    if (u[0] != '/') return 0;
    for (const char *p = u; *p; p++) {
        if (*p == '\\' || (unsigned char)*p < 0x20) return 0;
        if (p[0] == '/' && p[1] == '.') return 0;   /* "..", ".git", "./" */
    }
    return 1;
}

/* /v/ then 16..64 hex digits then /: a directory named by its content's hash. */
static int versioned_path(const char *u) {
    if (strncmp(u, "/v/", 3)) return 0;
    int n = 0;
    while ((u[3 + n] >= '0' && u[3 + n] <= '9') || (u[3 + n] >= 'a' && u[3 + n] <= 'f')) n++;
    return n >= 16 && n <= 64 && u[3 + n] == '/';
}

/* Does If-None-Match (a list of validators, or "*") name this ETag? */
static int etag_matches(const char *inm, const char *etag) {
    if (!inm) return 0;
    if (!strcmp(inm, "*")) return 1;
    size_t n = strlen(etag);
    for (const char *p = strstr(inm, etag); p; p = strstr(p + 1, etag))
        if (p[n] == 0 || p[n] == ',' || p[n] == ' ') return 1;
    return 0;
}

void vf_srv_static(vf_srv *s, const vf_srv_request *q, vf_srv_reply *r) {
    if (!s->static_root[0]) { vf_srv_reply_error(r, 404, "not_found", "no static directory configured"); return; }
    if (!safe_path(q->url) || strlen(q->url) > 1024) { vf_srv_reply_error(r, 404, "not_found", "no such file"); return; }
    char path[PATH_MAX * 2], real[PATH_MAX];
    snprintf(path, sizeof path, "%s%s", s->static_root, q->url);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        size_t n = strlen(path);
        snprintf(path + n, sizeof path - n, "%sindex.html", n && path[n - 1] == '/' ? "" : "/");
    }
    size_t rl = strlen(s->static_root);
    if (!realpath(path, real) || strncmp(real, s->static_root, rl) || (real[rl] != '/' && real[rl] != 0)) {
        vf_srv_reply_error(r, 404, "not_found", "no such file");
        return;
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (fd >= 0) close(fd);
        vf_srv_reply_error(r, 404, "not_found", "no such file");
        return;
    }
    /* the precompressed twin: a regular file beside it (not a symlink) with its file's time, give or
     * take 60 s (build-web sets it equal; a copy without timestamps, as `cp -r` makes, writes the two a
     * moment apart). A .gz whose time is far from its file's, older (a stale twin) or newer (a file
     * rolled back with its times kept), is not sent. */
    char gzp[PATH_MAX + 4];
    struct stat gst;
    int gfd = -1;
    if (snprintf(gzp, sizeof gzp, "%s.gz", real) < (int)sizeof gzp && lstat(gzp, &gst) == 0 && S_ISREG(gst.st_mode) &&
        gst.st_mtim.tv_sec + 60 >= st.st_mtim.tv_sec && gst.st_mtim.tv_sec <= st.st_mtim.tv_sec + 60) {
        r->vary = 1;
        if (q->accept_gzip && (gfd = open(gzp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0 && (fstat(gfd, &gst) || !S_ISREG(gst.st_mode))) { close(gfd); gfd = -1; }
    }
    if (gfd >= 0) { close(fd); fd = gfd; st = gst; r->content_encoding = "gzip"; }
    snprintf(r->etag, sizeof r->etag, "\"%llx-%llx%s\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec, gfd >= 0 ? "-gz" : "");
    r->cache_control = (q->version && q->version[0]) || versioned_path(q->url) ? "public, max-age=31536000, immutable" : "no-cache";
    r->content_type = mime_of(real);
    free(r->body);
    r->body = NULL;
    if (etag_matches(q->if_none_match, r->etag)) {   /* the copy the browser holds is this file */
        close(fd);
        r->body = malloc(1);
        r->len = 0;
        r->status = r->body ? 304 : 500;
        return;
    }
    r->fd = fd;
    r->fd_size = (uint64_t)st.st_size;
    r->status = 200;
}
