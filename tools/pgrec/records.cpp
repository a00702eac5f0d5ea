// pgrec: JSON lines (ORM objects) to COPY rows and script streams, with exact conversions.
#include "records.hpp"

#include "core/error.hpp"
#include "pg/identifier.hpp"
#include "io/input.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "io/output.hpp"
#include "pg/pg_types.hpp"
#include "core/progress.hpp"
#include "pg/row_writer.hpp"
#include "pg/schema.hpp"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <unistd.h>
#include <unordered_map>

namespace od = simdjson::ondemand;

namespace pgpipe {
namespace {

// A value that does not fit its column: the message, without the place.
struct value_error {
    std::string message;
};

struct out_column {
    std::string name;
    column_type type;
    std::vector<std::string> enum_labels;
    bool has_default = false; // a DEFAULT or an identity: what a missing key gets
};

// Storage for one cell's converted bytes, reused record after record.
struct cell {
    std::string text;
    std::vector<value> elements;
    std::vector<std::string> element_text;
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::string quoted(std::string_view s) {
    std::string out = "\"";
    out.append(s.substr(0, 60));
    if (s.size() > 60)
        out += "…";
    return out + "\"";
}

// ---------------------------------------------------------------- text parsers

// ISO 8601 durations ("P1Y2M3DT4H5M6.5S", "P2W") and the server's own style
// ("1 year 2 mons 3 days 04:05:06.5", "-00:00:01").
bool parse_interval(std::string_view t, int32_t& months, int32_t& days, int64_t& us) {
    months = days = 0;
    us = 0;
    if (t.empty())
        return false;
    if (t[0] == 'P' || (t.size() > 1 && t[0] == '-' && t[1] == 'P')) {
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
            char unit = t[pos++];
            any = true;
            if (!time && unit == 'Y')
                months += static_cast<int32_t>(v * 12);
            else if (!time && unit == 'M')
                months += static_cast<int32_t>(v);
            else if (!time && unit == 'W')
                days += static_cast<int32_t>(v * 7);
            else if (!time && unit == 'D')
                days += static_cast<int32_t>(v);
            else if (time && unit == 'H')
                us += static_cast<int64_t>(std::llround(v * 3600e6));
            else if (time && unit == 'M')
                us += static_cast<int64_t>(std::llround(v * 60e6));
            else if (time && unit == 'S')
                us += static_cast<int64_t>(std::llround(v * 1e6));
            else
                return false;
        }
        months *= sign;
        days *= sign;
        us *= sign;
        return any;
    }
    // Postgres style: number unit pairs, then an optional [-]HH:MM:SS.
    size_t pos = 0;
    bool any = false;
    while (pos < t.size()) {
        while (pos < t.size() && t[pos] == ' ')
            ++pos;
        if (pos >= t.size())
            break;
        size_t start = pos;
        bool negative = t[pos] == '-' || t[pos] == '+';
        if (negative)
            ++pos;
        size_t digits_start = pos;
        while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9')
            ++pos;
        if (pos < t.size() && t[pos] == ':') {
            size_t clock_pos = digits_start;
            // Hours may have more than two digits here.
            size_t colon = t.find(':', digits_start);
            int64_t hours = 0;
            for (size_t i = digits_start; i < colon; ++i)
                hours = hours * 10 + (t[i] - '0');
            std::string rest = "00" + std::string(t.substr(colon));
            size_t rp = 0;
            int64_t clock;
            if (!parse_time_of_day(rest, rp, clock) || rp != rest.size())
                return false;
            (void)clock_pos;
            int64_t v = hours * 3600000000LL + clock;
            us += t[start] == '-' ? -v : v;
            pos = t.size();
            any = true;
            break;
        }
        if (pos == digits_start)
            return false;
        int64_t n = std::stoll(std::string(t.substr(start, pos - start)));
        while (pos < t.size() && t[pos] == ' ')
            ++pos;
        size_t unit_start = pos;
        while (pos < t.size() && t[pos] != ' ')
            ++pos;
        std::string_view unit = t.substr(unit_start, pos - unit_start);
        if (unit.rfind("year", 0) == 0)
            months += static_cast<int32_t>(n * 12);
        else if (unit.rfind("mon", 0) == 0)
            months += static_cast<int32_t>(n);
        else if (unit.rfind("day", 0) == 0)
            days += static_cast<int32_t>(n);
        else if (unit.rfind("hour", 0) == 0)
            us += n * 3600000000LL;
        else if (unit.rfind("min", 0) == 0)
            us += n * 60000000LL;
        else if (unit.rfind("sec", 0) == 0)
            us += n * 1000000LL;
        else
            return false;
        any = true;
    }
    return any;
}

bool parse_uuid(std::string_view t, uint8_t* out) {
    if (t.size() == 38 && t.front() == '{' && t.back() == '}')
        t = t.substr(1, 36);
    int n = 0;
    int high = -1;
    for (size_t i = 0; i < t.size(); ++i) {
        char c = t[i];
        if (c == '-' && (i == 8 || i == 13 || i == 18 || i == 23) && t.size() == 36)
            continue;
        int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
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

bool decode_bytea(std::string_view t, std::string& out) {
    out.clear();
    if (t.size() >= 2 && t[0] == '\\' && t[1] == 'x') {
        auto hex = [](char c) {
            return (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        };
        if ((t.size() - 2) % 2)
            return false;
        for (size_t i = 2; i < t.size(); i += 2) {
            int a = hex(t[i]), b = hex(t[i + 1]);
            if (a < 0 || b < 0)
                return false;
            out += static_cast<char>(a * 16 + b);
        }
        return true;
    }
    // Base64 (standard alphabet, padding optional).
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

// ---------------------------------------------------------------- converter

class converter {
public:
    void convert(od::value jv, const out_column& col, const column_type& type, value& out, cell& store,
                 bool in_array);

private:
    std::string_view scalar_text(od::value& jv, od::json_type kind);
};

std::string_view converter::scalar_text(od::value& jv, od::json_type kind) {
    if (kind == od::json_type::string) {
        std::string_view s;
        if (jv.get_string().get(s))
            throw value_error{"invalid string"};
        return s;
    }
    return trim(jv.raw_json_token());
}

void converter::convert(od::value jv, const out_column& col, const column_type& type, value& out, cell& store,
                        bool in_array) {
    od::json_type kind;
    if (jv.type().get(kind))
        throw value_error{"invalid JSON value"};
    out = value{};
    if (kind == od::json_type::null) {
        // The type is read from the first byte: "nope" must not pass for null.
        bool is_null = false;
        if (jv.is_null().get(is_null) || !is_null)
            throw value_error{"invalid JSON value " + quoted(trim(jv.raw_json_token()))};
        out.kind = value_kind::null;
        return;
    }
    if (kind == od::json_type::boolean) {
        bool b;
        if (jv.get_bool().get(b))
            throw value_error{"invalid JSON value " + quoted(trim(jv.raw_json_token()))};
    }
    const pg_type t = type.base;
    if ((t == pg_type::json || t == pg_type::jsonb) && !(type.is_array && !in_array)) {
        std::string_view raw;
        if (kind == od::json_type::object) {
            od::object o;
            if (jv.get_object().get(o) || o.raw_json().get(raw))
                throw value_error{"invalid JSON object"};
        } else if (kind == od::json_type::array) {
            od::array a;
            if (jv.get_array().get(a) || a.raw_json().get(raw))
                throw value_error{"invalid JSON array"};
        } else {
            raw = jv.raw_json_token();
        }
        store.text.assign(trim(raw));
        out.kind = value_kind::json;
        out.s = store.text;
        return;
    }
    if (type.is_array && !in_array) {
        if (kind != od::json_type::array)
            throw value_error{"expected a JSON array for an array column"};
        od::array a;
        if (jv.get_array().get(a))
            throw value_error{"invalid JSON array"};
        size_t n = 0;
        for (auto element : a) {
            od::value ev;
            if (element.get(ev))
                throw value_error{"invalid JSON array"};
            if (store.elements.size() <= n) {
                store.elements.resize(n + 1);
                store.element_text.resize(n + 1);
            }
            cell element_store;
            element_store.text.swap(store.element_text[n]);
            od::json_type ek;
            if (ev.type().get(ek))
                throw value_error{"invalid JSON array"};
            if (ek == od::json_type::array && type.base != pg_type::json && type.base != pg_type::jsonb)
                throw value_error{"nested arrays (multidimensional) are not supported"};
            convert(ev, col, type, store.elements[n], element_store, true);
            store.element_text[n].swap(element_store.text);
            ++n;
        }
        // Views into the elements' own text are pointed at their final place
        // only now: growing element_text moves its strings, and a short
        // string's bytes live inside the string object itself.
        for (size_t k = 0; k < n; ++k) {
            value_kind ek2 = store.elements[k].kind;
            if (ek2 == value_kind::bytes || ek2 == value_kind::numeric_text || ek2 == value_kind::json)
                store.elements[k].s = store.element_text[k];
        }
        out.kind = value_kind::array;
        out.elements = store.elements.data();
        out.count = static_cast<uint32_t>(n);
        return;
    }
    if (kind == od::json_type::object || kind == od::json_type::array)
        throw value_error{std::string("a JSON ") + (kind == od::json_type::object ? "object" : "array") +
                          " does not fit a scalar column"};

    std::string_view text = scalar_text(jv, kind);
    switch (t) {
    case pg_type::boolean:
        if (kind == od::json_type::boolean || text == "true" || text == "false" || text == "t" || text == "f") {
            out.kind = value_kind::boolean;
            out.i = text[0] == 't';
            return;
        }
        throw value_error{quoted(text) + " is not a boolean"};
    case pg_type::int2:
    case pg_type::int4:
    case pg_type::int8: {
        auto d = parse_plain_decimal(text);
        if (!d || d->frac_digits.find_first_not_of('0') != std::string::npos || d->int_digits.size() > 19)
            throw value_error{quoted(text) + " is not a valid integer"};
        __int128 v = 0;
        for (char c : d->int_digits)
            v = v * 10 + (c - '0');
        if (d->negative)
            v = -v;
        int64_t lo = t == pg_type::int2 ? INT16_MIN : t == pg_type::int4 ? INT32_MIN : INT64_MIN;
        int64_t hi = t == pg_type::int2 ? INT16_MAX : t == pg_type::int4 ? INT32_MAX : INT64_MAX;
        if (v < lo || v > hi)
            throw value_error{std::string(text) + " is out of range (" + std::to_string(lo) + " to " + std::to_string(hi) + ")"};
        out.kind = value_kind::integer;
        out.i = static_cast<int64_t>(v);
        return;
    }
    case pg_type::numeric: {
        auto d = parse_plain_decimal(text, type.scale);
        if (!d)
            throw value_error{quoted(text) + " is not a valid number"};
        if (type.precision > 0 && static_cast<int32_t>(d->int_digits.size()) > type.precision - type.scale)
            throw value_error{std::string(text) + " needs more than " + std::to_string(type.precision - type.scale) +
                              " digits before the point"};
        store.text = d->text();
        out.kind = value_kind::numeric_text;
        out.s = store.text;
        return;
    }
    case pg_type::float4:
    case pg_type::float8: {
        // Parsed from the text itself, as float4in/float8in do: a float4
        // rounded once, not through a double.
        std::string_view s = text;
        double v;
        if (s == "NaN") {
            v = std::numeric_limits<double>::quiet_NaN();
        } else if (s == "Infinity" || s == "-Infinity") {
            v = s[0] == '-' ? -HUGE_VAL : HUGE_VAL;
        } else if (t == pg_type::float4) {
            float f;
            auto r = std::from_chars(s.data(), s.data() + s.size(), f);
            if (r.ec != std::errc() || r.ptr != s.data() + s.size())
                throw value_error{quoted(text) + " is not a valid number" +
                                  (r.ec == std::errc::result_out_of_range ? " (out of range for real)" : "")};
            v = f;
        } else {
            auto r = std::from_chars(s.data(), s.data() + s.size(), v);
            if (r.ec != std::errc() || r.ptr != s.data() + s.size())
                throw value_error{quoted(text) + " is not a valid number" +
                                  (r.ec == std::errc::result_out_of_range ? " (out of range for double precision)" : "")};
        }
        out.kind = value_kind::real;
        out.d = v;
        return;
    }
    case pg_type::text:
    case pg_type::varchar:
    case pg_type::bpchar:
    case pg_type::enumeration: {
        if (text.find('\0') != std::string_view::npos)
            throw value_error{"text cannot contain a NUL character (\\u0000)"};
        if ((t == pg_type::varchar || t == pg_type::bpchar) && type.length > 0) {
            size_t n = utf8_length(text);
            if (n > static_cast<size_t>(type.length)) {
                // char(n) accepts longer values whose extra characters are spaces.
                std::string_view rest = text;
                bool spaces_only = t == pg_type::bpchar && trim(rest).size() <= static_cast<size_t>(type.length);
                if (!spaces_only)
                    throw value_error{"value too long (" + std::to_string(n) + " characters, at most " +
                                      std::to_string(type.length) + ")"};
                text = trim(text);
            }
        }
        if (t == pg_type::enumeration && !col.enum_labels.empty() &&
            std::find(col.enum_labels.begin(), col.enum_labels.end(), text) == col.enum_labels.end())
            throw value_error{quoted(text) + " is not a label of the enum"};
        out.kind = value_kind::string;
        out.s = text;
        return;
    }
    case pg_type::bytea:
        if (kind != od::json_type::string || !decode_bytea(text, store.text))
            throw value_error{quoted(text) + " is neither \\x hex nor base64"};
        out.kind = value_kind::bytes;
        out.s = store.text;
        return;
    case pg_type::date: {
        size_t pos = 0;
        int64_t days;
        if (!parse_date_prefix(text, pos, days) || pos != text.size())
            throw value_error{quoted(text) + " is not a date (YYYY-MM-DD)"};
        out.kind = value_kind::date;
        out.i = days;
        return;
    }
    case pg_type::time: {
        size_t pos = 0;
        int64_t us;
        if (!parse_time_of_day(text, pos, us) || pos != text.size())
            throw value_error{quoted(text) + " is not a time of day (HH:MM:SS[.ffffff])"};
        out.kind = value_kind::time;
        out.i = us;
        return;
    }
    case pg_type::timestamp:
    case pg_type::timestamptz: {
        int64_t us;
        std::optional<int64_t> offset;
        if (!parse_iso_timestamp(text, us, offset))
            throw value_error{quoted(text) + " is not an ISO 8601 timestamp"};
        // timestamptz: to UTC (no offset means UTC); timestamp: the server
        // ignores an offset, and so do we.
        if (t == pg_type::timestamptz && offset)
            us -= *offset * 1000000;
        out.kind = value_kind::timestamp;
        out.i = us;
        return;
    }
    case pg_type::interval: {
        if (!parse_interval(text, out.months, out.days, out.i))
            throw value_error{quoted(text) + " is not an interval (ISO 8601 like P1DT2H, or 1 day 02:00:00)"};
        out.kind = value_kind::interval;
        return;
    }
    case pg_type::uuid:
        if (!parse_uuid(text, out.uuid.data()))
            throw value_error{quoted(text) + " is not a UUID"};
        out.kind = value_kind::uuid;
        return;
    case pg_type::json:
    case pg_type::jsonb: break;
    }
    throw value_error{"cannot convert to this type"};
}

// ---------------------------------------------------------------- the load

std::vector<std::string> split_outside_parens(const std::string& text) {
    std::vector<std::string> parts;
    std::string current;
    int depth = 0;
    bool quoted_name = false;
    for (char c : text) {
        if (c == '"')
            quoted_name = !quoted_name;
        if (!quoted_name) {
            if (c == '(')
                ++depth;
            if (c == ')')
                --depth;
            if (c == ',' && depth == 0) {
                parts.push_back(current);
                current.clear();
                continue;
            }
        }
        current += c;
    }
    if (!current.empty())
        parts.push_back(current);
    return parts;
}

// The 1-based column of the first byte after the top-level object that
// starts the line (strings and escapes respected), past white space; 0
// when the object never closes or nothing follows it.
size_t after_object_column(std::string_view line) {
    int depth = 0;
    bool in_string = false, escaped = false;
    for (size_t k = 0; k < line.size(); ++k) {
        char c = line[k];
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            ++depth;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            size_t next = line.find_first_not_of(" \t\r", k + 1);
            return next == std::string_view::npos ? 0 : next + 1;
        }
    }
    return 0;
}

// Where the JSON went wrong, as a 1-based byte column in the line.
size_t error_column(od::document& doc, const char* line_start, size_t line_size) {
    const char* at = nullptr;
    if (doc.current_location().get(at) || !at)
        return line_size + 1;
    return static_cast<size_t>(at - line_start) + 1;
}

// Calls handle(line, number) for every line of in that is not blank (a
// CR before the newline dropped), and after_chunk() after each chunk read.
template <typename Handle, typename AfterChunk>
void for_each_line(input_stream& in, Handle&& handle, AfterChunk&& after_chunk) {
    std::string chunk(1 << 20, '\0'), carry;
    uint64_t number = 0;
    auto one = [&](std::string_view line) {
        ++number;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.find_first_not_of(" \t") != std::string_view::npos)
            handle(line, number);
    };
    while (size_t n = in.read(chunk.data(), chunk.size())) {
        throw_if_interrupted();
        std::string_view data(chunk.data(), n);
        size_t from = 0;
        for (size_t nl; (nl = data.find('\n', from)) != std::string_view::npos; from = nl + 1) {
            if (!carry.empty()) {
                carry.append(data.substr(from, nl - from));
                one(carry);
                carry.clear();
            } else {
                one(data.substr(from, nl - from));
            }
        }
        carry.append(data.substr(from));
        after_chunk();
    }
    if (!carry.empty())
        one(carry);
}

// The reject file of pgrec: raw lines in FILE, "input, line, reason" in FILE.log.
class line_rejects {
public:
    explicit line_rejects(const std::string& path) : m_path(path) {
        if (path.empty())
            return;
        m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        m_log_fd = ::open((path + ".log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (m_fd < 0 || m_log_fd < 0)
            throw local_error("could not open the reject file \"" + path + "\": " + std::strerror(errno));
    }
    ~line_rejects() {
        if (m_fd >= 0)
            ::close(m_fd);
        if (m_log_fd >= 0)
            ::close(m_log_fd);
    }
    line_rejects(const line_rejects&) = delete;
    line_rejects& operator=(const line_rejects&) = delete;
    /// Whether there is a reject file to set lines aside in.
    bool open() const noexcept { return m_fd >= 0; }
    /// Sets a line aside with its reason.
    void add(std::string_view line, const std::string& input, uint64_t number, const std::string& why) {
        std::string raw = std::string(line) + "\n";
        std::string log = input + "\t" + std::to_string(number) + "\t" + why + "\n";
        if (::write(m_fd, raw.data(), raw.size()) != static_cast<ssize_t>(raw.size()) ||
            ::write(m_log_fd, log.data(), log.size()) != static_cast<ssize_t>(log.size()))
            throw local_error("could not write the reject file \"" + m_path + "\": " + std::strerror(errno));
    }

private:
    std::string m_path;
    int m_fd = -1, m_log_fd = -1;
};

// The columns pgrec fills in a live table: every column but generated ones,
// and but serial or identity ones unless with_ids or named in keep.
std::vector<out_column> live_columns(connection& conn, const std::string& table, bool with_ids,
                                     const std::vector<std::string>& keep, std::vector<std::string>& server_filled) {
    table_schema schema = read_table_schema(conn, table);
    std::vector<out_column> out;
    for (const auto& c : schema.columns) {
        bool kept = std::find(keep.begin(), keep.end(), c.name) != keep.end();
        if (c.generated_always || (c.server_filled && !with_ids && !kept)) {
            server_filled.push_back(c.name);
            continue;
        }
        if (!c.type)
            throw local_error("column " + c.name + " of " + table + " has type " + c.type_name +
                                  ", which pgrec does not convert",
                              {}, "give the types offline with --columns, e.g. " + c.name + ":text");
        out.push_back({c.name, *c.type, c.enum_labels});
    }
    // Identity columns count as defaulted: their next value is what an
    // absent key gets when --with-ids writes them.
    result_ptr r = conn.query("SELECT attname FROM pg_attribute WHERE attrelid = " +
                              conn.quote_literal(schema.quoted_name) +
                              "::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''"
                              " AND (atthasdef OR attidentity <> '')");
    for (int k = 0; k < PQntuples(r.get()); ++k)
        for (auto& c : out)
            if (c.name == PQgetvalue(r.get(), k, 0))
                c.has_default = true;
    return out;
}

// ---------------------------------------------------------------- script streams

// The keywords that cannot name a table or a column unquoted: PostgreSQL's
// reserved and type-or-function-name keywords (pg_get_keywords(), catcode
// R and T), in byte order for binary search.
constexpr std::array<std::string_view, 100> reserved_words{
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "binary",
    "both", "case", "cast", "check", "collate", "collation", "column", "concurrently", "constraint", "create",
    "cross", "current_catalog", "current_date", "current_role", "current_schema", "current_time",
    "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
    "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group", "having", "ilike",
    "in", "initially", "inner", "intersect", "into", "is", "isnull", "join", "lateral", "leading", "left",
    "like", "limit", "localtime", "localtimestamp", "natural", "not", "notnull", "null", "offset", "on", "only",
    "or", "order", "outer", "overlaps", "placing", "primary", "references", "returning", "right", "select",
    "session_user", "similar", "some", "symmetric", "table", "tablesample", "then", "to", "trailing", "true",
    "union", "unique", "user", "using", "variadic", "verbose", "when", "where", "window", "with"};

// A name as a script's COPY line writes it: bare when SQL reads it back
// unchanged, else in double quotes, so that psql runs the script too.
std::string script_name(std::string_view name) {
    std::string out = quote_identifier_if_needed(name);
    if (out.size() == name.size() && std::binary_search(reserved_words.begin(), reserved_words.end(), name))
        out = "\"" + out + "\"";
    return out;
}

// TABLE as the user wrote it (maybe schema-qualified), for a COPY line.
std::string script_table_name(const std::string& table) {
    std::string out;
    for (const auto& part : parse_qualified_name(table))
        out += (out.empty() ? "" : ".") + script_name(part);
    return out;
}

// The rows of one table that name the same columns: a COPY block each time
// they are written out.
struct shape {
    std::vector<size_t> columns; // the columns its block names, in table order
    std::string header;          // "COPY t (a, b) FROM stdin;\n"
    std::string rows;            // COPY text rows not yet written, in input order
    uint64_t count = 0;          // how many rows that is
    size_t held = 0;             // rows.capacity() as last accounted for
};

// A row added to a shape, so that it can be taken back.
struct added_row {
    shape* into;
    size_t before; // into->rows.size() before the row
};

// A table's rows grouped by shape: which columns with a DEFAULT the record
// had keys for. The other columns are always named, as NULL when their key
// is missing: their default is NULL anyway, and fewer shapes mean fewer
// blocks.
class shaped_rows {
public:
    shaped_rows(std::string table_sql, std::vector<out_column> columns, std::vector<char> defaulted)
        : m_table_sql(std::move(table_sql)), m_columns(std::move(columns)), m_defaulted(std::move(defaulted)) {}
    shaped_rows(const shaped_rows&) = delete;
    shaped_rows& operator=(const shaped_rows&) = delete;
    /// Adds the row of values to its shape; seen[k] says whether the record
    /// had column k's key. Throws value_error when no column is left to name.
    added_row add(const std::vector<value>& values, const std::vector<char>& seen);
    /// Takes a row back (the rows after it first).
    static void take_back(const added_row& row) {
        row.into->rows.resize(row.before);
        --row.into->count;
    }
    /// Every shape so far, in the order they first appeared.
    const std::vector<std::unique_ptr<shape>>& shapes() const noexcept { return m_shapes; }

private:
    shape& find(const std::vector<char>& seen);

    std::string m_table_sql;
    std::vector<out_column> m_columns;
    std::vector<char> m_defaulted;
    std::string m_key; // the record's shape: a byte per defaulted column
    std::string m_row; // the row being written, before it joins its shape
    row_writer m_writer{copy_format::text, m_row};
    std::unordered_map<std::string, size_t> m_index;
    std::vector<std::unique_ptr<shape>> m_shapes; // pointers stay put as shapes are added
};

shape& shaped_rows::find(const std::vector<char>& seen) {
    m_key.clear();
    for (size_t k = 0; k < m_columns.size(); ++k)
        if (m_defaulted[k])
            m_key += seen[k] ? '1' : '0';
    if (auto it = m_index.find(m_key); it != m_index.end())
        return *m_shapes[it->second];
    auto s = std::make_unique<shape>();
    std::string names;
    for (size_t k = 0; k < m_columns.size(); ++k)
        if (!m_defaulted[k] || seen[k]) {
            s->columns.push_back(k);
            names += (names.empty() ? "" : ", ") + script_name(m_columns[k].name);
        }
    // COPY names at least one column; a row of defaults alone needs INSERT.
    if (s->columns.empty())
        throw value_error{"the record has no key for any column, and a COPY row cannot consist of defaults alone"};
    s->header = "COPY " + m_table_sql + " (" + names + ") FROM stdin;\n";
    m_index.emplace(m_key, m_shapes.size());
    m_shapes.push_back(std::move(s));
    return *m_shapes.back();
}

added_row shaped_rows::add(const std::vector<value>& values, const std::vector<char>& seen) {
    shape& s = find(seen);
    m_writer.begin_row(static_cast<int16_t>(s.columns.size()));
    for (size_t k : s.columns)
        m_writer.field(values[k], m_columns[k].type);
    m_writer.end_row();
    m_writer.flush();
    added_row row{&s, s.rows.size()};
    s.rows.append(m_row);
    m_row.clear();
    ++s.count;
    return row;
}

// Writes the blocks of a script stream. Until finish(), the stream stops
// inside a block: a block's "\." goes out in one write with the next
// block's header and rows, so that a producer that dies leaves an unended
// block (which pgcopy refuses) rather than a shorter whole script; only a
// pipe that took exactly the bytes up to that "\." could show one.
class script_output {
public:
    explicit script_output(output_stream& out) : m_out(out) {}
    /// Writes rows as a block under header, or as more of the open block
    /// when that has the same header (one COPY for a run of one shape).
    void block(const std::string& header, std::string_view rows) {
        if (rows.empty())
            return;
        if (header == m_open) {
            m_out.write(rows);
            return;
        }
        m_buf.assign(m_open.empty() ? "" : "\\.\n");
        m_buf += header;
        m_buf += rows;
        m_out.write(m_buf);
        m_open = header;
    }
    /// Ends the open block: from here on the stream is a whole script.
    void finish() {
        if (!m_open.empty())
            m_out.write("\\.\n");
        m_open.clear();
    }
    /// The header of the block not yet ended, or "".
    const std::string& open_header() const noexcept { return m_open; }

private:
    output_stream& m_out;
    std::string m_open; // the header of the block not yet ended
    std::string m_buf;  // "\." + header + rows, for one write
};

class record_loader {
public:
    explicit record_loader(const record_options& o) : m_o(o) {}
    load_summary run();

private:
    // A shape's block is written when it holds this much; all shapes
    // together hold at most held_limit bytes (the largest is written and
    // its buffer freed past that), whatever the number of shapes.
    static constexpr size_t block_bytes = 1 << 20;
    static constexpr size_t held_limit = 16 << 20;

    void setup_columns();
    void setup_map();
    void setup_output(output_stream& out);
    void list_columns();
    void convert_line(std::string_view line, const std::string& input, uint64_t number);
    bool open_object(std::string_view line, const std::string& input, uint64_t number, od::document& doc,
                     od::object& object);
    void read_fields(od::document& doc, od::object& object, std::string_view line);
    bool fill_missing(std::string_view line, const std::string& input, uint64_t number);
    void write_row(std::string_view line, const std::string& input, uint64_t number);
    void write_shape(shape& s, bool release);
    void finish_output(output_stream& out);
    void summarize(std::chrono::steady_clock::time_point started);
    void reject(std::string_view line, const std::string& input, uint64_t number, const std::string& why,
                const std::string& hint = {});

    const record_options& m_o;
    std::vector<out_column> m_columns;
    std::vector<std::string> m_keys;                      // the key of each column (--map renames)
    std::unordered_map<std::string, int> m_key_to_column; // -1: a server-filled column
    std::vector<std::string> m_server_filled;
    std::vector<char> m_defaulted; // a missing key leaves the column to its DEFAULT
    std::vector<value> m_values;
    std::vector<cell> m_cells;
    std::vector<char> m_seen;
    std::string m_current_key; // the key being converted, for messages
    converter m_converter;
    od::parser m_parser;
    std::string m_padded;
    bool m_script = false;                     // text: a script stream, a COPY block per shape
    std::unique_ptr<row_writer> m_writer;      // csv and binary: one plain stream
    std::unique_ptr<shaped_rows> m_shapes;     // text: the rows waiting in their shapes
    std::unique_ptr<script_output> m_script_out;
    size_t m_held = 0;                         // bytes the shapes' buffers hold
    uint64_t m_rows = 0;
    std::unique_ptr<line_rejects> m_rejects;
    load_summary m_summary;
};

void record_loader::setup_columns() {
    const bool live = !m_o.columns;
    if (!live) {
        for (const auto& part : split_outside_parens(*m_o.columns)) {
            auto colon = part.find(':');
            if (colon == std::string::npos)
                throw local_error("--columns wants name:type pairs, not \"" + part + "\"");
            auto names = parse_name_list(part.substr(0, colon));
            if (names.size() != 1)
                throw local_error("--columns: \"" + part.substr(0, colon) + "\" is not one column name");
            m_columns.push_back({names[0], parse_type_name(part.substr(colon + 1)), {}});
        }
    } else {
        connection conn = connection::open(m_o.connection);
        m_columns = live_columns(conn, m_o.table, m_o.with_ids, {}, m_server_filled);
    }
    if (m_columns.empty())
        throw local_error("no columns to fill in " + m_o.table);
    m_script = m_o.format == copy_format::text;
    for (size_t k = 0; k < m_columns.size(); ++k) {
        m_key_to_column[m_columns[k].name] = static_cast<int>(k);
        m_keys.push_back(m_columns[k].name);
        // Offline the defaults are unknown: a script leaves every missing
        // column to the server, whose default for a column without one is
        // NULL; CSV and binary, which must write a value, write NULL.
        bool defaulted = live ? m_columns[k].has_default : m_script;
        m_defaulted.push_back(m_o.missing == missing_key::default_value && defaulted);
    }
    for (const auto& name : m_server_filled)
        m_key_to_column[name] = -1;
    setup_map();
    m_values.resize(m_columns.size());
    m_cells.resize(m_columns.size());
    m_seen.resize(m_columns.size());
}

void record_loader::setup_map() {
    if (!m_o.map)
        return;
    for (const auto& pair : split_outside_parens(*m_o.map)) {
        auto eq = pair.find('=');
        if (eq == std::string::npos)
            throw local_error("--map wants key=column pairs, not \"" + pair + "\"");
        std::string key = pair.substr(0, eq);
        auto names = parse_name_list(pair.substr(eq + 1));
        auto it = m_key_to_column.find(names.at(0));
        if (it == m_key_to_column.end())
            throw local_error("--map " + pair + ": no column " + names[0] + " in " + m_o.table);
        int index = it->second;
        m_key_to_column.erase(it); // the column's own name is no longer a key
        m_key_to_column[key] = index;
        if (index >= 0)
            m_keys[static_cast<size_t>(index)] = key;
    }
}

void record_loader::reject(std::string_view line, const std::string& input, uint64_t number, const std::string& why,
                           const std::string& hint) {
    if (!m_rejects->open())
        throw local_error(input + ":" + std::to_string(number) + ": " + why, {},
                          hint.empty() ? "nothing of this line was written; --reject-file sets bad lines aside and goes on"
                                       : hint);
    m_rejects->add(line, input, number, why);
    ++m_summary.rejected;
}

// Parses the line and opens its object; false when the line is bad (and
// reported).
bool record_loader::open_object(std::string_view line, const std::string& input, uint64_t number, od::document& doc,
                                od::object& object) {
    // simdjson reads a little past the end: give it a padded copy.
    m_padded.assign(line);
    m_padded.append(simdjson::SIMDJSON_PADDING, '\0');
    if (auto err = m_parser.iterate(m_padded.data(), line.size(), m_padded.size()).get(doc)) {
        if (err == simdjson::UNCLOSED_STRING)
            reject(line, input, number, "invalid JSON: the line ends at byte " + std::to_string(line.size()) +
                                            " inside a string (a closing \" is missing)");
        else
            reject(line, input, number, std::string("invalid JSON: ") + simdjson::error_message(err));
        return false;
    }
    auto err = doc.get_object().get(object);
    if (!err)
        return true;
    od::json_type kind;
    bool is_json = !doc.type().get(kind);
    if (size_t after = after_object_column(line); after > 0)
        reject(line, input, number, "more after the object, at byte column " + std::to_string(after));
    else if (is_json && err == simdjson::INCORRECT_TYPE)
        reject(line, input, number, "not a JSON object (each line must be one object)");
    else if (err == simdjson::INCOMPLETE_ARRAY_OR_OBJECT)
        // simdjson places such an error at the start of the line; the
        // fault is at its end.
        reject(line, input, number, "invalid JSON: the line ends at byte " + std::to_string(line.size()) +
                                        " inside an object or array (a closing } or ] is missing)");
    else
        reject(line, input, number,
               "invalid JSON at byte column " + std::to_string(error_column(doc, m_padded.data(), line.size())) +
                   ": " + simdjson::error_message(err));
    return false;
}

// Converts the object's keys into m_values, marking m_seen. Throws
// value_error (m_current_key names the key, if any) or simdjson_error.
void record_loader::read_fields(od::document& doc, od::object& object, std::string_view line) {
    m_current_key.clear();
    for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key))
            throw simdjson::simdjson_error(simdjson::TAPE_ERROR);
        m_current_key.assign(key);
        auto it = m_key_to_column.find(m_current_key);
        if (it == m_key_to_column.end() || it->second < 0) {
            if (m_o.ignore_unknown)
                continue;
            if (it != m_key_to_column.end())
                throw value_error{"fills column " + m_current_key +
                                  ", which the server fills (serial, identity or generated); pass --with-ids to load it"};
            throw value_error{"no column of " + m_o.table + " takes this key (--map renames, --ignore-unknown drops)"};
        }
        auto c = static_cast<size_t>(it->second);
        if (m_seen[c])
            throw value_error{"the key appears twice"};
        m_seen[c] = 1;
        od::value v;
        if (field.value().get(v))
            throw simdjson::simdjson_error(simdjson::TAPE_ERROR);
        m_converter.convert(v, m_columns[c], m_columns[c].type, m_values[c], m_cells[c], false);
    }
    m_current_key.clear();
    // Anything but white space after the object is not one JSON value.
    const char* at = nullptr;
    if (!doc.current_location().get(at) && at) {
        const char* end = m_padded.data() + line.size();
        std::string_view rest(at, at < end ? static_cast<size_t>(end - at) : 0);
        size_t extra = rest.find_first_not_of(" \t\r");
        if (extra != std::string_view::npos)
            throw value_error{"more after the object, at byte column " +
                              std::to_string(static_cast<size_t>(at - m_padded.data()) + extra + 1)};
    }
}

// Fills the columns whose keys the record lacks: NULL, or in a script a
// defaulted column is left out of the row's shape. False when the line is
// bad for it (and reported).
bool record_loader::fill_missing(std::string_view line, const std::string& input, uint64_t number) {
    for (size_t k = 0; k < m_columns.size(); ++k) {
        if (m_seen[k])
            continue;
        const std::string& key = m_keys[k];
        if (m_o.missing == missing_key::error) {
            reject(line, input, number, "key \"" + key + "\" is missing (--missing error)");
            return false;
        }
        if (m_defaulted[k] && !m_script) {
            reject(line, input, number,
                   "key \"" + key + "\" is missing, and -F " + copy_format_name(m_o.format) +
                       " cannot leave column " + m_columns[k].name + " to its DEFAULT",
                   "the default text output (a script stream for pgcopy) leaves missing keys to their "
                   "DEFAULT; --missing null writes NULL");
            return false;
        }
        m_values[k] = value{}; // NULL
    }
    return true;
}

void record_loader::convert_line(std::string_view line, const std::string& input, uint64_t number) {
    od::document doc;
    od::object object;
    if (!open_object(line, input, number, doc, object))
        return;
    std::fill(m_seen.begin(), m_seen.end(), 0);
    try {
        read_fields(doc, object, line);
    } catch (const value_error& e) {
        const out_column* col = nullptr;
        auto it = m_key_to_column.find(m_current_key);
        if (!m_current_key.empty() && it != m_key_to_column.end() && it->second >= 0)
            col = &m_columns[static_cast<size_t>(it->second)];
        reject(line, input, number,
               (m_current_key.empty() ? e.message : "key \"" + m_current_key + "\": " + e.message) +
                   (col ? " (column " + col->name + ", type " + col->type.name + ")" : ""));
        return;
    } catch (const simdjson::simdjson_error& e) {
        reject(line, input, number,
               std::string("invalid JSON at byte column ") + std::to_string(error_column(doc, m_padded.data(), line.size())) +
                   ": " + e.what());
        return;
    }
    if (fill_missing(line, input, number))
        write_row(line, input, number);
}

void record_loader::write_row(std::string_view line, const std::string& input, uint64_t number) {
    if (!m_script) {
        m_writer->begin_row(static_cast<int16_t>(m_columns.size()));
        for (size_t k = 0; k < m_columns.size(); ++k)
            m_writer->field(m_values[k], m_columns[k].type);
        m_writer->end_row();
        return;
    }
    shape* s = nullptr;
    try {
        s = m_shapes->add(m_values, m_seen).into;
    } catch (const value_error& e) {
        reject(line, input, number, e.message);
        return;
    }
    ++m_rows;
    m_held += s->rows.capacity() - s->held;
    s->held = s->rows.capacity();
    if (s->rows.size() >= block_bytes)
        write_shape(*s, false);
    while (m_held > held_limit) {
        // Many shapes at once: write the one holding most, and free it.
        shape* largest = nullptr;
        for (const auto& candidate : m_shapes->shapes())
            if (!largest || candidate->held > largest->held)
                largest = candidate.get();
        write_shape(*largest, true);
    }
}

// Writes a shape's rows as a block; release frees its buffer too (a shape
// that filled its block keeps it, as it is likely to fill it again).
void record_loader::write_shape(shape& s, bool release) {
    m_script_out->block(s.header, s.rows);
    s.rows.clear();
    s.count = 0;
    if (release) {
        std::string().swap(s.rows);
        m_held -= s.held;
        s.held = 0;
    }
}

void record_loader::setup_output(output_stream& out) {
    if (!m_script) {
        m_writer = std::make_unique<row_writer>(m_o.format, out);
        m_writer->begin();
        return;
    }
    std::vector<out_column> columns = m_columns;
    m_shapes = std::make_unique<shaped_rows>(script_table_name(m_o.table), std::move(columns), m_defaulted);
    m_script_out = std::make_unique<script_output>(out);
}

void record_loader::finish_output(output_stream& out) {
    if (!m_script) {
        m_writer->finish();
        return;
    }
    // The open block's shape first: its rows continue that block.
    const auto& shapes = m_shapes->shapes();
    for (const auto& s : shapes)
        if (s->header == m_script_out->open_header())
            write_shape(*s, false);
    for (const auto& s : shapes)
        write_shape(*s, false);
    m_script_out->finish();
    out.close();
}

void record_loader::list_columns() {
    std::string names;
    for (const auto& c : m_columns)
        names += (names.empty() ? "" : ",") + quote_identifier_if_needed(c.name);
    output_stream out(m_o.output, 0, false);
    out.write(names + "\n");
    out.close();
}

void record_loader::summarize(std::chrono::steady_clock::time_point started) {
    m_summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::string line = summary_line(m_summary);
    if (m_summary.rejected)
        line += "; " + format_count(m_summary.rejected) + " lines rejected (see " + m_o.reject_file + ".log)";
    log_info(line);
    write_stats_file(m_o.stats_file, m_summary);
}

load_summary record_loader::run() {
    auto started = std::chrono::steady_clock::now();
    m_summary.program = std::string(program_name());
    m_summary.target = m_o.table;
    m_summary.verb = "converted";
    m_summary.preposition = "for";
    std::vector<std::string> inputs = m_o.inputs.empty() ? std::vector<std::string>{"-"} : m_o.inputs;
    setup_columns();
    if (m_o.list_columns) {
        list_columns();
        return m_summary;
    }
    if (!m_server_filled.empty()) {
        std::string names;
        for (const auto& n : m_server_filled)
            names += (names.empty() ? "" : ", ") + n;
        // A script names its columns; a plain stream needs pgcopy -c.
        log_info("leaving " + names + " to the server" +
                 (m_script ? "" : "; load with: pgcopy -c \"$(pgrec --list-columns " + m_o.table + ")\" " + m_o.table));
    }
    check_inputs_readable(inputs);
    m_rejects = std::make_unique<line_rejects>(m_o.reject_file);
    output_stream out(m_o.output, m_o.zstd_level, m_o.format == copy_format::binary);
    progress_meter meter(m_o.show_progress);
    progress_state state;
    auto rows = [&] { return m_script ? m_rows : m_writer->rows(); };
    try {
        setup_output(out);
        for (const auto& path : inputs) {
            input_stream in(path);
            for_each_line(
                in, [&](std::string_view line, uint64_t number) { convert_line(line, in.name(), number); },
                [&] {
                    state.rows = rows();
                    state.bytes = out.bytes_in();
                    meter.update(state);
                });
            m_summary.input_bytes += in.raw_bytes_read();
        }
        finish_output(out);
    } catch (const broken_pipe&) {
        meter.finish();
        m_summary.rows = rows();
        return m_summary;
    } catch (const error&) {
        // A plain stream gets its whole rows (binary, no trailer); a script
        // stays inside its open block: either way the reader can tell.
        meter.finish();
        if (m_writer)
            m_writer->abandon();
        throw;
    }
    meter.finish();
    m_summary.rows = rows();
    m_summary.bytes = out.bytes_in();
    summarize(started);
    return m_summary;
}


// ---------------------------------------------------------------- trees

// One table of a record tree: its columns, where its rows go in a block,
// and how its children hang off it.
struct tree_node {
    std::string path;                 // "" for the root, "annotations", "annotations.notes"
    std::string key;                  // the key in the parent's record ("notes")
    std::string table;                // as the user wrote it
    std::string table_sql;            // quoted
    std::vector<out_column> columns;
    std::unordered_map<std::string, int> key_to_column;
    int parent = -1;
    std::string fk_column;            // this table's column referencing the parent's key
    int fk_index = -1;
    std::vector<int> children;
    int pk_index = -1;                // the key children reference (needed when there are children)
    std::string pk_sequence;          // its sequence, for nextval
    std::vector<int64_t> id_pool;     // pre-allocated ids, used from the back
    uint64_t ids_used_in_block = 0;
    int64_t next_offline_id = 0;
    std::unique_ptr<shaped_rows> rows; // this table's rows of the current block, by shape
    std::vector<value> values;
    std::vector<cell> cells;
    std::vector<char> seen;
};

class tree_loader {
public:
    explicit tree_loader(const record_options& o) : m_o(o) {}
    load_summary run();

private:
    void setup();
    void setup_node(tree_node& n);
    int64_t next_id(tree_node& n);
    void convert(int node, std::string_view json, std::optional<int64_t> parent_id, int depth);
    std::optional<int64_t> fill_keys(tree_node& n, std::optional<int64_t> parent_id);
    void convert_children(int child, std::string_view raw, std::optional<int64_t> id, int depth);
    void emit_block();

    const record_options& m_o;
    std::optional<connection> m_conn;
    std::vector<tree_node> m_nodes;
    // One parser (and padded buffer) per nesting depth, for the records and
    // for their child arrays: a document at one depth stays alive while the
    // next depth is parsed. Sized once: a parser must not move while in use.
    std::vector<od::parser> m_parsers, m_array_parsers;
    std::vector<std::string> m_padded, m_array_padded;
    converter m_converter;
    std::vector<added_row> m_added; // the rows of the record being converted, to take back
    std::unique_ptr<script_output> m_script;
    load_summary m_summary;
    uint64_t m_allocations = 0;
};

void tree_loader::setup() {
    if (m_o.format != copy_format::text)
        throw local_error("--child writes a script stream, which is COPY text", {}, "drop -F");
    if (m_o.columns || m_o.map)
        throw local_error("--child reads every table's columns from the database; --columns and --map are for one table");
    m_conn.emplace(connection::open(m_o.connection));
    tree_node root;
    root.table = m_o.table;
    m_nodes.push_back(std::move(root));
    for (const auto& spec : m_o.children) {
        // KEY=TABLE.COLUMN, the last dot splitting table from column.
        auto eq = spec.find('=');
        auto dot = spec.rfind('.');
        if (eq == std::string::npos || dot == std::string::npos || dot < eq)
            throw local_error("--child wants KEY=TABLE.COLUMN, not \"" + spec + "\"", {},
                              "for example --child annotations=annotation.sequence_id");
        tree_node n;
        n.path = spec.substr(0, eq);
        n.table = spec.substr(eq + 1, dot - eq - 1);
        n.fk_column = parse_name_list(spec.substr(dot + 1)).at(0);
        auto parent_dot = n.path.rfind('.');
        n.key = parent_dot == std::string::npos ? n.path : n.path.substr(parent_dot + 1);
        std::string parent_path = parent_dot == std::string::npos ? "" : n.path.substr(0, parent_dot);
        for (size_t k = 0; k < m_nodes.size(); ++k)
            if (m_nodes[k].path == parent_path)
                n.parent = static_cast<int>(k);
        if (n.parent < 0)
            throw local_error("--child " + spec + ": no --child for \"" + parent_path + "\" comes before it");
        m_nodes[static_cast<size_t>(n.parent)].children.push_back(static_cast<int>(m_nodes.size()));
        m_nodes.push_back(std::move(n));
    }
    for (auto& n : m_nodes)
        setup_node(n);
    m_parsers.resize(m_nodes.size() + 1);
    m_array_parsers.resize(m_nodes.size() + 1);
    m_padded.resize(m_nodes.size() + 1);
    m_array_padded.resize(m_nodes.size() + 1);
}

// A node's columns, keys and shapes, from the live table.
void tree_loader::setup_node(tree_node& n) {
    connection& c = *m_conn;
    n.table_sql = quote_qualified_name(c, parse_qualified_name(n.table));
    // A parent's key is written by pgrec (pre-allocated), so it is kept
    // even when it is serial; a child's reference too.
    std::string pk;
    if (!n.children.empty()) {
        result_ptr r = c.query("SELECT a.attname, coalesce(pg_get_serial_sequence(" + c.quote_literal(n.table_sql) +
                               ", a.attname), '') FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                               " AND a.attnum = i.indkey[0] WHERE i.indrelid = " + c.quote_literal(n.table_sql) +
                               "::regclass AND i.indisprimary AND i.indnatts = 1");
        if (PQntuples(r.get()) != 1)
            throw local_error(n.table + " has children, so it needs a one-column primary key for them to reference");
        pk = PQgetvalue(r.get(), 0, 0);
        n.pk_sequence = PQgetvalue(r.get(), 0, 1);
        if (n.pk_sequence.empty() && !m_o.id_start)
            throw local_error("the key " + pk + " of " + n.table + " has no sequence to pre-allocate ids from", {},
                              "give --id-start N, or make it serial or an identity column");
    }
    std::vector<std::string> keep{pk};
    if (!n.fk_column.empty())
        keep.push_back(n.fk_column);
    std::vector<std::string> server_filled;
    n.columns = live_columns(c, n.table, m_o.with_ids, keep, server_filled);
    for (size_t k = 0; k < n.columns.size(); ++k) {
        n.key_to_column[n.columns[k].name] = static_cast<int>(k);
        if (n.columns[k].name == pk)
            n.pk_index = static_cast<int>(k);
        if (!n.fk_column.empty() && n.columns[k].name == n.fk_column)
            n.fk_index = static_cast<int>(k);
    }
    if (!n.fk_column.empty() && n.fk_index < 0)
        throw local_error("--child: " + n.table + " has no column " + n.fk_column);
    for (int child : n.children)
        n.key_to_column[m_nodes[static_cast<size_t>(child)].key] = -2 - child;
    n.values.resize(n.columns.size());
    n.cells.resize(n.columns.size());
    n.seen.resize(n.columns.size());
    // The keys are always written: pre-allocated or the parent's.
    std::vector<char> defaulted(n.columns.size());
    for (size_t k = 0; k < n.columns.size(); ++k)
        defaulted[k] = m_o.missing == missing_key::default_value && n.columns[k].has_default &&
                       static_cast<int>(k) != n.pk_index && static_cast<int>(k) != n.fk_index;
    n.rows = std::make_unique<shaped_rows>(script_table_name(n.table), n.columns, std::move(defaulted));
    n.next_offline_id = m_o.id_start.value_or(1);
}

int64_t tree_loader::next_id(tree_node& n) {
    ++n.ids_used_in_block;
    if (m_o.id_start)
        return n.next_offline_id++;
    if (n.id_pool.empty()) {
        // As many as the last block used (at least a block's worth): about
        // one round trip per table and block. Safe beside other writers:
        // each nextval is this session's own.
        uint64_t want = std::max<uint64_t>(m_o.block, n.ids_used_in_block * 2);
        result_ptr r = m_conn->query("SELECT nextval(" + m_conn->quote_literal(n.pk_sequence) +
                                     ") FROM generate_series(1, " + std::to_string(want) + ")");
        ++m_allocations;
        for (int k = PQntuples(r.get()) - 1; k >= 0; --k)
            n.id_pool.push_back(std::stoll(PQgetvalue(r.get(), k, 0)));
    }
    int64_t id = n.id_pool.back();
    n.id_pool.pop_back();
    return id;
}

void tree_loader::convert(int index, std::string_view json, std::optional<int64_t> parent_id, int depth) {
    tree_node& n = m_nodes[static_cast<size_t>(index)];
    std::string& padded = m_padded[static_cast<size_t>(depth)];
    padded.assign(json);
    padded.append(simdjson::SIMDJSON_PADDING, '\0');
    od::document doc;
    od::object object;
    if (m_parsers[static_cast<size_t>(depth)].iterate(padded.data(), json.size(), padded.size()).get(doc) ||
        doc.get_object().get(object))
        throw value_error{depth == 0 ? "not a valid JSON object" : "a child of " + n.path + " is not a JSON object"};
    std::fill(n.seen.begin(), n.seen.end(), 0);
    std::vector<std::pair<int, std::string>> child_arrays;
    std::string key_name;
    for (auto field : object) {
        std::string_view key;
        od::value v;
        if (field.unescaped_key().get(key) || field.value().get(v))
            throw value_error{"invalid JSON"};
        key_name = key;
        auto it = n.key_to_column.find(key_name);
        if (it == n.key_to_column.end()) {
            if (m_o.ignore_unknown)
                continue;
            throw value_error{"key \"" + key_name + "\": no column of " + n.table + " takes it"};
        }
        if (it->second <= -2) {
            od::array a;
            std::string_view raw;
            if (v.get_array().get(a) || a.raw_json().get(raw))
                throw value_error{"key \"" + key_name + "\": the children must be a JSON array"};
            child_arrays.emplace_back(-2 - it->second, std::string(trim(raw)));
            continue;
        }
        auto c = static_cast<size_t>(it->second);
        n.seen[c] = 1;
        try {
            m_converter.convert(v, n.columns[c], n.columns[c].type, n.values[c], n.cells[c], false);
        } catch (const value_error& e) {
            throw value_error{"key \"" + key_name + "\": " + e.message + " (" + n.table + "." + n.columns[c].name +
                              ", type " + n.columns[c].type.name + ")"};
        }
    }
    std::optional<int64_t> id = fill_keys(n, parent_id);
    m_added.push_back(n.rows->add(n.values, n.seen));
    // Children after the row: their reference is this row's key.
    for (const auto& [child, raw] : child_arrays)
        convert_children(child, raw, id, depth);
}

// Fills the columns whose keys are missing, the key (pre-allocated when
// missing) and the reference to the parent; returns the row's key.
std::optional<int64_t> tree_loader::fill_keys(tree_node& n, std::optional<int64_t> parent_id) {
    for (size_t k = 0; k < n.columns.size(); ++k)
        if (!n.seen[k]) {
            if (m_o.missing == missing_key::error && static_cast<int>(k) != n.pk_index &&
                static_cast<int>(k) != n.fk_index)
                throw value_error{"key \"" + n.columns[k].name + "\" is missing in " + n.table + " (--missing error)"};
            n.values[k] = value{}; // NULL, unless its shape leaves the column to its DEFAULT
        }
    std::optional<int64_t> id;
    if (n.pk_index >= 0) {
        value& pk = n.values[static_cast<size_t>(n.pk_index)];
        if (pk.kind == value_kind::null) {
            pk.kind = value_kind::integer;
            pk.i = next_id(n);
            n.seen[static_cast<size_t>(n.pk_index)] = 1;
        } else if (pk.kind != value_kind::integer) {
            throw value_error{"the key of " + n.table + " must be an integer to be referenced"};
        }
        id = pk.i;
    }
    if (n.fk_index >= 0) {
        value& fk = n.values[static_cast<size_t>(n.fk_index)];
        fk = value{};
        fk.kind = value_kind::integer;
        fk.i = *parent_id;
        n.seen[static_cast<size_t>(n.fk_index)] = 1;
    }
    return id;
}

// Converts the child records in the JSON array raw, referencing id.
void tree_loader::convert_children(int child, std::string_view raw, std::optional<int64_t> id, int depth) {
    std::string& array_padded = m_array_padded[static_cast<size_t>(depth)];
    array_padded.assign(raw);
    array_padded.append(simdjson::SIMDJSON_PADDING, '\0');
    od::document array_doc;
    od::array elements;
    if (m_array_parsers[static_cast<size_t>(depth)].iterate(array_padded.data(), raw.size(), array_padded.size())
            .get(array_doc) ||
        array_doc.get_array().get(elements))
        throw value_error{"the children under \"" + m_nodes[static_cast<size_t>(child)].key + "\" are not an array"};
    for (auto element : elements) {
        od::object o;
        std::string_view text;
        if (element.get_object().get(o) || o.raw_json().get(text))
            throw value_error{"a child under \"" + m_nodes[static_cast<size_t>(child)].key + "\" is not an object"};
        convert(child, trim(text), id, depth + 1);
    }
}

void tree_loader::emit_block() {
    // Parents before children: the nodes are in the order of their --child.
    for (auto& n : m_nodes) {
        for (const auto& s : n.rows->shapes()) {
            m_script->block(s->header, s->rows);
            m_summary.rows += s->count;
            s->rows.clear();
            s->count = 0;
        }
        n.ids_used_in_block = 0;
    }
}

load_summary tree_loader::run() {
    auto started = std::chrono::steady_clock::now();
    m_summary.program = std::string(program_name());
    m_summary.target = m_o.table;
    m_summary.verb = "converted";
    m_summary.preposition = "for";
    setup();
    std::vector<std::string> inputs = m_o.inputs.empty() ? std::vector<std::string>{"-"} : m_o.inputs;
    check_inputs_readable(inputs);
    line_rejects rejects(m_o.reject_file);
    output_stream out(m_o.output, m_o.zstd_level, false);
    m_script = std::make_unique<script_output>(out);
    uint64_t in_block = 0;
    try {
        for (const auto& path : inputs) {
            input_stream in(path);
            auto handle = [&](std::string_view line, uint64_t number) {
                // A bad record is taken back whole, children and all.
                m_added.clear();
                try {
                    convert(0, line, std::nullopt, 0);
                } catch (const value_error& e) {
                    for (auto row = m_added.rbegin(); row != m_added.rend(); ++row)
                        shaped_rows::take_back(*row);
                    if (!rejects.open())
                        throw local_error(in.name() + ":" + std::to_string(number) + ": " + e.message, {},
                                          "nothing of this record (or of its block) was written");
                    rejects.add(line, in.name(), number, e.message);
                    ++m_summary.rejected;
                    return;
                }
                if (++in_block == m_o.block) {
                    emit_block();
                    in_block = 0;
                }
            };
            for_each_line(in, handle, [] {});
        }
        emit_block();
        m_script->finish();
        out.close();
    } catch (const broken_pipe&) {
        return m_summary;
    }
    m_summary.bytes = out.bytes_in();
    m_summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::string line = summary_line(m_summary) + " and its children (" + std::to_string(m_allocations) +
                       " id allocation" + (m_allocations == 1 ? "" : "s") + ")";
    if (m_summary.rejected)
        line += "; " + format_count(m_summary.rejected) + " records rejected (see " + m_o.reject_file + ".log)";
    log_info(line);
    write_stats_file(m_o.stats_file, m_summary);
    return m_summary;
}

} // namespace

load_summary run_record_tree(const record_options& options) {
    tree_loader loader(options);
    return loader.run();
}

load_summary run_records(const record_options& options) {
    record_loader loader(options);
    return loader.run();
}

} // namespace pgpipe
