// Identifiers quoted by libpq through a connection, for SQL pgpipe builds.
#include "pg/identifier.hpp"

#include "pg/connection.hpp"

namespace pgpipe {

std::string quote_qualified_name(const connection& conn, const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& part : parts) {
        if (!out.empty())
            out += '.';
        out += conn.quote_identifier(part);
    }
    return out;
}

std::string quote_name_list(const connection& conn, const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names)
        out += (out.empty() ? "" : ", ") + conn.quote_identifier(name);
    return out;
}

} // namespace pgpipe
