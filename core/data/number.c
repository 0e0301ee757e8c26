/*
 * number.c - correctly rounded decimal parsing without locale dependence.
 * Layer: core/data.
 *
 * Fast path (Clinger 1990): with at most 19 significant digits forming an
 * integer w <= 2^53 and a decimal exponent e with |e| <= 22, w and 10^|e| are
 * exact doubles and one IEEE multiply or divide rounds correctly.  Anything
 * else is rewritten as "[-]DIGITSeEXP" (no decimal point, so the C library's
 * locale cannot matter; digits beyond 780 folded into a sticky 1, which keeps
 * the rounding direction since 767 significant digits always decide) and
 * handed to strtod.
 */
#include "core/data/number.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FAST_MAX_DIGITS 19
#define SLOW_MAX_DIGITS 780
#define EXP_CAP 100000000L

static const double exact_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* The general path: s[0..n) is already known to match the grammar, without
 * surrounding blanks. */
static gb_number_kind parse_slow(const char *s, size_t n, double *out)
{
    char buf[SLOW_MAX_DIGITS + 40];
    size_t len = 0, i = 0, kept = 0;
    long x = 0;
    int sticky = 0;
    if (s[i] == '+' || s[i] == '-') {
        if (s[i] == '-')
            buf[len++] = '-';
        i++;
    }
    for (; i < n && is_digit(s[i]); i++) {
        if (kept == 0 && s[i] == '0')
            continue;
        if (kept < SLOW_MAX_DIGITS) {
            buf[len++] = s[i];
            kept++;
        } else {
            x++;
            sticky |= s[i] != '0';
        }
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && is_digit(s[i]); i++) {
            if (kept == 0 && s[i] == '0') {
                x--;
            } else if (kept < SLOW_MAX_DIGITS) {
                buf[len++] = s[i];
                kept++;
                x--;
            } else {
                sticky |= s[i] != '0';
            }
        }
    }
    long e = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        int eneg = 0;
        i++;
        if (s[i] == '+' || s[i] == '-')
            eneg = s[i++] == '-';
        for (; i < n && is_digit(s[i]); i++)
            if (e < EXP_CAP)
                e = e * 10 + (s[i] - '0');
        if (eneg)
            e = -e;
    }
    if (kept == 0) {
        *out = (len > 0 && buf[0] == '-') ? -0.0 : 0.0;
        return GB_NUMBER_FINITE;
    }
    if (sticky) {
        buf[len++] = '1';
        x--;
    }
    snprintf(buf + len, sizeof buf - len, "e%ld", x + e);
    double v = strtod(buf, NULL);
    if (!isfinite(v))
        return GB_NUMBER_OVERFLOW;
    *out = v;
    return GB_NUMBER_FINITE;
}

gb_number_kind gb_number_parse(const char *s, size_t n, double *out)
{
    while (n > 0 && is_blank(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    uint64_t w = 0;
    int n_sig = 0, any_digit = 0, overflow_digits = 0;
    long exp10 = 0;
    for (; i < n && is_digit(s[i]); i++) {
        any_digit = 1;
        unsigned d = (unsigned)(s[i] - '0');
        if (n_sig < FAST_MAX_DIGITS) {
            if (w != 0 || d != 0) {
                w = w * 10 + d;
                n_sig++;
            }
        } else {
            overflow_digits = 1;
        }
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && is_digit(s[i]); i++) {
            any_digit = 1;
            unsigned d = (unsigned)(s[i] - '0');
            if (n_sig < FAST_MAX_DIGITS) {
                if (w != 0 || d != 0) {
                    w = w * 10 + d;
                    n_sig++;
                }
                exp10--;
            } else {
                overflow_digits = 1;
            }
        }
    }
    if (!any_digit)
        return GB_NUMBER_NONE;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        if (i >= n || !is_digit(s[i]))
            return GB_NUMBER_NONE;
        long e = 0;
        for (; i < n && is_digit(s[i]); i++)
            if (e < EXP_CAP)
                e = e * 10 + (s[i] - '0');
        exp10 += eneg ? -e : e;
    }
    if (i != n)
        return GB_NUMBER_NONE;
    if (!overflow_digits && w <= (UINT64_C(1) << 53)) {
        double v = (double)w;
        if (w == 0) {
            *out = neg ? -0.0 : 0.0;
            return GB_NUMBER_FINITE;
        }
        if (exp10 >= 0 && exp10 <= 22) {
            v *= exact_pow10[exp10];
            *out = neg ? -v : v;
            return GB_NUMBER_FINITE;
        }
        if (exp10 < 0 && exp10 >= -22) {
            v /= exact_pow10[-exp10];
            *out = neg ? -v : v;
            return GB_NUMBER_FINITE;
        }
    }
    return parse_slow(s, n, out);
}

int gb_number_is_infinity_word(const char *s, size_t n)
{
    while (n > 0 && is_blank(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_blank(s[n - 1]))
        n--;
    if (n > 0 && (*s == '+' || *s == '-')) {
        s++;
        n--;
    }
    static const char word[] = "infinity";
    if (n != 3 && n != 8)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return 0;
    }
    return 1;
}
