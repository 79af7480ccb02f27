#include "format/parquet/rle_decoder.h"

#include <algorithm>
#include <cstring>

#include "format/parquet/bit_unpack.h"

namespace sluice::parquet {

void RleBitPackedDecoder::Reset(const uint8_t* data, size_t size, int bit_width) {
  p_ = data;
  end_ = data + size;
  bit_width_ = bit_width;
  error_ = bit_width < 0 || bit_width > 32;
  rle_left_ = 0;
  lit_left_ = 0;
  group_pos_ = 8;
}

bool RleBitPackedDecoder::NextRun() {
  if (error_ || p_ >= end_) return false;
  uint64_t header = 0;
  int shift = 0;
  while (true) {
    if (p_ >= end_ || shift > 35) {
      error_ = true;
      return false;
    }
    uint8_t b = *p_++;
    header |= static_cast<uint64_t>(b & 0x7f) << shift;
    shift += 7;
    if ((b & 0x80) == 0) break;
  }
  if ((header & 1) == 0) {
    int64_t count = static_cast<int64_t>(header >> 1);
    int bytes = (bit_width_ + 7) / 8;
    if (count == 0 || end_ - p_ < bytes) {
      error_ = true;
      return false;
    }
    uint32_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= static_cast<uint32_t>(p_[i]) << (8 * i);
    p_ += bytes;
    if (bit_width_ < 32 && (v >> bit_width_) != 0) {
      error_ = true;
      return false;
    }
    rle_value_ = v;
    rle_left_ = count;
    return true;
  }
  int64_t groups = static_cast<int64_t>(header >> 1);
  if (groups == 0) {
    error_ = true;
    return false;
  }
  if (bit_width_ == 0) {
    rle_value_ = 0;
    rle_left_ = groups * 8;
    return true;
  }
  // Writers may end the data inside the last run's padding: keep whole groups.
  int64_t avail_groups = (end_ - p_) / bit_width_;
  if (avail_groups == 0) {
    error_ = true;
    return false;
  }
  groups = std::min(groups, avail_groups);
  lit_ = p_;
  lit_left_ = groups * 8;
  p_ += groups * bit_width_;
  group_pos_ = 8;
  return true;
}

template <typename T>
int64_t RleBitPackedDecoder::GetBatch(T* out, int64_t n) {
  if (sizeof(T) == 1 && bit_width_ > 8) error_ = true;
  if (error_) return 0;
  int64_t done = 0;
  while (done < n) {
    if (rle_left_ > 0) {
      int64_t k = std::min(rle_left_, n - done);
      std::fill(out + done, out + done + k, static_cast<T>(rle_value_));
      rle_left_ -= k;
      done += k;
      continue;
    }
    if (lit_left_ > 0 || group_pos_ < 8) {
      while (group_pos_ < 8 && done < n) {
        out[done++] = static_cast<T>(group_[group_pos_++]);
        --lit_left_;
      }
      if (done == n) break;
      int64_t whole = std::min(lit_left_, n - done) / 8;
      if (whole > 0) {
        if constexpr (sizeof(T) == 4) {
          UnpackGroups32(lit_, bit_width_, whole, reinterpret_cast<uint32_t*>(out + done));
        } else {
          UnpackGroups8(lit_, bit_width_, whole, reinterpret_cast<uint8_t*>(out + done));
        }
        lit_ += whole * bit_width_;
        lit_left_ -= whole * 8;
        done += whole * 8;
      }
      if (done < n && lit_left_ > 0) {
        UnpackGroups32(lit_, bit_width_, 1, group_);
        lit_ += bit_width_;
        group_pos_ = 0;
      }
      continue;
    }
    if (!NextRun()) break;
  }
  return done;
}

template int64_t RleBitPackedDecoder::GetBatch<uint8_t>(uint8_t*, int64_t);
template int64_t RleBitPackedDecoder::GetBatch<uint32_t>(uint32_t*, int64_t);

}  // namespace sluice::parquet
