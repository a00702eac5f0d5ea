// Identifiers quoted by libpq through a connection.
#pragma once

#include "io/sql_names.hpp"

#include <string>
#include <vector>

namespace pgpipe {

class connection;

/// Quotes each part with the connection and joins them with dots.
std::string quote_qualified_name(const connection& conn, const std::vector<std::string>& parts);

/// Quotes each name with the connection and joins them with ", " (a column list).
std::string quote_name_list(const connection& conn, const std::vector<std::string>& names);

} // namespace pgpipe
