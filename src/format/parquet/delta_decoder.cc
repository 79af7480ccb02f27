#include "format/parquet/delta_decoder.h"

#include <algorithm>
#include <cstring>

#include "format/parquet/bit_unpack.h"

namespace sluice::parquet {

namespace {

// Bounds on the block layout: real writers use 128 values per block (4
// miniblocks of 32) or a few thousand; larger ones are only a way to make a
// tiny page claim a huge buffer.
constexpr uint64_t kMaxBlockSize = uint64_t{1} << 20;
constexpr uint64_t kMaxPerMiniblock = uint64_t{1} << 16;

}  // namespace

bool DeltaBitPackedDecoder::ReadVarint(uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p_ >= end_) return false;
    uint8_t b = *p_++;
    r |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *v = r;
      return true;
    }
  }
  return false;
}

bool DeltaBitPackedDecoder::Init(const uint8_t* data, size_t size) {
  begin_ = p_ = data;
  end_ = data + size;
  error_ = true;
  uint64_t count = 0, first = 0;
  if (!ReadVarint(&block_size_) || !ReadVarint(&miniblocks_) || !ReadVarint(&count) ||
      !ReadVarint(&first)) {
    return false;
  }
  if (block_size_ == 0 || block_size_ % 128 != 0 || block_size_ > kMaxBlockSize ||
      miniblocks_ == 0 || block_size_ % miniblocks_ != 0) {
    return false;
  }
  per_miniblock_ = block_size_ / miniblocks_;
  if (per_miniblock_ % 8 != 0 || per_miniblock_ > kMaxPerMiniblock) return false;
  if (count > static_cast<uint64_t>(INT64_MAX)) return false;
  remaining_ = static_cast<int64_t>(count);
  last_ =
      static_cast<uint64_t>(static_cast<int64_t>(first >> 1) ^ -static_cast<int64_t>(first & 1));
  first_pending_ = true;
  widths_.assign(miniblocks_, 0);
  miniblock_index_ = miniblocks_;  // no block started
  delta_pos_ = delta_count_ = 0;
  error_ = false;
  return true;
}

bool DeltaBitPackedDecoder::StartBlock() {
  uint64_t md = 0;
  if (!ReadVarint(&md)) return false;
  min_delta_ = static_cast<uint64_t>(static_cast<int64_t>(md >> 1) ^ -static_cast<int64_t>(md & 1));
  if (static_cast<uint64_t>(end_ - p_) < miniblocks_) return false;
  std::memcpy(widths_.data(), p_, miniblocks_);
  p_ += miniblocks_;
  miniblock_index_ = 0;
  return true;
}

bool DeltaBitPackedDecoder::LoadMiniblock() {
  if (miniblock_index_ >= miniblocks_ && !StartBlock()) return false;
  int w = widths_[miniblock_index_++];
  if (w > 64) return false;
  const uint64_t n = std::min<uint64_t>(per_miniblock_, static_cast<uint64_t>(remaining_));
  const size_t full = per_miniblock_ / 8 * static_cast<size_t>(w);
  const size_t needed = (n * static_cast<uint64_t>(w) + 7) / 8;
  const size_t avail = static_cast<size_t>(end_ - p_);
  if (avail < needed) return false;
  deltas_.resize(per_miniblock_);
  if (avail >= full) {
    UnpackGroups64(p_, w, static_cast<int64_t>(per_miniblock_ / 8), deltas_.data());
    p_ += full;
  } else {
    // The last miniblock of a page may lack its padding.
    std::vector<uint8_t> tmp(full, 0);
    std::memcpy(tmp.data(), p_, avail);
    UnpackGroups64(tmp.data(), w, static_cast<int64_t>(per_miniblock_ / 8), deltas_.data());
    p_ = end_;
  }
  delta_pos_ = 0;
  delta_count_ = n;
  return true;
}

