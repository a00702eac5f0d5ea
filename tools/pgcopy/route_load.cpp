// pgcopy's routed loads: rows of a table partitioned over postgres_fdw shards, each sent straight to its shard.
#include "route_load.hpp"

#include "load_plan.hpp"
#include "route_commit.hpp"
#include "route_context.hpp"
#include "route_destination.hpp"
#include "route_pool.hpp"
#include "route_reader.hpp"
#include "resume_record.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "core/text.hpp"
#include "pg/server_rules.hpp"

#include <optional>

namespace pgpipe {
namespace {

// Without batches the reader hands rows on in pieces of about this size:
// three of them (being read, being sent, spare) keep memory flat.
constexpr uint64_t one_transaction_piece = 1 << 20;
constexpr size_t pieces_in_flight = 3;

/// A routed load: wires the reader, the pool of pieces and the
/// destinations' threads, and the unit committer; owns the load's
/// lifecycle, its progress and its summary.
class routed_loader {
public:
    routed_loader(const copy_load_options& o, routing plan, connection coordinator, std::unique_ptr<input_stream> first)
        : m_o(o), m_plan(std::move(plan)), m_coordinator(std::move(coordinator)), m_first(std::move(first)) {
        m_summary.program = std::string(program_name());
        m_summary.target = o.table;
    }
    /// Loads every input, or fails having rolled back what had not committed.
    load_summary run();

private:
    route_context make_context(const load_shape& shape);
    void start();
    void connect_destinations(const load_shape& shape);
    void cut(piece& p);
    void hand_on(piece* p);
    void finish_load();
    [[noreturn]] void fail(const error& e);
    [[noreturn]] void settle_before_failing(const error& e);
    void report();

