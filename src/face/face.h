/* face.h - the face layer (internal API): detection, landmarks, quality, liveness, embedding.
 * Each stage takes its model(s) as vf_model handles and images as vf_image views; results are
 * plain structs in image pixel coordinates. Nothing here allocates per frame. */
#ifndef VF_FACE_H
#define VF_FACE_H

#include "../image/image.h"
#include "veriface.h"

#define VF_DETECT_MAX_FACES 16
#define VF_DETECT_KEYPOINTS 6

/* BlazeFace keypoints, in the subject's frame: right eye, left eye, nose tip, mouth centre,
 * right ear tragion, left ear tragion ("right" = the subject's right = image left when facing
 * the camera). */
typedef enum { VF_KP_RIGHT_EYE = 0, VF_KP_LEFT_EYE, VF_KP_NOSE, VF_KP_MOUTH, VF_KP_RIGHT_EAR, VF_KP_LEFT_EAR } vf_kp;

typedef struct vf_face_box {
    float x0, y0, x1, y1;                  /* image pixels (continuous coordinates) */
    float score;                           /* 0..1 */
    float kp[VF_DETECT_KEYPOINTS][2];      /* image pixels */
} vf_face_box;

typedef struct vf_detect_options {
    float min_score;       /* candidates below are dropped; default 0.5 (MediaPipe short range) */
    float iou_threshold;   /* weighted NMS merge threshold; default 0.3 (MediaPipe) */
    int max_faces;         /* 1..VF_DETECT_MAX_FACES; default VF_DETECT_MAX_FACES */
} vf_detect_options;

vf_detect_options vf_detect_default_options(void);

/* Run the BlazeFace front-camera detector (models/blazeface-front.vfm) on `img`: the image is
 * letterboxed into the 128x128 input (aspect kept, black bars), the 896 anchors decoded, weighted
 * NMS applied. Faces come out by descending score; *n_out may be 0. */
vf_status vf_detect_faces(vf_context *ctx, vf_model *detector, const vf_image *img, const vf_detect_options *opt,
                          vf_face_box *faces, int *n_out);

/* ---- landmarks (landmarks.c) ---------------------------------------------------------------- */

#define VF_MESH_POINTS 468

typedef struct vf_face_landmarks {
    float mesh[VF_MESH_POINTS][3];   /* image pixels (x, y) and relative depth z (pixels, + away) */
    float presence;                  /* FaceMesh face-presence probability 0..1 */
    float five[5][2];                /* right eye centre, left eye centre, nose tip, right and left
                                      * mouth corners ("right" = the subject's right) */
    float yaw, pitch, roll;          /* degrees; yaw > 0: subject turned to their left (image right),
                                      * pitch > 0: chin up, roll > 0: clockwise in the image */
    float eye_open[2];               /* eye aspect ratio (lid gap / eye width), right and left; ~0.25-0.35 open, < 0.15 closed */
    float mouth_open;                /* lip gap / mouth width */
    float box[4];                    /* tight box around the mesh: x0, y0, x1, y1 */
} vf_face_landmarks;

/* Run FaceMesh (models/facemesh.vfm) on the crop around `face`: a square of 1.5x the detector
 * box, rotated so the eyes are level (MediaPipe's ROI), warped to 192x192. */
vf_status vf_face_landmarks_run(vf_context *ctx, vf_model *mesh, const vf_image *img, const vf_face_box *face,
                                vf_face_landmarks *out);

/* ---- the face of a still image (still.c) ------------------------------------------------------ */

#define VF_STILL_MIN_PRESENCE 0.5f   /* FaceMesh presence that confirms a face (MediaPipe's threshold) */

/* Choose "the" face of a still image among the detector's faces[0..n): among those whose FaceMesh
 * presence is >= VF_STILL_MIN_PRESENCE, the largest box area x detector score x presence (the
 * expected face area; no position). VF_OK with *index_out = its index and *lm_out its landmarks,
 * or *index_out = -1 when no face is confirmed (n = 0 included). Runs FaceMesh on the candidates
 * by area x score until none left can win (once, nearly always); allocates nothing. */
