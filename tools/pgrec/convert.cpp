// pgrec's conversions: a table of converters by column type, the text parsers they use, arrays and json.
#include "convert.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <limits>

namespace od = simdjson::ondemand;

namespace pgpipe {
namespace {

std::string quoted(std::string_view s) {
    std::string out = "\"";
    out.append(s.substr(0, 60));
    if (s.size() > 60)
        out += "…";
    return out + "\"";
}

// ---------------------------------------------------------------- JSON tokens

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// RFC 8259's number, exactly: -? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?
// simdjson hands a number's token through unread, so this is the check.
bool is_json_number(std::string_view t) {
    size_t i = 0, n = t.size();
    auto digits = [&] {
        size_t from = i;
        while (i < n && is_digit(t[i]))
            ++i;
        return i > from;
    };
    if (i < n && t[i] == '-')
        ++i;
    if (i < n && t[i] == '0')
        ++i;
    else if (!(i < n && t[i] >= '1' && t[i] <= '9' && digits()))
        return false;
    if (i < n && t[i] == '.' && (++i, !digits()))
        return false;
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        if (++i < n && (t[i] == '+' || t[i] == '-'))
            ++i;
        if (!digits())
            return false;
    }
    return i == n;
}

// A scalar token outside strings: a number, true, false or null; throws
// record_error naming it otherwise.
void check_json_token(std::string_view token) {
    if (token == "true" || token == "false" || token == "null")
        return;
    if (!token.empty() && (token[0] == '-' || is_digit(token[0]))) {
        if (!is_json_number(token))
            throw record_error{"invalid JSON number " + quoted(token)};
        return;
    }
    throw record_error{"invalid JSON value " + quoted(token)};
}

// Bytes that end a scalar token outside strings: structure and white space.
constexpr std::array<bool, 256> token_ends = [] {
    std::array<bool, 256> ends{};
    for (unsigned char c : std::string_view("{}[],:\" \t\n\r"))
        ends[c] = true;
    return ends;
}();

// Past the string whose opening quote is at raw[i]: its closing quote is
// the first one after an even number of backslashes.
size_t past_string(std::string_view raw, size_t i) {
    for (;;) {
        size_t quote = raw.find('"', i + 1);
        if (quote == std::string_view::npos)
            return raw.size();
        size_t backslashes = 0;
        while (raw[quote - 1 - backslashes] == '\\')
            ++backslashes;
        if (backslashes % 2 == 0)
            return quote + 1;
        i = quote;
    }
}

// The scalars inside a JSON object or array as its raw text has them:
// simdjson skips what it is not asked for, so a json column checks its
// value's numbers and literals here (strings were checked when the line
// was read). Grammar beyond tokens is left to the server.
void check_json_tokens(std::string_view raw) {
    size_t i = 0;
    while (i < raw.size()) {
        if (raw[i] == '"') {
            i = past_string(raw, i);
        } else if (token_ends[static_cast<unsigned char>(raw[i])]) {
            ++i;
        } else {
            size_t from = i;
            while (i < raw.size() && !token_ends[static_cast<unsigned char>(raw[i])])
                ++i;
            check_json_token(raw.substr(from, i - from));
        }
    }
}

// ---------------------------------------------------------------- text parsers

struct interval_parts {
    int32_t months = 0;
    int32_t days = 0;
    int64_t us = 0;
};

// One "<number><unit>" of an ISO 8601 duration; false for a unit that has no
// place there (M is months before the T, minutes after it).
bool add_iso_part(interval_parts& p, bool time, char unit, double v) {
    if (!time && unit == 'Y')
        p.months += static_cast<int32_t>(v * 12);
    else if (!time && unit == 'M')
        p.months += static_cast<int32_t>(v);
    else if (!time && unit == 'W')
        p.days += static_cast<int32_t>(v * 7);
    else if (!time && unit == 'D')
        p.days += static_cast<int32_t>(v);
    else if (time && unit == 'H')
        p.us += static_cast<int64_t>(std::llround(v * 3600e6));
    else if (time && unit == 'M')
        p.us += static_cast<int64_t>(std::llround(v * 60e6));
    else if (time && unit == 'S')
        p.us += static_cast<int64_t>(std::llround(v * 1e6));
    else
        return false;
    return true;
}

// "P1Y2M3DT4H5M6.5S", "P2W", "-P1D".
bool parse_iso_interval(std::string_view t, interval_parts& p) {
    int sign = t[0] == '-' ? -1 : 1;
    size_t pos = t[0] == '-' ? 2 : 1;
    bool time = false, any = false;
    while (pos < t.size()) {
        if (t[pos] == 'T') {
            time = true;
            ++pos;
            continue;
        }
        size_t start = pos;
        while (pos < t.size() && ((t[pos] >= '0' && t[pos] <= '9') || t[pos] == '.' || t[pos] == '-'))
            ++pos;
        if (pos == start || pos >= t.size())
            return false;
        double v = std::strtod(std::string(t.substr(start, pos - start)).c_str(), nullptr);
        if (!add_iso_part(p, time, t[pos++], v))
            return false;
        any = true;
    }
    p.months *= sign;
    p.days *= sign;
    p.us *= sign;
    return any;
}

// One "<n> <unit>" of the server's style, the unit by its prefix ("mons").
bool add_postgres_part(interval_parts& p, std::string_view unit, int64_t n) {
    if (unit.rfind("year", 0) == 0)
        p.months += static_cast<int32_t>(n * 12);
    else if (unit.rfind("mon", 0) == 0)
        p.months += static_cast<int32_t>(n);
    else if (unit.rfind("day", 0) == 0)
        p.days += static_cast<int32_t>(n);
    else if (unit.rfind("hour", 0) == 0)
        p.us += n * 3600000000LL;
    else if (unit.rfind("min", 0) == 0)
        p.us += n * 60000000LL;
    else if (unit.rfind("sec", 0) == 0)
        p.us += n * 1000000LL;
    else
        return false;
    return true;
}

// The [-]H…H:MM:SS[.f] that ends the server's style; hours may have more
// than two digits, so they are read here and the rest as a time of day.
bool add_postgres_clock(interval_parts& p, std::string_view t, size_t sign_at, size_t digits_start) {
    size_t colon = t.find(':', digits_start);
    int64_t hours = 0;
    for (size_t i = digits_start; i < colon; ++i)
        hours = hours * 10 + (t[i] - '0');
    std::string rest = "00" + std::string(t.substr(colon));
    size_t rp = 0;
    int64_t clock;
    if (!parse_time_of_day(rest, rp, clock) || rp != rest.size())
        return false;
    int64_t v = hours * 3600000000LL + clock;
    p.us += t[sign_at] == '-' ? -v : v;
    return true;
}

// "1 year 2 mons 3 days 04:05:06.5", "-00:00:01": number-unit pairs, then
// an optional clock.
bool parse_postgres_interval(std::string_view t, interval_parts& p) {
    size_t pos = 0;
    bool any = false;
    while (pos < t.size()) {
        while (pos < t.size() && t[pos] == ' ')
            ++pos;
        if (pos >= t.size())
            break;
        size_t start = pos;
        if (t[pos] == '-' || t[pos] == '+')
            ++pos;
        size_t digits_start = pos;
        while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9')
            ++pos;
        if (pos < t.size() && t[pos] == ':')
            return add_postgres_clock(p, t, start, digits_start);
        if (pos == digits_start)
            return false;
        int64_t n = std::stoll(std::string(t.substr(start, pos - start)));
        while (pos < t.size() && t[pos] == ' ')
            ++pos;
        size_t unit_start = pos;
        while (pos < t.size() && t[pos] != ' ')
            ++pos;
        if (!add_postgres_part(p, t.substr(unit_start, pos - unit_start), n))
            return false;
        any = true;
    }
    return any;
}

bool parse_interval(std::string_view t, interval_parts& p) {
    if (t.empty())
        return false;
    if (t[0] == 'P' || (t.size() > 1 && t[0] == '-' && t[1] == 'P'))
        return parse_iso_interval(t, p);
    return parse_postgres_interval(t, p);
}

// 32 hex digits, with the usual dashes or none, maybe in braces.
bool parse_uuid(std::string_view t, uint8_t* out) {
    if (t.size() == 38 && t.front() == '{' && t.back() == '}')
        t = t.substr(1, 36);
    int n = 0;
    int high = -1;
    for (size_t i = 0; i < t.size(); ++i) {
        char c = t[i];
        if (c == '-' && (i == 8 || i == 13 || i == 18 || i == 23) && t.size() == 36)
            continue;
        int v = hex_digit_value(c);
        if (v < 0 || n >= 16)
            return false;
        if (high < 0) {
            high = v;
        } else {
            out[n++] = static_cast<uint8_t>(high * 16 + v);
            high = -1;
        }
    }
    return n == 16 && high < 0;
}

bool decode_hex_bytea(std::string_view t, std::string& out) {
    if ((t.size() - 2) % 2)
        return false;
    for (size_t i = 2; i < t.size(); i += 2) {
        int a = hex_digit_value(t[i]), b = hex_digit_value(t[i + 1]);
        if (a < 0 || b < 0)
            return false;
        out += static_cast<char>(a * 16 + b);
    }
    return true;
}

// Base64 (standard alphabet, padding optional).
bool decode_base64_bytea(std::string_view t, std::string& out) {
    uint32_t acc = 0;
    int bits = 0;
    for (char c : t) {
        int v = (c >= 'A' && c <= 'Z') ? c - 'A' : (c >= 'a' && c <= 'z') ? c - 'a' + 26 : (c >= '0' && c <= '9') ? c - '0' + 52
                : c == '+' ? 62 : c == '/' ? 63 : c == '=' ? -2 : -1;
        if (v == -2)
            break;
        if (v < 0)
            return false;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xFF);
        }
    }
    return true;
}

