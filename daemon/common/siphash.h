/*
 * siphash.h - SipHash-2-4 (Aumasson and Bernstein, 2012), 64-bit output.
 *
 * The keyed hash that turns a device address into an anonymous 64-bit
 * value.  Without the 128-bit key the output reveals nothing about the
 * input, and with a fresh key the same input hashes unrelatedly, which
 * is what lets a weekly key rotation unlink devices across weeks.
 *
 * Output is the 64-bit value the paper defines (the reference byte
 * string read as little-endian), identical on every host byte order.
 */
#ifndef AIC_SIPHASH_H
#define AIC_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash24(const uint8_t key[16], const void *data, size_t len);

#endif /* AIC_SIPHASH_H */
