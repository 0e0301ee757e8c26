/*
 * ubjson.h - a small bounded reader of Universal Binary JSON (UBJSON, draft
 * 12, as written by xgboost's Booster.save_model to .ubj files) into the same
 * cJSON tree core/json.h gives for JSON text, so one model reader serves both.
 * Layer: core/model/teachers.
 *
 * Markers: Z (null), N (no-op), T/F (booleans), i U I l L (int8, uint8,
 * int16, int32, int64, big-endian), d D (float32, float64), H (high-precision
 * number as a length-prefixed decimal string), C (char), S (string), [ ] and
 * { } (containers, optionally "optimised" with $type and/or #count).
 *
 * Bounds: nesting deeper than GB_JSON_MAX_DEPTH, a declared count or string
 * length larger than the bytes left, more values than input bytes (typed
 * containers of Z/N/T/F occupy no bytes per element: they are charged one
 * anyway), strings longer than GB_UBJSON_MAX_STRING or holding a NUL byte, and
 * trailing bytes are GB_EINPUT errors naming the 0-based byte offset.  Nothing
 * is allocated in proportion to a declared count before the bytes backing it
 * have been checked.
 */
#ifndef CORE_MODEL_TEACHERS_UBJSON_H
#define CORE_MODEL_TEACHERS_UBJSON_H

#include <stddef.h>

#include "core/base.h"
#include "core/json.h"

#define GB_UBJSON_MAX_STRING (16u << 20) /* bytes in one string or key */

/* Parses n bytes of UBJSON holding one value into a new cJSON tree (caller
 * frees with cJSON_Delete).  Integers and floats become cJSON numbers (float32
 * values are exact as doubles; int64 beyond 2^53 rounds); NaN and infinities
 * are kept as number values.  On error returns NULL with err set (GB_EINPUT,
 * or GB_ENOMEM); nothing is left allocated. */
cJSON *gb_ubjson_parse(const unsigned char *bytes, size_t n, gb_error *err);

#endif /* CORE_MODEL_TEACHERS_UBJSON_H */
