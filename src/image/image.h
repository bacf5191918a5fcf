/* image.h - the image layer (internal API): pixel views and buffers, JPEG/PNG decoding with limits
 * and EXIF orientation, sampling into model tensors (crop + resize, affine warp), similarity
 * transforms for face alignment, and region statistics for capture quality.
 *
 * Used by the face pipeline on every camera frame (sampling, statistics: nothing here allocates)
 * and by the server/CLI on uploaded JPEG/PNG bytes (decoding: untrusted input, limits checked
 * from the header before anything large is allocated).
 *
 * Conventions (as everywhere in veriface): every call that can fail returns a vf_status and, when
 * `ctx` is not NULL, leaves a message in vf_context_last_error(ctx). Nothing exits or aborts on
 * bad input. Pixel coordinates follow OpenCV, stated at each function.
 *
 *     vf_image_buffer buf;
 *     vf_image_decode_options o = vf_image_decode_default_options();     // RGBA8, EXIF applied
 *     if (vf_image_decode(ctx, bytes, n, &o, &buf, NULL) != VF_OK) ...;   // VF_E_IMAGE + reason
 *     vf_image img = vf_image_buffer_view(&buf);
 *
 *     float warp[6];                                          // 112x112 output -> image pixels
 *     vf_face_align_warp(ctx, landmarks5, 112, warp);
 *     vf_sample_options so = vf_sample_options_range(-1, 1, VF_CHANNELS_RGB);
 *     vf_image_warp_to_tensor(ctx, &img, warp, &so, in.data, 112, 112);  // NHWC float, no alloc
 *     vf_image_buffer_free(&buf);
 */
#ifndef VF_IMAGE_H
#define VF_IMAGE_H

#include "../core/core.h"

/* ---- pixels ------------------------------------------------------------------------------ */

/* The value of each format is its number of bytes per pixel. Alpha, where present, is carried
 * along but ignored by sampling and statistics. */
typedef enum vf_pixel_format {
    VF_PIXEL_RGB8 = 3,      /* R, G, B */
    VF_PIXEL_RGBA8 = 4      /* R, G, B, A (canvas ImageData, the browser's frames) */
} vf_pixel_format;

/* Largest width or height of any image (pixel coordinates stay exact in float below 2^24). */
#define VF_IMAGE_MAX_SIDE (1 << 24)

/* A view of pixels owned by someone else. Row y starts at data + y * stride. */
typedef struct vf_image {
    int32_t width, height;  /* 1..VF_IMAGE_MAX_SIDE */
    size_t stride;          /* bytes from one row to the next, >= width * format */
    vf_pixel_format format;
    const uint8_t *data;
} vf_image;

/* Pixels owned by the image layer (64-byte aligned, rows packed: stride = width * format). */
typedef struct vf_image_buffer {
    int32_t width, height;
    size_t stride;
    vf_pixel_format format;
    uint8_t *data;
    void *block_;           /* private: what vf_image_buffer_free releases */
} vf_image_buffer;

/* Check a view: data not NULL, sizes in 1..VF_IMAGE_MAX_SIDE, stride large enough, the byte extent
 * (height-1) * stride + width * format representable. VF_E_INVALID_ARG otherwise. */
vf_status vf_image_check(vf_context *ctx, const vf_image *img);
/* Allocate width x height pixels (uninitialised). On failure *out is zeroed. */
vf_status vf_image_buffer_alloc(vf_context *ctx, int32_t width, int32_t height, vf_pixel_format format,
                                vf_image_buffer *out);
/* Free the pixels and zero the struct. NULL and zeroed buffers are fine. */
void vf_image_buffer_free(vf_image_buffer *buf);
vf_image vf_image_buffer_view(const vf_image_buffer *buf);

/* ---- decoding (decode.c, markers.c) ---------------------------------------------------- */

/* Limits on untrusted encoded images. Width, height and pixel count are checked from the header,
 * before any pixel memory is allocated; the decoder's own allocations are capped as well (see
 * max_decoder_bytes), which bounds what a crafted file can make it allocate (zlib bombs, IDAT
 * chunks claiming gigabytes). */
