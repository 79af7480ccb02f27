#include "expr/vec.h"

#include <cstring>

namespace sluice::expr {

Phys PhysOf(TypeId id) {
  switch (id) {
    case TypeId::kBool:
      return Phys::kBool;
    case TypeId::kFloat64:
      return Phys::kFloat;
    case TypeId::kString:
      return Phys::kString;
    default:
      return Phys::kInt;
  }
}

Vec Vec::FromColumn(const Column& col) {
  Vec v;
  v.type_ = col.type();
  v.phys_ = PhysOf(col.type().id);
  v.n_ = col.size();
  int64_t n = v.n_;
  switch (col.type().id) {
    case TypeId::kBool:
      v.bools_ = col.data<uint8_t>();
      break;
    case TypeId::kInt32:
    case TypeId::kDate: {
      v.own_ints_.resize(n);
      const int32_t* src = col.data<int32_t>();
      for (int64_t i = 0; i < n; ++i) v.own_ints_[i] = src[i];
      v.ints_ = v.own_ints_.data();
      break;
    }
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp:
      v.ints_ = col.data<int64_t>();
      break;
    case TypeId::kFloat64:
      v.floats_ = col.data<double>();
      break;
    case TypeId::kString:
      v.offsets_ = col.offsets();
      v.chars_ = col.chars();
      break;
  }
  if (col.has_nulls()) {
    v.own_valid_.resize(n);
    const uint8_t* bits = col.validity();
    for (int64_t i = 0; i < n; ++i) v.own_valid_[i] = (bits[i >> 3] >> (i & 7)) & 1;
    v.valid_ = v.own_valid_.data();
  }
  return v;
}

Vec Vec::Make(DataType type, int64_t n) {
  Vec v;
  v.type_ = type;
  v.phys_ = PhysOf(type.id);
  v.n_ = n;
  switch (v.phys_) {
    case Phys::kBool:
      v.own_bools_.assign(n, 0);
      v.bools_ = v.own_bools_.data();
      break;
    case Phys::kInt:
      v.own_ints_.assign(n, 0);
      v.ints_ = v.own_ints_.data();
      break;
    case Phys::kFloat:
      v.own_floats_.resize(n);
      v.floats_ = v.own_floats_.data();
      break;
    case Phys::kString:
      v.own_offsets_.assign(n + 1, 0);
      v.offsets_ = v.own_offsets_.data();
      v.chars_ = v.own_chars_.data();
      break;
  }
  return v;
}

Vec Vec::Null(DataType type, int64_t n) {
  Vec v = Make(type, 1);
  v.n_ = n;
  v.is_const_ = true;
  v.own_valid_.assign(1, 0);
  v.valid_ = v.own_valid_.data();
  if (v.phys_ == Phys::kFloat) v.own_floats_[0] = 0;
  return v;
}

Vec Vec::ConstInt(DataType type, int64_t value, int64_t n) {
  Vec v = Make(type, 1);
  v.own_ints_[0] = value;
  v.n_ = n;
  v.is_const_ = true;
  return v;
}

Vec Vec::ConstFloat(double value, int64_t n) {
  Vec v = Make(DataType::Float64(), 1);
  v.own_floats_[0] = value;
  v.n_ = n;
  v.is_const_ = true;
  return v;
}

Vec Vec::ConstBool(bool value, int64_t n) {
  Vec v = Make(DataType::Bool(), 1);
  v.own_bools_[0] = value;
  v.n_ = n;
  v.is_const_ = true;
  return v;
}

Vec Vec::ConstString(std::string_view value, int64_t n) {
  Vec v = Make(DataType::String(), 1);
  v.own_chars_.assign(value.begin(), value.end());
  v.own_offsets_[1] = static_cast<uint32_t>(value.size());
  v.chars_ = v.own_chars_.data();
  v.n_ = n;
  v.is_const_ = true;
  return v;
}

Vec Vec::ConstFrom(const Vec& src, int64_t row, int64_t n) {
  Vec v;
  if (!src.IsValid(row)) return Null(src.type_, n);
  switch (src.phys_) {
    case Phys::kBool:
      v = ConstBool(src.Bool(row), n);
      break;
    case Phys::kInt:
      v = ConstInt(src.type_, src.Int(row), n);
      break;
    case Phys::kFloat:
      v = ConstFloat(src.Float(row), n);
      break;
    case Phys::kString:
      v = ConstString(src.Str(row), n);
      break;
  }
  v.type_ = src.type_;
  return v;
}

uint8_t* Vec::mutable_valid() {
  if (own_valid_.empty()) {
    own_valid_.assign(is_const_ ? 1 : n_, 1);
    if (valid_ != nullptr) std::memcpy(own_valid_.data(), valid_, own_valid_.size());
    valid_ = own_valid_.data();
  }
  return own_valid_.data();
}

void Vec::AndValidity(const Vec& v, const Sel* sel) {
  if (v.valid_ == nullptr) return;
  uint8_t* out = mutable_valid();
  if (v.is_const_) {
    if (v.valid_[0]) return;
    ForRows(n_, sel, [&](int64_t i) { out[i] = 0; });
    return;
  }
  const uint8_t* in = v.valid_;
  ForRows(n_, sel, [&](int64_t i) { out[i] &= in[i]; });
}

void Vec::BeginStrings(int64_t reserve_bytes) {
  own_chars_.clear();
  own_chars_.reserve(reserve_bytes);
  own_offsets_.assign(n_ + 1, 0);
  next_row_ = 0;
}

void Vec::FillOffsetsTo(int64_t row) {
  uint32_t end = static_cast<uint32_t>(own_chars_.size());
  for (int64_t r = next_row_; r <= row; ++r) own_offsets_[r] = end;
  next_row_ = row + 1;
}

void Vec::PutString(int64_t row, std::string_view s) {
  FillOffsetsTo(row);
  own_chars_.insert(own_chars_.end(), s.begin(), s.end());
}

void Vec::AppendToString(int64_t /*row*/, std::string_view s) {
  own_chars_.insert(own_chars_.end(), s.begin(), s.end());
}

void Vec::EndStrings() {
  FillOffsetsTo(n_);
  offsets_ = own_offsets_.data();
  chars_ = own_chars_.data();
}

Column Vec::ToColumn(const Sel* sel) const {
  int64_t n = n_;
  std::vector<uint8_t> data;
  std::vector<char> chars;
  std::vector<uint8_t> validity;
  int64_t nulls = 0;
  // Validity: rows outside the selection, and null rows, are null.
  bool any_null = valid_ != nullptr || (sel != nullptr && static_cast<int64_t>(sel->size()) != n);
  if (any_null) {
    validity.assign((n + 7) / 8, 0);
    ForRows(n, sel, [&](int64_t i) {
      if (IsValid(i)) validity[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
    });
    for (int64_t i = 0; i < n; ++i) nulls += !((validity[i >> 3] >> (i & 7)) & 1);
    if (nulls == 0) validity.clear();
  }
  switch (type_.id) {
    case TypeId::kBool: {
      data.resize(n);
      for (int64_t i = 0; i < n; ++i) data[i] = bools_[At(i)];
      break;
    }
    case TypeId::kInt32:
    case TypeId::kDate: {
      data.resize(n * 4);
      auto* out = reinterpret_cast<int32_t*>(data.data());
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<int32_t>(ints_[At(i)]);
      break;
    }
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp:
      data.resize(n * 8);
      if (is_const_) {
        auto* out = reinterpret_cast<int64_t*>(data.data());
        for (int64_t i = 0; i < n; ++i) out[i] = ints_[0];
      } else if (n > 0) {  // an empty batch's buffers may be null
        std::memcpy(data.data(), ints_, n * 8);
      }
      break;
    case TypeId::kFloat64:
      data.resize(n * 8);
      if (is_const_) {
        auto* out = reinterpret_cast<double*>(data.data());
        for (int64_t i = 0; i < n; ++i) out[i] = floats_[0];
      } else if (n > 0) {  // an empty batch's buffers may be null
        std::memcpy(data.data(), floats_, n * 8);
      }
      break;
    case TypeId::kString: {
      data.resize((n + 1) * 4);
      auto* off = reinterpret_cast<uint32_t*>(data.data());
      off[0] = 0;
      bool dense = sel == nullptr && !is_const_ && offsets_[0] == 0 && validity.empty();
      if (dense) {
        // Already in column layout.
        std::memcpy(off, offsets_, (n + 1) * 4);
        chars.assign(chars_, chars_ + offsets_[n]);
        break;
      }
      for (int64_t i = 0; i < n; ++i) {
        bool keep = validity.empty() || ((validity[i >> 3] >> (i & 7)) & 1);
        if (keep) {
          std::string_view s = Str(i);
          chars.insert(chars.end(), s.begin(), s.end());
        }
        off[i + 1] = static_cast<uint32_t>(chars.size());
      }
      break;
    }
  }
  // Null slots hold zeroed values, as Column promises.
  if (!validity.empty() && type_.id != TypeId::kString) {
    int w = type_.FixedWidth();
    for (int64_t i = 0; i < n; ++i) {
      if (!((validity[i >> 3] >> (i & 7)) & 1)) std::memset(data.data() + i * w, 0, w);
    }
  }
  return Column::FromParts(type_, n, std::move(data), std::move(chars), std::move(validity), nulls);
}

}  // namespace sluice::expr
