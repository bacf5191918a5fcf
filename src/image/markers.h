/* markers.h - our own walk over the structure of a JPEG (marker segments) or PNG (chunks), run
 * before stb_image sees the bytes. For JPEG it finds what stb_image ignores or gets wrong:
 *   - the EXIF orientation (APP1 "Exif" -> TIFF IFD0 tag 0x0112), which stb_image ignores;
 *   - truncation, before anything is allocated: the entropy-coded data must end in an EOI
 *     marker (stb_image 2.27 also refuses a file without one, "expected marker", but only after
 *     decoding every block of it, with zeros past the end of the data);
 *   - Huffman tables with more than 256 symbols, which stb_image 2.27 (Debian's) writes past its
 *     tables with (nothings/stb#1289, fixed upstream in 2.28);
 *   - scans that use a Huffman or quantisation table no DHT/DQT defined before them, which
 *     stb_image 2.27 decodes with uninitialised table memory, reading out of bounds;
 *   - too many scans (a small progressive file can make the decoder pass over every block
 *     thousands of times).
 * For PNG: truncation (the file must reach a complete IEND chunk; stb_image accepts a file cut
 * inside IEND) and corruption (CRC of every critical chunk, as libpng checks; stb_image checks
 * none, so a flipped bit in IDAT would decode to wrong pixels or fail later with a vaguer reason).
 * Every read is bounds-checked; nothing is allocated. */
#ifndef VF_IMAGE_MARKERS_H
#define VF_IMAGE_MARKERS_H

#include <stddef.h>
#include <stdint.h>

typedef struct vf_jpeg_markers {
    int32_t width, height;  /* from the frame header (SOF) */
    int components;         /* Nf */
    int sof;                /* SOF marker (0xC0 baseline, 0xC1 extended, 0xC2 progressive, ...) */
    int scans;              /* SOS segments */
    int orientation;        /* EXIF orientation 1..8; 1 when absent or not a valid SHORT */
    size_t end;             /* offset just past the EOI marker */
} vf_jpeg_markers;

/* Walk bytes[0, size). Returns NULL when the structure is sound, else a message (written into
 * err, which has err_size bytes) naming the problem and its byte offset. max_scans <= 0 means
 * no limit. */
const char *vf_jpeg_walk_markers(const uint8_t *bytes, size_t size, int max_scans, vf_jpeg_markers *out,
                                 char *err, size_t err_size);

/* Orientation (1..8) from a TIFF structure (the APP1 payload after "Exif\0\0"), or 0 when it has
 * no valid orientation tag. Blink's rule: tag 0x0112 in IFD0, type SHORT, count 1. */
int vf_exif_orientation(const uint8_t *tiff, size_t size);

typedef struct vf_png_chunks {
    int32_t width, height;  /* from IHDR */
    int bit_depth, color_type, interlace;
    size_t idat_bytes;      /* compressed image data, all IDAT chunks */
    size_t end;             /* offset just past the IEND chunk */
} vf_png_chunks;

/* Walk the chunks of bytes[0, size): signature, IHDR first, lengths, CRC of critical chunks, a
 * complete IEND. Returns NULL when sound, else a message in err. */
const char *vf_png_walk_chunks(const uint8_t *bytes, size_t size, vf_png_chunks *out, char *err, size_t err_size);

/* CRC-32 (ISO 3309, as PNG and zlib use it) of bytes, continuing from crc (0 to start). */
uint32_t vf_crc32(uint32_t crc, const uint8_t *bytes, size_t size);

#endif
