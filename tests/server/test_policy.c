/* test_policy.c - the decision matrix, table-driven: one row per situation, with the expected
 * decision, hint and the reason codes that must (and must not) be present; plus the message rule
 * (user messages never name the fraud check that fired). */
#include "policy.h"
#include "veriface.h"   /* VF_MATCH_WEAK_DEFAULT */

#include <stdio.h>
#include <string.h>

static int g_pass, g_fail;

typedef struct row {
    const char *name;
    vf_liveness_mode mode;
    int max_retries;
    vf_policy_input in;
    vf_decision want;
    vf_retry_hint hint;
    const char *must[4];      /* reasons that must be present */
    const char *must_not[2];
} row;

/* A clean, passing attempt 1 with a reference; rows change what they test. */
#define OK_IN .attempt = 1, .quality_ok = 1, .liveness_available = 1, .live_score = 0.95f, .has_reference = 1, \
              .embedding_ok = 1, .similarity = 0.80f

static const row ROWS[] = {
    {"clean pass approves", VF_MODE_PASSIVE, 3, {OK_IN}, VF_DECISION_APPROVE, VF_HINT_NONE, {0}, {"match.below_threshold"}},
    {"no reference: liveness alone approves", VF_MODE_PASSIVE, 3, {OK_IN, .has_reference = 0, .similarity = 0}, VF_DECISION_APPROVE, VF_HINT_NONE, {0}, {0}},
    {"tamper rejects even a perfect capture", VF_MODE_PASSIVE, 3, {OK_IN, .n_tamper = 1, .tamper = {"tamper.liveness"}}, VF_DECISION_REJECT, VF_HINT_NONE, {"tamper.liveness"}, {0}},
    {"tamper outranks bad quality", VF_MODE_PASSIVE, 3, {OK_IN, .quality_ok = 0, .n_tamper = 1, .tamper = {"tamper.quality"}}, VF_DECISION_REJECT, VF_HINT_NONE, {"tamper.quality"}, {"quality.insufficient"}},
    {"bad quality retries with the quality hint", VF_MODE_PASSIVE, 3, {OK_IN, .quality_ok = 0}, VF_DECISION_RETRY, VF_HINT_QUALITY, {"quality.insufficient"}, {0}},
    {"bad quality without retries left rejects", VF_MODE_PASSIVE, 1, {OK_IN, .attempt = 2, .quality_ok = 0}, VF_DECISION_REJECT, VF_HINT_NONE, {"quality.insufficient", "retry.exhausted"}, {0}},
    {"max_retries 0: first bad quality is final", VF_MODE_PASSIVE, 0, {OK_IN, .quality_ok = 0}, VF_DECISION_REJECT, VF_HINT_NONE, {"retry.exhausted"}, {0}},
    {"no PAD model never approves", VF_MODE_PASSIVE, 3, {OK_IN, .liveness_available = 0}, VF_DECISION_REVIEW, VF_HINT_NONE, {"liveness.unavailable"}, {0}},
    {"liveness fail retries (generic hint)", VF_MODE_PASSIVE, 3, {OK_IN, .live_score = 0.05f}, VF_DECISION_RETRY, VF_HINT_LIVENESS, {"liveness.fail"}, {0}},
    {"second liveness fail rejects", VF_MODE_PASSIVE, 3, {OK_IN, .attempt = 2, .fail_before = 1, .live_score = 0.05f}, VF_DECISION_REJECT, VF_HINT_NONE, {"liveness.fail", "liveness.repeated_fail"}, {0}},
    {"liveness fail without retries rejects", VF_MODE_PASSIVE, 0, {OK_IN, .live_score = 0.05f}, VF_DECISION_REJECT, VF_HINT_NONE, {"liveness.fail", "retry.exhausted"}, {0}},
    {"strong match never lifts a failed liveness", VF_MODE_PASSIVE, 3, {OK_IN, .live_score = 0.05f, .similarity = 0.99f}, VF_DECISION_RETRY, VF_HINT_LIVENESS, {"liveness.fail"}, {0}},
    {"strong match never lifts an uncertain liveness", VF_MODE_PASSIVE, 3, {OK_IN, .live_score = 0.50f, .similarity = 0.99f}, VF_DECISION_RETRY, VF_HINT_LIVENESS, {"liveness.uncertain"}, {0}},
    {"uncertain in adaptive mode: challenge", VF_MODE_ADAPTIVE, 3, {OK_IN, .live_score = 0.50f}, VF_DECISION_CHALLENGE, VF_HINT_LIVENESS, {"liveness.uncertain"}, {0}},
    {"uncertain twice: review (scrutiny)", VF_MODE_PASSIVE, 3, {OK_IN, .attempt = 2, .uncertain_before = 1, .live_score = 0.50f}, VF_DECISION_REVIEW, VF_HINT_NONE, {"liveness.repeated_uncertain"}, {0}},
    {"uncertain, challenge met: the challenge is the evidence", VF_MODE_ADAPTIVE, 3, {OK_IN, .attempt = 2, .uncertain_before = 1, .challenge_pending = 1, .challenge_met = 1, .live_score = 0.50f}, VF_DECISION_APPROVE, VF_HINT_NONE, {"liveness.uncertain_challenge_met"}, {"liveness.uncertain"}},
    {"fail, challenge met: a strong spoof score is not overruled", VF_MODE_ADAPTIVE, 3, {OK_IN, .attempt = 2, .uncertain_before = 1, .challenge_pending = 1, .challenge_met = 1, .live_score = 0.02f}, VF_DECISION_RETRY, VF_HINT_LIVENESS, {"liveness.fail"}, {0}},
    {"challenge not met: its exact reasons", VF_MODE_ADAPTIVE, 3, {OK_IN, .attempt = 2, .uncertain_before = 1, .challenge_pending = 1, .challenge_met = 0, .n_challenge = 2, .challenge = {"challenge.flat", "challenge.light"}}, VF_DECISION_RETRY, VF_HINT_LIVENESS, {"challenge.failed", "challenge.flat", "challenge.light"}, {0}},
    {"uncertain, no retries left: review", VF_MODE_PASSIVE, 0, {OK_IN, .live_score = 0.50f}, VF_DECISION_REVIEW, VF_HINT_NONE, {"liveness.uncertain", "retry.exhausted"}, {0}},
    {"scrutiny: a score that passed on attempt 1 is uncertain after an earlier failure", VF_MODE_PASSIVE, 3,
     {OK_IN, .attempt = 2, .fail_before = 1, .live_score = 0.63f}, VF_DECISION_RETRY, VF_HINT_LIVENESS, {"liveness.uncertain", "liveness.scrutiny_raised"}, {0}},
    {"same score passes on attempt 1", VF_MODE_PASSIVE, 3, {OK_IN, .live_score = 0.63f}, VF_DECISION_APPROVE, VF_HINT_NONE, {0}, {"liveness.scrutiny_raised"}},
    {"challenge not met: retry", VF_MODE_ADAPTIVE, 3, {OK_IN, .attempt = 2, .uncertain_before = 1, .challenge_pending = 1, .challenge_met = 0}, VF_DECISION_RETRY, VF_HINT_LIVENESS, {"challenge.failed"}, {0}},
    {"challenge met and pass: approve", VF_MODE_ADAPTIVE, 3, {OK_IN, .attempt = 2, .uncertain_before = 1, .challenge_pending = 1, .challenge_met = 1, .live_score = 0.95f}, VF_DECISION_APPROVE, VF_HINT_NONE, {"liveness.scrutiny_raised"}, {0}},
    {"active mode: a passive pass needs the challenge", VF_MODE_ACTIVE, 3, {OK_IN}, VF_DECISION_CHALLENGE, VF_HINT_LIVENESS, {"challenge.required"}, {0}},
    {"active mode: challenge met approves", VF_MODE_ACTIVE, 3, {OK_IN, .attempt = 2, .challenge_pending = 1, .challenge_met = 1}, VF_DECISION_APPROVE, VF_HINT_NONE, {0}, {0}},
    {"match below threshold rejects", VF_MODE_PASSIVE, 3, {OK_IN, .similarity = 0.20f}, VF_DECISION_REJECT, VF_HINT_NONE, {"match.below_threshold"}, {0}},
    {"match just below threshold: review", VF_MODE_PASSIVE, 3, {OK_IN, .similarity = VF_MATCH_WEAK_DEFAULT - 0.02f}, VF_DECISION_REVIEW, VF_HINT_NONE, {"match.near_threshold"}, {0}},
    {"reference but no embedding: review", VF_MODE_PASSIVE, 3, {OK_IN, .embedding_ok = 0}, VF_DECISION_REVIEW, VF_HINT_NONE, {"match.no_embedding"}, {0}},
    {"virtual camera sends a pass to review", VF_MODE_PASSIVE, 3, {OK_IN, .n_signals = 1, .signals = {"signal.virtual_camera"}}, VF_DECISION_REVIEW, VF_HINT_NONE, {"signal.virtual_camera"}, {0}},
    {"signals are recorded on a retry too", VF_MODE_PASSIVE, 3, {OK_IN, .quality_ok = 0, .n_signals = 1, .signals = {"signal.automation"}}, VF_DECISION_RETRY, VF_HINT_QUALITY, {"signal.automation", "quality.insufficient"}, {0}},
    {"match reject outranks signals", VF_MODE_PASSIVE, 3, {OK_IN, .similarity = 0.1f, .n_signals = 1, .signals = {"signal.focus_lost"}}, VF_DECISION_REJECT, VF_HINT_NONE, {"match.below_threshold", "signal.focus_lost"}, {0}},
};

