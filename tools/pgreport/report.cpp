// pgreport's snapshots: the SQL per server version, taking, parsing and
// checking them, and the COPY progress readings of watch.
#include "report.hpp"

#include "core/error.hpp"
#include "core/stats.hpp"
#include "pg/identifier.hpp"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

namespace pgpipe {
namespace {

const char* const load_settings =
    "'shared_buffers', 'max_wal_size', 'checkpoint_timeout', 'synchronous_commit', 'wal_level',"
    " 'default_toast_compression', 'maintenance_work_mem', 'autovacuum', 'fsync', 'full_page_writes',"
    " 'work_mem', 'wal_compression'";

// Every query pgreport sends carries this tag, for whoever reads the
// server's log or pg_stat_activity; its statements are left out of the
// statement section by queryid (see own_queries), as 18's
// pg_stat_statements keeps no leading comment.
const std::string tag = "/* pgreport */ ";

// Which server and database a snapshot is of, so that diff can refuse two
// of different ones. pg_control_system() may be revoked from PUBLIC (some
// managed services do): the system identifier is then left out, with a note.
std::string server_identity(own_queries& queries, std::vector<std::string>& notes) {
    const std::string rest = ", 'port', current_setting('port')::int, 'address', host(inet_server_addr()),"
                             " 'database_oid', (SELECT oid::bigint FROM pg_database WHERE datname = current_database()))";
    try {
        return queries.scalar("SELECT json_build_object('system_identifier',"
                              " (SELECT system_identifier::text FROM pg_control_system())" + rest);
    } catch (const server_error& e) {
        notes.push_back(std::string("system identifier left out: ") + e.what());
        return queries.scalar("SELECT json_build_object('system_identifier', NULL::text" + rest);
    }
}

// ", NAME: VALUE" of a section, or "" with a note when the server cannot give it.
std::string read_section(own_queries& queries, const snapshot_section& section, std::vector<std::string>& notes) {
    try {
        std::string value = queries.scalar(section.sql);
        return ", " + json_quote(section.name) + ": " + (value.empty() ? "null" : value);
    } catch (const server_error& e) {
        if (section.name == "meta" || section.name == "tables")
            throw; // without these there is no snapshot
        notes.push_back(section.name + " left out: " + e.what());
        return {};
    }
}

// text as an element of an array literal: in double quotes, with " and \ escaped.
std::string array_element(const std::string& text) {
    std::string out = "\"";
    for (char c : text)
        out += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
    return out + "\"";
}

// {"1", "2"} as an SQL literal of type text[]: '{1,2}'.
std::string text_array_literal(const std::set<std::string>& ids) {
    std::string out = "'{";
    for (const auto& id : ids)
        out += (out.size() > 2 ? "," : "") + id; // queryids are digits and a minus sign
    return out + "}'::text[]";
}

} // namespace

std::string own_queries::scalar(const std::string& sql) {
    // The query runs as a scalar subquery beside the id of the statement
    // that holds both, which is what pg_stat_statements counts.
    result_ptr r = m_conn.query(tag + "SELECT (" + sql + "), (SELECT query_id::text FROM pg_stat_activity"
                                      " WHERE pid = pg_backend_pid())");
    if (!PQgetisnull(r.get(), 0, 1))
        m_ids.insert(PQgetvalue(r.get(), 0, 1));
    return PQgetisnull(r.get(), 0, 0) ? std::string() : PQgetvalue(r.get(), 0, 0);
}

std::vector<snapshot_section> snapshot_sections(const server_rules& rules, const std::string& table_array) {
    std::vector<snapshot_section> out;
    out.push_back({"meta",
                   "SELECT json_build_object('epoch', extract(epoch FROM clock_timestamp()),"
                   " 'taken_at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
                   " 'server_version', current_setting('server_version'),"
                   " 'server_version_num', current_setting('server_version_num')::int,"
                   " 'database', current_database(), 'user', current_user)"});
    out.push_back({"database", "SELECT row_to_json(d) FROM pg_stat_database d WHERE datname = current_database()"});
    const std::string tables = table_array + "::regclass[]";
    const std::string filter = " WHERE (" + tables + " = '{}' OR s.relid = ANY (" + tables + "))";
    out.push_back({"tables",
                   "SELECT coalesce(json_agg(t ORDER BY t.schema, t.name), '[]') FROM ("
                   "SELECT s.schemaname AS schema, s.relname AS name, s.seq_scan, s.idx_scan, s.n_tup_ins,"
                   " s.n_tup_upd, s.n_tup_del, s.n_live_tup, s.n_dead_tup, s.autovacuum_count, s.autoanalyze_count,"
                   " pg_relation_size(s.relid) AS table_bytes, pg_indexes_size(s.relid) AS index_bytes,"
                   " coalesce(pg_total_relation_size(c.reltoastrelid), 0) AS toast_bytes"
                   " FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid" +
                       filter + ") t"});
    if (rules.has_pg_stat_wal())
        out.push_back({"wal", "SELECT row_to_json(w) FROM pg_stat_wal w"});
    out.push_back({"bgwriter", "SELECT row_to_json(b) FROM pg_stat_bgwriter b"});
    if (rules.has_pg_stat_checkpointer())
        out.push_back({"checkpointer", "SELECT row_to_json(c) FROM pg_stat_checkpointer c"});
    // Blocks written and extended: the counts up to 17, the bytes from 18 (whose counts are of operations).
    const std::string blocks = rules.pg_stat_io_counts_operations()
                                   ? "(write_bytes / current_setting('block_size')::int)::bigint AS write_blocks,"
                                     " (extend_bytes / current_setting('block_size')::int)::bigint AS extend_blocks"
                                   : "writes AS write_blocks, extends AS extend_blocks";
    if (rules.has_pg_stat_io())
        out.push_back({"io", "SELECT coalesce(json_agg(i), '[]') FROM (SELECT backend_type, object, context,"
                             " reads, writes, extends, fsyncs, " + blocks + " FROM pg_stat_io"
                             " WHERE coalesce(reads, 0) + coalesce(writes, 0) + coalesce(extends, 0) > 0) i"});
    out.push_back({"settings", std::string("SELECT json_object_agg(name, current_setting(name)) FROM pg_settings"
                                           " WHERE name IN (") + load_settings + ")"});
    return out;
}

snapshot_section statements_section(const std::set<std::string>& own_ids) {
    return {"statements",
            "SELECT coalesce(json_agg(s), '[]') FROM (SELECT queryid::text AS queryid,"
            " left(regexp_replace(query, '\\s+', ' ', 'g'), 200) AS query, calls, rows,"
            " total_exec_time, mean_exec_time, wal_bytes FROM pg_stat_statements"
            " WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND queryid IS NOT NULL AND queryid::text <> ALL (" + text_array_literal(own_ids) + ")"
            " AND queryid NOT IN (SELECT query_id FROM pg_stat_activity WHERE query_id IS NOT NULL"
            " AND (pid = pg_backend_pid() OR application_name = 'pgreport'))"
            " ORDER BY total_exec_time DESC LIMIT 5000) s"};
}

std::string take_snapshot(own_queries& queries, const std::vector<std::string>& tables) {
    const server_rules rules = server_rules::of(queries.conn());
    bool have_statements =
        !queries.scalar("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'").empty();
    std::string table_array;
    for (const auto& t : tables)
        table_array += (table_array.empty() ? "" : ",") +
                       array_element(quote_qualified_name(queries.conn(), parse_qualified_name(t)));
    table_array = queries.conn().quote_literal("{" + table_array + "}");
    std::vector<std::string> notes;
    if (!have_statements)
        notes.push_back("statements left out: pg_stat_statements is not installed in this database "
                        "(CREATE EXTENSION pg_stat_statements, with it in shared_preload_libraries)");
    std::string json = "{\"pgreport_snapshot\": 1";
    for (const auto& section : snapshot_sections(rules, table_array))
        json += read_section(queries, section, notes);
    json += ", \"server\": " + server_identity(queries, notes);
    if (have_statements) // the last query, when the ids of all the others are known
        json += read_section(queries, statements_section(queries.ids()), notes);
    json += ", \"notes\": [";
    for (size_t k = 0; k < notes.size(); ++k)
        json += (k ? ", " : "") + json_quote(notes[k]);
    return json + "]}\n";
}

// ---------------------------------------------------------------- parsing

namespace {

error not_a_snapshot(const std::string& source, const std::string& why) {
    return local_error("\"" + source + "\" is not a pgreport snapshot: " + why, {},
                       "make one with: pgreport snapshot -o FILE");
}

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

// The "io" section (16+): the shared buffers each kind of process other
// than the background writer and the checkpointer wrote or extended, per
// context: what buffers_backend of pg_stat_bgwriter counted up to 15 (each
// such write or extend asked the checkpointer to sync the segment).
void read_io(simdjson::dom::element root, snapshot& s) {
    simdjson::dom::array array;
    if (!root["io"].get(array)) {
        for (auto element : array) {
            simdjson::dom::object io;
            std::string_view backend, object, context;
            int64_t writes = 0, extends = 0;
            if (element.get(io) || io["backend_type"].get(backend) || io["object"].get(object) ||
                io["context"].get(context))
                continue;
            if (object != "relation" || backend == "background writer" || backend == "checkpointer")
                continue; // temporary tables and (18) WAL were never in buffers_backend
            // NULL (left at 0) where that kind of process never writes or
            // extends; snapshots before write_blocks have counts of blocks.
            if (io["write_blocks"].get(writes) && io["writes"].get(writes))
                writes = 0;
            if (io["extend_blocks"].get(extends) && io["extends"].get(extends))
                extends = 0;
            s.io_backend_writes[std::string(backend) + "/" + std::string(context)] =
                static_cast<double>(writes + extends);
        }
    }
}

// The marker and the "meta" section: which server and database, and when.
void read_meta(simdjson::dom::element root, snapshot& s) {
    int64_t marker;
    if (root["pgreport_snapshot"].get(marker) || marker != 1)
        throw not_a_snapshot(s.source, "no \"pgreport_snapshot\": 1 in it");
    simdjson::dom::object meta;
    if (root["meta"].get(meta))
        throw not_a_snapshot(s.source, "no \"meta\" section");
    double epoch;
    int64_t version;
    if (meta["epoch"].get(epoch) || meta["server_version_num"].get(version))
        throw not_a_snapshot(s.source, "the \"meta\" section lacks epoch or server_version_num");
    s.epoch = epoch;
    s.server_version_num = static_cast<int>(version);
    std::string_view text;
    if (!meta["server_version"].get(text))
        s.server_version = std::string(text);
    if (!meta["database"].get(text))
        s.database = std::string(text);
    if (!meta["taken_at"].get(text))
        s.taken_at = std::string(text);
}

// The "tables" section, which every snapshot has: counters per "schema.name".
void read_tables(simdjson::dom::element root, snapshot& s) {
    simdjson::dom::array array;
    if (root["tables"].get(array))
        throw not_a_snapshot(s.source, "no \"tables\" section");
    for (auto element : array) {
        simdjson::dom::object t;
        std::string_view schema, name;
        if (element.get(t) || t["schema"].get(schema) || t["name"].get(name))
            throw not_a_snapshot(s.source, "a table without schema or name");
        read_numbers(t, s.tables[std::string(schema) + "." + std::string(name)]);
    }
}

// The "settings" and "notes" sections, both optional.
void read_settings_and_notes(simdjson::dom::element root, snapshot& s) {
    std::string_view text;
    simdjson::dom::object settings;
    if (!root["settings"].get(settings))
        for (auto field : settings)
            if (!field.value.get(text))
                s.settings[std::string(field.key)] = std::string(text);
    simdjson::dom::array array;
    if (!root["notes"].get(array))
        for (auto element : array)
            if (!element.get(text))
                s.notes.emplace_back(text);
}

} // namespace

snapshot parse_snapshot(const std::string& json, const std::string& source) {
    snapshot s;
    s.source = source;
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (auto err = parser.parse(json).get(root))
        throw not_a_snapshot(source, std::string("invalid JSON (") + simdjson::error_message(err) + ")");
    read_meta(root, s);
    read_server(root, s);
    for (const char* name : {"database", "wal", "bgwriter", "checkpointer"}) {
        simdjson::dom::object object;
        if (!root[name].get(object))
            read_numbers(object, s.flat[name]);
    }
    read_tables(root, s);
    read_statements(root, s);
    read_io(root, s);
    read_settings_and_notes(root, s);
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

std::vector<int> other_backends(own_queries& queries) {
    std::string pids = queries.scalar("SELECT string_agg(pid::text, ',') FROM pg_stat_activity"
                                      " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                                      " AND backend_type = 'client backend'");
    std::vector<int> out;
    for (size_t start = 0; start < pids.size();) {
        size_t comma = std::min(pids.find(',', start), pids.size());
        out.push_back(std::stoi(pids.substr(start, comma - start)));
        start = comma + 1;
    }
    return out;
}

void wait_for_statistics(own_queries& queries, const std::vector<int>& before, double timeout) {
    std::set<int> old(before.begin(), before.end());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout);
    // A backend publishes its counters when it exits: wait for the command's
    // sessions (those that were not there before) to be gone.
    for (;;) {
        bool waiting = false;
        for (int pid : other_backends(queries))
            waiting |= old.count(pid) == 0;
        if (!waiting || std::chrono::steady_clock::now() > deadline)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // Before 15 a separate collector process receives them, up to half a
    // second later; from 15 they are in shared memory at exit.
    if (!server_rules::of(queries.conn()).statistics_published_at_exit())
        std::this_thread::sleep_for(std::chrono::milliseconds(700));
}

std::vector<copy_progress> read_copy_progress(connection& conn) {
    result_ptr r = conn.query(
        tag + "SELECT p.pid, coalesce(p.relid::regclass::text, '-'), p.command, p.type, p.bytes_processed,"
        " p.bytes_total, p.tuples_processed, extract(epoch FROM clock_timestamp() - a.query_start)"
        " FROM pg_stat_progress_copy p LEFT JOIN pg_stat_activity a USING (pid) ORDER BY p.pid");
    std::vector<copy_progress> out;
    for (int k = 0; k < PQntuples(r.get()); ++k) {
        auto v = [&](int c) { return std::string(PQgetvalue(r.get(), k, c)); };
        copy_progress c{v(0), v(1), v(2), v(3), v(6), v(4), v(5)};
        c.seconds = v(7).empty() ? 0 : std::stod(v(7));
        c.tuple_count = std::stod(c.tuples);
        c.byte_count = std::stod(c.bytes);
        out.push_back(std::move(c));
    }
    return out;
}

} // namespace pgpipe
