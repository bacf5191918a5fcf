/* signals.c - the page's raw facts (PACKAGE.md section 5) mapped to reason codes. The page never
 * decides on them; a signal sends an otherwise passing attempt to review. */
#include "rerun.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

static const char *VIRTUAL_CAMERA[] = {"virtual", "obs", "manycam", "snap", "xsplit", "droidcam", "iriun", "v4l2loopback", "fake"};
static const char *SOFTWARE_GL[] = {"swiftshader", "llvmpipe", "softpipe", "software", "mesa offscreen"};

/* Case-insensitive substring; `word` matches only at word boundaries for short words ("obs" must
 * not fire on "Jobs"). */
static int has_word(const char *s, const char *word) {
    size_t n = strlen(word), l = strlen(s);
    for (size_t i = 0; i + n <= l; i++) {
        if (strncasecmp(s + i, word, n)) continue;
        if (n > 4) return 1;
        int before = i == 0 || !isalnum((unsigned char)s[i - 1]), after = i + n == l || !isalnum((unsigned char)s[i + n]);
        if (before && after) return 1;
    }
    return 0;
}

static const cJSON *obj(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }
static double num(const cJSON *o, const char *k, double dflt) {
    const cJSON *x = obj(o, k);
    return cJSON_IsNumber(x) ? x->valuedouble : dflt;
}

static int add(const char **reasons, int n, int max, const char *r, cJSON *detail, const char *fact) {
    for (int i = 0; i < n; i++) if (!strcmp(reasons[i], r)) return n;
    if (n < max) reasons[n++] = r;
    cJSON *f = cJSON_GetObjectItemCaseSensitive(detail, "signal_facts");
    if (!f) f = cJSON_AddArrayToObject(detail, "signal_facts");
    cJSON_AddItemToArray(f, cJSON_CreateString(fact));
    return n;
}

int vf_srv_signals_score(const cJSON *sig, const char **reasons, int max, cJSON *detail) {
    int n = 0;
    if (!cJSON_IsObject(sig)) return 0;
    const cJSON *cam = obj(sig, "camera"), *tim = obj(sig, "timing"), *env = obj(sig, "environment"), *page = obj(sig, "page");
    const cJSON *src = obj(sig, "source");
    if (cJSON_IsString(src) && strcmp(src->valuestring, "camera"))   /* e.g. "video_element": a file played in */
        n = add(reasons, n, max, "signal.virtual_camera", detail, "source is not a camera");
    const cJSON *label = obj(cam, "label");
    if (cJSON_IsString(label)) {
        const char *l = label->valuestring;
        for (size_t i = 0; i < sizeof VIRTUAL_CAMERA / sizeof *VIRTUAL_CAMERA; i++)
            if (has_word(l, VIRTUAL_CAMERA[i])) { n = add(reasons, n, max, "signal.virtual_camera", detail, "camera.label"); break; }
        if (strchr(l, '/') || strchr(l, '\\') || has_word(l, ".mp4") || has_word(l, ".y4m") || has_word(l, ".mjpeg"))
            n = add(reasons, n, max, "signal.virtual_camera", detail, "camera.label is a file path");
    }
    if (cJSON_IsTrue(obj(env, "webdriver"))) n = add(reasons, n, max, "signal.automation", detail, "environment.webdriver");
    if (cJSON_IsTrue(obj(env, "headless_ua"))) n = add(reasons, n, max, "signal.automation", detail, "environment.headless_ua");
    const cJSON *ua = obj(env, "user_agent");
    if (cJSON_IsString(ua) && has_word(ua->valuestring, "headlesschrome"))
        n = add(reasons, n, max, "signal.automation", detail, "environment.user_agent");
    const cJSON *gl = obj(env, "webgl_renderer");
    if (cJSON_IsString(gl))
        for (size_t i = 0; i < sizeof SOFTWARE_GL / sizeof *SOFTWARE_GL; i++)
            if (has_word(gl->valuestring, SOFTWARE_GL[i])) { n = add(reasons, n, max, "signal.software_renderer", detail, "environment.webgl_renderer"); break; }
    if (cJSON_IsObject(tim)) {
        /* duplicates are counted over the analysed frames (PACKAGE.md section 5) */
        double frames = num(tim, "analysed", num(tim, "frames", 0)), dup = num(tim, "duplicates", 0);
        double claimed = num(tim, "claimed_fps", 0), measured = num(tim, "measured_fps", 0);
        /* a live camera never repeats a frame exactly; a few repeats happen when the page reads
         * faster than the camera delivers */
        if (frames > 0 && dup > 2 && dup > 0.2 * frames) n = add(reasons, n, max, "signal.frame_timing", detail, "timing.duplicates");
        if (claimed > 0 && measured > 0 && fabs(measured - claimed) > 0.5 * claimed)
            n = add(reasons, n, max, "signal.frame_timing", detail, "timing.measured_fps");
    }
    if (cJSON_IsObject(page)) {
        if (num(page, "visibility_changes", 0) > 0 || num(page, "hidden_ms", 0) > 0 || num(page, "blur_events", 0) > 0)
            n = add(reasons, n, max, "signal.focus_lost", detail, "page");
    }
    return n;
}
