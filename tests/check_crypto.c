/*
 * check_crypto.c - known answers and tamper tests for crypto/
 */
#include <check.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "wg_buf.h"
#include "wg_crypto.h"

static void unhex(uint8_t *out, size_t n, const char *hex)
{
    ck_assert_int_eq(wg_hex_decode(out, n, hex, NULL), WG_OK);
}

/* The cases the tests run in: fixture and time limit. */
static const tu_case case_known_answers = {"known_answers", NULL, NULL, 0};
static const tu_case case_tamper = {"tamper", NULL, NULL, 0};
static const tu_case case_keyfile = {"keyfile", NULL, NULL, 60};
static const tu_case case_encoding = {"encoding", NULL, NULL, 0};

START_TEST(test_crypto_blake2b_256_known_answer)
{
    uint8_t h[32], want[32];
    wg_hash(h, "", 0);
    unhex(want, 32,
          "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
    ck_assert_mem_eq(h, want, 32);

    wg_hash_state s;
    uint8_t h2[32];
    wg_hash_init(&s);
    wg_hash_update(&s, "ab", 2);
    wg_hash_update(&s, "c", 1);
    wg_hash_final(&s, h2);
    wg_hash(h, "abc", 3);
    ck_assert_mem_eq(h, h2, 32);
}
END_TEST

START_TEST(test_crypto_ed25519_rfc8032_vector_1)
{
    uint8_t seed[32], pk[32], sk[64], want_pk[32], want_sig[64], sig[64];
    unhex(seed, 32,
          "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    unhex(want_pk, 32,
          "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    unhex(want_sig, 64,
          "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
          "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
    crypto_sign_seed_keypair(pk, sk, seed);
    ck_assert_mem_eq(pk, want_pk, 32);
    wg_sign(sig, "", 0, sk);
    ck_assert_mem_eq(sig, want_sig, 64);
    ck_assert_int_eq(wg_verify(sig, "", 0, pk), WG_OK);
    sig[10] ^= 1;
    ck_assert_int_eq(wg_verify(sig, "", 0, pk), WG_ERR_AUTH);
}
END_TEST

START_TEST(test_crypto_signature_of_other_message_or_key_fails)
{
    uint8_t pk[32], sk[64], pk2[32], sk2[64], sig[64];
    wg_sign_keypair(pk, sk);
    wg_sign_keypair(pk2, sk2);
    wg_sign(sig, "change", 6, sk);
    ck_assert_int_eq(wg_verify(sig, "change", 6, pk), WG_OK);
    ck_assert_int_eq(wg_verify(sig, "chang3", 6, pk), WG_ERR_AUTH);
    ck_assert_int_eq(wg_verify(sig, "change", 6, pk2), WG_ERR_AUTH);
}
END_TEST

START_TEST(test_crypto_curve_form_matches_libsodium)
{
    uint8_t pk[32], sk[64], cpk[32], csk[32], derived[32];
    wg_sign_keypair(pk, sk);
    ck_assert_int_eq(wg_sign_pk_to_curve(cpk, pk, NULL), WG_OK);
    ck_assert_int_eq(wg_sign_sk_to_curve(csk, sk, NULL), WG_OK);
    crypto_scalarmult_base(derived, csk);
    ck_assert_mem_eq(derived, cpk, 32);
}
END_TEST

static const char *xc_plain =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one "
    "tip for the future, sunscreen would be it.";

START_TEST(test_crypto_xchacha20poly1305_known_answer)
{
    uint8_t key[32], nonce[24], ad[12], ct[114], tag[16], want_ct[114],
        want_tag[16], back[114];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(0x80 + i);
    unhex(nonce, 24, "404142434445464748494a4b4c4d4e4f5051525354555657");
    unhex(ad, 12, "50515253c0c1c2c3c4c5c6c7");
    unhex(want_ct, 114,
          "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
          "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
          "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
          "21f9664c97637da9768812f615c68b13b52e");
    unhex(want_tag, 16, "c0875924c1c7987947deafd8780acf49");
    ck_assert_uint_eq(strlen(xc_plain), 114);
    wg_aead_seal(ct, tag, (const uint8_t *)xc_plain, 114, ad, 12, nonce, key);
    ck_assert_mem_eq(ct, want_ct, 114);
    ck_assert_mem_eq(tag, want_tag, 16);
    ck_assert_int_eq(wg_aead_open(back, ct, 114, tag, ad, 12, nonce, key),
                     WG_OK);
    ck_assert_mem_eq(back, xc_plain, 114);
}
END_TEST

START_TEST(test_crypto_aead_tamper_is_auth_error_and_leaks_nothing)
{
    uint8_t key[32], nonce[24], plain[256], ct[256], tag[16], out[256];
    uint8_t ad[8] = "page0001";
    wg_random(key, sizeof key);
    memset(plain, 'P', sizeof plain);
    wg_nonce_next(nonce);
    wg_aead_seal(ct, tag, plain, sizeof plain, ad, sizeof ad, nonce, key);
    /* One flipped bit in any of ciphertext, tag, nonce, ad. */
    for (int where = 0; where < 4; where++) {
        uint8_t c2[256], t2[16], n2[24], a2[8];
        memcpy(c2, ct, sizeof c2);
        memcpy(t2, tag, sizeof t2);
        memcpy(n2, nonce, sizeof n2);
        memcpy(a2, ad, sizeof a2);
        if (where == 0) c2[100] ^= 0x10;
        if (where == 1) t2[3] ^= 0x01;
        if (where == 2) n2[20] ^= 0x80;
        if (where == 3) a2[7] ^= 0x02;
        memset(out, 'P', sizeof out);
        ck_assert_int_eq(wg_aead_open(out, c2, sizeof c2, t2, a2, sizeof a2,
                                      n2, key),
                         WG_ERR_AUTH);
        for (size_t i = 0; i < sizeof out; i++)
            ck_assert_int_eq(out[i], 0);
    }
}
END_TEST

START_TEST(test_crypto_nonces_never_repeat)
{
    enum { N = 10000 };
    uint8_t (*n)[24] = malloc(N * 24);
    for (int i = 0; i < N; i++)
        wg_nonce_next(n[i]);
    for (int i = 1; i < N; i++) {
        ck_assert_mem_eq(n[i], n[0], 16);          /* one prefix */
        ck_assert(memcmp(n[i], n[i - 1], 24) != 0); /* a new counter */
    }
    free(n);
}
END_TEST

/* A forked child must not repeat its parent's nonces or small random
 * draws (both come from per-process state refreshed on fork). */
START_TEST(test_crypto_fork_child_draws_afresh)
{
    uint8_t a[24], b[24], ra[16], rb[16];
    wg_nonce_next(a);
    wg_random(ra, sizeof ra);
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        uint8_t both[40];
        wg_nonce_next(both);
        wg_random(both + 24, 16);
        _exit(write(fd[1], both, sizeof both) == (ssize_t)sizeof both ? 0 : 1);
    }
    uint8_t child[40];
    ck_assert_int_eq(read(fd[0], child, sizeof child), (ssize_t)sizeof child);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(fd[0]);
    close(fd[1]);
    wg_nonce_next(b);
    wg_random(rb, sizeof rb);
    /* The parent goes on with its prefix; the child drew another, and its
     * random bytes are not the parent's next ones. */
    ck_assert_mem_eq(a, b, 16);
    ck_assert(memcmp(child, a, 16) != 0);
    ck_assert(memcmp(child + 24, rb, 16) != 0);
    ck_assert(memcmp(child + 24, ra, 16) != 0);
}
END_TEST

static void seal_test_keyfile(uint8_t kf[WG_KEYFILE_BYTES], uint8_t key[32],
                              uint8_t dbid[16])
{
    wg_random(key, 32);
    wg_random(dbid, 16);
    ck_assert_int_eq(wg_keyfile_seal(kf, key, dbid, "correct horse", 13,
                                     WG_KDF_INTERACTIVE, NULL),
                     WG_OK);
}

START_TEST(test_crypto_keyfile_round_trip)
{
    uint8_t kf[WG_KEYFILE_BYTES], key[32], dbid[16], key2[32], dbid2[16];
    wg_kdf kdf = 0;
    seal_test_keyfile(kf, key, dbid);
    ck_assert_mem_eq(kf, "WINGSKEY", 8);
    ck_assert_int_eq(wg_keyfile_open(kf, sizeof kf, "correct horse", 13,
                                     key2, dbid2, &kdf, NULL),
                     WG_OK);
    ck_assert_mem_eq(key, key2, 32);
    ck_assert_mem_eq(dbid, dbid2, 16);
    ck_assert_int_eq(kdf, WG_KDF_INTERACTIVE);
    /* The data key never stands in the file in the clear. */
    ck_assert_ptr_null(memmem(kf, sizeof kf, key, 32));
}
END_TEST

START_TEST(test_crypto_keyfile_wrong_passphrase_is_auth_error)
{
    uint8_t kf[WG_KEYFILE_BYTES], key[32], dbid[16], key2[32], dbid2[16];
    wg_err err = { 0 };
    seal_test_keyfile(kf, key, dbid);
    memset(key2, 0xaa, sizeof key2);
    ck_assert_int_eq(wg_keyfile_open(kf, sizeof kf, "correct horsf", 13, key2,
                                     dbid2, NULL, &err),
                     WG_ERR_AUTH);
    ck_assert_str_eq(err.msg, "wrong passphrase");
    for (int i = 0; i < 32; i++)
        ck_assert_int_eq(key2[i], 0);
}
END_TEST

START_TEST(test_crypto_keyfile_any_altered_byte_is_refused)
{
    uint8_t kf[WG_KEYFILE_BYTES], key[32], dbid[16], key2[32], dbid2[16];
    seal_test_keyfile(kf, key, dbid);
    /* Every byte outside the cost fields (which are bounds-checked before
     * use and would make this test slow) fails to open when flipped. */
    for (int i = 0; i < WG_KEYFILE_BYTES; i += 3) {
        if (i >= 12 && i < 24)
            continue;
        uint8_t t[WG_KEYFILE_BYTES];
        memcpy(t, kf, sizeof t);
        t[i] ^= 0x01;
        wg_rc rc = wg_keyfile_open(t, sizeof t, "correct horse", 13, key2,
                                   dbid2, NULL, NULL);
        ck_assert_msg(rc == WG_ERR_AUTH || rc == WG_ERR_CORRUPT,
                      "byte %d flipped gave %d", i, rc);
    }
}
END_TEST

START_TEST(test_crypto_keyfile_hostile_header_is_corrupt)
{
    uint8_t kf[WG_KEYFILE_BYTES], key[32], dbid[16], key2[32], dbid2[16];
    wg_err err = { 0 };
    seal_test_keyfile(kf, key, dbid);
    ck_assert_int_eq(wg_keyfile_open(kf, 127, "x", 1, key2, dbid2, NULL, &err),
                     WG_ERR_CORRUPT);
    uint8_t t[WG_KEYFILE_BYTES];
    memcpy(t, kf, sizeof t);
    t[23] = 0x7f; /* memlimit of petabytes */
    ck_assert_int_eq(wg_keyfile_open(t, sizeof t, "x", 1, key2, dbid2, NULL,
                                     &err),
                     WG_ERR_CORRUPT);
    memcpy(t, kf, sizeof t);
    t[0] = 'X';
    ck_assert_int_eq(wg_keyfile_open(t, sizeof t, "x", 1, key2, dbid2, NULL,
                                     &err),
                     WG_ERR_CORRUPT);
    ck_assert_str_eq(err.msg, "not a wings key file");
}
END_TEST

START_TEST(test_crypto_hex_rejects_bad_input)
{
    uint8_t b[2];
    char s[5];
    ck_assert_int_eq(wg_hex_decode(b, 2, "0a1B", NULL), WG_OK);
    ck_assert_int_eq(b[0], 0x0a);
    ck_assert_int_eq(b[1], 0x1b);
    wg_hex_encode(s, b, 2);
    ck_assert_str_eq(s, "0a1b");
    ck_assert_int_eq(wg_hex_decode(b, 2, "0a1", NULL), WG_ERR_INVALID);
    ck_assert_int_eq(wg_hex_decode(b, 2, "0a1g", NULL), WG_ERR_INVALID);
    ck_assert_int_eq(wg_hex_decode(b, 2, "0a1b2", NULL), WG_ERR_INVALID);
}
END_TEST

START_TEST(test_crypto_buf_enforces_its_maximum)
{
    wg_buf b;
    wg_buf_init(&b, 10);
    ck_assert_int_eq(wg_buf_append(&b, "0123456789", 10, NULL), WG_OK);
    ck_assert_int_eq(wg_buf_append_u8(&b, 1, NULL), WG_ERR_INVALID);
    ck_assert_uint_eq(b.len, 10);
    wg_buf_release(&b);

    uint8_t raw[5] = { 0, 0, 0, 9, 7 };
    wg_reader r;
    uint32_t v;
    uint16_t w;
    wg_reader_init(&r, raw, sizeof raw);
    ck_assert(wg_reader_u32(&r, &v));
    ck_assert_uint_eq(v, 9);
    ck_assert(!wg_reader_u16(&r, &w));
    ck_assert(r.bad);
    uint8_t u;
    ck_assert(!wg_reader_u8(&r, &u)); /* sticky */
}
END_TEST

static const tu_test tests[] = {
    TU_TEST(case_known_answers, test_crypto_blake2b_256_known_answer),
    TU_TEST(case_known_answers, test_crypto_ed25519_rfc8032_vector_1),
    TU_TEST(case_known_answers, test_crypto_xchacha20poly1305_known_answer),
    TU_TEST(case_tamper, test_crypto_signature_of_other_message_or_key_fails),
    TU_TEST(case_tamper, test_crypto_aead_tamper_is_auth_error_and_leaks_nothing),
    TU_TEST(case_tamper, test_crypto_curve_form_matches_libsodium),
    TU_TEST(case_tamper, test_crypto_nonces_never_repeat),
    TU_TEST(case_tamper, test_crypto_fork_child_draws_afresh),
    TU_TEST(case_keyfile, test_crypto_keyfile_round_trip),
    TU_TEST(case_keyfile, test_crypto_keyfile_wrong_passphrase_is_auth_error),
    TU_TEST(case_keyfile, test_crypto_keyfile_any_altered_byte_is_refused),
    TU_TEST(case_keyfile, test_crypto_keyfile_hostile_header_is_corrupt),
    TU_TEST(case_encoding, test_crypto_hex_rejects_bad_input),
    TU_TEST(case_encoding, test_crypto_buf_enforces_its_maximum),
};

int main(void)
{
    return tu_run_after(wg_crypto_init(NULL), TU_SUITE("crypto", tests));
}
