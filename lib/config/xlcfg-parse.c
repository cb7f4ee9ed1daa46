/* xlcfg-parse.c: placeholder */
#include "config.h"
