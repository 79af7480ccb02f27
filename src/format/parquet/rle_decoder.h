// Decoder of Parquet's RLE / bit-packed hybrid encoding (definition levels,
// dictionary indices, RLE booleans); the encoder is rle_encoder.h.
//
// Runs are decoded lazily: an RLE run of a billion values costs nothing until
// the values are asked for, and GetBatch fills at most the caller's count, so
// memory stays bounded by the batch whatever the input claims. A bit-packed
// run that the data cuts short is clamped to the whole values present. Once
// the data is exhausted or malformed GetBatch returns fewer values than asked;
// error() then tells a corrupt run from a plain end of data.
//
// Threading: not thread-safe; the bytes must outlive the decoder.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice::parquet {

class RleBitPackedDecoder {
 public:
  RleBitPackedDecoder() = default;
  // bit_width 0..32.
  RleBitPackedDecoder(const uint8_t* data, size_t size, int bit_width) {
    Reset(data, size, bit_width);
  }
  void Reset(const uint8_t* data, size_t size, int bit_width);

  // Decodes up to n values into out; returns how many were decoded.
  // T is uint8_t (bit_width <= 8) or uint32_t.
  template <typename T>
  int64_t GetBatch(T* out, int64_t n);

  bool error() const { return error_; }

 private:
  bool NextRun();

  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  int bit_width_ = 0;
  bool error_ = false;
  // Current run: an RLE run of rle_left_ copies of rle_value_, or a literal
  // run of lit_left_ bit-packed values starting at lit_ (group aligned), with
  // the values of a partly used group in group_[group_pos_ .. 8).
  int64_t rle_left_ = 0;
  uint32_t rle_value_ = 0;
  int64_t lit_left_ = 0;
  const uint8_t* lit_ = nullptr;
  uint32_t group_[8] = {};
  int group_pos_ = 8;
};

extern template int64_t RleBitPackedDecoder::GetBatch<uint8_t>(uint8_t*, int64_t);
extern template int64_t RleBitPackedDecoder::GetBatch<uint32_t>(uint32_t*, int64_t);

}  // namespace sluice::parquet
