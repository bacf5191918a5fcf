/* test_server_units.c - the server's pure parts: strict base64, ECDSA P-256 P1363 verification
 * (keys and signatures made with OpenSSL, converted as WebCrypto returns them), constant-time key
 * comparison, signal scoring, configuration parsing (files, ranges, the session config), and
 * freshness: the pair measure, the frame signature, the timestamp rules and the store's frame
 * index (on an old-schema database, with the race re-check; also on PostgreSQL in tools/test's
 * second pass, VF_TEST_STORE=postgresql with VF_PG_URL). */
#include "../../src/server/freshness.h"
#include "../../src/server/rerun.h"

#include <math.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int g_pass, g_fail;
#define CHECK(cond, ...) do { if (cond) g_pass++; else { g_fail++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

static void test_b64(void) {
    size_t n;
    uint8_t *p = vf_srv_b64_decode("aGVsbG8=", 8, 0, &n);
    CHECK(p && n == 5 && !memcmp(p, "hello", 5), "b64 hello");
    free(p);
    static const char *bad[] = {"aGVsbG8", "aGVsbG8==", "aGVs bG8=", "aGVsbG9=", "a===", "aGVs\nbG8=", "-_-_"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        p = vf_srv_b64_decode(bad[i], strlen(bad[i]), 0, &n);
        CHECK(!p, "b64 must refuse '%s'", bad[i]);
        free(p);
    }
    p = vf_srv_b64_decode("", 0, 0, &n);
    CHECK(p && n == 0, "b64 empty");
    free(p);
    uint8_t raw[32];
    for (int i = 0; i < 32; i++) raw[i] = (uint8_t)(i * 37 + 250);
    char enc[64];
    vf_srv_b64url_encode(raw, 32, enc);
    CHECK(strlen(enc) == 43 && !strchr(enc, '=') && !strchr(enc, '+') && !strchr(enc, '/'), "b64url 32 bytes: %s", enc);
    p = vf_srv_b64_decode(enc, strlen(enc), 1, &n);
    CHECK(p && n == 32 && !memcmp(p, raw, 32), "b64url round trip");
    free(p);
    p = vf_srv_b64_decode("ab+/", 4, 1, &n);
    CHECK(!p, "b64url refuses + and /");
    free(p);
}

/* OpenSSL's DER signature -> the 64-byte r||s WebCrypto returns. */
static int der_to_p1363(const uint8_t *der, size_t n, uint8_t out[64]) {
    const unsigned char *p = der;
    ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)n);
    if (!s) return -1;
    const BIGNUM *r, *ss;
    ECDSA_SIG_get0(s, &r, &ss);
    int ok = BN_bn2binpad(r, out, 32) == 32 && BN_bn2binpad(ss, out + 32, 32) == 32;
    ECDSA_SIG_free(s);
    return ok ? 0 : -1;
}

