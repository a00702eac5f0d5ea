// pgreport's snapshots of the statistics views (taken, read back, checked
// to be comparable) and the readings of the COPY watch.
#pragma once

#include "pg/connection.hpp"
#include "pg/server_rules.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace pgpipe {

/// One part of a snapshot and the query that fills it (it returns one JSON value).
struct snapshot_section {
    std::string name; ///< the key in the snapshot: "database", "tables", "wal", ...
    std::string sql;  ///< returns one row, one column of json (or NULL)
};

/// The queries pgreport sends for its reports, each of which also asks for
/// its own queryid (pg_stat_activity.query_id, which the server computes
/// when pg_stat_statements is loaded): pg_stat_statements keys statements by
/// that id on every version, while the text it keeps may lose a tag
/// (PostgreSQL 18 drops a leading comment). The statement section leaves
/// these ids out.
class own_queries {
public:
    /// Sends its queries on conn.
    explicit own_queries(connection& conn) : m_conn(conn) {}
    /// The one value of sql (a query of one column and at most one row), or
    /// "" when it returns no row or NULL; its queryid is kept.
    std::string scalar(const std::string& sql);
    /// The queryids of the queries sent so far (none when the server computes none).
    const std::set<std::string>& ids() const { return m_ids; }
    /// The connection, for what is not a query (quoting).
    connection& conn() { return m_conn; }

private:
    connection& m_conn;
    std::set<std::string> m_ids;
};

/// The sections a server of this version has, with the SQL for each: views
/// and columns differ between majors. The statement section is not among
/// them (see statements_section). table_array, a quoted regclass[] literal
/// ('{}' for all tables), limits the table section: one constant, so that
/// the query has one queryid whatever the tables.
std::vector<snapshot_section> snapshot_sections(const server_rules& rules, const std::string& table_array);

/// The statement section (pg_stat_statements of the current database),
/// without pgreport's own statements: those of the queryids in own_ids,
/// this query itself, and the current queries of other pgreport sessions
/// (a watch running beside a report).
snapshot_section statements_section(const std::set<std::string>& own_ids);

/// Takes a snapshot as JSON text. tables are names as the user wrote them.
/// A section the server cannot give (no extension, no privilege) is left
/// out with a note in the snapshot's "notes". The statement section is read
/// last, so that it knows the queryids of all the others.
std::string take_snapshot(own_queries& queries, const std::vector<std::string>& tables);

/// A snapshot read back: flat numeric sections and the per-row lists.
struct snapshot {
    std::string source;                                  ///< file name, for messages
    double epoch = 0;                                    ///< server time, seconds
    std::string taken_at;                                ///< server time, ISO 8601
    int server_version_num = 0;                          ///< e.g. 150018
    std::string server_version;                          ///< e.g. "15.18"
    std::string database;                                ///< current_database()
    int64_t database_oid = 0;                            ///< its OID; 0 when the snapshot does not say
    std::string system_identifier;                       ///< pg_control_system()'s; empty when unknown
    int server_port = 0;                                 ///< the server's port setting; 0 when unknown
    std::string server_address;                          ///< inet_server_addr(); empty on a Unix socket
    std::map<std::string, std::map<std::string, double>> flat; ///< database, wal, bgwriter, checkpointer
    std::map<std::string, std::map<std::string, double>> tables; ///< "schema.name" -> counters and sizes
    std::map<std::string, std::map<std::string, double>> statements; ///< queryid -> calls, rows, times
    std::map<std::string, std::string> statement_text;  ///< queryid -> query (shortened)
    std::map<std::string, double> io_backend_writes;    ///< pg_stat_io (16+): writes + extends per backend/context
    std::map<std::string, std::string> settings;        ///< setting -> value
    std::vector<std::string> notes;                     ///< sections left out, and why
};

/// Parses a snapshot; throws local_error naming source if it is not one.
snapshot parse_snapshot(const std::string& json, const std::string& source);

/// Throws local_error (exit 1), naming both, unless before and after can be
/// snapshots of the same database of the same server: the names must match,
/// and the system identifiers, database OIDs and ports wherever both
/// snapshots record them (older snapshots record only the name).
void check_same_database(const snapshot& before, const snapshot& after);

/// Output formats of reports.
enum class report_format { text, json, tsv };

/// Parses "text", "json" or "tsv"; throws local_error.
report_format parse_report_format(const std::string& name);

/// The backends connected to the current database other than this one.
std::vector<int> other_backends(own_queries& queries);

/// Waits (up to timeout_seconds) until the backends that are not in before
/// have gone, so that their statistics are published; on servers before 15
/// also waits for the statistics collector.
void wait_for_statistics(own_queries& queries, const std::vector<int>& before, double timeout_seconds);

/// One running COPY, as pg_stat_progress_copy shows it.
struct copy_progress {
    std::string pid;         ///< the backend's
    std::string table;       ///< relid as regclass text, "-" when none
    std::string command;     ///< "COPY FROM" or "COPY TO"
    std::string type;        ///< FILE, PROGRAM, PIPE or CALLBACK
    std::string tuples;      ///< tuples_processed, as the server wrote it
    std::string bytes;       ///< bytes_processed, as the server wrote it
    std::string bytes_total; ///< bytes_total, as the server wrote it
    double tuple_count = 0;  ///< tuples, as a number
    double byte_count = 0;   ///< bytes, as a number
    double seconds = 0;      ///< since the statement started; 0 when unknown
};

/// One reading of pg_stat_progress_copy (PostgreSQL 14+), by pid.
std::vector<copy_progress> read_copy_progress(connection& conn);

/// A reading of watch in format: a line per running COPY, under a heading
/// line (text, tsv) when header is set.
std::string render_copy_progress(const std::vector<copy_progress>& copies, report_format format, bool header);

} // namespace pgpipe
