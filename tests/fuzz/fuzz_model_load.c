/* fuzz_model_load.c - libFuzzer target for the .vfm parser: any bytes must load cleanly or fail
 * with a status, and a model that loads must run. Built and run briefly by tools/test:
 *   clang-14 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude tests/fuzz/fuzz_model_load.c <core sources> -lm */
#include "veriface.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vf_context *ctx;
    if (vf_context_create(NULL, &ctx) != VF_OK) return 0;
    vf_model_options mo = vf_model_default_options();
    mo.backend = VF_BACKEND_REF;
    vf_model *m = NULL;
    if (vf_model_load(ctx, data, size, &mo, &m) == VF_OK) {
        vf_tensor_info in;
        for (int i = 0; i < vf_model_input_count(m); i++) {
            vf_model_input(m, i, &in);
            memset(in.data, 0, in.count * sizeof(float));
        }
        /* bounded work: skip running graphs that would take long (the fuzzer makes big shapes) */
        vf_model_stats st;
        vf_model_get_stats(m, &st);
        if (st.mflops < 50) vf_model_invoke(m);
        vf_model_free(m);
    }
    vf_context_free(ctx);
    return 0;
}
