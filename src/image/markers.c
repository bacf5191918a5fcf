/* markers.c - JPEG marker walk, EXIF orientation, PNG chunk walk (see markers.h). Untrusted
 * bytes: every offset is checked against the end before it is read. */
#include "markers.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static uint16_t rd16(const uint8_t *p, bool le) { return le ? (uint16_t)(p[0] | p[1] << 8) : (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p, bool le) {
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int vf_exif_orientation(const uint8_t *tiff, size_t n) {
    if (!tiff || n < 8) return 0;
    bool le;
    if (tiff[0] == 'I' && tiff[1] == 'I') le = true;
    else if (tiff[0] == 'M' && tiff[1] == 'M') le = false;
    else return 0;
    if (rd16(tiff + 2, le) != 42) return 0;
    uint32_t ifd = rd32(tiff + 4, le);
    if (ifd < 8 || ifd > n - 2) return 0;
    uint32_t count = rd16(tiff + ifd, le);
    size_t pos = (size_t)ifd + 2;
    for (uint32_t i = 0; i < count && n >= 12 && pos <= n - 12; i++, pos += 12) {
        const uint8_t *e = tiff + pos;
        if (rd16(e, le) != 0x0112) continue;
        if (rd16(e + 2, le) != 3 || rd32(e + 4, le) != 1) return 0; /* SHORT, count 1 */
        uint16_t v = rd16(e + 8, le);
        return v >= 1 && v <= 8 ? v : 0;
    }
    return 0;
}

static const char *fail(char *err, size_t err_size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_size, fmt, ap);
    va_end(ap);
    return err;
}

/* Check every table of a DHT segment body [p, p + len); mark the tables it defines (bit th of
 * defined[tc]). */
static const char *check_dht(const uint8_t *p, size_t len, size_t at, uint8_t defined[2], char *err, size_t err_size) {
    size_t pos = 0;
    while (pos < len) {
        if (len - pos < 17) return fail(err, err_size, "JPEG: DHT segment at %zu is truncated", at);
        int tc = p[pos] >> 4, th = p[pos] & 15;
        if (tc > 1 || th > 3) return fail(err, err_size, "JPEG: bad DHT table class/id 0x%02x at %zu", p[pos], at);
        size_t n = 0;
        for (int i = 1; i <= 16; i++) n += p[pos + i];
        if (n > 256) return fail(err, err_size, "JPEG: Huffman table with %zu symbols (max 256) at %zu", n, at);
        if (len - pos - 17 < n) return fail(err, err_size, "JPEG: DHT segment at %zu is truncated", at);
        defined[tc] |= (uint8_t)(1u << th);
        pos += 17 + n;
    }
    return NULL;
}

/* Check a DQT segment body; mark the tables it defines. */
static const char *check_dqt(const uint8_t *p, size_t len, size_t at, uint8_t *defined, char *err, size_t err_size) {
    size_t pos = 0;
    while (pos < len) {
        int pq = p[pos] >> 4, tq = p[pos] & 15;
        if (pq > 1 || tq > 3) return fail(err, err_size, "JPEG: bad DQT table 0x%02x at %zu", p[pos], at);
        size_t need = pq ? 129 : 65;
        if (len - pos < need) return fail(err, err_size, "JPEG: DQT segment at %zu is truncated", at);
        *defined |= (uint8_t)(1u << tq);
        pos += need;
    }
    return NULL;
}

typedef struct frame_state {
    int ncomp;
    uint8_t id[4], tq[4];
    uint8_t huff[2];    /* defined Huffman tables: bit th of huff[0] (DC) and huff[1] (AC) */
    uint8_t quant;      /* defined quantisation tables */
} frame_state;

/* A scan header must only use tables defined before it: stb_image 2.27 decodes with whatever
 * its (uninitialised) table memory holds otherwise, reading out of bounds (found by our fuzzer:
 * an AC scan before its DHT). Which tables a scan uses: sequential, DC and AC; progressive, the
 * DC table in a first DC scan (Ss = 0, Ah = 0), the AC table in AC scans (Ss > 0). */
