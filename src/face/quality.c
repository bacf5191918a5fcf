/* quality.c - capture quality of one camera frame: every check of vf_guidance against the
 * thresholds of vf_quality_config, from the detector boxes, the FaceMesh landmarks of the main
 * face and the image layer's region statistics of the face. docs/QUALITY.md gives each metric,
 * its threshold and where that threshold comes from (literature or our measurements).
 *
 * Per frame: about two passes over the face's pixels (the central region, its two halves, the
 * mesh box), no allocation. */
#include "face.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* A detected face other than the main one counts for MULTIPLE_FACES only when its detector box
 * is at least this fraction of the main face's width: someone beside or behind the person, not
 * a small face in the background (a poster, a passer-by across the room). Area ratio 0.16. */
#define SECOND_FACE_MIN_WIDTH_RATIO 0.40f

/* The region of brightness, contrast, glare and light asymmetry: the central fraction (each side)
 * of the mesh box, close to the largest rectangle inside the face oval (sqrt(1/2) = 0.71 of an
 * ellipse's axes). It holds forehead, eyes, nose, cheeks and mouth and leaves out the box
 * corners, which are background and hair: on the whole box, a white wall behind the head reads
 * as up to 5.7% glare on our photos (QUALITY.md), on this region at most 0.8%. */
#define FACE_REGION_FRACTION 0.70f

#define BIT(g) (1u << (g))

const char *vf_guidance_string(vf_guidance g) {
    switch (g) {
    case VF_GUIDE_OK: return "Hold it there";
    case VF_GUIDE_NO_FACE: return "Look at the camera";
    case VF_GUIDE_MULTIPLE_FACES: return "Only one person in the picture";
    case VF_GUIDE_TOO_FAR: return "Move closer";
    case VF_GUIDE_TOO_CLOSE: return "Move back a little";
    case VF_GUIDE_OFF_CENTER: return "Center your face in the oval";
    case VF_GUIDE_OCCLUDED: return "Remove anything covering your face";
    case VF_GUIDE_TURN_HEAD: return "Look straight at the camera";
    case VF_GUIDE_TILT_HEAD: return "Keep your head straight";
    case VF_GUIDE_EYES_CLOSED: return "Keep your eyes open";
    case VF_GUIDE_TOO_DARK: return "Find more light";
    case VF_GUIDE_TOO_BRIGHT: return "Too much light; avoid direct light";
    case VF_GUIDE_UNEVEN_LIGHT: return "Light your face evenly";
    case VF_GUIDE_GLARE: return "Avoid reflections on your face or glasses";
    case VF_GUIDE_BLURRY: return "Hold the camera steady and clean the lens";
    case VF_GUIDE_HOLD_STILL: return "Hold still";
    case VF_GUIDE_COUNT_: break;
    }
    return "unknown guidance";
}

/* Sources of each default: docs/QUALITY.md (measurement tables: `test_quality --measure`). */
#define VF_QF(f, lo, hi) {#f, offsetof(vf_quality_config, f), lo, hi}
static const vf_quality_field QUALITY_FIELDS[] = {
    VF_QF(min_face_width, 0, 1),    VF_QF(max_face_width, 0, 1),      VF_QF(max_center_offset, 0, 10),
    VF_QF(min_presence, 0, 1),      VF_QF(max_yaw, 0, 180),           VF_QF(max_pitch, 0, 180),
    VF_QF(max_roll, 0, 180),        VF_QF(min_eye_open, 0, 10),       VF_QF(min_brightness, 0, 255),
    VF_QF(max_brightness, 0, 255),  VF_QF(max_light_asymmetry, 0, 10), VF_QF(max_glare, 0, 1),
    VF_QF(min_sharpness, 0, 1e9f),  VF_QF(max_motion, 0, 1e6f),       VF_QF(min_sharpness_dir, 0, 1e9f),
};
/* every field of vf_quality_config is in the table (they are all floats) */
_Static_assert(sizeof QUALITY_FIELDS / sizeof QUALITY_FIELDS[0] == sizeof(vf_quality_config) / sizeof(float),
               "vf_quality_config field missing from QUALITY_FIELDS");

const vf_quality_field *vf_quality_config_fields(int *count_out) {
    if (count_out) *count_out = (int)(sizeof QUALITY_FIELDS / sizeof QUALITY_FIELDS[0]);
    return QUALITY_FIELDS;
}

