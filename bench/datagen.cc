// sluice_datagen: writes the benchmark data set `orders` as CSV and NDJSON,
// the same rows in both, deterministically (a row's values depend only on
// the seed and its index, so any run with the same arguments writes the same
// bytes).
//
//   sluice_datagen --rows N [--seed S] [--csv PATH] [--ndjson PATH]
//
// Columns: order_id int64, quantity int32, unit_price decimal(12,2),
// currency (3 letters), created_at (ISO-8601 UTC, "2023-01-01T00:00:03Z"),
// country (2 letters), note (free text: about 10% of values hold a comma and
// a quoted word, so CSV quotes them and doubles the inner quotes; about 1%
// are NULL, an empty CSV field / JSON null). About 96 bytes per CSV row and
// 200 per NDJSON row. Files are written under a temporary name and renamed
// when complete, so a file that exists is whole.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace {

constexpr const char* kUsage =
    "usage: sluice_datagen --rows N [--seed S] [--csv PATH] [--ndjson PATH]\n";

constexpr std::string_view kCurrencies[] = {"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "SEK"};
constexpr std::string_view kCountries[] = {
    "US", "DE", "FR", "GB", "IT", "ES", "NL", "BE", "CH", "AT", "SE", "NO", "DK", "FI", "PL",
    "CZ", "PT", "IE", "CA", "MX", "BR", "AR", "JP", "KR", "CN", "IN", "AU", "NZ", "ZA", "SG"};
constexpr std::string_view kWords[] = {
    "deliver",   "to",        "the",     "back",     "door",    "please",   "leave",    "at",
    "front",     "desk",      "call",    "before",   "arrival", "gift",     "wrap",     "no",
    "invoice",   "in",        "box",     "fragile",  "handle",  "with",     "care",     "express",
    "shipping",  "customer",  "prefers", "morning",  "evening", "weekend",  "ring",     "bell",
    "twice",     "neighbour", "accepts", "parcel",   "if",      "absent",   "reorder",  "same",
    "as",        "last",      "month",   "discount", "applied", "loyalty",  "member",   "since",
    "warehouse", "north",     "south",   "east",     "west",    "priority", "standard", "return",
    "label",     "included",  "paper",   "bag",      "only",    "plastic",  "free",     "sample"};
constexpr int kWordCount = sizeof(kWords) / sizeof(kWords[0]);
// 2023-01-01T00:00:00Z
constexpr int64_t kStartEpoch = 1672531200;

uint64_t SplitMix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// A small generator per row, seeded from the row index.
class Rng {
 public:
  Rng(uint64_t seed, uint64_t row) : s_(SplitMix(seed ^ SplitMix(row))) {}
  uint64_t Next() { return s_ = SplitMix(s_); }
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t s_;
};

// Output through one large buffer and fwrite.
class Out {
 public:
  explicit Out(const std::string& path) : path_(path), tmp_(path + ".tmp-datagen") {
    if (path.empty()) return;
    f_ = std::fopen(tmp_.c_str(), "wb");
    if (f_ == nullptr) {
      std::perror(tmp_.c_str());
      std::exit(1);
    }
    buf_ = std::make_unique<char[]>(kCap);
  }
  bool enabled() const { return f_ != nullptr; }
  void Put(std::string_view s) {
    std::memcpy(buf_.get() + len_, s.data(), s.size());
    len_ += s.size();
  }
  void Put(char c) { buf_[len_++] = c; }
  void PutUint(uint64_t v, int min_digits = 1) {
    char tmp[24];
    int n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n < min_digits) tmp[n++] = '0';
    while (n > 0) buf_[len_++] = tmp[--n];
  }
  // Flushes when the buffer is nearly full (one row is far below the margin).
  void EndRow() {
    if (len_ > kCap - kMargin) Flush();
  }
  void Finish() {
    if (f_ == nullptr) return;
    Flush();
    if (std::fclose(f_) != 0 || std::rename(tmp_.c_str(), path_.c_str()) != 0) {
      std::perror(path_.c_str());
      std::exit(1);
    }
    f_ = nullptr;
  }

 private:
  static constexpr size_t kCap = size_t{4} << 20;
  static constexpr size_t kMargin = 64 << 10;
  void Flush() {
    if (std::fwrite(buf_.get(), 1, len_, f_) != len_) {
      std::perror(tmp_.c_str());
      std::exit(1);
    }
    len_ = 0;
  }
  std::string path_, tmp_;
  FILE* f_ = nullptr;
  std::unique_ptr<char[]> buf_;
  size_t len_ = 0;
};

struct Row {
  uint64_t order_id;
  uint64_t quantity;
  uint64_t cents;
  std::string_view currency;
  char created_at[21];  // YYYY-MM-DDTHH:MM:SSZ
  std::string_view country;
  bool note_null;
  char note[256];  // raw text (unescaped)
  size_t note_len;
};

