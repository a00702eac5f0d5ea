// Plain-text layout shared by help screens and reports.
#pragma once

#include <cstddef>
#include <string>

namespace pgpipe {

/// Wraps text to width columns, indenting continuation lines by indent.
std::string wrap_text(const std::string& text, size_t first_column, size_t indent, size_t width);

} // namespace pgpipe
