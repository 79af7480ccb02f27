#include "sink/pg_copy.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <limits>
#include <utility>

namespace sluice {

namespace {

// Days and microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01.
constexpr int32_t kPgEpochDays = 10957;
constexpr int64_t kPgEpochMicros = int64_t{kPgEpochDays} * 86'400'000'000;

constexpr char kSignature[] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\xff', '\r', '\n', '\0'};

void Put16(int16_t v, std::string& out) {
  const auto u = static_cast<uint16_t>(v);
  out.push_back(static_cast<char>(u >> 8));
  out.push_back(static_cast<char>(u & 0xff));
}

void Put32(int32_t v, std::string& out) {
  const auto u = static_cast<uint32_t>(v);
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((u >> shift) & 0xff));
}

void Put64(int64_t v, std::string& out) {
  const auto u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((u >> shift) & 0xff));
}

// Overwrites the 32-bit length at `at` with the bytes written after it.
void PatchLength(size_t at, std::string& out) {
  const auto n = static_cast<uint32_t>(out.size() - at - 4);
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
}

constexpr int64_t kPow10[] = {1,
                              10,
                              100,
                              1'000,
                              10'000,
                              100'000,
                              1'000'000,
                              10'000'000,
                              100'000'000,
                              1'000'000'000,
                              10'000'000'000,
                              100'000'000'000,
                              1'000'000'000'000,
                              10'000'000'000'000,
                              100'000'000'000'000,
                              1'000'000'000'000'000,
                              10'000'000'000'000'000,
                              100'000'000'000'000'000,
                              1'000'000'000'000'000'000};

// One value of column `c`, row `i`, as a length-prefixed field.
void AppendValue(const Column& c, int64_t i, std::string& out) {
  if (c.IsNull(i)) {
    Put32(-1, out);
    return;
  }
  switch (c.type().id) {
    case TypeId::kBool:
      Put32(1, out);
      out.push_back(c.Value<uint8_t>(i) != 0 ? 1 : 0);
      return;
    case TypeId::kInt32:
      Put32(4, out);
      Put32(c.Value<int32_t>(i), out);
      return;
    case TypeId::kInt64:
      Put32(8, out);
      Put64(c.Value<int64_t>(i), out);
      return;
    case TypeId::kFloat64: {
      const double d = c.Value<double>(i);
      int64_t bits = 0;
      std::memcpy(&bits, &d, sizeof(bits));
      Put32(8, out);
      Put64(bits, out);
      return;
    }
    case TypeId::kDecimal: {
      const size_t at = out.size();
      Put32(0, out);
      AppendPgNumeric(c.Value<int64_t>(i), c.type().scale, out);
      PatchLength(at, out);
      return;
    }
    case TypeId::kString: {
      const std::string_view s = c.GetString(i);
      Put32(static_cast<int32_t>(s.size()), out);
      out.append(s);
      return;
    }
    case TypeId::kDate:
      Put32(4, out);
      Put32(c.Value<int32_t>(i) - kPgEpochDays, out);
      return;
    case TypeId::kTimestamp:
      Put32(8, out);
      Put64(c.Value<int64_t>(i) - kPgEpochMicros, out);
      return;
  }
}

}  // namespace

std::string PgColumnType(const DataType& type) {
  switch (type.id) {
    case TypeId::kBool:
      return "boolean";
    case TypeId::kInt32:
      return "integer";
    case TypeId::kInt64:
      return "bigint";
    case TypeId::kFloat64:
      return "double precision";
    case TypeId::kDecimal:
      return "numeric(" + std::to_string(type.precision) + "," + std::to_string(type.scale) + ")";
    case TypeId::kString:
      return "text";
    case TypeId::kDate:
      return "date";
    case TypeId::kTimestamp:
      return "timestamp with time zone";
  }
  return "text";
}

