#include "pgpipe/copy_format.hpp"

#include "pgpipe/connection.hpp"
#include "pgpipe/error.hpp"

#include <cstring>

namespace pgpipe {

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

std::string copy_options_sql(const connection& conn, const copy_format_options& o, bool freeze) {
    std::string sql = std::string("(FORMAT ") + copy_format_name(o.format);
    if (freeze)
        sql += ", FREEZE";
    if (o.header)
        sql += o.header_match ? ", HEADER MATCH" : ", HEADER";
    if (o.delimiter)
        sql += ", DELIMITER " + conn.quote_literal(*o.delimiter);
    if (o.quote)
        sql += ", QUOTE " + conn.quote_literal(*o.quote);
    if (o.escape)
        sql += ", ESCAPE " + conn.quote_literal(*o.escape);
    if (o.null_string)
        sql += ", NULL " + conn.quote_literal(*o.null_string);
    if (o.encoding)
        sql += ", ENCODING " + conn.quote_literal(*o.encoding);
    return sql + ")";
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

uint64_t count_newlines(const char* data, size_t size) {
    uint64_t count = 0;
    const char* end = data + size;
    while (const void* hit = std::memchr(data, '\n', static_cast<size_t>(end - data))) {
        ++count;
        data = static_cast<const char*>(hit) + 1;
    }
    return count;
}

} // namespace pgpipe
