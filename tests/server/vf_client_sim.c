/* vf_client_sim.c - stands in for the browser in the server tests: decodes image files (or the
 * frames of an MJPEG file), pushes them through vf_session on the `simd` backend (the browser's),
 * and when the capture completes prints one JSON object on stdout:
 *   {"models":{...}, "result":{C result JSON}, "frames":[{"index","timestamp","width","height",
 *    "status":{C frame status JSON}, "jpeg":"<b64 of the JPEG, stb_image_write quality 92>"}]}
 * Timestamps are epoch milliseconds as the browser sends them: --t0 (default now) plus 1000/fps
 * per MJPEG frame from --start, or 100 ms per image file.
 * The node test builds and signs the package from it, exactly as the web package does.
 *
 * usage: vf_client_sim MODELS PAD_MODELS [--config FILE] [--backend simd|xnnpack|ref] [--quality Q | --qualities Q1,Q2,..]
 *                      [--t0 MS] [--mjpeg FILE --start N --max M --fps F] [FRAME.jpg ...]
 *   --config: the `config` object of the server's session response (good_frames, quality, ...)
 *   --qualities: JPEG quality of each kept frame in turn (a still re-encoded at several qualities)
 * Exit 0 with the JSON, 3 when the capture never completed, 2 on errors. */
#include "veriface.h"
#include "../../src/server/server.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_ASSERT(x) ((void)0)
#include <stb_image_write.h>

#include "../../src/image/image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../test_util.h"



static void b64(const uint8_t *p, size_t n) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        putchar(a[v >> 18 & 63]);
        putchar(a[v >> 12 & 63]);
        putchar(i + 1 < n ? a[v >> 6 & 63] : '=');
        putchar(i + 2 < n ? a[v & 63] : '=');
    }
}


/* The session config of the server's response (the same parser the server uses). */
static int load_config(const char *path, vf_session_config *c) {
    size_t n;
    uint8_t *t = path ? read_file(path, &n) : NULL;
    if (!t) return path ? -1 : 0;
    cJSON *j = cJSON_ParseWithLength((const char *)t, n);
    free(t);
    if (!j) return -1;
    const cJSON *x;
#define GI(k, d) if ((x = cJSON_GetObjectItemCaseSensitive(j, k)) && cJSON_IsNumber(x)) d = x->valueint
#define GF(k, d) if ((x = cJSON_GetObjectItemCaseSensitive(j, k)) && cJSON_IsNumber(x)) d = (float)x->valuedouble
    GI("good_frames", c->good_frames);
    GI("liveness_frames", c->liveness_frames);
    GF("live_pass", c->live_pass);
    GF("live_fail", c->live_fail);
    GI("max_frame_width", c->max_width);
    GI("max_frame_height", c->max_height);
    char err[256];
    int rc = vf_srv_quality_config_apply(cJSON_GetObjectItemCaseSensitive(j, "quality"), &c->quality, err, sizeof err);
    cJSON_Delete(j);
    return rc;
}