static void test_signature(void) {
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    uint8_t *spki = NULL;
    int sl = i2d_PUBKEY(k, &spki);
    CHECK(sl > 0 && vf_srv_check_p256_spki(spki, (size_t)sl), "P-256 SPKI accepted");
    const char msg[] = "{\"format\":1,\"nonce\":\"abc\"}";
    uint8_t der[80], sig[64];
    size_t dl = sizeof der;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k);
    EVP_DigestSign(md, der, &dl, (const uint8_t *)msg, strlen(msg));
    EVP_MD_CTX_free(md);
    CHECK(der_to_p1363(der, dl, sig) == 0, "der -> p1363");
    CHECK(vf_srv_verify_p1363(spki, (size_t)sl, msg, strlen(msg), sig, 64), "valid signature verifies");
    char msg2[sizeof msg];
    memcpy(msg2, msg, sizeof msg);
    msg2[5] ^= 1;
    CHECK(!vf_srv_verify_p1363(spki, (size_t)sl, msg2, strlen(msg2), sig, 64), "changed body fails");
    sig[10] ^= 0x40;
    CHECK(!vf_srv_verify_p1363(spki, (size_t)sl, msg, strlen(msg), sig, 64), "changed signature fails");
    CHECK(!vf_srv_verify_p1363(spki, (size_t)sl, msg, strlen(msg), sig, 63), "63-byte signature fails");
    CHECK(!vf_srv_verify_p1363(spki, (size_t)sl, msg, strlen(msg), der, dl), "DER signature refused (P1363 only)");
    CHECK(!vf_srv_verify_p1363(spki, (size_t)sl - 1, msg, strlen(msg), sig, 64), "truncated key fails");
    static const uint8_t zero[64];
    CHECK(!vf_srv_verify_p1363(spki, (size_t)sl, msg, strlen(msg), zero, 64), "r = s = 0 fails");
    EVP_PKEY *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    uint8_t *spki2 = NULL;
    int sl2 = i2d_PUBKEY(k2, &spki2);
    CHECK(!vf_srv_check_p256_spki(spki2, (size_t)sl2), "P-384 key refused");
    EVP_PKEY *k3 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    uint8_t *spki3 = NULL;
    int sl3 = i2d_PUBKEY(k3, &spki3);
    CHECK(!vf_srv_check_p256_spki(spki3, (size_t)sl3), "Ed25519 key refused");
    CHECK(!vf_srv_check_p256_spki((const uint8_t *)"garbage", 7), "garbage key refused");
    OPENSSL_free(spki); OPENSSL_free(spki2); OPENSSL_free(spki3);
    EVP_PKEY_free(k); EVP_PKEY_free(k2); EVP_PKEY_free(k3);
    CHECK(vf_srv_key_equal("0123456789abcdef", "0123456789abcdef") && !vf_srv_key_equal("0123456789abcdef", "0123456789abcdeg") &&
          !vf_srv_key_equal("0123456789abcde", "0123456789abcdef"), "api key comparison");
}

static void test_signals(void) {
    static const struct { const char *json; const char *want; } T[] = {
        {"{\"camera\":{\"label\":\"OBS Virtual Camera\"}}", "signal.virtual_camera"},
        {"{\"camera\":{\"label\":\"fake_device_0\"}}", "signal.virtual_camera"},
        {"{\"camera\":{\"label\":\"ManyCam Video Source\"}}", "signal.virtual_camera"},
        {"{\"camera\":{\"label\":\"/home/x/video.y4m\"}}", "signal.virtual_camera"},
        {"{\"source\":\"video_element\",\"camera\":null}", "signal.virtual_camera"},
        {"{\"environment\":{\"webdriver\":true}}", "signal.automation"},
        {"{\"environment\":{\"user_agent\":\"Mozilla/5.0 HeadlessChrome/120\"}}", "signal.automation"},
        {"{\"environment\":{\"webgl_renderer\":\"ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device))\"}}", "signal.software_renderer"},
        {"{\"timing\":{\"frames\":80,\"analysed\":40,\"duplicates\":20,\"claimed_fps\":30,\"measured_fps\":29}}", "signal.frame_timing"},
        {"{\"timing\":{\"frames\":80,\"duplicates\":0,\"claimed_fps\":30,\"measured_fps\":9}}", "signal.frame_timing"},
        {"{\"page\":{\"visibility_changes\":1,\"blur_events\":0,\"hidden_ms\":0}}", "signal.focus_lost"},
        {"{\"camera\":{\"label\":\"FaceTime HD Camera\"},\"source\":\"camera\",\"environment\":{\"webdriver\":false,"
         "\"user_agent\":\"Mozilla/5.0 Chrome/120\",\"webgl_renderer\":\"ANGLE (Apple M1)\"},\"timing\":{\"frames\":73,"
         "\"duplicates\":1,\"claimed_fps\":30,\"measured_fps\":29.9},\"page\":{\"visibility_changes\":0}}", NULL},
        {"{\"camera\":{\"label\":\"Jobs Webcam\"}}", NULL},             /* "obs" only as a word */
        {"{\"camera\":{\"label\":42},\"timing\":\"x\",\"page\":[]}", NULL}, /* wrong types: no signal, no crash */
    };
    for (size_t i = 0; i < sizeof T / sizeof *T; i++) {
        cJSON *j = cJSON_Parse(T[i].json), *d = cJSON_CreateObject();
        const char *r[8];
        int n = vf_srv_signals_score(j, r, 8, d);
        int ok = T[i].want ? n >= 1 && !strcmp(r[0], T[i].want) : n == 0;
        CHECK(ok, "signals %s: %d reasons, first %s", T[i].json, n, n ? r[0] : "-");
        cJSON_Delete(j);
        cJSON_Delete(d);
    }
}

