#include "copy_text.hpp"

namespace pgpipe {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
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
        for (size_t k = 0; k < field.size(); ++k) {
            char c = field[k];
            if (c != '\\' || k + 1 == field.size()) {
                out += c;
                continue;
            }
            char e = field[++k];
            switch (e) {
            case 't': out += '\t'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'v': out += '\v'; break;
            case 'x': {
                int v = 0, n = 0, d;
                while (n < 2 && k + 1 < field.size() && (d = hex_digit(field[k + 1])) >= 0) {
                    v = v * 16 + d;
                    ++k;
                    ++n;
                }
                if (n)
                    out += static_cast<char>(v);
                else
                    out += 'x';
                break;
            }
            default:
                if (e >= '0' && e <= '7') {
                    int v = e - '0', n = 1;
                    while (n < 3 && k + 1 < field.size() && field[k + 1] >= '0' && field[k + 1] <= '7') {
                        v = v * 8 + (field[++k] - '0');
                        ++n;
                    }
                    out += static_cast<char>(v);
                } else {
                    out += e; // any other escaped byte stands for itself
                }
            }
        }
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
