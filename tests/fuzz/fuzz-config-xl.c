/* fuzz-config-xl.c: fuzz target of the xl.cfg reader and writer
 * (lib/config/xlcfg*.c, xlspec.c)
 *
 * Reads the input as XL through keel_domain_config_read and checks what
 * fuzz-config.h describes; xl.cfg cannot spell every value the model holds
 * (some rates), so its writer may refuse.
 */
#include "config.h"

#define FUZZ_NAME "config-xl"
#include "fuzz.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_config_one(KEEL_CONFIG_XL, true, data, size);
}
