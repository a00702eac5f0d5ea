// The engine of pgcopy: wires the stages (reader, queue, loaders,
// committer) around one load context and owns the load's lifecycle.
#pragma once

#include "batch_queue.hpp"
#include "batch_reader.hpp"
#include "committer.hpp"
#include "copy_options.hpp"
#include "deferral.hpp"
#include "load_context.hpp"
#include "load_plan.hpp"
#include "loader.hpp"
#include "resume_record.hpp"
#include "router.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace pgpipe {

/// One load, from its setup to its summary: start (connect, read what an
/// earlier run committed), prepare (plan, statements, deferral, threads),
/// run (the reader cuts, the loaders load), conclude (COMMIT, restore,
/// the key finished), or fail (roll back, say what committed).
class copy_engine {
public:
    /// The load options ask for, as plan says; first: the first input,
    /// opened already (or null); route: a routed load's table and destinations (or null).
    copy_engine(const copy_load_options& options, const load_plan& plan, std::unique_ptr<input_stream> first,
                const routing* route);
    copy_engine(const copy_engine&) = delete;
    copy_engine& operator=(const copy_engine&) = delete;

    /// Runs the load: its summary, or throws error (see run_batched_copy).
    load_summary run();

private:
    // --- the lifecycle (batch_load.cpp)
    bool start();
    void connect_loaders();
    void choose_key();
    void prepare();
    void start_router();
    void start_loaders();
    void run_loader(loader& l);
    void read_all();
    void conclude();
    void conclude_routed(destination_set& set);
    [[noreturn]] void fail(const error& e);
    std::string failure_detail(const error& e);
    std::string one_transaction_outcome(const error& e) const;
    void report();
    void write_stats();
    void stop_loaders();
    double elapsed() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count();
    }
    bool input_changed() const { return m_reader.input_changed() || m_shape_refused; }

    // --- setup and planning (engine_setup.cpp)
    void apply_first_input(connection& c);
    void read_columns(connection& c);
    load_shape current_shape(connection& c) const;
    void check_shape(connection& c);
    void prepare_routes(const load_shape& shape);
    std::string routed_summary() const;
    void plan_encoding(connection& c);
    void plan_ids(connection& c, const std::vector<std::string>& loaded);
    void plan_binary(connection& c, const std::vector<std::string>& loaded);
    void add_plan_line(std::string line) { m_ctx.plan_lines.push_back(std::move(line)); }
    void publish_plan();
    // --defer-*: with --single-transaction, dropped in it and put back
    // before its COMMIT; else recorded, dropped, and put back by every
    // loader's connection at the end (deferral.hpp).
    void defer_for_load(connection& c);
    void restore_after_load();
    std::string restore_after_failure(const error& e);

    const copy_load_options& m_o;
    load_context m_ctx;       // complete once prepare has planned; the stages read it
    committer m_committer;
    batch_queue m_queue;
    server_block_tables m_tables;
    batch_reader m_reader;
    std::optional<router> m_router;   // a routed load's
    std::optional<connection> m_ids;  // ... and its connection for ids reserved before routing
    std::vector<std::unique_ptr<loader>> m_loaders;
    std::vector<std::thread> m_threads;
    std::chrono::steady_clock::time_point m_started = std::chrono::steady_clock::now();
    bool m_committing = false;    // the one transaction's COMMIT was sent
    std::string m_recorded_shape; // the earlier run's (empty: none recorded)
    bool m_shape_refused = false; // the resume key's shape differs: a rerun would fail the same way
    std::optional<table_deferral> m_deferral;
    std::vector<std::string> m_restore_in_transaction;
};

/// pgcopy's one engine behind run_copy: a reader cuts the inputs into
/// batches at row boundaries (script blocks too), loaders load them; each
/// batch committed with its progress, or with plan.one_transaction all of
/// them in one. plan: what the planner chose (jobs, batch size, levers).
/// first: the first input, opened already (its first bytes given back), or
/// null. route: with plan.routed, the table's routing: the router cuts
/// each batch into a part per destination, and the batch commits once all
/// its parts loaded (--two-phase: prepared everywhere first). Throws like
/// run_copy; status rows_rejected past --max-rejects.
load_summary run_batched_copy(const copy_load_options& options, const load_plan& plan,
                              std::unique_ptr<input_stream> first = nullptr, const routing* route = nullptr);

} // namespace pgpipe