static void test_config(void) {
    vf_srv_config c;
    char err[512];
    char *a1[] = {"veriface-server", "--listen", "127.0.0.1:0", "--threads", "1", "--api-key", "k-0123456789abcdef", "--demo"};
    CHECK(!vf_srv_config_load(&c, 8, a1, err, sizeof err) && c.listen_port == 0 && c.threads == 1 && c.demo && c.n_keys == 1,
          "flags: %s", err);
    char *a2[] = {"veriface-server", "--listen", "nope"};
    CHECK(vf_srv_config_load(&c, 3, a2, err, sizeof err) && strstr(err, "HOST:PORT"), "bad --listen refused");
    char *a3[] = {"veriface-server", "--api-key", "short"};
    CHECK(vf_srv_config_load(&c, 3, a3, err, sizeof err), "short API key refused");
    char *a4[] = {"veriface-server", "--bogus"};
    CHECK(vf_srv_config_load(&c, 2, a4, err, sizeof err), "unknown flag refused");
    char path[] = "/tmp/vf-config-XXXXXX";
    int fd = mkstemp(path);
    const char *file = "{\"listen\":\"127.0.0.1:9999\",\"threads\":3,\"limits\":{\"max_body\":100000},"
                       "\"session\":{\"good_frames\":2,\"quality\":{\"max_motion\":5}},\"tamper\":{\"quality\":{\"yaw\":{\"abs\":7}}}}";
    CHECK(write(fd, file, strlen(file)) == (ssize_t)strlen(file), "write config");
    close(fd);
    char *a5[] = {"veriface-server", "--config", path, "--threads", "2"};
    CHECK(!vf_srv_config_load(&c, 5, a5, err, sizeof err) && c.listen_port == 9999 && c.threads == 2 && c.limits.max_body == 100000 &&
          c.session.session.good_frames == 2 && c.session.session.quality.max_motion == 5 && c.tamper.q_abs[3] == 7,
          "file then flags: %s", err);
    fd = open(path, O_WRONLY | O_TRUNC);
    const char *bad = "{\"session\":{\"good_frames\":99}}";
    CHECK(write(fd, bad, strlen(bad)) == (ssize_t)strlen(bad), "write config");
    close(fd);
    CHECK(vf_srv_config_load(&c, 3, a5, err, sizeof err) && strstr(err, "good_frames"), "out-of-range file value refused: %s", err);
    fd = open(path, O_WRONLY | O_TRUNC);
    const char *typo = "{\"session\":{\"quality\":{\"max_mition\":1}}}";
    CHECK(write(fd, typo, strlen(typo)) == (ssize_t)strlen(typo), "write config");
    close(fd);
    CHECK(vf_srv_config_load(&c, 3, a5, err, sizeof err) && strstr(err, "max_mition"), "unknown quality threshold refused: %s", err);
    fd = open(path, O_WRONLY | O_TRUNC);
    const char *typo2 = "{\"limits\":{\"per_ip_rte\":1}}";
    CHECK(write(fd, typo2, strlen(typo2)) == (ssize_t)strlen(typo2), "write config");
    close(fd);
    CHECK(vf_srv_config_load(&c, 3, a5, err, sizeof err) && strstr(err, "limits.per_ip_rte"), "unknown key refused: %s", err);
    /* every threshold round-trips through the session JSON */
    vf_srv_config_defaults(&c);
    c.session.session.quality.min_sharpness_dir = 0.125f;
    c.session.session.quality.max_yaw = 33;
    cJSON *sj = vf_srv_session_config_json(&c.session);
    vf_quality_config q2 = vf_quality_default_config();
    CHECK(!vf_srv_quality_config_apply(cJSON_GetObjectItemCaseSensitive(sj, "quality"), &q2, err, sizeof err) &&
          q2.min_sharpness_dir == 0.125f && q2.max_yaw == 33 && !memcmp(&q2, &c.session.session.quality, sizeof q2),
          "quality config round trip: %s", err);
    cJSON_Delete(sj);
    unlink(path);
    /* a session request's config: only the public fields, ranges checked */
    vf_srv_config_defaults(&c);
    vf_srv_session_config sc;
    cJSON *j = cJSON_Parse("{\"liveness_type\":\"adaptive\",\"face_match_threshold\":0.6,\"max_retries\":0,\"session_ttl\":120}");
    CHECK(!vf_srv_session_config_parse(j, &c.session, &sc, err, sizeof err) && sc.liveness_type == VF_MODE_ADAPTIVE && sc.max_retries == 0 &&
          sc.session_ttl == 120 && sc.session.good_frames == c.session.session.good_frames, "request config: %s", err);
    cJSON_Delete(j);
    static const char *badreq[] = {"{\"liveness_type\":\"none\"}", "{\"max_retries\":11}", "{\"max_retries\":1.5}", "{\"session_ttl\":4000}",
                                   "{\"face_match_threshold\":\"high\"}", "[]",
                                   /* server-only fields and typos are refused, never silently ignored */
                                   "{\"good_frames\":1}", "{\"quality\":{\"min_face_width\":0.6}}", "{\"max_retry\":2}"};
    for (size_t i = 0; i < sizeof badreq / sizeof *badreq; i++) {
        j = cJSON_Parse(badreq[i]);
        CHECK(vf_srv_session_config_parse(j, &c.session, &sc, err, sizeof err) != 0, "request config %s refused", badreq[i]);
        cJSON_Delete(j);
    }
}

