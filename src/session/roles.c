/* roles.c - the one table of model roles. Every host (the CLI, the wasm glue and the JS package,
 * the server, the tests) loads, names and hashes models through it, so adding a model is a row
 * here and the code that uses it (README "Adding a model"). */
#include "veriface.h"

#include <stddef.h>

static const vf_model_role ROLES[VF_ROLE_COUNT] = {
    [VF_ROLE_DETECTOR] = {"detector", "blazeface-front.vfm", "detect",
                          "128x128 RGB 0..1, letterboxed (aspect kept, black bars)", 1, 0},
    [VF_ROLE_MESH] = {"mesh", "facemesh-int8.vfm", "landmarks",
                      "192x192 RGB 0..1, square ROI of 1.5x the detector box, rotated so the eyes are level", 1, 0},
    [VF_ROLE_PAD_V2] = {"pad_v2", "minifasnet-v2-int8.vfm", "liveness",
                        "80x80 BGR 0..255, the face box scaled 2.7x and 2.0x (Silent-Face crop rule)", 0, 1},
    [VF_ROLE_PAD_V1SE] = {"pad_v1se", "minifasnet-v1se-int8.vfm", "liveness",
                          "80x80 BGR 0..255, the face box scaled 4.0x and 2.7x (Silent-Face crop rule)", 0, 1},
    [VF_ROLE_EMBEDDER] = {"embedder", "mobilefacenet-expo-int8.vfm", "embedding",
                          "112x112 RGB (v - 127.5) / 128, 5-point ArcFace alignment", 0, 0},
};

const vf_model_role *vf_model_roles(int *count_out) {
    if (count_out) *count_out = VF_ROLE_COUNT;
    return ROLES;
}

int vf_model_role_find(const char *name) {
    if (!name) return -1;
    for (int i = 0; i < VF_ROLE_COUNT; i++) {
        const char *a = ROLES[i].name, *b = name;
        while (*a && *a == *b) a++, b++;
        if (!*a && !*b) return i;
    }
    return -1;
}
