// Input files and stdin: reads, zstd, signatures of refused compressions.
#include "io/input.hpp"

#include "core/error.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

namespace pgpipe {
namespace {

std::string could_not(const char* what, const std::string& name, int err) {
    return std::string("could not ") + what + " \"" + name + "\": " + std::strerror(err);
}

} // namespace

bool starts_with_zstd_magic(const unsigned char* d, size_t size) {
    if (size < 4)
        return false;
    // 0xFD2FB528 little-endian: a zstd frame.
    if (d[0] == 0x28 && d[1] == 0xB5 && d[2] == 0x2F && d[3] == 0xFD)
        return true;
    // 0x184D2A50..0x184D2A5F: a skippable frame (pzstd and others write them first).
    return (d[0] & 0xF0) == 0x50 && d[1] == 0x2A && d[2] == 0x4D && d[3] == 0x18;
}

input_stream::input_stream(const std::string& path) {
    m_name = input_display_name(path);
    if (path == "-") {
        m_fd = STDIN_FILENO;
        ::fcntl(m_fd, F_SETPIPE_SZ, 1 << 20); // as output_stream does: fewer wake-ups
    } else {
        m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (m_fd < 0)
            throw local_error(could_not("open", path, errno));
        m_owns_fd = true;
    }
    struct stat st;
    if (::fstat(m_fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            if (m_owns_fd)
                ::close(m_fd);
            throw local_error(could_not("read", m_name, EISDIR));
        }
        if (S_ISREG(st.st_mode)) {
            m_raw_size = static_cast<uint64_t>(st.st_size);
            ::posix_fadvise(m_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        }
    }
}

input_stream::~input_stream() {
    if (m_zstd)
        ZSTD_freeDStream(m_zstd);
    if (m_owns_fd)
        ::close(m_fd);
}

size_t input_stream::read_raw(char* dst, size_t cap) {
    for (;;) {
        // A signal that came before the read must not wait for input that may never come.
        throw_if_interrupted();
        ssize_t n = ::read(m_fd, dst, cap);
        if (n >= 0) {
            m_raw_read += static_cast<uint64_t>(n);
            return static_cast<size_t>(n);
        }
        if (errno == EINTR)
            continue; // checked at the top of the loop
        throw local_error(could_not("read", m_name, errno));
    }
}

void input_stream::start() {
    m_started = true;
    m_raw.resize(ZSTD_DStreamInSize());
    // Sniff at least four bytes: a pipe may hand them over one at a time.
    while (m_raw_len < 4) {
        size_t n = read_raw(m_raw.data() + m_raw_len, m_raw.size() - m_raw_len);
        if (n == 0) {
            m_raw_eof = true;
            break;
        }
        m_raw_len += n;
    }
    refuse_other_compression();
    if (starts_with_zstd_magic(reinterpret_cast<const unsigned char*>(m_raw.data()), m_raw_len)) {
        m_zstd = ZSTD_createDStream();
        if (!m_zstd)
            throw local_error("out of memory for the zstd decoder");
        ZSTD_initDStream(m_zstd);
        m_frame_remaining = 1;
    }
}

// gzip, bzip2 and xz are not decompressed here: say so by name, rather than
// let the server report a byte sequence that is invalid in the encoding.
void input_stream::refuse_other_compression() const {
    static const struct {
        const char* name;
        std::string_view magic;
        const char* tool;
    } formats[] = {
        {"gzip", std::string_view("\x1f\x8b", 2), "zcat"},
        {"bzip2", std::string_view("BZh", 3), "bzcat"},
        {"xz", std::string_view("\xfd" "7zXZ\0", 6), "xzcat"},
    };
    std::string_view head(m_raw.data(), m_raw_len);
    for (const auto& f : formats) {
        // bzip2's "BZh" could start a row: its block magic (pi's digits) must follow.
        const bool bzip2_block = head.size() >= 10 && head[3] >= '1' && head[3] <= '9' &&
                                 head.substr(4, 6) == std::string_view("\x31\x41\x59\x26\x53\x59", 6);
        if (head.substr(0, f.magic.size()) != f.magic || (f.magic == "BZh" && !bzip2_block))
            continue;
        throw local_error("\"" + m_name + "\": " + f.name + " input: decompress it first (" + f.tool + " … | " +
                              std::string(program_name()) + " …)",
                          std::string("it starts with the ") + f.name + " signature; of the compressed formats only zstd is read as it is");
    }
}

size_t input_stream::read(char* dst, size_t cap) {
    if (m_pushback_pos < m_pushback.size()) {
        size_t n = std::min(cap, m_pushback.size() - m_pushback_pos);
        std::memcpy(dst, m_pushback.data() + m_pushback_pos, n);
        m_pushback_pos += n;
        return n;
    }
    if (!m_started)
        start();
    if (m_zstd)
        return read_zstd(dst, cap);
    if (m_raw_pos < m_raw_len) {
        size_t n = std::min(cap, m_raw_len - m_raw_pos);
        std::memcpy(dst, m_raw.data() + m_raw_pos, n);
        m_raw_pos += n;
        return n;
    }
    if (m_raw_eof)
        return 0;
    return read_raw(dst, cap);
}

size_t input_stream::read_zstd(char* dst, size_t cap) {
    ZSTD_outBuffer out{dst, cap, 0};
    for (;;) {
        if (m_raw_pos == m_raw_len && !m_output_full) {
            if (!m_raw_eof) {
                m_raw_len = read_raw(m_raw.data(), m_raw.size());
                m_raw_pos = 0;
                if (m_raw_len == 0)
                    m_raw_eof = true;
            }
            if (m_raw_eof) {
                if (m_frame_remaining != 0)
                    throw local_error("\"" + m_name + "\": truncated zstd frame: input ends at byte offset " +
                                          std::to_string(m_raw_read) + " inside a frame",
                                      "the compressed file is incomplete (an interrupted download or copy?)");
                return out.pos;
            }
        }
        ZSTD_inBuffer in{m_raw.data(), m_raw_len, m_raw_pos};
        size_t hint = ZSTD_decompressStream(m_zstd, &out, &in);
        if (ZSTD_isError(hint)) {
            uint64_t offset = m_raw_read - (m_raw_len - in.pos);
            throw local_error("\"" + m_name + "\": corrupt zstd data near byte offset " +
                              std::to_string(offset) + ": " + ZSTD_getErrorName(hint));
        }
        m_raw_pos = in.pos;
        m_frame_remaining = hint;
        m_output_full = out.pos == out.size;
        if (m_output_full)
            return out.pos;
        // Hand over what we have rather than block on the next read of a slow pipe.
        if (out.pos > 0 && m_raw_pos == m_raw_len)
            return out.pos;
    }
}

std::vector<std::string> inputs_or_stdin(const std::vector<std::string>& given) {
    return given.empty() ? std::vector<std::string>{"-"} : given;
}

void check_inputs_readable(const std::vector<std::string>& paths) {
    // stat and access, never open: opening a named pipe to look at it would
    // take the writer's first connection, and a device could have side effects.
    for (const auto& path : paths) {
        if (path == "-")
            continue;
        struct stat st;
        if (::stat(path.c_str(), &st) != 0)
            throw local_error(could_not("open", path, errno));
        if (S_ISDIR(st.st_mode))
            throw local_error(could_not("read", path, EISDIR));
        if (::access(path.c_str(), R_OK) != 0)
            throw local_error(could_not("open", path, errno));
    }
}

std::optional<uint64_t> regular_file_size(const std::string& path) {
    struct stat st;
    if (path == "-" || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
        return std::nullopt;
    return static_cast<uint64_t>(st.st_size);
}

} // namespace pgpipe