static const char *check_sos(const uint8_t *p, size_t len, size_t at, const frame_state *f, bool progressive, int scan,
                             char *err, size_t err_size) {
    if (len < 1) return fail(err, err_size, "JPEG: empty SOS at %zu", at);
    int ns = p[0];
    if (ns < 1 || ns > 4 || len < 1 + 2 * (size_t)ns + 3) return fail(err, err_size, "JPEG: bad SOS header at %zu", at);
    int ss = p[1 + 2 * ns], ah = p[3 + 2 * ns] >> 4;
    bool need_dc = progressive ? ss == 0 && ah == 0 : true, need_ac = progressive ? ss > 0 : true;
    for (int i = 0; i < ns; i++) {
        int id = p[1 + 2 * i], td = p[2 + 2 * i] >> 4, ta = p[2 + 2 * i] & 15, c = 0;
        while (c < f->ncomp && f->id[c] != id) c++;
        if (c == f->ncomp) return fail(err, err_size, "JPEG: scan %d at %zu names component %d, not in the frame", scan, at, id);
        if (!(f->quant >> f->tq[c] & 1))
            return fail(err, err_size, "JPEG: scan %d at %zu: quantisation table %d is not defined", scan, at, f->tq[c]);
        if (td > 3 || ta > 3) return fail(err, err_size, "JPEG: scan %d at %zu: bad Huffman table ids", scan, at);
        if (need_dc && !(f->huff[0] >> td & 1))
            return fail(err, err_size, "JPEG: scan %d at %zu uses DC Huffman table %d, which is not defined", scan, at, td);
        if (need_ac && !(f->huff[1] >> ta & 1))
            return fail(err, err_size, "JPEG: scan %d at %zu uses AC Huffman table %d, which is not defined", scan, at, ta);
    }
    return NULL;
}

const char *vf_jpeg_walk_markers(const uint8_t *b, size_t n, int max_scans, vf_jpeg_markers *out, char *err,
                                 size_t err_size) {
    memset(out, 0, sizeof *out);
    out->orientation = 1;
    bool exif_seen = false;
    frame_state fs;
    memset(&fs, 0, sizeof fs);
    if (n < 4 || b[0] != 0xFF || b[1] != 0xD8) return fail(err, err_size, "JPEG: no SOI marker");
    size_t pos = 2;
    for (;;) {
        /* a marker: 0xFF, optional 0xFF fill bytes, the code */
        if (pos >= n) return fail(err, err_size, "JPEG truncated: ends at %zu without an EOI marker", n);
        if (b[pos] != 0xFF) return fail(err, err_size, "JPEG: expected a marker at %zu, found 0x%02x", pos, b[pos]);
        size_t at = pos;
        while (pos < n && b[pos] == 0xFF) pos++;
        if (pos >= n) return fail(err, err_size, "JPEG truncated: ends at %zu without an EOI marker", n);
        int m = b[pos++];
        if (m == 0xD9) { /* EOI */
            if (out->scans == 0) return fail(err, err_size, "JPEG: EOI at %zu before any image data", at);
            out->end = pos;
            return NULL;
        }
        if (m == 0xD8) return fail(err, err_size, "JPEG: second SOI marker at %zu", at);
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) continue; /* RSTn outside a scan, TEM: no length */
        if (m == 0x00) return fail(err, err_size, "JPEG: invalid marker 0xFF00 at %zu", at);
        if (n - pos < 2) return fail(err, err_size, "JPEG truncated: segment length at %zu", pos);
        size_t len = (size_t)b[pos] << 8 | b[pos + 1];
        if (len < 2) return fail(err, err_size, "JPEG: segment 0x%02X at %zu has length %zu", m, at, len);
        if (len > n - pos) return fail(err, err_size, "JPEG truncated: segment 0x%02X at %zu needs %zu bytes, %zu left",
                                       m, at, len, n - pos);
        const uint8_t *body = b + pos + 2;
        size_t blen = len - 2;
        pos += len;

        if (m == 0xE1 && !exif_seen && blen >= 6 && memcmp(body, "Exif\0\0", 6) == 0) {
            exif_seen = true;
            int o = vf_exif_orientation(body + 6, blen - 6);
            if (o) out->orientation = o;
        } else if (m == 0xC4) {
            const char *e = check_dht(body, blen, at, fs.huff, err, err_size);
            if (e) return e;
        } else if (m == 0xDB) {
            const char *e = check_dqt(body, blen, at, &fs.quant, err, err_size);
            if (e) return e;
        } else if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (out->sof) return fail(err, err_size, "JPEG: second frame header (SOF 0x%02X) at %zu", m, at);
            if (blen < 6) return fail(err, err_size, "JPEG: SOF at %zu is too short", at);
            out->sof = m;
            out->height = body[1] << 8 | body[2];
            out->width = body[3] << 8 | body[4];
            out->components = body[5];
            if (body[5] < 1 || body[5] > 4 || blen < 6 + 3 * (size_t)body[5])
                return fail(err, err_size, "JPEG: SOF at %zu with %d components", at, body[5]);
            fs.ncomp = body[5];
            for (int c = 0; c < fs.ncomp; c++) {
                if (body[8 + 3 * c] > 3) return fail(err, err_size, "JPEG: SOF at %zu: bad quantisation table id", at);
                fs.id[c] = body[6 + 3 * c];
                fs.tq[c] = body[8 + 3 * c];
            }
        } else if (m == 0xDA) { /* SOS: header, then entropy-coded data up to the next marker */
            if (!out->sof) return fail(err, err_size, "JPEG: scan at %zu before the frame header", at);
            out->scans++;
            if (max_scans > 0 && out->scans > max_scans)
                return fail(err, err_size, "JPEG: more than %d scans (limit)", max_scans);
            const char *e = check_sos(body, blen, at, &fs, out->sof == 0xC2, out->scans, err, err_size);
            if (e) return e;
            for (;;) {
                const uint8_t *ff = pos < n ? memchr(b + pos, 0xFF, n - pos) : NULL;
                if (!ff) return fail(err, err_size, "JPEG truncated: image data of scan %d ends at %zu without an EOI marker",
                                     out->scans, n);
                pos = (size_t)(ff - b);
                if (pos + 1 >= n) return fail(err, err_size, "JPEG truncated: ends at %zu inside scan %d", n, out->scans);
                int c = b[pos + 1];
                if (c == 0x00 || (c >= 0xD0 && c <= 0xD7)) { pos += 2; continue; } /* stuffed byte, restart */
                if (c == 0xFF) { pos += 1; continue; }                               /* fill */
                break;                                                               /* next marker */
            }
        }
    }
}

