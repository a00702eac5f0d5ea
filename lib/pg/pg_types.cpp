// Column types: names and OIDs, dates and times, exact decimals, COPY text and CSV escaping.
#include "pg/pg_types.hpp"

#include "core/error.hpp"

#include <cstring>
#include <vector>

namespace pgpipe {
namespace {

struct type_entry {
    pg_type type;
    uint32_t oid;
    uint32_t array_oid;
    const char* sql_name;
};

constexpr type_entry types[] = {
    {pg_type::boolean, 16, 1000, "boolean"},
    {pg_type::int2, 21, 1005, "smallint"},
    {pg_type::int4, 23, 1007, "integer"},
    {pg_type::int8, 20, 1016, "bigint"},
    {pg_type::numeric, 1700, 1231, "numeric"},
    {pg_type::float4, 700, 1021, "real"},
    {pg_type::float8, 701, 1022, "double precision"},
    {pg_type::text, 25, 1009, "text"},
    {pg_type::varchar, 1043, 1015, "character varying"},
    {pg_type::bpchar, 1042, 1014, "character"},
    {pg_type::bytea, 17, 1001, "bytea"},
    {pg_type::date, 1082, 1182, "date"},
    {pg_type::time, 1083, 1183, "time without time zone"},
    {pg_type::timestamp, 1114, 1115, "timestamp without time zone"},
    {pg_type::timestamptz, 1184, 1185, "timestamp with time zone"},
    {pg_type::interval, 1186, 1187, "interval"},
    {pg_type::uuid, 2950, 2951, "uuid"},
    {pg_type::json, 114, 199, "json"},
    {pg_type::jsonb, 3802, 3807, "jsonb"},
};

struct alias {
    const char* name;
    pg_type type;
};

constexpr alias aliases[] = {
    {"bool", pg_type::boolean}, {"boolean", pg_type::boolean},
    {"int2", pg_type::int2}, {"smallint", pg_type::int2},
    {"int", pg_type::int4}, {"int4", pg_type::int4}, {"integer", pg_type::int4},
    {"int8", pg_type::int8}, {"bigint", pg_type::int8},
    {"serial", pg_type::int4}, {"serial4", pg_type::int4}, {"bigserial", pg_type::int8},
    {"serial8", pg_type::int8}, {"smallserial", pg_type::int2},
    {"numeric", pg_type::numeric}, {"decimal", pg_type::numeric},
    {"float4", pg_type::float4}, {"real", pg_type::float4},
    {"float8", pg_type::float8}, {"double precision", pg_type::float8}, {"float", pg_type::float8},
    {"text", pg_type::text}, {"varchar", pg_type::varchar}, {"character varying", pg_type::varchar},
    {"char", pg_type::bpchar}, {"character", pg_type::bpchar}, {"bpchar", pg_type::bpchar},
    {"bytea", pg_type::bytea}, {"date", pg_type::date},
    {"time", pg_type::time}, {"time without time zone", pg_type::time},
    {"timestamp", pg_type::timestamp}, {"timestamp without time zone", pg_type::timestamp},
    {"timestamptz", pg_type::timestamptz}, {"timestamp with time zone", pg_type::timestamptz},
    {"interval", pg_type::interval}, {"uuid", pg_type::uuid}, {"json", pg_type::json},
    {"jsonb", pg_type::jsonb},
};

std::string lower_trimmed(std::string_view text) {
    std::string out;
    bool space = false;
    for (char c : text) {
        if (c == ' ' || c == '\t') {
            space = !out.empty();
            continue;
        }
        if (space)
            out += ' ';
        space = false;
        out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    return out;
}

} // namespace

uint32_t type_oid(pg_type type) {
    for (const auto& t : types)
        if (t.type == type)
            return t.oid;
    return 25;
}

std::optional<pg_type> type_from_oid(uint32_t oid) {
    for (const auto& t : types)
        if (t.oid == oid)
            return t.type;
    return std::nullopt;
}

const char* type_sql_name(pg_type type) {
    for (const auto& t : types)
        if (t.type == type)
            return t.sql_name;
    return "text";
}

namespace {

// The modifiers of "name(a, b)" (none without parentheses); name is cut
// to what precedes them. text is the type as given, for messages.
std::vector<int32_t> take_modifiers(std::string& name, std::string_view text) {
    std::vector<int32_t> args;
    auto open = name.find('(');
    if (open == std::string::npos)
        return args;
    auto close = name.find(')', open);
    if (close == std::string::npos || (close + 1 != name.size() && name.substr(close + 1).find_first_not_of(' ') != std::string::npos))
        throw local_error("invalid type \"" + std::string(text) + "\"");
    std::string inside = name.substr(open + 1, close - open - 1);
    size_t pos = 0;
    while (pos <= inside.size()) {
        size_t comma = inside.find(',', pos);
        std::string part = inside.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        try {
            size_t used = 0;
            args.push_back(std::stoi(part, &used));
            if (part.find_first_not_of(' ', used) != std::string::npos)
                throw std::invalid_argument(part);
        } catch (const std::exception&) {
            throw local_error("invalid type modifier in \"" + std::string(text) + "\"");
        }
        if (comma == std::string::npos)
            break;
        pos = comma + 1;
    }
    name = lower_trimmed(name.substr(0, open));
    return args;
}

// Checks the modifiers against out.base and stores them (length, precision
// and scale); name and text are for messages.
void apply_modifiers(column_type& out, const std::vector<int32_t>& args, const std::string& name,
                     std::string_view text) {
    if (out.base == pg_type::varchar || out.base == pg_type::bpchar) {
        if (args.size() > 1 || (!args.empty() && args[0] < 1))
            throw local_error("invalid length in \"" + std::string(text) + "\"");
        out.length = args.empty() ? (out.base == pg_type::bpchar ? 1 : -1) : args[0];
    } else if (out.base == pg_type::numeric) {
        if (args.size() > 2 || (!args.empty() && (args[0] < 1 || args[0] > 1000)))
            throw local_error("invalid precision in \"" + std::string(text) + "\"");
        if (!args.empty()) {
            out.precision = args[0];
            out.scale = args.size() > 1 ? args[1] : 0;
        }
    } else if (!args.empty() && out.base != pg_type::time && out.base != pg_type::timestamp &&
               out.base != pg_type::timestamptz) {
        throw local_error("type \"" + name + "\" takes no modifier");
    }
}

// The name as the server's format_type() writes it.
std::string format_type_name(const column_type& type) {
    std::string name = type_sql_name(type.base);
    if ((type.base == pg_type::varchar || type.base == pg_type::bpchar) && type.length > 0)
        name += "(" + std::to_string(type.length) + ")";
    else if (type.base == pg_type::numeric && type.precision > 0)
        name += "(" + std::to_string(type.precision) + "," + std::to_string(type.scale) + ")";
    if (type.is_array)
        name += "[]";
    return name;
}

} // namespace

column_type parse_type_name(std::string_view text) {
    std::string name = lower_trimmed(text);
    column_type out;
    out.name = name;
    if (name.size() > 2 && name.compare(name.size() - 2, 2, "[]") == 0) {
        out.is_array = true;
        name.resize(name.size() - 2);
    }
    std::vector<int32_t> args = take_modifiers(name, text);
    for (const auto& a : aliases) {
        if (name == a.name) {
            out.base = a.type;
            apply_modifiers(out, args, name, text);
            out.name = format_type_name(out);
            return out;
        }
    }
    throw local_error("unknown type \"" + std::string(text) + "\"", {},
                      "known: boolean, smallint, integer, bigint, numeric(p,s), real, double precision, text, "
                      "varchar(n), char(n), bytea, date, time, timestamp, timestamptz, interval, uuid, json, "
                      "jsonb, and arrays of them (type[])");
}

void apply_typmod(column_type& type, int32_t typmod) {
    if (typmod < 0) {
        if (type.base == pg_type::bpchar)
            type.length = -1; // bpchar without modifier: any length (internal use)
        return;
    }
    if (type.base == pg_type::varchar || type.base == pg_type::bpchar)
        type.length = typmod - 4;
    else if (type.base == pg_type::numeric) {
        type.precision = ((typmod - 4) >> 16) & 0xffff;
        type.scale = static_cast<int16_t>((typmod - 4) & 0xffff);
    }
}

int32_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    // Howard Hinnant's days_from_civil, shifted from 1970 to 2000.
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return static_cast<int32_t>(era * 146097 + static_cast<int64_t>(doe) - 719468 - 10957);
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
    z += 719468 + 10957;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
}

static bool digits(std::string_view t, size_t pos, size_t n, int64_t& v) {
    if (pos + n > t.size())
        return false;
    v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
        if (t[i] < '0' || t[i] > '9')
            return false;
        v = v * 10 + (t[i] - '0');
    }
    return true;
}

