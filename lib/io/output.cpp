// Output files and stdout, zstd compressed on request, written whole.
#include "io/output.hpp"

#include "core/fd_write.hpp"

#include "core/error.hpp"
#include "core/interrupt.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

namespace pgpipe {

output_stream::output_stream(const std::string& path, int zstd_level, bool binary_data) {
    if (path.empty() || path == "-") {
        m_fd = STDOUT_FILENO;
        // A 1 MiB pipe (the usual unprivileged maximum) instead of 64 KiB:
        // fewer wake-ups of the process at the other end. Not a pipe, or not
        // allowed: nothing changes.
        ::fcntl(m_fd, F_SETPIPE_SZ, 1 << 20);
        if (isatty(m_fd) && (binary_data || zstd_level > 0))
            throw local_error(std::string("refusing to write ") + (zstd_level > 0 ? "compressed" : "binary") +
                                  " data to a terminal",
                              {}, "redirect the output, pipe it, or use -o FILE");
    } else {
        m_path = path;
        m_fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (m_fd < 0)
            throw local_error("could not open \"" + path + "\" for writing: " + std::strerror(errno));
    }
    if (zstd_level > 0) {
        m_zstd = ZSTD_createCCtx();
        if (!m_zstd)
            throw local_error("out of memory for the zstd encoder");
        ZSTD_CCtx_setParameter(m_zstd, ZSTD_c_compressionLevel, zstd_level);
        ZSTD_CCtx_setParameter(m_zstd, ZSTD_c_checksumFlag, 1);
        m_compressed.resize(ZSTD_CStreamOutSize());
    }
}

output_stream::~output_stream() {
    if (m_zstd)
        ZSTD_freeCCtx(m_zstd);
    if (!m_path.empty() && m_fd >= 0) {
        ::close(m_fd);
        // Not closed properly: an error or a signal. A partial file must not
        // pass for a whole one.
        if (!m_closed)
            ::unlink(m_path.c_str());
    }
}

void output_stream::write_fd(const char* data, size_t size) {
    int err = write_fully(m_fd, data, size, throw_if_interrupted);
    if (err == EPIPE)
        throw broken_pipe{};
    if (err)
        throw local_error("could not write to " + (m_path.empty() ? std::string("stdout") : "\"" + m_path + "\"") +
                          ": " + std::strerror(err));
    m_bytes_out += size;
}

void output_stream::compress(std::string_view data, bool end) {
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    for (;;) {
        ZSTD_outBuffer out{m_compressed.data(), m_compressed.size(), 0};
        size_t remaining = ZSTD_compressStream2(m_zstd, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(remaining))
            throw local_error(std::string("zstd compression failed: ") + ZSTD_getErrorName(remaining));
        write_fd(m_compressed.data(), out.pos);
        if (end ? remaining == 0 : in.pos == in.size)
            return;
    }
}

void output_stream::write(std::string_view data) {
    m_bytes_in += data.size();
    if (m_zstd)
        compress(data, false);
    else
        write_fd(data.data(), data.size());
}

void output_stream::close() {
    if (m_closed)
        return;
    if (m_zstd)
        compress({}, true);
    if (!m_path.empty() && ::close(m_fd) != 0) {
        m_fd = -1;
        throw local_error("could not write \"" + m_path + "\": " + std::strerror(errno));
    }
    if (!m_path.empty())
        m_fd = -1;
    m_closed = true;
}

namespace {

// The largest count: a bigint's, as the SQL side counts rows in bigints.
constexpr uint64_t max_count = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

error count_too_large(std::string_view text) {
    return local_error("invalid row count \"" + std::string(text) + "\": too large (the maximum is " +
                       std::to_string(max_count) + ")");
}

} // namespace

uint64_t parse_count(std::string_view text) {
    std::string s(text);
    if (s.empty())
        throw local_error("empty row count");
    uint64_t multiplier = 1;
    switch (s.back()) {
    case 'k': case 'K': multiplier = 1000; s.pop_back(); break;
    case 'm': case 'M': multiplier = 1000000; s.pop_back(); break;
    case 'g': case 'G': multiplier = 1000000000; s.pop_back(); break;
    default: break;
    }
    // Plain digits exactly, without a double's rounding past 2^53.
    uint64_t whole = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), whole);
    if (!s.empty() && ptr == s.data() + s.size() && ec == std::errc::result_out_of_range)
        throw count_too_large(text);
    if (!s.empty() && ptr == s.data() + s.size() && ec == std::errc()) {
        if (whole > max_count / multiplier)
            throw count_too_large(text);
        return whole * multiplier;
    }
    char* end = nullptr;
    errno = 0;
    double value = std::strtod(s.c_str(), &end);
    bool overflow = errno == ERANGE && std::isinf(value);
    if (s.empty() || *end != '\0' || (errno != 0 && !overflow) || !(value >= 0) || (std::isinf(value) && !overflow))
        throw local_error("invalid row count \"" + std::string(text) + "\"", {}, "write it as 1000000, 1e6 or 1M");
    value *= static_cast<double>(multiplier);
    if (overflow || value >= 0x1p63)
        throw count_too_large(text);
    if (value != std::floor(value))
        throw local_error("invalid row count \"" + std::string(text) + "\": not a whole number of rows");
    return static_cast<uint64_t>(value);
}

int parse_zstd_level(std::string_view text) {
    int level = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), level);
    if (r.ec != std::errc() || r.ptr != text.data() + text.size() || level < 1 || level > 19)
        throw local_error("invalid zstd level \"" + std::string(text) + "\" (1 to 19)");
    return level;
}

uint64_t parse_size(std::string_view text) {
    std::string s(text);
    uint64_t multiplier = 1;
    if (!s.empty()) {
        switch (s.back()) {
        case 'k': case 'K': multiplier = 1ULL << 10; s.pop_back(); break;
        case 'm': case 'M': multiplier = 1ULL << 20; s.pop_back(); break;
        case 'g': case 'G': multiplier = 1ULL << 30; s.pop_back(); break;
        default: break;
        }
    }
    char* end = nullptr;
    errno = 0;
    unsigned long long value = std::strtoull(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || errno != 0 || s[0] == '-' || value > (1ULL << 50) / multiplier)
        throw local_error("invalid size \"" + std::string(text) + "\"", {}, "write it as 65536, 64k, 16M or 1G");
    return value * multiplier;
}

} // namespace pgpipe