// \x hex (the server's bytea output) or base64 (what JSON encoders write).
bool decode_bytea(std::string_view t, std::string& out) {
    out.clear();
    if (t.size() >= 2 && t[0] == '\\' && t[1] == 'x')
        return decode_hex_bytea(t, out);
    return decode_base64_bytea(t, out);
}

// ---------------------------------------------------------------- scalar converters

// A scalar as the converters see it: a string's unescaped text, or the
// token of a number or literal.
struct json_scalar {
    std::string_view text;
    od::json_type kind;
};

void convert_boolean(const json_scalar& in, const record_column&, value& out, record_cell&) {
    std::string_view text = in.text;
    if (in.kind == od::json_type::boolean || text == "true" || text == "false" || text == "t" || text == "f") {
        out.kind = value_kind::boolean;
        out.i = text[0] == 't';
        return;
    }
    throw record_error{quoted(text) + " is not a boolean"};
}

void convert_integer(const json_scalar& in, const record_column& col, value& out, record_cell&) {
    const pg_type t = col.type.base;
    auto d = parse_plain_decimal(in.text);
    if (!d || d->frac_digits.find_first_not_of('0') != std::string::npos || d->int_digits.size() > 19)
        throw record_error{quoted(in.text) + " is not a valid integer"};
    __int128 v = 0;
    for (char c : d->int_digits)
        v = v * 10 + (c - '0');
    if (d->negative)
        v = -v;
    int64_t lo = t == pg_type::int2 ? INT16_MIN : t == pg_type::int4 ? INT32_MIN : INT64_MIN;
    int64_t hi = t == pg_type::int2 ? INT16_MAX : t == pg_type::int4 ? INT32_MAX : INT64_MAX;
    if (v < lo || v > hi)
        throw record_error{std::string(in.text) + " is out of range (" + std::to_string(lo) + " to " +
                           std::to_string(hi) + ")"};
    out.kind = value_kind::integer;
    out.i = static_cast<int64_t>(v);
}