// HH:MM[:SS[.ffffff]] at pos; returns microseconds of the day and moves pos.
bool parse_time_of_day(std::string_view t, size_t& pos, int64_t& us) {
    int64_t h, m, s = 0, frac = 0;
    if (!digits(t, pos, 2, h) || pos + 2 >= t.size() || t[pos + 2] != ':' || !digits(t, pos + 3, 2, m))
        return false;
    pos += 5;
    if (pos < t.size() && t[pos] == ':') {
        if (!digits(t, pos + 1, 2, s))
            return false;
        pos += 3;
        if (pos < t.size() && t[pos] == '.') {
            size_t start = ++pos;
            while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9')
                ++pos;
            size_t n = pos - start;
            if (n == 0)
                return false;
            // Microseconds, rounded half up as the server does.
            int64_t v = 0;
            for (size_t i = 0; i < std::min<size_t>(n, 6); ++i)
                v = v * 10 + (t[start + i] - '0');
            for (size_t i = n; i < 6; ++i)
                v *= 10;
            if (n > 6 && t[start + 6] >= '5')
                ++v;
            frac = v;
        }
    }
    if (h > 24 || m > 59 || s > 60 || (h == 24 && (m || s || frac)))
        return false;
    us = ((h * 60 + m) * 60 + s) * 1000000 + frac;
    return true;
}