    const copy_load_options& m_o;
    routing m_plan;
    connection m_coordinator;
    std::unique_ptr<input_stream> m_first; // until the reader takes it
    std::optional<const route_context> m_context; // fixed in start
    destination_streams m_streams;
    piece_pool m_pool{pieces_in_flight};
    std::optional<route_reader> m_reader;
    std::optional<unit_committer> m_committer;
    load_summary m_summary;
    progress_meter m_meter{false};
    progress_state m_state;
};

route_context routed_loader::make_context(const load_shape& shape) {
    const bool batched = m_o.batched();
    return route_context{m_o,
                         m_plan,
                         inputs_or_stdin(m_o.inputs),
                         m_coordinator.same_login(m_o.connection),
                         PQparameterStatus(m_coordinator.get(), "client_encoding"),
                         shape.text(),
                         server_rules::of(m_coordinator).markers(),
                         batched,
                         batched ? m_o.batch_size.bytes.value_or(default_batch_bytes) : one_transaction_piece,
                         batched && m_o.batch_size.rows ? *m_o.batch_size.rows : UINT64_MAX};
}

// Every destination connected, with nothing left prepared by an earlier
// --two-phase load, and (--resume-key) what earlier runs committed read.
void routed_loader::connect_destinations(const load_shape& shape) {
    for (size_t d = 0; d < m_plan.destinations.size(); ++d) {
        m_streams.push_back(std::make_unique<destination_stream>(*m_context, m_plan.destinations[d], d));
        m_streams.back()->connect();
        if (std::string left = m_streams.back()->prepared_leftovers(); !left.empty())
            throw local_error("prepared transactions of an earlier pgcopy --two-phase load are pending on " +
                                  m_streams.back()->conn().describe() + ": " + left,
                              "they hold their rows' locks: this load would wait for them for ever",
                              "COMMIT PREPARED them if every server of their batch has one, else ROLLBACK PREPARED");
        if (!m_o.resume_key.empty()) {
            m_streams.back()->read_committed(m_o.resume_key);
            check_resumed_shape(m_o.resume_key, shape, m_streams.back()->found().shape,
                                "DELETE FROM pgpipe.routed_batches WHERE key = '" + m_o.resume_key + "' on every server");
        }
    }
}

void routed_loader::start() {
    m_meter = progress_meter(m_o.show_progress);
    const load_shape shape = describe_load(m_coordinator, m_plan.table_sql, m_plan.columns, m_o.format);
    m_context.emplace(make_context(shape));
    connect_destinations(shape);
    if (m_o.verbose)
        for (auto& s : m_streams)
            log_info("routing: " + (s->index() == 0 ? "local partitions and unplaced keys through " + m_o.table
                                                   : s->destination().name + " to " + s->destination().remote_table) +
                     ", " + s->conn().describe());
    m_reader.emplace(*m_context, m_streams, m_pool, [this](piece& p) { cut(p); }, std::move(m_first));
    m_committer.emplace(*m_context, m_streams, m_pool, *m_reader, m_summary);
    m_committer->open();
    if (m_o.truncate)
        for (auto& s : m_streams)
            s->truncate();
    m_pool.start(m_streams, m_context->batched);
}

// A piece routed: it goes on to every destination. The last piece of a
// unit goes once the unit before it has committed: the reader cuts and
// routes the next batch meanwhile.
void routed_loader::cut(piece& p) {
    if (!p.ends_unit)
        return hand_on(&p);
    m_committer->settle();
    hand_on(&p);
    m_committer->adopt(&p);
    if (!m_context->batched)
        m_committer->settle();
}

void routed_loader::hand_on(piece* p) {
    throw_if_interrupted();
    m_pool.hand_on(p);
    m_state.input_bytes += p->end_offset() - p->start_offset();
    m_state.rows += p->rows();
    m_meter.update(m_state);
}

// The one transaction's end: an empty piece that ends the unit.
void routed_loader::finish_load() {
    if (m_context->batched) {
        m_committer->settle();
        if (m_o.truncate && m_committer->units() == 0)
            m_committer->commit(nullptr); // an empty input still empties the tables
        return;
    }
    piece* p = m_pool.take();
    p->bytes.clear();
    p->starts.assign(1, 0);
    p->input_index = m_context->inputs.size() - 1;
    m_reader->route(*p);
    p->ends_unit = true;
    cut(*p);
}

load_summary routed_loader::run() {
    try {
        start();
        for (size_t k = 0; k < m_context->inputs.size(); ++k)
            m_reader->read_input(k);
        finish_load();
    } catch (const error& e) {
        settle_before_failing(e);
    } catch (...) {
        m_pool.stop(m_streams);
        throw;
    }
    m_pool.stop(m_streams);
    report();
    return m_summary;
}

// Bad input (or a row fitting no partition) while the batch before it was
// loading: that batch still commits, so that what committed is the whole
// input up to the bad place; then the failure.
void routed_loader::settle_before_failing(const error& e) {
    if (m_committer && m_committer->unsettled() && !m_pool.load_failed() && !m_pool.failed(m_streams)) {
        try {
            m_committer->settle();
        } catch (const error& settling) {
            fail(settling);
        }
    }
    fail(e);
}

// Every transaction rolled back, the failure said with what committed
// before it, and written to --stats.
void routed_loader::fail(const error& e) {
    try {
        if (destination_stream* failed = m_committer ? m_pool.failed(m_streams) : nullptr)
            m_committer->fail_unit(*failed, m_committer->unsettled());
        m_pool.stop(m_streams);
        if (e.detail().find("committed") != std::string::npos)
            throw;
        throw error(e.status(), e.what(), detail_and_committed(e, m_summary),
                    e.hint());
    } catch (const error& failure) {
        m_meter.finish();
        m_summary.seconds = m_meter.elapsed();
        m_summary.error = failure.what();
        write_stats_file(m_o.stats_file, m_summary);
        throw;
    }
}

void routed_loader::report() {
    m_meter.finish();
    m_summary.seconds = m_meter.elapsed();
    m_summary.input_bytes = m_state.input_bytes;
    m_summary.bytes = m_state.input_bytes; // rows are sent as read
    m_summary.committed = true;
    std::string shards;
    for (auto& s : m_streams) {
        m_summary.job_rows.push_back(s->rows_committed());
        if (s->destination().server.empty())
            continue;
        shards += (shards.empty() ? "" : ", ") + format_count(s->rows_committed()) + " to " + s->destination().server;
    }
    std::string line = summary_line(m_summary) + "; routed " + shards;
    if (m_streams[0]->rows_committed())
        line += ", " + format_count(m_streams[0]->rows_committed()) + " through " + m_o.table;
    if (m_context->batched)
        line += "; " + format_count(m_summary.batches) + " batch" + (m_summary.batches == 1 ? "" : "es");
    if (m_summary.rejected)
        line += "; " + format_count(m_summary.rejected) + (m_summary.rejected == 1 ? " row" : " rows") +
                " rejected (see " + m_o.rejects.file + ".log)";
    log_info(line);
    write_stats_file(m_o.stats_file, m_summary);
}

} // namespace

load_summary run_routed_copy(const copy_load_options& options, routing plan, connection coordinator,
                             std::unique_ptr<input_stream> first) {
    routed_loader loader(options, std::move(plan), std::move(coordinator), std::move(first));
    return loader.run();
}

} // namespace pgpipe
