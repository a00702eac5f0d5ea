// Messages on stderr, prefixed with the program's name, written whole.
#include "core/log.hpp"

#include "core/fd_write.hpp"

#include "core/error.hpp"

#include <string>
#include <unistd.h>

namespace pgpipe {
namespace {

std::string g_program_name = "pgpipe";
bool g_quiet = false;

// One write(2) per message keeps lines whole when several processes of a
// pipeline share one stderr.
void write_line(std::string_view label, std::string_view message) {
    std::string line;
    line.reserve(g_program_name.size() + label.size() + message.size() + 4);
    line += g_program_name;
    line += ": ";
    line += label;
    line += message;
    line += '\n';
    log_raw(line);
}

} // namespace

void set_program_name(std::string_view argv0) {
    auto slash = argv0.rfind('/');
    g_program_name = std::string(slash == std::string_view::npos ? argv0 : argv0.substr(slash + 1));
}

std::string_view program_name() { return g_program_name; }

void set_quiet(bool q) { g_quiet = q; }
bool quiet() { return g_quiet; }

void log_error(std::string_view message) { write_line("error: ", message); }
void log_detail(std::string_view message) { write_line("detail: ", message); }
void log_hint(std::string_view message) { write_line("hint: ", message); }
void log_warning(std::string_view message) { write_line("warning: ", message); }

void log_info(std::string_view message) {
    if (!g_quiet)
        write_line("", message);
}

void log_raw(std::string_view text) {
    // Nowhere is left to report a failure to write to stderr.
    (void)write_fully(STDERR_FILENO, text.data(), text.size());
}

void log_exception(const error& e) {
    log_error(e.what());
    // Multi-line details (a server CONTEXT, say) keep their own lines.
    auto each_line = [](const std::string& text, void (*sink)(std::string_view)) {
        size_t start = 0;
        while (start < text.size()) {
            size_t end = text.find('\n', start);
            if (end == std::string::npos)
                end = text.size();
            sink(std::string_view(text).substr(start, end - start));
            start = end + 1;
        }
    };
    each_line(e.detail(), log_detail);
    each_line(e.hint(), log_hint);
    each_line(e.context(), [](std::string_view line) { write_line("context: ", line); });
}

} // namespace pgpipe