vf_status vf_face_pick_still(vf_context *ctx, vf_model *mesh, const vf_image *img, const vf_face_box *faces, int n,
                             vf_face_landmarks *lm_out, int *index_out);

/* ---- passive liveness (liveness.c) ----------------------------------------------------------- */

#define VF_PAD_MAX 4      /* PAD models a pipeline can hold: the "liveness" roles of vf_model_roles() */
#define VF_PAD_SCALES 2   /* crop scales per model */

/* The PAD models: one per "liveness" role of vf_model_roles(), in table order (today MiniFASNet V2
 * and V1SE, Silent-Face-Anti-Spoofing, Apache-2.0). Any may be NULL when its weights were not
 * fetched: scoring then reports VF_E_NO_MODEL. */
typedef struct vf_liveness_models {
    int n;                           /* liveness roles */
    int role[VF_PAD_MAX];            /* their role ids */
    vf_model *m[VF_PAD_MAX];
} vf_liveness_models;

/* n and role[] from the role table, models NULL: the loaders then set m[k] for role[k]. */
void vf_liveness_models_init(vf_liveness_models *m);

/* ---- hand-made presentation-attack cues (pad_cues.c) ------------------------------------------ */

typedef struct vf_pad_cues {
    float screen_edge;   /* strongest straight edge around the face, in face sizes (0 = none); a bezel */
    float moire;         /* log share of the face's luma spectrum at 0.10-0.15 cycles/pixel; NAN when the
                          * face is under 54 px wide */
} vf_pad_cues;

/* Working memory of vf_pad_cues_measure (~150 KB), allocated once by the caller. */
typedef struct vf_pad_scratch vf_pad_scratch;
size_t vf_pad_scratch_size(void);

/* Measure the cues of the face in `box` (the tight mesh box, vf_face_landmarks.box). No allocation. */
vf_status vf_pad_cues_measure(vf_context *ctx, const vf_image *img, const float box[4], vf_pad_scratch *scratch,
                              vf_pad_cues *out);

typedef struct vf_liveness_score {
    float live;                  /* the fused live probability (vf_liveness_score_face); MiniFASNet's mean
                                  * probability after vf_liveness_run / _crops; -1 when not run */
    float minifasnet;            /* mean of the models' live probabilities */
    float log_odds;              /* mean log-odds of "live" over every crop (clamped to +-13.8) */
    float model[VF_PAD_MAX];     /* each model's live probability, mean over its crop scales */
    vf_pad_cues cues;            /* NAN when not measured */
} vf_liveness_score;

/* The face box in the convention MiniFASNet was trained on (Silent-Face's RetinaFace detector),
 * estimated from the mesh points of `lm`: x0, y0, x1, y1 in image pixels. */
void vf_liveness_box(const vf_face_landmarks *lm, float box[4]);

/* The pipeline's liveness score of one face: MiniFASNet on vf_liveness_box(lm) at both scales of
 * each model, the cues on lm->box, fused (vf_liveness_fuse). Allocates nothing. */
vf_status vf_liveness_score_face(vf_context *ctx, const vf_liveness_models *m, const vf_image *img, const vf_face_landmarks *lm,
                                 vf_pad_scratch *scratch, vf_liveness_score *out);

/* The fused live probability from the crops' mean log-odds and the cues. */
float vf_liveness_fuse(float log_odds, const vf_pad_cues *cues);

/* MiniFASNet alone on `box` (x0, y0, x1, y1 in image pixels): every model at its first
 * n_scales scales (1 or 2); for measurements (veriface eval-pad --box, --crops). live = minifasnet. */
