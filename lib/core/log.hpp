// Messages on stderr, prefixed with the program's name; --quiet.
#pragma once

#include <string_view>

namespace pgpipe {

class error;

/// Sets the name every message is prefixed with (usually argv[0]'s basename).
void set_program_name(std::string_view argv0);
/// The program name set by set_program_name.
std::string_view program_name();

/// Suppresses info-level messages (summaries, notes) when true; errors still show.
void set_quiet(bool quiet);
/// Whether info-level messages are suppressed.
bool quiet();

/// "PROG: error: MESSAGE" on stderr.
void log_error(std::string_view message);
/// "PROG: detail: MESSAGE" on stderr, following an error.
void log_detail(std::string_view message);
/// "PROG: hint: MESSAGE" on stderr, following an error.
void log_hint(std::string_view message);
/// "PROG: warning: MESSAGE" on stderr.
void log_warning(std::string_view message);
/// "PROG: MESSAGE" on stderr unless quiet.
void log_info(std::string_view message);
/// Writes raw text to stderr (progress lines); nothing is added.
void log_raw(std::string_view text);
/// Reports an error with its detail and hint lines.
void log_exception(const error& e);

} // namespace pgpipe