void convert_numeric(const json_scalar& in, const record_column& col, value& out, record_cell& store) {
    const column_type& type = col.type;
    // Python's Decimal('NaN') and Decimal('Infinity') as str() spells them;
    // numeric takes them all (14+), a numeric(p,s) no infinity.
    if (is_numeric_special(in.text)) {
        if (in.text != "NaN" && type.precision > 0)
            throw record_error{std::string(in.text) + " does not fit numeric(" + std::to_string(type.precision) + "," +
                               std::to_string(type.scale) + "): only a numeric without precision holds an infinity"};
        store.text = in.text;
        out.kind = value_kind::numeric_text;
        out.s = store.text;
        return;
    }
    auto d = parse_plain_decimal(in.text, type.scale);
    if (!d)
        throw record_error{quoted(in.text) + " is not a valid number"};
    if (type.precision > 0 && static_cast<int32_t>(d->int_digits.size()) > type.precision - type.scale)
        throw record_error{std::string(in.text) + " needs more than " + std::to_string(type.precision - type.scale) +
                           " digits before the point"};
    store.text = d->text();
    out.kind = value_kind::numeric_text;
    out.s = store.text;
}

// Parsed from the text itself, as float4in/float8in do: a float4 rounded
// once, not through a double.
template <typename Float>
void convert_float(const json_scalar& in, const record_column&, value& out, record_cell&) {
    std::string_view s = in.text;
    double v;
    if (s == "NaN") {
        v = std::numeric_limits<double>::quiet_NaN();
    } else if (s == "Infinity" || s == "-Infinity") {
        v = s[0] == '-' ? -HUGE_VAL : HUGE_VAL;
    } else {
        Float f;
        auto r = std::from_chars(s.data(), s.data() + s.size(), f);
        if (r.ec != std::errc() || r.ptr != s.data() + s.size())
            throw record_error{quoted(s) + " is not a valid number" +
                               (r.ec != std::errc::result_out_of_range ? ""
                                : sizeof(Float) == 4                    ? " (out of range for real)"
                                                                        : " (out of range for double precision)")};
        v = f;
    }
    out.kind = value_kind::real;
    out.d = v;
}

