// pginsert's rows of COPY text as libpq parameters: NUL-terminated values, null for NULL.
#pragma once

#include "io/copy_fields.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace pgpipe {

/// The fields of one COPY text row (default options), read by lib/io's
/// copy_field_reader and kept NUL-terminated in buffers reused row after row.
class copy_text_fields {
public:
    copy_text_fields() : m_reader(copy_format_options{}) {}
    /// Reads row (without its newline): fields split and unescaped; \N alone is NULL.
    void parse(std::string_view row);
    /// How many fields the row had.
    size_t size() const noexcept { return m_reader.size(); }
    /// Field k, or nullptr for NULL (NUL-terminated, for libpq parameters).
    const char* value(size_t k) const noexcept { return m_pointers[k]; }
    /// The values as libpq wants them: one pointer per field, null for NULL.
    const std::vector<const char*>& pointers() const noexcept { return m_pointers; }

private:
    copy_field_reader m_reader;
    std::vector<std::string> m_values;
    std::vector<const char*> m_pointers;
};

} // namespace pgpipe
