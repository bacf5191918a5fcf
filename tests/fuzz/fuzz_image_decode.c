/* fuzz_image_decode.c - libFuzzer target for image decoding (src/image: our JPEG/PNG structure
 * walks, EXIF parser, stb_image behind them) with the default limits except the pixel count: 4 Mpx,
 * more than the server accepts (frames 1280x720, references 4 MiB decoded); at the default 40 Mpx
 * a 450-byte JPEG decodes for 2 s under ASan and the fuzzer spends its time there. Any bytes must decode or
 * fail with a status, never crash, leak or hit undefined behaviour. A decoded image is also
 * probed, oriented, sampled and measured, and must agree with what the probe said.
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION turns off the PNG CRC check (else nearly every
 * mutation of a PNG stops there).
 * Built and run by tools/fuzz (tests/fuzz/CMakeLists.txt).
 * Seeds: small JPEGs (baseline, progressive, grey, EXIF-rotated, a scan cut short) and PNGs (RGBA, grey, palette,
 * 16-bit, interlaced). */
#include "../../src/image/image.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    vf_context *ctx;
    if (vf_context_create(NULL, &ctx) != VF_OK) return 0;
    vf_image_decode_options o = vf_image_decode_default_options();
    o.format = size & 1 ? VF_PIXEL_RGB8 : VF_PIXEL_RGBA8;
    o.limits.max_pixels = 4 << 20;
    vf_image_info probe, info;
    vf_status ps = vf_image_probe(ctx, data, size, &o.limits, &probe);
    vf_image_buffer buf;
    vf_status s = vf_image_decode(ctx, data, size, &o, &buf, &info);
    if (s == VF_OK) {
        if (ps != VF_OK || probe.width != buf.width || probe.height != buf.height || info.width != buf.width) abort();
        vf_image img = vf_image_buffer_view(&buf);
        vf_region_stats st;
        if (vf_image_region_stats(ctx, &img, NULL, NULL, &st) != VF_OK) abort();
        uint64_t h;
        if (vf_image_frame_hash(ctx, &img, NULL, &h) != VF_OK) abort();
        float t[16 * 16 * 3];
        const float m[6] = {0.9f, 0.1f, -2.0f, -0.1f, 0.9f, 3.0f};
        if (vf_image_warp_to_tensor(ctx, &img, m, NULL, t, 16, 16) != VF_OK) abort();
        vf_image_buffer_free(&buf);
    } else if (buf.data != NULL || (s != VF_E_IMAGE && s != VF_E_NO_MEMORY)) {
        abort(); /* a failure leaves nothing behind and is an image error */
    }
    vf_context_free(ctx);
    return 0;
}
