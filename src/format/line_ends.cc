#include "format/line_ends.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace sluice {

namespace {

constexpr size_t kMaxLook = size_t{1} << 20;
constexpr size_t kPiece = 64 * 1024;

class LfLineEndsInput final : public InputStream {
 public:
  LfLineEndsInput(InputStream* in, std::unique_ptr<InputStream> owned, char quote)
      : owned_(std::move(owned)), in_(in), quote_(quote) {}

  Result<size_t> Read(char* buf, size_t n) override {
    if (!decided_) RETURN_IF_ERROR(Decide());
    size_t got = 0;
    if (head_pos_ < head_.size()) {
      got = std::min(n, head_.size() - head_pos_);
      std::memcpy(buf, head_.data() + head_pos_, got);
      head_pos_ += got;
      if (head_pos_ == head_.size()) std::string().swap(head_);
    } else {
      ASSIGN_OR_RETURN(got, in_->Read(buf, n));
    }
    if (cr_lines_) std::replace(buf, buf + got, '\r', '\n');
    return got;
  }
  const std::string& name() const override { return in_->name(); }
  int64_t SizeHint() const override { return in_->SizeHint(); }
  int64_t BytesConsumed() const override { return in_->BytesConsumed(); }

 private:
  // Reads the start of the stream until its first line break outside quotes.
  Status Decide() {
    decided_ = true;
    bool quoted = false;
    size_t i = 0;
    for (;;) {
      for (; i < head_.size(); ++i) {
        const char c = head_[i];
        if (quote_ != '\0' && c == quote_) {
          quoted = !quoted;
        } else if (!quoted && c == '\n') {
          return Status::OK();
        } else if (!quoted && c == '\r') {
          if (i + 1 == head_.size()) break;  // is an LF next? read on
          cr_lines_ = head_[i + 1] != '\n';
          return Status::OK();
        }
      }
      if (head_.size() >= kMaxLook) return Status::OK();
      const size_t old = head_.size();
      head_.resize(old + kPiece);
      ASSIGN_OR_RETURN(size_t got, in_->Read(head_.data() + old, kPiece));
      head_.resize(old + got);
      if (got == 0) {
        // The stream ended: a CR as its last byte ends a line.
        cr_lines_ = i < head_.size();
        return Status::OK();
      }
    }
  }

  std::unique_ptr<InputStream> owned_;
  InputStream* in_;
  const char quote_;
  bool decided_ = false;
  bool cr_lines_ = false;
  std::string head_;
  size_t head_pos_ = 0;
};

}  // namespace

std::unique_ptr<InputStream> WithLfLineEnds(std::unique_ptr<InputStream> in, char quote) {
  InputStream* raw = in.get();
  return std::make_unique<LfLineEndsInput>(raw, std::move(in), quote);
}

std::unique_ptr<InputStream> WithLfLineEnds(InputStream* in, char quote) {
  return std::make_unique<LfLineEndsInput>(in, nullptr, quote);
}

}  // namespace sluice
