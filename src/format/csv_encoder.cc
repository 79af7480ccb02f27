// CSV encoder: RFC 4180 text that the CSV decoder reads back as the same
// values (quoting and NULL rules in text_encoder.h).
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "format/text_buffer.h"
#include "format/text_encoder.h"
#include "format/text_encoder_base.h"

namespace sluice {

namespace {

// Every character a formatted non-string value can contain (digits, signs,
// '.', date and time separators, exponents, nan/inf, true/false).
constexpr std::string_view kPlainValueChars = "0123456789+-.:TZeinaftrusl";

class CsvEncoder final : public TextEncoderBase {
 public:
  CsvEncoder(std::unique_ptr<OutputStream> out, const Schema& schema, const CsvOptions& options,
             ThreadPool* pool)
      : TextEncoderBase(std::move(out), schema, pool, "csv"),
        delimiter_(options.delimiter),
        quote_(options.quote) {
    null_text_ = options.null_values.empty() ? "" : options.null_values.front();
    for (const std::string& n : options.null_values) {
      if (!n.empty()) markers_.push_back(n);
    }
    // In the default dialect no number, date or boolean needs quotes; an odd
    // delimiter ('.', '-', ':') or a null marker such as "0" makes them
    // candidates too, checked after formatting.
    check_plain_ = !markers_.empty() ||
                   kPlainValueChars.find(delimiter_) != std::string_view::npos ||
                   kPlainValueChars.find(quote_) != std::string_view::npos;
    if (options.header) WriteHeader();
  }

 protected:
  void FormatRows(const RecordBatch& batch, int64_t begin, int64_t end,
                  TextBuffer* buf) const override {
    const std::vector<ColumnView> cols = ViewColumns(batch);
    const size_t nc = cols.size();
    // Room for a whole row of non-string values; strings reserve their own.
    const size_t reserve = nc * (kMaxValueChars + 1 + null_text_.size()) + 1;
    for (int64_t r = begin; r < end; ++r) {
      char* p = buf->Ensure(reserve);
      for (size_t c = 0; c < nc; ++c) {
        if (c != 0) *p++ = delimiter_;
        const ColumnView& v = cols[c];
        if (v.IsNull(r)) {
          std::memcpy(p, null_text_.data(), null_text_.size());
          p += null_text_.size();
          continue;
        }
        if (v.id == TypeId::kString) {
          buf->set_end(p);
          WriteString(v.String(r), buf);
          p = buf->Ensure(reserve);
          continue;
        }
        char* start = p;
        p = WritePlain(v, r, p);
        if (check_plain_) {
          std::string_view text(start, static_cast<size_t>(p - start));
          if (NeedsQuotes(text)) {
            // Rare dialects only: copy out, then write again quoted.
            char copy[kMaxValueChars];
            std::memcpy(copy, text.data(), text.size());
            buf->set_end(start);
            WriteQuoted(std::string_view(copy, text.size()), buf);
            p = buf->Ensure(reserve);
          }
        }
      }
      *p++ = '\n';
      buf->set_end(p);
    }
  }

 private:
  void WriteHeader() {
    TextBuffer& buf = buffer();
    for (int c = 0; c < schema().num_fields(); ++c) {
      if (c != 0) buf.Push(delimiter_);
      WriteString(schema().field(c).name, &buf);
    }
    buf.Push('\n');
  }

  // A non-string value, unquoted.
  static char* WritePlain(const ColumnView& v, int64_t r, char* p) {
    switch (v.id) {
      case TypeId::kBool:
        if (v.Get<uint8_t>(r) != 0) {
          std::memcpy(p, "true", 4);
          return p + 4;
        }
        std::memcpy(p, "false", 5);
        return p + 5;
      case TypeId::kInt32:
        return WriteInt64(p, v.Get<int32_t>(r));
      case TypeId::kInt64:
        return WriteInt64(p, v.Get<int64_t>(r));
      case TypeId::kFloat64:
        return WriteFloat64(p, v.Get<double>(r));
      case TypeId::kDecimal:
        return WriteDecimal(p, v.Get<int64_t>(r), v.scale);
      case TypeId::kDate:
        return WriteDate(p, v.Get<int32_t>(r));
      case TypeId::kTimestamp:
        return WriteTimestamp(p, v.Get<int64_t>(r));
      case TypeId::kString:
        break;
    }
    return p;
  }

