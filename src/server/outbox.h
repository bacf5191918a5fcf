/* outbox.h - webhook delivery from the store's outbox (outbox.c): the event body, the delivery
 * thread, one pass for tests. */
#ifndef VF_SRV_OUTBOX_H
#define VF_SRV_OUTBOX_H

#include "server.h"

/* The body of a decided session's event (the exact bytes are stored and signed): id
 * "<session_id>-<attempt>" (the idempotency id), type "session.decided", created_at, session_id,
 * reference_id and external_ref when set, attempt, decision, reasons (taken), match_similarity
 * and live_score (NaN -> null), photo (whether GET .../photo has one). */
cJSON *vf_srv_outbox_event_json(const vf_srv_session *ss, int attempt, const char *decision, cJSON *reasons, double similarity,
                                double live_score, int has_photo, int64_t now);

typedef struct vf_srv_outbox vf_srv_outbox;
vf_srv_outbox *vf_srv_outbox_start(vf_srv *s);   /* the delivery thread; NULL on failure */
void vf_srv_outbox_kick(vf_srv_outbox *o);       /* a new event: look now, not at the next poll */
void vf_srv_outbox_stop(vf_srv_outbox *o);       /* finishes the POST in flight, joins */
/* Claim and try every due event once (at most one batch); returns how many were tried. */
int vf_srv_outbox_run_once(vf_srv *s, int64_t now);

#endif
