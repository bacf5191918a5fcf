/* active.c - the active challenge on the server (see active.h, docs/CHALLENGE.md). */
#include "active.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

cJSON *vf_srv_challenge_json(const vf_challenge_config *cc, const char *nonce) {
    vf_challenge ch;
    vf_challenge_derive(cc, nonce, &ch);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "sequence");
    cJSON *st = cJSON_AddArrayToObject(o, "steps");
    for (int i = 0; i < ch.n_steps; i++) cJSON_AddItemToArray(st, cJSON_CreateString(vf_direction_name(ch.step[i])));
    cJSON_AddNumberToObject(o, "min_yaw", cc->min_yaw);
    cJSON_AddNumberToObject(o, "min_pitch", cc->min_pitch);
    cJSON_AddNumberToObject(o, "centre", cc->centre);
    cJSON_AddNumberToObject(o, "step_ms", cc->step_ms);
    if (ch.light) {
        cJSON *l = cJSON_AddObjectToObject(o, "light");
        cJSON *cols = cJSON_AddArrayToObject(l, "colors");
        for (int i = 0; i < ch.n_colors; i++) {
            char hex[8];
            snprintf(hex, sizeof hex, "#%02x%02x%02x", ch.color[i][0], ch.color[i][1], ch.color[i][2]);
            cJSON_AddItemToArray(cols, cJSON_CreateString(hex));
        }
        cJSON_AddNumberToObject(l, "color_ms", ch.color_ms);
    } else {
        cJSON_AddNullToObject(o, "light");
    }
    cJSON_AddNumberToObject(o, "frame_ms", VF_SRV_CHALLENGE_FRAME_MS);
    cJSON_AddNumberToObject(o, "max_frames", VF_SRV_CHALLENGE_MAX_FRAMES);
    return o;
}

static int fail(int *status, const char **code, char *msg, size_t ms, int st, const char *c, const char *m) {
    *status = st;
    *code = c;
    snprintf(msg, ms, "challenge: %s", m);
    return -1;
}

