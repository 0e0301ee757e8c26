/*
 * check_sha256.c - SHA-256 against the FIPS 180-4 examples and hashlib
 * digests (tests/fixtures/sha256, scripts/fixtures/make_sha256.py), fed
 * whole and in uneven pieces.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/math/rng.h"
#include "core/sha256.h"

/* Hashes data in pieces; portable = 1 forces the portable code even when the
 * CPU has SHA-NI (so both implementations are checked on such machines). */
static void hex_in_pieces(const uint8_t *data, size_t n, size_t piece, int portable,
                          char hex[65])
{
    gb_sha256 h;
    uint8_t digest[GB_SHA256_DIGEST_BYTES];
    gb_sha256_init(&h);
    if (portable)
        h.use_sha_ni = 0;
    for (size_t i = 0; i < n; i += piece)
        gb_sha256_update(&h, data + i, n - i < piece ? n - i : piece);
    gb_sha256_final(&h, digest);
    gb_sha256_hex(digest, hex);
}

START_TEST(test_fips_examples)
{
    char hex[65];
    gb_sha256_hex_of("abc", 3, hex);
    ck_assert_str_eq(
        hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    gb_sha256_hex_of("", 0, hex);
    ck_assert_str_eq(
        hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    gb_sha256_hex_of(two, strlen(two), hex);
    ck_assert_str_eq(
        hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *four =
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
        "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    gb_sha256_hex_of(four, strlen(four), hex);
    ck_assert_str_eq(
        hex, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    /* One million 'a', fed in 1000 pieces. */
    uint8_t *a = malloc(1000000);
    memset(a, 'a', 1000000);
    for (int portable = 0; portable < 2; portable++) {
        hex_in_pieces(a, 1000000, 1000, portable, hex);
        ck_assert_str_eq(
            hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    }
    free(a);
}
END_TEST

START_TEST(test_hashlib_vectors_any_piece_size)
{
    FILE *f = fopen("tests/fixtures/sha256/vectors.txt", "r");
    ck_assert_ptr_nonnull(f);
    size_t n;
    char want[65];
    int count = 0;
    gb_rng rng;
    gb_rng_seed(&rng, 5);
    while (fscanf(f, "%zu %64s", &n, want) == 2) {
        uint8_t *data = malloc(n + 1);
        for (size_t i = 0; i < n; i++)
            data[i] = (uint8_t)((7 * i + 3) & 0xFF);
        char hex[65];
        gb_sha256_hex_of(data, n, hex);
        ck_assert_str_eq(hex, want);
        size_t pieces[] = {1, 3, 63, 64, 65, 1 + (size_t)gb_rng_below(&rng, 200)};
        for (size_t k = 0; k < sizeof pieces / sizeof pieces[0]; k++) {
            for (int portable = 0; portable < 2; portable++) {
                hex_in_pieces(data, n, pieces[k], portable, hex);
                ck_assert_str_eq(hex, want);
            }
        }
        free(data);
        count++;
    }
    fclose(f);
    ck_assert_int_eq(count, 18);
}
END_TEST

static Suite *sha256_suite(void)
{
    Suite *s = suite_create("sha256");
    TCase *tc = tcase_create("sha256");
    tcase_add_test(tc, test_fips_examples);
    tcase_add_test(tc, test_hashlib_vectors_any_piece_size);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sha256_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