typedef struct vf_image_limits {
    int32_t max_width;        /* default 8192 */
    int32_t max_height;       /* default 8192 */
    int64_t max_pixels;       /* width * height; default 40,000,000 */
    size_t max_input_bytes;   /* encoded size; default 64 MiB */
    /* Peak bytes stb_image may hold at once during one decode. The budget of each image is
     * 24 bytes per pixel (MCU-padded) + 2 x the input size + 1 MiB (enough for every path of
     * stb_image 2.27: progressive JPEG coefficients, 16-bit PNG with conversion, interlaced PNG),
     * capped by this value. Default 1 GiB. The output buffer is counted, the EXIF rotation copy not. */
    size_t max_decoder_bytes;
    int32_t max_jpeg_scans;   /* SOS segments in one JPEG (progressive-JPEG CPU bomb); default 100,
                               * 0 = no limit */
} vf_image_limits;

typedef enum vf_image_codec { VF_IMAGE_CODEC_UNKNOWN = 0, VF_IMAGE_CODEC_JPEG = 1, VF_IMAGE_CODEC_PNG = 2 } vf_image_codec;

typedef struct vf_image_info {
    vf_image_codec codec;
    int32_t width, height;          /* of the output: after the EXIF orientation when it is applied
                                     * (vf_image_probe: always applied) */
    int32_t stored_width, stored_height; /* as coded in the file */
    int channels;                   /* coded channels: 1 grey, 2 grey+alpha, 3 colour, 4 colour+alpha/CMYK */
    int orientation;                /* the file's EXIF orientation 1..8 (JPEG APP1 only; PNG eXIf is
                                     * not read); 1 when absent or invalid */
    int jpeg_scans;                 /* JPEG: SOS segments (1 baseline, ~10 progressive); PNG: 0 */
    int progressive;                /* JPEG: coded progressively (SOF2) */
    size_t decoder_peak_bytes;      /* vf_image_decode: most bytes stb_image held at once */
} vf_image_info;

typedef struct vf_image_decode_options {
    vf_pixel_format format;         /* output format; default VF_PIXEL_RGBA8. Alpha is dropped for
                                     * RGB8 (not composited); grey images are expanded. */
    int apply_orientation;          /* rotate/flip JPEGs as their EXIF orientation says; default 1 */
    vf_image_limits limits;
} vf_image_decode_options;

vf_image_limits vf_image_default_limits(void);
vf_image_decode_options vf_image_decode_default_options(void);

/* Identify and check an encoded image from its structure (JPEG marker segments, PNG chunks and
 * their CRCs) and header, without decoding pixels: VF_E_IMAGE for unsupported formats, corrupt
 * or truncated structure, or a size over `limits` (NULL = defaults). info_out may be NULL. */
vf_status vf_image_probe(vf_context *ctx, const void *bytes, size_t size, const vf_image_limits *limits,
                         vf_image_info *info_out);

/* Decode JPEG or PNG bytes (any bytes are safe). On success *out owns the pixels; free them with
 * vf_image_buffer_free. On failure *out is zeroed and the status is VF_E_IMAGE (corrupt,
 * truncated, unsupported or over the limits; the message carries the decoder's reason),
 * VF_E_NO_MEMORY, or VF_E_INVALID_ARG. opt NULL = defaults; info_out may be NULL.
 * Truncation is found by our structure walk before any pixel memory is allocated (JPEG: no EOI
 * marker after the last scan; PNG: no complete IEND chunk). */
vf_status vf_image_decode(vf_context *ctx, const void *bytes, size_t size, const vf_image_decode_options *opt,
                          vf_image_buffer *out, vf_image_info *info_out);

/* Size of the image after EXIF orientation o (1..8): o = 5..8 swap width and height. */
void vf_image_oriented_size(int orientation, int32_t w, int32_t h, int32_t *w_out, int32_t *h_out);
/* Copy src into dst (same format, oriented size) so that it displays upright: dst(x, y) =
 * src(orientation^-1(x, y)), following EXIF 2.3 tag 0x0112:
 *   1 as is         2 mirror left-right        3 rotate 180          4 mirror top-bottom
 *   5 transpose     6 rotate 90 clockwise      7 transverse          8 rotate 90 counter-clockwise */
vf_status vf_image_orient(vf_context *ctx, const vf_image *src, int orientation, vf_image_buffer *dst);

