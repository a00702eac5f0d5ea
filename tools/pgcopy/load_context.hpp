// What every stage of pgcopy's engine reads and none changes once the load
// is planned: the options, the inputs, the target's SQL, the resume key,
// the format, the batch sizes, the plan, the encoders planned for it, and
// a routed load's routing and what earlier runs committed at each destination.
#pragma once

#include "batch.hpp"
#include "copy_options.hpp"
#include "load_plan.hpp"
#include "route_plan.hpp"
#include "id_blocks.hpp"
#include "transcode.hpp"
#include "io/copy_format.hpp"
#include "io/row_splitter.hpp"
#include "pg/connection.hpp"

#include <optional>
#include <string>
#include <vector>

namespace pgpipe {

/// Bytes the reader asks an input for at once.
constexpr size_t read_chunk = 1 << 20;

/// The load as the engine set it up: built by the engine's setup and
/// planning, then handed to the stages as `const load_context&` (the
/// loaders' threads start only after it is complete).
struct load_context {
    /// Sizes and inputs from the options and the plan (the rest is filled in by setup).
    load_context(const copy_load_options& options, const load_plan& plan);

    const copy_load_options& o; ///< as the user gave them
    const load_plan& plan;      ///< what the planner chose, each choice with its reason
    bool one_tx;     ///< --single-transaction, or no batch option: nothing commits before the end
    size_t chunk;    ///< bytes the reader asks the input for at once
    std::vector<std::string> inputs; ///< as given; "-" is stdin
    uint64_t batch_bytes, batch_rows; ///< a batch is cut at whichever comes first
    unsigned loaders;                 ///< connections loading batches (the plan's jobs, at least one)
    std::string table_sql, columns_sql, column_list_sql; ///< quoted
    std::vector<std::string> column_names; ///< unquoted, for the CSV header check
    std::vector<std::string> load_columns; ///< quoted, for upserts: the columns loaded
    std::optional<std::vector<std::string>> header_columns; ///< --header without -c: the first header's names
    std::string key;                  ///< --resume-key, or one of this run's own for --retries
    bool implicit_key = false;        ///< key is this run's own: removed at the end
    std::optional<connection_options> login; ///< as the first connection logged in
    copy_format_options format;       ///< -F's, or binary when the data says so
    marker_rules markers;             ///< how the server reads end-of-data markers
    bool first_is_script = false;     ///< the first input is a script stream
    std::string shape_text;           ///< the load's shape, written with the progress row
    std::vector<std::string> plan_lines; ///< --fast's choices, then the engine's: printed by -v, kept in --stats
    std::optional<sequence_column> sequence; ///< --reserve-ids: the column whose ids pgcopy reserves
    std::optional<text_to_binary> encoder;   ///< --send-binary: the template each loader copies
    std::string record_batch_sql;     ///< run in each batch's transaction while deferred
    const routing* route = nullptr;   ///< a routed load's table, key and destinations (null: not routed)
    std::vector<committed_batches> routed_found; ///< per destination, what earlier runs of the key committed there

    /// More than one loader: batches commit out of order.
    bool parallel() const { return loaders > 1; }
    /// No batch option: one transaction, one COPY per input kept open, no savepoints.
    bool one_transaction() const { return plan.one_transaction.value; }
    /// Whether rejected rows go to a reject file (else a bad row fails the load).
    bool rejecting() const { return !o.rejects.file.empty(); }
    /// An input as messages name it.
    std::string input_name(size_t index) const { return input_display_name(inputs[index]); }
    /// The inputs, one a line, as the progress record keeps them.
    std::string inputs_text() const;
    /// FILE:LINE of row k of b.
    std::string where(const batch& b, size_t k) const {
        return input_name(b.input_index) + ":" + std::to_string(b.line_of(k));
    }
    /// Which row of [a, z), sent in one COPY, the server's CONTEXT line names.
    std::optional<size_t> row_named(const batch& b, size_t a, size_t z, std::optional<uint64_t> line) const;
};

} // namespace pgpipe
