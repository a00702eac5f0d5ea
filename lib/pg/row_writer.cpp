// row_writer: each value kind's text form, and PostgreSQL's binary send format per type.
#include "pg/row_writer.hpp"

#include "core/error.hpp"
#include "io/end_line.hpp"
#include "io/row_splitter.hpp"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

namespace pgpipe {
namespace {

bool is_textual(pg_type t) {
    return t == pg_type::text || t == pg_type::varchar || t == pg_type::bpchar || t == pg_type::enumeration ||
           t == pg_type::json || t == pg_type::jsonb;
}

double as_double(const value& v) {
    switch (v.kind) {
    case value_kind::integer: return static_cast<double>(v.i);
    case value_kind::decimal: return static_cast<double>(v.i) / std::pow(10.0, v.scale);
    case value_kind::real: return v.d;
    default: return 0;
    }
}

// Pads char(n) values with spaces, as the server stores (and emits) them.
size_t bpchar_padding(const value& v, const column_type& type) {
    if (type.base != pg_type::bpchar || type.length <= 0)
        return 0;
    size_t chars = utf8_length(v.s);
    return chars < static_cast<size_t>(type.length) ? static_cast<size_t>(type.length) - chars : 0;
}

// A bytea in its hex text form; inside an array, quoted, its backslash doubled.
void render_bytes(std::string& out, std::string_view bytes, bool in_array) {
    static const char hex[] = "0123456789abcdef";
    if (in_array)
        out += '"';
    out += in_array ? "\\\\x" : "\\x";
    for (unsigned char c : bytes) {
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    if (in_array)
        out += '"';
}

// A string or JSON value; inside an array, quoted per array syntax.
void render_string(std::string& out, const value& v, const column_type& type, bool in_array) {
    if (!in_array) {
        out.append(v.s);
        out.append(bpchar_padding(v, type), ' ');
        return;
    }
    out += '"';
    for (char c : v.s) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    out.append(bpchar_padding(v, type), ' ');
    out += '"';
}

// A timestamp value in tmp as the column's type reads it: a date column
// takes its day (rounded down), timestamptz says it is UTC.
char* format_timestamp_for(char* tmp, const value& v, const column_type& type) {
    if (type.base == pg_type::date)
        return format_date(tmp, v.i >= 0 ? v.i / 86400000000LL : -((-v.i + 86399999999LL) / 86400000000LL));
    return format_timestamp(tmp, v.i, type.base == pg_type::timestamptz);
}

// The most a scalar's text form (format_scalar) takes.
constexpr size_t scalar_text_max = 64;

// The value's text form, for the kinds whose form is short (numbers, dates,
// times, intervals, UUIDs); tmp receives it and the end is returned.
char* format_scalar(char* tmp, const value& v, const column_type& type) {
    switch (v.kind) {
    case value_kind::integer: return format_int(tmp, v.i);
    case value_kind::decimal: return format_decimal(tmp, v.i, v.scale);
    case value_kind::real:
        return type.base == pg_type::float4 ? std::to_chars(tmp, tmp + scalar_text_max, static_cast<float>(v.d)).ptr
                                            : std::to_chars(tmp, tmp + scalar_text_max, v.d).ptr;
    case value_kind::boolean: *tmp = v.i ? 't' : 'f'; return tmp + 1;
    case value_kind::date: return format_date(tmp, v.i);
    case value_kind::time: return format_time(tmp, v.i);
    case value_kind::timestamp: return format_timestamp_for(tmp, v, type);
    case value_kind::interval: return format_interval(tmp, v.months, v.days, v.i);
    case value_kind::uuid: return format_uuid(tmp, v.uuid.data());
    default: return tmp;
    }
}

// A numeric's binary form: from its exact text ("-12.3400") or from an
// integer or decimal. The display scale is the column's, else the value's.
void append_numeric_field(std::string& out, const value& v, const column_type& type) {
    if (v.kind != value_kind::numeric_text) {
        int32_t value_scale = v.kind == value_kind::decimal ? v.scale : 0;
        append_numeric_binary(out, v.i, value_scale, type.scale >= 0 ? type.scale : value_scale);
        return;
    }
    std::string_view t = v.s;
    if (is_numeric_special(t))
        return append_numeric_special(out, t);
    bool negative = !t.empty() && t[0] == '-';
    if (negative)
        t.remove_prefix(1);
    auto point = t.find('.');
    std::string_view int_part = t.substr(0, point);
    std::string_view frac = point == std::string_view::npos ? std::string_view() : t.substr(point + 1);
    while (int_part.size() > 0 && int_part[0] == '0')
        int_part.remove_prefix(1);
    append_numeric_binary_digits(out, negative, int_part, frac,
                                 type.scale >= 0 ? type.scale : static_cast<int32_t>(frac.size()));
}

} // namespace

row_writer::row_writer(copy_format format, output_stream& out, char delimiter)
    : m_format(format), m_out(&out),
      m_delimiter(delimiter ? delimiter : default_delimiter(format)) {
    m_buf.reserve(flush_threshold + (64 << 10));
}

row_writer::row_writer(copy_format format, std::string& memory)
    : m_format(format), m_memory(&memory), m_delimiter(default_delimiter(format)) {}

void row_writer::put_be32(uint32_t v) {
    char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                 static_cast<char>(v)};
    m_buf.append(b, 4);
}

void row_writer::put_be64(uint64_t v) {
    put_be32(static_cast<uint32_t>(v >> 32));
    put_be32(static_cast<uint32_t>(v));
}

void row_writer::begin() {
    if (m_format != copy_format::binary)
        return;
    m_buf += binary_copy_header(); // signature, no flags, no extension
}

void row_writer::flush() {
    if (m_buf.empty())
        return;
    if (m_memory)
        m_memory->append(m_buf);
    else
        m_out->write(m_buf);
    m_buf.clear();
}

void row_writer::finish(bool end_line) {
    if (m_format == copy_format::binary)
        put_be16(-1);
    else if (end_line)
        m_buf += end_line_text;
    flush();
    if (m_out)
        m_out->close();
}

void row_writer::field(const value& v, const column_type& type) {
    if (m_format == copy_format::binary)
        binary_field(v, type);
    else
        text_field(v, type);
}

// The value's text form as the server would accept it for the column; no
// COPY escaping yet. Inside an array, strings are quoted per array syntax.
void row_writer::render_text(std::string& out, const value& v, const column_type& type, bool in_array) {
    switch (v.kind) {
    case value_kind::null: out += in_array ? "NULL" : ""; return;
    case value_kind::bytes: render_bytes(out, v.s, in_array); return;
    case value_kind::numeric_text: out.append(v.s); return;
    case value_kind::string:
    case value_kind::json: render_string(out, v, type, in_array); return;
    case value_kind::array:
        out += '{';
        for (uint32_t k = 0; k < v.count; ++k) {
            if (k)
                out += ',';
            render_text(out, v.elements[k], type, true);
        }
        out += '}';
        return;
    default: {
        char tmp[scalar_text_max];
        char* end = format_scalar(tmp, v, type);
        out.append(tmp, static_cast<size_t>(end - tmp));
    }
    }
}

void row_writer::text_field(const value& v, const column_type& type) {
    separator();
    if (v.kind == value_kind::null) {
        if (m_format == copy_format::text)
            m_buf += "\\N";
        return; // CSV: an unquoted empty field
    }
    // Strings their producer vouched for go straight in, like numbers and dates.
    if (v.plain && v.kind == value_kind::string && (m_delimiter == '\t' || m_delimiter == ',')) {
        m_buf.append(v.s);
        m_buf.append(bpchar_padding(v, type), ' ');
        return;
    }
    // Numbers, dates and the like never need escaping: write them straight in.
    bool needs_escaping = v.kind == value_kind::string || v.kind == value_kind::json ||
                          v.kind == value_kind::bytes || v.kind == value_kind::array;
    if (!needs_escaping) {
        render_text(m_buf, v, type, false);
        return;
    }
    m_scratch.clear();
    render_text(m_scratch, v, type, false);
    if (m_format == copy_format::text)
        append_copy_text_escaped(m_buf, m_scratch);
    else
        append_csv_field(m_buf, m_scratch, m_delimiter);
}

void row_writer::binary_field(const value& v, const column_type& type) {
    if (v.kind == value_kind::null) {
        put_be32(0xFFFFFFFFu);
        return;
    }
    size_t length_at = m_buf.size();
    put_be32(0);
    if (type.is_array) {
        if (v.kind != value_kind::array)
            throw local_error("internal: array column given a scalar");
        bool has_null = false;
        for (uint32_t k = 0; k < v.count; ++k)
            has_null |= v.elements[k].kind == value_kind::null;
        uint32_t elem_oid = type.base == pg_type::enumeration ? type.enum_oid : type_oid(type.base);
        put_be32(v.count ? 1 : 0); // dimensions
        put_be32(has_null ? 1 : 0);
        put_be32(elem_oid);
        if (v.count) {
            put_be32(v.count); // length of the dimension
            put_be32(1);       // lower bound
        }
        for (uint32_t k = 0; k < v.count; ++k) {
            const value& e = v.elements[k];
            if (e.kind == value_kind::null) {
                put_be32(0xFFFFFFFFu);
                continue;
            }
            size_t at = m_buf.size();
            put_be32(0);
            binary_scalar(e, type);
            uint32_t len = static_cast<uint32_t>(m_buf.size() - at - 4);
            for (int b = 0; b < 4; ++b)
                m_buf[at + static_cast<size_t>(b)] = static_cast<char>(len >> (24 - 8 * b));
        }
    } else {
        binary_scalar(v, type);
    }
    uint32_t len = static_cast<uint32_t>(m_buf.size() - length_at - 4);
    for (int b = 0; b < 4; ++b)
        m_buf[length_at + static_cast<size_t>(b)] = static_cast<char>(len >> (24 - 8 * b));
}

void row_writer::binary_scalar(const value& v, const column_type& type) {
    switch (type.base) {
    case pg_type::boolean: m_buf += static_cast<char>(v.i ? 1 : 0); return;
    case pg_type::int2: put_be16(static_cast<int>(v.i)); return;
    case pg_type::int4: put_be32(static_cast<uint32_t>(v.i)); return;
    case pg_type::int8: put_be64(static_cast<uint64_t>(v.i)); return;
    case pg_type::float4: put_be32(std::bit_cast<uint32_t>(static_cast<float>(as_double(v)))); return;
    case pg_type::float8: put_be64(std::bit_cast<uint64_t>(as_double(v))); return;
    case pg_type::numeric: append_numeric_field(m_buf, v, type); return;
    case pg_type::date:
        put_be32(static_cast<uint32_t>(v.kind == value_kind::timestamp ? v.i / 86400000000LL : v.i));
        return;
    case pg_type::time: put_be64(static_cast<uint64_t>(v.i)); return;
    case pg_type::timestamp:
    case pg_type::timestamptz:
        // A date at midnight, as the server casts it.
        put_be64(static_cast<uint64_t>(v.kind == value_kind::date ? v.i * 86400000000LL : v.i));
        return;
    case pg_type::interval:
        put_be64(static_cast<uint64_t>(v.i));
        put_be32(static_cast<uint32_t>(v.days));
        put_be32(static_cast<uint32_t>(v.months));
        return;
    case pg_type::uuid: m_buf.append(reinterpret_cast<const char*>(v.uuid.data()), 16); return;
    case pg_type::jsonb: m_buf += '\1'; m_buf.append(v.s); return; // jsonb's version byte
    case pg_type::bytea:
    case pg_type::json:
    case pg_type::text:
    case pg_type::varchar:
    case pg_type::enumeration: break;
    case pg_type::bpchar: m_buf.append(v.s); m_buf.append(bpchar_padding(v, type), ' '); return;
    }
    if (v.kind == value_kind::string || v.kind == value_kind::json || v.kind == value_kind::bytes) {
        m_buf.append(v.s);
        return;
    }
    // A non-string value in a textual column: its text form.
    if (is_textual(type.base)) {
        render_text(m_buf, v, type, false);
        return;
    }
    throw local_error("internal: cannot encode value for type " + type.name);
}

} // namespace pgpipe