/* Next JPEG in an MJPEG stream (SOI .. EOI); NULL at the end. */
static const uint8_t *next_jpeg(const uint8_t *p, size_t n, size_t *pos, size_t *len) {
    size_t i = *pos;
    while (i + 1 < n && !(p[i] == 0xFF && p[i + 1] == 0xD8)) i++;
    if (i + 1 >= n) return NULL;
    size_t j = i + 2;
    while (j + 1 < n && !(p[j] == 0xFF && p[j + 1] == 0xD9)) j++;
    if (j + 1 >= n) return NULL;
    *pos = j + 2;
    *len = j + 2 - i;
    return p + i;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: vf_client_sim MODELS PAD_MODELS [options] [FRAME.jpg ...]\n"); return 2; }
    const char *config = NULL, *mjpeg = NULL;
    vf_backend be = VF_BACKEND_SIMD;
    int quality = 92, start = 0, max = 1000, nq = 0, qualities[16];
    double fps = 15, t0;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    t0 = (double)now.tv_sec * 1e3 + (double)(now.tv_nsec / 1000000);
    const char *files[256];
    int nfiles = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc) config = argv[++i];
        else if (!strcmp(argv[i], "--backend") && i + 1 < argc) { i++; be = !strcmp(argv[i], "xnnpack") ? VF_BACKEND_XNNPACK : !strcmp(argv[i], "ref") ? VF_BACKEND_REF : VF_BACKEND_SIMD; }
        else if (!strcmp(argv[i], "--quality") && i + 1 < argc) quality = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--qualities") && i + 1 < argc)
            for (char *sv, *t = strtok_r(argv[++i], ",", &sv); t && nq < 16; t = strtok_r(NULL, ",", &sv)) qualities[nq++] = atoi(t);
        else if (!strcmp(argv[i], "--t0") && i + 1 < argc) t0 = atof(argv[++i]);
        else if (!strcmp(argv[i], "--mjpeg") && i + 1 < argc) mjpeg = argv[++i];
        else if (!strcmp(argv[i], "--start") && i + 1 < argc) start = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--max") && i + 1 < argc) max = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--fps") && i + 1 < argc) fps = atof(argv[++i]);
        else if (nfiles < 256) files[nfiles++] = argv[i];
    }
    vf_context *ctx;
    vf_context_create(NULL, &ctx);
    vf_engine *e = test_engine(ctx, argv[1], argv[2], be);
    if (!e) return 2;
    vf_session_config cfg = vf_session_default_config();
    if (load_config(config, &cfg)) { fprintf(stderr, "vf_client_sim: bad --config %s\n", config); return 2; }
    vf_session *s;
    if (vf_session_create(e, &cfg, &s)) { fprintf(stderr, "vf_client_sim: session: %s\n", vf_context_last_error(ctx)); return 2; }
    size_t mn = 0, pos = 0;
    uint8_t *mj = mjpeg ? read_file(mjpeg, &mn) : NULL;
    if (mjpeg && !mj) { fprintf(stderr, "vf_client_sim: cannot read %s\n", mjpeg); return 2; }
    int complete = 0, pushed = 0;
    static char statuses[64][4096];   /* the status JSON of the last pushed frames, by index */
    for (int k = 0; !complete && pushed < max; k++) {
        size_t n = 0;
        uint8_t *own = NULL;
        const uint8_t *bytes;
        double ts;
        if (mj) {
            bytes = next_jpeg(mj, mn, &pos, &n);
            if (!bytes) break;
            if (k < start) continue;
            ts = t0 + 1000.0 * (k - start) / fps;
        } else {
            if (k >= nfiles) break;
            bytes = own = read_file(files[k], &n);
            ts = t0 + 100.0 * k;
            if (!bytes) { fprintf(stderr, "vf_client_sim: cannot read %s\n", files[k]); return 2; }
        }
        vf_image_buffer buf;
        vf_status r = vf_image_decode(ctx, bytes, n, NULL, &buf, NULL);
        free(own);
        if (r) { fprintf(stderr, "vf_client_sim: decode: %s\n", vf_context_last_error(ctx)); return 2; }
        vf_frame f = {buf.width, buf.height, buf.stride, 4, buf.data, ts};
        vf_frame_status st;
        r = vf_session_push_frame(s, &f, &st);
        vf_image_buffer_free(&buf);
        if (r) { fprintf(stderr, "vf_client_sim: push: %s\n", vf_context_last_error(ctx)); return 2; }
        pushed++;
        complete = st.complete;
        vf_frame_status_json(&st, statuses[st.index % 64], sizeof statuses[0], NULL);
        if (getenv("VF_SIM_VERBOSE")) fprintf(stderr, "frame %d: %s\n", k, vf_guidance_string(st.quality.guidance));
    }
    if (!complete) { fprintf(stderr, "vf_client_sim: capture not complete after %d frames\n", pushed); return 3; }
    vf_session_result res;
    if (vf_session_finish(s, &res)) { fprintf(stderr, "vf_client_sim: finish: %s\n", vf_context_last_error(ctx)); return 2; }
    static char json[1 << 17];
    vf_session_result_json(s, &res, json, sizeof json, NULL);
    printf("{\"models\":{");   /* by role, as the page does (vf_model_roles) */
    for (int i = 0; i < VF_ROLE_COUNT; i++) printf("%s\"%s\":\"%s\"", i ? "," : "", vf_model_roles(NULL)[i].name, vf_engine_model_hash(e, i));
    printf("},\"result\":%s,\"frames\":[", json);
    for (int i = 0; i < vf_session_kept_count(s); i++) {
        vf_frame f;
        int index;
        vf_session_kept_frame(s, i, &f, &index);
        printf("%s{\"index\":%d,\"timestamp\":%.3f,\"width\":%d,\"height\":%d,\"status\":", i ? "," : "", index, f.timestamp_ms, f.width, f.height);
        fputs(statuses[index % 64], stdout);
        membuf m = {0};
        stbi_write_jpg_to_func(mb_write, &m, f.width, f.height, f.channels, f.pixels, nq ? qualities[i % nq] : quality);
        printf(",\"jpeg\":\"");
        b64(m.p, m.n);
        printf("\"}");
        free(m.p);
    }
    printf("]}\n");
    vf_session_free(s);
    vf_engine_free(e);
    vf_context_free(ctx);
    free(mj);
    return 0;
}
