/* vf_challenge_sim.c - the challenge part of a package, made from image files for the server tests
 * (what the page sends after the passive frames, docs/CHALLENGE.md): prints the JSON object
 *     {"steps":[...],"light_start":T|null,"frames":[{index,timestamp,width,height,mime,sha256,data}...]}
 *
 *   vf_challenge_sim --steps left,up [--t0 MS] [--frame-ms 100]
 *                    [--light #rrggbb,... --color-ms 500 --latency 120 --gain 0.08]
 *                    (--frames IMG... | --plane IMG)
 *
 * --frames: the images in order (e.g. a recorded head turn). --light with --gain > 0 lights each
 * frame by the colour on screen at its time minus the camera's latency (a multiplicative tint,
 * strongest at the centre: a face close to the screen); --gain 0 sends the light_start of the
 * sequence but frames that do not follow it (a recording). --plane: one photo held as a plane and
 * tilted through the steps (tests/plane_render.h): a print or a cut-out answering the challenge.
 * Frames are scaled to at most 480 px wide and sent as JPEG q85. */
#include "veriface.h"
#include "core/sha256.h"
#include "image/image.h"
#include "../plane_render.h"
#include "../test_util.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb_image_write.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct buf { uint8_t *p; size_t n, cap; } buf;
static void put(void *ctx, void *data, int size) {
    buf *b = ctx;
    if (b->n + (size_t)size > b->cap) { b->cap = (b->n + (size_t)size) * 2; b->p = realloc(b->p, b->cap); }
    memcpy(b->p + b->n, data, (size_t)size);
    b->n += (size_t)size;
}

static void b64(const uint8_t *p, size_t n) {
    static const char T[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        putchar(T[v >> 18 & 63]); putchar(T[v >> 12 & 63]);
        putchar(i + 1 < n ? T[v >> 6 & 63] : '='); putchar(i + 2 < n ? T[v & 63] : '=');
    }
}

static int load(const char *path, plane_img *out) {
    out->p = test_load_pixels(NULL, path, 3, &out->w, &out->h);
    return out->p ? 0 : -1;
}

/* Box-scale so the width is at most 480. */
static plane_img shrink(const plane_img *a) {
    int k = (a->w + 479) / 480;
    if (k < 1) k = 1;
    plane_img o = {a->w / k, a->h / k, NULL};
    o.p = malloc((size_t)o.w * o.h * 3);
    for (int y = 0; y < o.h; y++)
        for (int x = 0; x < o.w; x++)
            for (int c = 0; c < 3; c++) {
                int s = 0;
                for (int dy = 0; dy < k; dy++) for (int dx = 0; dx < k; dx++) s += a->p[((size_t)(y * k + dy) * a->w + x * k + dx) * 3 + c];
                o.p[((size_t)y * o.w + x) * 3 + c] = (uint8_t)(s / (k * k));
            }
    return o;
}

static int hexcol(const char *s, uint8_t c[3]) {
    unsigned v;
    if (s[0] != '#' || sscanf(s + 1, "%6x", &v) != 1) return -1;
    c[0] = v >> 16; c[1] = v >> 8 & 255; c[2] = v & 255;
    return 0;
}