void Put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// YYYY-MM-DDTHH:MM:SSZ for seconds since the epoch (after 1970). Civil date
// from days as in H. Hinnant's "chrono-compatible low-level date algorithms";
// strftime would cost more than the rest of the row.
void FormatTimestamp(int64_t epoch, char* out) {
  int64_t days = epoch / 86400;
  unsigned secs = static_cast<unsigned>(epoch % 86400);
  days += 719468;
  const int64_t era = days / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const unsigned y = static_cast<unsigned>(yoe + era * 400 + (m <= 2 ? 1 : 0));
  Put2(out, y / 100);
  Put2(out + 2, y % 100);
  out[4] = '-';
  Put2(out + 5, m);
  out[7] = '-';
  Put2(out + 8, d);
  out[10] = 'T';
  Put2(out + 11, secs / 3600);
  out[13] = ':';
  Put2(out + 14, secs / 60 % 60);
  out[16] = ':';
  Put2(out + 17, secs % 60);
  out[19] = 'Z';
}

void MakeRow(uint64_t seed, uint64_t i, Row* r) {
  Rng rng(seed, i);
  r->order_id = i + 1;
  r->quantity = 1 + rng.Below(20) * (rng.Below(8) == 0 ? 25 : 1);
  r->cents = 1 + rng.Below(rng.Below(4) == 0 ? 10000000 : 100000);
  r->currency = kCurrencies[rng.Below(std::size(kCurrencies))];
  // Orders arrive in time order, about three seconds apart.
  FormatTimestamp(kStartEpoch + static_cast<int64_t>(i * 3 + rng.Below(3)), r->created_at);
  r->country = kCountries[rng.Below(std::size(kCountries))];
  uint64_t kind = rng.Below(100);
  r->note_null = kind == 0;
  size_t len = 0;
  auto word = [&] {
    std::string_view w = kWords[rng.Below(kWordCount)];
    std::memcpy(r->note + len, w.data(), w.size());
    len += w.size();
  };
  if (!r->note_null) {
    int words = 5 + static_cast<int>(rng.Below(6));
    for (int k = 0; k < words; ++k) {
      if (k != 0) r->note[len++] = ' ';
      word();
    }
    if (kind < 11) {
      // About 10%: `..., "word" ...` so that CSV must quote the field and double
      // the inner quotes.
      std::memcpy(r->note + len, ", \"", 3);
      len += 3;
      word();
      r->note[len++] = '"';
      r->note[len++] = ' ';
      word();
    }
  }
  r->note_len = len;
}

void WriteCsv(const Row& r, Out* out) {
  out->PutUint(r.order_id);
  out->Put(',');
  out->PutUint(r.quantity);
  out->Put(',');
  out->PutUint(r.cents / 100);
  out->Put('.');
  out->PutUint(r.cents % 100, 2);
  out->Put(',');
  out->Put(r.currency);
  out->Put(',');
  out->Put(std::string_view(r.created_at, 20));
  out->Put(',');
  out->Put(r.country);
  out->Put(',');
  if (!r.note_null) {
    std::string_view note(r.note, r.note_len);
    if (note.find_first_of(",\"") == std::string_view::npos) {
      out->Put(note);
    } else {
      out->Put('"');
      for (char c : note) {
        if (c == '"') out->Put('"');
        out->Put(c);
      }
      out->Put('"');
    }
  }
  out->Put('\n');
  out->EndRow();
}

void WriteNdjson(const Row& r, Out* out) {
  out->Put("{\"order_id\":");
  out->PutUint(r.order_id);
  out->Put(",\"quantity\":");
  out->PutUint(r.quantity);
  out->Put(",\"unit_price\":");
  out->PutUint(r.cents / 100);
  out->Put('.');
  out->PutUint(r.cents % 100, 2);
  out->Put(",\"currency\":\"");
  out->Put(r.currency);
  out->Put("\",\"created_at\":\"");
  out->Put(std::string_view(r.created_at, 20));
  out->Put("\",\"country\":\"");
  out->Put(r.country);
  out->Put("\",\"note\":");
  if (r.note_null) {
    out->Put("null");
  } else {
    out->Put('"');
    for (size_t k = 0; k < r.note_len; ++k) {
      if (r.note[k] == '"') out->Put('\\');
      out->Put(r.note[k]);
    }
    out->Put('"');
  }
  out->Put("}\n");
  out->EndRow();
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t rows = 0, seed = 42;
  std::string csv_path, ndjson_path;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) {
      std::fputs(kUsage, stderr);
      return 2;
    }
    if (a == "--rows") {
      rows = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--seed") {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--csv") {
      csv_path = argv[++i];
    } else if (a == "--ndjson") {
      ndjson_path = argv[++i];
    } else {
      std::fputs(kUsage, stderr);
      return 2;
    }
  }
  if (rows == 0 || (csv_path.empty() && ndjson_path.empty())) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  Out csv(csv_path), ndjson(ndjson_path);
  if (csv.enabled()) {
    csv.Put("order_id,quantity,unit_price,currency,created_at,country,note\n");
  }
  Row row;
  for (uint64_t i = 0; i < rows; ++i) {
    MakeRow(seed, i, &row);
    if (csv.enabled()) WriteCsv(row, &csv);
    if (ndjson.enabled()) WriteNdjson(row, &ndjson);
  }
  csv.Finish();
  ndjson.Finish();
  return 0;
}