// char(n) takes a longer value whose extra characters are spaces, trimmed.
std::string_view check_length(std::string_view text, const column_type& type) {
    size_t n = utf8_length(text);
    if (n <= static_cast<size_t>(type.length))
        return text;
    bool spaces_only = type.base == pg_type::bpchar && trim_json_space(text).size() <= static_cast<size_t>(type.length);
    if (!spaces_only)
        throw record_error{"value too long (" + std::to_string(n) + " characters, at most " +
                           std::to_string(type.length) + ")"};
    return trim_json_space(text);
}

// text, varchar(n), char(n) and enums.
void convert_text(const json_scalar& in, const record_column& col, value& out, record_cell&) {
    const pg_type t = col.type.base;
    std::string_view text = in.text;
    if (text.find('\0') != std::string_view::npos)
        throw record_error{"text cannot contain a NUL character (\\u0000)"};
    if ((t == pg_type::varchar || t == pg_type::bpchar) && col.type.length > 0)
        text = check_length(text, col.type);
    if (t == pg_type::enumeration && !col.enum_labels.empty() &&
        std::find(col.enum_labels.begin(), col.enum_labels.end(), text) == col.enum_labels.end())
        throw record_error{quoted(text) + " is not a label of the enum"};
    out.kind = value_kind::string;
    out.s = text;
}

void convert_bytea(const json_scalar& in, const record_column&, value& out, record_cell& store) {
    if (in.kind != od::json_type::string || !decode_bytea(in.text, store.text))
        throw record_error{quoted(in.text) + " is neither \\x hex nor base64"};
    out.kind = value_kind::bytes;
    out.s = store.text;
}

void convert_date(const json_scalar& in, const record_column&, value& out, record_cell&) {
    int64_t days;
    time_read r = read_date(in.text, days);
    if (r != time_read::ok)
        throw record_error{quoted(in.text) +
                           (r == time_read::invalid ? " is not a date (YYYY-MM-DD)" : " is out of range for date")};
    out.kind = value_kind::date;
    out.i = days;
}

void convert_time(const json_scalar& in, const record_column&, value& out, record_cell&) {
    size_t pos = 0;
    int64_t us;
    if (!parse_time_of_day(in.text, pos, us) || pos != in.text.size())
        throw record_error{quoted(in.text) + " is not a time of day (HH:MM:SS[.ffffff])"};
    out.kind = value_kind::time;
    out.i = us;
}