void AppendPgNumeric(int64_t unscaled, int scale, std::string& out) {
  const int16_t sign = unscaled < 0 ? 0x4000 : 0;
  // |unscaled| < 10^18 (precision <= 18), so negating cannot overflow; an
  // unsigned magnitude keeps even INT64_MIN defined.
  const uint64_t magnitude = unscaled < 0 ? uint64_t{0} - static_cast<uint64_t>(unscaled)
                                          : static_cast<uint64_t>(unscaled);
  const auto pow = static_cast<uint64_t>(kPow10[scale]);
  uint64_t whole = magnitude / pow;
  const uint64_t fraction = magnitude % pow;

  // Base-10000 digits, most significant first: at most 5 for the whole part
  // and 5 for the fraction (18 decimal digits each), without allocating (one
  // call per decimal value loaded).
  std::array<int16_t, 10> digits{};
  size_t n = 0;
  int whole_groups = 0;
  for (uint64_t w = whole; w > 0; w /= 10'000) ++whole_groups;
  for (int g = whole_groups - 1; g >= 0; --g) {
    digits[n + g] = static_cast<int16_t>(whole % 10'000);
    whole /= 10'000;
  }
  n += whole_groups;
  int weight = whole_groups - 1;
  // The fraction's `scale` digits, padded on the right to whole groups of 4.
  const int frac_groups = (scale + 3) / 4;
  uint64_t rest = fraction;
  for (int d = frac_groups * 4 - 1; d >= 0; --d) {
    const int16_t digit = d < scale ? static_cast<int16_t>(rest % 10) : 0;
    if (d < scale) rest /= 10;
    int16_t& group = digits[n + d / 4];
    group = static_cast<int16_t>(group + digit * kPow10[3 - d % 4]);
  }
  n += frac_groups;
  // No leading zero digits (each one dropped moves the weight down) and no
  // trailing ones (the display scale keeps the written scale).
  size_t first = 0;
  while (first < n && digits[first] == 0) {
    ++first;
    --weight;
  }
  size_t last = n;
  while (last > first && digits[last - 1] == 0) --last;
  const auto ndigits = static_cast<int16_t>(last - first);
  if (ndigits == 0) weight = 0;
  Put16(ndigits, out);
  Put16(static_cast<int16_t>(weight), out);
  Put16(ndigits == 0 ? int16_t{0} : sign, out);
  Put16(static_cast<int16_t>(scale), out);
  for (size_t k = first; k < last; ++k) Put16(digits[k], out);
}

PgCopyEncoder::PgCopyEncoder(Schema schema, std::optional<int64_t> batch_id, bool row_numbers)
    : schema_(std::move(schema)), batch_id_(batch_id), row_numbers_(row_numbers) {}

void PgCopyEncoder::Header(std::string& out) const {
  out.append(kSignature, sizeof(kSignature));
  Put32(0, out);  // flags: no OIDs
  Put32(0, out);  // no header extension
}

Status PgCopyEncoder::Rows(const RecordBatch& batch, std::string& out) {
  if (batch.columns.size() != static_cast<size_t>(schema_.num_fields())) {
    return Status::InvalidArgument("binary COPY: a batch of " +
                                   std::to_string(batch.columns.size()) + " columns for " +
                                   std::to_string(schema_.num_fields()) + " fields");
  }
  for (int f = 0; f < schema_.num_fields(); ++f) {
    if (batch.columns[f].type() != schema_.field(f).type) {
      return Status::InvalidArgument("binary COPY: column '" + schema_.field(f).name + "' is " +
                                     batch.columns[f].type().ToString() + ", expected " +
                                     schema_.field(f).type.ToString());
    }
  }
  const auto fields =
      static_cast<int16_t>(schema_.num_fields() + (batch_id_ ? 1 : 0) + (row_numbers_ ? 1 : 0));
  const int64_t rows = batch.num_rows();
  for (int64_t i = 0; i < rows; ++i) {
    Put16(fields, out);
    for (const Column& c : batch.columns) AppendValue(c, i, out);
    if (batch_id_) {
      Put32(8, out);
      Put64(*batch_id_, out);
    }
    if (row_numbers_) {
      Put32(8, out);
      Put64(next_row_++, out);
    }
  }
  return Status::OK();
}

void PgCopyEncoder::Trailer(std::string& out) const { Put16(-1, out); }

namespace {

constexpr size_t kHeaderBytes = sizeof(kSignature) + 8;  // + flags + extension length
// PostgreSQL allocates no value above 1 GB (MaxAllocSize), so no stream it
// reads holds a longer one.
constexpr int32_t kMaxValueBytes = 0x3fffffff;
// A Column's string offsets are 32-bit.
constexpr uint64_t kMaxColumnChars = std::numeric_limits<uint32_t>::max();

uint16_t Get16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>((u[0] << 8) | u[1]);
}

uint32_t Get32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

uint64_t Get64(const char* p) { return (uint64_t{Get32(p)} << 32) | Get32(p + 4); }

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%x", v);
  return buf;
}

// The fixed part of the header at the front of `b`: the extension length, or
// nullopt if `b` ends first (a wrong signature byte is reported as soon as it
// arrives). Errors are bare messages; the caller adds the offset.
Result<std::optional<int32_t>> ReadHeader(std::string_view b, int64_t& bad_at) {
  for (size_t i = 0; i < std::min(b.size(), sizeof(kSignature)); ++i) {
    if (b[i] != kSignature[i]) {
      bad_at = static_cast<int64_t>(i);
      return Status::DataLoss(
          "not a binary COPY stream: its signature is not PGCOPY\\n\\377\\r\\n\\0");
    }
  }
  if (b.size() < kHeaderBytes) return std::optional<int32_t>();
  const uint32_t flags = Get32(b.data() + sizeof(kSignature));
  bad_at = sizeof(kSignature);
  // Bits 16-31 change the format (a reader must refuse what it does not
  // know); bits 0-15 are compatible extensions, ignored.
  if (flags & 0x10000) {
    return Status::DataLoss(
        "the header's flags say OIDs are included (bit 16), which sluice never writes");
  }
  if (flags & 0xffff0000) {
    return Status::DataLoss("the header's flags " + Hex(flags) +
                            " set unknown critical bits (16-31)");
  }
  const auto extension = static_cast<int32_t>(Get32(b.data() + sizeof(kSignature) + 4));
  bad_at = sizeof(kSignature) + 4;
  if (extension < 0) {
    return Status::DataLoss("negative header extension length " + std::to_string(extension));
  }
  return std::optional<int32_t>(extension);
}

// A binary numeric (`length` >= 8 bytes at `p`) as an unscaled int64 at
// `type`'s scale; errors are bare messages.
Result<int64_t> PgNumericToUnscaled(const char* p, int32_t length, const DataType& type) {
  const auto ndigits = static_cast<int16_t>(Get16(p));
  const auto weight = static_cast<int16_t>(Get16(p + 2));
  const uint16_t sign = Get16(p + 4);
  const uint16_t dscale = Get16(p + 6);
  if (ndigits < 0) {
    return Status::DataLoss("numeric with a negative digit count " + std::to_string(ndigits));
  }
  if (length != 8 + 2 * int32_t{ndigits}) {
    return Status::DataLoss("numeric of " + std::to_string(ndigits) + " digits in " +
                            std::to_string(length) + " bytes, expected " +
                            std::to_string(8 + 2 * int32_t{ndigits}));
  }
  switch (sign) {
    case 0x0000:
    case 0x4000:
      break;
    case 0xc000:
      return Status::DataLoss("numeric NaN, which " + type.ToString() + " cannot hold");
    case 0xd000:
      return Status::DataLoss("numeric Infinity, which " + type.ToString() + " cannot hold");
    case 0xf000:
      return Status::DataLoss("numeric -Infinity, which " + type.ToString() + " cannot hold");
    default:
      return Status::DataLoss("numeric with an invalid sign " + Hex(sign));
  }
  if (dscale > 0x3fff) {
    return Status::DataLoss("numeric with an invalid display scale " + std::to_string(dscale));
  }
  const int scale = type.scale;
  uint64_t magnitude = 0;
  for (int i = 0; i < ndigits; ++i) {
    const auto d = static_cast<int16_t>(Get16(p + 8 + 2 * i));
    if (d < 0 || d > 9999) {
      return Status::DataLoss("numeric digit " + std::to_string(i + 1) + " is " +
                              std::to_string(d) + ", outside 0..9999");
    }
    if (d == 0) continue;
    // The decimal exponent of the digit's last place, then of it as a place
    // of the unscaled value.
    const int place = 4 * (weight - i);
    if (place + dscale < 0 && (place + dscale <= -4 || d % kPow10[-(place + dscale)] != 0)) {
      return Status::DataLoss("numeric with non-zero digits beyond its display scale " +
                              std::to_string(dscale));
    }
    const int e = place + scale;
    uint64_t term = 0;
    if (e < 0) {
      if (e <= -4 || d % kPow10[-e] != 0) {
        return Status::DataLoss("numeric with non-zero digits beyond the " + std::to_string(scale) +
                                " fractional digits of " + type.ToString());
      }
      term = static_cast<uint64_t>(d / kPow10[-e]);
    } else if (e > 18 || __builtin_mul_overflow(static_cast<uint64_t>(d),
                                                static_cast<uint64_t>(kPow10[e]), &term)) {
      term = std::numeric_limits<uint64_t>::max();
    }
    if (term == std::numeric_limits<uint64_t>::max() ||
        __builtin_add_overflow(magnitude, term, &magnitude)) {
      return Status::DataLoss("numeric out of range for " + type.ToString() +
                              ": the unscaled value does not fit 64 bits");
    }
  }
  const uint64_t limit = uint64_t{std::numeric_limits<int64_t>::max()} + (sign == 0x4000 ? 1 : 0);
  if (magnitude > limit) {
    return Status::DataLoss("numeric out of range for " + type.ToString() +
                            ": the unscaled value does not fit 64 bits");
  }
  // Modular (C++20): 2^63 negated is INT64_MIN.
  return static_cast<int64_t>(sign == 0x4000 ? uint64_t{0} - magnitude : magnitude);
}

}  // namespace