/* ---- freshness ------------------------------------------------------------------------------- */


static uint32_t rng_state;
static int rnd_noise(void) { rng_state = rng_state * 1664525u + 1013904223u; return (int)(rng_state >> 28) - 8; }   /* -8..7: a noisy sensor */

/* A textured scene 160x120 (RGBA) with a bright square at (px, py), sensor noise of seed `seed`
 * (0 = none), brightness offset `bright`, the whole picture moved right by `shift` pixels. */
static void scene(vf_image_buffer *b, uint8_t *px_out, int px, int py, uint32_t seed, int bright, int shift) {
    enum { W = 160, H = 120 };
    b->width = W; b->height = H; b->stride = W * 4; b->format = VF_PIXEL_RGBA8; b->data = px_out; b->block_ = NULL;
    rng_state = seed;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int sx = x - shift < 0 ? 0 : x - shift;
            double v = 110 + 40 * sin(sx * 0.21) * cos(y * 0.17) + 25 * sin((sx + 2 * y) * 0.9);
            if (sx >= px && sx < px + 24 && y >= py && y < py + 24) v += 60;
            int n = seed ? rnd_noise() : 0, t = (int)lrint(v) + n + bright;
            uint8_t *d = px_out + ((size_t)y * W + x) * 4;
            d[0] = d[1] = d[2] = (uint8_t)(t < 0 ? 0 : t > 255 ? 255 : t);
            d[3] = 255;
        }
}

