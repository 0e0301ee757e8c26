/*
 * fuzz_ubjson.c - libFuzzer target: the UBJSON reader must parse or reject
 * any bytes with bounded memory and time; what it parses must print.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/model/teachers/ubjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gb_error err;
    cJSON *root = gb_ubjson_parse(data, size, &err);
    if (root != NULL) {
        char *text = cJSON_PrintUnformatted(root);
        cJSON_free(text);
        cJSON_Delete(root);
    }
    return 0;
}