vf_status vf_liveness_run_crops(vf_context *ctx, const vf_liveness_models *m, const vf_image *img, const float box[4],
                                int n_scales, vf_liveness_score *out);
vf_status vf_liveness_run(vf_context *ctx, const vf_liveness_models *m, const vf_image *img, const float box[4],
                          vf_liveness_score *out);

/* ---- embedding and match (embed.c) ------------------------------------------------------------- */

#define VF_EMBED_MAX_DIM 1024

/* How an embedder wants its face: the 5 points (vf_face_landmarks.five) aligned onto the ArcFace
 * template at the model's square input size (112, or 224 = the template doubled), pixel values
 * mapped 0..255 -> lo..hi, in this channel order; with `flip`, the descriptor is that of the crop
 * plus that of its mirror image (flip test-time augmentation, as InsightFace evaluates), then
 * L2-normalised: two inferences, and a descriptor that no longer depends on which side of the
 * face the alignment favoured. */
typedef struct vf_embed_crop {
    int32_t size;             /* input side, a multiple of 112 */
    float lo, hi;             /* 0..255 -> lo..hi */
    vf_channel_order order;
    int flip;                 /* 1: add the mirrored crop's raw descriptor (vf_embed_crop_of's default) */
} vf_embed_crop;

/* The crop an embedder expects, from its .vfm meta string (range=LO..HI; layout=RGB|BGR, written
 * by tools/convert.mjs from tools/convert/known-models.mjs): faceres 224 RGB 0..255, MobileFaceNet
 * (expo) 112 RGB (v - 127.5) / 128; flip 1 for every model (docs/PIPELINE.md: on faces-lfw it
 * lifts mobilefacenet-expo's TMR at FMR 0.1%). VF_E_MODEL when the input is not square 3-channel
 * of a multiple of 112 or the meta has no valid range. */
vf_status vf_embed_crop_of(vf_context *ctx, vf_model *m, vf_embed_crop *out);

/* Warp the face into the model's input as `crop` says, run the model (twice with crop->flip: the
 * second time on the tensor mirrored left-right), take its largest output as the descriptor (the
 * sum of both raw outputs with flip) and L2-normalise it. `five` is in continuous image
 * coordinates (pixel i covers [i, i+1)), as vf_face_landmarks gives it. Allocates nothing. */
vf_status vf_embed_run_crop(vf_context *ctx, vf_model *m, const vf_embed_crop *crop, const vf_image *img,
                            const float five[5][2], float *out, int *dim_out);

/* vf_embed_run_crop with the embedder's own crop (vf_embed_crop_of): what the pipeline runs. */
vf_status vf_embed_face(vf_context *ctx, vf_model *m, const vf_image *img, const float five[5][2], float *out, int *dim_out);

/* The same with an explicit range (RGB) instead of the model's: for measurements (eval-match --range). */
vf_status vf_embed_run(vf_context *ctx, vf_model *m, const vf_image *img, const float five[5][2], float lo, float hi,
                       float *out, int *dim_out);

/* Cosine similarity of two L2-normalised embeddings. */
float vf_embed_similarity(const float *a, const float *b, int dim);

/* ---- capture quality (quality.c) ------------------------------------------------------------- */

/* What the quality checks remember between frames of one capture (motion). Zero it to start. */
typedef struct vf_quality_state {
    int has_prev;
    float prev_cx, prev_cy;   /* face centre of the previous frame with a face, image pixels */
} vf_quality_state;

/* Assess one frame: faces from vf_detect_faces (by descending score), lm the landmarks of
 * faces[0] (NULL when n_faces == 0). Fills every metric that can be computed, sets `failed` and
 * `guidance`, and updates `state`. cfg NULL = defaults. */
vf_status vf_quality_assess(vf_context *ctx, const vf_quality_config *cfg, const vf_image *img,
                            const vf_face_box *faces, int n_faces, const vf_face_landmarks *lm,
                            vf_quality_state *state, vf_quality *out);

#endif