static void test_freshness_measures(void) {
    static uint8_t p[6][160 * 120 * 4];
    vf_image_buffer b[6];
    scene(&b[0], p[0], 60, 40, 0, 0, 0);        /* the still */
    scene(&b[1], p[1], 60, 40, 0, 2, 1);        /* a copy: +2 brightness, 1 px right */
    scene(&b[2], p[2], 60, 40, 0, -1, -1);      /* another: -1, 1 px left (2 px from the first copy) */
    scene(&b[3], p[3], 64, 42, 0, 0, 0);        /* the square moved by 4 px: a new frame */
    scene(&b[4], p[4], 60, 40, 7, 0, 0);        /* the still with strong sensor noise ... */
    scene(&b[5], p[5], 60, 40, 8, 0, 0);        /* ... and other noise: both static, both real */
    vf_srv_luma l[6];
    for (int i = 0; i < 6; i++) CHECK(!vf_srv_luma_make(&b[i], &l[i]), "luma %d", i);
    vf_srv_config c;
    vf_srv_config_defaults(&c);
    const vf_srv_freshness_config *fc = &c.freshness;
    vf_srv_frame_diff d;
#define DUP(d) ((d).change < fc->dup_change && (d).residual < fc->dup_residual)
    vf_srv_frame_diff_measure(&l[0], &l[0], &d);
    CHECK(d.change == 0 && d.residual == 0 && DUP(d), "identical: change %g residual %g", d.change, d.residual);
    vf_srv_frame_diff_measure(&l[0], &l[1], &d);
    CHECK(DUP(d) && d.dx == 1 && d.dy == 0 && d.change < 0.5f, "brightened, shifted copy: change %g residual %g shift %d,%d", d.change, d.residual, d.dx, d.dy);
    vf_srv_frame_diff_measure(&l[1], &l[2], &d);
    CHECK(DUP(d) && d.dx == -2, "two copies 2 px apart: change %g residual %g shift %d", d.change, d.residual, d.dx);
    vf_srv_frame_diff_measure(&l[0], &l[3], &d);
    CHECK(!DUP(d) && d.change > 10, "moved square: change %g", d.change);
    vf_srv_frame_diff_measure(&l[4], &l[5], &d);
    CHECK(!DUP(d) && d.residual > fc->dup_residual, "static scene, sensor noise: residual %g", d.residual);
    vf_srv_luma small;
    vf_image_buffer sb = b[0];
    sb.width = 100;
    CHECK(!vf_srv_luma_make(&sb, &small), "luma of a crop");
    vf_srv_frame_diff_measure(&l[0], &small, &d);
    CHECK(isinf(d.change) && isinf(d.residual), "different sizes are not compared");
    vf_srv_luma_free(&small);
    /* tiny frames (a 1x1 or 3x2 JPEG is a valid frame): no crash, not comparable by pixels */
    uint8_t tiny[3 * 2 * 4] = {0};
    vf_image_buffer tb = {3, 2, 12, VF_PIXEL_RGBA8, tiny, NULL};
    vf_srv_luma tl[2];
    vf_srv_frame_print *tp = malloc(sizeof *tp);
    for (int k = 0; k < 2; k++) {
        tb.width = k ? 1 : 3; tb.height = k ? 1 : 2;
        CHECK(!vf_srv_luma_make(&tb, &tl[k]), "tiny luma %d", k);
        vf_srv_frame_print_make(&tl[k], tiny, 4, tp);
        CHECK(isfinite(vf_srv_print_distance(tp, tp->thumb)), "tiny signature %d", k);
    }
    vf_srv_frame_diff_measure(&tl[0], &tl[0], &d);
    CHECK(isinf(d.change), "a 3x2 frame is not compared by pixels");
    vf_srv_luma_free(&tl[0]);
    vf_srv_luma_free(&tl[1]);
    free(tp);
    /* the signature: a copy fits, the moved square does not */
    vf_srv_frame_print *q = malloc(3 * sizeof *q);
    vf_srv_frame_print_make(&l[0], (const uint8_t *)"a", 1, &q[0]);
    vf_srv_frame_print_make(&l[1], (const uint8_t *)"b", 1, &q[1]);
    vf_srv_frame_print_make(&l[3], (const uint8_t *)"c", 1, &q[2]);
    CHECK(!strcmp(q[0].sha256, "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"), "sha256 of the bytes");
    float dc = vf_srv_print_distance(&q[1], q[0].thumb), dm = vf_srv_print_distance(&q[2], q[0].thumb);
    int hc = vf_srv_hamming64(q[0].phash, q[1].phash);
    CHECK(hc <= fc->replay_hamming && dc < fc->replay_distance, "copy: hash distance %d, thumbnail distance %g", hc, dc);
    CHECK(dm > fc->replay_distance, "moved square: thumbnail distance %g", dm);
    CHECK(vf_srv_print_distance(&q[0], q[0].thumb) < 1e-3f, "itself: 0");
    CHECK(vf_srv_hamming64(0xF0F0, 0x0FF0) == 8, "hamming");
    free(q);
    for (int i = 0; i < 6; i++) vf_srv_luma_free(&l[i]);
}