// timestamptz: to UTC (no offset means UTC); timestamp: the server ignores
// an offset, and so do we.
void convert_timestamp(const json_scalar& in, const record_column& col, value& out, record_cell&) {
    int64_t us;
    time_read r = read_timestamp(in.text, col.type.base == pg_type::timestamptz, us);
    if (r != time_read::ok)
        throw record_error{quoted(in.text) + (r == time_read::invalid ? " is not an ISO 8601 timestamp"
                                                                      : " is out of range for timestamp")};
    out.kind = value_kind::timestamp;
    out.i = us;
}

void convert_interval(const json_scalar& in, const record_column&, value& out, record_cell&) {
    interval_parts p;
    if (!parse_interval(in.text, p))
        throw record_error{quoted(in.text) + " is not an interval (ISO 8601 like P1DT2H, or 1 day 02:00:00)"};
    out.kind = value_kind::interval;
    out.months = p.months;
    out.days = p.days;
    out.i = p.us;
}

void convert_uuid(const json_scalar& in, const record_column&, value& out, record_cell&) {
    if (!parse_uuid(in.text, out.uuid.data()))
        throw record_error{quoted(in.text) + " is not a UUID"};
    out.kind = value_kind::uuid;
}

// ---------------------------------------------------------------- the table

// A column type's converter: gets the JSON value (not null) and its kind.
using json_converter = void (*)(od::value& jv, od::json_type kind, const record_column& col, value& out,
                                record_cell& store);

std::string_view scalar_text(od::value& jv, od::json_type kind) {
    if (kind == od::json_type::string) {
        std::string_view s;
        if (jv.get_string().get(s))
            throw record_error{"invalid string"};
        return s;
    }
    return trim_json_space(jv.raw_json_token());
}

// The scalar types: an object or array never fits them.
template <void (*Convert)(const json_scalar&, const record_column&, value&, record_cell&)>
void scalar(od::value& jv, od::json_type kind, const record_column& col, value& out, record_cell& store) {
    if (kind == od::json_type::object || kind == od::json_type::array)
        throw record_error{std::string("a JSON ") + (kind == od::json_type::object ? "object" : "array") +
                           " does not fit a scalar column"};
    Convert(json_scalar{scalar_text(jv, kind), kind}, col, out, store);
}

// json and jsonb take any JSON value as it is written.
void convert_json(od::value& jv, od::json_type kind, const record_column&, value& out, record_cell& store) {
    std::string_view raw;
    if (kind == od::json_type::object) {
        od::object o;
        if (jv.get_object().get(o) || o.raw_json().get(raw))
            throw record_error{"invalid JSON object"};
    } else if (kind == od::json_type::array) {
        od::array a;
        if (jv.get_array().get(a) || a.raw_json().get(raw))
            throw record_error{"invalid JSON array"};
    } else {
        raw = jv.raw_json_token();
    }
    raw = trim_json_space(raw);
    if (kind == od::json_type::object || kind == od::json_type::array)
        check_json_tokens(raw);
    store.text.assign(raw);
    out.kind = value_kind::json;
    out.s = store.text;
}

struct type_converter {
    pg_type type;
    json_converter convert;
};

// In pg_type's order, so that a type's number finds its converter.
constexpr type_converter converters[] = {
    {pg_type::boolean, scalar<convert_boolean>},
    {pg_type::int2, scalar<convert_integer>},
    {pg_type::int4, scalar<convert_integer>},
    {pg_type::int8, scalar<convert_integer>},
    {pg_type::numeric, scalar<convert_numeric>},
    {pg_type::float4, scalar<convert_float<float>>},
    {pg_type::float8, scalar<convert_float<double>>},
    {pg_type::text, scalar<convert_text>},
    {pg_type::varchar, scalar<convert_text>},
    {pg_type::bpchar, scalar<convert_text>},
    {pg_type::bytea, scalar<convert_bytea>},
    {pg_type::date, scalar<convert_date>},
    {pg_type::time, scalar<convert_time>},
    {pg_type::timestamp, scalar<convert_timestamp>},
    {pg_type::timestamptz, scalar<convert_timestamp>},
    {pg_type::interval, scalar<convert_interval>},
    {pg_type::uuid, scalar<convert_uuid>},
    {pg_type::json, convert_json},
    {pg_type::jsonb, convert_json},
    {pg_type::enumeration, scalar<convert_text>},
};

