/* policy.h - the decision matrix of one verification attempt: quality -> liveness -> match -> risk.
 *
 * Plain C, no HTTP and no I/O: the server gathers the facts (its own re-run, the tamper comparison,
 * the scored signals, the session's history) and asks vf_policy_decide for the outcome. Reason
 * codes are exact and internal (audit, integrator API); the user message is generic and never
 * says which fraud check fired.
 *
 *     vf_policy_config pc = vf_policy_default_config();      // per session: mode, retries, threshold
 *     vf_policy_input in = {...};                             // facts of this attempt + history
 *     vf_policy_result out;
 *     vf_policy_decide(&pc, &in, &out);                       // out.decision, out.hint, out.reasons
 */
#ifndef VF_POLICY_H
#define VF_POLICY_H

#include <stdint.h>

typedef enum vf_decision {
    VF_DECISION_APPROVE = 0,
    VF_DECISION_RETRY = 1,      /* not final: a new nonce is issued */
    VF_DECISION_CHALLENGE = 2,  /* not final: the next attempt must show a head turn */
    VF_DECISION_REVIEW = 3,     /* final: a person decides */
    VF_DECISION_REJECT = 4      /* final */
} vf_decision;

typedef enum vf_retry_hint { VF_HINT_NONE = 0, VF_HINT_QUALITY = 1, VF_HINT_LIVENESS = 2 } vf_retry_hint;

typedef enum vf_liveness_mode { VF_MODE_PASSIVE = 0, VF_MODE_ACTIVE = 1, VF_MODE_ADAPTIVE = 2 } vf_liveness_mode;

typedef struct vf_policy_config {
    vf_liveness_mode mode;
    int max_retries;           /* attempts after the first: 0..10 (default 3) */
    float live_pass;           /* liveness score >= this passes (default VF_LIVE_PASS_DEFAULT, as the session) */
    float live_fail;           /* < this fails; between: uncertain (default VF_LIVE_FAIL_DEFAULT) */
    float scrutiny_step;       /* added to live_pass per earlier non-passing liveness attempt (0.05) */
    float scrutiny_max;        /* cap of the addition (0.15) */
    int max_uncertain;         /* uncertain attempts (this one included) that send the session to review (2) */
    int max_liveness_fail;     /* failed attempts (this one included) that reject the session (2) */
    float match_threshold;     /* cosine similarity the match must reach (face_match_threshold, VF_MATCH_WEAK_DEFAULT) */
    float match_review_margin; /* below the threshold by less than this: review instead of reject (0.05) */
} vf_policy_config;

vf_policy_config vf_policy_default_config(void);

#define VF_POLICY_MAX_REASONS 24

typedef struct vf_policy_input {
    /* history of the session */
    int attempt;               /* this attempt, from 1 */
    int uncertain_before;      /* earlier attempts whose liveness was uncertain */
    int fail_before;           /* earlier attempts whose liveness failed (challenge failures included) */
    int challenge_pending;     /* this attempt had to answer a challenge (vf_policy_next_challenge) */
    int challenge_met;         /* ... and the frames show it (vf_challenge_evaluate) */
    int n_challenge;           /* why it was not met: "challenge.*" reasons of vf_challenge_result */
    const char *challenge[8];
    int challenge_passed;      /* unused (a challenge met on an earlier attempt no longer carries over) */
    /* facts of this attempt, all from the server's own numbers */
    int n_tamper;              /* tamper reasons ("tamper.liveness", ...) found by the comparison */
    const char *tamper[8];
    int quality_ok;            /* every frame good and the capture complete on the server's re-run */
    int liveness_available;    /* PAD ran (models present, no error) */
    float live_score;          /* server's median ensemble score */
    int has_reference;         /* the session has a reference embedding */
    int embedding_ok;          /* the server computed the capture's embedding */
    float similarity;          /* cosine(capture, reference) when both exist */
    int n_signals;             /* signal reasons ("signal.virtual_camera", ...) */
    const char *signals[8];
} vf_policy_input;

typedef struct vf_policy_result {
    vf_decision decision;
    vf_retry_hint hint;
    int final;                 /* approve, review, reject */
    int liveness_outcome;      /* vf_liveness_outcome under this attempt's scrutiny (0 = not run) */
    float live_threshold;      /* the pass threshold used (live_pass + scrutiny) */
    int liveness_uncertain;    /* counts toward uncertain_before of the next attempt */
    int liveness_failed;       /* counts toward fail_before of the next attempt */
    int challenge_met;         /* copied for the history */
    int n_reasons;
    const char *reasons[VF_POLICY_MAX_REASONS]; /* static strings (or the input's) */
    const char *message;       /* generic user text */
} vf_policy_result;

/* Decide. Never fails: out is always filled. The liveness stage with a challenge: not met -> a
 * liveness failure (retry, then reject); met -> the passive score may be uncertain (the challenge
 * is the evidence then) but never a fail: a strong passive "spoof" is not overruled by motion. */
void vf_policy_decide(const vf_policy_config *cfg, const vf_policy_input *in, vf_policy_result *out);

/* Whether the next attempt must answer a challenge: always in active mode (from the first
 * attempt), after a CHALLENGE decision in adaptive mode, never in passive mode. */
int vf_policy_next_challenge(const vf_policy_config *cfg, int first_attempt, vf_decision last);

const char *vf_decision_name(vf_decision d);   /* "approve", "retry", ... */
const char *vf_retry_hint_name(vf_retry_hint h); /* "none", "quality", "liveness" */
/* "passive" / "active" / "adaptive" -> mode; -1 for anything else */
int vf_liveness_mode_parse(const char *s);
const char *vf_liveness_mode_name(vf_liveness_mode m);

#endif
