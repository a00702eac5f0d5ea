// Catalog queries: a live table's columns and constraints, ON CONFLICT clauses.
#include "pg/schema.hpp"

#include "pg/connection.hpp"
#include "pg/identifier.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <regex>

namespace pgpipe {
namespace {

result_ptr query_params(connection& conn, const char* sql, const std::string& param) {
    const char* values[] = {param.c_str()};
    result_ptr r(PQexecParams(conn.get(), sql, 1, nullptr, values, nullptr, nullptr, 0), PQclear);
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
        throw server_error(r.get(), conn.get());
    return r;
}

std::vector<int> parse_int_array(const std::string& text) {
    std::vector<int> out;
    const char* p = text.c_str();
    while (*p) {
        if (*p >= '0' && *p <= '9') {
            char* end;
            out.push_back(static_cast<int>(std::strtol(p, &end, 10)));
            p = end;
        } else {
            ++p;
        }
    }
    return out;
}

} // namespace

std::vector<std::string> table_column_names(connection& conn, const std::string& table_sql) {
    result_ptr r = conn.query("SELECT attname FROM pg_attribute WHERE attrelid = " + conn.quote_literal(table_sql) +
                              "::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum");
    std::vector<std::string> out;
    for (int k = 0; k < PQntuples(r.get()); ++k)
        out.emplace_back(PQgetvalue(r.get(), k, 0));
    return out;
}

std::vector<std::string> check_header_names(connection& conn, const std::string& table_sql, const std::string& table,
                                            const std::vector<std::string>& names, const std::string& input) {
    const std::vector<std::string> columns = table_column_names(conn, table_sql);
    for (size_t k = 0; k < names.size(); ++k) {
        const std::string& name = names[k];
        const std::string where = input + ":1: the header's field " + std::to_string(k + 1) + " ";
        if (std::find(columns.begin(), columns.end(), name) == columns.end())
            throw local_error(where + "names \"" + name + "\", which is not a column of " + table, {},
                              "fix the header, or name the file's columns with -c (in the file's order)");
        if (std::find(names.begin(), names.begin() + static_cast<ptrdiff_t>(k), name) != names.begin() + static_cast<ptrdiff_t>(k))
            throw local_error(where + "names \"" + name + "\" a second time");
    }
    return names;
}

std::vector<std::string> insertable_columns(connection& conn, const std::string& table_sql) {
    // Quoted by libpq, like the names given with -c, so that lists compare.
    std::vector<std::string> out = table_column_names(conn, table_sql);
    for (auto& name : out)
        name = conn.quote_identifier(name);
    return out;
}

conflict_action parse_conflict_action(std::string_view text) {
    if (text.empty())
        return conflict_action::none;
    if (text == "ignore")
        return conflict_action::ignore;
    if (text == "update")
        return conflict_action::update;
    throw local_error("invalid --on-conflict \"" + std::string(text) + "\" (ignore or update)");
}

std::string on_conflict_clause(connection& conn, const std::string& table_sql, const std::vector<std::string>& columns,
                               bool update, const std::optional<std::string>& key_columns) {
    std::vector<std::string> keys;
    if (key_columns) {
        for (const auto& name : parse_name_list(*key_columns))
            keys.push_back(conn.quote_identifier(name));
    } else if (update) {
        result_ptr r = conn.query("SELECT a.attname FROM pg_index i JOIN pg_attribute a"
                                  " ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
                                  " WHERE i.indrelid = " + conn.quote_literal(table_sql) +
                                  "::regclass AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)");
        for (int k = 0; k < PQntuples(r.get()); ++k)
            keys.push_back(conn.quote_identifier(PQgetvalue(r.get(), k, 0)));
        if (keys.empty())
            throw local_error("--on-conflict update needs --conflict-columns: " + table_sql + " has no primary key");
    }
    std::string clause = " ON CONFLICT";
    if (!keys.empty()) {
        clause += " (";
        for (size_t k = 0; k < keys.size(); ++k)
            clause += (k ? ", " : "") + keys[k];
        clause += ")";
    }
    std::string sets;
    if (update)
        for (const auto& col : columns)
            if (std::find(keys.begin(), keys.end(), col) == keys.end())
                sets += (sets.empty() ? "" : ", ") + col + " = EXCLUDED." + col;
    return clause + (sets.empty() ? " DO NOTHING" : " DO UPDATE SET " + sets);
}

namespace {

// The columns' catalog rows, in attnum order; a missing table or schema is
// the user's mistake (local_error), anything else the server's.
result_ptr query_columns(connection& conn, const std::string& quoted_name) {
    try {
        return query_params(conn,
            "SELECT a.attnum, a.attname, a.atttypid, a.atttypmod, a.attnotnull, t.typtype, t.typcategory,"
            "       t.typelem, et.typtype, format_type(a.atttypid, a.atttypmod),"
            "       coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attidentity, a.attgenerated,"
            "       (SELECT string_agg(e.enumlabel, E'\\n' ORDER BY e.enumsortorder) FROM pg_enum e"
            "         WHERE e.enumtypid = CASE WHEN t.typcategory = 'A' THEN t.typelem ELSE t.oid END)"
            "  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
            "  LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'"
            "  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            " WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped"
            " ORDER BY a.attnum",
            quoted_name);
    } catch (const server_error& e) {
        if (e.sqlstate() == "42P01" || e.sqlstate() == "3F000")
            throw local_error(e.what(), {}, "create the table first, or name it as \\d would: schema.table");
        throw;
    }
}

// The encodable type of a column from its catalog fields (typtype,
// typcategory, typelem, the element's typtype); empty when pgpipe has no
// encoding for it.
std::optional<column_type> encodable_type(uint32_t oid, const std::string& typtype, const std::string& category,
                                          uint32_t elem, const std::string& elem_typtype) {
    column_type type;
    if (category == "A") {
        type.is_array = true;
        if (elem_typtype == "e") {
            type.base = pg_type::enumeration;
            type.enum_oid = elem;
            return type;
        }
        oid = elem;
    } else if (typtype == "e") {
        type.base = pg_type::enumeration;
        type.enum_oid = oid;
        return type;
    }
    auto base = type_from_oid(oid);
    if (!base)
        return std::nullopt;
    type.base = *base;
    return type;
}

// Splits string_agg's newline-separated enum labels.
std::vector<std::string> split_labels(const std::string& labels) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= labels.size()) {
        size_t nl = labels.find('\n', start);
        out.push_back(labels.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
        if (nl == std::string::npos)
            break;
        start = nl + 1;
    }
    return out;
}

// One row of query_columns as a table_column.
table_column column_from_row(const PGresult* cols, int r) {
    auto get = [&](int c) { return std::string(PQgetvalue(cols, r, c)); };
    table_column col;
    col.name = get(1);
    col.not_null = get(4) == "t";
    col.type_name = get(9);
    col.server_filled = !get(11).empty() || !get(12).empty() || get(10).rfind("nextval(", 0) == 0;
    col.generated_always = !get(12).empty();
    // The element's OID is only read for arrays: elsewhere typelem may be 0 or another type's.
    uint32_t oid = static_cast<uint32_t>(std::stoul(get(2)));
    uint32_t elem = get(6) == "A" ? static_cast<uint32_t>(std::stoul(get(7))) : 0;
    std::optional<column_type> type = encodable_type(oid, get(5), get(6), elem, get(8));
    if (!PQgetisnull(cols, r, 13))
        col.enum_labels = split_labels(get(13));
    if (type) {
        apply_typmod(*type, std::stoi(get(3)));
        if (type->base == pg_type::bpchar && type->length < 0)
            type->length = 1;
        type->name = col.type_name;
        col.type = std::move(type);
    }
    return col;
}

// Tightens col's range by one comparison of a CHECK (op is >=, >, <= or <).
void narrow_range(table_column& col, const std::string& op, double bound) {
    if (op[0] == '>') {
        if (!col.check_min || bound > *col.check_min) {
            col.check_min = bound;
            col.check_min_strict = op == ">";
        }
    } else if (!col.check_max || bound < *col.check_max) {
        col.check_max = bound;
        col.check_max_strict = op == "<";
    }
}

// Applies a CHECK's definition to the columns it bounds; false when it is
// not of a simple range form.
bool apply_check(std::vector<table_column>& columns, const std::string& def) {
    // (col >= 5), (col < '10'::numeric), ((col)::numeric > 0.5): the simple
    // range forms a CHECK can take after the server has normalized it.
    static const std::regex comparison(
        R"re(\(+"?([A-Za-z_][A-Za-z0-9_$]*)"?\)?(?:::[a-z ]+)?\s*(>=|<=|>|<)\s*\(*'?(-?[0-9]+(?:\.[0-9]+)?)'?\)*(?:::[a-z ]+)?\))re");
    // Only AND-ed comparisons are ranges; an OR or a function is not.
    if (def.find(" OR ") != std::string::npos)
        return false;
    bool understood = false;
    for (auto it = std::sregex_iterator(def.begin(), def.end(), comparison); it != std::sregex_iterator(); ++it) {
        std::string name = (*it)[1], op = (*it)[2];
        double bound = std::stod((*it)[3]);
        for (auto& col : columns) {
            if (col.name != name)
                continue;
            understood = true;
            narrow_range(col, op, bound);
        }
    }
    return understood;
}

// Marks unique columns, foreign keys and CHECK ranges from the table's
// constraints (by_attnum maps attnum to the index in schema.columns).
void apply_constraints(connection& conn, table_schema& schema, std::map<int, size_t>& by_attnum) {
    result_ptr cons = query_params(conn,
        "SELECT c.contype, c.conkey::text, pg_get_constraintdef(c.oid), c.conname,"
        "       coalesce(c.confrelid::regclass::text, ''),"
        "       coalesce((SELECT quote_ident(attname) FROM pg_attribute"
        "                  WHERE attrelid = c.confrelid AND attnum = c.confkey[1]), '')"
        "  FROM pg_constraint c WHERE c.conrelid = $1::regclass ORDER BY c.conname",
        schema.quoted_name);
    for (int r = 0; r < PQntuples(cons.get()); ++r) {
        std::string type = PQgetvalue(cons.get(), r, 0);
        std::vector<int> keys = parse_int_array(PQgetvalue(cons.get(), r, 1));
        std::string def = PQgetvalue(cons.get(), r, 2);
        bool first_known = !keys.empty() && by_attnum.count(keys[0]);
        if ((type == "p" || type == "u") && first_known) {
            // Unique by construction on the first column makes the whole key unique.
            schema.columns[by_attnum[keys[0]]].unique = true;
        } else if (type == "f" && keys.size() == 1 && first_known) {
            auto& col = schema.columns[by_attnum[keys[0]]];
            col.references_table = PQgetvalue(cons.get(), r, 4);
            col.references_column = PQgetvalue(cons.get(), r, 5);
        } else if (type == "c" && !apply_check(schema.columns, def)) {
            schema.ignored_checks.push_back(std::string(PQgetvalue(cons.get(), r, 3)) + ": " + def);
        }
    }
}

} // namespace

table_schema read_table_schema(connection& conn, const std::string& table) {
    table_schema schema;
    schema.quoted_name = quote_qualified_name(conn, parse_qualified_name(table));
    result_ptr cols = query_columns(conn, schema.quoted_name);
    std::map<int, size_t> by_attnum;
    for (int r = 0; r < PQntuples(cols.get()); ++r) {
        by_attnum[std::stoi(PQgetvalue(cols.get(), r, 0))] = schema.columns.size();
        schema.columns.push_back(column_from_row(cols.get(), r));
    }
    apply_constraints(conn, schema, by_attnum);
    return schema;
}

} // namespace pgpipe
