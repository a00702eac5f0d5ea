// reject_sink: FILE and FILE.log, written whole, synced and cut back on demand.
#include "io/reject_sink.hpp"

#include "core/error.hpp"
#include "core/fd_write.hpp"
#include "core/text.hpp"
#include "io/row_splitter.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pgpipe {
namespace {

// Both files are cut back to what committed, and FILE.log goes beside FILE:
// a device or a pipe can do neither.
void check_regular(const std::string& path) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        throw local_error("--reject-file \"" + path + "\" is not a regular file",
                          "the rejected rows go to FILE and their reasons to FILE.log beside it; a load in batches "
                          "also cuts FILE back when a batch rolls back",
                          "name a new or regular file");
}

int open_for_rejects(const std::string& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        throw local_error("could not open the reject file \"" + path + "\": " + std::strerror(errno));
    return fd;
}

} // namespace

reject_sink::reject_sink(std::string path, uint64_t keep_rows, uint64_t keep_log) : m_path(std::move(path)) {
    check_regular(m_path);
    check_regular(m_path + ".log");
    m_fd = open_for_rejects(m_path);
    try {
        m_log_fd = open_for_rejects(m_path + ".log");
        truncate(keep_rows, keep_log);
    } catch (...) {
        ::close(m_fd);
        if (m_log_fd >= 0)
            ::close(m_log_fd);
        throw;
    }
}

reject_sink::~reject_sink() {
    ::close(m_fd);
    ::close(m_log_fd);
}

std::string reject_sink::log_line(std::string_view input, uint64_t line, std::string_view byte_offset,
                                  std::string_view sqlstate, std::string_view message, std::string_view detail) {
    return one_line(input) + "\t" + std::to_string(line) + "\t" + std::string(byte_offset) + "\t" +
           std::string(sqlstate) + "\t" + one_line(message) + "\t" + one_line(detail) + "\n";
}

void reject_sink::add_row(std::string& rows, std::string_view row, bool lines) {
    rows += row;
    if (lines && !row.empty() && row.back() != '\n')
        rows += '\n';
}

void reject_sink::append(std::string_view rows, std::string_view log_lines, std::string_view header) {
    if (rows.empty() && log_lines.empty())
        return;
    std::string first_rows = m_rows_size == 0 ? std::string(header) : std::string();
    std::string first_log = m_log_size == 0 ? "input\tline\tbyte_offset\tsqlstate\tmessage\tdetail\n" : "";
    write_all(m_fd, first_rows, m_path);
    write_all(m_fd, rows, m_path);
    write_all(m_log_fd, first_log, m_path + ".log");
    write_all(m_log_fd, log_lines, m_path + ".log");
    m_rows_size += first_rows.size() + rows.size();
    m_log_size += first_log.size() + log_lines.size();
}

void reject_sink::sync() {
    if (::fdatasync(m_fd) != 0 || ::fdatasync(m_log_fd) != 0)
        throw local_error("could not write \"" + m_path + "\" to disk: " + std::strerror(errno));
}

// A failure here would let the rejects of a rolled-back batch load twice
// once fixed: it stops the load.
void reject_sink::truncate(uint64_t rows_size, uint64_t log_size) {
    auto cut = [](int fd, uint64_t size, const std::string& name) {
        if (::ftruncate(fd, static_cast<off_t>(size)) != 0 || ::lseek(fd, 0, SEEK_END) < 0)
            throw local_error("could not truncate the reject file \"" + name + "\" to " + std::to_string(size) +
                              " bytes: " + std::strerror(errno));
    };
    cut(m_fd, rows_size, m_path);
    cut(m_log_fd, log_size, m_path + ".log");
    m_rows_size = rows_size;
    m_log_size = log_size;
}

void reject_sink::finish_binary() {
    if (m_rows_size == 0)
        return;
    const std::string trailer = binary_copy_trailer();
    write_all(m_fd, trailer, m_path);
    m_rows_size += trailer.size();
}

} // namespace pgpipe
