/* challenge.h - the active liveness challenge: what one attempt must show, derived from its nonce,
 * and whether the frames show it. Plain C, no I/O, like the policy that calls it.
 *
 * A recording cannot answer it: the steps (2-3 head movements in a random order) and the screen
 * colours the page shows are drawn from the attempt's nonce, which the server issues at random
 * after the recording could have been made. The frames must show the steps in order, over time,
 * as one continuous stream; a face lit by the screen follows the colour sequence; and the head
 * must move as a 3-D object (planarity, measured by the face layer). What an attacker who knows
 * the nonce can still do (render a face that follows it) is written in docs/CHALLENGE.md.
 *
 *     vf_challenge_config cc = vf_challenge_default_config();
 *     vf_challenge ch;
 *     vf_challenge_derive(&cc, nonce, &ch);                  // server: for the reply; again to check
 *     vf_challenge_result r;
 *     vf_challenge_evaluate(&cc, &ch, obs, n, light_start_ms, &pl, &r);   // r.met, r.reasons
 */
#ifndef VF_CHALLENGE_H
#define VF_CHALLENGE_H

#include <stdint.h>

#define VF_CHALLENGE_MAX_STEPS 3
#define VF_CHALLENGE_MAX_COLORS 12
#define VF_CHALLENGE_MAX_FRAMES 96
#define VF_CHALLENGE_MAX_REASONS 8

typedef enum vf_direction { VF_DIR_LEFT = 0, VF_DIR_RIGHT = 1, VF_DIR_UP = 2, VF_DIR_DOWN = 3 } vf_direction;

typedef struct vf_challenge_config {
    int steps;                 /* head movements per challenge: 2..3 (default 2; 3 when light is off) */
    int light;                 /* 1: the page shows a colour sequence and the face must follow it (default 1) */
    int colors;                /* colours in the sequence: 4..VF_CHALLENGE_MAX_COLORS (default 8) */
    int color_ms;              /* how long each colour shows: >= 350 (default 500: two changes a second,
                                * inside WCAG 2.3.1's three flashes) */
    float min_yaw;             /* degrees a left/right step must reach (default 18) */
    float min_pitch;           /* degrees an up/down step must reach (default 12) */
    float centre;              /* |yaw| and |pitch| below this = facing the camera (default 10) */
    int step_ms;               /* time allowed for each step (default 5000) */
    int max_gap_ms;            /* largest gap between consecutive challenge frames (default 400) */
    float max_speed;           /* degrees per second the head may turn between two frames (default 360) */
    float min_light_corr;      /* face chroma vs colour sequence correlation to pass (default: measured) */
    int min_light_colors;      /* distinct colours the frames must cover (default 4) */
} vf_challenge_config;

vf_challenge_config vf_challenge_default_config(void);
/* 0 when every field is in range, else -1 and a message in err. */
int vf_challenge_config_check(const vf_challenge_config *c, char *err, int err_size);

typedef struct vf_challenge {
    int n_steps;
    vf_direction step[VF_CHALLENGE_MAX_STEPS];
    int light;                 /* the colour sequence is part of it */
    int n_colors;
    uint8_t color[VF_CHALLENGE_MAX_COLORS][3];   /* sRGB the page shows, in order */
    int color_ms;
} vf_challenge;

/* The challenge of the attempt whose nonce is `nonce` (any string; the server's is 32 random
 * bytes in base64url): SHA-256 of a domain tag and the nonce picks the steps (no step repeats
 * the previous one) and the colours (none repeats the previous one). Deterministic. */
void vf_challenge_derive(const vf_challenge_config *c, const char *nonce, vf_challenge *out);

const char *vf_direction_name(vf_direction d);          /* "left", "right", "up", "down" */

/* The direction a pose shows: VF_DIR_* when past a step's angle (the axis further past its angle
 * wins), 4 when facing the camera (both under `centre`), -1 in between. */
int vf_challenge_pose_class(const vf_challenge_config *c, float yaw, float pitch);

/* What the server measured on one challenge frame (its own re-run of detection and landmarks). */
typedef struct vf_challenge_obs {
    double t_ms;               /* the frame's timestamp (client clock, ms) */
    int face;                  /* a face was found */
    float yaw, pitch;          /* degrees; yaw > 0: the subject turned to their left; pitch > 0: chin up */
    float rgb[3];              /* mean colour of the central face region, 0..255 */
} vf_challenge_obs;

/* The head's 3-D motion over the frames, from the face layer (src/face/planarity.h). */
typedef enum vf_challenge_depth { VF_DEPTH_UNKNOWN = 0, VF_DEPTH_3D = 1, VF_DEPTH_FLAT = 2 } vf_challenge_depth;

typedef struct vf_challenge_result {
    int met;                   /* every check passed */
    int steps_done;            /* steps shown in order */
    double step_at[VF_CHALLENGE_MAX_STEPS];   /* when each was reached (frame timestamp) */
    float light_corr;          /* face chroma vs the colour sequence (NAN: light off or not measurable) */
    int light_colors;          /* distinct colours the frames covered */
    int light_latency_ms;      /* the camera's delay that fitted best */
    int n_reasons;
    const char *reasons[VF_CHALLENGE_MAX_REASONS];   /* static strings, "challenge.*" */
} vf_challenge_result;

/* Check the frames (obs, n, in the order sent) against the challenge. light_start_ms: when the
 * page showed the first colour (client clock), ignored without light. depth: the planarity
 * outcome over the same frames. Never fails: out is always filled. Reasons:
 *   challenge.no_frames      fewer than 4 frames, or frames without a face
 *   challenge.discontinuous  timestamps not increasing, a gap over max_gap_ms, or the head turning
 *                            faster than max_speed between two frames (frames cut from a recording)
 *   challenge.wrong_order    a step shown that was not the next one
 *   challenge.incomplete     not every step shown (or not back to centre in between), in time
 *   challenge.flat           the face moved as one plane (a photo or a screen held up)
 *   challenge.depth_unknown  too little motion to tell flat from 3-D
 *   challenge.light          the face did not follow the colour sequence */
void vf_challenge_evaluate(const vf_challenge_config *c, const vf_challenge *ch, const vf_challenge_obs *obs, int n,
                           double light_start_ms, vf_challenge_depth depth, vf_challenge_result *out);

#endif
