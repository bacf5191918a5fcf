/* store_pg.c - the PostgreSQL store backend (store.h), for several server instances on one
 * database. Not built yet: the URL is refused with a message until it lands. */
#include "server.h"

#include <stdio.h>

int vf_srv_store_pg_open(const char *url, vf_srv_store **out, char *err, size_t es) {
    (void)url;
    *out = NULL;
    snprintf(err, es, "db: the PostgreSQL backend is not built in this server");
    return -1;
}
