#include "format/parquet/thrift_reader.h"

#include <cstring>

namespace sluice::parquet {

namespace {

bool IsInt(CompactType t) {
  return t == CompactType::kByte || t == CompactType::kI16 || t == CompactType::kI32 ||
         t == CompactType::kI64;
}

}  // namespace

void CompactReader::Fail(std::string why) {
  if (!ok_) return;
  ok_ = false;
  error_ = std::move(why);
  p_ = end_;
}

void CompactReader::Truncated() {
  if (!ok_) return;
  truncated_ = true;
  Fail("truncated");
}

uint8_t CompactReader::Byte() {
  if (p_ >= end_) {
    Truncated();
    return 0;
  }
  return static_cast<uint8_t>(*p_++);
}

uint64_t CompactReader::Varint() {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (p_ >= end_) {
      Truncated();
      return 0;
    }
    uint8_t b = static_cast<uint8_t>(*p_++);
    if (shift == 63 && (b & 0x7e) != 0) break;  // more than 64 bits
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
  Fail("varint longer than 64 bits");
  return 0;
}

void CompactReader::BeginStruct() {
  if (!ok_) return;
  if (static_cast<int>(last_ids_.size()) >= kMaxDepth) {
    Fail("structs nested too deeply");
    return;
  }
  last_ids_.push_back(0);
}

bool CompactReader::NextField(int16_t* id, CompactType* type) {
  if (!ok_ || last_ids_.empty()) return false;
  uint8_t h = Byte();
  if (!ok_) return false;
  if (h == 0) {
    last_ids_.pop_back();
    return false;
  }
  int delta = h >> 4;
  int t = h & 0x0f;
  int64_t fid = delta != 0 ? last_ids_.back() + delta : ZigZagVarint();
  if (!ok_) return false;
  if (fid < INT16_MIN || fid > INT16_MAX || t > static_cast<int>(CompactType::kStruct) || t == 0) {
    Fail("bad field header");
    return false;
  }
  last_ids_.back() = static_cast<int16_t>(fid);
  *id = static_cast<int16_t>(fid);
  *type = static_cast<CompactType>(t);
  return true;
}

bool CompactReader::ReadBool(CompactType type, bool* out) {
  // In a field header the type code carries the value.
  if (type == CompactType::kBoolTrue || type == CompactType::kBoolFalse) {
    *out = type == CompactType::kBoolTrue;
    return ok_;
  }
  Skip(type);
  return false;
}

bool CompactReader::ReadBoolElem(CompactType elem, bool* out) {
  if (elem != CompactType::kBoolTrue && elem != CompactType::kBoolFalse) {
    SkipDepth(elem, static_cast<int>(last_ids_.size()) + 1);
    return false;
  }
  const uint8_t b = Byte();
  if (!ok_) return false;
  if (b > 2) {
    Fail("bad bool list element");
    return false;
  }
  *out = b == 1;
  return true;
}

bool CompactReader::ReadInt(CompactType type, int64_t* out) {
  if (!IsInt(type)) {
    Skip(type);
    return false;
  }
  if (type == CompactType::kByte) {
    *out = static_cast<int8_t>(Byte());
  } else {
    *out = ZigZagVarint();
  }
  return ok_;
}

bool CompactReader::ReadI32(CompactType type, int32_t* out) {
  int64_t v = 0;
  if (!ReadInt(type, &v)) return false;
  if (v < INT32_MIN || v > INT32_MAX) {
    Fail("i32 out of range");
    return false;
  }
  *out = static_cast<int32_t>(v);
  return true;
}

bool CompactReader::ReadBinary(CompactType type, std::string_view* out) {
  if (type != CompactType::kBinary) {
    Skip(type);
    return false;
  }
  uint64_t n = Varint();
  if (!ok_) return false;
  if (n > static_cast<uint64_t>(end_ - p_)) {
    Truncated();
    return false;
  }
  *out = std::string_view(p_, n);
  p_ += n;
  return true;
}

bool CompactReader::ReadDouble(CompactType type, double* out) {
  if (type != CompactType::kDouble) {
    Skip(type);
    return false;
  }
  if (end_ - p_ < 8) {
    Truncated();
    return false;
  }
  std::memcpy(out, p_, 8);  // little-endian on the wire, as on every host we build for
  p_ += 8;
  return true;
}

bool CompactReader::ReadListHeader(CompactType type, CompactType* elem, uint32_t* size) {
  if (type != CompactType::kList && type != CompactType::kSet) {
    Skip(type);
    return false;
  }
  uint8_t h = Byte();
  uint64_t n = h >> 4;
  if (n == 15) n = Varint();
  if (!ok_) return false;
  int t = h & 0x0f;
  if (t == 0 || t > static_cast<int>(CompactType::kStruct)) {
    Fail("bad list element type");
    return false;
  }
  // Every element takes at least one byte, so a larger count is a lie.
  if (n > static_cast<uint64_t>(end_ - p_)) {
    Truncated();
    return false;
  }
  *elem = static_cast<CompactType>(t);
  *size = static_cast<uint32_t>(n);
  return true;
}

void CompactReader::Skip(CompactType type) { SkipDepth(type, static_cast<int>(last_ids_.size())); }

void CompactReader::SkipDepth(CompactType type, int depth) {
  if (!ok_) return;
  if (depth >= kMaxDepth) {
    Fail("values nested too deeply");
    return;
  }
  switch (type) {
    case CompactType::kBoolTrue:
    case CompactType::kBoolFalse:
      return;  // value is in the field header
    case CompactType::kByte:
      Byte();
      return;
    case CompactType::kI16:
    case CompactType::kI32:
    case CompactType::kI64:
      Varint();
      return;
    case CompactType::kDouble:
      if (end_ - p_ < 8) {
        Truncated();
      } else {
        p_ += 8;
      }
      return;
    case CompactType::kBinary: {
      std::string_view unused;
      ReadBinary(type, &unused);
      return;
    }
    case CompactType::kList:
    case CompactType::kSet: {
      CompactType elem;
      uint32_t n = 0;
      if (!ReadListHeader(type, &elem, &n)) return;
      for (uint32_t i = 0; i < n && ok_; ++i) {
        // A bool element is one byte, unlike a bool field.
        if (elem == CompactType::kBoolTrue || elem == CompactType::kBoolFalse) {
          Byte();
        } else {
          SkipDepth(elem, depth + 1);
        }
      }
      return;
    }
    case CompactType::kMap: {
      uint64_t n = Varint();
      if (!ok_ || n == 0) return;
      if (n > static_cast<uint64_t>(end_ - p_)) {
        Truncated();
        return;
      }
      uint8_t kv = Byte();
      auto kt = static_cast<CompactType>(kv >> 4);
      auto vt = static_cast<CompactType>(kv & 0x0f);
      if (kv >> 4 == 0 || (kv & 0x0f) == 0 || (kv >> 4) > 12 || (kv & 0x0f) > 12) {
        Fail("bad map types");
        return;
      }
      auto skip_one = [&](CompactType t) {
        if (t == CompactType::kBoolTrue || t == CompactType::kBoolFalse) {
          Byte();
        } else {
          SkipDepth(t, depth + 1);
        }
      };
      for (uint64_t i = 0; i < n && ok_; ++i) {
        skip_one(kt);
        skip_one(vt);
      }
      return;
    }
    case CompactType::kStruct: {
      if (depth + 1 >= kMaxDepth) {
        Fail("structs nested too deeply");
        return;
      }
      while (ok_) {
        uint8_t h = Byte();
        if (!ok_ || h == 0) return;
        int t = h & 0x0f;
        if (h >> 4 == 0) ZigZagVarint();
        if (t == 0 || t > static_cast<int>(CompactType::kStruct)) {
          Fail("bad field header");
          return;
        }
        SkipDepth(static_cast<CompactType>(t), depth + 1);
      }
      return;
    }
    case CompactType::kStop:
      break;
  }
  Fail("bad type code");
}

}  // namespace sluice::parquet