PgCopyDecoder::PgCopyDecoder(Schema schema, int extra_int8, int64_t max_rows)
    : schema_(std::move(schema)),
      extra_int8_(extra_int8),
      max_rows_(max_rows),
      fields_(static_cast<int>(std::clamp<int64_t>(int64_t{schema_.num_fields()} + extra_int8, 0,
                                                   std::numeric_limits<int>::max()))) {
  if (extra_int8 < 0) {
    status_ = Status::InvalidArgument("binary COPY decoder: negative extra_int8 " +
                                      std::to_string(extra_int8));
  } else if (max_rows < 1) {
    status_ = Status::InvalidArgument("binary COPY decoder: max_rows " + std::to_string(max_rows) +
                                      " is less than 1");
  } else if (fields_ > std::numeric_limits<int16_t>::max()) {
    status_ = Status::InvalidArgument("binary COPY decoder: " + std::to_string(fields_) +
                                      " fields per tuple, more than the format's 32767");
  }
  for (const Field& f : schema_.fields()) {
    if (status_.ok() && f.type.id == TypeId::kDecimal && f.type.scale > kMaxDecimalPrecision) {
      status_ = Status::InvalidArgument("binary COPY decoder: field '" + f.name + "' is " +
                                        f.type.ToString() + ", scale above 18");
    }
  }
  pending_ = RecordBatch::Empty(schema_);
}

