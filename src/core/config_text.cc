#include "core/config_text.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string_view>
#include <utility>

#include "core/value_text.h"

namespace sluice {

namespace {

bool IsVarStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsVarChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

Result<std::string> InterpolateEnv(const std::string& text, const std::string& where) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '$') {
      out.push_back(c);
      continue;
    }
    // "$${" is a literal "${" (an escape for values that contain one).
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 2;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      out.push_back(c);
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string::npos) {
      return Status::InvalidArgument(where + ": unterminated '${' in '" + text + "'");
    }
    std::string body = text.substr(i + 2, close - i - 2);
    std::string name = body, fallback;
    bool has_default = false;
    size_t sep = body.find(":-");
    if (sep != std::string::npos) {
      name = body.substr(0, sep);
      fallback = body.substr(sep + 2);
      has_default = true;
    }
    bool valid = !name.empty() && IsVarStart(name[0]);
    for (char n : name) valid = valid && IsVarChar(n);
    if (!valid) {
      return Status::InvalidArgument(where + ": malformed variable reference '${" + body +
                                     "}' (expected ${NAME} or ${NAME:-default})");
    }
    const char* value = std::getenv(name.c_str());
    if (has_default && (value == nullptr || *value == '\0')) {
      out += fallback;
    } else if (value != nullptr) {
      out += value;
    } else {
      return Status::InvalidArgument(where + ": environment variable " + name +
                                     " is not set (write ${" + name +
                                     ":-default} to give a default)");
    }
    i = close;
  }
  return out;
}

Result<std::chrono::milliseconds> ParseDuration(const std::string& text) {
  std::string_view s = text;
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  size_t num_end = 0;
  while (num_end < s.size() &&
         (std::isdigit(static_cast<unsigned char>(s[num_end])) || s[num_end] == '.')) {
    ++num_end;
  }
  std::string_view num = s.substr(0, num_end), unit = s.substr(num_end);
  double value = 0;
  auto r = std::from_chars(num.data(), num.data() + num.size(), value);
  if (num.empty() || r.ec != std::errc() || r.ptr != num.data() + num.size()) {
    return Status::InvalidArgument("invalid duration '" + text +
                                   "' (expected e.g. 250ms, 2s, 5m, 1h or a number of seconds)");
  }
  double scale = 0;
  if (unit.empty() || unit == "s") {
    scale = 1000;
  } else if (unit == "ms") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60 * 1000;
  } else if (unit == "h") {
    scale = 3600 * 1000;
  } else {
    return Status::InvalidArgument("invalid duration unit '" + std::string(unit) + "' in '" + text +
                                   "' (use ms, s, m or h)");
  }
  double ms = std::round(value * scale);
  // Anything past a few centuries is a typo, and must not overflow int64.
  if (ms > 1e13) return Status::InvalidArgument("duration '" + text + "' is too large");
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

Result<int64_t> ParseByteSize(const std::string& text) {
  const std::string_view s = TrimBlanks(text);
  size_t k = 0;
  while (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) ++k;
  int64_t n = 0;
  if (k == 0 || !ParseInt64(s.substr(0, k), &n) || n <= 0) {
    return Status::InvalidArgument("expected a size such as 512MiB or 2GiB, got '" + text + "'");
  }
  const std::string_view unit = TrimBlanks(s.substr(k));
  int shift = -1;
  static constexpr std::pair<int, const char*> kUnits[] = {
      {0, "b"},  {10, "k"},  {10, "kb"},  {10, "kib"}, {20, "m"},  {20, "mb"},  {20, "mib"},
      {30, "g"}, {30, "gb"}, {30, "gib"}, {40, "t"},   {40, "tb"}, {40, "tib"},
  };
  if (unit.empty()) shift = 0;
  for (const auto& [bits, name] : kUnits) {
    if (EqualsIgnoreCase(unit, name)) shift = bits;
  }
  if (shift < 0) {
    return Status::InvalidArgument("unknown size unit '" + std::string(unit) +
                                   "' (use B, KiB, MiB, GiB or TiB)");
  }
  if (n > (std::numeric_limits<int64_t>::max() >> shift)) {
    return Status::InvalidArgument("size '" + text + "' is too large");
  }
  return n << shift;
}

}  // namespace sluice