int main(int argc, char **argv) {
    const char *steps = NULL, *plane = NULL, *light = NULL;
    double t0 = 0, frame_ms = 100, color_ms = 500, latency = 120, gain = 0.08;
    int first = 0, nf = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = argv[++i];
        else if (!strcmp(argv[i], "--t0") && i + 1 < argc) t0 = atof(argv[++i]);
        else if (!strcmp(argv[i], "--frame-ms") && i + 1 < argc) frame_ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "--light") && i + 1 < argc) light = argv[++i];
        else if (!strcmp(argv[i], "--color-ms") && i + 1 < argc) color_ms = atof(argv[++i]);
        else if (!strcmp(argv[i], "--latency") && i + 1 < argc) latency = atof(argv[++i]);
        else if (!strcmp(argv[i], "--gain") && i + 1 < argc) gain = atof(argv[++i]);
        else if (!strcmp(argv[i], "--plane") && i + 1 < argc) plane = argv[++i];
        else if (!strcmp(argv[i], "--frames")) { first = i + 1; nf = argc - first; break; }
        else { fprintf(stderr, "vf_challenge_sim: unknown argument %s\n", argv[i]); return 2; }
    }
    if (!steps || (!plane && nf < 1)) { fprintf(stderr, "usage: see the head of vf_challenge_sim.c\n"); return 2; }
    if (t0 <= 0) { struct timespec ts; clock_gettime(CLOCK_REALTIME, &ts); t0 = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6 - 20000; }
    uint8_t colors[16][3];
    int nc = 0;
    if (light) {
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", light);
        for (char *c = strtok(tmp, ","); c && nc < 16; c = strtok(NULL, ","))
            if (hexcol(c, colors[nc++])) { fprintf(stderr, "vf_challenge_sim: bad colour %s\n", c); return 2; }
    }
    /* the frames: files, or one photo tilted as a plane through the steps */
    plane_img photo = {0}, frames[96];
    int n = 0;
    if (plane) {
        if (load(plane, &photo)) { fprintf(stderr, "vf_challenge_sim: cannot read %s\n", plane); return 2; }
        char tmp[128];
        snprintf(tmp, sizeof tmp, "%s", steps);
        uint32_t rng = 7;
        double a = 210.0 / (photo.w * 0.45);   /* the face about 210 px wide in the frame */
        for (int i = 0; i < 4; i++) plane_render(&photo, a, photo.w / 2.0, photo.h / 2.0, 0, 0, 0, 0, PLANE_FOCAL, 2, &rng, &frames[n++]);
        for (char *st = strtok(tmp, ","); st; st = strtok(NULL, ","))
            for (int i = 0; i < 12 && n < 96; i++) {
                double ang = 40.0 * sin(3.14159265 * i / 11.0);
                double yaw = !strcmp(st, "left") ? -ang : !strcmp(st, "right") ? ang : 0;   /* the plane turns as a head would */
                double pitch = !strcmp(st, "up") ? -ang : !strcmp(st, "down") ? ang : 0;
                plane_render(&photo, a, photo.w / 2.0, photo.h / 2.0, yaw, pitch, 0, 0, PLANE_FOCAL, 2, &rng, &frames[n++]);
            }
        for (int i = 0; i < 4 && n < 96; i++) plane_render(&photo, a, photo.w / 2.0, photo.h / 2.0, 0, 0, 0, 0, PLANE_FOCAL, 2, &rng, &frames[n++]);
        free(photo.p);
    } else {
        for (int i = 0; i < nf && n < 96; i++) {
            plane_img a;
            if (load(argv[first + i], &a)) { fprintf(stderr, "vf_challenge_sim: cannot read %s\n", argv[first + i]); return 2; }
            frames[n++] = shrink(&a);
            free(a.p);
        }
    }
    printf("{\"steps\":[");
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s", steps);
    int k = 0;
    for (char *st = strtok(tmp, ","); st; st = strtok(NULL, ",")) printf("%s\"%s\"", k++ ? "," : "", st);
    printf("],\"light_start\":");
    if (nc) printf("%.1f", t0); else printf("null");
    printf(",\"frames\":[");
    for (int i = 0; i < n; i++) {
        plane_img *f = &frames[i];
        double t = t0 + i * frame_ms;
        int ci = nc ? (int)floor((t - latency - t0) / color_ms) : -1;
        if (ci >= 0 && ci < nc && gain > 0) {
            double cx = f->w / 2.0, cy = f->h / 2.0, rmax = 0.5 * sqrt(cx * cx * 4 + cy * cy * 4);
            for (int y = 0; y < f->h; y++)
                for (int x = 0; x < f->w; x++) {
                    double fall = 1.0 - 0.5 * fmin(1.0, sqrt((x - cx) * (x - cx) + (y - cy) * (y - cy)) / rmax);
                    for (int c = 0; c < 3; c++) {
                        uint8_t *p = f->p + ((size_t)y * f->w + x) * 3 + c;
                        double v = *p * (1.0 + gain * fall * (colors[ci][c] / 255.0 - 0.6));
                        *p = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5);
                    }
                }
        }
        buf jb = {0};
        stbi_write_jpg_to_func(put, &jb, f->w, f->h, 3, f->p, 85);
        char h[65];
        vf_sha256_hex(jb.p, jb.n, h);
        printf("%s{\"index\":%d,\"timestamp\":%.1f,\"width\":%d,\"height\":%d,\"mime\":\"image/jpeg\",\"sha256\":\"%s\",\"data\":\"", i ? "," : "",
               i, t, f->w, f->h, h);
        b64(jb.p, jb.n);
        printf("\"}");
        free(jb.p);
        free(f->p);
    }
    printf("]}\n");
    return 0;
}