bool PgCopyDecoder::done() const { return stage_ == Stage::kDone; }

bool PgCopyDecoder::Blocked() const { return cut_ || pending_rows_ >= max_rows_; }

Status PgCopyDecoder::Feed(std::string_view chunk) {
  RETURN_IF_ERROR(status_);
  if (chunk.empty()) return Status::OK();
  // Drop the consumed front once it is at least half the buffer: moving the
  // tail costs no more than the bytes consumed since the last move.
  if (pos_ > 0 && pos_ * 2 >= buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(chunk);
  return Decode();
}

Result<std::optional<RecordBatch>> PgCopyDecoder::Next() {
  RETURN_IF_ERROR(status_);
  RETURN_IF_ERROR(Decode());
  if (pending_rows_ == 0 || (!Blocked() && stage_ != Stage::kDone)) {
    return std::optional<RecordBatch>();
  }
  RecordBatch out = std::move(pending_);
  out.num_rows_no_columns = pending_rows_;
  pending_ = RecordBatch::Empty(schema_);
  pending_rows_ = 0;
  cut_ = false;
  return std::optional<RecordBatch>(std::move(out));
}

Status PgCopyDecoder::Finish() const {
  RETURN_IF_ERROR(status_);
  if (stage_ == Stage::kDone) return Status::OK();
  if (Blocked()) {
    return Status::FailedPrecondition(
        "binary COPY decoder: Finish() while decoded rows wait for Next(); the rest of the stream "
        "was not read");
  }
  const int64_t end = consumed_ + static_cast<int64_t>(buf_.size() - pos_);
  std::string where;
  if (stage_ == Stage::kHeader) {
    where = "inside its header";
  } else if (stage_ == Stage::kExtension) {
    where = "inside its header extension";
  } else if (pos_ == buf_.size()) {
    where = "after row " + std::to_string(rows_);
  } else if (frame_bytes_ < 2) {
    where = "inside row " + std::to_string(rows_ + 1) + "'s field count";
  } else {
    where = "inside row " + std::to_string(rows_ + 1) + ", field '" +
            FieldName(static_cast<int>(lengths_.size())) + "'";
  }
  return Status::DataLoss("binary COPY: the stream ends at byte offset " + std::to_string(end) +
                          ", " + where + ", before its end-of-data marker");
}

std::string PgCopyDecoder::FieldName(int field) const {
  const int n = schema_.num_fields();
  if (field < n) return schema_.field(field).name;
  if (field == n) return "_sluice_batch_id";
  if (field == n + 1) return "_sluice_row";
  return "trailing int8 #" + std::to_string(field - n + 1);
}

std::string PgCopyDecoder::Where(int64_t offset, int field) const {
  std::string out = "binary COPY, byte offset " + std::to_string(offset);
  if (stage_ == Stage::kTuples) out += ", row " + std::to_string(rows_ + 1);
  if (field >= 0) out += ", field '" + FieldName(field) + "'";
  return out + ": ";
}

Status PgCopyDecoder::Decode() {
  Status s = DecodeSome();
  if (!s.ok()) {
    status_ = s;
    // A tuple that failed half-way leaves the columns uneven; nothing of
    // this decoder is read after an error.
    pending_ = RecordBatch::Empty(schema_);
    pending_rows_ = 0;
  }
  return s;
}

Status PgCopyDecoder::DecodeSome() {
  while (true) {
    const std::string_view tail(buf_.data() + pos_, buf_.size() - pos_);
    switch (stage_) {
      case Stage::kHeader: {
        int64_t bad_at = 0;
        auto extension = ReadHeader(tail, bad_at);
        if (!extension.ok()) {
          return Status::DataLoss(Where(consumed_ + bad_at, -1) + extension.status().message());
        }
        if (!*extension) return Status::OK();
        pos_ += kHeaderBytes;
        consumed_ += kHeaderBytes;
        extension_left_ = **extension;
        stage_ = Stage::kExtension;
        break;
      }
      case Stage::kExtension: {
        // Skipped: no extension is defined yet, and a reader is to ignore
        // the ones it does not know.
        const auto skip = static_cast<size_t>(
            std::min<int64_t>(extension_left_, static_cast<int64_t>(tail.size())));
        pos_ += skip;
        consumed_ += static_cast<int64_t>(skip);
        extension_left_ -= static_cast<int64_t>(skip);
        if (extension_left_ > 0) return Status::OK();
        stage_ = Stage::kTuples;
        break;
      }
      case Stage::kTuples: {
        if (Blocked()) return Status::OK();
        ASSIGN_OR_RETURN(bool whole, FrameTuple());
        if (stage_ == Stage::kDone) break;
        if (!whole || cut_) return Status::OK();
        RETURN_IF_ERROR(DecodeTuple());
        break;
      }
      case Stage::kDone:
        if (!tail.empty()) {
          return Status::DataLoss("binary COPY, byte offset " + std::to_string(consumed_) + ": " +
                                  std::to_string(tail.size()) +
                                  " bytes after the end-of-data marker");
        }
        return Status::OK();
    }
  }
}

Result<bool> PgCopyDecoder::FrameTuple() {
  const char* const tuple = buf_.data() + pos_;
  const size_t avail = buf_.size() - pos_;
  if (frame_bytes_ == 0) {
    if (avail < 2) return false;
    const auto count = static_cast<int16_t>(Get16(tuple));
    if (count == -1) {
      pos_ += 2;
      consumed_ += 2;
      stage_ = Stage::kDone;
      return false;
    }
    if (count != fields_) {
      return Status::DataLoss(Where(consumed_, -1) + "the tuple has " + std::to_string(count) +
                              " fields, expected " + std::to_string(fields_) + " (" +
                              std::to_string(schema_.num_fields()) + " of the schema and " +
                              std::to_string(extra_int8_) + " trailing int8)");
    }
    frame_bytes_ = 2;
    lengths_.clear();
  }
  while (static_cast<int>(lengths_.size()) < fields_) {
    const int f = static_cast<int>(lengths_.size());
    if (avail < frame_bytes_ + 4) return false;
    const auto length = static_cast<int32_t>(Get32(tuple + frame_bytes_));
    // Checked as soon as it arrives: a wrong length fails without waiting
    // for (or buffering) the bytes it claims.
    RETURN_IF_ERROR(CheckLength(f, length, consumed_ + static_cast<int64_t>(frame_bytes_)));
    const size_t bytes = 4 + static_cast<size_t>(std::max(length, 0));
    if (avail < frame_bytes_ + bytes) return false;
    frame_bytes_ += bytes;
    lengths_.push_back(length);
  }
  // A string column's bytes stay below the 32-bit offsets' limit: if this
  // tuple would pass it, the rows before it go out first.
  if (pending_rows_ > 0) {
    for (int f = 0; f < schema_.num_fields(); ++f) {
      if (schema_.field(f).type.id == TypeId::kString && lengths_[f] > 0 &&
          static_cast<uint64_t>(pending_.columns[f].chars_size()) +
                  static_cast<uint64_t>(lengths_[f]) >
              kMaxColumnChars) {
        cut_ = true;
      }
    }
  }
  return true;
}

Status PgCopyDecoder::CheckLength(int field, int32_t length, int64_t offset) const {
  if (length < -1) {
    return Status::DataLoss(Where(offset, field) + "negative length " + std::to_string(length));
  }
  if (field >= schema_.num_fields()) {
    if (length != 8) {
      return Status::DataLoss(
          Where(offset, field) +
          (length == -1 ? std::string("NULL") : "length " + std::to_string(length)) +
          ", expected an int8 (length 8)");
    }
    return Status::OK();
  }
  const Field& f = schema_.field(field);
  if (length == -1) {
    if (!f.nullable) {
      return Status::DataLoss(Where(offset, field) + "NULL in a field that is not nullable");
    }
    return Status::OK();
  }
  // Every type is fixed-width in the stream as in a column, but numeric.
  const int32_t fixed = f.type.id == TypeId::kDecimal ? 0 : f.type.FixedWidth();
  if (fixed != 0 && length != fixed) {
    return Status::DataLoss(Where(offset, field) + "length " + std::to_string(length) +
                            ", expected " + std::to_string(fixed) + " for " + PgColumnType(f.type) +
                            " (" + f.type.ToString() + ")");
  }
  if (f.type.id == TypeId::kDecimal && length < 8) {
    return Status::DataLoss(Where(offset, field) + "length " + std::to_string(length) +
                            ", shorter than a numeric's 8-byte head");
  }
  if (length > kMaxValueBytes) {
    return Status::DataLoss(Where(offset, field) + "length " + std::to_string(length) +
                            ", more than PostgreSQL's 1 GB limit");
  }
  return Status::OK();
}

Status PgCopyDecoder::DecodeTuple() {
  const char* p = buf_.data() + pos_ + 2;
  int64_t offset = consumed_ + 2;
  for (int f = 0; f < schema_.num_fields(); ++f) {
    const int32_t length = lengths_[f];
    RETURN_IF_ERROR(DecodeValue(f, p + 4, length, offset + 4));
    const int64_t bytes = 4 + std::max(length, 0);
    p += bytes;
    offset += bytes;
  }
  ++rows_;
  ++pending_rows_;
  pending_.source_lines.push_back(rows_);
  pos_ += frame_bytes_;
  consumed_ += static_cast<int64_t>(frame_bytes_);
  frame_bytes_ = 0;
  lengths_.clear();
  return Status::OK();
}

Status PgCopyDecoder::DecodeValue(int field, const char* value, int32_t length, int64_t offset) {
  Column& c = pending_.columns[field];
  if (length == -1) {
    c.AppendNull();
    return Status::OK();
  }
  const DataType& type = schema_.field(field).type;
  switch (type.id) {
    case TypeId::kBool:
      c.Append<uint8_t>(value[0] != 0 ? 1 : 0);
      return Status::OK();
    case TypeId::kInt32:
      c.Append<int32_t>(static_cast<int32_t>(Get32(value)));
      return Status::OK();
    case TypeId::kInt64:
      c.Append<int64_t>(static_cast<int64_t>(Get64(value)));
      return Status::OK();
    case TypeId::kFloat64: {
      const uint64_t bits = Get64(value);
      double d = 0;
      std::memcpy(&d, &bits, sizeof(d));
      c.Append<double>(d);
      return Status::OK();
    }
    case TypeId::kDecimal: {
      auto unscaled = PgNumericToUnscaled(value, length, type);
      if (!unscaled.ok()) {
        return Status::DataLoss(Where(offset, field) + unscaled.status().message());
      }
      c.Append<int64_t>(*unscaled);
      return Status::OK();
    }
    case TypeId::kString:
      if (!simdjson::validate_utf8(value, static_cast<size_t>(length))) {
        return Status::DataLoss(Where(offset, field) + "text that is not valid UTF-8");
      }
      c.AppendString(std::string_view(value, static_cast<size_t>(length)));
      return Status::OK();
    case TypeId::kDate: {
      const int64_t days = int64_t{static_cast<int32_t>(Get32(value))} + kPgEpochDays;
      if (days < std::numeric_limits<int32_t>::min() ||
          days > std::numeric_limits<int32_t>::max()) {
        return Status::DataLoss(Where(offset, field) + "date out of range (" +
                                std::to_string(days - kPgEpochDays) + " days after 2000-01-01)");
      }
      c.Append<int32_t>(static_cast<int32_t>(days));
      return Status::OK();
    }
    case TypeId::kTimestamp: {
      const auto pg = static_cast<int64_t>(Get64(value));
      int64_t micros = 0;
      if (__builtin_add_overflow(pg, kPgEpochMicros, &micros)) {
        return Status::DataLoss(Where(offset, field) + "timestamp out of range (" +
                                std::to_string(pg) + " microseconds after 2000-01-01)");
      }
      c.Append<int64_t>(micros);
      return Status::OK();
    }
  }
  return Status::Internal(Where(offset, field) + "unknown type");
}

Result<std::optional<int>> PgCopyFirstTupleFields(std::string_view prefix) {
  int64_t bad_at = 0;
  auto extension = ReadHeader(prefix, bad_at);
  if (!extension.ok()) {
    return Status::DataLoss("binary COPY, byte offset " + std::to_string(bad_at) + ": " +
                            extension.status().message());
  }
  if (!*extension) return std::optional<int>();
  const uint64_t at = kHeaderBytes + static_cast<uint64_t>(**extension);
  if (prefix.size() < at + 2) return std::optional<int>();
  return std::optional<int>(static_cast<int16_t>(Get16(prefix.data() + at)));
}

}  // namespace sluice
