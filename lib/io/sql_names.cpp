// SQL names as the server reads them: qualified names and column lists split,
// folded and unquoted, with no connection needed.
#include "io/sql_names.hpp"

#include "core/error.hpp"

namespace pgpipe {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Reads one identifier starting at pos; leaves pos after it.
std::string read_identifier(std::string_view text, size_t& pos, std::string_view whole) {
    std::string name;
    if (pos < text.size() && text[pos] == '"') {
        size_t start = pos;
        ++pos;
        for (;;) {
            if (pos >= text.size())
                throw local_error("unterminated quoted identifier in \"" + std::string(whole) +
                                  "\" at character " + std::to_string(start + 1));
            if (text[pos] == '"') {
                if (pos + 1 < text.size() && text[pos + 1] == '"') {
                    name += '"';
                    pos += 2;
                    continue;
                }
                ++pos;
                break;
            }
            name += text[pos++];
        }
        if (name.empty())
            throw local_error("zero-length quoted identifier in \"" + std::string(whole) + "\"");
        return name;
    }
    while (pos < text.size() && text[pos] != '.' && text[pos] != ',' && !is_space(text[pos])) {
        char c = text[pos++];
        if (c == '"')
            throw local_error("unexpected quote inside name \"" + std::string(whole) + "\"");
        // The server folds unquoted names to lower case (ASCII only).
        name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    if (name.empty())
        throw local_error("empty name in \"" + std::string(whole) + "\"");
    return name;
}

void skip_spaces(std::string_view text, size_t& pos) {
    while (pos < text.size() && is_space(text[pos]))
        ++pos;
}

} // namespace

std::vector<std::string> parse_qualified_name(std::string_view text) {
    std::vector<std::string> parts;
    size_t pos = 0;
    skip_spaces(text, pos);
    for (;;) {
        parts.push_back(read_identifier(text, pos, text));
        skip_spaces(text, pos);
        if (pos >= text.size())
            break;
        if (text[pos] != '.')
            throw local_error("unexpected character '" + std::string(1, text[pos]) + "' in name \"" +
                              std::string(text) + "\" at character " + std::to_string(pos + 1));
        ++pos;
        skip_spaces(text, pos);
    }
    if (parts.size() > 3)
        throw local_error("too many dotted parts in name \"" + std::string(text) + "\"");
    return parts;
}

std::vector<std::string> parse_name_list(std::string_view text) {
    std::vector<std::string> names;
    size_t pos = 0;
    skip_spaces(text, pos);
    for (;;) {
        names.push_back(read_identifier(text, pos, text));
        skip_spaces(text, pos);
        if (pos >= text.size())
            break;
        if (text[pos] != ',')
            throw local_error("expected ',' in column list \"" + std::string(text) + "\" at character " +
                              std::to_string(pos + 1));
        ++pos;
        skip_spaces(text, pos);
    }
    return names;
}

std::string quote_identifier_if_needed(std::string_view name) {
    bool plain = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
    for (char c : name)
        plain = plain && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
    if (plain)
        return std::string(name);
    std::string out = "\"";
    for (char c : name) {
        if (c == '"')
            out += '"';
        out += c;
    }
    return out + "\"";
}

} // namespace pgpipe
