// Plain-text layout: words wrapped to a width.
#include "core/text.hpp"

namespace pgpipe {

std::string wrap_text(const std::string& text, size_t first_column, size_t indent, size_t width) {
    std::string out;
    size_t column = first_column;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find(' ', pos);
        if (end == std::string::npos)
            end = text.size();
        std::string word = text.substr(pos, end - pos);
        if (column > indent && column + 1 + word.size() > width) {
            out += "\n" + std::string(indent, ' ');
            column = indent;
        } else if (column > first_column || (column > indent && pos > 0)) {
            out += ' ';
            ++column;
        }
        out += word;
        column += word.size();
        pos = end + 1;
    }
    return out;
}

std::string escape_line_ends(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text)
        out += c == '\n' ? std::string_view("\\n") : c == '\r' ? std::string_view("\\r") : std::string_view(&c, 1);
    return out;
}

std::string one_line(std::string_view text) {
    std::string out(text);
    for (auto& c : out)
        if (c == '\n' || c == '\t' || c == '\r')
            c = ' ';
    return out;
}

int hex_digit_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace pgpipe