  uint64_t SpecialBytes(uint64_t v) const {
    return SwarHasByte(v, static_cast<unsigned char>(delimiter_)) |
           SwarHasByte(v, static_cast<unsigned char>(quote_)) | SwarHasByte(v, '\n') |
           SwarHasByte(v, '\r');
  }

  bool HasSpecial(std::string_view s) const {
    const char* p = s.data();
    const size_t n = s.size();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      if (SpecialBytes(SwarLoad(p + i)) != 0) return true;
    }
    if (i == n) return false;
    // The tail, padded with zero bytes (never the delimiter, quote or a line break).
    uint64_t v = 0;
    std::memcpy(&v, p + i, n - i);
    return SpecialBytes(v) != 0;
  }

  bool NeedsQuotes(std::string_view s) const {
    if (s.empty()) return true;  // an empty unquoted field would read as NULL
    const char first = s.front(), last = s.back();
    if (first == ' ' || first == '\t' || last == ' ' || last == '\t') return true;
    if (HasSpecial(s)) return true;
    for (const std::string& m : markers_) {
      if (s == m) return true;
    }
    return false;
  }

  void WriteString(std::string_view s, TextBuffer* buf) const {
    if (NeedsQuotes(s)) {
      WriteQuoted(s, buf);
    } else {
      buf->Append(s);
    }
  }

  void WriteQuoted(std::string_view s, TextBuffer* buf) const {
    // Worst case every character is a quote and doubles.
    char* p = buf->Ensure(2 * s.size() + 2);
    *p++ = quote_;
    const char* in = s.data();
    const char* in_end = in + s.size();
    while (in < in_end) {
      const void* q = std::memchr(in, quote_, static_cast<size_t>(in_end - in));
      const char* stop = q == nullptr ? in_end : static_cast<const char*>(q) + 1;
      std::memcpy(p, in, static_cast<size_t>(stop - in));
      p += stop - in;
      if (q != nullptr) *p++ = quote_;
      in = stop;
    }
    *p++ = quote_;
    buf->set_end(p);
  }

  char delimiter_;
  char quote_;
  std::string null_text_;
  std::vector<std::string> markers_;  // non-empty null markers: such strings are quoted
  bool check_plain_ = false;
};

}  // namespace

Result<std::unique_ptr<Encoder>> NewCsvEncoder(std::unique_ptr<OutputStream> out,
                                               const Schema& schema, const CsvOptions& options,
                                               ThreadPool* pool) {
  if (out == nullptr) return Status::InvalidArgument("csv encoder needs an output stream");
  auto line_break = [](char c) { return c == '\n' || c == '\r' || c == '\0'; };
  if (line_break(options.delimiter)) {
    return Status::InvalidArgument("csv delimiter must be a printable character");
  }
  if (line_break(options.quote) || options.quote == options.delimiter) {
    return Status::InvalidArgument("csv quote must differ from the delimiter and from line breaks");
  }
  for (const std::string& n : options.null_values) {
    for (char c : n) {
      if (c == options.delimiter || c == options.quote || c == '\n' || c == '\r') {
        return Status::InvalidArgument("csv null marker '" + n +
                                       "' cannot hold the delimiter, the quote or a line break");
      }
    }
  }
  return std::unique_ptr<Encoder>(
      std::make_unique<CsvEncoder>(std::move(out), schema, options, pool));
}

}  // namespace sluice