namespace {

// A civil date as read, the year astronomical (1 BC is 0).
struct civil_date {
    int64_t year = 0;
    int64_t month = 0;
    int64_t day = 0;
};

// The server's limits (PostgreSQL's datatype/timestamp.h), from 2000-01-01:
// dates from 4714-11-24 BC to 5874897-12-31, timestamps to 294276-12-31.
constexpr int64_t first_date_day = -2451545;           // DATETIME_MIN_JULIAN
constexpr int64_t date_end_day = 2147483494 - 2451545; // DATE_END_JULIAN
constexpr int64_t first_timestamp_us = -211813488000000000LL;       // MIN_TIMESTAMP
constexpr int64_t timestamp_end_us = 9223371331200000000LL;         // END_TIMESTAMP

// YYYY-MM-DD at the start of t, the year of four digits or more (at most
// nine, far past any the server takes); pos is set past it. Checks the form
// only, and that the year is not 0.
bool read_ymd(std::string_view t, size_t& pos, civil_date& c) {
    size_t year_digits = 0;
    while (year_digits < t.size() && year_digits < 10 && t[year_digits] >= '0' && t[year_digits] <= '9')
        ++year_digits;
    pos = year_digits;
    if (year_digits < 4 || year_digits > 9 || !digits(t, 0, year_digits, c.year) || c.year == 0 ||
        t.size() < pos + 6 || t[pos] != '-' || !digits(t, pos + 1, 2, c.month) || t[pos + 3] != '-' ||
        !digits(t, pos + 4, 2, c.day))
        return false;
    pos += 6;
    return true;
}

// Whether c (its year astronomical) is a day of the calendar.
bool real_day(const civil_date& c) {
    static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > month_days[c.month - 1])
        return false;
    bool leap = (c.year % 4 == 0 && c.year % 100 != 0) || c.year % 400 == 0;
    return c.month != 2 || c.day != 29 || leap;
}

// The server's IS_VALID_JULIAN: the span its calendar arithmetic covers,
// wider than a date's or a timestamp's own range.
bool julian_day(const civil_date& c) {
    return (c.year > -4713 || (c.year == -4713 && c.month >= 11)) &&
           (c.year < 5874898 || (c.year == 5874898 && c.month < 6));
}

// Takes a trailing " BC" (the era as the server writes it) off t.
bool take_bc(std::string_view& t) {
    if (t.size() < 3 || t.substr(t.size() - 3) != " BC")
        return false;
    t.remove_suffix(3);
    return true;
}

// The date that starts t, with its era (bc: t ends in " BC", the year
// counted back from 1 BC); pos is set past it.
bool read_civil(std::string_view t, bool bc, size_t& pos, civil_date& c) {
    if (!read_ymd(t, pos, c))
        return false;
    if (bc)
        c.year = 1 - c.year;
    return real_day(c);
}

