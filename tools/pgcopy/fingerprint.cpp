// fingerprint: a word-at-a-time multiply-xor hash with a carry for the bytes
// of a word cut between two calls.
#include "fingerprint.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace pgpipe {

void fingerprint::mix(uint64_t word) noexcept {
    m_state ^= word;
    m_state *= 0x9E3779B97F4A7C15ull;
    m_state ^= m_state >> 29;
}

void fingerprint::update(const char* data, size_t size) {
    m_size += size;
    if (m_carried > 0) {
        size_t take = std::min(size, sizeof m_carry - m_carried);
        std::memcpy(m_carry + m_carried, data, take);
        m_carried += take;
        data += take;
        size -= take;
        if (m_carried < sizeof m_carry)
            return;
        uint64_t word;
        std::memcpy(&word, m_carry, sizeof word);
        mix(word);
        m_carried = 0;
    }
    for (; size >= 8; data += 8, size -= 8) {
        uint64_t word;
        std::memcpy(&word, data, sizeof word); // unaligned-safe; compiles to one load
        mix(word);
    }
    std::memcpy(m_carry, data, size);
    m_carried = size;
}

std::string fingerprint::hex() const {
    fingerprint last = *this;
    uint64_t word = 0;
    std::memcpy(&word, last.m_carry, last.m_carried);
    last.mix(word);
    last.mix(m_size);
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(last.m_state));
    return out;
}

std::string fingerprint_of(const char* data, size_t size) {
    fingerprint f;
    f.update(data, size);
    return f.hex();
}

} // namespace pgpipe
