// Bulk unpacking of bit-packed values (LSB-first, as in Parquet's RLE /
// bit-packed hybrid and DELTA_BINARY_PACKED miniblocks).
//
// Values come in groups of 8: a group of width w takes exactly w bytes. The
// width is a template parameter in the hot loops (dispatched once per call),
// so the shifts and masks are constants and the loop has no per-value branch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sluice::parquet {

// Unpacks `groups` groups of 8 values of `width` bits (0..32) from `in`, which
// must hold groups * width bytes, into out[0 .. groups*8).
void UnpackGroups32(const uint8_t* in, int width, int64_t groups, uint32_t* out);
// Same for widths 0..64 into 64-bit values (DELTA_BINARY_PACKED).
void UnpackGroups64(const uint8_t* in, int width, int64_t groups, uint64_t* out);
// Same for widths 0..8 into bytes (definition levels, booleans).
void UnpackGroups8(const uint8_t* in, int width, int64_t groups, uint8_t* out);

}  // namespace sluice::parquet
