// Decoders of Parquet's DELTA encodings:
//   DELTA_BINARY_PACKED      INT32 / INT64 (and the lengths of the two below)
//   DELTA_LENGTH_BYTE_ARRAY  lengths (delta) followed by all the bytes
//   DELTA_BYTE_ARRAY         prefix lengths (delta) + suffixes (delta length)
// All stream: values are produced a miniblock at a time, so memory does not
// depend on what the page claims. Every length and offset is checked against
// the page bytes; a violation sets error() and stops decoding.
//
// Threading: not thread-safe; the bytes must outlive the decoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::parquet {

class DeltaBitPackedDecoder {
 public:
  // Parses the header. False (with error()) when it is malformed.
  bool Init(const uint8_t* data, size_t size);
  // Values still to be decoded.
  int64_t remaining() const { return remaining_; }
  // Decodes up to n values (int32_t or int64_t, wrapping as the spec says);
  // returns how many were decoded.
  template <typename T>
  int64_t Get(T* out, int64_t n);
  // Skips every remaining value without decoding and returns the offset just
  // past the encoded data (where a DELTA_LENGTH_BYTE_ARRAY's bytes start), or
  // -1 when malformed.
  int64_t SkipToEnd();
  bool error() const { return error_; }

 private:
  bool ReadVarint(uint64_t* v);
  bool StartBlock();
  bool LoadMiniblock();

  const uint8_t* begin_ = nullptr;
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  bool error_ = false;
  uint64_t block_size_ = 0;
  uint64_t miniblocks_ = 0;
  uint64_t per_miniblock_ = 0;
  int64_t remaining_ = 0;
  bool first_pending_ = true;
  uint64_t last_ = 0;
  uint64_t min_delta_ = 0;
  std::vector<uint8_t> widths_;
  uint64_t miniblock_index_ = 0;  // next miniblock of the current block
  std::vector<uint64_t> deltas_;  // the current miniblock
  size_t delta_pos_ = 0;
  size_t delta_count_ = 0;
};

// DELTA_LENGTH_BYTE_ARRAY: Next() yields one value at a time as a view into
// the page bytes.
class DeltaLengthDecoder {
 public:
  bool Init(const uint8_t* data, size_t size);
  int64_t remaining() const { return lengths_.remaining() + (len_count_ - len_pos_); }
  // The next value; false at the end or on error.
  bool Next(const char** ptr, uint32_t* len);
  bool error() const { return error_; }
  // Bytes of value data not yet returned (a bound on what Next can yield).
  int64_t bytes_left() const { return end_ - data_; }

 private:
  DeltaBitPackedDecoder lengths_;
  const uint8_t* data_ = nullptr;
  const uint8_t* end_ = nullptr;
  int32_t len_buf_[256];
  int64_t len_pos_ = 0, len_count_ = 0;
  bool error_ = false;
};

// DELTA_BYTE_ARRAY: each value is a prefix of the previous one plus a suffix.
class DeltaByteArrayDecoder {
 public:
  bool Init(const uint8_t* data, size_t size);
  // The next value (valid until the next call); false at the end or on error.
  bool Next(const char** ptr, uint32_t* len);
  bool error() const { return error_; }

 private:
  DeltaBitPackedDecoder prefixes_;
  DeltaLengthDecoder suffixes_;
  std::string last_;
  int32_t pre_buf_[256];
  int64_t pre_pos_ = 0, pre_count_ = 0;
  bool error_ = false;
};

extern template int64_t DeltaBitPackedDecoder::Get<int32_t>(int32_t*, int64_t);
extern template int64_t DeltaBitPackedDecoder::Get<int64_t>(int64_t*, int64_t);

}  // namespace sluice::parquet
