// COPY text to COPY binary, value by value, accepting only the forms whose meaning the server's text input leaves no
// doubt about; and reserved ids put in front of text, CSV and binary rows.
#include "transcode.hpp"
#include "uuid_text.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

#include <simdjson.h>

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

namespace pgpipe {
namespace {

// ---------------------------------------------------------------- output

void put_be16(std::string& out, uint16_t v) {
    const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
    out.append(b, 2);
}

void put_be32(std::string& out, uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
    out.append(b, 4);
}

// A field of a fixed width (1 to 8 bytes): its length, then the low
// `width` bytes of v, big-endian, in one append.
void put_fixed(std::string& out, unsigned width, uint64_t v) {
    char b[12] = {0, 0, 0, static_cast<char>(width)};
    for (unsigned k = 0; k < width; ++k)
        b[4 + k] = static_cast<char>(v >> (8 * (width - 1 - k)));
    out.append(b, 4 + width);
}

// Overwrites the length word at `at` with the bytes written after it.
void patch_length(std::string& out, size_t at) {
    const uint32_t len = static_cast<uint32_t>(out.size() - at - 4);
    for (int b = 0; b < 4; ++b)
        out[at + static_cast<size_t>(b)] = static_cast<char>(len >> (24 - 8 * b));
}

const char* find(const char* p, const char* end, char c) {
    const void* hit = std::memchr(p, c, static_cast<size_t>(end - p));
    return hit ? static_cast<const char*>(hit) : end;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_null(const char* p, const char* end) { return end - p == 2 && p[0] == '\\' && p[1] == 'N'; }

// ---------------------------------------------------------------- integers, booleans, UUIDs, bytea

// -?[0-9]+ within [min, max] (pg_strtoint* would also take spaces, '+', '_' and 0x prefixes).
bool parse_int(const char* p, const char* end, int64_t min, int64_t max, int64_t& v) {
    const bool negative = p < end && *p == '-';
    p += negative;
    if (p == end)
        return false;
    const uint64_t limit = negative ? 0 - static_cast<uint64_t>(min) : static_cast<uint64_t>(max);
    uint64_t magnitude = 0;
    for (; p < end; ++p) {
        if (!is_digit(*p))
            return false;
        const unsigned d = static_cast<unsigned>(*p - '0');
        if (magnitude > (limit - d) / 10)
            return false;
        magnitude = magnitude * 10 + d;
    }
    v = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
    return true;
}

bool is_integer(std::optional<binary_kind> kind) {
    return kind == binary_kind::int2 || kind == binary_kind::int4 || kind == binary_kind::int8;
}

// An int2, int4 or int8 field of value v; false when v does not fit.
bool put_int_field(std::string& out, binary_kind kind, int64_t v) {
    switch (kind) {
    case binary_kind::int2:
        if (v < INT16_MIN || v > INT16_MAX)
            return false;
        put_fixed(out, 2, static_cast<uint64_t>(v));
        return true;
    case binary_kind::int4:
        if (v < INT32_MIN || v > INT32_MAX)
            return false;
        put_fixed(out, 4, static_cast<uint64_t>(v));
        return true;
    default:
        put_fixed(out, 8, static_cast<uint64_t>(v));
        return true;
    }
}

bool encode_int(std::string& out, binary_kind kind, const char* p, const char* end) {
    static constexpr int64_t bound[] = {INT16_MAX, INT32_MAX, INT64_MAX};
    const int64_t max = bound[static_cast<int>(kind) - static_cast<int>(binary_kind::int2)];
    int64_t v;
    return parse_int(p, end, -max - 1, max, v) && put_int_field(out, kind, v);
}

// Only t and f, as COPY TO writes them (boolin would also take yes, on, 1, ...).
bool encode_bool(std::string& out, const char* p, const char* end) {
    if (end - p != 1 || (*p != 't' && *p != 'f'))
        return false;
    put_fixed(out, 1, *p == 't');
    return true;
}

// Exactly 8-4-4-4-12 hex digits, the form COPY TO writes (uuid_text.hpp).
bool encode_uuid(std::string& out, const char* p, const char* end) {
    unsigned char bytes[16];
    if (end - p != 36 || !parse_uuid_text(std::string_view(p, static_cast<size_t>(end - p)), bytes))
        return false;
    put_be32(out, 16);
    out.append(reinterpret_cast<const char*>(bytes), 16);
    return true;
}

// The hex form as COPY TO writes it, "\\x" and pairs of hex digits (no
// whitespace); byteain's escape form is refused.
bool encode_bytea(std::string& out, const char* p, const char* end) {
    if (end - p < 3 || p[0] != '\\' || p[1] != '\\' || p[2] != 'x' || (end - p - 3) % 2 != 0)
        return false;
    put_be32(out, static_cast<uint32_t>((end - p - 3) / 2));
    for (p += 3; p < end; p += 2) {
        const int hi = hex_digit_value(p[0]), lo = hex_digit_value(p[1]);
        if (hi < 0 || lo < 0)
            return false; // encode() takes back the whole batch
        out += static_cast<char>(hi << 4 | lo);
    }
    return true;
}

// ---------------------------------------------------------------- numeric

// Longer digit strings are valid numerics, but a batch holding one goes as text.
constexpr size_t numeric_max_digits = 1000;

// A plain decimal's parts, as views into the field.
struct decimal_text {
    bool negative = false;
    std::string_view int_digits;  // without leading zeros
    std::string_view frac_digits; // as written
};

// -?[0-9]+(\.[0-9]+)? (numeric_in would also take spaces, '+', ".5", "5.",
// exponents, NaN and Infinity).
bool split_decimal(const char* p, const char* end, decimal_text& d) {
    d.negative = p < end && *p == '-';
    p += d.negative;
    const char* int_begin = p;
    while (p < end && is_digit(*p))
        ++p;
    const char* int_end = p;
    const char* frac_begin = p;
    if (p < end && *p == '.')
        for (frac_begin = ++p; p < end && is_digit(*p);)
            ++p;
    if (int_begin == int_end || (frac_begin != int_end && frac_begin == p) || p != end)
        return false;
    while (int_begin < int_end && *int_begin == '0')
        ++int_begin;
    d.int_digits = std::string_view(int_begin, static_cast<size_t>(int_end - int_begin));
    d.frac_digits = std::string_view(frac_begin, static_cast<size_t>(p - frac_begin));
    return true;
}

// Base-10000 digits of d aligned on the point, into groups; returns how
// many, and sets how many of them are left of the point.
size_t numeric_groups(const decimal_text& d, uint16_t* groups, int& int_groups) {
    size_t n = 0;
    unsigned v = 0, filled = (4 - d.int_digits.size() % 4) % 4; // the zeros left of the first group
    auto take = [&](std::string_view digits) {
        for (char c : digits) {
            v = v * 10 + static_cast<unsigned>(c - '0');
            if (++filled == 4) {
                groups[n++] = static_cast<uint16_t>(v);
                v = 0;
                filled = 0;
            }
        }
    };
    take(d.int_digits);
    int_groups = static_cast<int>(n);
    take(d.frac_digits);
    if (filled) {
        for (; filled < 4; ++filled)
            v *= 10;
        groups[n++] = static_cast<uint16_t>(v);
    }
    return n;
}

// A plain decimal as numeric_in reads it: base-10000 digits, leading and
// trailing zero digits stripped (as make_result does), display scale the
// count of fraction digits. A column's numeric(p,s) is left to numeric_recv,
// whose apply_typmod rounds as numeric_in's does (a display scale below the
// fraction's length would make numeric_recv truncate instead).
bool encode_numeric(std::string& out, const char* p, const char* end) {
    decimal_text d;
    if (!split_decimal(p, end, d) || d.int_digits.size() > numeric_max_digits ||
        d.frac_digits.size() > numeric_max_digits)
        return false;
    std::array<uint16_t, 2 * numeric_max_digits / 4 + 2> groups;
    int int_groups;
    size_t first = 0, last = numeric_groups(d, groups.data(), int_groups);
    while (first < last && groups[first] == 0)
        ++first;
    while (last > first && groups[last - 1] == 0)
        --last;
    const bool zero = first == last;
    // The field in one append: length, ndigits, weight, sign, dscale, digits.
    std::array<char, 12 + 2 * groups.size()> field;
    size_t len = 0;
    auto be16 = [&](unsigned word) {
        field[len++] = static_cast<char>(word >> 8);
        field[len++] = static_cast<char>(word);
    };
    be16(0);
    be16(static_cast<unsigned>(8 + 2 * (last - first)));
    be16(static_cast<unsigned>(last - first));
    be16(static_cast<uint16_t>(zero ? 0 : int_groups - 1 - static_cast<int>(first)));
    be16(d.negative && !zero ? 0x4000 : 0);
    be16(static_cast<unsigned>(d.frac_digits.size()));
    for (size_t g = first; g < last; ++g)
        be16(groups[g]);
    out.append(field.data(), len);
    return true;
}

// ---------------------------------------------------------------- floats

// Mantissas longer than this (outputs have at most 17 digits) are refused:
// from_chars was checked against strtod up to about this length.
constexpr ptrdiff_t float_max_digits = 40;

// -?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?, the forms float8out and float4out
// write; sets whether a digit of the mantissa is not zero.
bool plain_float(const char* p, const char* end, bool& nonzero) {
    nonzero = false;
    p += p < end && *p == '-';
    const char* mantissa = p;
    auto digits = [&] {
        const char* from = p;
        for (; p < end && is_digit(*p); ++p)
            nonzero |= *p != '0';
        return p > from;
    };
    if (!digits() || (p < end && *p == '.' && (++p, !digits())) || p - mantissa > float_max_digits + 1)
        return false;
    if (p < end && (*p == 'e' || *p == 'E')) {
        ++p;
        p += p < end && (*p == '-' || *p == '+');
        const bool saw_nonzero = nonzero;
        if (!digits())
            return false;
        nonzero = saw_nonzero;
    }
    return p == end;
}

// float8in (strtod) and float4in (strtof) round correctly, as std::from_chars
// does. Refused: values that overflow or underflow (errors there), subnormals
// (kept out of doubt), and every spelling but the output's Infinity,
// -Infinity and NaN.
template <typename F>
bool parse_float(const char* p, const char* end, F& v) {
    const std::string_view t(p, static_cast<size_t>(end - p));
    if (t == "Infinity" || t == "-Infinity") {
        v = t[0] == '-' ? -std::numeric_limits<F>::infinity() : std::numeric_limits<F>::infinity();
        return true;
    }
    if (t == "NaN") {
        v = std::numeric_limits<F>::quiet_NaN(); // the bits of the server's NAN
        return true;
    }
    bool nonzero;
    if (!plain_float(p, end, nonzero))
        return false;
    const auto [ptr, ec] = std::from_chars(p, end, v);
    if (ec != std::errc() || ptr != end)
        return false;
    const int cls = std::fpclassify(v);
    return cls == FP_NORMAL || (cls == FP_ZERO && !nonzero);
}

// float4 or float8: the IEEE bits, big-endian.
template <class Float>
bool encode_float(std::string& out, const char* p, const char* end) {
    using bits = std::conditional_t<sizeof(Float) == 4, uint32_t, uint64_t>;
    Float v;
    if (!parse_float(p, end, v))
        return false;
    put_fixed(out, sizeof(Float), std::bit_cast<bits>(v));
    return true;
}

// ---------------------------------------------------------------- dates and times

constexpr int64_t us_per_day = 86400000000LL;

// Two digits at p, at most max.
bool two_digits(const char* p, int max, int& v) {
    if (!is_digit(p[0]) || !is_digit(p[1]))
        return false;
    v = (p[0] - '0') * 10 + (p[1] - '0');
    return v <= max;
}

// YYYY-MM-DD, a real day of years 1 to 9999 (not BC: "0001-01-01 BC" is
// refused by its length). ISO order is read the same under every DateStyle.
bool parse_day(const char* p, int64_t& days) {
    size_t pos = 0;
    return !(p[0] == '0' && p[1] == '0' && p[2] == '0' && p[3] == '0') &&
           parse_date_prefix(std::string_view(p, 10), pos, days);
}

// HH:MM:SS[.f] with one to six fraction digits (more would be rounded by
// the server), hours 0-23 (no 24:00:00), seconds 0-59 (no leap second 60).
// Returns the end of what it read, or nullptr.
const char* parse_clock(const char* p, const char* end, int64_t& us) {
    int h, m, s;
    if (end - p < 8 || !two_digits(p, 23, h) || p[2] != ':' || !two_digits(p + 3, 59, m) || p[5] != ':' ||
        !two_digits(p + 6, 59, s))
        return nullptr;
    us = ((h * 60LL + m) * 60 + s) * 1000000;
    p += 8;
    if (p < end && *p == '.') {
        const char* from = ++p;
        int64_t frac = 0;
        for (; p < end && is_digit(*p) && p - from < 7; ++p)
            frac = frac * 10 + (*p - '0');
        if (p == from || p - from > 6 || (p < end && is_digit(*p)))
            return nullptr;
        for (auto k = p - from; k < 6; ++k)
            frac *= 10;
        us += frac;
    }
    return p;
}

// +HH, +HH:MM or +HH:MM:SS (or with -), as the server writes offsets;
// hours up to 15, its limit. Seconds east of UTC.
bool parse_offset(const char* p, const char* end, int64_t& seconds) {
    const auto n = end - p;
    int h, m = 0, s = 0;
    if ((n != 3 && n != 6 && n != 9) || (*p != '+' && *p != '-') || !two_digits(p + 1, 15, h))
        return false;
    if (n >= 6 && (p[3] != ':' || !two_digits(p + 4, 59, m)))
        return false;
    if (n == 9 && (p[6] != ':' || !two_digits(p + 7, 59, s)))
        return false;
    seconds = (*p == '-' ? -1 : 1) * (h * 3600LL + m * 60 + s);
    return true;
}

// "infinity" and "-infinity" as the server writes them; sets negative.
bool is_infinity(const char* p, const char* end, bool& negative) {
    const std::string_view t(p, static_cast<size_t>(end - p));
    negative = t == "-infinity";
    return negative || t == "infinity";
}

bool encode_date(std::string& out, const char* p, const char* end) {
    bool negative;
    int64_t days;
    if (is_infinity(p, end, negative))
        days = negative ? INT32_MIN : INT32_MAX; // DATEVAL_NOBEGIN, DATEVAL_NOEND
    else if (end - p != 10 || !parse_day(p, days))
        return false;
    put_fixed(out, 4, static_cast<uint32_t>(days));
    return true;
}

// YYYY-MM-DD HH:MM:SS[.ffffff], and for timestamptz an offset after it
// (without one the value would depend on the session's TimeZone); timestamp
// refuses an offset, which timestamp_in would ignore.
bool encode_timestamp(std::string& out, const char* p, const char* end, bool with_offset) {
    bool negative;
    int64_t us, days, clock, offset = 0;
    if (is_infinity(p, end, negative)) {
        us = negative ? INT64_MIN : INT64_MAX; // DT_NOBEGIN, DT_NOEND
    } else {
        if (end - p < 19 || !parse_day(p, days) || p[10] != ' ')
            return false;
        const char* q = parse_clock(p + 11, end, clock);
        if (!q || (with_offset ? !parse_offset(q, end, offset) : q != end))
            return false;
        us = days * us_per_day + clock - offset * 1000000;
    }
    put_fixed(out, 8, static_cast<uint64_t>(us));
    return true;
}

// ---------------------------------------------------------------- fields

// A field of a non-textual kind, [p, end) as it stands in the row.
bool encode_scalar(std::string& out, binary_kind kind, const char* p, const char* end) {
    if (is_null(p, end)) {
        put_be32(out, 0xFFFFFFFFu);
        return true;
    }
    switch (kind) {
    case binary_kind::bytea: return encode_bytea(out, p, end);
    case binary_kind::boolean: return encode_bool(out, p, end);
    case binary_kind::int2:
    case binary_kind::int4:
    case binary_kind::int8: return encode_int(out, kind, p, end);
    case binary_kind::numeric: return encode_numeric(out, p, end);
    case binary_kind::float4: return encode_float<float>(out, p, end);
    case binary_kind::float8: return encode_float<double>(out, p, end);
    case binary_kind::date: return encode_date(out, p, end);
    case binary_kind::timestamp: return encode_timestamp(out, p, end, false);
    case binary_kind::timestamptz: return encode_timestamp(out, p, end, true);
    case binary_kind::uuid: return encode_uuid(out, p, end);
    case binary_kind::text:
    case binary_kind::jsonb: break;
    }
    return false;
}

// The byte a backslash escape stands for, CopyReadAttributesText's way; q
// is just past the backslash's partner and moves past any digits it takes.
// -1 for what this refuses: "\." (the end-of-data marker, an error inside a
// row) and octal or hex escapes that make a NUL (an error) or a non-ASCII
// byte (the server would check it against its own encoding, not the client's).
int unescape(char c, const char*& q, const char* end) {
    if (c == '.')
        return -1;
    bool numeric;
    const int v = copy_text_unescape(c, q, end, numeric);
    return numeric && (v == 0 || v >= 0x80) ? -1 : v;
}

struct kind_of_type {
    pg_type type;
    binary_kind kind;
};

// The types this encodes; time, interval and arrays are not among them.
constexpr kind_of_type encodable[] = {
    {pg_type::text, binary_kind::text},          {pg_type::varchar, binary_kind::text},
    {pg_type::bpchar, binary_kind::text},        {pg_type::json, binary_kind::text},
    {pg_type::enumeration, binary_kind::text},   {pg_type::jsonb, binary_kind::jsonb},
    {pg_type::bytea, binary_kind::bytea},        {pg_type::boolean, binary_kind::boolean},
    {pg_type::int2, binary_kind::int2},          {pg_type::int4, binary_kind::int4},
    {pg_type::int8, binary_kind::int8},          {pg_type::numeric, binary_kind::numeric},
    {pg_type::float4, binary_kind::float4},      {pg_type::float8, binary_kind::float8},
    {pg_type::date, binary_kind::date},          {pg_type::timestamp, binary_kind::timestamp},
    {pg_type::timestamptz, binary_kind::timestamptz}, {pg_type::uuid, binary_kind::uuid},
};

std::optional<binary_kind> kind_of(const std::optional<column_type>& type) {
    if (!type || type->is_array)
        return std::nullopt;
    for (const auto& e : encodable)
        if (e.type == type->base)
            return e.kind;
    return std::nullopt;
}

// What the server's text input refuses in any row, and what would make this
// split fields differently from it: a carriage return (a line end or an
// error), a NUL, bytes that are not UTF-8.
bool clean_bytes(const char* p, size_t n) {
    return !std::memchr(p, '\r', n) && !std::memchr(p, '\0', n) && simdjson::validate_utf8(p, n);
}

} // namespace

text_to_binary::text_to_binary(std::vector<std::optional<column_type>> types, std::optional<column_type> id_type) {
    for (const auto& type : types) {
        const auto kind = kind_of(type);
        m_usable &= kind.has_value();
        m_kinds.push_back(kind.value_or(binary_kind::text));
    }
    if (id_type) {
        m_id = kind_of(id_type);
        m_usable &= is_integer(m_id);
    }
    // A tuple's field count is an int16; the server allows 1600 columns.
    m_usable &= m_kinds.size() + (m_id ? 1 : 0) <= 1600;
}

bool text_to_binary::encode(std::string_view buffer, const size_t* starts, size_t nrows, std::string& out,
                            int64_t first_id) {
    if (!m_usable || (m_id && first_id > INT64_MAX - static_cast<int64_t>(nrows)))
        return false;
    if (nrows == 0)
        return true;
    const char* const base = buffer.data();
    const size_t bytes = starts[nrows] - starts[0];
    if (!clean_bytes(base + starts[0], bytes))
        return false;
    const size_t at = out.size();
    out.reserve(at + bytes + nrows * (2 + 4 * (m_kinds.size() + 3)));
    m_escaped_newlines = 0;
    bool ok = true;
    for (size_t k = 0; ok && k < nrows; ++k) {
        const char* row = base + starts[k];
        const char* end = base + starts[k + 1];
        ok = end > row && end[-1] == '\n' && encode_row(out, row, end - 1, first_id + static_cast<int64_t>(k));
    }
    // Every line feed ends a row or is escaped; one inside a field would
    // end the line for the server.
    ok = ok && count_newlines(base + starts[0], bytes) == nrows + m_escaped_newlines;
    if (!ok)
        out.resize(at);
    return ok;
}

// The fields are split here rather than by lib/io's copy_field_reader (which
// every other reader of COPY fields uses): encoding straight from the row into
// out, with one memchr per tab and per backslash, took 0.81 to 0.84 of the CPU
// time of the same text columns read by copy_field_reader and then appended
// (medians of two runs of 7 and 9 interleaved pairs, 20,000-row batches of six
// text columns, the batch checks of encode() in both, a 2-core machine),
// and the reader would still need a pass for what this refuses (\. and
// escapes to NUL or non-ASCII bytes). The escapes themselves are the shared
// copy_text_unescape.
bool text_to_binary::encode_row(std::string& out, const char* p, const char* end, int64_t id) {
    put_be16(out, static_cast<uint16_t>(m_kinds.size() + (m_id ? 1 : 0)));
    if (m_id && !put_int_field(out, *m_id, id))
        return false;
    if (m_kinds.empty())
        return p == end; // a table of no columns reads empty lines
    for (size_t k = 0; k < m_kinds.size(); ++k) {
        const binary_kind kind = m_kinds[k];
        const char* field_end;
        if (kind == binary_kind::text || kind == binary_kind::jsonb) {
            if (!encode_text(out, p, end, kind == binary_kind::jsonb, field_end))
                return false;
        } else {
            // Only the textual kinds take backslashes (beyond \N and bytea's
            // \\x), so the first tab ends the field or the field is refused.
            field_end = find(p, end, '\t');
            if (!encode_scalar(out, kind, p, field_end))
                return false;
        }
        // Each field but the last ends at a tab, the last at the row's end.
        if ((k + 1 == m_kinds.size()) != (field_end == end))
            return false;
        p = field_end + 1;
    }
    return true;
}

// A textual field starting at p, its COPY escapes undone; field_end is set
// to the tab that ends it, or end. A field without backslashes is one copy.
bool text_to_binary::encode_text(std::string& out, const char* p, const char* end, bool jsonb,
                                 const char*& field_end) {
    const char* tab = find(p, end, '\t');
    field_end = tab;
    if (is_null(p, tab)) {
        put_be32(out, 0xFFFFFFFFu);
        return true;
    }
    const char* slash = find(p, tab, '\\');
    if (slash == tab) {
        put_be32(out, static_cast<uint32_t>(tab - p) + jsonb);
        if (jsonb)
            out += '\1'; // jsonb's binary version
        out.append(p, static_cast<size_t>(tab - p));
        return true;
    }
    const size_t at = out.size();
    put_be32(out, 0);
    if (jsonb)
        out += '\1';
    while (slash != tab) {
        out.append(p, static_cast<size_t>(slash - p));
        p = slash + 1;
        if (p == end)
            return false; // a backslash escaping the line end: not a whole row
        const char c = *p++;
        const int byte = unescape(c, p, end);
        if (byte < 0)
            return false;
        m_escaped_newlines += c == '\n';
        out += static_cast<char>(byte);
        if (p > tab) // the escape took the tab found: "\<TAB>" is data
            tab = find(p, end, '\t');
        slash = find(p, tab, '\\');
    }
    out.append(p, static_cast<size_t>(tab - p));
    patch_length(out, at);
    field_end = tab;
    return true;
}

void prepend_ids(std::string_view buffer, const size_t* starts, size_t nrows, copy_format format, char delimiter,
                 const column_type& id_type, int64_t first_id, std::string& out) {
    if (nrows == 0)
        return;
    out.reserve(out.size() + starts[nrows] - starts[0] + nrows * 24);
    const auto kind = kind_of(id_type);
    for (size_t k = 0; k < nrows; ++k) {
        const std::string_view row = buffer.substr(starts[k], starts[k + 1] - starts[k]);
        const int64_t id = first_id + static_cast<int64_t>(k);
        if (format != copy_format::binary) {
            char digits[24];
            char* e = format_int(digits, id);
            *e++ = delimiter;
            out.append(digits, static_cast<size_t>(e - digits));
            out.append(row);
            continue;
        }
        const int count = row.size() < 2 ? -1 : static_cast<int16_t>(static_cast<unsigned char>(row[0]) << 8 |
                                                                      static_cast<unsigned char>(row[1]));
        if (count < 0 || count == INT16_MAX)
            throw local_error("internal: a binary row without its field count");
        put_be16(out, static_cast<uint16_t>(count + 1));
        if (!is_integer(kind) || !put_int_field(out, *kind, id))
            throw local_error("id " + std::to_string(id) + " does not fit the " + id_type.name + " column it goes to");
        out.append(row.substr(2));
    }
}

} // namespace pgpipe
