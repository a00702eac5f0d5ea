// COPY text fields: split at tabs, escapes undone into reused buffers.
#include "copy_text.hpp"

#include "io/copy_format.hpp"

namespace pgpipe {
namespace {

// Appends field to out with COPY text's escapes undone.
void unescape(std::string_view field, std::string& out) {
    for (size_t k = 0; k < field.size(); ++k) {
        char c = field[k];
        if (c != '\\' || k + 1 == field.size()) {
            out += c;
            continue;
        }
        const char* p = field.data() + k + 2;
        bool numeric;
        out += static_cast<char>(copy_text_unescape(field[k + 1], p, field.data() + field.size(), numeric));
        k = static_cast<size_t>(p - field.data()) - 1;
    }
}

} // namespace

void copy_text_fields::parse(std::string_view row) {
    if (!row.empty() && row.back() == '\r')
        row.remove_suffix(1); // a CRLF line end, as the server accepts
    m_count = 0;
    size_t pos = 0;
    for (;;) {
        if (m_count == m_values.size()) {
            m_values.emplace_back();
            m_null.push_back(0);
        }
        std::string& out = m_values[m_count];
        out.clear();
        size_t end = row.find('\t', pos);
        std::string_view field = row.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        m_null[m_count] = field == "\\N";
        unescape(field, out);
        ++m_count;
        if (end == std::string_view::npos)
            break;
        pos = end + 1;
    }
    m_pointers.resize(m_count);
    for (size_t k = 0; k < m_count; ++k)
        m_pointers[k] = m_null[k] ? nullptr : m_values[k].c_str();
}

} // namespace pgpipe
