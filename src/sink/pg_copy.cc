#include "sink/pg_copy.h"

#include <array>
#include <cstring>
#include <utility>

namespace sluice {

namespace {

// Days and microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01.
constexpr int32_t kPgEpochDays = 10957;
constexpr int64_t kPgEpochMicros = int64_t{kPgEpochDays} * 86'400'000'000;

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
  static constexpr char kSignature[] = {'P',  'G',    'C',  'O',  'P', 'Y',
                                        '\n', '\xff', '\r', '\n', '\0'};
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

}  // namespace sluice
