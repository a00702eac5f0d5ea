// The text form of a uuid as pgcopy reads it, for routing and for binary encoding alike.
#pragma once
#include "core/text.hpp"

#include <string_view>

namespace pgpipe {

/// Reads 8-4-4-4-12 hex digits, or 32 without hyphens (forms uuid_in reads
/// the same way; it would also take braces and other groupings), into 16
/// bytes; false for anything else.
inline bool parse_uuid_text(std::string_view s, unsigned char (&bytes)[16]) {
    const bool hyphens = s.size() == 36;
    if (!hyphens && s.size() != 32)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < s.size();) {
        if (hyphens && (i == 8 || i == 13 || i == 18 || i == 23)) {
            if (s[i++] != '-')
                return false;
            continue;
        }
        const int hi = hex_digit_value(s[i]), lo = hex_digit_value(s[i + 1]);
        if (hi < 0 || lo < 0 || n == 16)
            return false;
        bytes[n++] = static_cast<unsigned char>(hi << 4 | lo);
        i += 2;
    }
    return n == 16;
}

} // namespace pgpipe
