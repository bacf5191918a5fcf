/* policy.c - the decision matrix (see policy.h). Stages in order: tamper, quality, liveness
 * (with the challenge), match, risk signals. The first stage that is not a pass decides, so a
 * strong match can never lift a weak liveness result: the match is not even looked at then. */
#include "policy.h"
#include "veriface.h"   /* the default liveness thresholds: one definition for session and policy */

#include <string.h>

vf_policy_config vf_policy_default_config(void) {
    vf_policy_config c;
    memset(&c, 0, sizeof c);
    c.mode = VF_MODE_PASSIVE;
    c.max_retries = 3;
    c.live_pass = VF_LIVE_PASS_DEFAULT;   /* the server passes each session's own */
    c.live_fail = VF_LIVE_FAIL_DEFAULT;
    c.scrutiny_step = 0.05f;
    c.scrutiny_max = 0.15f;
    c.max_uncertain = 2;
    c.max_liveness_fail = 2;
    c.match_threshold = VF_MATCH_WEAK_DEFAULT;
    c.match_review_margin = 0.05f;
    return c;
}

/* Generic user messages: the same text for every fraud check. */
static const char MSG_APPROVE[] = "Verification complete.";
static const char MSG_RETRY_QUALITY[] = "We could not get a clear picture. Please follow the guidance and try again.";
static const char MSG_RETRY[] = "We could not complete the verification. Please try again.";
static const char MSG_CHALLENGE[] = "One more step: please follow the instruction on the screen.";
static const char MSG_REVIEW[] = "Thank you. Your verification needs a few more checks; you will be informed of the result.";
static const char MSG_REJECT[] = "We could not verify your identity.";

static void add(vf_policy_result *o, const char *r) {
    for (int i = 0; i < o->n_reasons; i++) if (!strcmp(o->reasons[i], r)) return;
    if (o->n_reasons < VF_POLICY_MAX_REASONS) o->reasons[o->n_reasons++] = r;
}

static void set(vf_policy_result *o, vf_decision d, vf_retry_hint h) {
    o->decision = d;
    o->hint = h;
    o->final = d == VF_DECISION_APPROVE || d == VF_DECISION_REVIEW || d == VF_DECISION_REJECT;
    switch (d) {
    case VF_DECISION_APPROVE: o->message = MSG_APPROVE; break;
    case VF_DECISION_RETRY: o->message = h == VF_HINT_QUALITY ? MSG_RETRY_QUALITY : MSG_RETRY; break;
    case VF_DECISION_CHALLENGE: o->message = MSG_CHALLENGE; break;
    case VF_DECISION_REVIEW: o->message = MSG_REVIEW; break;
    default: o->message = MSG_REJECT; break;
    }
}

/* A retry that the session cannot afford becomes `fallback` with reason retry.exhausted. */
static void retry_or(vf_policy_result *o, int allow, vf_retry_hint h, vf_decision fallback) {
    if (allow) { set(o, VF_DECISION_RETRY, h); return; }
    add(o, "retry.exhausted");
    set(o, fallback, VF_HINT_NONE);
}

