// Output files and stdout, zstd compressed on request, written whole.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

typedef struct ZSTD_CCtx_s ZSTD_CCtx;

namespace pgpipe {

/// Thrown when the reader of stdout went away (| head): a normal end.
struct broken_pipe {};

/// Where a program writes its stream: stdout or a file (-o), optionally
/// zstd-compressed, in large writes. A half-written file is removed if the
/// stream is destroyed without close().
class output_stream {
public:
    /// Opens PATH for writing, or stdout for "" or "-"; zstd_level 0 means
    /// no compression. Refuses binary or compressed data to a terminal
    /// (binary_data says whether the payload is binary). Throws local_error.
    output_stream(const std::string& path, int zstd_level, bool binary_data);
    ~output_stream();
    output_stream(const output_stream&) = delete;
    output_stream& operator=(const output_stream&) = delete;

    /// Writes (compresses) bytes. Throws broken_pipe or local_error.
    void write(std::string_view data);
    /// Ends the zstd frame, flushes, closes a file. Throws like write.
    void close();
    /// Bytes handed to write() so far (before compression).
    uint64_t bytes_in() const noexcept { return m_bytes_in; }
    /// Bytes that reached the file or pipe (after compression).
    uint64_t bytes_out() const noexcept { return m_bytes_out; }

private:
    void write_fd(const char* data, size_t size);
    void compress(std::string_view data, bool end);

    std::string m_path; // empty for stdout
    int m_fd = -1;
    bool m_closed = false;
    ZSTD_CCtx* m_zstd = nullptr;
    std::vector<char> m_compressed;
    uint64_t m_bytes_in = 0;
    uint64_t m_bytes_out = 0;
};

/// Parses a row count: "1000000", "1e6", "1M", "2.5k", "1G" (decimal
/// suffixes, as row counts are usually quoted). Throws local_error.
uint64_t parse_count(std::string_view text);
/// Parses a zstd level for --zstd (1 to 19). Throws local_error.
int parse_zstd_level(std::string_view text);

/// Parses a size in bytes: "65536", "64k", "16M", "1G" (binary suffixes:
/// KiB, MiB, GiB, as buffer sizes are). Throws local_error.
uint64_t parse_size(std::string_view text);

} // namespace pgpipe
