// The RLE / bit-packed hybrid encoding of Parquet (definition and repetition
// levels, dictionary indices).
//
// The output is a sequence of runs, each introduced by a varint header:
//   RLE run:        header = count << 1, then the value in ceil(bit_width/8) bytes (LE);
//   bit-packed run: header = (groups << 1) | 1, then groups * 8 values packed
//                   LSB-first with bit_width bits each (groups * bit_width bytes).
// Runs of at least 8 equal values become RLE runs; everything else is
// bit-packed. Bit-packed runs hold whole groups of 8, so the last one may be
// padded with zeros; readers know the true value count from the page header.
//
// The encoder does not write the 4-byte length prefix that data page v1 puts
// before the levels; the caller does.
//
// Two interfaces: RleBitPackedEncoder takes values one at a time;
// AppendRleBitPacked encodes a whole buffered array in one pass (what the
// column writer uses for dictionary indices and definition levels).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "format/parquet/byte_buffer.h"

namespace sluice::parquet {

// Appends the hybrid encoding of values[0, n), each below 2^bit_width
// (bit_width 1..32), to *out. Equal runs that stay at least 8 long after
// topping up the pending bit-packed group become RLE runs.
void AppendRleBitPacked(const uint32_t* values, size_t n, int bit_width, ByteBuffer* out);
void AppendRleBitPacked(const uint8_t* values, size_t n, int bit_width, ByteBuffer* out);

class RleBitPackedEncoder {
 public:
  // bit_width in 0..32; every value must fit in it.
  explicit RleBitPackedEncoder(int bit_width);

  void Put(uint32_t v) {
    if (v == run_value_ && run_length_ > 0) {
      ++run_length_;
    } else {
      EndRun();
      run_value_ = v;
      run_length_ = 1;
    }
  }
  // Same as calling Put(v) n times, in O(1) when it extends the current run.
  void PutRepeated(uint32_t v, int64_t n);

  // Appends the encoded runs of every value put since the last Finish to *out
  // and resets the encoder for reuse.
  void FinishTo(std::string* out);

  int64_t values_put() const { return values_put_ + run_length_; }
  int bit_width() const { return bit_width_; }

 private:
  // Moves the pending run of equal values into the output: as an RLE run when
  // long enough, else into the literal buffer.
  void EndRun();
  // Writes the buffered literals as one bit-packed run: all of them, zero
  // padded to a group of 8 (pad), or only the whole groups.
  void FlushLiterals(bool pad);
  void WriteRleRun(uint32_t v, int64_t n);

  int bit_width_;
  std::string out_;
  // Values waiting to be bit-packed; flushed before each RLE run, when its
  // size is a multiple of 8, and whenever it grows long.
  std::vector<uint32_t> literals_;
  uint32_t run_value_ = 0;
  int64_t run_length_ = 0;
  int64_t values_put_ = 0;  // values already moved out of the pending run
};

}  // namespace sluice::parquet