template <typename T>
int64_t DeltaBitPackedDecoder::Get(T* out, int64_t n) {
  int64_t done = 0;
  if (error_) return 0;
  if (first_pending_ && remaining_ > 0 && n > 0) {
    out[done++] = static_cast<T>(last_);
    --remaining_;
    first_pending_ = false;
  }
  while (done < n && remaining_ > 0) {
    if (delta_pos_ == delta_count_ && !LoadMiniblock()) {
      error_ = true;
      break;
    }
    int64_t k = std::min<int64_t>(n - done, static_cast<int64_t>(delta_count_ - delta_pos_));
    k = std::min(k, remaining_);
    uint64_t v = last_;
    const uint64_t md = min_delta_;
    const uint64_t* d = deltas_.data() + delta_pos_;
    for (int64_t i = 0; i < k; ++i) {
      v += md + d[i];
      out[done + i] = static_cast<T>(v);
    }
    last_ = v;
    delta_pos_ += static_cast<size_t>(k);
    done += k;
    remaining_ -= k;
  }
  return done;
}

int64_t DeltaBitPackedDecoder::SkipToEnd() {
  if (error_) return -1;
  if (first_pending_ && remaining_ > 0) {
    --remaining_;
    first_pending_ = false;
  }
  while (remaining_ > 0) {
    if (miniblock_index_ >= miniblocks_ && !StartBlock()) return -1;
    int w = widths_[miniblock_index_++];
    if (w > 64) return -1;
    const uint64_t n = std::min<uint64_t>(per_miniblock_, static_cast<uint64_t>(remaining_));
    const size_t full = per_miniblock_ / 8 * static_cast<size_t>(w);
    const size_t needed = (n * static_cast<uint64_t>(w) + 7) / 8;
    const size_t avail = static_cast<size_t>(end_ - p_);
    if (avail < needed) return -1;
    p_ += std::min(full, avail);
    remaining_ -= static_cast<int64_t>(n);
  }
  return p_ - begin_;
}

template int64_t DeltaBitPackedDecoder::Get<int32_t>(int32_t*, int64_t);
template int64_t DeltaBitPackedDecoder::Get<int64_t>(int64_t*, int64_t);

bool DeltaLengthDecoder::Init(const uint8_t* data, size_t size) {
  error_ = true;
  DeltaBitPackedDecoder probe;
  if (!probe.Init(data, size) || !lengths_.Init(data, size)) return false;
  int64_t off = probe.SkipToEnd();
  if (off < 0) return false;
  data_ = data + off;
  end_ = data + size;
  len_pos_ = len_count_ = 0;
  error_ = false;
  return true;
}

bool DeltaLengthDecoder::Next(const char** ptr, uint32_t* len) {
  if (error_) return false;
  if (len_pos_ == len_count_) {
    len_count_ = lengths_.Get(len_buf_, 256);
    len_pos_ = 0;
    if (lengths_.error()) error_ = true;
    if (len_count_ == 0) return false;
  }
  int32_t l = len_buf_[len_pos_++];
  if (l < 0 || l > end_ - data_) {
    error_ = true;
    return false;
  }
  *ptr = reinterpret_cast<const char*>(data_);
  *len = static_cast<uint32_t>(l);
  data_ += l;
  return true;
}

bool DeltaByteArrayDecoder::Init(const uint8_t* data, size_t size) {
  error_ = true;
  DeltaBitPackedDecoder probe;
  if (!probe.Init(data, size) || !prefixes_.Init(data, size)) return false;
  int64_t off = probe.SkipToEnd();
  if (off < 0) return false;
  if (!suffixes_.Init(data + off, size - static_cast<size_t>(off))) return false;
  last_.clear();
  pre_pos_ = pre_count_ = 0;
  error_ = false;
  return true;
}

bool DeltaByteArrayDecoder::Next(const char** ptr, uint32_t* len) {
  if (error_) return false;
  if (pre_pos_ == pre_count_) {
    pre_count_ = prefixes_.Get(pre_buf_, 256);
    pre_pos_ = 0;
    if (prefixes_.error()) error_ = true;
    if (pre_count_ == 0) return false;
  }
  int32_t prefix = pre_buf_[pre_pos_++];
  const char* s = nullptr;
  uint32_t n = 0;
  if (prefix < 0 || static_cast<size_t>(prefix) > last_.size() || !suffixes_.Next(&s, &n)) {
    error_ = true;
    return false;
  }
  last_.resize(static_cast<size_t>(prefix));
  last_.append(s, n);
  *ptr = last_.data();
  *len = static_cast<uint32_t>(last_.size());
  return true;
}

}  // namespace sluice::parquet
