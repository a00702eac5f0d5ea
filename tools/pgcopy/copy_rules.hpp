// The rules on pgcopy's options and their combinations, checked once before anything is opened or connected.
#pragma once

#include "copy_options.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pgpipe {

/// The inputs' total size, if every one is a regular file.
std::optional<uint64_t> total_input_size(const std::vector<std::string>& inputs);

/// Parses --max-rejects N or N% into options. Throws a usage failure.
void parse_max_rejects(const std::string& text, copy_load_options& options);

/// Checks every rule on the options and their combinations, before anything
/// is opened or connected: the one place each rule lives. Throws error
/// (a usage failure for a bad value, local_error for a refused combination).
void validate_copy_load(const copy_load_options& options);

/// Whether rows in format f are plain COPY text: tab, \\N, the client's encoding.
bool plain_text_format(const copy_format_options& f);

} // namespace pgpipe
