// pginsert's reader of COPY text rows: fields split and unescaped for libpq parameters.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgpipe {

/// The fields of one COPY text row, unescaped, in buffers reused row after row.
class copy_text_fields {
public:
    /// Splits row (without its newline) at tabs and undoes the escapes
    /// (\\t \\n \\r \\b \\f \\v \\\\, octal \\NNN, hex \\xHH); \\N alone is NULL.
    void parse(std::string_view row);
    /// How many fields the row had.
    size_t size() const noexcept { return m_count; }
    /// Field k, or nullptr for NULL (NUL-terminated, for libpq parameters).
    const char* value(size_t k) const noexcept { return m_null[k] ? nullptr : m_values[k].c_str(); }
    /// The values as libpq wants them: one pointer per field, null for NULL.
    const std::vector<const char*>& pointers() const noexcept { return m_pointers; }

private:
    std::vector<std::string> m_values;
    std::vector<char> m_null;
    std::vector<const char*> m_pointers;
    size_t m_count = 0;
};

} // namespace pgpipe
