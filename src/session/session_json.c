/* session_json.c - canonical JSON of frame statuses and results (fixed keys, order and decimals).
 * The server parses the client's copy and compares it field by field with its own re-run. */
#include "session.h"
#include "../core/json.h"

#include <string.h>

static const char *outcome_name(vf_liveness_outcome o) {
    switch (o) {
    case VF_LIVENESS_PASS: return "pass";
    case VF_LIVENESS_UNCERTAIN: return "uncertain";
    case VF_LIVENESS_FAIL: return "fail";
    default: return "not_run";
    }
}

static void quality_json(vf_json *j, const vf_quality *q) {
    vf_json_begin(j, '{');
    vf_json_key(j, "guidance"); vf_json_int(j, q->guidance);
    vf_json_key(j, "guidance_text"); vf_json_str(j, vf_guidance_string(q->guidance));
    vf_json_key(j, "failed");
    vf_json_begin(j, '[');
    for (int g = 1; g < VF_GUIDE_COUNT_; g++) if (q->failed & (1u << g)) vf_json_int(j, g);
    vf_json_end(j, ']');
    vf_json_key(j, "face_count"); vf_json_int(j, q->face_count);
    vf_json_key(j, "face_width"); vf_json_num(j, q->face_width, 4);
    vf_json_key(j, "center_offset"); vf_json_num(j, q->center_offset, 4);
    vf_json_key(j, "presence"); vf_json_num(j, q->presence, 4);
    vf_json_key(j, "yaw"); vf_json_num(j, q->yaw, 2);
    vf_json_key(j, "pitch"); vf_json_num(j, q->pitch, 2);
    vf_json_key(j, "roll"); vf_json_num(j, q->roll, 2);
    vf_json_key(j, "eye_open"); vf_json_num(j, q->eye_open, 4);
    vf_json_key(j, "brightness"); vf_json_num(j, q->brightness, 2);
    vf_json_key(j, "contrast"); vf_json_num(j, q->contrast, 2);
    vf_json_key(j, "light_asymmetry"); vf_json_num(j, q->light_asymmetry, 4);
    vf_json_key(j, "glare"); vf_json_num(j, q->glare, 5);
    vf_json_key(j, "sharpness"); vf_json_num(j, q->sharpness, 2);
    vf_json_key(j, "motion"); vf_json_num(j, q->motion, 4);
    vf_json_key(j, "sharpness_dir"); vf_json_num(j, q->sharpness_dir, 4);
    vf_json_end(j, '}');
}

static vf_status done(vf_json *j, size_t *len_out) {
    size_t n = vf_json_finish(j);
    if (len_out) *len_out = n;
    return n < j->size ? VF_OK : VF_E_NO_MEMORY;
}

vf_status vf_frame_status_json(const vf_frame_status *st, char *buf, size_t size, size_t *len_out) {
    if (!st || (!buf && size)) return VF_E_INVALID_ARG;
    vf_json j;
    vf_json_init(&j, buf, size);
    vf_json_begin(&j, '{');
    vf_json_key(&j, "index"); vf_json_int(&j, st->index);
    vf_json_key(&j, "good"); vf_json_bool(&j, st->good);
    vf_json_key(&j, "good_streak"); vf_json_int(&j, st->good_streak);
    vf_json_key(&j, "complete"); vf_json_bool(&j, st->complete);
    vf_json_key(&j, "face_box");
    vf_json_begin(&j, '[');
    for (int k = 0; k < 4; k++) vf_json_num(&j, st->face_box[k], 1);
    vf_json_end(&j, ']');
    vf_json_key(&j, "landmarks5");
    vf_json_begin(&j, '[');
    for (int k = 0; k < 5; k++) { vf_json_begin(&j, '['); vf_json_num(&j, st->landmarks5[k][0], 1); vf_json_num(&j, st->landmarks5[k][1], 1); vf_json_end(&j, ']'); }
    vf_json_end(&j, ']');
    vf_json_key(&j, "quality"); quality_json(&j, &st->quality);
    vf_json_key(&j, "ms"); vf_json_num(&j, st->ms, 2);
    vf_json_end(&j, '}');
    return done(&j, len_out);
}