static const cJSON *item(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* Decode one challenge frame (bytes already hash-checked) into RGBA, within the limits. */
static int decode(vf_srv_worker *w, const uint8_t *b, size_t n, int width, int height, vf_image_buffer *img, int *status,
                  const char **code, char *msg, size_t ms) {
    vf_image_limits lim = vf_image_default_limits();
    lim.max_width = lim.max_height = VF_SRV_CHALLENGE_MAX_SIDE;
    lim.max_pixels = (int64_t)VF_SRV_CHALLENGE_MAX_SIDE * VF_SRV_CHALLENGE_MAX_SIDE;
    lim.max_decoder_bytes = 64u << 20;
    vf_image_info info;
    if (vf_image_probe(w->ctx, b, n, NULL, &info)) return fail(status, code, msg, ms, 422, "corrupt_image", vf_context_last_error(w->ctx));
    if (info.stored_width > VF_SRV_CHALLENGE_MAX_SIDE || info.stored_height > VF_SRV_CHALLENGE_MAX_SIDE)
        return fail(status, code, msg, ms, 422, "frame_too_large", "a challenge frame is larger than 640 px");
    if (info.stored_width != width || info.stored_height != height)
        return fail(status, code, msg, ms, 400, "bad_frames", "frame width/height differ from the image's");
    vf_image_decode_options o = vf_image_decode_default_options();
    o.format = VF_PIXEL_RGBA8;
    o.apply_orientation = 0;
    o.limits = lim;
    if (vf_image_decode(w->ctx, b, n, &o, img, NULL)) return fail(status, code, msg, ms, 422, "corrupt_image", vf_context_last_error(w->ctx));
    return 0;
}

/* The same bytes twice: a camera never sends them (its noise differs in every frame). */
static int duplicates(const cJSON *frames, const cJSON *passive) {
    int n = 0, i = 0;
    const cJSON *a, *b;
    cJSON_ArrayForEach(a, frames) {
        const char *ha = cJSON_GetObjectItemCaseSensitive(a, "sha256")->valuestring;
        int j = 0, dup = 0;
        cJSON_ArrayForEach(b, frames) {
            if (j++ < i + 1) continue;
            dup |= !strcmp(ha, cJSON_GetObjectItemCaseSensitive(b, "sha256")->valuestring);
        }
        cJSON_ArrayForEach(b, passive) {
            const cJSON *hb = cJSON_GetObjectItemCaseSensitive(b, "sha256");
            dup |= cJSON_IsString(hb) && !strcmp(ha, hb->valuestring);
        }
        n += dup;
        i++;
    }
    return n;
}

int vf_srv_challenge_check(vf_srv_worker *w, const vf_challenge_config *cc, const char *nonce, const cJSON *c,
                           const cJSON *passive_frames, vf_srv_challenge_out *out, cJSON *detail, int *status, const char **code,
                           char *msg, size_t ms) {
    memset(out, 0, sizeof *out);
    double t0 = vf_srv_mono_ms();
    vf_challenge ch;
    vf_challenge_derive(cc, nonce, &ch);
    out->r.light_corr = NAN;
    if (!c) {
        out->r.n_reasons = 1;
        out->r.reasons[0] = "challenge.no_frames";
        if (detail) {
            cJSON_AddBoolToObject(detail, "met", 0);
            cJSON_AddBoolToObject(detail, "present", 0);
            cJSON *rs = cJSON_AddArrayToObject(detail, "reasons");
            cJSON_AddItemToArray(rs, cJSON_CreateString("challenge.no_frames"));
        }
        return 0;
    }
    out->present = 1;
    const cJSON *steps = item(c, "steps"), *frames = item(c, "frames"), *ls = item(c, "light_start");
    if (!cJSON_IsObject(c) || !cJSON_IsArray(steps) || !cJSON_IsArray(frames) || !(cJSON_IsNull(ls) || cJSON_IsNumber(ls)))
        return fail(status, code, msg, ms, 400, "bad_schema", "challenge needs steps, light_start (number or null) and frames");
    int nf = cJSON_GetArraySize(frames);
    if (nf > VF_SRV_CHALLENGE_MAX_FRAMES) return fail(status, code, msg, ms, 400, "bad_frames", "more than 96 challenge frames");
    double light_start = cJSON_IsNumber(ls) ? ls->valuedouble : NAN;
    if (cJSON_IsNumber(ls) && !(isfinite(light_start) && light_start > 0 && light_start < 1e14))
        return fail(status, code, msg, ms, 400, "bad_schema", "light_start must be epoch milliseconds");
    /* the steps the page answered must be this nonce's: an honest page echoes what it was given */
    int same = cJSON_GetArraySize(steps) == ch.n_steps;
    for (int i = 0; same && i < ch.n_steps; i++) {
        const cJSON *s = cJSON_GetArrayItem(steps, i);
        same = cJSON_IsString(s) && !strcmp(s->valuestring, vf_direction_name(ch.step[i]));
    }
    /* schema of every frame before any decoding */
    const cJSON *fr;
    cJSON_ArrayForEach(fr, frames) {
        const cJSON *ix = item(fr, "index"), *t = item(fr, "timestamp"), *wd = item(fr, "width"), *ht = item(fr, "height");
        const cJSON *mime = item(fr, "mime"), *sha = item(fr, "sha256"), *data = item(fr, "data");
        if (!cJSON_IsObject(fr) || !cJSON_IsNumber(ix) || !cJSON_IsNumber(t) || !cJSON_IsNumber(wd) || !cJSON_IsNumber(ht) ||
            !cJSON_IsString(mime) || !cJSON_IsString(sha) || !cJSON_IsString(data))
            return fail(status, code, msg, ms, 400, "bad_schema", "each frame needs index, timestamp, width, height, mime, sha256, data");
        if (!isfinite(t->valuedouble) || !(wd->valuedouble >= 1 && wd->valuedouble <= 65535) || !(ht->valuedouble >= 1 && ht->valuedouble <= 65535) ||
            !(ix->valuedouble >= 0 && ix->valuedouble <= 1e6))
            return fail(status, code, msg, ms, 400, "bad_schema", "frame index 0..1e6, width and height 1..65535, finite timestamp");
        if (strcmp(mime->valuestring, "image/jpeg") && strcmp(mime->valuestring, "image/png"))
            return fail(status, code, msg, ms, 400, "bad_frames", "mime must be image/jpeg or image/png");
    }
    out->duplicates = duplicates(frames, passive_frames);
    vf_motion *m = NULL;
    if (nf >= 2 && vf_motion_create(w->engine, nf, &m))
        return fail(status, code, msg, ms, 500, "internal", vf_context_last_error(w->ctx));
    vf_challenge_obs obs[VF_SRV_CHALLENGE_MAX_FRAMES];
    cJSON *poses = detail ? cJSON_CreateArray() : NULL;
    int i = 0, rc = 0;
    cJSON_ArrayForEach(fr, frames) {
        const char *data = item(fr, "data")->valuestring;
        size_t n = 0;
        uint8_t *b = vf_srv_b64_decode(data, strlen(data), 0, &n);
        char h[65];
        if (!b || n == 0) { free(b); rc = fail(status, code, msg, ms, 400, "bad_frames", "frame data is not valid base64"); break; }
        vf_srv_sha256_hex(b, n, h);
        if (strcmp(h, item(fr, "sha256")->valuestring)) {
            free(b);
            rc = fail(status, code, msg, ms, 400, "frame_hash_mismatch", "frame sha256 does not match its bytes");
            break;
        }
        vf_image_buffer img;
        rc = decode(w, b, n, (int)item(fr, "width")->valuedouble, (int)item(fr, "height")->valuedouble, &img, status, code, msg, ms);
        free(b);
        if (rc) break;
        vf_challenge_obs *o = &obs[i];
        memset(o, 0, sizeof *o);
        o->t_ms = item(fr, "timestamp")->valuedouble;
        if (m) {
            vf_frame f = {img.width, img.height, img.stride, 4, img.data, o->t_ms};
            vf_motion_frame mf;
            if (vf_motion_push(m, &f, &mf)) { vf_image_buffer_free(&img); rc = fail(status, code, msg, ms, 500, "internal", vf_context_last_error(w->ctx)); break; }
            o->face = mf.face;
            o->yaw = mf.yaw;
            o->pitch = mf.pitch;
            memcpy(o->rgb, mf.rgb, sizeof o->rgb);
            out->faces += mf.face;
        }
        vf_image_buffer_free(&img);
        if (poses) {
            cJSON *p = cJSON_CreateArray();
            cJSON_AddItemToArray(p, cJSON_CreateNumber(o->face ? round(o->yaw * 10) / 10 : 0));
            cJSON_AddItemToArray(p, cJSON_CreateNumber(o->face ? round(o->pitch * 10) / 10 : 0));
            cJSON_AddItemToArray(poses, p);
        }
        i++;
    }
    out->frames = i;
    if (!rc && m) vf_motion_depth_of(m, &out->depth);
    vf_motion_free(m);
    if (rc) { cJSON_Delete(poses); return rc; }
    vf_challenge_depth depth = out->depth.outcome == 1 ? VF_DEPTH_3D : out->depth.outcome == 2 ? VF_DEPTH_FLAT : VF_DEPTH_UNKNOWN;
    vf_challenge_evaluate(cc, &ch, obs, nf, light_start, depth, &out->r);
    if (!same && out->r.n_reasons < VF_CHALLENGE_MAX_REASONS) {
        out->r.reasons[out->r.n_reasons++] = "challenge.mismatch";   /* answered another challenge */
        out->r.met = 0;
    }
    out->ms = vf_srv_mono_ms() - t0;
    if (detail) {
        cJSON_AddBoolToObject(detail, "met", out->r.met);
        cJSON *st = cJSON_AddArrayToObject(detail, "steps");
        for (int k = 0; k < ch.n_steps; k++) cJSON_AddItemToArray(st, cJSON_CreateString(vf_direction_name(ch.step[k])));
        cJSON_AddNumberToObject(detail, "steps_done", out->r.steps_done);
        cJSON_AddNumberToObject(detail, "frames", out->frames);
        cJSON_AddNumberToObject(detail, "faces", out->faces);
        cJSON_AddNumberToObject(detail, "duplicate_frames", out->duplicates);
        cJSON_AddStringToObject(detail, "depth", out->depth.outcome == 1 ? "3d" : out->depth.outcome == 2 ? "flat" : "unknown");
        cJSON_AddNumberToObject(detail, "depth_score", isfinite(out->depth.score) ? out->depth.score : 0);
        cJSON_AddNumberToObject(detail, "pose_range", out->depth.pose_range);
        if (isfinite(out->r.light_corr)) cJSON_AddNumberToObject(detail, "light_corr", out->r.light_corr);
        else cJSON_AddNullToObject(detail, "light_corr");
        cJSON_AddNumberToObject(detail, "light_colors", out->r.light_colors);
        cJSON *rs = cJSON_AddArrayToObject(detail, "reasons");
        for (int k = 0; k < out->r.n_reasons; k++) cJSON_AddItemToArray(rs, cJSON_CreateString(out->r.reasons[k]));
        cJSON_AddItemToObject(detail, "poses", poses);
        cJSON_AddNumberToObject(detail, "ms", out->ms);
    }
    return 0;
}
