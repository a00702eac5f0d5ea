// pgrec's columns: the live table's (types, defaults, server-filled ones) or those of --columns.
#include "columns.hpp"

#include "core/error.hpp"
#include "io/sql_names.hpp"
#include "pg/schema.hpp"

#include <algorithm>

namespace pgpipe {

std::vector<record_column> live_columns(connection& conn, const std::string& table, bool with_ids,
                                        const std::vector<std::string>& keep, std::vector<std::string>& server_filled) {
    table_schema schema = read_table_schema(conn, table);
    std::vector<record_column> out;
    for (const auto& c : schema.columns) {
        bool kept = std::find(keep.begin(), keep.end(), c.name) != keep.end();
        if (c.generated_always || (c.server_filled && !with_ids && !kept)) {
            server_filled.push_back(c.name);
            continue;
        }
        if (!c.type)
            throw local_error("column " + c.name + " of " + table + " has type " + c.type_name +
                                  ", which pgrec does not convert",
                              {}, "give the types offline with --columns, e.g. " + c.name + ":text");
        out.push_back({c.name, *c.type, c.enum_labels});
    }
    // Identity columns count as defaulted: their next value is what an
    // absent key gets when --with-ids writes them.
    result_ptr r = conn.query("SELECT attname FROM pg_attribute WHERE attrelid = " +
                              conn.quote_literal(schema.quoted_name) +
                              "::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''"
                              " AND (atthasdef OR attidentity <> '')");
    for (int k = 0; k < PQntuples(r.get()); ++k)
        for (auto& c : out)
            if (c.name == PQgetvalue(r.get(), k, 0))
                c.has_default = true;
    return out;
}

std::vector<record_column> offline_columns(const std::string& spec) {
    std::vector<record_column> out;
    for (const auto& part : split_outside_parens(spec)) {
        auto colon = part.find(':');
        if (colon == std::string::npos)
            throw local_error("--columns wants name:type pairs, not \"" + part + "\"");
        auto names = parse_name_list(part.substr(0, colon));
        if (names.size() != 1)
            throw local_error("--columns: \"" + part.substr(0, colon) + "\" is not one column name");
        out.push_back({names[0], parse_type_name(part.substr(colon + 1)), {}});
    }
    return out;
}

std::vector<std::string> split_outside_parens(const std::string& text) {
    std::vector<std::string> parts;
    std::string current;
    int depth = 0;
    bool quoted_name = false;
    for (char c : text) {
        if (c == '"')
            quoted_name = !quoted_name;
        if (!quoted_name) {
            if (c == '(')
                ++depth;
            if (c == ')')
                --depth;
            if (c == ',' && depth == 0) {
                parts.push_back(current);
                current.clear();
                continue;
            }
        }
        current += c;
    }
    if (!current.empty())
        parts.push_back(current);
    return parts;
}

} // namespace pgpipe
