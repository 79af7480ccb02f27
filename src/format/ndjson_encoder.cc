// NDJSON encoder: one JSON object per line, which the NDJSON decoder reads back
// as the same values (value forms and the invalid UTF-8 policy in
// text_encoder.h). The JSON encoder writes the same objects as one array.
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "format/text_buffer.h"
#include "format/text_encoder.h"
#include "format/text_encoder_base.h"

namespace sluice {

namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// Length of the well-formed UTF-8 sequence starting at p (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or 0.
size_t Utf8SequenceLength(const unsigned char* p, size_t avail) {
  const unsigned c = p[0];
  auto cont = [&](size_t i) { return i < avail && (p[i] & 0xC0) == 0x80; };
  if (c < 0xC2) return 0;  // a continuation byte, or an overlong 2-byte lead
  if (c < 0xE0) return cont(1) ? 2 : 0;
  if (c < 0xF0) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && p[1] < 0xA0) return 0;   // overlong
    if (c == 0xED && p[1] >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (c < 0xF5) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && p[1] < 0x90) return 0;   // overlong
    if (c == 0xF4 && p[1] >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// Writes s as a JSON string literal.
void WriteJsonString(std::string_view s, TextBuffer* buf) {
  // Worst case: every byte becomes \u00XX (6) or U+FFFD (3).
  char* p = buf->Ensure(6 * s.size() + 2);
  *p++ = '"';
  const char* in = s.data();
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Runs of plain ASCII move 8 bytes at a time.
    while (i + 8 <= n) {
      uint64_t v = SwarLoad(in + i);
      if ((SwarHasLess(v, 0x20) | (v & kHighs) | SwarHasByte(v, '"') | SwarHasByte(v, '\\')) != 0) {
        break;
      }
      std::memcpy(p, in + i, 8);
      p += 8;
      i += 8;
    }
    if (i == n) break;
    const auto c = static_cast<unsigned char>(in[i]);
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(reinterpret_cast<const unsigned char*>(in + i), n - i);
      if (len == 0) {
        std::memcpy(p, kReplacement, 3);
        p += 3;
        ++i;
      } else {
        std::memcpy(p, in + i, len);
        p += len;
        i += len;
      }
      continue;
    }
    ++i;
    if (c >= 0x20 && c != '"' && c != '\\') {
      *p++ = static_cast<char>(c);
      continue;
    }
    *p++ = '\\';
    switch (c) {
      case '"':
        *p++ = '"';
        break;
      case '\\':
        *p++ = '\\';
        break;
      case '\b':
        *p++ = 'b';
        break;
      case '\f':
        *p++ = 'f';
        break;
      case '\n':
        *p++ = 'n';
        break;
      case '\r':
        *p++ = 'r';
        break;
      case '\t':
        *p++ = 't';
        break;
      default:
        std::memcpy(p, "u00", 3);
        p[3] = kHex[c >> 4];
        p[4] = kHex[c & 15];
        p += 5;
        break;
    }
  }
  *p++ = '"';
  buf->set_end(p);
}

// `array` false: NDJSON (each object ends with a line feed); true: one JSON
// array, `[` before the first object, `,` between objects, `]` and a line
// feed at Finish.
class NdjsonEncoder final : public TextEncoderBase {
 public:
  NdjsonEncoder(std::unique_ptr<OutputStream> out, const Schema& schema, ThreadPool* pool,
                bool array)
      : TextEncoderBase(std::move(out), schema, pool, array ? "json" : "ndjson"), array_(array) {
    if (array_) buffer().Push('[');
    // `{"name":` / `,"name":` for each field, escaped once.
    for (int c = 0; c < schema.num_fields(); ++c) {
      TextBuffer key;
      key.Push(c == 0 ? '{' : ',');
      WriteJsonString(schema.field(c).name, &key);
      key.Push(':');
      key_prefixes_.emplace_back(key.data(), key.size());
      row_reserve_ += key.size() + kMaxValueChars + 2;
    }
  }

  Status Finish() override {
    if (array_ && !closed_) buffer().Append("]\n");
    closed_ = true;
    return TextEncoderBase::Finish();
  }

 protected:
  void FormatRows(const RecordBatch& batch, int64_t begin, int64_t end,
                  TextBuffer* buf) const override {
    const std::vector<ColumnView> cols = ViewColumns(batch);
    const size_t nc = cols.size();
    // rows_written() counts the batches before this one (it moves only after
    // every range of a batch is formatted), so this is safe on a pool.
    const bool first_of_output = rows_written() == 0;
    for (int64_t r = begin; r < end; ++r) {
      // Keys and non-string values of the whole row; strings reserve their own.
      char* p = buf->Ensure(row_reserve_);
      if (array_ && !(first_of_output && r == 0)) *p++ = ',';
      if (nc == 0) *p++ = '{';
      for (size_t c = 0; c < nc; ++c) {
        std::memcpy(p, key_prefixes_[c].data(), key_prefixes_[c].size());
        p += key_prefixes_[c].size();
        const ColumnView& v = cols[c];
        if (v.IsNull(r)) {
          std::memcpy(p, "null", 4);
          p += 4;
        } else if (v.id == TypeId::kString) {
          buf->set_end(p);
          WriteJsonString(v.String(r), buf);
          p = buf->Ensure(row_reserve_);
        } else {
          p = WriteValue(v, r, p);
        }
      }
      *p++ = '}';
      if (!array_) *p++ = '\n';
      buf->set_end(p);
    }
  }

 private:
  // A non-string value (at most kMaxValueChars + 2 bytes).
  static char* WriteValue(const ColumnView& v, int64_t r, char* p) {
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
      case TypeId::kFloat64: {
        const double d = v.Get<double>(r);
        if (std::isfinite(d)) return WriteFloat64(p, d);
        *p++ = '"';
        p = WriteFloat64(p, d);
        *p++ = '"';
        return p;
      }
      case TypeId::kDecimal:
        return WriteDecimal(p, v.Get<int64_t>(r), v.scale);
      case TypeId::kDate:
        *p++ = '"';
        p = WriteDate(p, v.Get<int32_t>(r));
        *p++ = '"';
        return p;
      case TypeId::kTimestamp:
        *p++ = '"';
        p = WriteTimestamp(p, v.Get<int64_t>(r));
        *p++ = '"';
        return p;
      case TypeId::kString:
        break;
    }
    return p;
  }

  std::vector<std::string> key_prefixes_;
  size_t row_reserve_ = 4;  // "," and "{" or "}\n", plus per field its key and a value
  bool array_ = false;
  bool closed_ = false;  // the array's `]` is in the buffer
};

}  // namespace

Result<std::unique_ptr<Encoder>> NewNdjsonEncoder(std::unique_ptr<OutputStream> out,
                                                  const Schema& schema, ThreadPool* pool) {
  if (out == nullptr) return Status::InvalidArgument("ndjson encoder needs an output stream");
  return std::unique_ptr<Encoder>(
      std::make_unique<NdjsonEncoder>(std::move(out), schema, pool, /*array=*/false));
}

Result<std::unique_ptr<Encoder>> NewJsonEncoder(std::unique_ptr<OutputStream> out,
                                                const Schema& schema, ThreadPool* pool) {
  if (out == nullptr) return Status::InvalidArgument("json encoder needs an output stream");
  return std::unique_ptr<Encoder>(
      std::make_unique<NdjsonEncoder>(std::move(out), schema, pool, /*array=*/true));
}

}  // namespace sluice