constexpr bool in_type_order() {
    for (size_t k = 0; k < std::size(converters); ++k)
        if (static_cast<size_t>(converters[k].type) != k)
            return false;
    return std::size(converters) == static_cast<size_t>(pg_type::enumeration) + 1;
}
static_assert(in_type_order(), "converters[] must list every pg_type, in its order");

// ---------------------------------------------------------------- values and arrays

void convert_value(od::value jv, const record_column& col, value& out, record_cell& store, bool in_array);

// One element into the array's storage, its text swapped into a cell of
// its own for the conversion and back.
void convert_element(od::value ev, const record_column& col, record_cell& store, size_t n) {
    if (store.elements.size() <= n) {
        store.elements.resize(n + 1);
        store.element_text.resize(n + 1);
    }
    record_cell element_store;
    element_store.text.swap(store.element_text[n]);
    od::json_type ek;
    if (ev.type().get(ek))
        throw record_error{"invalid JSON array"};
    if (ek == od::json_type::array && col.type.base != pg_type::json && col.type.base != pg_type::jsonb)
        throw record_error{"nested arrays (multidimensional) are not supported"};
    convert_value(ev, col, store.elements[n], element_store, true);
    store.element_text[n].swap(element_store.text);
}

void convert_array(od::value& jv, od::json_type kind, const record_column& col, value& out, record_cell& store) {
    if (kind != od::json_type::array)
        throw record_error{"expected a JSON array for an array column"};
    od::array a;
    if (jv.get_array().get(a))
        throw record_error{"invalid JSON array"};
    size_t n = 0;
    for (auto element : a) {
        od::value ev;
        if (element.get(ev))
            throw record_error{"invalid JSON array"};
        convert_element(ev, col, store, n++);
    }
    // Views into the elements' own text are pointed at their final place
    // only now: growing element_text moves its strings, and a short
    // string's bytes live inside the string object itself.
    for (size_t k = 0; k < n; ++k) {
        value_kind ek = store.elements[k].kind;
        if (ek == value_kind::bytes || ek == value_kind::numeric_text || ek == value_kind::json)
            store.elements[k].s = store.element_text[k];
    }
    out.kind = value_kind::array;
    out.elements = store.elements.data();
    out.count = static_cast<uint32_t>(n);
}

// The type is read from the first byte: "nope" must not pass for null, nor
// "tru" for true, so both are read whole.
void check_literal(od::value& jv, od::json_type kind) {
    bool b = false;
    if (kind == od::json_type::null && (jv.is_null().get(b) || !b))
        throw record_error{"invalid JSON value " + quoted(trim_json_space(jv.raw_json_token()))};
    if (kind == od::json_type::boolean && jv.get_bool().get(b))
        throw record_error{"invalid JSON value " + quoted(trim_json_space(jv.raw_json_token()))};
}

void convert_value(od::value jv, const record_column& col, value& out, record_cell& store, bool in_array) {
    od::json_type kind;
    if (jv.type().get(kind))
        throw record_error{"invalid JSON value " + quoted(trim_json_space(jv.raw_json_token()))};
    out = value{};
    check_literal(jv, kind);
    if (kind == od::json_type::number)
        check_json_token(trim_json_space(jv.raw_json_token()));
    if (kind == od::json_type::null && col.null_is_json && !in_array) {
        store.text.assign("null");
        out.kind = value_kind::json;
        out.s = store.text;
        return;
    }
    if (kind == od::json_type::null)
        return; // out is NULL
    if (col.type.is_array && !in_array)
        convert_array(jv, kind, col, out, store);
    else
        converters[static_cast<size_t>(col.type.base)].convert(jv, kind, col, out, store);
}

} // namespace

std::string_view trim_json_space(std::string_view s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

void convert_json_value(od::value jv, const record_column& col, value& out, record_cell& store) {
    convert_value(jv, col, out, store, false);
}

void keep_json_nulls(std::vector<record_column>& columns) {
    for (record_column& c : columns)
        c.null_is_json = !c.type.is_array && (c.type.base == pg_type::json || c.type.base == pg_type::jsonb);
}

} // namespace pgpipe
