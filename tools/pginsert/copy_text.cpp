// COPY text fields for libpq: lib/io's reader, its values copied NUL-terminated.
#include "copy_text.hpp"

namespace pgpipe {

void copy_text_fields::parse(std::string_view row) {
    m_reader.read(row);
    const size_t n = m_reader.size();
    if (m_values.size() < n)
        m_values.resize(n);
    m_pointers.resize(n);
    for (size_t k = 0; k < n; ++k) {
        m_values[k].assign(m_reader.value(k));
        m_pointers[k] = m_reader.is_null(k) ? nullptr : m_values[k].c_str();
    }
}

} // namespace pgpipe
