// Decoder internals shared inside the format layer: the chunked decoders with
// explicit chunking, for tests that need chunk boundaries in particular places
// (format.h has the everyday entry points), and an InputStream over a view.
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "format/chunked_decoder.h"
#include "format/format.h"

namespace sluice {

Result<std::unique_ptr<Decoder>> NewCsvDecoder(std::unique_ptr<InputStream> in,
                                               const DecoderOptions& options,
                                               const ChunkedOptions& chunking);
Result<std::unique_ptr<Decoder>> NewNdjsonDecoder(std::unique_ptr<InputStream> in,
                                                  const DecoderOptions& options,
                                                  const ChunkedOptions& chunking);

// An InputStream over bytes owned by someone else.
class ViewInput final : public InputStream {
 public:
  ViewInput(std::string_view data, const std::string& name) : data_(data), name_(name) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    if (k > 0) std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  const std::string& name() const override { return name_; }
  int64_t SizeHint() const override { return static_cast<int64_t>(data_.size()); }
  int64_t BytesConsumed() const override { return static_cast<int64_t>(pos_); }

 private:
  std::string_view data_;
  const std::string& name_;
  size_t pos_ = 0;
};

}  // namespace sluice
