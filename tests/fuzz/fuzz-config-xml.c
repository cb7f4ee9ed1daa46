/* fuzz-config-xml.c: fuzz target of the libvirt domain XML codec
 * (lib/config/xml*.c)
 *
 * Reads the input as XML through keel_domain_config_read and checks what
 * fuzz-config.h describes; the XML writer must take any model the reader made
 * (its metadata carries what libvirt cannot say).
 */
#include "config.h"

#define FUZZ_NAME "config-xml"
#include "fuzz.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-config.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_config_one(KEEL_CONFIG_XML, false, data, size);
}
