/* fuzz-config-xml.c: placeholder */
#include "config.h"
#define FUZZ_NAME "config-xml"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return 0;
}
