// pgcopy --fast: the choices of the plan, each from what the table, the
// server and the input say, with the reason it was (or was not) taken.
#pragma once

#include "io/copy_format.hpp"
#include "pg/connection.hpp"
#include "core/stats.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pgpipe {

struct copy_load_options;

/// One line of the plan per lever: what was chosen and why.
struct fast_plan {
    std::vector<std::string> lines; ///< "2 jobs: ...", "indexes deferred: ..."
    /// Adds a line.
    void add(std::string line) { lines.push_back(std::move(line)); }
};

/// How many connections --fast loads over: the cores of this machine when
/// the server is on it (a Unix socket or a loopback address), else 4.
unsigned fast_job_count(const connection_options& options, fast_plan& plan);

/// Whether --fast defers the table's indexes and constraints: when it has
/// any, no --reject-file or --on-conflict needs them during the load, and the
/// table holds less than the input brings (rebuilding a large table's
/// indexes for a small load would cost more than it saves).
bool fast_defers(connection& conn, const std::string& table_sql, const copy_load_options& o,
                 std::optional<uint64_t> input_bytes, fast_plan& plan);

/// Whether --fast sets lz4 TOAST compression: the server has it and the
/// table has a column TOAST compresses.
bool fast_lz4(connection& conn, const std::string& table_sql, fast_plan& plan);

/// pgcopy --fast: chooses the levers (jobs, deferral, lz4 here; ids and
/// binary encoding by the loader, from the input), then loads in batches.
load_summary run_fast_copy(const copy_load_options& options);

} // namespace pgpipe
