// pgcopy --reserve-ids: finding the sequence-filled column, and reserving blocks of its values.
#include "id_blocks.hpp"

#include "pg/connection.hpp"

#include <algorithm>

namespace pgpipe {

std::optional<sequence_column> find_sequence_column(connection& conn, const std::string& table_sql,
                                                    const std::vector<std::string>& loaded, std::string& why_not) {
    // pg_get_serial_sequence covers serial and identity columns alike.
    result_ptr r = conn.query(
        "SELECT a.attname, format_type(a.atttypid, NULL), s.seqincrement, seq::text"
        "  FROM pg_attribute a, LATERAL pg_get_serial_sequence(" + conn.quote_literal(table_sql) +
        ", a.attname) AS seq JOIN pg_sequence s ON s.seqrelid = seq::regclass"
        " WHERE a.attrelid = " + conn.quote_literal(table_sql) + "::regclass AND a.attnum > 0"
        "   AND NOT a.attisdropped AND seq IS NOT NULL ORDER BY a.attnum");
    why_not = "no column of the table is filled from a sequence";
    for (int k = 0; k < PQntuples(r.get()); ++k) {
        std::string name = PQgetvalue(r.get(), k, 0);
        if (std::find(loaded.begin(), loaded.end(), name) != loaded.end()) {
            why_not = "the input carries " + name;
            continue;
        }
        if (std::string(PQgetvalue(r.get(), k, 2)) != "1") {
            why_not = "the sequence of " + name + " does not count by 1";
            continue;
        }
        return sequence_column{name, PQgetvalue(r.get(), k, 3), parse_type_name(PQgetvalue(r.get(), k, 1))};
    }
    return std::nullopt;
}

std::string id_block_blocker(connection& conn, const sequence_column& column) {
    const char* type_max = column.type.base == pg_type::int2 ? "32767" : column.type.base == pg_type::int4 ? "2147483647"
                                                                                                        : "9223372036854775807";
    result_ptr r = conn.query("SELECT pg_has_role(c.relowner, 'USAGE'), has_sequence_privilege(c.oid, 'UPDATE'),"
                              " s.seqcycle, s.seqmax > " + std::string(type_max) + ", s.seqmax"
                              " FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid WHERE c.oid = " +
                              conn.quote_literal(column.sequence_sql) + "::regclass");
    auto yes = [&](int col) { return std::string(PQgetvalue(r.get(), 0, col)) == "t"; };
    const std::string& seq = column.sequence_sql;
    if (!yes(0))
        return "ALTER SEQUENCE " + seq + " needs its owner";
    if (!yes(1))
        return "setval on " + seq + " needs UPDATE on it";
    if (yes(2))
        return seq + " cycles (nextval wraps at its end, a reserved block cannot)";
    if (yes(3))
        return seq + " goes past the " + column.type.name + " range of " + column.name + " (up to " +
               PQgetvalue(r.get(), 0, 4) + ")";
    return {};
}

int64_t reserve_ids(connection& conn, const sequence_column& column, uint64_t n) {
    const std::string seq = conn.quote_literal(column.sequence_sql);
    conn.exec("BEGIN");
    try {
        // ALTER SEQUENCE (changing nothing) takes the lock nextval waits on.
        conn.exec("ALTER SEQUENCE " + column.sequence_sql + " INCREMENT BY 1");
        result_ptr r = conn.query("SELECT first, setval(" + seq + ", first + " + std::to_string(n) +
                                  " - 1) FROM nextval(" + seq + ") AS first");
        int64_t first = std::stoll(PQgetvalue(r.get(), 0, 0));
        conn.exec("COMMIT");
        return first;
    } catch (...) {
        conn.rollback_quietly();
        throw;
    }
}

} // namespace pgpipe
