#include "format/parquet/thrift_compact.h"

#include <cassert>
#include <cstring>

namespace sluice::parquet {

void AppendVarint(uint64_t v, std::string* out) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

void CompactWriter::BeginStruct() { last_ids_.push_back(0); }

void CompactWriter::EndStruct() {
  assert(!last_ids_.empty());
  out_->push_back(static_cast<char>(CompactType::kStop));
  last_ids_.pop_back();
}

void CompactWriter::FieldHeader(int16_t id, CompactType type) {
  assert(!last_ids_.empty() && id > 0);
  int16_t& last = last_ids_.back();
  int delta = id - last;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | static_cast<int>(type)));
  } else {
    // Long form: the type byte alone, then the id as a zigzag varint i16.
    out_->push_back(static_cast<char>(type));
    AppendVarint(ZigZag32(id), out_);
  }
  last = id;
}

void CompactWriter::FieldBool(int16_t id, bool v) {
  // The compact protocol folds a bool field's value into the header's type nibble.
  FieldHeader(id, v ? CompactType::kBoolTrue : CompactType::kBoolFalse);
}

void CompactWriter::FieldI16(int16_t id, int16_t v) {
  FieldHeader(id, CompactType::kI16);
  AppendVarint(ZigZag32(v), out_);
}

void CompactWriter::FieldI32(int16_t id, int32_t v) {
  FieldHeader(id, CompactType::kI32);
  AppendVarint(ZigZag32(v), out_);
}

void CompactWriter::FieldI64(int16_t id, int64_t v) {
  FieldHeader(id, CompactType::kI64);
  AppendVarint(ZigZag64(v), out_);
}

void CompactWriter::FieldDouble(int16_t id, double v) {
  FieldHeader(id, CompactType::kDouble);
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(bits >> (8 * i));
  out_->append(buf, 8);
}

void CompactWriter::FieldBinary(int16_t id, std::string_view v) {
  FieldHeader(id, CompactType::kBinary);
  ElemBinary(v);
}

void CompactWriter::FieldStructBegin(int16_t id) {
  FieldHeader(id, CompactType::kStruct);
  BeginStruct();
}

void CompactWriter::FieldListBegin(int16_t id, CompactType elem_type, int64_t size) {
  FieldHeader(id, CompactType::kList);
  ListBegin(elem_type, size);
}

void CompactWriter::ListBegin(CompactType elem_type, int64_t size) {
  if (size < 15) {
    out_->push_back(static_cast<char>((size << 4) | static_cast<int>(elem_type)));
  } else {
    out_->push_back(static_cast<char>(0xf0 | static_cast<int>(elem_type)));
    AppendVarint(static_cast<uint64_t>(size), out_);
  }
}

void CompactWriter::ElemBinary(std::string_view v) {
  AppendVarint(v.size(), out_);
  out_->append(v.data(), v.size());
}

}  // namespace sluice::parquet