/* ---- sampling into model tensors (sample.c) -------------------------------------------------- */

typedef enum vf_channel_order { VF_CHANNELS_RGB = 0, VF_CHANNELS_BGR = 1 } vf_channel_order;
typedef enum vf_border {
    VF_BORDER_CONSTANT = 0,   /* neighbours outside the image take `fill` (cv::BORDER_CONSTANT) */
    VF_BORDER_REPLICATE = 1   /* coordinates clamp to the edge pixels (cv::BORDER_REPLICATE) */
} vf_border;

/* How source pixels become tensor values. For output channel k (in `order`):
 *     out[k] = v * scale[k] + offset[k]
 * where v is the bilinear interpolation of that colour in 0..255. */
typedef struct vf_sample_options {
    vf_channel_order order;   /* default RGB */
    float scale[3];           /* per output channel; default 1 */
    float offset[3];          /* per output channel; default 0 */
    vf_border border;         /* default VF_BORDER_CONSTANT */
    float fill[3];            /* R, G, B in 0..255 (before scale/offset) for CONSTANT; default 0 */
} vf_sample_options;

vf_sample_options vf_sample_default_options(void);
/* 0..255 -> lo..hi on every channel (e.g. 0,1 for MediaPipe models; -1,1 for MobileFaceNet). */
vf_sample_options vf_sample_options_range(float lo, float hi, vf_channel_order order);

/* A source rectangle in continuous pixel coordinates: pixel (i, j) covers [i, i+1) x [j, j+1),
 * so {0, 0, width, height} is the whole image. It may extend outside the image. */
typedef struct vf_rectf { float x, y, width, height; } vf_rectf;

/* Crop `rect` (NULL = whole image) and resize it bilinearly to dst_w x dst_h, writing
 * dst[(y * dst_w + x) * 3 + k] (NHWC, one image, 3 channels). Allocates nothing.
 * Convention (cv::resize, INTER_LINEAR, half-pixel centres): output pixel (x, y) samples
 *     sx = rect.x + (x + 0.5) * rect.width / dst_w - 0.5,   sy likewise,
 * in the centre-at-integer coordinates of vf_image_warp_to_tensor; with rect = whole image and
 * VF_BORDER_REPLICATE this is cv::resize. No antialiasing: for large reductions crop first. */
vf_status vf_image_resize_to_tensor(vf_context *ctx, const vf_image *src, const vf_rectf *rect,
                                    const vf_sample_options *opt, float *dst, int32_t dst_w, int32_t dst_h);

/* Affine warp: output pixel (x, y) samples the source at
 *     sx = m[0] * x + m[1] * y + m[2],   sy = m[3] * x + m[4] * y + m[5]
 * with pixel centres at integer coordinates (source pixel (i, j) is at (i, j)), bilinear: this is
 * cv::warpAffine(src, m, size, INTER_LINEAR | WARP_INVERSE_MAP, border, fill) up to OpenCV's
 * 1/32-pixel fixed-point weights. `m` maps output -> source (see vf_similarity_estimate for the
 * inverse of a landmark fit). Output layout as vf_image_resize_to_tensor. Allocates nothing. */
vf_status vf_image_warp_to_tensor(vf_context *ctx, const vf_image *src, const float m[6],
                                  const vf_sample_options *opt, float *dst, int32_t dst_w, int32_t dst_h);

/* ---- geometry (geometry.c) -------------------------------------------------------------------- */

/* 2x3 affine matrices are row-major {a, b, c, d, e, f}: (x, y) -> (a x + b y + c, d x + e y + f). */
void vf_affine_apply(const float m[6], float x, float y, float *x_out, float *y_out);
/* Inverse; VF_E_INVALID_ARG when singular or not finite. */
vf_status vf_affine_invert(vf_context *ctx, const float m[6], float inv_out[6]);

/* Least-squares similarity (rotation, uniform scale, translation; no reflection) taking src[i]
 * to dst[i] for n >= 2 pairs of (x, y) points: minimises sum |dst_i - (s R src_i + t)|^2. This is
 * Umeyama's method, which in 2-D has the closed form
 *     [a -b; b a] = (sum of (dst - mean_dst) x (src - mean_src) as complex products) / sum |src - mean_src|^2.
 * m_out maps src -> dst, inv_out (may be NULL) maps dst -> src. VF_E_INVALID_ARG when the source
 * points coincide or anything is not finite. */
