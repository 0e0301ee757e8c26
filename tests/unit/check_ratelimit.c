/*
 * check_ratelimit.c - the failed-authentication token bucket: burst, refill
 * rate, Retry-After, per-address isolation, IPv6 /64 keys, a disabled
 * limiter and a table that stays bounded under many addresses.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "server/ratelimit.h"

static struct sockaddr_in v4(const char *text)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    ck_assert_int_eq(inet_pton(AF_INET, text, &a.sin_addr), 1);
    return a;
}

static struct sockaddr_in6 v6(const char *text)
{
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    ck_assert_int_eq(inet_pton(AF_INET6, text, &a.sin6_addr), 1);
    return a;
}

#define SA(x) ((const struct sockaddr *)(const void *)&(x))

START_TEST(test_burst_then_blocked_then_refilled)
{
    /* 5 failures per 10 s: one token back every 2 s. */
    srv_ratelimit *rl = srv_ratelimit_create(5, 10);
    struct sockaddr_in a = v4("192.0.2.1");
    ck_assert_ptr_nonnull(rl);
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(srv_ratelimit_wait(rl, SA(a), 100.0), 0);
        srv_ratelimit_fail(rl, SA(a), 100.0);
    }
    ck_assert_uint_eq(srv_ratelimit_wait(rl, SA(a), 100.0), 2);
    ck_assert_uint_eq(srv_ratelimit_wait(rl, SA(a), 101.0), 1);
    ck_assert_uint_eq(srv_ratelimit_wait(rl, SA(a), 101.9), 1);
    ck_assert_uint_eq(srv_ratelimit_wait(rl, SA(a), 102.0), 0);
    /* One token came back: one more failure blocks again. */
    srv_ratelimit_fail(rl, SA(a), 102.0);
    ck_assert_uint_eq(srv_ratelimit_wait(rl, SA(a), 102.0), 2);
    /* A long pause refills to the burst, never above it. */
    for (int i = 0; i < 5; i++)
        srv_ratelimit_fail(rl, SA(a), 1000.0);
    ck_assert_uint_eq(srv_ratelimit_wait(rl, SA(a), 1000.0), 2);
    srv_ratelimit_free(rl);
}
END_TEST

START_TEST(test_addresses_are_separate)
{
    srv_ratelimit *rl = srv_ratelimit_create(2, 60);
    struct sockaddr_in a = v4("192.0.2.1"), b = v4("192.0.2.2");
    srv_ratelimit_fail(rl, SA(a), 0);
    srv_ratelimit_fail(rl, SA(a), 0);
    ck_assert_uint_eq(srv_ratelimit_wait(rl, SA(a), 0), 30);
    ck_assert_uint_eq(srv_ratelimit_wait(rl, SA(b), 0), 0);
    /* IPv4-mapped IPv6 is the same client as its IPv4 address. */
    struct sockaddr_in6 mapped = v6("::ffff:192.0.2.1");
    ck_assert_uint_eq(srv_ratelimit_wait(rl, SA(mapped), 0), 30);
    srv_ratelimit_free(rl);
}
END_TEST

START_TEST(test_ipv6_keyed_by_64)
{
    srv_ratelimit *rl = srv_ratelimit_create(1, 60);
    struct sockaddr_in6 a = v6("2001:db8:1:2::1"), same = v6("2001:db8:1:2:ffff::9"),
                        other = v6("2001:db8:1:3::1");
    srv_ratelimit_fail(rl, SA(a), 0);
    ck_assert_uint_eq(srv_ratelimit_wait(rl, SA(same), 0), 60);
    ck_assert_uint_eq(srv_ratelimit_wait(rl, SA(other), 0), 0);
    srv_ratelimit_free(rl);
}
END_TEST

START_TEST(test_disabled_and_null)
{
    srv_ratelimit *rl = srv_ratelimit_create(0, 60);
    struct sockaddr_in a = v4("192.0.2.1");
    for (int i = 0; i < 100; i++)
        srv_ratelimit_fail(rl, SA(a), 0);
    ck_assert_uint_eq(srv_ratelimit_wait(rl, SA(a), 0), 0);
    ck_assert_uint_eq(srv_ratelimit_wait(NULL, SA(a), 0), 0);
    ck_assert_uint_eq(srv_ratelimit_wait(rl, NULL, 0), 0);
    srv_ratelimit_free(rl);
    srv_ratelimit_free(NULL);
}
END_TEST

START_TEST(test_many_addresses_stay_bounded)
{
    /* 100000 distinct addresses each failing once: the table never grows,
     * and a blocked address that keeps failing stays blocked because
     * eviction picks the entries with the most tokens. */
    srv_ratelimit *rl = srv_ratelimit_create(3, 3600);
    struct sockaddr_in bad = v4("198.51.100.7");
    for (int i = 0; i < 3; i++)
        srv_ratelimit_fail(rl, SA(bad), 0);
    for (unsigned i = 0; i < 100000; i++) {
        struct sockaddr_in a;
        memset(&a, 0, sizeof a);
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(0x0a000000u + i);
        srv_ratelimit_fail(rl, SA(a), 0);
    }
    ck_assert_uint_gt(srv_ratelimit_wait(rl, SA(bad), 0), 0);
    srv_ratelimit_free(rl);
}
END_TEST

static Suite *ratelimit_suite(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tcase_create("bucket");
    tcase_add_test(tc, test_burst_then_blocked_then_refilled);
    tcase_add_test(tc, test_addresses_are_separate);
    tcase_add_test(tc, test_ipv6_keyed_by_64);
    tcase_add_test(tc, test_disabled_and_null);
    tcase_add_test(tc, test_many_addresses_stay_bounded);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ratelimit_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
