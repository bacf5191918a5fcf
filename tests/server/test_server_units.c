/* test_server_units.c - the server's pure parts: strict base64, ECDSA P-256 P1363 verification
 * (keys and signatures made with OpenSSL, converted as WebCrypto returns them), constant-time key
 * comparison, signal scoring, and configuration parsing (files, ranges, the session config). */
#include "../../src/server/rerun.h"

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
    cJSON *j = cJSON_Parse("{\"liveness_type\":\"adaptive\",\"face_match_threshold\":0.6,\"max_retries\":0,\"session_ttl\":120,\"good_frames\":1}");
    CHECK(!vf_srv_session_config_parse(j, &c.session, &sc, err, sizeof err) && sc.liveness_type == VF_MODE_ADAPTIVE && sc.max_retries == 0 &&
          sc.session_ttl == 120 && sc.session.good_frames == c.session.session.good_frames, "request config (good_frames not overridable)");
    cJSON_Delete(j);
    static const char *badreq[] = {"{\"liveness_type\":\"none\"}", "{\"max_retries\":11}", "{\"max_retries\":1.5}", "{\"session_ttl\":4000}",
                                   "{\"face_match_threshold\":\"high\"}", "[]"};
    for (size_t i = 0; i < sizeof badreq / sizeof *badreq; i++) {
        j = cJSON_Parse(badreq[i]);
        CHECK(vf_srv_session_config_parse(j, &c.session, &sc, err, sizeof err) != 0, "request config %s refused", badreq[i]);
        cJSON_Delete(j);
    }
}

int main(void) {
    test_b64();
    test_signature();
    test_signals();
    test_config();
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail ? 1 : 0;
}