// Z, or an offset ±HH[[:]MM] at pos, in seconds east of UTC; moves pos.
bool read_offset(std::string_view t, size_t& pos, int64_t& seconds) {
    if (t[pos] == 'Z') {
        seconds = 0;
        ++pos;
        return true;
    }
    if (t[pos] != '+' && t[pos] != '-')
        return false;
    int sign = t[pos] == '-' ? -1 : 1;
    int64_t oh, om = 0;
    if (!digits(t, pos + 1, 2, oh))
        return false;
    pos += 3;
    if (pos < t.size()) {
        if (t[pos] == ':')
            ++pos;
        if (!digits(t, pos, 2, om))
            return false;
        pos += 2;
    }
    seconds = sign * (oh * 3600 + om * 60);
    return true;
}

// infinity or -infinity: the stored value's sign, else 0.
int infinite(std::string_view t) { return t == "infinity" ? 1 : t == "-infinity" ? -1 : 0; }

} // namespace

bool parse_date_prefix(std::string_view t, size_t& pos, int64_t& days) {
    civil_date c;
    if (!read_civil(t, false, pos, c) || !julian_day(c))
        return false;
    days = days_from_civil(c.year, static_cast<unsigned>(c.month), static_cast<unsigned>(c.day));
    return true;
}

time_read read_date(std::string_view t, int64_t& days) {
    if (int sign = infinite(t)) {
        days = sign > 0 ? date_infinity : -int64_t{date_infinity} - 1;
        return time_read::ok;
    }
    bool bc = take_bc(t);
    size_t pos = 0;
    civil_date c;
    if (!read_civil(t, bc, pos, c) || pos != t.size())
        return time_read::invalid;
    if (!julian_day(c))
        return time_read::out_of_range;
    days = days_from_civil(c.year, static_cast<unsigned>(c.month), static_cast<unsigned>(c.day));
    return days >= first_date_day && days < date_end_day ? time_read::ok : time_read::out_of_range;
}

// ISO 8601 / PostgreSQL: "2024-01-02", "2024-01-02T10:00:00.5+02:00",
// "2024-01-02 10:00:00Z", "0044-03-15 12:00:00+00 BC".
time_read read_timestamp(std::string_view t, bool apply_offset, int64_t& us) {
    if (int sign = infinite(t)) {
        us = sign > 0 ? timestamp_infinity : -timestamp_infinity - 1;
        return time_read::ok;
    }
    bool bc = take_bc(t);
    size_t pos = 0;
    civil_date c;
    if (!read_civil(t, bc, pos, c))
        return time_read::invalid;
    int64_t clock = 0, offset = 0;
    if (pos < t.size() && (t[pos] == 'T' || t[pos] == ' ')) {
        ++pos;
        if (!parse_time_of_day(t, pos, clock))
            return time_read::invalid;
    }
    if (pos < t.size() && (!read_offset(t, pos, offset) || pos != t.size()))
        return time_read::invalid;
    if (!julian_day(c))
        return time_read::out_of_range;
    // Within the julian span a day count times a day's microseconds passes
    // int64: the sum is checked wider.
    __int128 v = static_cast<__int128>(days_from_civil(c.year, static_cast<unsigned>(c.month),
                                                       static_cast<unsigned>(c.day))) * 86400000000LL +
                 clock - (apply_offset ? offset * 1000000 : 0);
    if (v < first_timestamp_us || v >= timestamp_end_us)
        return time_read::out_of_range;
    us = static_cast<int64_t>(v);
    return time_read::ok;
}

std::optional<int64_t> parse_timestamp_us(std::string_view t) {
    int64_t us;
    if (read_timestamp(t, true, us) != time_read::ok)
        return std::nullopt;
    return us;
}

size_t utf8_length(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s)
        n += (c & 0xC0) != 0x80;
    return n;
}

char* format_int(char* out, int64_t n) {
    char tmp[24];
    char* p = tmp + sizeof tmp;
    uint64_t u = n < 0 ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
    do {
        *--p = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u);
    if (n < 0)
        *--p = '-';
    size_t len = static_cast<size_t>(tmp + sizeof tmp - p);
    std::memcpy(out, p, len);
    return out + len;
}

