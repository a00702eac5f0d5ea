// fingerprint: a running 64-bit hash of a byte stream, for recognising input
// that changed between a load and its resumption.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pgpipe {

/// A hash of every byte given to update(), in order; how the bytes were cut
/// into calls does not change it. Not cryptographic: it tells a rerun whose
/// input differs from the first run's, it does not resist a forger.
class fingerprint {
public:
    /// Adds size bytes.
    void update(const char* data, size_t size);
    /// The hash of the bytes so far, as 16 hex digits.
    std::string hex() const;

private:
    void mix(uint64_t word) noexcept;
    uint64_t m_state = 0x243F6A8885A308D3ull;
    uint64_t m_size = 0;
    unsigned char m_carry[8] = {};
    size_t m_carried = 0;
};

/// The fingerprint of one buffer.
std::string fingerprint_of(const char* data, size_t size);

} // namespace pgpipe
