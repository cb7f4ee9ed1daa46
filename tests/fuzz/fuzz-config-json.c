/* fuzz-config-json.c: fuzz target of the JSON codec (lib/config/json*.c)
 *
 * Reads the input as JSON through keel_domain_config_read and checks what
 * fuzz-config.h describes; the JSON writer must take any model the reader made.
 */
#include "config.h"

#define FUZZ_NAME "config-json"
#include "fuzz.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_config_one(KEEL_CONFIG_JSON, false, data, size);
}
