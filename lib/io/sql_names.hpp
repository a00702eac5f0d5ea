// SQL names as the server reads them, without a connection.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgpipe {

/// Splits a possibly schema-qualified SQL name ("s.t", "\"We.ird \"\"name\"\"\"")
/// into its parts as the server would read them: unquoted parts folded to
/// lower case, quoted parts kept with "" undoubled. Throws local_error.
std::vector<std::string> parse_qualified_name(std::string_view text);

/// Splits a comma-separated column list ("a, \"B c\"") into names, folded and
/// unquoted as parse_qualified_name does. Throws local_error.
std::vector<std::string> parse_name_list(std::string_view text);

/// Quotes a name the way SQL needs it, without a connection: as it is when it
/// is a plain lower-case name, else in double quotes (for --ddl and column
/// lists printed for pgcopy -c).
std::string quote_identifier_if_needed(std::string_view name);

} // namespace pgpipe
