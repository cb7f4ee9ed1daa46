/* fuzz-config-json.c: placeholder */
#include "config.h"
#define FUZZ_NAME "config-json"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return 0;
}
