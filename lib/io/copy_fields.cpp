// COPY fields of text and CSV rows, read by the server's rules into views and one reused buffer.
#include "io/copy_fields.hpp"

#include <cstring>

namespace pgpipe {
namespace {

// The first c in row[from, to), or to.
size_t find_in(std::string_view row, char c, size_t from, size_t to) {
    const void* hit = std::memchr(row.data() + from, c, to - from);
    return hit ? static_cast<size_t>(static_cast<const char*>(hit) - row.data()) : to;
}

// Whether the last byte of row is the row's own line end byte c: in text a
// backslash before it (an odd run of them) makes it data, as the server
// keeps the byte after a backslash in the line ("\<LF>" reads as LF).
bool ends_in_line_end(std::string_view row, char c, bool csv) {
    if (row.empty() || row.back() != c)
        return false;
    size_t slashes = 0;
    while (!csv && slashes + 1 < row.size() && row[row.size() - 2 - slashes] == '\\')
        ++slashes;
    return slashes % 2 == 0;
}

} // namespace

bool copy_field_reader::read(std::string_view row, size_t max_fields) {
    m_fields.clear();
    m_built.clear();
    if (ends_in_line_end(row, '\n', m_syntax.csv))
        row.remove_suffix(1);
    if (ends_in_line_end(row, '\r', m_syntax.csv))
        row.remove_suffix(1);
    bool open_quote = false;
    for (size_t at = 0; max_fields > m_fields.size();) {
        const size_t end = m_syntax.csv ? read_csv_field(row, at, open_quote) : read_text_field(row, at);
        if (end >= row.size())
            break;
        at = end + 1;
    }
    return !open_quote;
}

// A text field from at: the delimiter that ends it (or the row's end) is
// returned. Backslash escapes are undone as copy_text_unescape reads them;
// "\<delimiter>" is data; a backslash ending the row stands for nothing, as
// the server stops there. NULL is decided on the field as written.
size_t copy_field_reader::read_text_field(std::string_view row, size_t at) {
    size_t end = find_in(row, m_syntax.delimiter, at, row.size());
    size_t slash = find_in(row, '\\', at, end);
    field f;
    if (slash < end) {
        f.built = true;
        f.value_at = m_built.size();
        size_t p = at;
        while (slash < end) {
            m_built.append(row, p, slash - p);
            if (slash + 1 == row.size()) {
                p = end = row.size();
                break;
            }
            const char* q = row.data() + slash + 2;
            bool numeric;
            m_built += static_cast<char>(copy_text_unescape(row[slash + 1], q, row.data() + row.size(), numeric));
            p = static_cast<size_t>(q - row.data());
            if (p > end) // the escape took the delimiter found: look again
                end = find_in(row, m_syntax.delimiter, p, row.size());
            slash = find_in(row, '\\', p, end);
        }
        m_built.append(row, p, end - p);
        f.value_size = m_built.size() - f.value_at;
    }
    f.written = row.substr(at, end - at);
    f.null = f.written == m_syntax.null_text;
    m_fields.push_back(f);
    return end;
}

// A CSV field from at: quoted stretches may hold delimiters and line ends;
// inside them the escape before a quote or itself is that byte. A field
// with a quote anywhere is never NULL. open_quote tells a quote left open.
size_t copy_field_reader::read_csv_field(std::string_view row, size_t at, bool& open_quote) {
    const char delimiter = m_syntax.delimiter, quote = m_syntax.quote, escape = m_syntax.escape;
    size_t end = find_in(row, delimiter, at, row.size());
    const size_t first_quote = find_in(row, quote, at, end);
    field f;
    if (first_quote < end) {
        f.built = true;
        f.value_at = m_built.size();
        m_built.append(row, at, first_quote - at);
        bool quoted = true;
        size_t i = first_quote + 1;
        for (; i < row.size() && (quoted || row[i] != delimiter); ++i) {
            const char c = row[i];
            if (quoted && c == escape && i + 1 < row.size() && (row[i + 1] == escape || row[i + 1] == quote))
                m_built += row[++i];
            else if (c == quote)
                quoted = !quoted;
            else
                m_built += c;
        }
        open_quote = quoted;
        end = i;
        f.value_size = m_built.size() - f.value_at;
    }
    f.written = row.substr(at, end - at);
    f.null = !f.built && f.written == m_syntax.null_text;
    m_fields.push_back(f);
    return end;
}

} // namespace pgpipe
