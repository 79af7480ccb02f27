// Hash functions.
//
// xxhash64(x, ...) (alias hash): XXH64 with seed 0 over these bytes, for each
// argument in order:
//   a tag byte: 0 for NULL (nothing follows), 1 for a value, then
//   bool                      1 byte, 0 or 1
//   int32, int64, decimal,    the int64 value, 8 bytes little-endian
//   date, timestamp           (a decimal's unscaled value, a date's days
//                             since 1970-01-01, a timestamp's microseconds)
//   float64                   the IEEE-754 bits, 8 bytes little-endian, with
//                             -0.0 hashed as 0.0 and every NaN as the one
//                             quiet NaN 0x7ff8000000000000
//   string                    the byte length, 4 bytes little-endian, then the
//                             bytes
// So int32 5 and int64 5 hash alike, and a decimal hashes by its unscaled
// digits (1.50 as decimal(3,2) hashes as 150). NULLs are hashed, not
// propagated: the result is never NULL. The int64 result is the uint64 hash
// reinterpreted (two's complement).
//
// md5(string), sha256(string): the lowercase hex digest of the bytes.
#include <openssl/evp.h>
#include <xxhash.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "expr/functions.h"

namespace sluice::expr {
namespace {

// Any arguments (a NULL is only its tag, whatever its type).
Result<DataType> BindXxhash(FunctionBinder&) { return DataType::Int64(); }

inline void PutLe64(std::string* buf, uint64_t v) {
  char bytes[8];
  for (int k = 0; k < 8; ++k) bytes[k] = static_cast<char>((v >> (8 * k)) & 0xFF);
  buf->append(bytes, 8);
}

inline void PutLe32(std::string* buf, uint32_t v) {
  char bytes[4];
  for (int k = 0; k < 4; ++k) bytes[k] = static_cast<char>((v >> (8 * k)) & 0xFF);
  buf->append(bytes, 4);
}

void XxhashKernel(const Expr&, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                  EvalContext*) {
  int64_t* o = out->mutable_ints();
  std::string buf;
  ForRows(out->size(), sel, [&](int64_t i) {
    buf.clear();
    for (const Vec& a : args) {
      if (!a.IsValid(i)) {
        buf.push_back('\0');
        continue;
      }
      buf.push_back('\1');
      switch (a.phys()) {
        case Phys::kBool:
          buf.push_back(a.Bool(i) ? '\1' : '\0');
          break;
        case Phys::kInt:
          PutLe64(&buf, static_cast<uint64_t>(a.Int(i)));
          break;
        case Phys::kFloat: {
          double d = a.Float(i);
          uint64_t bits;
          if (std::isnan(d)) {
            bits = 0x7ff8000000000000ULL;
          } else {
            if (d == 0) d = 0.0;  // -0.0 -> 0.0
            std::memcpy(&bits, &d, 8);
          }
          PutLe64(&buf, bits);
          break;
        }
        case Phys::kString: {
          std::string_view s = a.Str(i);
          PutLe32(&buf, static_cast<uint32_t>(s.size()));
          buf.append(s);
          break;
        }
      }
    }
    o[i] = static_cast<int64_t>(XXH64(buf.data(), buf.size(), 0));
  });
}

Result<DataType> BindDigest(FunctionBinder& b) {
  RETURN_IF_ERROR(ArgIsString(b, 0));
  return DataType::String();
}

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

template <const EVP_MD* (*kMd)()>
void DigestKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                  EvalContext* ctx) {
  static const char kHex[] = "0123456789abcdef";
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
  const EVP_MD* type = kMd();
  unsigned char digest[EVP_MAX_MD_SIZE];
  char hex[2 * EVP_MAX_MD_SIZE];
  out->BeginStrings();
  ForRows(out->size(), sel, [&](int64_t i) {
    std::string_view s = args[0].Str(i);
    unsigned int len = 0;
    if (md == nullptr || EVP_DigestInit_ex(md.get(), type, nullptr) != 1 ||
        EVP_DigestUpdate(md.get(), s.data(), s.size()) != 1 ||
        EVP_DigestFinal_ex(md.get(), digest, &len) != 1) {
      out->SetNull(i);
      ctx->Fail(i, call, "the digest could not be computed (OpenSSL error)");
      return;
    }
    for (unsigned int k = 0; k < len; ++k) {
      hex[2 * k] = kHex[digest[k] >> 4];
      hex[2 * k + 1] = kHex[digest[k] & 0xF];
    }
    out->PutString(i, std::string_view(hex, 2 * len));
  });
  out->EndStrings();
}

}  // namespace

void AddHashFunctions(std::vector<FunctionDef>* out) {
  out->push_back({"xxhash64", 1, -1, BindXxhash, XxhashKernel, false, "xxhash64(value, ...)"});
  out->push_back({"hash", 1, -1, BindXxhash, XxhashKernel, false, "hash(value, ...)"});
  out->push_back({"md5", 1, 1, BindDigest, DigestKernel<EVP_md5>, true, "md5(string)"});
  out->push_back({"sha256", 1, 1, BindDigest, DigestKernel<EVP_sha256>, true, "sha256(string)"});
}

}  // namespace sluice::expr
