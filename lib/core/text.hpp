// Plain-text layout shared by help screens and reports.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pgpipe {

/// Wraps text to width columns, indenting continuation lines by indent.
std::string wrap_text(const std::string& text, size_t first_column, size_t indent, size_t width);

/// The text on one line: tabs, carriage returns and newlines become spaces
/// (for tab-separated logs and one-line messages).
std::string one_line(std::string_view text);

/// The text on one line, its newlines and carriage returns shown as \n and
/// \r (for an error message that quotes a value holding them).
std::string escape_line_ends(std::string_view text);

/// The value of a hexadecimal digit, or -1.
int hex_digit_value(char c);

} // namespace pgpipe
