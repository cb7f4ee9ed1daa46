/* xlspec.c: placeholder */
#include "config.h"
