#include "format/line_reader.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace sluice {

LineReader::LineReader(InputStream* in, size_t padding, size_t block_size, size_t max_line_bytes)
    : in_(in),
      padding_(padding),
      max_line_(max_line_bytes),
      block_size_(std::max<size_t>(block_size, 16)),
      buf_(std::min(block_size_, kInitialBufferSize) + padding),
      cap_(std::min(block_size_, kInitialBufferSize)) {}

Status LineReader::Refill() {
  // Start small and double up to the block size while input keeps coming.
  if (end_ == cap_ && cap_ < block_size_) {
    cap_ = std::min(cap_ * 2, block_size_);
    buf_.resize(cap_ + padding_);
  }
  if (end_ == cap_) {
    if (start_ > 0) {
      std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
      end_ -= start_;
      scan_ -= start_;
      start_ = 0;
    }
    // Grow when one line fills most of the buffer: amortised linear carry-over.
    if (cap_ - end_ < cap_ / 2) {
      if (end_ >= max_line_) {
        return Status::InvalidArgument("line " + std::to_string(line_number_ + 1) + " of '" +
                                       in_->name() + "' is longer than " +
                                       std::to_string(max_line_ >> 20) + " MiB");
      }
      cap_ *= 2;
      buf_.resize(cap_ + padding_);
    }
  }
  ASSIGN_OR_RETURN(size_t n, in_->Read(buf_.data() + end_, cap_ - end_));
  if (n == 0) eof_ = true;
  end_ += n;
  return Status::OK();
}

Result<bool> LineReader::Next() {
  if (!bom_checked_) {
    while (end_ < 3 && !eof_) RETURN_IF_ERROR(Refill());
    if (end_ >= 3 && std::memcmp(buf_.data(), "\xEF\xBB\xBF", 3) == 0) start_ = scan_ = 3;
    bom_checked_ = true;
  }
  while (true) {
    const char* b = buf_.data();
    const void* nl = scan_ < end_ ? std::memchr(b + scan_, '\n', end_ - scan_) : nullptr;
    size_t line_end;
    if (nl != nullptr) {
      line_end = static_cast<size_t>(static_cast<const char*>(nl) - b);
      scan_ = line_end + 1;
    } else if (eof_) {
      if (start_ == end_) return false;
      line_end = scan_ = end_;
    } else {
      scan_ = end_;
      RETURN_IF_ERROR(Refill());
      continue;
    }
    size_t len = line_end - start_;
    if (len > 0 && b[start_ + len - 1] == '\r') --len;
    line_ = std::string_view(b + start_, len);
    start_ = scan_;
    ++line_number_;
    return true;
  }
}

}  // namespace sluice