vf_status vf_similarity_estimate(vf_context *ctx, const float *src_xy, const float *dst_xy, int n,
                                 float m_out[6], float inv_out[6]);

/* The ArcFace / InsightFace 112x112 alignment template, (x, y) in output pixels: left eye,
 * right eye (as seen in the image), nose tip, left and right mouth corners. */
extern const float vf_arcface_template_112[5][2];

/* Fit the 5 landmarks (image pixels, in the template's order) onto the template scaled by
 * out_size / 112 and return the warp for vf_image_warp_to_tensor (output -> image). */
vf_status vf_face_align_warp(vf_context *ctx, const float landmarks[10], int32_t out_size, float warp_out[6]);

/* ---- region statistics (stats.c) -------------------------------------------------------------- */

/* An integer pixel rectangle; regions are clipped to the image (an empty result is an error). */
typedef struct vf_recti { int32_t x, y, width, height; } vf_recti;

#define VF_STATS_GRID_MAX 256

typedef struct vf_region_stats_options {
    int histogram;            /* fill vf_region_stats.histogram; default 0 */
    /* Blur measure resolution: 0 = at the region's own resolution; N (4..VF_STATS_GRID_MAX) = on
     * the region box-averaged down so its longer side is N (aspect kept; a side shorter than its
     * target stays native, never upsampled), which makes the value comparable between cameras
     * and face sizes. Default 128. */
    int laplacian_size;
    int glare_luma;           /* a pixel is glare when luma >= this ... default 245 */
    int glare_chroma;         /* ... and max(R,G,B) - min(R,G,B) <= this; default 30 */
} vf_region_stats_options;

typedef struct vf_region_stats {
    int64_t pixels;           /* pixels in the (clipped) region */
    vf_recti region;          /* the clipped region */
    double luma_mean;         /* BT.601 luma Y = (19595 R + 38470 G + 7471 B + 32768) >> 16, 0..255 */
    double luma_std;          /* population standard deviation */
    /* Variance of the 4-neighbour Laplacian [0 1 0; 1 -4 1; 0 1 0] (cv::Laplacian, ksize 1) of
     * luma, over the interior pixels (one-pixel border excluded) of the region or of its grid
     * (see laplacian_size); 0 when that is smaller than 3x3. Low = blurred. */
    double laplacian_var;
    /* Variance of the second difference of luma along 0, 45, 90 and 135 degrees (e.g. 0:
     * p[x-1] - 2 p[x] + p[x+1]) over the same pixels: a motion smear along one direction removes
     * that direction's detail while the Laplacian keeps the detail across it. */
    double second_diff_var[4];
    int32_t laplacian_width, laplacian_height; /* resolution it was measured at */
    double glare_fraction;    /* fraction of pixels that are glare (see options) */
    uint32_t histogram[256];  /* luma histogram when requested, else zeros */
} vf_region_stats;

vf_region_stats_options vf_region_stats_default_options(void);
/* Statistics of `rect` (NULL = whole image). One pass over the pixels; no allocation. */
vf_status vf_image_region_stats(vf_context *ctx, const vf_image *img, const vf_recti *rect,
                                const vf_region_stats_options *opt, vf_region_stats *out);

#define VF_FRAME_HASH_GRID 32
/* A 64-bit FNV-1a hash of the region's size and of the R, G, B bytes of a grid of sample pixels:
 * gx x gy cells (gx = min(32, width), gy = min(32, height)); cell (i, j) is sampled at pixel
 *     (x + (2 i + 1) * width / (2 gx), y + (2 j + 1) * height / (2 gy))   (integer division).
 * Equal frames hash equal; any change to a sampled pixel changes the hash (barring collisions).
 * For duplicate-frame detection (a frozen or replayed camera stream): camera noise changes every
 * pixel of a live stream. 1024 pixels read; no allocation. */
vf_status vf_image_frame_hash(vf_context *ctx, const vf_image *img, const vf_recti *rect, uint64_t *hash_out);

#endif
