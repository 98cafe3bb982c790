/* software.h - the guest's software SHA-256 (software.c): the baseline for the precompiles. */
#ifndef SHA256_SOFTWARE_H
#define SHA256_SOFTWARE_H
#include "pyzkvm.h"

void sha256_software(const uint8_t *data, uint32_t len, uint8_t digest[32]);

#endif