void vf_policy_decide(const vf_policy_config *cfg, const vf_policy_input *in, vf_policy_result *o) {
    vf_policy_config c = cfg ? *cfg : vf_policy_default_config();
    memset(o, 0, sizeof *o);
    int allow_retry = in->attempt >= 1 && in->attempt <= c.max_retries;
    /* Signals are recorded whatever the outcome (audit), but only decide at the risk stage. */
    for (int i = 0; i < in->n_signals && i < 8; i++) if (in->signals[i]) add(o, in->signals[i]);

    /* 1. tamper: the client lied about what it computed, or the frames are not what it analysed */
    if (in->n_tamper > 0) {
        for (int i = 0; i < in->n_tamper && i < 8; i++) if (in->tamper[i]) add(o, in->tamper[i]);
        set(o, VF_DECISION_REJECT, VF_HINT_NONE);
        return;
    }
    /* 2. quality: the server's own re-run must find every frame good */
    if (!in->quality_ok) {
        add(o, "quality.insufficient");
        retry_or(o, allow_retry, VF_HINT_QUALITY, VF_DECISION_REJECT);
        return;
    }
    /* 3. liveness: never approve without it; the bar rises after earlier non-passing attempts */
    if (!in->liveness_available) {
        add(o, "liveness.unavailable");
        set(o, VF_DECISION_REVIEW, VF_HINT_NONE);
        return;
    }
    int earlier = in->uncertain_before + in->fail_before;
    float extra = c.scrutiny_step * (float)(earlier > 0 ? earlier : 0);
    if (extra > c.scrutiny_max) extra = c.scrutiny_max;
    o->live_threshold = c.live_pass + extra;
    if (earlier > 0 && extra > 0) add(o, "liveness.scrutiny_raised");
    float s = in->live_score;
    int outcome = s >= o->live_threshold ? 1 : s < c.live_fail ? 3 : 2; /* vf_liveness_outcome values */
    o->liveness_outcome = outcome;
    o->challenge_met = in->challenge_pending && in->challenge_met;
    if (in->challenge_pending && !in->challenge_met) {
        add(o, "challenge.failed");
        for (int i = 0; i < in->n_challenge && i < 8; i++) if (in->challenge[i]) add(o, in->challenge[i]);
        o->liveness_failed = 1;
        if (in->fail_before + 1 >= c.max_liveness_fail) { add(o, "liveness.repeated_fail"); set(o, VF_DECISION_REJECT, VF_HINT_NONE); }
        else retry_or(o, allow_retry, VF_HINT_LIVENESS, VF_DECISION_REJECT);
        return;
    }
    if (outcome == 3) {
        add(o, "liveness.fail");
        o->liveness_failed = 1;
        if (in->fail_before + 1 >= c.max_liveness_fail) { add(o, "liveness.repeated_fail"); set(o, VF_DECISION_REJECT, VF_HINT_NONE); }
        else retry_or(o, allow_retry, VF_HINT_LIVENESS, VF_DECISION_REJECT);
        return;
    }
    if (outcome == 2 && o->challenge_met) {
        /* the challenge is the evidence: 3-D motion, in the nonce's order, lit by the nonce's colours */
        add(o, "liveness.uncertain_challenge_met");
    } else if (outcome == 2) {
        add(o, "liveness.uncertain");
        o->liveness_uncertain = 1;
        if (in->uncertain_before + 1 >= c.max_uncertain) { add(o, "liveness.repeated_uncertain"); set(o, VF_DECISION_REVIEW, VF_HINT_NONE); }
        else if (!allow_retry) { add(o, "retry.exhausted"); set(o, VF_DECISION_REVIEW, VF_HINT_NONE); }
        else if (c.mode == VF_MODE_ADAPTIVE && !in->challenge_pending) set(o, VF_DECISION_CHALLENGE, VF_HINT_LIVENESS);
        else set(o, VF_DECISION_RETRY, VF_HINT_LIVENESS);
        return;
    }
    /* active mode: every attempt answers a challenge; a package without one is not enough */
    if (c.mode == VF_MODE_ACTIVE && !o->challenge_met) {
        add(o, "challenge.required");
        if (allow_retry) set(o, VF_DECISION_CHALLENGE, VF_HINT_LIVENESS);
        else { add(o, "retry.exhausted"); set(o, VF_DECISION_REVIEW, VF_HINT_NONE); }
        return;
    }
    /* 4. match against the reference (none: the session only proves a live person) */
    if (in->has_reference) {
        if (!in->embedding_ok) { add(o, "match.no_embedding"); set(o, VF_DECISION_REVIEW, VF_HINT_NONE); return; }
        if (in->similarity < c.match_threshold) {
            if (in->similarity >= c.match_threshold - c.match_review_margin) {
                add(o, "match.near_threshold");
                set(o, VF_DECISION_REVIEW, VF_HINT_NONE);
            } else {
                add(o, "match.below_threshold");
                set(o, VF_DECISION_REJECT, VF_HINT_NONE);
            }
            return;
        }
    }
    /* 5. risk: injection and automation signals send a passing attempt to a person */
    if (in->n_signals > 0) { set(o, VF_DECISION_REVIEW, VF_HINT_NONE); return; }
    set(o, VF_DECISION_APPROVE, VF_HINT_NONE);
}

int vf_policy_next_challenge(const vf_policy_config *cfg, int first_attempt, vf_decision last) {
    vf_liveness_mode m = cfg ? cfg->mode : VF_MODE_PASSIVE;
    if (m == VF_MODE_ACTIVE) return 1;
    return m == VF_MODE_ADAPTIVE && !first_attempt && last == VF_DECISION_CHALLENGE;
}

const char *vf_decision_name(vf_decision d) {
    static const char *n[] = {"approve", "retry", "challenge", "review", "reject"};
    return (unsigned)d < 5 ? n[d] : "reject";
}

const char *vf_retry_hint_name(vf_retry_hint h) {
    static const char *n[] = {"none", "quality", "liveness"};
    return (unsigned)h < 3 ? n[h] : "none";
}

int vf_liveness_mode_parse(const char *s) {
    if (!s) return -1;
    if (!strcmp(s, "passive")) return VF_MODE_PASSIVE;
    if (!strcmp(s, "active")) return VF_MODE_ACTIVE;
    if (!strcmp(s, "adaptive")) return VF_MODE_ADAPTIVE;
    return -1;
}

const char *vf_liveness_mode_name(vf_liveness_mode m) {
    static const char *n[] = {"passive", "active", "adaptive"};
    return (unsigned)m < 3 ? n[m] : "passive";
}
