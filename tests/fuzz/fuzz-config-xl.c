/* fuzz-config-xl.c: placeholder */
#include "config.h"
#define FUZZ_NAME "config-xl"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return 0;
}
