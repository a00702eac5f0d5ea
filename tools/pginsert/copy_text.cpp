// COPY text fields: split at tabs, escapes undone into reused buffers.
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

// The byte a single-letter escape stands for (\t \n ...), or -1.
int letter_escape(char e) {
    switch (e) {
    case 't': return '\t';
    case 'n': return '\n';
    case 'r': return '\r';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'v': return '\v';
    default: return -1;
    }
}

// \xHH (one or two hex digits) after the x at field[k]; k is left on
// the last byte used. Without a digit, the x stands for itself.
char hex_escape(std::string_view field, size_t& k) {
    int v = 0, n = 0, d;
    while (n < 2 && k + 1 < field.size() && (d = hex_digit(field[k + 1])) >= 0) {
        v = v * 16 + d;
        ++k;
        ++n;
    }
    return n ? static_cast<char>(v) : 'x';
}

// \NNN (one to three octal digits) starting at field[k]; k is left on
// the last digit.
char octal_escape(std::string_view field, size_t& k) {
    int v = field[k] - '0', n = 1;
    while (n < 3 && k + 1 < field.size() && field[k + 1] >= '0' && field[k + 1] <= '7') {
        v = v * 8 + (field[++k] - '0');
        ++n;
    }
    return static_cast<char>(v);
}

// Appends field to out with COPY text's escapes undone.
void unescape(std::string_view field, std::string& out) {
    for (size_t k = 0; k < field.size(); ++k) {
        char c = field[k];
        if (c != '\\' || k + 1 == field.size()) {
            out += c;
            continue;
        }
        char e = field[++k];
        if (int letter = letter_escape(e); letter >= 0)
            out += static_cast<char>(letter);
        else if (e == 'x')
            out += hex_escape(field, k);
        else if (e >= '0' && e <= '7')
            out += octal_escape(field, k);
        else
            out += e; // any other escaped byte stands for itself
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