static void test_timestamps(void) {
    vf_srv_config c;
    vf_srv_config_defaults(&c);
    const double C = 1764615000000.0;   /* created_at, client clock */
    struct { const char *name; double ts[5]; double elapsed, fps; int bad, frame; } T[] = {
        {"a camera at 15 fps", {C - 300, C - 233, C - 166, C - 100, C - 33}, 5000, 15, 0, -1},
        {"1e308", {C - 300, C - 233, C - 166, C - 100, 1e308}, 5000, 0, 1, 4},
        {"not finite", {C - 300, C - 233, NAN, C - 100, C - 33}, 5000, 0, 1, 2},
        {"negative", {-300, -233, -166, -100, -33}, 5000, 0, 1, 0},
        {"1e-300 apart", {0, 1e-300, 2e-300, 3e-300, 4e-300}, 5000, 0, 1, 0},
        {"decreasing", {C - 33, C - 100, C - 166, C - 233, C - 300}, 5000, 0, 1, 1},
        {"equal", {C - 300, C - 300, C - 166, C - 100, C - 33}, 5000, 0, 1, 1},
        {"1 ms apart", {C - 34, C - 33, C - 32, C - 31, C - 30}, 5000, 0, 1, 1},
        {"8.4 ms apart (120 fps)", {C - 64, C - 55.6, C - 47.2, C - 38.8, C - 30.4}, 5000, 0, 0, -1},
        {"20 ms apart at a claimed 15 fps", {C - 110, C - 90, C - 70, C - 50, C - 30}, 5000, 15, 1, 4},   /* the mean */
        {"15 fps with one pair 31.9 ms apart (jitter)", {C - 360, C - 294, C - 194, C - 162.1, C - 96}, 5000, 15, 0, -1},
        {"20 ms apart at a claimed 60 fps", {C - 110, C - 90, C - 70, C - 50, C - 30}, 5000, 60, 0, -1},
        {"1600 ms apart", {C - 6430, C - 4830, C - 3230, C - 1630, C - 30}, 10000, 0, 1, 1},
        {"before the nonce", {C - 60300, C - 60233, C - 60166, C - 60100, C - 60033}, 5000, 0, 1, 0},
        {"a minute of capture after an old nonce", {C - 60300, C - 60233, C - 60166, C - 60100, C - 60033}, 61000, 0, 0, -1},
        {"the last frame after created_at", {C - 300, C - 233, C - 166, C - 100, C + 1500}, 5000, 0, 1, 4},
    };
    for (size_t i = 0; i < sizeof T / sizeof *T; i++) {
        char why[256];
        int f;
        int r = vf_srv_timestamps_check(T[i].ts, 5, C, T[i].elapsed, T[i].fps, &c.freshness, why, sizeof why, &f);
        CHECK(r == T[i].bad && f == T[i].frame && (!r || why[0]), "timestamps %s: %d frame %d (%s)", T[i].name, r, f, why);
    }
}

static void frame_index_on(const char *url, const char *what);

/* The index on a database of the schema before it (the server opens old databases). */
static void test_frame_index(void) {
    char path[] = "/tmp/vf-index-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK &&
          sqlite3_exec(db, "CREATE TABLE sessions (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
                           " public_key BLOB NOT NULL, config TEXT NOT NULL, reference BLOB, external_ref TEXT, final INTEGER NOT NULL DEFAULT 0,"
                           " decision TEXT, attempt INTEGER NOT NULL DEFAULT 1, uncertain_count INTEGER NOT NULL DEFAULT 0,"
                           " fail_count INTEGER NOT NULL DEFAULT 0, challenge_passed INTEGER NOT NULL DEFAULT 0, decided_at INTEGER);"
                           "CREATE TABLE attempts (session_id TEXT NOT NULL REFERENCES sessions(id), attempt INTEGER NOT NULL,"
                           " nonce TEXT NOT NULL UNIQUE, issued_at INTEGER NOT NULL, used_at INTEGER, challenge TEXT, decision TEXT, detail TEXT,"
                           " decided_at INTEGER, PRIMARY KEY (session_id, attempt));"
                           "CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, route TEXT NOT NULL, session_id TEXT,"
                           " attempt INTEGER, request_sha256 TEXT, remote TEXT, status INTEGER NOT NULL, code TEXT, decision TEXT, reasons TEXT,"
                           " detail TEXT);", NULL, NULL, NULL) == SQLITE_OK,
          "old-schema database");
    sqlite3_close(db);
    frame_index_on(path, "the store opens an old database");
    unlink(path);
    char wal[64];
    snprintf(wal, sizeof wal, "%s-wal", path); unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path); unlink(wal);
}

/* The same on PostgreSQL (tools/test's second pass: VF_TEST_STORE=postgresql, VF_PG_URL = the
 * throwaway cluster), in a new database: the advisory lock's re-check in store_pg.c. */
