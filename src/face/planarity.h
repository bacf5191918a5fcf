/* planarity.h - does a face move as one plane (print, screen) or as a 3-D head?
 *
 * While the user turns the head (an active challenge), a flat attack (printed photo, cut-out,
 * photo on a phone or tablet) moves as one plane: its 2-D landmarks in any two frames are related
 * by a homography. A head shows parallax (the nose tip, the eyes and the outline move differently),
 * which no homography explains. For pairs of frames far enough apart in pose we fit two models to
 * the 2-D mesh points of the inner face: a homography (a plane) and a scaled-orthographic rotation
 * of the first frame's 3-D mesh (a head), and score which explains the deformation better.
 *
 * A video replay of a real turning head is not flat (its content has parallax): that is the job
 * of the other checks. Measurements and the choice of thresholds: docs/PLANARITY.md. */
#ifndef VF_PLANARITY_H
#define VF_PLANARITY_H

#include "face.h"

#define VF_PLANARITY_MAX_FRAMES 64
#define VF_PLANARITY_FIT_FRAMES 16   /* frames actually fitted (evenly spaced): at most 120 pairs */

typedef enum vf_planarity_outcome {
    VF_PLANARITY_UNKNOWN = 0,   /* not enough head rotation (pairs of frames min_pose apart) to tell: never a pass */
    VF_PLANARITY_3D = 1,        /* parallax that a rotating head explains: moves like a head */
    VF_PLANARITY_FLAT = 2       /* the pose changed but the points moved as one plane: a flat attack */
} vf_planarity_outcome;

/* Which mesh points a pair fit uses (compared in docs/PLANARITY.md). */
typedef enum vf_planarity_points {
    VF_PLANARITY_POINTS_INNER = 0,  /* eye corners and lids, brows, nose, lips, midline (66 points) */
    VF_PLANARITY_POINTS_OVAL = 1,   /* the face outline (36 points) */
    VF_PLANARITY_POINTS_ALL = 2     /* all 468 */
} vf_planarity_points;

typedef struct vf_planarity_config {
    float threshold;     /* score >= this: 3D, below: FLAT; default 0.25 */
    float min_pose;      /* degrees: only pairs of frames at least this far apart in (yaw, pitch) are
                          * fitted; default 15 (below it a flat photo makes FaceMesh hallucinate parallax) */
    int min_pairs;       /* fewer such pairs: UNKNOWN; default 3 */
    vf_planarity_points points;  /* default INNER */
} vf_planarity_config;

vf_planarity_config vf_planarity_default_config(void);

/* One pair of frames, a's points mapped onto b's. Residuals are RMS over the points, in units of
 * the inter-ocular distance (3-D eye-centre distance of the mesh, mean of both frames). */
typedef struct vf_planarity_pair {
    float homography;   /* best homography (normalised DLT): what a plane cannot explain */
    float rigid;        /* best scaled-orthographic rotation of a's 3-D mesh: what a head cannot explain */
    float similarity;   /* best 2-D similarity: the deformation there is to explain at all */
    float score;        /* (homography - rigid) / max(similarity, 0.01): the share of the deformation
                         * that a head explains and a plane does not; ~0.45 head, <= 0 plane */
    float pose;         /* degrees between the frames' (yaw, pitch) */
} vf_planarity_pair;

typedef struct vf_planarity_result {
    vf_planarity_outcome outcome;
    float score;        /* median pair score over the pairs used (0 when none) */
    float homography;   /* medians over the pairs used, inter-ocular units (see vf_planarity_pair) */
    float rigid;
    float motion;       /* median similarity residual */
    float yaw_range, pitch_range;  /* degrees covered by the fitted frames (max - min) */
    float pose_range;   /* largest (yaw, pitch) distance between two fitted frames, degrees */
    int frames;         /* frames given */
    int fitted_frames;  /* frames fitted (<= VF_PLANARITY_FIT_FRAMES) */
    int pairs;          /* pairs used (pose >= min_pose and a non-degenerate fit) */
} vf_planarity_result;

/* Fit one pair (a's points -> b's; pose from their landmarks). VF_E_INVALID_ARG for NULL,
 * non-finite or degenerate landmarks (no inter-ocular distance, points on a line). */
vf_status vf_planarity_pair_fit(vf_context *ctx, const vf_face_landmarks *a, const vf_face_landmarks *b,
                                vf_planarity_points points, vf_planarity_pair *out);

/* Score n (2..VF_PLANARITY_MAX_FRAMES) frames of one capture, in capture order. `pose` (may be
 * NULL) gives each frame's yaw and pitch in degrees (e.g. from a tracker); NULL = the landmarks'
 * own. cfg NULL = defaults. At most VF_PLANARITY_FIT_FRAMES frames (evenly spaced) and the pairs
 * among them at least min_pose apart are fitted; the score is the median pair score. Allocates
 * nothing (~4 KB of stack); at most 120 pairs, ~1 ms natively.
 * VF_E_INVALID_ARG (outcome UNKNOWN) for bad arguments, non-finite or degenerate landmarks or pose. */
vf_status vf_planarity_score(vf_context *ctx, const vf_face_landmarks *frames, int n, const float (*pose)[2],
                             const vf_planarity_config *cfg, vf_planarity_result *out);

#endif
