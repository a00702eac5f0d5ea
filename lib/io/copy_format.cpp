// COPY formats and their options: parsing, validation, header names, script headers, escapes.
#include "io/copy_format.hpp"

#include "core/error.hpp"
#include "core/text.hpp"
#include "io/copy_fields.hpp"
#include "io/sql_names.hpp"

#include <algorithm>
#include <cctype>

#include <cstring>

namespace pgpipe {
namespace {

// The end of a name or column list in a script's COPY line: the first of
// `stops` outside double quotes, or npos.
size_t unquoted_find(std::string_view text, std::string_view stops, size_t from = 0) {
    bool quoted = false;
    for (size_t k = from; k < text.size(); ++k) {
        if (text[k] == '"')
            quoted = !quoted;
        else if (!quoted && stops.find(text[k]) != std::string_view::npos)
            return k;
    }
    return std::string_view::npos;
}

} // namespace

bool starts_with_word(std::string_view text, std::string_view word) {
    if (text.size() < word.size())
        return false;
    for (size_t k = 0; k < word.size(); ++k)
        if (std::toupper(static_cast<unsigned char>(text[k])) != word[k])
            return false;
    return true;
}

std::optional<script_header> parse_script_header(std::string_view line) {
    while (!line.empty() && line.back() == '\n')
        line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    if (!starts_with_word(line, "COPY "))
        return std::nullopt;
    std::string_view rest = line.substr(5);
    size_t k = std::min(unquoted_find(rest, "( "), rest.size());
    script_header out;
    try {
        out.table = parse_qualified_name(rest.substr(0, k));
        rest = rest.substr(k);
        while (!rest.empty() && rest[0] == ' ')
            rest.remove_prefix(1);
        if (!rest.empty() && rest[0] == '(') {
            size_t close = unquoted_find(rest, ")", 1);
            if (close == std::string_view::npos)
                return std::nullopt;
            out.columns = parse_name_list(rest.substr(1, close - 1));
            rest = rest.substr(close + 1);
            while (!rest.empty() && rest[0] == ' ')
                rest.remove_prefix(1);
        }
    } catch (const error&) {
        return std::nullopt;
    }
    std::string_view tail = rest.size() >= 10 ? rest.substr(10) : std::string_view();
    if (!starts_with_word(rest, "FROM STDIN") || tail.find_first_not_of(" ;") != std::string_view::npos ||
        tail.find(';') == std::string_view::npos)
        return std::nullopt;
    return out;
}

copy_format parse_copy_format(std::string_view name) {
    if (name == "text")
        return copy_format::text;
    if (name == "csv")
        return copy_format::csv;
    if (name == "binary")
        return copy_format::binary;
    throw local_error("unknown format \"" + std::string(name) + "\"", {},
                      "the formats are text, csv and binary");
}

const char* copy_format_name(copy_format format) {
    switch (format) {
    case copy_format::text: return "text";
    case copy_format::csv: return "csv";
    case copy_format::binary: return "binary";
    }
    return "text";
}

char default_delimiter(copy_format format) { return format == copy_format::csv ? ',' : '\t'; }

char delimiter_of(const copy_format_options& o) { return o.delimiter ? (*o.delimiter)[0] : default_delimiter(o.format); }

copy_syntax copy_syntax_of(const copy_format_options& o) {
    copy_syntax s;
    s.csv = o.format == copy_format::csv;
    s.delimiter = delimiter_of(o);
    s.quote = o.quote ? (*o.quote)[0] : '"';
    s.escape = o.escape ? (*o.escape)[0] : s.quote;
    s.null_text = o.null_string ? *o.null_string : s.csv ? "" : "\\N";
    return s;
}

void validate_copy_format(const copy_format_options& o) {
    auto refuse = [&](const char* flag, const char* allowed) {
        throw local_error(std::string(flag) + " cannot be used with format " + copy_format_name(o.format),
                          {}, std::string(flag) + " applies to " + allowed);
    };
    if (o.format != copy_format::csv) {
        if (o.quote)
            refuse("--quote", "-F csv");
        if (o.escape)
            refuse("--escape", "-F csv");
    }
    if (o.format == copy_format::binary) {
        if (o.header)
            refuse("--header", "-F text and -F csv");
        if (o.delimiter)
            refuse("--delimiter", "-F text and -F csv");
        if (o.null_string)
            refuse("--null", "-F text and -F csv");
    }
    auto single_byte = [](const std::optional<std::string>& v, const char* flag) {
        if (v && v->size() != 1)
            throw local_error(std::string(flag) + " must be a single one-byte character, not \"" + *v + "\"");
    };
    single_byte(o.delimiter, "--delimiter");
    single_byte(o.quote, "--quote");
    single_byte(o.escape, "--escape");
}

std::optional<uint64_t> copy_context_line(std::string_view context) {
    // The server writes "COPY <table>, line N[, column c]: ..." (possibly
    // after other context lines); the table name itself may contain ", line ",
    // so take the last match on the COPY line.
    size_t copy_at = context.find("COPY ");
    if (copy_at == std::string_view::npos)
        return std::nullopt;
    std::string_view line = context.substr(copy_at);
    line = line.substr(0, line.find('\n'));
    size_t at = line.rfind(", line ");
    if (at == std::string_view::npos)
        return std::nullopt;
    uint64_t n = 0;
    size_t i = at + 7;
    if (i >= line.size() || line[i] < '0' || line[i] > '9')
        return std::nullopt;
    for (; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i)
        n = n * 10 + static_cast<uint64_t>(line[i] - '0');
    return n;
}

std::vector<std::string> header_names(std::string_view line, const copy_format_options& o) {
    copy_field_reader reader(o);
    reader.read(line);
    std::vector<std::string> names;
    names.reserve(reader.size());
    // A field that is the NULL string names no column: kept as written, it
    // matches none (the server says "got null value").
    for (size_t k = 0; k < reader.size(); ++k)
        names.emplace_back(reader.is_null(k) ? reader.written(k) : reader.value(k));
    return names;
}

uint64_t count_newlines(const char* data, size_t size) {
    uint64_t count = 0;
    const char* end = data + size;
    while (const void* hit = std::memchr(data, '\n', static_cast<size_t>(end - data))) {
        ++count;
        data = static_cast<const char*>(hit) + 1;
    }
    return count;
}

int copy_text_unescape(char c, const char*& p, const char* end, bool& numeric) {
    static constexpr char letters[] = "b\bf\fn\nr\rt\tv\v";
    numeric = false;
    for (size_t k = 0; k + 1 < sizeof letters; k += 2)
        if (letters[k] == c)
            return letters[k + 1];
    if (c == 'x') {
        int v = 0, n = 0, d;
        for (; n < 2 && p < end && (d = hex_digit_value(*p)) >= 0; ++n, ++p)
            v = v * 16 + d;
        numeric = n > 0;
        return n ? v : 'x';
    }
    if (c < '0' || c > '7')
        return static_cast<unsigned char>(c);
    int v = c - '0';
    for (int n = 1; n < 3 && p < end && *p >= '0' && *p <= '7'; ++n, ++p)
        v = v * 8 + (*p - '0');
    numeric = true;
    return v & 0xff;
}

uint64_t copy_line_counter::add(std::string_view row) {
    ++m_line;
    m_extra_newlines = 0;
    std::string_view body = row;
    bool crlf = false;
    if (!body.empty() && body.back() == '\n') {
        body.remove_suffix(1);
        crlf = !body.empty() && body.back() == '\r';
        if (crlf)
            body.remove_suffix(1);
    }
    if (!m_csv)
        m_extra_newlines = count_newlines(body.data(), body.size());
    else if (!body.empty()) {
        m_extra_newlines = count_newlines(body.data(), body.size());
        const char counted = m_eol == '\n' ? '\n' : '\r';
        m_line += counted == '\n' ? m_extra_newlines
                                  : static_cast<uint64_t>(std::count(body.begin(), body.end(), counted));
    }
    if (!m_eol && body.size() < row.size())
        m_eol = crlf ? '\r' : '\n';
    return m_line;
}

} // namespace pgpipe