static void test_frame_index_pg(void) {
    const char *base = getenv("VF_PG_URL");
    if (!getenv("VF_TEST_STORE") || strcmp(getenv("VF_TEST_STORE"), "postgresql") || !base) return;
    char name[32], url[1024];
    snprintf(name, sizeof name, "vf_units_%d", (int)getpid());
    const char *slash = strrchr(base, '/');
    snprintf(url, sizeof url, "%.*s/%s", (int)(slash ? slash - base : (long)strlen(base)), base, name);
    PGconn *pc = PQconnectdb(base);
    char q[64];
    snprintf(q, sizeof q, "CREATE DATABASE %s", name);
    PGresult *r = PQexec(pc, q);
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK, "postgresql: %s", PQerrorMessage(pc));
    PQclear(r);
    frame_index_on(url, "the store opens a new PostgreSQL database");
    snprintf(q, sizeof q, "DROP DATABASE %s", name);
    PQclear(PQexec(pc, q));
    PQfinish(pc);
}

/* The frame index of the store at `url`: exact and similar hits, a new frame, and the re-check
 * that refuses a commit after a concurrent decision indexed the same frame. */
static void frame_index_on(const char *url, const char *what) {
    vf_srv_store *st;
    char err[256];
    CHECK(!vf_srv_store_open(url, &st, err, sizeof err), "%s: %s", what, err);
    if (!st) return;
    vf_srv_config c;
    vf_srv_config_defaults(&c);
    static uint8_t p[4][160 * 120 * 4];
    vf_image_buffer b[4];
    scene(&b[0], p[0], 30, 30, 0, 0, 0);
    scene(&b[1], p[1], 90, 60, 0, 0, 0);
    scene(&b[2], p[2], 30, 30, 0, 2, 1);      /* copy of 0 */
    scene(&b[3], p[3], 50, 80, 0, 0, 0);      /* new */
    vf_srv_frame_print *pr = malloc(4 * sizeof *pr);
    for (int i = 0; i < 4; i++) {
        vf_srv_luma l;
        vf_srv_luma_make(&b[i], &l);
        char bytes[8];
        snprintf(bytes, sizeof bytes, "f%d", i);
        vf_srv_frame_print_make(&l, (const uint8_t *)bytes, strlen(bytes), &pr[i]);
        vf_srv_luma_free(&l);
    }
    vf_srv_session *ss = calloc(2, sizeof *ss);
    for (int k = 0; k < 2; k++) {
        snprintf(ss[k].id, sizeof ss[k].id, "%032d", k + 1);
        ss[k].expires_at = vf_srv_now_ms() + 60000;
        ss[k].pubkey_len = 4;
        ss[k].cfg = c.session;
        snprintf(ss[k].nonce, sizeof ss[k].nonce, "nonce-%d", k);
        vf_srv_audit a = {"sessions_create", ss[k].id, NULL, "127.0.0.1", 1, 201, "created", NULL, NULL, NULL};
        CHECK(!vf_srv_store_create_session(st, &ss[k], &a), "session %d", k);
    }
    vf_srv_index_hit hits[4];
    float near[4];
    int cand;
    int64_t seen;
    CHECK(vf_srv_store_index_find(st, pr, 2, 0, &c.freshness, hits, near, &cand, &seen) == 0 && seen == 0 && isinf(near[0]), "empty index");
    /* session 2 searched before session 1's decision: its commit must see session 1's frames */
    int64_t seen2 = seen;
    vf_srv_audit a = {"result", ss[0].id, "h", "127.0.0.1", 1, 200, "approve", "approve", "[]", "{}"};
    float emb[4] = {0.5f, -0.5f, 0.5f, 0.5f}, got[8];
    int dim = 0;
    char model[65];
    vf_srv_outcome o = {1, "approve", 1, "{}", 0, 0, 0, NULL, NULL, vf_srv_now_ms(), pr, 2, seen, &c.freshness, "h1", "{\"final\":true}",
                        NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, emb, 4, "model-hash"};
    CHECK(vf_srv_store_record_outcome(st, ss[0].id, &o, &a) == 0, "decision 1 with its frames");
    /* the embedding is written in the decision's transaction: there with it, absent when it is refused */
    CHECK(vf_srv_store_get_embedding(st, ss[0].id, got, 8, &dim, model) == 1 && dim == 4 && !memcmp(got, emb, sizeof emb) &&
          !strcmp(model, "model-hash"), "the decision's embedding");
    int nh = vf_srv_store_index_find(st, pr, 4, 0, &c.freshness, hits, near, &cand, &seen);
    CHECK(nh == 3 && seen == 2, "hits %d, last id %lld", nh, (long long)seen);
    CHECK(nh == 3 && hits[0].frame == 0 && hits[0].exact && hits[1].frame == 1 && hits[1].exact && !strcmp(hits[0].session_id, ss[0].id),
          "exact hits");
    CHECK(nh == 3 && hits[2].frame == 2 && !hits[2].exact && hits[2].distance < c.freshness.replay_distance && hits[2].attempt == 1,
          "the brightened, shifted copy found by its signature (distance %g)", nh == 3 ? hits[2].distance : -1);
    CHECK(isinf(near[3]) || near[3] > c.freshness.replay_distance, "the new frame is no replay (%g)", near[3]);
    vf_srv_outcome o2 = {1, "approve", 1, "{}", 0, 0, 0, NULL, NULL, vf_srv_now_ms(), pr + 2, 2, seen2, &c.freshness, "h2", "{}",
                         NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, emb, 4, "model-hash"};
    a.session_id = ss[1].id;
    CHECK(vf_srv_store_record_outcome(st, ss[1].id, &o2, &a) == 2, "a frame indexed since the search: refused, decide again");
    CHECK(vf_srv_store_get_embedding(st, ss[1].id, got, 8, &dim, model) == 0, "a refused decision wrote no embedding");
    o2.index_seen = seen;
    o2.recheck = NULL;   /* decided again (a reject): committed with its frames, without an embedding */
    o2.decision = "reject";
    o2.emb = NULL;
    CHECK(vf_srv_store_record_outcome(st, ss[1].id, &o2, &a) == 0, "second decision");
    CHECK(vf_srv_store_index_find(st, pr + 3, 1, 0, &c.freshness, hits, near, &cand, &seen) == 1 && hits[0].exact &&
          !strcmp(hits[0].session_id, ss[1].id) && seen == 4, "the second package's frames are indexed");
    CHECK(vf_srv_store_get_embedding(st, ss[1].id, got, 8, &dim, model) == 0, "a rejected capture's template is not kept");
    vf_srv_store_close(st);
    free(ss);
    free(pr);
}

