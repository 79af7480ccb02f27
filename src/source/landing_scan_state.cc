#include "source/landing_scan_state.h"

#include <algorithm>
#include <string_view>

#include "core/hash.h"

namespace sluice {

namespace {

uint64_t ParseHex64(std::string_view hex) {
  uint64_t v = 0;
  for (char c : hex) v = (v << 4) | static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  return v;
}

}  // namespace

// 128 bits of SHA-256: a producer chooses keys and content (and so MD5
// ETags), and a collision would make a new object look taken; a weak hash
// could be steered into one.
LandingScanState::Fp LandingScanState::Fingerprint(const std::string& key,
                                                   const std::string& etag) {
  std::string material = key;
  material.push_back('\0');
  material += etag;
  const std::string hex = Sha256Hex(material);
  return Fp{ParseHex64(std::string_view(hex).substr(0, 16)),
            ParseHex64(std::string_view(hex).substr(16, 16))};
}

void LandingScanState::Insert(FpSet& set, const Fp& fp) const {
  if (set.size() >= max_known_ && set.find(fp) == set.end()) {
    if (set.empty()) return;  // max_known_ == 0: remember nothing
    set.erase(set.begin());
  }
  set.insert(fp);
}

LandingScanState::Pass LandingScanState::BeginPass(const std::string& prefix, int64_t now_us,
                                                   int64_t full_rescan_us) {
  MutexLock lock(&mu_);
  Prefix& p = prefixes_[prefix];
  Pass pass;
  pass.started_us = now_us;
  pass.full = p.last_full_us == 0 || now_us - p.last_full_us >= full_rescan_us;
  if (pass.full) {
    p.in_full = true;
    p.next.clear();
  } else {
    pass.start_after = p.watermark;
  }
  return pass;
}

void LandingScanState::Listed(const std::string& prefix, const std::string& key) {
  MutexLock lock(&mu_);
  Prefix& p = prefixes_[prefix];
  if (key > p.watermark) p.watermark = key;
}

bool LandingScanState::Known(const std::string& prefix, const std::string& key,
                             const std::string& etag) {
  const Fp fp = Fingerprint(key, etag);
  MutexLock lock(&mu_);
  Prefix& p = prefixes_[prefix];
  if (p.known.find(fp) == p.known.end()) return false;
  if (p.in_full) Insert(p.next, fp);
  return true;
}

void LandingScanState::Remember(const std::string& prefix, const std::string& key,
                                const std::string& etag) {
  const Fp fp = Fingerprint(key, etag);
  MutexLock lock(&mu_);
  Prefix& p = prefixes_[prefix];
  Insert(p.known, fp);
  if (p.in_full) Insert(p.next, fp);
}

void LandingScanState::Retry(const std::string& prefix, const std::string& key) {
  MutexLock lock(&mu_);
  Prefix& p = prefixes_[prefix];
  if (p.retries.size() < kMaxRetries &&
      std::find(p.retries.begin(), p.retries.end(), key) == p.retries.end()) {
    p.retries.push_back(key);
  }
}

std::vector<std::string> LandingScanState::TakeRetries(const std::string& prefix) {
  MutexLock lock(&mu_);
  std::vector<std::string> out;
  out.swap(prefixes_[prefix].retries);
  return out;
}

void LandingScanState::EndPass(const std::string& prefix, const Pass& pass, bool complete) {
  MutexLock lock(&mu_);
  Prefix& p = prefixes_[prefix];
  if (!pass.full) return;
  p.in_full = false;
  if (complete) {
    // What the listing did not show is gone from the store: forget it.
    p.known.swap(p.next);
    p.last_full_us = pass.started_us;
  }
  p.next.clear();
}

std::string LandingScanState::watermark(const std::string& prefix) const {
  MutexLock lock(&mu_);
  auto it = prefixes_.find(prefix);
  return it == prefixes_.end() ? "" : it->second.watermark;
}

size_t LandingScanState::known(const std::string& prefix) const {
  MutexLock lock(&mu_);
  auto it = prefixes_.find(prefix);
  return it == prefixes_.end() ? 0 : it->second.known.size();
}

}  // namespace sluice
