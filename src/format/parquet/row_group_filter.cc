#include "format/parquet/row_group_filter.h"

#include <cmath>
#include <cstring>
#include <optional>

#include "core/value_text.h"
#include "format/staged_row.h"

namespace sluice::parquet {

namespace {

enum class Domain { kInt, kDouble, kString, kNone };

Domain DomainOf(const DataType& t) {
  switch (t.id) {
    case TypeId::kBool:
    case TypeId::kInt32:
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kDate:
    case TypeId::kTimestamp:
      return Domain::kInt;
    case TypeId::kFloat64:
      return Domain::kDouble;
    case TypeId::kString:
      return Domain::kString;
  }
  return Domain::kNone;
}

int CompareBytes(const std::string& a, const std::string& b) {
  size_t n = std::min(a.size(), b.size());
  int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

// A statistics value decoded into the leaf's natural domain.
struct StatValue {
  __int128 i = 0;
  double d = 0;
  std::string s;
};

std::optional<StatValue> DecodeStat(const LeafType& leaf, const std::string& bytes) {
  StatValue v;
  auto le = [&](int n) -> std::optional<int64_t> {
    if (static_cast<int>(bytes.size()) != n) return std::nullopt;
    if (n == 4) {
      int32_t x;
      std::memcpy(&x, bytes.data(), 4);
      return x;
    }
    int64_t x;
    std::memcpy(&x, bytes.data(), 8);
    return x;
  };
  switch (leaf.kind) {
    case LeafKind::kBool:
      if (bytes.size() != 1) return std::nullopt;
      v.i = bytes[0] != 0;
      return v;
    case LeafKind::kInt:
    case LeafKind::kDate: {
      if (leaf.is_unsigned) return std::nullopt;
      auto x = le(leaf.physical == ptype::kInt32 ? 4 : 8);
      if (!x) return std::nullopt;
      v.i = *x;
      return v;
    }
    case LeafKind::kTimestamp: {
      if (leaf.physical != ptype::kInt64) return std::nullopt;
      auto x = le(8);
      if (!x) return std::nullopt;
      __int128 t = *x;
      if (leaf.unit == 1) t *= 1000;
      if (leaf.unit == 3) t = (*x / 1000) - ((*x % 1000) < 0 ? 1 : 0);
      v.i = t;
      return v;
    }
    case LeafKind::kDecimal: {
      if (leaf.physical == ptype::kInt32 || leaf.physical == ptype::kInt64) {
        auto x = le(leaf.physical == ptype::kInt32 ? 4 : 8);
        if (!x) return std::nullopt;
        v.i = *x;
        return v;
      }
      if (bytes.empty() || bytes.size() > 16) return std::nullopt;
      const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
      unsigned __int128 u = (p[0] & 0x80) ? ~static_cast<unsigned __int128>(0) : 0;
      for (size_t k = 0; k < bytes.size(); ++k) u = (u << 8) | p[k];
      v.i = static_cast<__int128>(u);
      return v;
    }
    case LeafKind::kFloat: {
      if (leaf.float16) return std::nullopt;
      if (leaf.physical == ptype::kFloat && bytes.size() == 4) {
        float f;
        std::memcpy(&f, bytes.data(), 4);
        v.d = f;
      } else if (leaf.physical == ptype::kDouble && bytes.size() == 8) {
        std::memcpy(&v.d, bytes.data(), 8);
      } else {
        return std::nullopt;
      }
      if (std::isnan(v.d)) return std::nullopt;
      return v;
    }
    case LeafKind::kString:
      v.s = bytes;
      return v;
    default:
      return std::nullopt;
  }
}

}  // namespace

Result<RowGroupFilter> RowGroupFilter::Make(const ParquetFile& pf,
                                            const std::vector<ParquetRangeFilter>& filters) {
  RowGroupFilter out;
  for (const ParquetRangeFilter& f : filters) {
    int leaf = pf.FindLeaf(f.column);
    if (leaf < 0) {
      return Status::InvalidArgument("row group filter on column '" + f.column +
                                     "', which parquet file '" + pf.name() + "' does not have");
    }
    auto type = NaturalType(pf.leaf_types[leaf], f.column, pf.name());
    if (!type.ok()) return type.status();
    Bound b;
    b.leaf = leaf;
    b.type = *type;
    if (DomainOf(b.type) == Domain::kNone) continue;
    auto parse = [&](const std::string& text, __int128* i, double* d, std::string* s) -> Status {
      if (b.type.id == TypeId::kString) {
        *s = text;
        return Status::OK();
      }
      StagedValue v;
      if (!ParseTextAs(text, b.type, &v)) {
        return Status::InvalidArgument("row group filter on column '" + f.column +
                                       "': " + CannotParseReason(text, b.type));
      }
      *i = v.i;
      *d = v.f;
      return Status::OK();
    };
    if (f.min) {
      RETURN_IF_ERROR(parse(*f.min, &b.imin, &b.dmin, &b.smin));
      b.has_min = true;
    }
    if (f.max) {
      RETURN_IF_ERROR(parse(*f.max, &b.imax, &b.dmax, &b.smax));
      b.has_max = true;
    }
    out.bounds_.push_back(std::move(b));
  }
  return out;
}

bool RowGroupFilter::MayMatch(const ParquetFile& pf, int rg) const {
  const RowGroupMeta& g = pf.meta.row_groups[rg];
  for (const Bound& b : bounds_) {
    const ChunkMeta& c = g.columns[b.leaf];
    if (!c.statistics) continue;
    const ChunkStatistics& st = *c.statistics;
    // Every value NULL: no row can be inside a range.
    if (st.null_count && g.num_rows > 0 && *st.null_count == g.num_rows) return false;
    const LeafType& leaf = pf.leaf_types[b.leaf];
    // An annotation sluice does not know may order values its own way.
    if (leaf.unknown_annotation) continue;
    const std::string* min = st.min_value ? &*st.min_value : nullptr;
    const std::string* max = st.max_value ? &*st.max_value : nullptr;
    // The deprecated fields use signed order: fine for signed numbers only.
    const bool legacy_ok = leaf.kind != LeafKind::kString && leaf.kind != LeafKind::kBool &&
                           !(leaf.kind == LeafKind::kDecimal && leaf.physical != ptype::kInt32 &&
                             leaf.physical != ptype::kInt64);
    if (min == nullptr && legacy_ok && st.min) min = &*st.min;
    if (max == nullptr && legacy_ok && st.max) max = &*st.max;
    if (Excludes(b, leaf, min, max)) return false;
  }
  return true;
}

bool RowGroupFilter::Excludes(const Bound& b, const LeafType& leaf, const std::string* min,
                              const std::string* max) {
  std::optional<StatValue> lo, hi;
  if (min != nullptr) lo = DecodeStat(leaf, *min);
  if (max != nullptr) hi = DecodeStat(leaf, *max);
  switch (DomainOf(b.type)) {
    case Domain::kInt:
      if (b.has_min && hi && hi->i < b.imin) return true;
      if (b.has_max && lo && lo->i > b.imax) return true;
      break;
    case Domain::kDouble:
      if (b.has_min && hi && hi->d < b.dmin) return true;
      if (b.has_max && lo && lo->d > b.dmax) return true;
      break;
    case Domain::kString:
      if (b.has_min && hi && CompareBytes(hi->s, b.smin) < 0) return true;
      if (b.has_max && lo && CompareBytes(lo->s, b.smax) > 0) return true;
      break;
    case Domain::kNone:
      break;
  }
  return false;
}

Result<RowRanges> RowGroupFilter::MatchingRows(const ParquetFile& pf, int rg) const {
  const int64_t rows = pf.meta.row_groups[rg].num_rows;
  if (rows <= 0) return RowRanges();
  RowRanges result{{0, rows}};
  for (const Bound& b : bounds_) {
    if (result.empty()) break;
    const LeafType& leaf = pf.leaf_types[b.leaf];
    if (leaf.unknown_annotation) continue;
    // ColumnIndex bounds follow the column order; without a declared one,
    // trust them only where every order agrees (signed numbers).
    const bool type_order = static_cast<size_t>(b.leaf) < pf.meta.type_defined_order.size() &&
                            pf.meta.type_defined_order[b.leaf];
    const bool signed_ok = leaf.kind != LeafKind::kString && leaf.kind != LeafKind::kBool &&
                           !(leaf.kind == LeafKind::kDecimal && leaf.physical != ptype::kInt32 &&
                             leaf.physical != ptype::kInt64);
    if (!type_order && !signed_ok) continue;
    ASSIGN_OR_RETURN(std::optional<OffsetIndexMeta> oi, ReadOffsetIndex(pf, rg, b.leaf));
    if (!oi) continue;
    ASSIGN_OR_RETURN(std::optional<ColumnIndexMeta> ci,
                     ReadColumnIndex(pf, rg, b.leaf, oi->pages.size()));
    if (!ci) continue;
    RowRanges keep;
    for (size_t p = 0; p < oi->pages.size(); ++p) {
      // A page of nulls holds no value inside any range.
      if (ci->null_pages[p]) continue;
      if (Excludes(b, leaf, &ci->min_values[p], &ci->max_values[p])) continue;
      AppendRange(&keep, oi->pages[p].first_row, oi->EndRow(p, rows));
    }
    result = IntersectRanges(result, keep);
  }
  return result;
}

}  // namespace sluice::parquet