static void test_freshness_config(void) {
    vf_srv_config c;
    char err[512], path[] = "/tmp/vf-config-XXXXXX";
    static const struct { const char *json; const char *err; } T[] = {
        {"{\"freshness\":{\"duplicate_change\":3,\"replay_hamming\":3,\"max_frame_interval_ms\":2000}}", NULL},
        {"{\"freshness\":{\"replay_hamming\":8}}", "replay_hamming"},
        {"{\"freshness\":{\"replay_distance\":-1}}", "replay_distance"},
        {"{\"freshness\":{\"min_frame_interval_ms\":100,\"max_frame_interval_ms\":50}}", "min_frame_interval_ms"},
        {"{\"freshness\":{\"duplicate_mad\":1}}", "freshness.duplicate_mad"},
    };
    for (size_t i = 0; i < sizeof T / sizeof *T; i++) {
        int fd = mkstemp(path);
        CHECK(write(fd, T[i].json, strlen(T[i].json)) == (ssize_t)strlen(T[i].json), "write config");
        close(fd);
        char *argv[] = {"veriface-server", "--config", path};
        int rc = vf_srv_config_load(&c, 3, argv, err, sizeof err);
        CHECK(T[i].err ? rc && strstr(err, T[i].err) : !rc && c.freshness.dup_change == 3 && c.freshness.replay_hamming == 3 &&
                                                         c.freshness.max_interval_ms == 2000 && c.freshness.replay_distance == 0.6f,
              "freshness config %s: %s", T[i].json, rc ? err : "ok");
        unlink(path);
        strcpy(path, "/tmp/vf-config-XXXXXX");
    }
}

int main(void) {
    test_b64();
    test_signature();
    test_signals();
    test_config();
    test_freshness_measures();
    test_timestamps();
    test_frame_index();
    test_frame_index_pg();
    test_freshness_config();
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
