/* image.c - pixel views and owned pixel buffers. */
#include "image.h"

#include <string.h>

static bool format_ok(vf_pixel_format f) { return f == VF_PIXEL_RGB8 || f == VF_PIXEL_RGBA8; }

vf_status vf_image_check(vf_context *ctx, const vf_image *img) {
    if (!img) return vf__fail(ctx, VF_E_INVALID_ARG, "image is NULL");
    if (!format_ok(img->format)) return vf__fail(ctx, VF_E_INVALID_ARG, "image: unknown pixel format %d", (int)img->format);
    if (img->width <= 0 || img->height <= 0 || img->width > VF_IMAGE_MAX_SIDE || img->height > VF_IMAGE_MAX_SIDE)
        return vf__fail(ctx, VF_E_INVALID_ARG, "image: bad size %dx%d", (int)img->width, (int)img->height);
    if (!img->data) return vf__fail(ctx, VF_E_INVALID_ARG, "image: data is NULL");
    size_t row, extent;
    if (!vf__mul_size((size_t)img->width, (size_t)img->format, &row) || img->stride < row ||
        !vf__mul_size((size_t)(img->height - 1), img->stride, &extent) || !vf__add_size(extent, row, &extent))
        return vf__fail(ctx, VF_E_INVALID_ARG, "image: stride %zu too small or size overflows for %dx%d x%d",
                        img->stride, (int)img->width, (int)img->height, (int)img->format);
    return VF_OK;
}

vf_status vf_image_buffer_alloc(vf_context *ctx, int32_t width, int32_t height, vf_pixel_format format,
                                vf_image_buffer *out) {
    if (!out) return vf__fail(ctx, VF_E_INVALID_ARG, "image buffer: out is NULL");
    memset(out, 0, sizeof *out);
    if (!format_ok(format)) return vf__fail(ctx, VF_E_INVALID_ARG, "image buffer: unknown pixel format %d", (int)format);
    if (width <= 0 || height <= 0 || width > VF_IMAGE_MAX_SIDE || height > VF_IMAGE_MAX_SIDE)
        return vf__fail(ctx, VF_E_INVALID_ARG, "image buffer: bad size %dx%d", (int)width, (int)height);
    size_t stride, bytes;
    if (!vf__mul_size((size_t)width, (size_t)format, &stride) || !vf__mul_size(stride, (size_t)height, &bytes))
        return vf__fail(ctx, VF_E_NO_MEMORY, "image buffer: %dx%d overflows", (int)width, (int)height);
    uint8_t *p = vf__alloc_aligned(bytes);
    if (!p) return vf__fail(ctx, VF_E_NO_MEMORY, "image buffer: cannot allocate %zu bytes", bytes);
    out->width = width;
    out->height = height;
    out->stride = stride;
    out->format = format;
    out->data = p;
    out->block_ = p;
    return VF_OK;
}

void vf_image_buffer_free(vf_image_buffer *buf) {
    if (!buf) return;
    vf__free_aligned(buf->block_);
    memset(buf, 0, sizeof *buf);
}

vf_image vf_image_buffer_view(const vf_image_buffer *buf) {
    vf_image v;
    v.width = buf->width;
    v.height = buf->height;
    v.stride = buf->stride;
    v.format = buf->format;
    v.data = buf->data;
    return v;
}