/* ---- PNG ---------------------------------------------------------------------------------------- */

uint32_t vf_crc32(uint32_t crc, const uint8_t *p, size_t n) {
    static const uint32_t t[16] = {0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC, 0x76DC4190, 0x6B6B51F4,
                                   0x4DB26158, 0x5005713C, 0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C,
                                   0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C};
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ t[crc & 15];
        crc = (crc >> 4) ^ t[crc & 15];
    }
    return ~crc;
}

static bool chunk_letter(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

const char *vf_png_walk_chunks(const uint8_t *b, size_t n, vf_png_chunks *out, char *err, size_t err_size) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    memset(out, 0, sizeof *out);
    if (n < 8 || memcmp(b, sig, 8) != 0) return fail(err, err_size, "PNG: bad signature");
    size_t pos = 8;
    for (bool first = true;; first = false) {
        if (n - pos < 12) return fail(err, err_size, "PNG truncated: ends at %zu without an IEND chunk", n);
        uint32_t len = rd32(b + pos, false);
        const uint8_t *type = b + pos + 4;
        char name[5] = {0};
        for (int i = 0; i < 4; i++) name[i] = chunk_letter(type[i]) ? (char)type[i] : '?';
        if (!chunk_letter(type[0]) || !chunk_letter(type[1]) || !chunk_letter(type[2]) || !chunk_letter(type[3]))
            return fail(err, err_size, "PNG: bad chunk type '%s' at %zu", name, pos);
        if (len > 0x7FFFFFFFu) return fail(err, err_size, "PNG: chunk '%s' at %zu has length %u", name, pos, (unsigned)len);
        if (len > n - pos - 12)
            return fail(err, err_size, "PNG truncated: chunk '%s' at %zu needs %u bytes, %zu left", name, pos, (unsigned)len,
                        n - pos - 12);
        bool critical = !(type[0] & 0x20);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
        critical = false; /* let the fuzzer's mutations reach the decoder (the OSS-Fuzz convention) */
#endif
        if (critical && vf_crc32(0, type, 4 + (size_t)len) != rd32(type + 4 + len, false))
            return fail(err, err_size, "PNG: CRC mismatch in chunk '%s' at %zu (corrupt data)", name, pos);
        const uint8_t *d = type + 4;
        if (first != (memcmp(type, "IHDR", 4) == 0)) return fail(err, err_size, "PNG: IHDR is not the first chunk");
        if (first) {
            if (len != 13) return fail(err, err_size, "PNG: IHDR has length %u", (unsigned)len);
            uint32_t w = rd32(d, false), h = rd32(d + 4, false);
            if (w == 0 || h == 0 || w > 0x7FFFFFFFu || h > 0x7FFFFFFFu)
                return fail(err, err_size, "PNG: IHDR size %ux%u", (unsigned)w, (unsigned)h);
            out->width = (int32_t)w;
            out->height = (int32_t)h;
            out->bit_depth = d[8];
            out->color_type = d[9];
            out->interlace = d[12];
        } else if (memcmp(type, "IDAT", 4) == 0) {
            out->idat_bytes += len;
        } else if (memcmp(type, "IEND", 4) == 0) {
            if (out->idat_bytes == 0) return fail(err, err_size, "PNG: no image data (IDAT) before IEND");
            out->end = pos + 12 + len;
            return NULL;
        }
        pos += 12 + (size_t)len;
    }
}
