// pgcopy's one engine: a reader detects the format (and script blocks), cuts
// the inputs into batches at row boundaries and deals them through a bounded
// queue to --jobs loaders (in a routed load each loader's router cuts a batch
// into a part per destination); each batch commits with its progress (or, with
// no batch option or --single-transaction, all in one transaction). This
// file holds the lifecycle; the stages live in batch_reader, batch_queue,
// loader and committer, the setup and plan in engine_setup.cpp.
#include "batch_load.hpp"

#include "copy_sql.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "pg/identifier.hpp"
#include "pg/server_rules.hpp"

#include <unistd.h>

namespace pgpipe {

copy_engine::copy_engine(const copy_load_options& options, const load_plan& plan, std::unique_ptr<input_stream> first,
                         const routing* route)
    : m_o(options), m_ctx(options, plan), m_committer(m_ctx), m_queue(m_ctx.loaders), m_tables(m_ctx),
      m_reader(m_ctx, m_queue, m_tables, std::move(first)) {
    m_ctx.route = route;
    m_queue.on_wait([this] { m_committer.show_progress(); });
    m_reader.on_read([this](uint64_t bytes, uint64_t raw) { m_committer.count_read(bytes, raw); });
    // One transaction: the one connection's COPY takes each batch in the
    // reader's own thread (a hand-over per batch would cost more than it
    // overlaps), and its buffer is kept for the next.
    // A routed load's one transaction goes through the queue: the reader
    // routes the next batch while the loader sends the one before.
    if (m_ctx.one_transaction() && !route)
        m_queue.take_inline([this](batch& b) { m_loaders[0]->stream_batch(b); });
}

// The first loader may ask for a password; the others reuse its login.
void copy_engine::connect_loaders() {
    for (unsigned k = 0; k < m_ctx.loaders; ++k) {
        m_loaders.push_back(std::make_unique<loader>(m_ctx, m_committer, m_queue, k));
        m_loaders.back()->connect();
        if (!m_ctx.login)
            m_ctx.login = m_loaders.back()->conn().same_login(m_o.connection);
    }
}

void copy_engine::choose_key() {
    if (!m_o.resume_key.empty()) {
        m_ctx.key = m_o.resume_key;
    } else if (m_o.retries > 0) {
        // Retries need to know whether a batch committed: a key of this run's own.
        m_ctx.key = run_tag();
        m_ctx.implicit_key = true;
    }
    if (!m_ctx.key.empty() && !m_ctx.route) // before anything reads pgpipe: a clear refusal, naming the privilege
        require_pgpipe_access(m_loaders[0]->conn(), {"pgpipe.load_progress", "pgpipe.load_batches"},
                              m_o.resume_key.empty() ? "--retries" : "--resume-key");
}

// Connects the loaders and reads what an earlier run of the key committed.
// Returns false when that run finished the load.
bool copy_engine::start() {
    m_committer.start_progress(m_o.show_progress);
    connect_loaders();
    choose_key();
    // A routed load's records are on its destinations (prepare_routes).
    resume_point resume = m_ctx.route ? resume_point{} : m_committer.read_progress(m_loaders[0]->conn());
    const bool finished = resume.finished;
    m_recorded_shape = resume.shape;
    m_reader.resume(std::move(resume));
    load_summary& s = m_committer.summary();
    if (finished) {
        m_reader.check_finished_inputs(m_ctx.inputs.size());
        log_info("resume key \"" + m_ctx.key + "\": this load finished already (" + format_count(s.rows) +
                 " rows)" +
                 (m_reader.stamps()[0].hash.empty() ? ", its inputs known by name only" : ", its inputs unchanged") +
                 "; nothing to do");
        s.committed = true;
        return false;
    }
    const position& from = m_reader.resume_from();
    m_reader.check_finished_inputs(from.input_index);
    if (s.batches > 0)
        log_info("resuming \"" + m_ctx.key + "\": " + format_count(s.rows) + " rows in " + format_count(s.batches) +
                 " batches committed before, " +
                 (!m_reader.resumes_out_of_order()
                      ? "up to " + m_ctx.input_name(from.input_index) + ":" + std::to_string(from.line - 1) +
                            " (byte offset " + std::to_string(from.offset) + ")"
                      : std::string("some out of input order (--jobs)")));
    m_committer.resume_at(from);
    return true;
}

// The plan, statements, reject files and the loaders' threads: after it,
// the load context is fixed.
void copy_engine::prepare() {
    connection& first = m_loaders[0]->conn();
    if (!m_o.table.empty())
        m_ctx.table_sql = quote_qualified_name(first, parse_qualified_name(m_o.table));
    m_ctx.markers = server_rules::of(first).markers();
    if (m_o.require_end) // the end line \. ends the data in CSV too, though 18 reads it as a row: never sent
        m_ctx.markers.csv_marker_ends_data = true;
    apply_first_input(first);
    read_columns(first);
    check_shape(first);
    m_committer.ensure_progress_row(first);
    plan_encoding(first);
    for (auto& l : m_loaders)
        l->prepare_statements();
    m_committer.open_rejects();
    if (!m_ctx.table_sql.empty()) // a missing table is an error even when no row comes
        first.query("SELECT " + first.quote_literal(m_ctx.table_sql) + "::regclass");
    defer_for_load(first); // and BEGIN the one transaction
    m_queue.hold_first_batch(m_o.truncate);
    if (m_ctx.route)
        start_router();
    start_loaders();
}

// The router stage, in the reader's thread: with ids reserved, each batch's
// block on a coordinator connection of its own (the loaders' are theirs),
// before the rows are routed (the ids may be the key).
void copy_engine::start_router() {
    m_router.emplace(m_ctx);
    if (m_ctx.sequence)
        m_ids.emplace(connection::open(*m_ctx.login));
    m_queue.route_with([this](batch& b) {
        if (m_ctx.sequence)
            b.first_id = reserve_ids(*m_ids, *m_ctx.sequence, b.rows());
        m_router->route(b);
    });
}

void copy_engine::start_loaders() {
    for (auto& l : m_loaders)
        m_threads.emplace_back([this, &l] { run_loader(*l); });
}

void copy_engine::run_loader(loader& l) {
    try {
        for (;;) {
            batch b;
            if (!m_queue.take(b))
                return;
            l.commit_batch(b); // one transaction's batches go inline (take_inline), never through here
            m_queue.done(std::move(b));
        }
    } catch (...) {
        m_queue.fail(std::current_exception());
    }
}

// Reads every input into batches for the loaders, until all committed.
void copy_engine::read_all() {
    try {
        m_reader.read_all();
        m_queue.close_and_drain();
    } catch (const load_stopped&) {
    } catch (const interrupted&) {
        stop_loaders(); // the batches being loaded still commit: they precede the signal
        throw;
    } catch (const error&) {
        // Bad input: every batch cut before it still commits, so that
        // what committed is the whole input up to the bad place.
        m_queue.close_and_drain();
        stop_loaders();
        throw;
    } catch (...) {
        stop_loaders();
        throw;
    }
    stop_loaders();
    if (std::exception_ptr failure = m_queue.failure())
        std::rethrow_exception(failure);
}

// The loaders take no more batches; those being loaded finish first.
void copy_engine::stop_loaders() {
    m_queue.stop();
    for (auto& t : m_threads)
        t.join();
    m_threads.clear();
}

// After the last batch: the one transaction's COMMIT, the binary trailer of
// the reject file, and the key marked finished.
void copy_engine::conclude() {
    connection& c = m_loaders[0]->conn(); // a retry may have replaced it
    m_loaders[0]->end_stream();
    if (destination_set* set = m_loaders[0]->destinations())
        return conclude_routed(*set);
    if (m_queue.truncate_pending()) // an empty input still empties the table
        c.exec("TRUNCATE " + m_ctx.table_sql);
    restore_after_load();
    if (m_ctx.one_tx) {
        throw_if_interrupted();
        m_committing = true;
        c.exec("COMMIT");
    }
    m_committer.finish_rejects();
    m_committer.record_finished(c, m_reader.stamps().text(m_reader.stamps().size()));
    m_committer.summary().committed = true;
}

// A routed load's end: --truncate of an empty input, the one
// transaction's parts committed together, the run's own key forgotten.
void copy_engine::conclude_routed(destination_set& set) {
    set.end_streams(); // a row refused there fails the load before any COMMIT
    if (m_queue.truncate_pending()) // an empty input still empties the tables
        set.truncate_all();
    m_committing = m_ctx.one_tx;
    std::vector<bool> committed;
    set.commit_all(committed);
    m_committer.finish_rejects();
    if (m_ctx.implicit_key)
        for (size_t d = 0; d < set.size(); ++d)
            set.link(d).forget(m_ctx.key);
    m_committer.summary().committed = true;
}

// Rethrows the failure with what committed before it and how to go on
// (called in the handler: with nothing to add, the error goes on as it is).
void copy_engine::fail(const error& e) {
    stop_loaders();
    m_committer.finish_progress();
    load_summary& s = m_committer.summary();
    s.seconds = elapsed();
    s.error = e.what();
    const std::string detail = failure_detail(e);
    write_stats();
    if (detail == e.detail())
        throw;
    if (const auto* signal = dynamic_cast<const interrupted*>(&e))
        throw interrupted(signal->signal_number(), detail);
    error out(e.status(), e.what(), detail, e.hint());
    out.set_context(e.context());
    throw out;
}

// The failure's detail, with what committed (and, in one transaction, what
// was rolled back: the loaders' transactions end here).
std::string copy_engine::failure_detail(const error& e) {
    const load_summary& s = m_committer.summary();
    std::string detail = e.detail();
    if (std::string more = restore_after_failure(e); !more.empty())
        detail = (detail.empty() ? "" : detail + "\n") + more;
    if (m_ctx.one_tx) {
        // One transaction: whatever the batches did is rolled back (and the
        // server left idle, if it is still there).
        for (auto& l : m_loaders) {
            l->abort_stream();
            if (l->connected())
                l->conn().rollback_quietly();
            if (destination_set* set = l->destinations())
                set->rollback_all();
        }
        m_committer.forget_all();
        if (m_ctx.route && m_committing) // the COMMITs' failure says where the load committed
            return detail;
        // The "committed so far" of a --max-rejects stop is void here.
        return (e.status() == exit_status::rows_rejected || detail.empty() ? "" : detail + "\n") +
               one_transaction_outcome(e);
    }
    if (m_deferral && m_deferral->rows_deleted())
        return detail; // the rebuild's detail says what became of the committed rows: they are gone
    const std::string before = detail.empty() ? "" : detail + "\n";
    if (s.batches && !m_queue.dispatched()) // refused before this run sent anything (another shape, a replaced input)
        return before + "this run loaded nothing; the " + format_count(s.rows) + " rows earlier runs of resume key \"" +
               m_ctx.key + "\" committed stay committed";
    if (!s.batches && m_queue.dispatched() && e.status() != exit_status::rows_rejected)
        return before + "nothing was committed: no batch had committed before the failure";
    if (s.batches && e.status() != exit_status::rows_rejected)
        return before + m_committer.committed_so_far() + "; the batches after them were rolled back" +
               (m_ctx.key.empty() || m_ctx.implicit_key || input_changed()
                    ? ""
                    : " (rerun with --resume-key " + m_ctx.key + " to go on)");
    return detail;
}

// What became of the one transaction, for the failure's detail.
std::string copy_engine::one_transaction_outcome(const error& e) const {
    const auto* server = dynamic_cast<const server_error*>(&e);
    const bool lost = server && server->connection_lost();
    if (m_committing)
        return lost ? "the connection was lost during COMMIT: whether the load was committed is unknown; check the table"
                    : "nothing was committed: the server refused the COMMIT";
    if (lost)
        return "nothing was committed: the connection was lost before COMMIT, so the server rolls the transaction back";
    return m_o.single_transaction ? "nothing was committed: --single-transaction rolled the whole load back"
                                  : "nothing was committed: the load's transaction was rolled back";
}

void copy_engine::write_stats() {
    load_summary& s = m_committer.summary();
    s.job_rows.clear();
    if (m_ctx.parallel())
        for (const auto& l : m_loaders)
            s.job_rows.push_back(l->rows_committed());
    write_stats_file(m_o.stats_file, s);
}

void copy_engine::report() {
    load_summary& s = m_committer.summary();
    m_committer.finish_progress();
    s.seconds = elapsed();
    s.input_bytes = m_committer.input_bytes();
    if (m_ctx.one_transaction())
        s.batches = 0; // one transaction, as the user asked for nothing else
    std::string line = summary_line(s);
    if (!m_ctx.one_transaction())
        line += " in " + format_count(s.batches) + " batch" + (s.batches == 1 ? "" : "es");
    if (m_ctx.route)
        line += "; " + routed_summary();
    if (m_ctx.parallel())
        line += " by " + std::to_string(m_loaders.size()) + " jobs";
    if (s.rejected)
        line += "; " + format_count(s.rejected) + (s.rejected == 1 ? " row" : " rows") + " rejected (see " +
                m_o.rejects.file + ".log)";
    uint64_t binary = 0, text = 0;
    for (const auto& l : m_loaders) {
        binary += l->copies_binary();
        text += l->copies_text();
    }
    if (m_ctx.encoder && m_o.verbose)
        log_info("sent " + format_count(binary) + " of " + format_count(binary + text) +
                 " COPY statements as binary (the others held a value pgcopy does not encode exactly)");
    const uint64_t sent = m_committer.rows_sent();
    if (m_o.upsert.on_conflict == conflict_action::ignore && sent > s.rows + s.rejected)
        line += "; " + format_count(sent - s.rows - s.rejected) + " conflicting rows skipped";
    log_info(line);
    write_stats();
}

// "routed N to SERVER, ..., M through TABLE": the rows each destination took.
std::string copy_engine::routed_summary() const {
    std::string shards;
    uint64_t local = 0;
    for (size_t d = 0; d < m_ctx.route->destinations.size(); ++d) {
        uint64_t rows = 0;
        for (const auto& l : m_loaders)
            rows += l->destinations()->rows_committed(d);
        if (d == 0)
            local = rows;
        else
            shards += (shards.empty() ? "" : ", ") + format_count(rows) + " to " + m_ctx.route->destinations[d].server;
    }
    return "routed " + shards + (local ? ", " + format_count(local) + " through " + m_o.table : "");
}

load_summary copy_engine::run() {
    try {
        if (!start())
            return m_committer.summary();
        prepare();
        read_all();
        conclude();
    } catch (const error& e) {
        fail(e);
    } catch (...) {
        stop_loaders();
        throw;
    }
    report();
    return m_committer.summary();
}

load_summary run_batched_copy(const copy_load_options& options, const load_plan& plan,
                              std::unique_ptr<input_stream> first, const routing* route) {
    copy_engine engine(options, plan, std::move(first), route);
    return engine.run();
}

} // namespace pgpipe
