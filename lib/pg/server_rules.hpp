// What differs between the PostgreSQL majors pgpipe supports (14 to 18): every version rule in one place.
#pragma once

#include "io/row_splitter.hpp"

namespace pgpipe {

class connection;

/// The oldest and newest majors pgpipe is tested on (server_version_num / 10000).
constexpr int oldest_supported_major = 14;
constexpr int newest_supported_major = 18;

/// The behaviours of one server that depend on its version, read once from
/// its server_version_num (which libpq has from the connection's start, with
/// no query). Code that behaves differently by version asks here, never
/// compares version numbers itself.
class server_rules {
public:
    /// The rules of a server of this server_version_num (e.g. 180004).
    explicit server_rules(int server_version_num) : version_num_(server_version_num) {}
    /// The rules of the server at the other end of conn.
    static server_rules of(const connection& conn);

    /// e.g. 180004.
    int version_num() const { return version_num_; }
    /// e.g. 18.
    int major() const { return version_num_ / 10000; }

    /// Whether a CSV line holding only `\.` ends the data. Before 18 it does;
    /// 18 reads it as data (a row whose one value is `\.`).
    bool csv_marker_ends_data() const { return version_num_ < 180000; }
    /// Whether a text row that ends in `\.` after data loads that data and
    /// ends the input (before 18), or is refused with "end-of-copy marker
    /// is not alone on its line" (18).
    bool text_marker_after_data_loads() const { return version_num_ < 180000; }
    /// Both marker rules, for the row splitters (lib/io knows no server).
    marker_rules markers() const { return {csv_marker_ends_data(), text_marker_after_data_loads()}; }

    /// Whether pg_stat_wal exists (14 on).
    bool has_pg_stat_wal() const { return version_num_ >= 140000; }
    /// Whether pg_stat_progress_copy exists (14 on).
    bool has_pg_stat_progress_copy() const { return version_num_ >= 140000; }
    /// Whether a backend's statistics are in shared memory when it exits (15
    /// on), rather than sent to a collector process that has them up to half
    /// a second later.
    bool statistics_published_at_exit() const { return version_num_ >= 150000; }
    /// Whether COPY takes HEADER MATCH, and HEADER in text format (15 on):
    /// 14 takes HEADER in CSV only, and never checks the names.
    bool has_header_match() const { return version_num_ >= 150000; }

    /// Whether pg_stat_io exists (16 on).
    bool has_pg_stat_io() const { return version_num_ >= 160000; }
    /// Whether pg_stat_io's reads, writes and extends count operations, each
    /// of one or more blocks, with the bytes in read_bytes, write_bytes and
    /// extend_bytes (18 on), rather than blocks (16, 17).
    bool pg_stat_io_counts_operations() const { return version_num_ >= 180000; }
    /// Whether checkpoints are counted in pg_stat_checkpointer (17 on) rather
    /// than pg_stat_bgwriter.
    bool has_pg_stat_checkpointer() const { return version_num_ >= 170000; }

    /// Whether a COPY into a partitioned table sends the rows of a foreign
    /// partition in batches of the server's batch_size (16 on), rather than
    /// one remote INSERT per row.
    bool fdw_copy_batches() const { return version_num_ >= 160000; }
    /// The most rows such a COPY sends in one remote INSERT for a foreign
    /// partition of this batch_size: 1 before 16; from 16 on batch_size, but
    /// no more than the 1000 rows COPY buffers (fewer when the buffered rows
    /// reach 64 kB).
    int fdw_copy_rows_per_insert(int batch_size) const {
        return fdw_copy_batches() ? (batch_size < 1 ? 1 : batch_size > 1000 ? 1000 : batch_size) : 1;
    }
    /// Whether COPY FREEZE into a foreign table is refused as such (18 on).
    /// 14 to 17 take it into a foreign table created in the same transaction
    /// and ignore FREEZE (the remote rows are not frozen); every major
    /// refuses COPY FREEZE into a partitioned table.
    bool copy_freeze_refused_on_foreign_tables() const { return version_num_ >= 180000; }

private:
    int version_num_;
};

} // namespace pgpipe
