// pgrec's columns: read from the live table, or given offline with --columns; and the lists its options take.
#pragma once

#include "convert.hpp"
#include "pg/connection.hpp"

#include <string>
#include <vector>

namespace pgpipe {

/// The columns pgrec fills in a live table: every column but generated
/// ones, and but serial or identity ones unless with_ids or named in keep;
/// those it leaves out are added to server_filled. Throws local_error for a
/// type pgrec does not convert.
std::vector<record_column> live_columns(connection& conn, const std::string& table, bool with_ids,
                                        const std::vector<std::string>& keep, std::vector<std::string>& server_filled);

/// The columns of --columns name:type,... (no defaults known). Throws local_error.
std::vector<record_column> offline_columns(const std::string& spec);

/// text split at the commas outside parentheses and double quotes
/// ("a:numeric(6,2),b:text" is two parts).
std::vector<std::string> split_outside_parens(const std::string& text);

} // namespace pgpipe
