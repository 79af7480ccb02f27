#include "core/log.h"

#include "core/value_text.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <iterator>
#include <utility>

namespace sluice {

namespace {

thread_local LogContext t_log_context;
thread_local int t_log_guards = 0;

// ---- Redact ----

constexpr std::string_view kRedacted = "***";

bool LogIsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool LogIsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
char LogLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool LogIsKeyChar(char c) { return LogIsAlnum(c) || c == '_' || c == '-' || c == '.'; }
// Where a URI ends in running text.
bool EndsUriInText(char c) {
  return LogIsSpace(c) || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == '\0';
}
bool EndsAuthority(char c) { return c == '/' || c == '?' || c == '#' || EndsUriInText(c); }

// Replaces s[from, to) by *** unless it is empty or *** already; returns
// where the text after the replacement starts.
size_t ReplaceSecret(std::string& s, size_t from, size_t to) {
  if (to <= from || std::string_view(s).substr(from, to - from) == kRedacted) return to;
  s.replace(from, to - from, kRedacted);
  return from + kRedacted.size();
}

// scheme://user:password@host...: the password of every URI's userinfo.
void RedactUriPasswords(std::string& s) {
  size_t pos = 0;
  while ((pos = s.find("://", pos)) != std::string::npos) {
    const size_t start = pos + 3;
    size_t scheme = pos;
    while (scheme > 0 && (LogIsAlnum(s[scheme - 1]) || s[scheme - 1] == '+' ||
                          s[scheme - 1] == '-' || s[scheme - 1] == '.')) {
      --scheme;
    }
    pos = start;
    if (scheme == start - 3) continue;  // no scheme
    // The authority ends at the path, query or fragment, or where the URI
    // ends in running text.
    size_t end = start;
    while (end < s.size() && !EndsAuthority(s[end])) ++end;
    const size_t colon = s.find(':', start);
    if (colon >= end) continue;  // no password (nor port)
    // The last '@' ends the userinfo: libpq takes an '@' in a password.
    size_t at = std::string::npos;
    for (size_t i = start; i < end; ++i) {
      if (s[i] == '@') at = i;
    }
    if (at == std::string::npos && end < s.size() && s[end] == '/') {
      // A password with a '/' not written %2F ends the authority early:
      // user:pa/ss@host. After a port (digits) a '/' starts the path.
      bool port = colon + 1 < end;
      for (size_t i = colon + 1; i < end; ++i) port = port && s[i] >= '0' && s[i] <= '9';
      for (size_t i = end; !port && i < s.size() && !EndsUriInText(s[i]); ++i) {
        if (s[i] == '@') at = i;
      }
    }
    if (at != std::string::npos && colon < at) pos = ReplaceSecret(s, colon + 1, at);
  }
}

// Whether a key names a secret: it ends in one of these (any case, '-' as '_').
bool SecretKey(std::string_view key) {
  static constexpr std::array<std::string_view, 9> kSuffixes = {
      "password", "passwd",  "secret",      "secret_key", "secret_access_key",
      "token",    "api_key", "private_key", "apikey"};
  for (std::string_view suffix : kSuffixes) {
    if (key.size() < suffix.size()) continue;
    const std::string_view end = key.substr(key.size() - suffix.size());
    bool same = true;
    for (size_t i = 0; same && i < end.size(); ++i) {
      same = (end[i] == '-' ? '_' : LogLower(end[i])) == suffix[i];
    }
    if (same) return true;
  }
  return false;
}

// The value starting at s[v]: quoted ('...' or "...", backslash escapes) or
// a word ending at a space, a quote, a URI query's '&' or, in JSON, ',', '}'
// or ']'. Returns where it starts and ends, inside the quotes.
std::pair<size_t, size_t> SecretValue(const std::string& s, size_t v, bool json) {
  if (v < s.size() && (s[v] == '\'' || s[v] == '"')) {
    const char quote = s[v];
    size_t e = v + 1;
    while (e < s.size() && s[e] != quote) e += s[e] == '\\' ? 2 : 1;
    return {v + 1, std::min(e, s.size())};
  }
  size_t e = v;
  while (e < s.size() && !LogIsSpace(s[e]) && s[e] != '&' && s[e] != '"' && s[e] != '\'' &&
         !(json && (s[e] == ',' || s[e] == '}' || s[e] == ']'))) {
    ++e;
  }
  return {v, e};
}

// key=value and key = 'value' (libpq, URI queries, environment dumps) and
// "key": "value" (JSON) where the key names a secret.
void RedactSecretPairs(std::string& s) {
  for (size_t q = 0; q < s.size(); ++q) {
    const char sep = s[q];
    if (sep != '=' && sep != ':') continue;
    size_t key_end = q;
    while (key_end > 0 && s[key_end - 1] == ' ') --key_end;
    const bool json = sep == ':';
    if (json) {
      // Only a quoted key: "token: ..." in prose is not a secret.
      if (key_end == 0 || s[key_end - 1] != '"') continue;
      --key_end;
    }
    size_t key_start = key_end;
    while (key_start > 0 && LogIsKeyChar(s[key_start - 1])) --key_start;
    if (key_start == key_end) continue;
    if (json && (key_start == 0 || s[key_start - 1] != '"')) continue;
    if (!SecretKey(std::string_view(s).substr(key_start, key_end - key_start))) continue;
    size_t v = q + 1;
    while (v < s.size() && s[v] == ' ') ++v;
    auto [from, to] = SecretValue(s, v, json);
    q = ReplaceSecret(s, from, to) - 1;
  }
}

// Authorization: <scheme> <credentials> keeps the scheme; Bearer <token>.
void RedactAuthorization(std::string& s) {
  constexpr std::string_view kHeader = "authorization";
  for (size_t i = 0; i + kHeader.size() <= s.size(); ++i) {
    if (LogLower(s[i]) != 'a') continue;
    size_t k = 0;
    while (k < kHeader.size() && LogLower(s[i + k]) == kHeader[k]) ++k;
    if (k < kHeader.size() || (i > 0 && LogIsAlnum(s[i - 1]))) continue;
    size_t v = i + kHeader.size();
    while (v < s.size() && s[v] == ' ') ++v;
    if (v >= s.size() || (s[v] != ':' && s[v] != '=')) continue;
    ++v;
    while (v < s.size() && s[v] == ' ') ++v;
    size_t end = v;
    while (end < s.size() && s[end] != '\r' && s[end] != '\n' && s[end] != '"' && s[end] != '\'') {
      ++end;
    }
    while (end > v && s[end - 1] == ' ') --end;
    // A scheme word followed by credentials keeps the word.
    size_t word = v;
    while (word < end && (LogIsAlnum(s[word]) || s[word] == '-')) ++word;
    if (word < end && s[word] == ' ' && word > v) {
      v = word;
      while (v < end && s[v] == ' ') ++v;
    }
    i = ReplaceSecret(s, v, end);
  }
  constexpr std::string_view kBearer = "Bearer ";
  for (size_t pos = 0; (pos = s.find(kBearer, pos)) != std::string::npos;) {
    if (pos > 0 && LogIsAlnum(s[pos - 1])) {
      pos += kBearer.size();
      continue;
    }
    size_t v = pos + kBearer.size();
    while (v < s.size() && s[v] == ' ') ++v;
    size_t end = v;
    while (end < s.size() && !LogIsSpace(s[end]) && s[end] != '"' && s[end] != '\'') ++end;
    pos = ReplaceSecret(s, v, end);
  }
}

// ---- formatting ----

void LogAppend(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

// `text` as the inside of a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced by U+FFFD.
void LogAppendJsonEscaped(spdlog::memory_buf_t& dest, std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t run = 0;  // start of the bytes copied as they are
  for (size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    size_t len = c >= 0x80 ? Utf8SequenceAt(text, i) : 0;
    if (len > 0) {
      i += len;
      continue;
    }
    dest.append(text.data() + run, text.data() + i);
    switch (c) {
      case '"':
        LogAppend(dest, "\\\"");
        break;
      case '\\':
        LogAppend(dest, "\\\\");
        break;
      case '\n':
        LogAppend(dest, "\\n");
        break;
      case '\r':
        LogAppend(dest, "\\r");
        break;
      case '\t':
        LogAppend(dest, "\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          fmt::format_to(std::back_inserter(dest), "\\u{:04x}", static_cast<unsigned>(c));
        } else {
          LogAppend(dest, "\xEF\xBF\xBD");  // U+FFFD
        }
    }
    ++i;
    run = i;
  }
  dest.append(text.data() + run, text.data() + n);
}

std::string_view LogPayload(const spdlog::details::log_msg& msg) {
  return std::string_view(msg.payload.data(), msg.payload.size());
}

std::string_view LogLevelName(spdlog::level::level_enum level) {
  auto name = spdlog::level::to_string_view(level);
  return std::string_view(name.data(), name.size());
}

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto secs = std::chrono::floor<std::chrono::seconds>(msg.time);
    const int64_t sec = secs.time_since_epoch().count();
    if (sec != cached_sec_) {
      const time_t tt = static_cast<time_t>(sec);
      struct tm tm {};
      gmtime_r(&tt, &tm);
      cached_len_ = std::strftime(cached_ts_, sizeof(cached_ts_), "%Y-%m-%dT%H:%M:%S", &tm);
      cached_sec_ = sec;
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(msg.time - secs).count();
    LogAppend(dest, "{\"ts\":\"");
    LogAppend(dest, std::string_view(cached_ts_, cached_len_));
    fmt::format_to(std::back_inserter(dest), ".{:03d}Z\",\"level\":\"", static_cast<int>(ms));
    LogAppend(dest, LogLevelName(msg.level));
    LogAppend(dest, "\",\"msg\":\"");
    LogAppendJsonEscaped(dest, Redact(LogPayload(msg)));
    dest.push_back('"');
    const LogContext& c = t_log_context;
    if (c.batch_id != 0) fmt::format_to(std::back_inserter(dest), ",\"batch_id\":{}", c.batch_id);
    if (c.attempt != 0) fmt::format_to(std::back_inserter(dest), ",\"attempt\":{}", c.attempt);
    if (!c.pipeline.empty()) {
      LogAppend(dest, ",\"pipeline\":\"");
      LogAppendJsonEscaped(dest, c.pipeline);
      dest.push_back('"');
    }
    if (c.version != 0) fmt::format_to(std::back_inserter(dest), ",\"version\":{}", c.version);
    LogAppend(dest, "}\n");
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLogFormatter>();
  }

 private:
  int64_t cached_sec_ = INT64_MIN;
  char cached_ts_[32] = {};
  size_t cached_len_ = 0;
};

class TextLogFormatter final : public spdlog::formatter {
 public:
  TextLogFormatter()
      : inner_("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v", spdlog::pattern_time_type::local, "") {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const std::string redacted = Redact(LogPayload(msg));
    spdlog::details::log_msg copy = msg;
    copy.payload = spdlog::string_view_t(redacted.data(), redacted.size());
    inner_.format(copy, dest);
    // The color sink reads the level's place from the message it passed.
    msg.color_range_start = copy.color_range_start;
    msg.color_range_end = copy.color_range_end;
    const LogContext& c = t_log_context;
    if (c.batch_id != 0) fmt::format_to(std::back_inserter(dest), " batch_id={}", c.batch_id);
    if (c.attempt != 0) fmt::format_to(std::back_inserter(dest), " attempt={}", c.attempt);
    if (!c.pipeline.empty()) fmt::format_to(std::back_inserter(dest), " pipeline={}", c.pipeline);
    if (c.version != 0) fmt::format_to(std::back_inserter(dest), " version={}", c.version);
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextLogFormatter>();
  }

