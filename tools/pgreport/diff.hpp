// pgreport's diff of two snapshots as a model of the deltas, and the
// renderers that turn that model into text, JSON or TSV reports.
#pragma once

#include "report.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace pgpipe {

/// How one table changed in the interval.
struct table_delta {
    std::string name;             ///< "schema.name"
    double inserted = 0;          ///< n_tup_ins
    double rows_per_second = 0;   ///< inserted over the interval
    double updated = 0;           ///< n_tup_upd
    double deleted = 0;           ///< n_tup_del
    double table_bytes = 0;       ///< growth of the heap
    double index_bytes = 0;       ///< growth of all its indexes
    double toast_bytes = 0;       ///< growth of its TOAST table and index
    double table_bytes_after = 0; ///< heap size at the end
};

/// WAL written in the interval (PostgreSQL 14+: pg_stat_wal).
struct wal_delta {
    double bytes = 0;                  ///< wal_bytes
    double records = 0;                ///< wal_records
    double full_page_images = 0;       ///< wal_fpi
    double bytes_per_second = 0;       ///< bytes over the interval
    double bytes_per_inserted_row = 0; ///< bytes over the tables' inserts; 0 without inserts
};

/// Checkpoints and the buffers backends had to write themselves.
struct checkpoint_delta {
    double timed = 0;                 ///< checkpoints started by checkpoint_timeout
    double requested = 0;             ///< checkpoints asked for (max_wal_size, CHECKPOINT)
    double backend_buffer_writes = 0; ///< shared buffers written or extended by backends (buffers_backend)
};

/// The database's own counters (pg_stat_database).
struct database_delta {
    std::string name;         ///< current_database() of the later snapshot
    double commits = 0;       ///< xact_commit
    double rollbacks = 0;     ///< xact_rollback
    double rows_inserted = 0; ///< tup_inserted
    double blocks_read = 0;   ///< blks_read
    double blocks_hit = 0;    ///< blks_hit
    double hit_ratio = 1;     ///< hits over reads and hits; 1 without either
    double temp_bytes = 0;    ///< temp_bytes
};

/// One statement of pg_stat_statements that ran in the interval.
struct statement_delta {
    std::string query;    ///< its (shortened) text, or its queryid when the snapshot lacks the text
    double total_ms = 0;  ///< total_exec_time
    double calls = 0;     ///< calls
    double rows = 0;      ///< rows
    double wal_bytes = 0; ///< wal_bytes
};

/// Everything a report says about the interval between two snapshots.
struct snapshot_diff {
    double seconds = 0;              ///< the interval, at least a microsecond
    std::string database;            ///< the later snapshot's database
    std::string server_version;      ///< the later snapshot's server_version
    std::vector<table_delta> tables; ///< tables that changed or appeared, by name
    double inserted_total = 0;       ///< the tables' inserts summed
    std::optional<wal_delta> wal;    ///< absent when the later snapshot has no WAL section
    checkpoint_delta checkpoints;    ///< from the view the server version has
    database_delta db;               ///< pg_stat_database of the database
    std::vector<statement_delta> statements; ///< the 10 that took most time, most first
    std::vector<std::string> notes;          ///< the later snapshot's notes
};

/// The deltas from before to after (no check that they are of one database:
/// see check_same_database).
snapshot_diff diff_snapshots(const snapshot& before, const snapshot& after);

/// One line of a JSON or TSV report: a section, a name and its metrics.
struct metric_row {
    std::string section;                                ///< "table", "wal", "checkpoints", "database", "statement"
    std::string name;                                   ///< table name, database name, query text, ...
    std::vector<std::pair<std::string, double>> values; ///< metric -> value, in report order
};

/// The model as the rows of the JSON and TSV reports, in report order.
std::vector<metric_row> metric_rows(const snapshot_diff& diff);

/// The report as aligned text tables within 80 columns.
std::string render_diff_text(const snapshot_diff& diff);
/// The report as one JSON object.
std::string render_diff_json(const snapshot_diff& diff);
/// The report as section, name, metric, value lines under a header line.
std::string render_diff_tsv(const snapshot_diff& diff);
/// The report in format.
std::string render_diff(const snapshot_diff& diff, report_format format);
/// The differences between two snapshots, rendered in format.
std::string render_diff(const snapshot& before, const snapshot& after, report_format format);

} // namespace pgpipe