char* format_decimal(char* out, int64_t mantissa, int32_t scale) {
    if (scale <= 0)
        return format_int(out, mantissa);
    char digits[24];
    uint64_t u = mantissa < 0 ? 0 - static_cast<uint64_t>(mantissa) : static_cast<uint64_t>(mantissa);
    char* p = digits + sizeof digits;
    do {
        *--p = static_cast<char>('0' + u % 10);
        u /= 10;
    } while (u);
    int len = static_cast<int>(digits + sizeof digits - p);
    if (mantissa < 0)
        *out++ = '-';
    if (len <= scale) {
        *out++ = '0';
        *out++ = '.';
        for (int i = len; i < scale; ++i)
            *out++ = '0';
        std::memcpy(out, p, static_cast<size_t>(len));
        return out + len;
    }
    std::memcpy(out, p, static_cast<size_t>(len - scale));
    out += len - scale;
    *out++ = '.';
    std::memcpy(out, p + len - scale, static_cast<size_t>(scale));
    return out + scale;
}

namespace {
char* two(char* out, unsigned v) {
    out[0] = static_cast<char>('0' + v / 10);
    out[1] = static_cast<char>('0' + v % 10);
    return out + 2;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

char* clock_part(char* out, int64_t us_of_day) {
    auto secs = us_of_day / 1000000;
    auto frac = us_of_day % 1000000;
    out = two(out, static_cast<unsigned>(secs / 3600));
    *out++ = ':';
    out = two(out, static_cast<unsigned>(secs / 60 % 60));
    *out++ = ':';
    out = two(out, static_cast<unsigned>(secs % 60));
    if (frac) {
        *out++ = '.';
        char f[6];
        for (int i = 5; i >= 0; --i) {
            f[i] = static_cast<char>('0' + frac % 10);
            frac /= 10;
        }
        int n = 6;
        while (n > 0 && f[n - 1] == '0')
            --n;
        std::memcpy(out, f, static_cast<size_t>(n));
        out += n;
    }
    return out;
}
} // namespace

namespace {
// YYYY-MM-DD of a day, the year counted back from 1 BC when before year 1
// (bc is set then: the era comes after the whole value).
char* date_part(char* out, int64_t days, bool& bc) {
    int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    bc = y < 1;
    if (bc)
        y = 1 - y;
    if (y > 9999) {
        out = format_int(out, y);
    } else {
        out = two(out, static_cast<unsigned>(y / 100));
        out = two(out, static_cast<unsigned>(y % 100));
    }
    *out++ = '-';
    out = two(out, m);
    *out++ = '-';
    return two(out, d);
}

char* append(char* out, std::string_view text) {
    std::memcpy(out, text.data(), text.size());
    return out + text.size();
}
} // namespace

char* format_date(char* out, int64_t days) {
    if (days == date_infinity || days == -int64_t{date_infinity} - 1)
        return append(out, days > 0 ? "infinity" : "-infinity");
    bool bc;
    out = date_part(out, days, bc);
    return bc ? append(out, " BC") : out;
}

char* format_time(char* out, int64_t us) { return clock_part(out, us); }

char* format_timestamp(char* out, int64_t us, bool utc_offset) {
    if (us == timestamp_infinity || us == -timestamp_infinity - 1)
        return append(out, us > 0 ? "infinity" : "-infinity");
    constexpr int64_t day = 86400LL * 1000000;
    int64_t days = floor_div(us, day);
    bool bc;
    out = date_part(out, days, bc);
    *out++ = ' ';
    out = clock_part(out, us - days * day);
    if (utc_offset)
        out = append(out, "+00");
    return bc ? append(out, " BC") : out;
}

char* format_interval(char* out, int32_t months, int32_t days, int64_t us) {
    // The server's default (postgres) style: "1 mon 2 days 03:04:05.5".
    bool any = false;
    auto part = [&](int32_t n, const char* one, const char* many) {
        if (any)
            *out++ = ' ';
        out = format_int(out, n);
        const char* unit = (n == 1 || n == -1) ? one : many;
        size_t len = std::strlen(unit);
        std::memcpy(out, unit, len);
        out += len;
        any = true;
    };
    if (months)
        part(months, " mon", " mons");
    if (days)
        part(days, " day", " days");
    if (us || !any) {
        if (any)
            *out++ = ' ';
        if (us < 0) {
            *out++ = '-';
            us = -us;
        }
        int64_t hours = us / 3600000000LL;
        if (hours < 10)
            *out++ = '0';
        out = format_int(out, hours);
        *out++ = ':';
        // clock_part writes HH:MM:SS; keep its MM:SS[.f] for the rest of the hour.
        char clock[24];
        char* end = clock_part(clock, us - hours * 3600000000LL);
        std::memcpy(out, clock + 3, static_cast<size_t>(end - clock - 3));
        out += end - clock - 3;
    }
    return out;
}

char* format_uuid(char* out, const uint8_t* b) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *out++ = '-';
        *out++ = hex[b[i] >> 4];
        *out++ = hex[b[i] & 15];
    }
    return out;
}

