/* software.h - the guest's software Keccak-f[1600] (software.c): the baseline for the precompile. */
#ifndef KECCAK_SOFTWARE_H
#define KECCAK_SOFTWARE_H
#include "pyzkvm.h"

void keccak_permute_software(uint64_t state[25]);

#endif
