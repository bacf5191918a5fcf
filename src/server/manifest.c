/* manifest.c - the server's models against models/MANIFEST (tools/convert/manifest.mjs: a TSV with
 * a header; columns `file`, the repository path, and `sha256`). The page is built from the files
 * the MANIFEST records (tools/build-web copies them), so a server whose model differs from its row
 * would re-run a different model than the client: the tamper checks would fire on honest users or,
 * worse, pass on numbers from another model. Start-up refuses that with the role and both hashes.
 * The page the server serves (--static) is checked the same way: its pkg/models/roles.json carries
 * the sha256 of every model file it fetches (tools/build-web), which must be the server's. */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The index of `name` among the header's tab-separated columns, -1 if absent. */
static int column(char *header, const char *name) {
    int k = 0;
    for (char *save = NULL, *t = strtok_r(header, "\t\r\n", &save); t; t = strtok_r(NULL, "\t\r\n", &save), k++)
        if (!strcmp(t, name)) return k;
    return -1;
}

int vf_srv_manifest_check(const char *models_dir, const char *const hash[VF_ROLE_COUNT], char *err, size_t es) {
    char path[2048], line[8192], hdr[8192];
    snprintf(path, sizeof path, "%s/MANIFEST", models_dir);
    FILE *f = fopen(path, "r");
    if (!f) return 1; /* no MANIFEST: nothing to check against (the caller says so) */
    const vf_model_role *roles = vf_model_roles(NULL);
    int found[VF_ROLE_COUNT] = {0}, rc = 0;
    if (!fgets(hdr, sizeof hdr, f)) hdr[0] = 0;
    char h2[sizeof hdr];
    memcpy(h2, hdr, sizeof hdr);
    int c_file = column(hdr, "file"), c_sha = column(h2, "sha256");
    if (c_file < 0 || c_sha < 0) {
        snprintf(err, es, "models: %s has no file and sha256 columns", path);
        fclose(f);
        return -1;
    }
    while (!rc && fgets(line, sizeof line, f)) {
        const char *file = NULL, *sha = NULL;
        int k = 0;
        for (char *save = NULL, *t = strtok_r(line, "\t\r\n", &save); t; t = strtok_r(NULL, "\t\r\n", &save), k++) {
            if (k == c_file) file = t;
            if (k == c_sha) sha = t;
        }
        if (!file || !sha) continue;
        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;
        for (int i = 0; i < VF_ROLE_COUNT; i++) {
            if (strcmp(base, roles[i].file) || !hash[i][0]) continue;
            found[i] = 1;
            if (strcmp(sha, hash[i])) {
                snprintf(err, es, "models: %s (role %s) has sha256 %s, but %s records %s for %s: the page's copy would "
                         "not be the server's model (rebuild: tools/convert-all, tools/build-web)", roles[i].file, roles[i].name,
                         hash[i], path, sha, file);
                rc = -1;
            }
        }
    }
    fclose(f);
    for (int i = 0; i < VF_ROLE_COUNT && !rc; i++)
        if (hash[i][0] && !found[i]) {
            snprintf(err, es, "models: %s (role %s) has no row in %s", roles[i].file, roles[i].name, path);
            rc = -1;
        }
    return rc;
}

int vf_srv_page_roles_check(const char *static_dir, const char *const hash[VF_ROLE_COUNT], char *err, size_t es) {
    char path[2048];
    snprintf(path, sizeof path, "%s/pkg/models/roles.json", static_dir);
    char *text = vf_srv_read_small(path, 1 << 20, NULL);
    if (!text) return 1; /* no page package: nothing to check */
    cJSON *root = cJSON_Parse(text);
    free(text);
    int rc = 0;
    if (!cJSON_IsArray(root)) {
        snprintf(err, es, "models: %s is not a JSON array of roles (rebuild: tools/build-web)", path);
        rc = -1;
    }
    const vf_model_role *roles = vf_model_roles(NULL);
    const cJSON *r, *list = rc ? NULL : root;
    cJSON_ArrayForEach(r, list) {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "name"));
        const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "file"));
        const char *sha = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "sha256"));
        int i = vf_model_role_find(name);
        if (i < 0 || !hash[i][0] || !sha) continue; /* a role the server has no model for, or a file the page lacks */
        if (!file || strcmp(file, roles[i].file) || strcmp(sha, hash[i])) {
            snprintf(err, es, "models: the page's %s names %s with sha256 %s for role %s, but the server loaded %s with sha256 %s: "
                     "the client would run another model than the server re-runs (rebuild: tools/convert-all, tools/build-web)",
                     path, file ? file : "(no file)", sha, name, roles[i].file, hash[i]);
            rc = -1;
            break;
        }
    }
    cJSON_Delete(root);
    return rc;
}