void append_numeric_special(std::string& out, std::string_view text) {
    const char sign = text == "NaN" ? '\xC0' : text == "Infinity" ? '\xD0' : '\xF0';
    out.append(std::string_view("\0\0\0\0", 4)).append(1, sign).append(3, '\0');
}

void append_numeric_binary(std::string& out, int64_t mantissa, int32_t value_scale, int32_t dscale) {
    bool negative = mantissa < 0;
    uint64_t u = negative ? 0 - static_cast<uint64_t>(mantissa) : static_cast<uint64_t>(mantissa);
    std::string digits = std::to_string(u);
    if (static_cast<int32_t>(digits.size()) <= value_scale)
        digits.insert(0, static_cast<size_t>(value_scale) - digits.size() + 1, '0');
    size_t point = digits.size() - static_cast<size_t>(std::max(0, value_scale));
    append_numeric_binary_digits(out, negative, std::string_view(digits).substr(0, point),
                                 std::string_view(digits).substr(point), dscale);
}

void append_numeric_binary_digits(std::string& out, bool negative, std::string_view int_digits,
                                  std::string_view frac_digits, int32_t dscale) {
    // Base-10000 groups aligned on the point, as numeric stores them;
    // leading and trailing zero groups are stripped, as make_result() does.
    std::string digits;
    size_t lead = (4 - int_digits.size() % 4) % 4;
    digits.assign(lead, '0');
    digits.append(int_digits);
    digits.append(frac_digits);
    digits.append((4 - frac_digits.size() % 4) % 4, '0');
    int int_groups = static_cast<int>((int_digits.size() + lead) / 4);
    int total_groups = static_cast<int>(digits.size() / 4);
    std::vector<int16_t> groups(static_cast<size_t>(total_groups));
    for (int g = 0; g < total_groups; ++g) {
        int v = 0;
        for (int k = 0; k < 4; ++k)
            v = v * 10 + (digits[static_cast<size_t>(g * 4 + k)] - '0');
        groups[static_cast<size_t>(g)] = static_cast<int16_t>(v);
    }
    int weight = int_groups - 1;
    size_t first = 0;
    while (first < groups.size() && groups[first] == 0) {
        ++first;
        --weight;
    }
    size_t last = groups.size();
    while (last > first && groups[last - 1] == 0)
        --last;
    int16_t ndigits = static_cast<int16_t>(last - first);
    if (ndigits == 0) {
        weight = 0;
        negative = false;
    }
    auto put16 = [&](int v) {
        out += static_cast<char>((v >> 8) & 0xff);
        out += static_cast<char>(v & 0xff);
    };
    put16(ndigits);
    put16(weight);
    put16(negative ? 0x4000 : 0x0000);
    put16(dscale);
    for (size_t g = first; g < last; ++g)
        put16(groups[g]);
}

std::string plain_decimal::text() const {
    std::string out = negative ? "-" : "";
    out += int_digits.empty() ? "0" : int_digits;
    if (!frac_digits.empty())
        out += "." + frac_digits;
    return out;
}

