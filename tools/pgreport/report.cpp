// pgreport's snapshots: the SQL per server version, taking, parsing and
// comparing them, and the COPY progress of watch.
#include "report.hpp"

#include "core/text.hpp"
#include "core/error.hpp"
#include "pg/identifier.hpp"
#include "core/progress.hpp"
#include "core/stats.hpp"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>
#include <thread>

namespace pgpipe {
namespace {

const char* const load_settings =
    "'shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'synchronous_commit', 'wal_level',"
    " 'default_toast_compression', 'maintenance_work_mem', 'autovacuum', 'fsync', 'full_page_writes',"
    " 'work_mem', 'wal_compression'";

// Every query pgreport sends carries this tag, so that its own statements
// can be left out of the statement section.
const std::string tag = "/* pgreport */ ";

std::string scalar_or_empty(connection& conn, const std::string& sql) {
    result_ptr r = conn.query(tag + sql);
    if (PQntuples(r.get()) == 0 || PQgetisnull(r.get(), 0, 0))
        return {};
    return PQgetvalue(r.get(), 0, 0);
}

// Which server and database a snapshot is of, so that diff can refuse two
// of different ones. pg_control_system() may be revoked from PUBLIC (some
// managed services do): the system identifier is then left out, with a note.
std::string server_identity(connection& conn, std::vector<std::string>& notes) {
    const std::string rest = ", 'port', current_setting('port')::int, 'address', host(inet_server_addr()),"
                             " 'database_oid', (SELECT oid::bigint FROM pg_database WHERE datname = current_database()))";
    try {
        return scalar_or_empty(conn, "SELECT json_build_object('system_identifier',"
                                     " (SELECT system_identifier::text FROM pg_control_system())" + rest);
    } catch (const server_error& e) {
        notes.push_back(std::string("system identifier left out: ") + e.what());
        return scalar_or_empty(conn, "SELECT json_build_object('system_identifier', NULL::text" + rest);
    }
}

} // namespace

std::vector<snapshot_section> snapshot_sections(int v, bool have_statements, const std::vector<std::string>& tables) {
    std::vector<snapshot_section> out;
    out.push_back({"meta",
                   "SELECT json_build_object('epoch', extract(epoch FROM clock_timestamp()),"
                   " 'taken_at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
                   " 'server_version', current_setting('server_version'),"
                   " 'server_version_num', current_setting('server_version_num')::int,"
                   " 'database', current_database(), 'user', current_user)"});
    out.push_back({"database", "SELECT row_to_json(d) FROM pg_stat_database d WHERE datname = current_database()"});
    std::string filter;
    if (!tables.empty()) {
        filter = " WHERE s.relid IN (";
        for (size_t k = 0; k < tables.size(); ++k)
            filter += (k ? ", " : "") + tables[k] + "::regclass";
        filter += ")";
    }
    out.push_back({"tables",
                   "SELECT coalesce(json_agg(t ORDER BY t.schema, t.name), '[]') FROM ("
                   "SELECT s.schemaname AS schema, s.relname AS name, s.seq_scan, s.idx_scan, s.n_tup_ins,"
                   " s.n_tup_upd, s.n_tup_del, s.n_live_tup, s.n_dead_tup, s.autovacuum_count, s.autoanalyze_count,"
                   " pg_relation_size(s.relid) AS table_bytes, pg_indexes_size(s.relid) AS index_bytes,"
                   " coalesce(pg_total_relation_size(c.reltoastrelid), 0) AS toast_bytes"
                   " FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid" +
                       filter + ") t"});
    if (v >= 140000)
        out.push_back({"wal", "SELECT row_to_json(w) FROM pg_stat_wal w"});
    // Up to 16 the checkpoint counters are in pg_stat_bgwriter; from 17 in pg_stat_checkpointer.
    out.push_back({"bgwriter", "SELECT row_to_json(b) FROM pg_stat_bgwriter b"});
    if (v >= 170000)
        out.push_back({"checkpointer", "SELECT row_to_json(c) FROM pg_stat_checkpointer c"});
    if (v >= 160000)
        out.push_back({"io", "SELECT coalesce(json_agg(i), '[]') FROM (SELECT backend_type, object, context,"
                             " reads, writes, extends, fsyncs FROM pg_stat_io"
                             " WHERE coalesce(reads, 0) + coalesce(writes, 0) + coalesce(extends, 0) > 0) i"});
    if (have_statements)
        out.push_back({"statements",
                       "SELECT coalesce(json_agg(s), '[]') FROM (SELECT queryid::text AS queryid,"
                       " left(regexp_replace(query, '\\s+', ' ', 'g'), 200) AS query, calls, rows,"
                       " total_exec_time, mean_exec_time, wal_bytes FROM pg_stat_statements"
                       " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                       " AND queryid IS NOT NULL AND query NOT LIKE '/* pgreport */%'"
                       " ORDER BY total_exec_time DESC LIMIT 5000) s"});
    out.push_back({"settings", std::string("SELECT json_object_agg(name, current_setting(name)) FROM pg_settings"
                                           " WHERE name IN (") + load_settings + ")"});
    return out;
}

std::string take_snapshot(connection& conn, const std::vector<std::string>& tables) {
    int version = std::stoi(scalar_or_empty(conn, "SELECT current_setting('server_version_num')"));
    bool have_statements =
        !scalar_or_empty(conn, "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'").empty();
    std::vector<std::string> quoted;
    for (const auto& t : tables)
        quoted.push_back(conn.quote_literal(quote_qualified_name(conn, parse_qualified_name(t))));
    std::vector<std::string> notes;
    if (!have_statements)
        notes.push_back("statements left out: pg_stat_statements is not installed in this database "
                        "(CREATE EXTENSION pg_stat_statements, with it in shared_preload_libraries)");
    std::string json = "{\"pgreport_snapshot\": 1";
    for (const auto& section : snapshot_sections(version, have_statements, quoted)) {
        try {
            std::string value = scalar_or_empty(conn, section.sql);
            json += ", " + json_quote(section.name) + ": " + (value.empty() ? "null" : value);
        } catch (const server_error& e) {
            if (section.name == "meta" || section.name == "tables")
                throw; // without these there is no snapshot
            notes.push_back(section.name + " left out: " + e.what());
        }
    }
    json += ", \"server\": " + server_identity(conn, notes);
    json += ", \"notes\": [";
    for (size_t k = 0; k < notes.size(); ++k)
        json += (k ? ", " : "") + json_quote(notes[k]);
    return json + "]}\n";
}

// ---------------------------------------------------------------- parsing

namespace {

void read_numbers(simdjson::dom::object object, std::map<std::string, double>& out) {
    for (auto field : object) {
        double d;
        int64_t i;
        uint64_t u;
        if (field.value.get(d) == simdjson::SUCCESS)
            out[std::string(field.key)] = d;
        else if (field.value.get(i) == simdjson::SUCCESS)
            out[std::string(field.key)] = static_cast<double>(i);
        else if (field.value.get(u) == simdjson::SUCCESS)
            out[std::string(field.key)] = static_cast<double>(u);
    }
}

// The "server" member; older snapshots lack it, and diff then compares names only.
void read_server(simdjson::dom::element root, snapshot& s) {
    simdjson::dom::object server;
    if (root["server"].get(server))
        return;
    std::string_view text;
    int64_t number;
    if (!server["system_identifier"].get(text))
        s.system_identifier = std::string(text);
    if (!server["address"].get(text))
        s.server_address = std::string(text);
    if (!server["port"].get(number))
        s.server_port = static_cast<int>(number);
    if (!server["database_oid"].get(number))
        s.database_oid = number;
}

// The "statements" section: counters summed per queryid (the same query
// may appear once per user and top-level flag).
void read_statements(simdjson::dom::element root, snapshot& s) {
    simdjson::dom::array array;
    if (!root["statements"].get(array)) {
        for (auto element : array) {
            simdjson::dom::object st;
            std::string_view id, query;
            if (element.get(st) || st["queryid"].get(id))
                continue;
            std::map<std::string, double> numbers;
            read_numbers(st, numbers);
            auto& total = s.statements[std::string(id)];
            for (const auto& [key, v] : numbers)
                total[key] += v;
            if (!st["query"].get(query))
                s.statement_text[std::string(id)] = std::string(query);
        }
    }
}

// The "io" section (16+): writes by client backends per object and context.
void read_io(simdjson::dom::element root, snapshot& s) {
    simdjson::dom::array array;
    if (!root["io"].get(array)) {
        for (auto element : array) {
            simdjson::dom::object io;
            std::string_view backend, object, context;
            int64_t writes;
            if (element.get(io) || io["backend_type"].get(backend) || io["object"].get(object) ||
                io["context"].get(context) || io["writes"].get(writes))
                continue;
            if (backend == "client backend")
                s.io_client_writes[std::string(object) + "/" + std::string(context)] = static_cast<double>(writes);
        }
    }
}

} // namespace

snapshot parse_snapshot(const std::string& json, const std::string& source) {
    snapshot s;
    s.source = source;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    auto not_a_snapshot = [&](const std::string& why) {
        return local_error("\"" + source + "\" is not a pgreport snapshot: " + why, {},
                           "make one with: pgreport snapshot -o FILE");
    };
    if (auto err = parser.parse(json).get(root))
        throw not_a_snapshot(std::string("invalid JSON (") + simdjson::error_message(err) + ")");
    int64_t marker;
    if (root["pgreport_snapshot"].get(marker) || marker != 1)
        throw not_a_snapshot("no \"pgreport_snapshot\": 1 in it");
    simdjson::dom::object meta;
    if (root["meta"].get(meta))
        throw not_a_snapshot("no \"meta\" section");
    double epoch;
    int64_t version;
    std::string_view text;
    if (meta["epoch"].get(epoch) || meta["server_version_num"].get(version))
        throw not_a_snapshot("the \"meta\" section lacks epoch or server_version_num");
    s.epoch = epoch;
    s.server_version_num = static_cast<int>(version);
    if (!meta["server_version"].get(text))
        s.server_version = std::string(text);
    if (!meta["database"].get(text))
        s.database = std::string(text);
    if (!meta["taken_at"].get(text))
        s.taken_at = std::string(text);
    read_server(root, s);
    for (const char* name : {"database", "wal", "bgwriter", "checkpointer"}) {
        simdjson::dom::object object;
        if (!root[name].get(object))
            read_numbers(object, s.flat[name]);
    }
    simdjson::dom::array array;
    if (root["tables"].get(array))
        throw not_a_snapshot("no \"tables\" section");
    for (auto element : array) {
        simdjson::dom::object t;
        std::string_view schema, name;
        if (element.get(t) || t["schema"].get(schema) || t["name"].get(name))
            throw not_a_snapshot("a table without schema or name");
        read_numbers(t, s.tables[std::string(schema) + "." + std::string(name)]);
    }
    read_statements(root, s);
    read_io(root, s);
    simdjson::dom::object settings;
    if (!root["settings"].get(settings))
        for (auto field : settings)
            if (!field.value.get(text))
                s.settings[std::string(field.key)] = std::string(text);
    if (!root["notes"].get(array))
        for (auto element : array)
            if (!element.get(text))
                s.notes.emplace_back(text);
    return s;
}

namespace {

// "database "shop" on the server with system identifier 7…, port 5432".
std::string where(const snapshot& s) {
    std::string server;
    if (!s.system_identifier.empty())
        server = "system identifier " + s.system_identifier;
    if (s.server_port)
        server += (server.empty() ? "" : ", ") + (s.server_address.empty() ? "" : s.server_address + " ") +
                  "port " + std::to_string(s.server_port);
    return "database \"" + s.database + "\"" +
           (server.empty() ? " (the snapshot does not record its server)" : " on the server with " + server);
}

} // namespace

void check_same_database(const snapshot& a, const snapshot& b) {
    std::string why;
    if (a.database != b.database)
        why = "different databases";
    else if (!a.system_identifier.empty() && !b.system_identifier.empty() &&
             a.system_identifier != b.system_identifier)
        why = "different servers";
    else if (a.server_port && b.server_port && a.server_port != b.server_port)
        why = "different servers (or a primary and its standby)";
    else if (a.database_oid && b.database_oid && a.database_oid != b.database_oid)
        why = "different databases of the same name (dropped and created again in between?)";
    if (why.empty())
        return;
    throw local_error("cannot compare snapshots of " + why,
                      "\"" + a.source + "\" is of " + where(a) + "\n\"" + b.source + "\" is of " + where(b),
                      "compare snapshots of one database, taken with the same -d, -h and -p");
}

report_format parse_report_format(const std::string& name) {
    if (name == "text")
        return report_format::text;
    if (name == "json")
        return report_format::json;
    if (name == "tsv")
        return report_format::tsv;
    throw local_error("unknown report format \"" + name + "\"", {}, "the formats are text, json and tsv");
}

// ---------------------------------------------------------------- diff

namespace {

double get(const std::map<std::string, double>& m, const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? 0 : it->second;
}

double delta(const snapshot& a, const snapshot& b, const char* section, const std::string& key) {
    auto ia = a.flat.find(section), ib = b.flat.find(section);
    if (ib == b.flat.end())
        return 0;
    return get(ib->second, key) - (ia == a.flat.end() ? 0 : get(ia->second, key));
}

// One line of a report: a metric's name and its values, for every format.
struct metric_row {
    std::string section;
    std::string name;
    std::vector<std::pair<std::string, double>> values;
};

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string count(double v) {
    if (v < 0)
        return "-" + format_count(static_cast<uint64_t>(-v + 0.5));
    return format_count(static_cast<uint64_t>(v + 0.5));
}

std::string signed_bytes(double v) {
    return v < 0 ? "-" + format_bytes(static_cast<uint64_t>(-v)) : format_bytes(static_cast<uint64_t>(v));
}

// Pads or cuts text to width (left-aligned) or right-aligns it.
std::string cell(const std::string& text, size_t width, bool right) {
    std::string t = text;
    if (t.size() > width)
        t = t.substr(0, width - 1) + "~";
    std::string pad(width - t.size(), ' ');
    return right ? pad + t : t + pad;
}

} // namespace

std::string render_diff(const snapshot& a, const snapshot& b, report_format format) {
    const double seconds = std::max(b.epoch - a.epoch, 1e-6);
    std::vector<metric_row> rows;

    double inserted_total = 0;
    std::vector<std::string> table_names;
    for (const auto& [name, after] : b.tables) {
        auto it = a.tables.find(name);
        static const std::map<std::string, double> empty;
        const auto& before = it == a.tables.end() ? empty : it->second;
        double ins = get(after, "n_tup_ins") - get(before, "n_tup_ins");
        double upd = get(after, "n_tup_upd") - get(before, "n_tup_upd");
        double del = get(after, "n_tup_del") - get(before, "n_tup_del");
        double tb = get(after, "table_bytes") - get(before, "table_bytes");
        double ib = get(after, "index_bytes") - get(before, "index_bytes");
        double xb = get(after, "toast_bytes") - get(before, "toast_bytes");
        if (ins == 0 && upd == 0 && del == 0 && tb == 0 && ib == 0 && xb == 0 && it != a.tables.end())
            continue; // untouched in the interval
        inserted_total += ins;
        table_names.push_back(name);
        rows.push_back({"table", name,
                        {{"inserted", ins}, {"rows_per_second", ins / seconds}, {"updated", upd}, {"deleted", del},
                         {"table_bytes", tb}, {"index_bytes", ib}, {"toast_bytes", xb},
                         {"table_bytes_after", get(after, "table_bytes")}}});
    }
    double wal_bytes = delta(a, b, "wal", "wal_bytes");
    bool have_wal = b.flat.count("wal") > 0;
    if (have_wal)
        rows.push_back({"wal", "wal",
                        {{"bytes", wal_bytes}, {"records", delta(a, b, "wal", "wal_records")},
                         {"full_page_images", delta(a, b, "wal", "wal_fpi")},
                         {"bytes_per_second", wal_bytes / seconds},
                         {"bytes_per_inserted_row", inserted_total > 0 ? wal_bytes / inserted_total : 0}}});
    // Checkpoint counters: pg_stat_bgwriter up to 16, pg_stat_checkpointer from 17.
    double timed, requested;
    if (b.server_version_num >= 170000) {
        timed = delta(a, b, "checkpointer", "num_timed");
        requested = delta(a, b, "checkpointer", "num_requested");
    } else {
        timed = delta(a, b, "bgwriter", "checkpoints_timed");
        requested = delta(a, b, "bgwriter", "checkpoints_req");
    }
    double backend_writes = 0;
    if (b.server_version_num >= 160000) {
        for (const auto& [key, writes] : b.io_client_writes) {
            auto it = a.io_client_writes.find(key);
            backend_writes += writes - (it == a.io_client_writes.end() ? 0 : it->second);
        }
    } else {
        backend_writes = delta(a, b, "bgwriter", "buffers_backend");
    }
    rows.push_back({"checkpoints", "checkpoints",
                    {{"timed", timed}, {"requested", requested}, {"backend_buffer_writes", backend_writes}}});
    double read = delta(a, b, "database", "blks_read"), hit = delta(a, b, "database", "blks_hit");
    rows.push_back({"database", b.database,
                    {{"commits", delta(a, b, "database", "xact_commit")},
                     {"rollbacks", delta(a, b, "database", "xact_rollback")},
                     {"rows_inserted", delta(a, b, "database", "tup_inserted")},
                     {"blocks_read", read}, {"blocks_hit", hit},
                     {"hit_ratio", read + hit > 0 ? hit / (read + hit) : 1},
                     {"temp_bytes", delta(a, b, "database", "temp_bytes")}}});

    struct statement_delta {
        std::string id;
        double ms, calls, rows, wal;
    };
    std::vector<statement_delta> statements;
    for (const auto& [id, after] : b.statements) {
        auto it = a.statements.find(id);
        static const std::map<std::string, double> empty;
        const auto& before = it == a.statements.end() ? empty : it->second;
        statement_delta d{id, get(after, "total_exec_time") - get(before, "total_exec_time"),
                          get(after, "calls") - get(before, "calls"), get(after, "rows") - get(before, "rows"),
                          get(after, "wal_bytes") - get(before, "wal_bytes")};
        if (d.calls > 0)
            statements.push_back(d);
    }
    std::sort(statements.begin(), statements.end(),
              [](const statement_delta& x, const statement_delta& y) { return x.ms > y.ms; });
    if (statements.size() > 10)
        statements.resize(10);
    for (const auto& st : statements) {
        auto text = b.statement_text.find(st.id);
        rows.push_back({"statement", text == b.statement_text.end() ? st.id : text->second,
                        {{"total_ms", st.ms}, {"calls", st.calls}, {"rows", st.rows}, {"wal_bytes", st.wal}}});
    }

    if (format == report_format::json) {
        std::string out = "{\"seconds\": " + fixed(seconds, 3) + ", \"database\": " + json_quote(b.database) +
                          ", \"server_version\": " + json_quote(b.server_version) + ", \"sections\": [";
        for (size_t k = 0; k < rows.size(); ++k) {
            out += (k ? ", " : "") + std::string("{\"section\": ") + json_quote(rows[k].section) +
                   ", \"name\": " + json_quote(rows[k].name);
            for (const auto& [key, v] : rows[k].values)
                out += ", " + json_quote(key) + ": " + (v == std::floor(v) && std::abs(v) < 1e15 ? fixed(v, 0) : fixed(v, 3));
            out += "}";
        }
        out += "], \"notes\": [";
        for (size_t k = 0; k < b.notes.size(); ++k)
            out += (k ? ", " : "") + json_quote(b.notes[k]);
        return out + "]}\n";
    }
    if (format == report_format::tsv) {
        std::string out = "section\tname\tmetric\tvalue\n";
        out += "interval\t" + b.database + "\tseconds\t" + fixed(seconds, 3) + "\n";
        for (const auto& r : rows)
            for (const auto& [key, v] : r.values)
                out += r.section + "\t" + r.name + "\t" + key + "\t" +
                       (v == std::floor(v) && std::abs(v) < 1e15 ? fixed(v, 0) : fixed(v, 3)) + "\n";
        return out;
    }

    // Text: a few aligned tables, each within 80 columns.
    std::string version = b.server_version.substr(0, b.server_version.find(' '));
    std::string out = wrap_text("pgreport: " + fixed(seconds, 2) + " s on database \"" + b.database +
                                    "\" (PostgreSQL " + version + ")",
                                0, 10, 80) +
                      "\n";
    auto value_of = [](const metric_row& r, const char* key) {
        for (const auto& [k, v] : r.values)
            if (k == key)
                return v;
        return 0.0;
    };
    if (!table_names.empty()) {
        out += "\n" + cell("table", 28, false) + cell("inserted", 13, true) + " " + cell("rows/s", 12, true) +
               cell("updated", 13, true) + cell("deleted", 13, true) + "\n";
        for (const auto& r : rows)
            if (r.section == "table")
                out += cell(r.name, 28, false) + cell(count(value_of(r, "inserted")), 13, true) + " " +
                       cell(count(value_of(r, "rows_per_second")), 12, true) +
                       cell(count(value_of(r, "updated")), 13, true) + cell(count(value_of(r, "deleted")), 13, true) +
                       "\n";
        out += "\n" + cell("table", 32, false) + cell("table +", 14, true) + cell("indexes +", 14, true) +
               cell("TOAST +", 14, true) + "\n";
        for (const auto& r : rows)
            if (r.section == "table")
                out += cell(r.name, 32, false) + cell(signed_bytes(value_of(r, "table_bytes")), 14, true) +
                       cell(signed_bytes(value_of(r, "index_bytes")), 14, true) +
                       cell(signed_bytes(value_of(r, "toast_bytes")), 14, true) + "\n";
    } else {
        out += "\nno table changed in the interval\n";
    }
    out += "\n";
    for (const auto& r : rows) {
        if (r.section == "wal")
            out += wrap_text("WAL           " +
                                 signed_bytes(value_of(r, "bytes")) + " in " +
                                 count(value_of(r, "records")) + " records, " +
                                 count(value_of(r, "full_page_images")) + " full-page images, " +
                                 signed_bytes(value_of(r, "bytes_per_second")) + "/s" +
                                 (inserted_total > 0 ? ", " + fixed(value_of(r, "bytes_per_inserted_row"), 1) +
                                                           " B per inserted row"
                                                     : ""),
                             0, 14, 80) +
                   "\n";
        if (r.section == "checkpoints")
            out += "Checkpoints   " + count(value_of(r, "timed")) + " timed, " + count(value_of(r, "requested")) +
                   " requested; " + count(value_of(r, "backend_buffer_writes")) +
                   " buffers written by backends\n";
        if (r.section == "database")
            out += wrap_text("Database      " + count(value_of(r, "commits")) + " commits, " +
                                 count(value_of(r, "rollbacks")) + " rollbacks, " +
                                 count(value_of(r, "blocks_read")) + " blocks read, " +
                                 fixed(value_of(r, "hit_ratio") * 100, 1) + "% hits, " +
                                 format_bytes(static_cast<uint64_t>(std::max(0.0, value_of(r, "temp_bytes")))) +
                                 " temp",
                             0, 14, 80) +
                   "\n";
    }
    if (!statements.empty()) {
        out += "\nstatements by time in the interval\n" + cell("ms", 10, true) + cell("calls", 8, true) +
               cell("rows", 11, true) + "  query\n";
        for (const auto& r : rows)
            if (r.section == "statement")
                out += cell(fixed(value_of(r, "total_ms"), 1), 10, true) + cell(count(value_of(r, "calls")), 8, true) +
                       cell(count(value_of(r, "rows")), 11, true) + "  " + cell(r.name, 49, false) + "\n";
    }
    for (const auto& note : b.notes)
        out += wrap_text("note: " + note, 0, 6, 80) + "\n";
    // Trailing spaces of padded last cells are noise in a terminal and a diff.
    std::string trimmed;
    size_t start = 0;
    while (start < out.size()) {
        size_t end = out.find('\n', start);
        std::string line = out.substr(start, end - start);
        line.erase(line.find_last_not_of(' ') + 1);
        trimmed += line + "\n";
        start = end + 1;
    }
    return trimmed;
}

std::vector<int> other_backends(connection& conn) {
    result_ptr r = conn.query(tag + "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                              " AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
    std::vector<int> pids;
    for (int k = 0; k < PQntuples(r.get()); ++k)
        pids.push_back(std::stoi(PQgetvalue(r.get(), k, 0)));
    return pids;
}

void wait_for_statistics(connection& conn, const std::vector<int>& before, int version, double timeout) {
    std::set<int> old(before.begin(), before.end());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout);
    // A backend publishes its counters when it exits: wait for the command's
    // sessions (those that were not there before) to be gone.
    for (;;) {
        bool waiting = false;
        for (int pid : other_backends(conn))
            waiting |= old.count(pid) == 0;
        if (!waiting || std::chrono::steady_clock::now() > deadline)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // Before 15 a separate collector process receives them, up to half a
    // second later; from 15 they are in shared memory at exit.
    if (version < 150000)
        std::this_thread::sleep_for(std::chrono::milliseconds(700));
}

std::string render_copy_progress(connection& conn, report_format format, bool header) {
    result_ptr r = conn.query(
        tag + "SELECT p.pid, coalesce(p.relid::regclass::text, '-'), p.command, p.type, p.bytes_processed,"
        " p.bytes_total, p.tuples_processed, extract(epoch FROM clock_timestamp() - a.query_start)"
        " FROM pg_stat_progress_copy p LEFT JOIN pg_stat_activity a USING (pid) ORDER BY p.pid");
    std::string out;
    if (format == report_format::tsv && header)
        out += "pid\ttable\tcommand\ttype\ttuples\tbytes\tbytes_total\tseconds\n";
    if (format == report_format::text && header)
        out += cell("pid", 8, true) + "  " + cell("table", 20, false) + cell("command", 15, false) +
               cell("tuples", 12, true) + cell("bytes", 10, true) + " " + cell("rows/s", 11, true) + "\n";
    for (int k = 0; k < PQntuples(r.get()); ++k) {
        auto v = [&](int c) { return std::string(PQgetvalue(r.get(), k, c)); };
        double seconds = v(7).empty() ? 0 : std::stod(v(7));
        double tuples = std::stod(v(6)), bytes = std::stod(v(4));
        std::string command = v(2) + " " + v(3);
        if (format == report_format::json)
            out += "{\"pid\": " + v(0) + ", \"table\": " + json_quote(v(1)) + ", \"command\": " + json_quote(v(2)) +
                   ", \"type\": " + json_quote(v(3)) + ", \"tuples\": " + v(6) + ", \"bytes\": " + v(4) +
                   ", \"bytes_total\": " + v(5) + ", \"seconds\": " + fixed(seconds, 3) + "}\n";
        else if (format == report_format::tsv)
            out += v(0) + "\t" + v(1) + "\t" + v(2) + "\t" + v(3) + "\t" + v(6) + "\t" + v(4) + "\t" + v(5) + "\t" +
                   fixed(seconds, 3) + "\n";
        else
            out += cell(v(0), 8, true) + "  " + cell(v(1), 20, false) + cell(command, 15, false) +
                   cell(count(tuples), 12, true) + cell(format_bytes(static_cast<uint64_t>(bytes)), 10, true) + " " +
                   cell(count(seconds > 0 ? tuples / seconds : 0), 11, true) + "\n";
    }
    if (format == report_format::text && PQntuples(r.get()) == 0)
        out += "no COPY running\n";
    return out;
}

} // namespace pgpipe
