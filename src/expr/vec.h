// Vec: one expression's values for the rows of a batch, as the vectorised
// evaluator computes them.
//
// Values are held by physical class, so a kernel is written once per class:
//   kBool    uint8_t (0/1)                      bool
//   kInt     int64_t                            int32, int64, decimal (unscaled), date, timestamp
//   kFloat   double                             float64
//   kString  uint32_t offsets (n+1) + bytes     string
// Validity is one byte per row (1 = valid); a null `valid` means no nulls.
// A constant Vec (is_const) holds one value that stands for every row.
// A Vec may view another's buffers (a column of the input batch, zero-copy
// where the layout matches) or own them.
//
// Selection: evaluation computes only the rows of a selection (ascending row
// numbers; null = all rows). Other rows of a result hold unspecified values,
// except that strings always have valid offsets for every row.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/column.h"
#include "core/types.h"

namespace sluice::expr {

enum class Phys : uint8_t { kBool, kInt, kFloat, kString };
Phys PhysOf(TypeId id);

using Sel = std::vector<uint32_t>;

// Calls f(row) for each selected row (all of [0, n) when sel is null).
template <typename F>
inline void ForRows(int64_t n, const Sel* sel, F&& f) {
  if (sel == nullptr) {
    for (int64_t i = 0; i < n; ++i) f(i);
  } else {
    for (uint32_t i : *sel) f(static_cast<int64_t>(i));
  }
}

class Vec {
 public:
  Vec() = default;
  Vec(const Vec&) = delete;
  Vec& operator=(const Vec&) = delete;
  Vec(Vec&&) = default;
  Vec& operator=(Vec&&) = default;

  // Views `col` (int32 and date columns are widened into owned storage).
  static Vec FromColumn(const Column& col);
  static Vec Null(DataType type, int64_t n);
  static Vec ConstInt(DataType type, int64_t v, int64_t n);
  static Vec ConstFloat(double v, int64_t n);
  static Vec ConstBool(bool v, int64_t n);
  static Vec ConstString(std::string_view v, int64_t n);
  // A constant Vec holding row `row` of `v`.
  static Vec ConstFrom(const Vec& v, int64_t row, int64_t n);

  // Fresh owned storage for n rows, all valid (values uninitialised except
  // bools and ints, which are zeroed).
  static Vec Make(DataType type, int64_t n);

  // A Column of n rows (only selected rows are meaningful; others are null).
  Column ToColumn(const Sel* sel) const;

  const DataType& type() const { return type_; }
  Phys phys() const { return phys_; }
  int64_t size() const { return n_; }
  bool is_const() const { return is_const_; }
  bool has_nulls() const { return valid_ != nullptr; }

  // Row accessors (a constant answers for every row).
  int64_t At(int64_t i) const { return is_const_ ? 0 : i; }
  bool IsValid(int64_t i) const { return valid_ == nullptr || valid_[At(i)]; }
  int64_t Int(int64_t i) const { return ints_[At(i)]; }
  double Float(int64_t i) const { return floats_[At(i)]; }
  bool Bool(int64_t i) const { return bools_[At(i)] != 0; }
  std::string_view Str(int64_t i) const {
    int64_t k = At(i);
    return {chars_ + offsets_[k], offsets_[k + 1] - offsets_[k]};
  }

  const uint8_t* valid() const { return valid_; }
  const int64_t* ints() const { return ints_; }
  const double* floats() const { return floats_; }
  const uint8_t* bools() const { return bools_; }
  const uint32_t* offsets() const { return offsets_; }
  const char* chars() const { return chars_; }

  // Writable owned buffers (Make()).
  int64_t* mutable_ints() { return own_ints_.data(); }
  double* mutable_floats() { return own_floats_.data(); }
  uint8_t* mutable_bools() { return own_bools_.data(); }
  // Validity, created (all valid) on first use.
  uint8_t* mutable_valid();
  void SetNull(int64_t i) { mutable_valid()[i] = 0; }
  // Copies `v`'s validity for the selected rows into this Vec's (no-op when
  // v has no nulls).
  void AndValidity(const Vec& v, const Sel* sel);

  // Strings are written in row order: Begin, then for each row i from 0 to
  // n-1 in ascending order (skipped rows become empty) either Put or nothing.
  void BeginStrings(int64_t reserve_bytes = 0);
  void PutString(int64_t row, std::string_view s);
  // Appends bytes to the string of `row` (the current one): PutString
  // starts it, AppendToString extends it.
  void AppendToString(int64_t row, std::string_view s);
  void EndStrings();
  std::vector<char>* string_bytes() { return &own_chars_; }

  void set_type(DataType t) { type_ = t; }

 private:
  void FillOffsetsTo(int64_t row);

  DataType type_;
  Phys phys_ = Phys::kString;
  int64_t n_ = 0;
  bool is_const_ = false;
  const uint8_t* valid_ = nullptr;
  const int64_t* ints_ = nullptr;
  const double* floats_ = nullptr;
  const uint8_t* bools_ = nullptr;
  const uint32_t* offsets_ = nullptr;
  const char* chars_ = nullptr;

  std::vector<uint8_t> own_valid_;
  std::vector<int64_t> own_ints_;
  std::vector<double> own_floats_;
  std::vector<uint8_t> own_bools_;
  std::vector<uint32_t> own_offsets_;
  std::vector<char> own_chars_;
  int64_t next_row_ = 0;  // string writing: offsets are filled up to here
};

}  // namespace sluice::expr
