#include "engine/table_cursor.h"

#include <cstring>

#include "core/hash.h"

namespace sluice::table_internal {
namespace {

constexpr uint8_t kTrCursorVersion = 1;
constexpr char kTrBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kTrCursorDomain = "sluice.rows.cursor\n";

template <typename T>
void TrPut(std::string* out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out->append(b, sizeof(T));
}

template <typename T>
bool TrGet(std::string_view* in, T* v) {
  if (in->size() < sizeof(T)) return false;
  std::memcpy(v, in->data(), sizeof(T));
  in->remove_prefix(sizeof(T));
  return true;
}

}  // namespace

std::string TrBase64UrlEncode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(in[k])); };
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kTrBase64Url[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    const uint32_t v = byte(i) << 16;
    out.push_back(kTrBase64Url[(v >> 18) & 63]);
    out.push_back(kTrBase64Url[(v >> 12) & 63]);
  } else if (i + 2 == in.size()) {
    const uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kTrBase64Url[(v >> 18) & 63]);
    out.push_back(kTrBase64Url[(v >> 12) & 63]);
    out.push_back(kTrBase64Url[(v >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> TrBase64UrlDecode(std::string_view in) {
  auto digit = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  if (in.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int d = digit(c);
    if (d < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // Leftover bits must be zero, so that every cursor has one spelling.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

std::string TrDigest8(std::string_view domain, std::string_view data) {
  std::string text(domain);
  text.append(data);
  const std::string hex = Sha256Hex(text);
  std::string out(8, '\0');
  for (size_t i = 0; i < 8; ++i) {
    out[i] = static_cast<char>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  return out;
}

std::string TrQueryFingerprint(const TableReadRequest& r) {
  std::string q;
  for (const std::string& c : r.columns) {
    q += c;
    q.push_back('\0');
  }
  q.push_back('\1');
  q += r.where;
  return TrDigest8("sluice.rows.query\n", q);
}

std::string TrEncodeCursor(const TrCursor& c) {
  std::string b;
  TrPut<uint8_t>(&b, kTrCursorVersion);
  TrPut<int64_t>(&b, c.snapshot);
  TrPut<uint32_t>(&b, c.file);
  TrPut<int64_t>(&b, c.row);
  b += c.query;
  TrPut<uint16_t>(&b, static_cast<uint16_t>(c.table.size()));
  b += c.table;
  b += TrDigest8(kTrCursorDomain, b);
  return TrBase64UrlEncode(b);
}

Result<TrCursor> TrDecodeCursor(const std::string& text) {
  auto bad = [](const std::string& why) {
    return Status::InvalidArgument("invalid cursor: " + why);
  };
  if (text.size() > 4096) return bad("too long");
  std::optional<std::string> bytes = TrBase64UrlDecode(text);
  if (!bytes) return bad("not base64url");
  if (bytes->size() < 8) return bad("too short");
  std::string_view body(bytes->data(), bytes->size() - 8);
  std::string_view check(bytes->data() + body.size(), 8);
  if (TrDigest8(kTrCursorDomain, body) != check) {
    return bad("its check does not match (altered or cut?)");
  }
  TrCursor c;
  uint8_t version = 0;
  uint16_t table_len = 0;
  std::string_view in = body;
  if (!TrGet(&in, &version) || version != kTrCursorVersion) return bad("unknown version");
  if (!TrGet(&in, &c.snapshot) || !TrGet(&in, &c.file) || !TrGet(&in, &c.row) || in.size() < 8) {
    return bad("truncated");
  }
  c.query.assign(in.data(), 8);
  in.remove_prefix(8);
  if (!TrGet(&in, &table_len) || in.size() != table_len) return bad("truncated");
  c.table.assign(in.data(), in.size());
  if (c.snapshot <= 0 || c.row < 0) return bad("out of range");
  return c;
}

}  // namespace sluice::table_internal
