// reject_sink: the reject file of a load, shared by pgcopy and pgrec.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pgpipe {

/// Rows (or input lines) set aside, in FILE exactly as they were read, so
/// that FILE loads once fixed, with one line each in FILE.log:
///   input, line, byte_offset, sqlstate, message, detail (tab-separated,
///   under a header line; tabs and newlines in the text become spaces).
/// Both files are regular files (or new); they can be cut back to sizes
/// recorded earlier, which is how a batch that rolls back takes its rejects
/// back. Every failure throws local_error naming the file.
class reject_sink {
public:
    /// Opens FILE and FILE.log, keeping their first keep_rows and keep_log
    /// bytes (an earlier run's committed rejects) and dropping the rest.
    reject_sink(std::string path, uint64_t keep_rows = 0, uint64_t keep_log = 0);
    ~reject_sink();
    reject_sink(const reject_sink&) = delete;
    reject_sink& operator=(const reject_sink&) = delete;

    /// Adds a rejected row to rows. A text or CSV row without its line end
    /// (an input's last line, the data before a \.) gets one, so that the
    /// next reject starts a line of its own and FILE loads as it reads.
    static void add_row(std::string& rows, std::string_view row, bool lines);
    /// One line of FILE.log (byte_offset may be empty when unknown).
    static std::string log_line(std::string_view input, uint64_t line, std::string_view byte_offset,
                                std::string_view sqlstate, std::string_view message, std::string_view detail);
    /// Appends rows (raw, with their line ends) and their log lines; the log
    /// starts with its header line. header goes first into an empty FILE
    /// (a CSV header line, a binary file header).
    void append(std::string_view rows, std::string_view log_lines, std::string_view header = {});
    /// Puts what was appended on disk (fdatasync), before the rows' batch commits.
    void sync();
    /// Cuts both files back to the given sizes.
    void truncate(uint64_t rows_size, uint64_t log_size);
    /// Appends the binary trailer when FILE holds binary rows.
    void finish_binary();
    /// FILE's and FILE.log's sizes now.
    uint64_t rows_size() const noexcept { return m_rows_size; }
    uint64_t log_size() const noexcept { return m_log_size; }
    /// FILE as given.
    const std::string& path() const noexcept { return m_path; }

private:
    std::string m_path;
    int m_fd = -1, m_log_fd = -1;
    uint64_t m_rows_size = 0, m_log_size = 0;
};

} // namespace pgpipe
