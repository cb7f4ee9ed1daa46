/* xlcfg-parse.h: placeholder */