 private:
  spdlog::pattern_formatter inner_;
};

}  // namespace

Result<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "json") return LogFormat::kJson;
  if (name == "text") return LogFormat::kText;
  return Status::InvalidArgument("log format '" + std::string(name) + "' is not json or text");
}

void ConfigureLogging(LogFormat format, const std::string& level) {
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_formatter(format == LogFormat::kJson ? NewJsonLogFormatter() : NewTextLogFormatter());
}

std::unique_ptr<spdlog::formatter> NewJsonLogFormatter() {
  return std::make_unique<JsonLogFormatter>();
}

std::unique_ptr<spdlog::formatter> NewTextLogFormatter() {
  return std::make_unique<TextLogFormatter>();
}

const LogContext& CurrentLogContext() { return t_log_context; }

ScopedLogContext::ScopedLogContext(LogContext context)
    : previous_(std::exchange(t_log_context, std::move(context))) {
  ++t_log_guards;
}

ScopedLogContext::~ScopedLogContext() {
  t_log_context = std::move(previous_);
  --t_log_guards;
}

void AddToLogContext(const LogContext& more) {
  if (t_log_guards == 0) return;
  if (more.batch_id != 0) t_log_context.batch_id = more.batch_id;
  if (more.attempt != 0) t_log_context.attempt = more.attempt;
  if (!more.pipeline.empty()) t_log_context.pipeline = more.pipeline;
  if (more.version != 0) t_log_context.version = more.version;
}

std::string Redact(std::string_view text) {
  std::string out(text);
  // Nothing to look at: most lines.
  if (out.find_first_of("=:B") == std::string::npos) return out;
  RedactUriPasswords(out);
  RedactSecretPairs(out);
  RedactAuthorization(out);
  return out;
}

}  // namespace sluice
