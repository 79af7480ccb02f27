#include "core/hash.h"

#include <openssl/evp.h>

#include <vector>

namespace sluice {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::Update(const void* data, size_t n) { EVP_DigestUpdate(impl_->ctx, data, n); }

std::string Sha256::HexDigest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, md, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  Sha256 h;
  h.Update(data.data(), data.size());
  return h.HexDigest();
}

Result<std::string> Sha256Stream(InputStream& in) {
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (true) {
    ASSIGN_OR_RETURN(size_t n, in.Read(buf.data(), buf.size()));
    if (n == 0) break;
    h.Update(buf.data(), n);
  }
  return h.HexDigest();
}

namespace {

class HashingOutput final : public OutputStream {
 public:
  HashingOutput(std::unique_ptr<OutputStream> inner, std::string* digest)
      : inner_(std::move(inner)), digest_(digest) {}
  Status Write(const void* data, size_t n) override {
    RETURN_IF_ERROR(inner_->Write(data, n));
    hasher_.Update(data, n);
    return Status::OK();
  }
  int64_t Tell() const override { return inner_->Tell(); }
  Status Close() override {
    RETURN_IF_ERROR(inner_->Close());
    *digest_ = hasher_.HexDigest();
    return Status::OK();
  }
  void Abort() override { inner_->Abort(); }

 private:
  std::unique_ptr<OutputStream> inner_;
  std::string* digest_;
  Sha256 hasher_;
};

}  // namespace

std::unique_ptr<OutputStream> NewHashingOutput(std::unique_ptr<OutputStream> inner,
                                               std::string* hex_digest) {
  return std::make_unique<HashingOutput>(std::move(inner), hex_digest);
}

}  // namespace sluice
