/*
 * number.h - locale-independent, correctly rounded decimal number parsing
 * for the CSV reader and level ordering.
 * Layer: core/data.
 *
 * Grammar (docs/formats.md): optional spaces/tabs, an optional sign, digits
 * with an optional decimal point (at least one digit), an optional exponent
 * (e|E, optional sign, digits), optional spaces/tabs.  No hex, no "inf" or
 * "nan" words (see gb_number_is_infinity_word).
 */
#ifndef CORE_DATA_NUMBER_H
#define CORE_DATA_NUMBER_H

#include <stddef.h>

typedef enum gb_number_kind {
    GB_NUMBER_NONE = 0, /* not a number by the grammar */
    GB_NUMBER_FINITE,   /* a finite double (underflow rounds to 0) */
    GB_NUMBER_OVERFLOW  /* syntactically a number but beyond DBL_MAX */
} gb_number_kind;

/* Parses s[0..n) (not NUL-terminated) as a whole.  Sets *out only for
 * GB_NUMBER_FINITE.  The result is the correctly rounded nearest double
 * (Clinger's exact fast path, otherwise strtod on a bounded copy). */
gb_number_kind gb_number_parse(const char *s, size_t n, double *out);

/* Nonzero when s[0..n) is an infinity word: [+-]inf or [+-]infinity, any
 * case, surrounded by optional spaces/tabs. */
int gb_number_is_infinity_word(const char *s, size_t n);

#endif /* CORE_DATA_NUMBER_H */
