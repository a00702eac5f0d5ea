// The one reader of COPY fields: a text or CSV row split and unescaped as the server's COPY FROM reads it.
#pragma once

#include "io/copy_format.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgpipe {

/// Splits rows of COPY text or CSV into fields by CopyReadAttributesText's
/// and CopyReadAttributesCSV's rules: text undoes backslash escapes (an
/// escaped delimiter is data) and a field written as the NULL string is
/// NULL; CSV undoes quotes and escapes, and only an unquoted field written
/// as the NULL string is NULL (so "" is empty, not NULL). The syntax is
/// worked out once, at construction. A field without escapes or quotes is a
/// view of the row, others are built in a buffer kept from row to row: the
/// values stay valid until the next read and while the row lives.
class copy_field_reader {
public:
    /// For rows in the given format (binary has no fields to read here).
    explicit copy_field_reader(const copy_format_options& options) : m_syntax(copy_syntax_of(options)) {}
    /// For rows of the given syntax.
    explicit copy_field_reader(copy_syntax syntax) : m_syntax(std::move(syntax)) {}

    /// Reads one row (its own line end, \n or \r\n, may be included; in
    /// text a backslash before one makes it data, as the server reads it), at most
    /// max_fields of its fields (the rest unread, for a key in front).
    /// False when the row is malformed: a CSV quote left open, which the
    /// server refuses; the fields up to it are kept.
    bool read(std::string_view row, size_t max_fields = SIZE_MAX);
    /// How many fields the last read found.
    size_t size() const noexcept { return m_fields.size(); }
    /// Field k with its escapes and quotes undone (of a NULL field: what undoing them gives).
    std::string_view value(size_t k) const noexcept {
        const field& f = m_fields[k];
        return f.built ? std::string_view(m_built.data() + f.value_at, f.value_size) : f.written;
    }
    /// Whether field k is NULL.
    bool is_null(size_t k) const noexcept { return m_fields[k].null; }
    /// Field k as the row writes it (quotes and escapes in place).
    std::string_view written(size_t k) const noexcept { return m_fields[k].written; }
    /// The syntax worked out from the options.
    const copy_syntax& syntax() const noexcept { return m_syntax; }

private:
    struct field {
        std::string_view written;
        size_t value_at = 0, value_size = 0; // in m_built, when built
        bool built = false, null = false;
    };
    size_t read_text_field(std::string_view row, size_t at);
    size_t read_csv_field(std::string_view row, size_t at, bool& open_quote);

    copy_syntax m_syntax;
    std::vector<field> m_fields;
    std::string m_built;
};

} // namespace pgpipe
