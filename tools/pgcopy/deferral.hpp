// pgcopy's deferred indexes and constraints for loads that commit in batches:
// recorded in pgpipe's schema before they are dropped, put back after, crash-safe.
#pragma once

#include "pg/schema.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pgpipe {

class connection;
class server_error;

/// One statement that puts back something a deferred load took off a table.
struct restore_statement {
    int phase = 0;    ///< 0: build an index; 1: attach a key or unique constraint to its index; 2: a foreign key or check
    std::string name; ///< the index or constraint, quoted, for messages
    std::string sql;  ///< the statement
};

/// What deferring a table's indexes and/or constraints takes off it, and how
/// to put it back: restores are in order (every phase-0 statement may run in
/// parallel with the others of its phase).
struct load_deferral {
    std::vector<std::string> drops;          ///< DROP INDEX / ALTER TABLE … DROP CONSTRAINT
    std::vector<restore_statement> restores; ///< indexes rebuilt, constraints re-attached USING INDEX, then foreign keys and checks (each validated in one pass)
};

/// Plans dropping table_sql's indexes (primary key and unique constraints
/// included) and/or its foreign-key and CHECK constraints. An index that
/// another table's foreign key depends on is kept, with a note; so is an
/// exclusion constraint's.
load_deferral plan_deferral(connection& conn, const std::string& table_sql, bool indexes, bool constraints);

/// plan_deferral, its drops run inside the caller's transaction; returns
/// the restore statements, in order.
std::vector<std::string> drop_for_load(connection& conn, const std::string& table_sql, bool indexes, bool constraints);

/// pgcopy's tables that record deferrals (pgpipe.deferred, pgpipe.deferred_loads).
extern const std::vector<std::string> deferral_tables;

/// The indexes and constraints a load that commits in batches takes off one
/// table. What is dropped is recorded in pgpipe.deferred in the transaction
/// that drops it, and each statement that puts something back removes its
/// record in its own transaction: after a crash anywhere, the records say
/// exactly what is still missing, and a rerun (or pgcopy --restore) finishes
/// the job with the same names and definitions.
class table_deferral {
public:
    /// Reads the records of table_sql (quoted) left by an earlier load.
    /// defer and restore take the table's deferral lock first (a session
    /// advisory lock on conn): one deferring load per table at a time; they
    /// wait up to a minute for it, then throw local_error.
    table_deferral(connection& conn, std::string table_sql, std::string table_as_given);

    /// Statements an earlier, interrupted load left to run.
    size_t pending() const { return m_pending.size(); }

    /// Records, then drops, the indexes and/or constraints still on the
    /// table, in one committed transaction. resume_key (may be empty) is
    /// recorded with the batches, so that a failed rebuild can void its progress.
    void defer(bool indexes, bool constraints, const std::string& resume_key);

    /// SQL that records the current transaction as one that loaded rows
    /// while the table's indexes were off (run inside each batch's
    /// transaction, and inside each savepoint that loaded rows, whose rows
    /// carry the subtransaction's xid): a failed rebuild deletes those rows.
    std::string record_batch_sql() const;

    /// Puts everything back: each phase's statements spread over conns (one
    /// thread each), every statement committed together with the removal of
    /// its record. If a unique index, key, foreign key or check cannot come
    /// back because of loaded rows, the rows of every recorded batch are
    /// deleted (with their resume keys' progress), everything is put back,
    /// and the server's error (naming the key) is thrown with a detail saying
    /// so (worded for an interrupted load's rows, or this load's).
    void restore(const std::vector<connection*>& conns, bool interrupted_load = false);

    /// How many loaded rows restore deleted, if it had to.
    std::optional<uint64_t> rows_deleted() const { return m_rows_deleted; }

    /// Whether restore found rows of earlier loads recorded (kept when it succeeds).
    bool loads_recorded() const { return m_loads_recorded; }

private:
    struct pending_statement {
        int step;
        restore_statement what;
    };
    void read_records();
    void take_lock();
    void run_phases(const std::vector<connection*>& conns);
    uint64_t delete_loaded_rows();
    [[noreturn]] void rebuild_without_loaded_rows(const std::vector<connection*>& conns, const server_error& e,
                                                  bool interrupted_load);

    connection& m_conn;
    std::string m_table_sql, m_table;
    std::string m_relid; // the table's oid, as text
    std::string m_key;   // the load's resume key, or empty
    bool m_locked = false;
    std::optional<uint64_t> m_rows_deleted;
    bool m_loads_recorded = false;
    std::vector<pending_statement> m_pending;
};

/// Before a load that defers nothing into table_sql (quoted; table as the
/// user wrote it): puts back what an interrupted load left off it, saying so.
void put_back_left_off(connection& conn, const std::string& table_sql, const std::string& table);

/// pgcopy --restore TABLE: puts back what an interrupted load left off
/// TABLE; returns the summary line, saying which end state it reached.
std::string restore_deferred(connection& conn, const std::string& table);

} // namespace pgpipe
