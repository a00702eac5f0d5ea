// Input files and stdin, zstd decompressed on the fly, other compressions refused by name.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

typedef struct ZSTD_DCtx_s ZSTD_DStream;

namespace pgpipe {

/// Whether the bytes start a zstd frame (or a skippable frame).
bool starts_with_zstd_magic(const unsigned char* data, size_t size);

/// A file or stdin read in large chunks; zstd frames are detected by their
/// magic number and decompressed as a stream, so memory stays flat.
class input_stream {
public:
    /// Opens PATH, or stdin for "-". Throws local_error naming the file.
    explicit input_stream(const std::string& path);
    ~input_stream();
    input_stream(const input_stream&) = delete;
    input_stream& operator=(const input_stream&) = delete;

    /// Reads up to cap decompressed bytes; 0 only at the end. Throws
    /// local_error on a read error or a truncated or corrupt zstd frame.
    size_t read(char* dst, size_t cap);
    /// Gives bytes back: the next reads return them first (for a look at
    /// an input's first bytes before deciding how to load it).
    void unread(std::string_view bytes) { m_pushback.assign(bytes); m_pushback_pos = 0; }
    /// The name used in messages: the path, or "stdin".
    const std::string& name() const noexcept { return m_name; }
    /// Whether the input turned out to be zstd-compressed (known after the first read).
    bool compressed() const noexcept { return m_zstd != nullptr; }
    /// Bytes consumed from the file or pipe itself (compressed, if it is).
    uint64_t raw_bytes_read() const noexcept { return m_raw_read; }
    /// The file's size when it is a regular file.
    std::optional<uint64_t> raw_size() const noexcept { return m_raw_size; }

private:
    size_t read_raw(char* dst, size_t cap);
    void start();
    void refuse_other_compression() const;
    size_t read_zstd(char* dst, size_t cap);

    std::string m_name;
    int m_fd = -1;
    bool m_owns_fd = false;
    bool m_started = false;
    bool m_raw_eof = false;
    std::optional<uint64_t> m_raw_size;
    uint64_t m_raw_read = 0;
    std::vector<char> m_raw;  // compressed input, or the bytes read to sniff the magic
    size_t m_raw_pos = 0;
    size_t m_raw_len = 0;
    std::string m_pushback; // bytes given back by unread()
    size_t m_pushback_pos = 0;
    ZSTD_DStream* m_zstd = nullptr;
    size_t m_frame_remaining = 0; // last ZSTD_decompressStream hint: 0 at a frame boundary
    bool m_output_full = false;   // decoder may hold output it could not hand over
};

/// The name messages use for an input: "stdin" for "-", else the path.
inline std::string input_display_name(const std::string& path) { return path == "-" ? "stdin" : path; }

/// The inputs to read: the paths given, or standard input ("-") when none is.
std::vector<std::string> inputs_or_stdin(const std::vector<std::string>& given);

/// Checks that each path can be opened for reading ("-" always can); throws
/// local_error naming the first that cannot, before any work starts.
void check_inputs_readable(const std::vector<std::string>& paths);

/// The size of PATH if it is a regular file (by stat, without opening it).
std::optional<uint64_t> regular_file_size(const std::string& path);

} // namespace pgpipe