vf_status vf_session_result_json(const vf_session *s, const vf_session_result *r, char *buf, size_t size, size_t *len_out) {
    if (!s || !r || (!buf && size)) return VF_E_INVALID_ARG;
    const vf_model_role *roles = vf_model_roles(NULL);
    vf_json j;
    vf_json_init(&j, buf, size);
    vf_json_begin(&j, '{');
    vf_json_key(&j, "format"); vf_json_int(&j, 1);
    vf_json_key(&j, "engine"); vf_json_str(&j, vf_version());
    vf_json_key(&j, "frames"); vf_json_int(&j, r->frames);
    vf_json_key(&j, "chosen");
    vf_json_begin(&j, '[');
    for (int i = 0; i < r->n_chosen; i++) vf_json_int(&j, r->chosen[i]);
    vf_json_end(&j, ']');
    vf_json_key(&j, "best_quality");
    const vf_kept_frame *best = NULL;
    for (int i = 0; i < s->n_kept; i++) if (r->n_chosen && s->kept[i].index == r->chosen[0]) best = &s->kept[i];
    if (best) quality_json(&j, &best->quality); else { vf_json_begin(&j, '{'); vf_json_end(&j, '}'); }
    vf_json_key(&j, "liveness");
    vf_json_begin(&j, '{');
    vf_json_key(&j, "status"); vf_json_str(&j, r->liveness_status == VF_OK ? "ok" : r->liveness_status == VF_E_NO_MODEL ? "no_model" : "error");
    vf_json_key(&j, "outcome"); vf_json_str(&j, outcome_name(r->liveness));
    vf_json_key(&j, "score"); vf_json_num(&j, r->live_score, 4);
    vf_json_key(&j, "scores");
    vf_json_begin(&j, '[');
    int nl = r->liveness_status == VF_OK ? (s->cfg.liveness_frames < r->n_chosen ? s->cfg.liveness_frames : r->n_chosen) : 0;
    for (int i = 0; i < nl; i++) vf_json_num(&j, r->live_scores[i], 4);
    vf_json_end(&j, ']');
    /* the parts of each frame's score: MiniFASNet alone and the two cues (docs/PIPELINE.md) */
    vf_json_key(&j, "parts");
    vf_json_begin(&j, '[');
    for (int i = 0; i < nl; i++) {
        const vf_liveness_detail *d = &r->live_detail[i];
        vf_json_begin(&j, '{');
        vf_json_key(&j, "minifasnet"); vf_json_num(&j, d->minifasnet, 4);
        vf_json_key(&j, "screen_edge"); vf_json_num(&j, d->screen_edge, 4);
        vf_json_key(&j, "moire"); vf_json_num(&j, d->moire, 4);   /* null when not measured */
        vf_json_end(&j, '}');
    }
    vf_json_end(&j, ']');
    vf_json_key(&j, "pass_at"); vf_json_num(&j, s->cfg.live_pass, 4);
    vf_json_key(&j, "fail_below"); vf_json_num(&j, s->cfg.live_fail, 4);
    vf_json_end(&j, '}');
    vf_json_key(&j, "embedding");
    vf_json_begin(&j, '{');
    vf_json_key(&j, "status"); vf_json_str(&j, r->embedding_status == VF_OK ? "ok" : r->embedding_status == VF_E_NO_MODEL ? "no_model" : "error");
    vf_json_key(&j, "dim"); vf_json_int(&j, r->embedding_dim);
    vf_json_key(&j, "vector");
    vf_json_begin(&j, '[');
    for (int i = 0; r->embedding && i < r->embedding_dim; i++) vf_json_num(&j, r->embedding[i], 6);
    vf_json_end(&j, ']');
    vf_json_end(&j, '}');
    vf_json_key(&j, "models");
    vf_json_begin(&j, '{');
    for (int i = 0; i < VF_ROLE_COUNT; i++) { vf_json_key(&j, roles[i].name); vf_json_str(&j, s->e->hash[i]); }
    vf_json_end(&j, '}');
    vf_json_key(&j, "timings");
    vf_json_begin(&j, '{');
    vf_json_key(&j, "liveness_ms"); vf_json_num(&j, r->liveness_ms, 2);
    vf_json_key(&j, "embedding_ms"); vf_json_num(&j, r->embedding_ms, 2);
    vf_json_end(&j, '}');
    vf_json_end(&j, '}');
    return done(&j, len_out);
}
