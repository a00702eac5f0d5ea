// Partition keys as pgcopy routes them: reading a key's text, PostgreSQL's partition hash, bounds.
#include "route_keys.hpp"

#include "io/copy_format.hpp"
#include "uuid_text.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace pgpipe {

namespace {

struct kind_name {
    const char* type;
    key_kind kind;
};
constexpr std::array<kind_name, 8> kind_names{{{"int2", key_kind::int2},
                                               {"int4", key_kind::int4},
                                               {"int8", key_kind::int8},
                                               {"date", key_kind::date},
                                               {"timestamp", key_kind::timestamp},
                                               {"text", key_kind::text},
                                               {"varchar", key_kind::text},
                                               {"uuid", key_kind::uuid}}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Optional sign, then digits only: what int2in/int4in/int8in surely read the same way.
bool parse_integer(std::string_view s, int64_t low, int64_t high, int64_t& out) {
    size_t i = 0;
    const bool negative = !s.empty() && s[0] == '-';
    if (!s.empty() && (s[0] == '-' || s[0] == '+'))
        i = 1;
    if (i == s.size() || s.size() - i > 19)
        return false;
    uint64_t v = 0;
    for (; i < s.size(); ++i) {
        if (!is_digit(s[i]))
            return false;
        v = v * 10 + static_cast<uint64_t>(s[i] - '0');
    }
    if (v > uint64_t{INT64_MAX} + (negative ? 1 : 0))
        return false;
    out = negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
    return out >= low && out <= high;
}

// A fixed run of digits as a number, or -1.
int digits(std::string_view s, size_t at, size_t n) {
    if (at + n > s.size())
        return -1;
    int v = 0;
    for (size_t k = at; k < at + n; ++k) {
        if (!is_digit(s[k]))
            return -1;
        v = v * 10 + (s[k] - '0');
    }
    return v;
}

// PostgreSQL's date2j: the Julian day of a Gregorian date.
int64_t julian_day(int64_t year, int64_t month, int64_t day) {
    if (month > 2) {
        month += 1;
        year += 4800;
    } else {
        month += 13;
        year += 4799;
    }
    const int64_t century = year / 100;
    int64_t julian = year * 365 - 32167;
    julian += year / 4 - century + century / 4;
    julian += 7834 * month / 256 + day;
    return julian;
}

constexpr int64_t postgres_epoch_jdate = 2451545; // date2j(2000, 1, 1)

// YYYY-MM-DD (four-digit years, a real day) as days since 2000-01-01.
bool parse_date(std::string_view s, int64_t& days) {
    const int y = digits(s, 0, 4), m = digits(s, 5, 2), d = digits(s, 8, 2);
    if (s.size() < 10 || y < 1 || m < 1 || m > 12 || d < 1 || s[4] != '-' || s[7] != '-')
        return false;
    static constexpr int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > month_days[m - 1] + (m == 2 && leap ? 1 : 0))
        return false;
    days = julian_day(y, m, d) - postgres_epoch_jdate;
    return true;
}

// YYYY-MM-DD[( |T)HH:MM:SS[.f{1,6}]] as microseconds since 2000-01-01 00:00.
bool parse_timestamp(std::string_view s, int64_t& micros) {
    int64_t days = 0;
    if (!parse_date(s.substr(0, std::min<size_t>(s.size(), 10)), days))
        return false;
    int64_t of_day = 0;
    if (s.size() > 10) {
        const int h = digits(s, 11, 2), mi = digits(s, 14, 2), sec = digits(s, 17, 2);
        if (s.size() < 19 || (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' || h < 0 || h > 23 ||
            mi < 0 || mi > 59 || sec < 0 || sec > 59)
            return false;
        int64_t fraction = 0;
        size_t i = 19;
        if (i < s.size()) {
            if (s[i] != '.' || s.size() - i - 1 < 1 || s.size() - i - 1 > 6)
                return false;
            for (size_t k = i + 1; k < i + 7; ++k) {
                if (k < s.size() && !is_digit(s[k]))
                    return false;
                fraction = fraction * 10 + (k < s.size() ? s[k] - '0' : 0);
            }
        }
        of_day = ((h * int64_t{60} + mi) * 60 + sec) * 1000000 + fraction;
    }
    micros = days * 86400 * int64_t{1000000} + of_day;
    return true;
}

bool parse_uuid(std::string_view s, std::string& bytes) {
    unsigned char raw[16];
    if (!parse_uuid_text(s, raw))
        return false;
    bytes.assign(reinterpret_cast<const char*>(raw), 16);
    return true;
}

uint32_t rotate(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

void mix(uint32_t& a, uint32_t& b, uint32_t& c) {
    a -= c; a ^= rotate(c, 4);  c += b;
    b -= a; b ^= rotate(a, 6);  a += c;
    c -= b; c ^= rotate(b, 8);  b += a;
    a -= c; a ^= rotate(c, 16); c += b;
    b -= a; b ^= rotate(a, 19); a += c;
    c -= b; c ^= rotate(b, 4);  b += a;
}

void final_mix(uint32_t& a, uint32_t& b, uint32_t& c) {
    c ^= b; c -= rotate(b, 14);
    a ^= c; a -= rotate(c, 11);
    b ^= a; b -= rotate(a, 25);
    c ^= b; c -= rotate(b, 16);
    a ^= c; a -= rotate(c, 4);
    b ^= a; b -= rotate(a, 14);
    c ^= b; c -= rotate(b, 24);
}

void seed_state(uint32_t& a, uint32_t& b, uint32_t& c, uint64_t seed) {
    if (seed == 0)
        return;
    a += static_cast<uint32_t>(seed >> 32);
    b += static_cast<uint32_t>(seed);
    mix(a, b, c);
}

uint32_t word_at(const unsigned char* k, size_t n) { // up to 4 bytes, little-endian
    uint32_t w = 0;
    for (size_t i = 0; i < n; ++i)
        w |= static_cast<uint32_t>(k[i]) << (8 * i);
    return w;
}

// The server's hashint8extended: the high half folded into the low one.
uint64_t hash_int8(int64_t v, uint64_t seed) {
    uint32_t low = static_cast<uint32_t>(v);
    const uint32_t high = static_cast<uint32_t>(static_cast<uint64_t>(v) >> 32);
    low ^= v >= 0 ? high : ~high;
    return pg_hash_uint32_extended(low, seed);
}

constexpr uint64_t hash_partition_seed = 0x7A5B22367996DCFDull;

uint64_t hash_combine64(uint64_t a, uint64_t b) { return a ^ (b + 0x49a0f4dd15e5a8e3ull + (a << 54) + (a >> 7)); }

} // namespace

std::optional<key_kind> key_kind_of(std::string_view type_name) {
    for (const auto& k : kind_names)
        if (type_name == k.type)
            return k.kind;
    return std::nullopt;
}

bool parse_key(key_kind kind, std::string_view text, key_value& out) {
    out.null = false;
    switch (kind) {
    case key_kind::int2: return parse_integer(text, INT16_MIN, INT16_MAX, out.number);
    case key_kind::int4: return parse_integer(text, INT32_MIN, INT32_MAX, out.number);
    case key_kind::int8: return parse_integer(text, INT64_MIN, INT64_MAX, out.number);
    case key_kind::date: return parse_date(text, out.number) && text.size() == 10;
    case key_kind::timestamp: return parse_timestamp(text, out.number);
    case key_kind::uuid: return parse_uuid(text, out.bytes);
    case key_kind::text: out.bytes.assign(text); return true;
    }
    return false;
}

int compare_keys(key_kind kind, const key_value& a, const key_value& b) {
    if (kind == key_kind::text || kind == key_kind::uuid) {
        const int c = std::memcmp(a.bytes.data(), b.bytes.data(), std::min(a.bytes.size(), b.bytes.size()));
        if (c != 0)
            return c;
        return a.bytes.size() < b.bytes.size() ? -1 : a.bytes.size() > b.bytes.size() ? 1 : 0;
    }
    return a.number < b.number ? -1 : a.number > b.number ? 1 : 0;
}

uint64_t pg_hash_bytes_extended(const unsigned char* k, size_t size, uint64_t seed) {
    uint32_t a, b, c;
    a = b = c = 0x9e3779b9u + static_cast<uint32_t>(size) + 3923095u;
    seed_state(a, b, c, seed);
    size_t len = size;
    for (; len >= 12; len -= 12, k += 12) {
        a += word_at(k, 4);
        b += word_at(k + 4, 4);
        c += word_at(k + 8, 4);
        mix(a, b, c);
    }
    // The last 11 bytes; the lowest byte of c is left for the length.
    if (len > 8)
        c += word_at(k + 8, len - 8) << 8;
    if (len > 4)
        b += word_at(k + 4, std::min<size_t>(len - 4, 4));
    if (len > 0)
        a += word_at(k, std::min<size_t>(len, 4));
    final_mix(a, b, c);
    return (static_cast<uint64_t>(b) << 32) | c;
}

uint64_t pg_hash_uint32_extended(uint32_t value, uint64_t seed) {
    uint32_t a, b, c;
    a = b = c = 0x9e3779b9u + 4u + 3923095u;
    seed_state(a, b, c, seed);
    a += value;
    final_mix(a, b, c);
    return (static_cast<uint64_t>(b) << 32) | c;
}

uint64_t partition_hash(key_kind kind, const key_value& key) {
    if (key.null)
        return 0;
    uint64_t h = 0;
    switch (kind) {
    case key_kind::int2:
    case key_kind::int4:
    case key_kind::date:
        h = pg_hash_uint32_extended(static_cast<uint32_t>(static_cast<int32_t>(key.number)), hash_partition_seed);
        break;
    case key_kind::int8:
    case key_kind::timestamp: h = hash_int8(key.number, hash_partition_seed); break;
    case key_kind::text:
    case key_kind::uuid:
        h = pg_hash_bytes_extended(reinterpret_cast<const unsigned char*>(key.bytes.data()), key.bytes.size(),
                                   hash_partition_seed);
        break;
    }
    return hash_combine64(0, h);
}

bool partition_bound::admits(key_kind k, const key_value& key, uint64_t hash) const {
    switch (kind) {
    case strategy::range:
        return !key.null && (!lower || compare_keys(k, *lower, key) <= 0) && (!upper || compare_keys(k, key, *upper) < 0);
    case strategy::list:
        return std::any_of(values.begin(), values.end(), [&](const key_value& v) {
            return v.null ? key.null : !key.null && compare_keys(k, v, key) == 0;
        });
    case strategy::hash: return hash % modulus == remainder;
    case strategy::fallback: return false;
    }
    return false;
}

namespace {

// The values of a bound: quoted literals ('' doubles a quote), bare words
// and numbers, in the order written; parentheses and commas separate them.
std::vector<std::pair<std::string, bool>> bound_tokens(std::string_view s) {
    std::vector<std::pair<std::string, bool>> tokens; // text, quoted
    for (size_t i = 0; i < s.size();) {
        const char c = s[i];
        if (c == ' ' || c == '(' || c == ')' || c == ',') {
            ++i;
        } else if (c == '\'') {
            std::string v;
            for (++i; i < s.size(); ++i) {
                if (s[i] == '\'' && i + 1 < s.size() && s[i + 1] == '\'')
                    v += s[++i];
                else if (s[i] == '\'')
                    break;
                else
                    v += s[i];
            }
            ++i;
            tokens.emplace_back(std::move(v), true);
        } else {
            size_t j = i;
            while (j < s.size() && s[j] != ' ' && s[j] != '(' && s[j] != ')' && s[j] != ',')
                ++j;
            tokens.emplace_back(std::string(s.substr(i, j - i)), false);
            i = j;
        }
    }
    return tokens;
}

bool read_bound_value(key_kind kind, const std::pair<std::string, bool>& token, key_value& out, std::string& why) {
    if (!token.second && token.first == "NULL") {
        out.null = true;
        return true;
    }
    if (parse_key(kind, token.first, out))
        return true;
    why = "the bound value " + token.first + " is not one pgcopy reads";
    return false;
}

} // namespace

std::optional<partition_bound> parse_partition_bound(std::string_view text, key_kind kind, std::string& why) {
    partition_bound bound;
    if (text == "DEFAULT")
        return bound;
    const auto tokens = bound_tokens(text);
    auto word = [&](size_t k, const char* w) { return k < tokens.size() && !tokens[k].second && tokens[k].first == w; };
    if (word(2, "FROM") && tokens.size() == 6 && word(4, "TO")) {
        bound.kind = partition_bound::strategy::range;
        for (auto [at, side] : {std::pair{size_t{3}, &bound.lower}, std::pair{size_t{5}, &bound.upper}}) {
            if (word(at, "MINVALUE") || word(at, "MAXVALUE"))
                continue;
            if (!read_bound_value(kind, tokens[at], side->emplace(), why))
                return std::nullopt;
        }
        return bound;
    }
    if (word(2, "IN")) {
        bound.kind = partition_bound::strategy::list;
        for (size_t k = 3; k < tokens.size(); ++k)
            if (!read_bound_value(kind, tokens[k], bound.values.emplace_back(), why))
                return std::nullopt;
        return bound;
    }
    if (word(2, "WITH") && word(3, "modulus") && word(5, "remainder") && tokens.size() == 7) {
        bound.kind = partition_bound::strategy::hash;
        bound.modulus = std::stoull(tokens[4].first);
        bound.remainder = std::stoull(tokens[6].first);
        return bound;
    }
    why = "pgcopy does not read the bound " + std::string(text);
    return std::nullopt;
}

} // namespace pgpipe
