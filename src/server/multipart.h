/* multipart.h - multipart/form-data bodies (RFC 7578) as the face endpoints take them: the parts
 * of a body already in memory, each with its name and its bytes (pointers into the body). Pure. */
#ifndef VF_SERVER_MULTIPART_H
#define VF_SERVER_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

#define VF_MP_MAX_PARTS 8

typedef struct vf_mp_part {
    char name[64];                    /* the form field's name */
    const uint8_t *data; size_t len;
} vf_mp_part;

/* 1 when the Content-Type is multipart/form-data (its boundary is then read by vf_mp_parse). */
int vf_mp_is_multipart(const char *content_type);
/* Split `body` by the boundary of `content_type`. Returns the number of parts (0..VF_MP_MAX_PARTS),
 * or -1 with a reason in err: no or bad boundary, a part without a name or with one of 64 bytes or
 * more, a missing closing delimiter, more than VF_MP_MAX_PARTS parts, a field name twice. */
int vf_mp_parse(const char *content_type, const uint8_t *body, size_t len, vf_mp_part *parts, char *err, size_t errsz);
/* The part called `name`, or NULL. */
const vf_mp_part *vf_mp_find(const vf_mp_part *parts, int n, const char *name);

#endif