static int has(const vf_policy_result *o, const char *r) {
    for (int i = 0; i < o->n_reasons; i++) if (!strcmp(o->reasons[i], r)) return 1;
    return 0;
}

int main(void) {
    for (size_t i = 0; i < sizeof ROWS / sizeof ROWS[0]; i++) {
        const row *t = &ROWS[i];
        vf_policy_config c = vf_policy_default_config();
        c.mode = t->mode;
        c.max_retries = t->max_retries;
        c.live_pass = 0.62f;
        vf_policy_result o;
        vf_policy_decide(&c, &t->in, &o);
        int ok = o.decision == t->want && o.hint == t->hint;
        for (int k = 0; k < 4 && t->must[k]; k++) ok &= has(&o, t->must[k]);
        for (int k = 0; k < 2 && t->must_not[k]; k++) ok &= !has(&o, t->must_not[k]);
        ok &= o.final == (t->want == VF_DECISION_APPROVE || t->want == VF_DECISION_REVIEW || t->want == VF_DECISION_REJECT);
        /* the user message is generic: it never names a check */
        ok &= o.message && !strstr(o.message, "liveness") && !strstr(o.message, "tamper") && !strstr(o.message, "camera") &&
              !strstr(o.message, "match") && !strstr(o.message, "spoof");
        if (ok) g_pass++;
        else {
            g_fail++;
            printf("FAIL %s: got %s/%s, want %s/%s; reasons:", t->name, vf_decision_name(o.decision), vf_retry_hint_name(o.hint),
                   vf_decision_name(t->want), vf_retry_hint_name(t->hint));
            for (int k = 0; k < o.n_reasons; k++) printf(" %s", o.reasons[k]);
            printf("\n");
        }
    }
    /* every fraud outcome of the same stage shows the same text */
    vf_policy_config c = vf_policy_default_config();
    vf_policy_input a = {OK_IN, .n_tamper = 1, .tamper = {"tamper.embedding"}}, b = {OK_IN, .similarity = 0.1f};
    vf_policy_result ra, rb;
    vf_policy_decide(&c, &a, &ra);
    vf_policy_decide(&c, &b, &rb);
    if (ra.message == rb.message) g_pass++; else { g_fail++; printf("FAIL: tamper and match rejections show different messages\n"); }
    /* when the next attempt answers a challenge */
    vf_policy_config pa = vf_policy_default_config(), pd = pa, pp = pa;
    pa.mode = VF_MODE_ACTIVE; pd.mode = VF_MODE_ADAPTIVE; pp.mode = VF_MODE_PASSIVE;
    int nc_ok = vf_policy_next_challenge(&pa, 1, VF_DECISION_RETRY) && vf_policy_next_challenge(&pa, 0, VF_DECISION_RETRY) &&
                !vf_policy_next_challenge(&pd, 1, VF_DECISION_RETRY) && vf_policy_next_challenge(&pd, 0, VF_DECISION_CHALLENGE) &&
                !vf_policy_next_challenge(&pd, 0, VF_DECISION_RETRY) && !vf_policy_next_challenge(&pp, 0, VF_DECISION_CHALLENGE);
    if (nc_ok) g_pass++; else { g_fail++; printf("FAIL: vf_policy_next_challenge\n"); }
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