namespace {

// Reads [sign]digits[.digits] from t at i: the sign into d, the digits
// without the point into digits, the point's place (digits before it) into
// point. False when there is no digit.
bool scan_mantissa(std::string_view t, size_t& i, plain_decimal& d, std::string& digits, long& point) {
    if (i < t.size() && (t[i] == '-' || t[i] == '+'))
        d.negative = t[i++] == '-';
    point = -1;
    bool any = false;
    for (; i < t.size(); ++i) {
        char c = t[i];
        if (c >= '0' && c <= '9') {
            digits += c;
            any = true;
        } else if (c == '.' && point < 0) {
            point = static_cast<long>(digits.size());
        } else {
            break;
        }
    }
    if (point < 0)
        point = static_cast<long>(digits.size());
    return any;
}

// Reads an exponent ("e-3") at i, if there is one, and moves point by it.
// False for an exponent without digits or beyond what numeric could hold.
bool scan_exponent(std::string_view t, size_t& i, long& point) {
    if (i >= t.size() || (t[i] != 'e' && t[i] != 'E'))
        return true;
    ++i;
    bool neg = false;
    if (i < t.size() && (t[i] == '-' || t[i] == '+'))
        neg = t[i++] == '-';
    long e = 0;
    bool exp_any = false;
    for (; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i) {
        e = e * 10 + (t[i] - '0');
        exp_any = true;
        if (e > 100000)
            return false;
    }
    point += neg ? -e : e;
    return exp_any;
}

// Cuts d's fraction to scale digits, half away from zero, as numeric's
// rounding does.
void round_to_scale(plain_decimal& d, int32_t scale) {
    bool up = d.frac_digits[static_cast<size_t>(scale)] >= '5';
    d.frac_digits.resize(static_cast<size_t>(scale));
    if (!up)
        return;
    std::string all = d.int_digits + d.frac_digits;
    int k = static_cast<int>(all.size()) - 1;
    while (k >= 0 && all[static_cast<size_t>(k)] == '9')
        all[static_cast<size_t>(k--)] = '0';
    if (k < 0)
        all.insert(0, 1, '1');
    else
        all[static_cast<size_t>(k)]++;
    d.int_digits = all.substr(0, all.size() - d.frac_digits.size());
    d.frac_digits = all.substr(all.size() - d.frac_digits.size());
}

} // namespace

std::optional<plain_decimal> parse_plain_decimal(std::string_view t, int32_t scale) {
    plain_decimal d;
    size_t i = 0;
    std::string digits;
    long point = -1;
    if (!scan_mantissa(t, i, d, digits, point) || !scan_exponent(t, i, point) || i != t.size())
        return std::nullopt;
    // Shift the point into the digits.
    if (point < 0) {
        digits.insert(0, static_cast<size_t>(-point), '0');
        point = 0;
    }
    if (point > static_cast<long>(digits.size()))
        digits.append(static_cast<size_t>(point) - digits.size(), '0');
    d.int_digits = digits.substr(0, static_cast<size_t>(point));
    d.frac_digits = digits.substr(static_cast<size_t>(point));
    if (scale >= 0 && static_cast<int32_t>(d.frac_digits.size()) > scale)
        round_to_scale(d, scale);
    if (scale >= 0)
        d.frac_digits.append(static_cast<size_t>(scale) - d.frac_digits.size(), '0');
    d.int_digits.erase(0, std::min(d.int_digits.find_first_not_of('0'), d.int_digits.size()));
    if (d.int_digits.empty() && d.frac_digits.find_first_not_of('0') == std::string::npos)
        d.negative = false; // -0 is 0
    return d;
}

bool is_plain_text(std::string_view bytes) {
    if (bytes.empty())
        return false;
    for (unsigned char c : bytes)
        if (c < 0x20 || c == '\\' || c == '"' || c == ',' || c == 0x7f)
            return false;
    return true;
}

void append_copy_text_escaped(std::string& out, std::string_view bytes) {
    const char* p = bytes.data();
    const char* end = p + bytes.size();
    while (p < end) {
        // Copy the longest run that needs no escape in one go.
        const char* run = p;
        while (p < end) {
            unsigned char c = static_cast<unsigned char>(*p);
            if (c == '\\' || c < 0x20)
                break;
            ++p;
        }
        out.append(run, static_cast<size_t>(p - run));
        if (p == end)
            break;
        char c = *p++;
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\v': out += "\\v"; break;
        default: out += c; // other control bytes are data in COPY text
        }
    }
}

void append_csv_field(std::string& out, std::string_view bytes, char delimiter) {
    bool quote = bytes.empty() || bytes == "\\.";
    for (char c : bytes) {
        if (c == delimiter || c == '"' || c == '\n' || c == '\r') {
            quote = true;
            break;
        }
    }
    if (!quote) {
        out.append(bytes);
        return;
    }
    out += '"';
    for (char c : bytes) {
        if (c == '"')
            out += '"';
        out += c;
    }
    out += '"';
}

} // namespace pgpipe