vf_quality_config vf_quality_default_config(void) {
    vf_quality_config c;
    memset(&c, 0, sizeof c);
    c.min_face_width = 0.20f;       /* product choice: ~130 px across a 640 px frame */
    c.max_face_width = 0.65f;       /* product choice: the whole face with margin inside the frame */
    c.max_center_offset = 0.15f;    /* product choice: the face inside a centred guide oval */
    c.min_presence = 0.5f;          /* FaceMesh's own face-presence threshold (MediaPipe) */
    c.max_yaw = 20.0f;              /* near-frontal capture (ISO/IEC 19794-5, ICAO 9303 frontal pose) */
    c.max_pitch = 20.0f;
    c.max_roll = 15.0f;
    c.min_eye_open = 0.15f;         /* measured: open eyes >= 0.xx on our data (QUALITY.md) */
    c.min_brightness = 80.0f;       /* ISO/IEC 29794-5-style exposure guidance, common practice */
    c.max_brightness = 200.0f;
    c.max_light_asymmetry = 0.35f;  /* measured (QUALITY.md) */
    c.max_glare = 0.02f;            /* measured (QUALITY.md) */
    c.min_sharpness = 0.02f;        /* measured: sharp photos 0.1-0.4, webcam frames 0.03-0.09, Gaussian
                                     * blur of 1.5% of the face width <= 0.012 (QUALITY.md) */
    c.max_motion = 0.10f;           /* product choice: 10% of the face width between frames */
    c.min_sharpness_dir = 0.004f;   /* measured: every sharp face of our data >= 0.0043 (webcam >= 0.0067);
                                     * a 15% horizontal/vertical smear <= 0.0036 (QUALITY.md) */
    return c;
}

