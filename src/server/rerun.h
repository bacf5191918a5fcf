/* rerun.h - the server's own run of the session on the decoded frames, and the comparison with
 * what the client claimed (tamper reasons). */
#ifndef VF_SERVER_RERUN_H
#define VF_SERVER_RERUN_H

#include "server.h"
#include "../image/image.h"

#define VF_SRV_MAX_FRAMES VF_SESSION_MAX_CHOSEN

typedef struct vf_srv_rerun {
    int n;                             /* frames pushed */
    vf_frame_status st[VF_SRV_MAX_FRAMES];
    int all_good, complete;
    int finished;                      /* vf_session_finish ran */
    int liveness_ok;                   /* PAD ran */
    float live_score;                  /* server median over its own chosen frames */
    float live_scores[VF_SRV_MAX_FRAMES];
    int n_live;
    int chosen[VF_SRV_MAX_FRAMES];     /* server's chosen, as positions 0..n-1 in the package */
    int n_chosen;
    int emb_dim;
    float emb[VF_SRV_EMB_MAX];         /* server embedding of its best frame */
    double ms;
    vf_session *session;               /* kept open for the comparison (same crops, session API) */
} vf_srv_rerun;

/* Push the frames in order (timestamps as given) through a fresh vf_session with `cfg`; finish
 * when complete. 0 = ran (whatever the quality), -1 = engine error (message in w->ctx). The
 * session stays open until vf_srv_rerun_release (the tamper comparison asks it for more). */
int vf_srv_rerun_run(vf_srv_worker *w, const vf_session_config *cfg, const vf_image_buffer *frames, const double *ts, int n,
                     vf_srv_rerun *out);
void vf_srv_rerun_release(vf_srv_rerun *rr);

typedef struct vf_srv_tamper_result {
    int n;
    const char *reasons[8];
    cJSON *detail;                     /* what disagreed, for the audit and the integrator */
    float client_live, server_live_on_client_frames, embedding_cos;
    float scratch[VF_SRV_EMB_MAX];     /* the server embedding of the client's best frame */
} vf_srv_tamper_result;

/* Compare the client's claims (frames[i].status, result) with the re-run. `client_index[i]` and
 * `timestamps[i]` are frame i's client index and capture time (both must increase). Recomputes PAD and the embedding on the client's chosen frames when the
 * server chose others, so the comparison measures tampering, not a different frame choice. */
void vf_srv_tamper_compare(vf_srv_worker *w, const vf_srv_config *c, const vf_session_config *scfg,
                           const vf_image_buffer *frames, const int *client_index, const double *timestamps,
                           const cJSON *const *status, int n,
                           const cJSON *result, const vf_srv_rerun *rr, vf_srv_tamper_result *out);

/* Signals (PACKAGE.md section 5) -> reason codes; detail gets the facts that fired. */
int vf_srv_signals_score(const cJSON *signals, const char **reasons, int max, cJSON *detail);

#endif
