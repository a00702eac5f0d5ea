// hex: bytes as lower-case hex digits, for comparing binary encodings in tests.
#pragma once

#include <string>
#include <string_view>

namespace pgpipe::test {

/// The bytes as two hex digits each ("0001ff").
inline std::string hex(std::string_view bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

} // namespace pgpipe::test