static vf_status check_config(vf_context *ctx, const vf_quality_config *c) {
    struct { const char *name; float v; } f[] = {
        {"min_face_width", c->min_face_width}, {"max_face_width", c->max_face_width},
        {"max_center_offset", c->max_center_offset}, {"min_presence", c->min_presence},
        {"max_yaw", c->max_yaw}, {"max_pitch", c->max_pitch}, {"max_roll", c->max_roll},
        {"min_eye_open", c->min_eye_open}, {"min_brightness", c->min_brightness},
        {"max_brightness", c->max_brightness}, {"max_light_asymmetry", c->max_light_asymmetry},
        {"max_glare", c->max_glare}, {"min_sharpness", c->min_sharpness}, {"max_motion", c->max_motion},
        {"min_sharpness_dir", c->min_sharpness_dir},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (!isfinite(f[i].v) || f[i].v < 0)
            return vf__fail(ctx, VF_E_INVALID_ARG, "quality: config %s = %g is not a finite value >= 0", f[i].name,
                            (double)f[i].v);
    if (c->min_face_width > c->max_face_width)
        return vf__fail(ctx, VF_E_INVALID_ARG, "quality: config min_face_width %g > max_face_width %g",
                        (double)c->min_face_width, (double)c->max_face_width);
    if (c->min_brightness > c->max_brightness)
        return vf__fail(ctx, VF_E_INVALID_ARG, "quality: config min_brightness %g > max_brightness %g",
                        (double)c->min_brightness, (double)c->max_brightness);
    return VF_OK;
}

/* Coordinates beyond this are no image's (VF_IMAGE_MAX_SIDE is 1.7e7): such input is rejected
 * rather than left to overflow the arithmetic below into infinities. */
#define COORD_MAX 1e8f

static int plausible_n(const float *v, int n) {
    for (int i = 0; i < n; i++)
        if (!(fabsf(v[i]) <= COORD_MAX)) return 0; /* also false for NaN */
    return 1;
}

/* Pixel rectangle covering the continuous box [x0, x1) x [y0, y1), clipped to the image;
 * 0 when less than 3x3 pixels are left (the Laplacian needs an interior). */
static int clip_rect(const vf_image *img, float x0, float y0, float x1, float y1, vf_recti *r) {
    float W = (float)img->width, H = (float)img->height;
    x0 = fmaxf(floorf(x0), 0.0f);
    y0 = fmaxf(floorf(y0), 0.0f);
    x1 = fminf(ceilf(x1), W);
    y1 = fminf(ceilf(y1), H);
    if (!(x1 - x0 >= 3.0f && y1 - y0 >= 3.0f)) return 0;
    *r = (vf_recti){(int32_t)x0, (int32_t)y0, (int32_t)(x1 - x0), (int32_t)(y1 - y0)};
    return 1;
}

/* The face's midline x: the mean of forehead, upper and lower lip and chin (mesh 10, 13, 14, 152),
 * points on the face's surface (the nose tip, in front of it, swings out when the head turns). */
static float midline_x(const vf_face_landmarks *lm) {
    return 0.25f * (lm->mesh[10][0] + lm->mesh[13][0] + lm->mesh[14][0] + lm->mesh[152][0]);
}

/* Photometric metrics of the face. Brightness, contrast and glare come from the central region
 * (FACE_REGION_FRACTION of the mesh box); light asymmetry from two mirror-image halves of it
 * either side of the face's midline (equal widths, so both hold the same parts of the face);
 * sharpness from the whole mesh box (the face's contours carry most of its detail), as the
 * Laplacian's variance on the box resized to 128 px divided by the box's luma variance, which
 * cancels exposure and contrast (a dim webcam frame is not a blurred one), and the same for the
 * weakest of four directional second differences (0/45/90/135 degrees): a motion smear removes
 * the detail along its direction only, which the Laplacian (a sum over directions) hides. Returns with *ok = 0
 * and the metrics left at 0 when the face is (almost) outside the image. */
static vf_status photometric(vf_context *ctx, const vf_image *img, const vf_face_landmarks *lm, vf_quality *q, int *ok) {
    *ok = 0;
    const float *b = lm->box;
    float cx = 0.5f * (b[0] + b[2]), cy = 0.5f * (b[1] + b[3]);
    float hw = 0.5f * FACE_REGION_FRACTION * (b[2] - b[0]), hh = 0.5f * FACE_REGION_FRACTION * (b[3] - b[1]);
    vf_recti box, r;
    if (!clip_rect(img, b[0], b[1], b[2], b[3], &box) || !clip_rect(img, cx - hw, cy - hh, cx + hw, cy + hh, &r))
        return VF_OK;

    vf_region_stats st; /* ~1 KiB (histogram): on the stack, not allocated */
    vf_region_stats_options o = vf_region_stats_default_options();
    o.laplacian_size = 4; /* the region's Laplacian is not used: the smallest grid costs least */
    vf_status s;
    if ((s = vf_image_region_stats(ctx, img, &r, &o, &st))) return s;
    q->brightness = (float)st.luma_mean;
    q->contrast = (float)st.luma_std;
    q->glare = (float)st.glare_fraction;

    /* halves of equal width w either side of the midline, inside the region; w at least a
     * quarter of the region (a head turned so far that the midline nears the edge fails
     * TURN_HEAD anyway) */
    int32_t mid = (int32_t)floorf(fminf(fmaxf(midline_x(lm), (float)r.x), (float)(r.x + r.width))) - r.x;
    int32_t q4 = r.width / 4 > 1 ? r.width / 4 : 1;
    if (mid < q4) mid = q4;
    if (mid > r.width - q4) mid = r.width - q4;
    int32_t w = mid < r.width - mid ? mid : r.width - mid;
    vf_recti left = {r.x + mid - w, r.y, w, r.height}, right = {r.x + mid, r.y, w, r.height};
    double ml, mr;
    if ((s = vf_image_region_stats(ctx, img, &left, &o, &st))) return s;
    ml = st.luma_mean;
    if ((s = vf_image_region_stats(ctx, img, &right, &o, &st))) return s;
    mr = st.luma_mean;
    double m = 0.5 * (ml + mr);
    q->light_asymmetry = m >= 1.0 ? (float)(fabs(ml - mr) / m) : 0.0f;

    o.laplacian_size = 128;
    if ((s = vf_image_region_stats(ctx, img, &box, &o, &st))) return s;
    double var = st.luma_std * st.luma_std;
    q->sharpness = var >= 1.0 ? (float)(st.laplacian_var / var) : 0.0f; /* flat: no detail at all */
    double weakest = st.second_diff_var[0];
    for (int k = 1; k < 4; k++) weakest = fmin(weakest, st.second_diff_var[k]);
    q->sharpness_dir = var >= 1.0 ? (float)(weakest / var) : 0.0f;
    *ok = 1;
    return VF_OK;
}

vf_status vf_quality_assess(vf_context *ctx, const vf_quality_config *cfg, const vf_image *img,
                            const vf_face_box *faces, int n_faces, const vf_face_landmarks *lm,
                            vf_quality_state *state, vf_quality *out) {
    if (!out) return vf__fail(ctx, VF_E_INVALID_ARG, "quality: out is NULL");
    memset(out, 0, sizeof *out);
    vf_status s = vf_image_check(ctx, img);
    if (s) return s;
    vf_quality_config c = cfg ? *cfg : vf_quality_default_config();
    if ((s = check_config(ctx, &c))) return s;
    if (n_faces < 0 || n_faces > VF_DETECT_MAX_FACES)
        return vf__fail(ctx, VF_E_INVALID_ARG, "quality: n_faces %d is not in 0..%d", n_faces, VF_DETECT_MAX_FACES);
    if (n_faces > 0 && (!faces || !lm))
        return vf__fail(ctx, VF_E_INVALID_ARG, "quality: %d faces but %s is NULL", n_faces, !faces ? "faces" : "lm");
    for (int i = 0; i < n_faces; i++) {
        const float fb[4] = {faces[i].x0, faces[i].y0, faces[i].x1, faces[i].y1};
        if (!plausible_n(fb, 4))
            return vf__fail(ctx, VF_E_INVALID_ARG, "quality: face %d has a box that is not finite (or beyond 1e8)", i);
    }
    if (n_faces > 0 && !(plausible_n(lm->box, 4) && plausible_n(lm->mesh[10], 1) && plausible_n(lm->mesh[13], 1) &&
                         plausible_n(lm->mesh[14], 1) && plausible_n(lm->mesh[152], 1) && plausible_n(&lm->presence, 1) &&
                         plausible_n(&lm->yaw, 1) && plausible_n(&lm->pitch, 1) && plausible_n(&lm->roll, 1) &&
                         plausible_n(lm->eye_open, 2)))
        return vf__fail(ctx, VF_E_INVALID_ARG, "quality: landmarks are not finite (or beyond 1e8)");

    vf_quality *q = out;
    uint32_t failed = 0;
    if (n_faces == 0) {
        failed = BIT(VF_GUIDE_NO_FACE); /* nothing else can be measured; state keeps the last face */
    } else {
        /* MULTIPLE_FACES: the main face and every other at least 40% as wide (detector boxes) */
        float main_w = faces[0].x1 - faces[0].x0;
        q->face_count = 1;
        for (int i = 1; i < n_faces; i++)
            if (faces[i].x1 - faces[i].x0 >= SECOND_FACE_MIN_WIDTH_RATIO * main_w) q->face_count++;
        if (q->face_count > 1) failed |= BIT(VF_GUIDE_MULTIPLE_FACES);

        /* geometry on the (unclipped) mesh box, relative to the frame width */
        const float *b = lm->box;
        float W = (float)img->width, H = (float)img->height;
        float fw = b[2] - b[0], cx = 0.5f * (b[0] + b[2]), cy = 0.5f * (b[1] + b[3]);
        q->face_width = fw > 0 ? fw / W : 0.0f;
        q->center_offset = hypotf(cx - 0.5f * W, cy - 0.5f * H) / W;
        if (q->face_width < c.min_face_width) failed |= BIT(VF_GUIDE_TOO_FAR);
        if (q->face_width > c.max_face_width) failed |= BIT(VF_GUIDE_TOO_CLOSE);
        if (q->center_offset > c.max_center_offset) failed |= BIT(VF_GUIDE_OFF_CENTER);

        q->presence = lm->presence;
        if (q->presence < c.min_presence) failed |= BIT(VF_GUIDE_OCCLUDED);
        q->yaw = lm->yaw;
        q->pitch = lm->pitch;
        q->roll = lm->roll;
        if (fabsf(q->yaw) > c.max_yaw || fabsf(q->pitch) > c.max_pitch) failed |= BIT(VF_GUIDE_TURN_HEAD);
        if (fabsf(q->roll) > c.max_roll) failed |= BIT(VF_GUIDE_TILT_HEAD);
        q->eye_open = fminf(lm->eye_open[0], lm->eye_open[1]);
        if (q->eye_open < c.min_eye_open) failed |= BIT(VF_GUIDE_EYES_CLOSED);

        int have_pixels;
        if ((s = photometric(ctx, img, lm, q, &have_pixels))) {
            memset(out, 0, sizeof *out);
            return s;
        }
        if (have_pixels) { /* else the face is outside the frame: OFF_CENTER has failed */
            if (q->brightness < c.min_brightness) failed |= BIT(VF_GUIDE_TOO_DARK);
            if (q->brightness > c.max_brightness) failed |= BIT(VF_GUIDE_TOO_BRIGHT);
            if (q->light_asymmetry > c.max_light_asymmetry) failed |= BIT(VF_GUIDE_UNEVEN_LIGHT);
            if (q->glare > c.max_glare) failed |= BIT(VF_GUIDE_GLARE);
            if (q->sharpness < c.min_sharpness || q->sharpness_dir < c.min_sharpness_dir) failed |= BIT(VF_GUIDE_BLURRY);
        }

        /* motion since the previous frame with a face, in face widths */
        if (state) {
            if (state->has_prev && fabsf(state->prev_cx) <= COORD_MAX && fabsf(state->prev_cy) <= COORD_MAX)
                q->motion = hypotf(cx - state->prev_cx, cy - state->prev_cy) / fmaxf(fw, 1.0f);
            if (q->motion > c.max_motion) failed |= BIT(VF_GUIDE_HOLD_STILL);
            state->has_prev = 1;
            state->prev_cx = cx;
            state->prev_cy = cy;
        }
    }

    q->failed = failed;
    q->guidance = VF_GUIDE_OK;
    for (int g = 1; g < VF_GUIDE_COUNT_; g++)
        if (failed & BIT(g)) { q->guidance = (vf_guidance)g; break; }
    return VF_OK;
}
