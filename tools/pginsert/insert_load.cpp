// pginsert's engine: rows read and split, then INSERTed row by row, in VALUES batches or pipelined.
#include "insert_load.hpp"

#include "copy_text.hpp"
#include "pg/identifier.hpp"
#include "io/input.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "io/row_splitter.hpp"
#include "pg/server_rules.hpp"
#include "pg/schema.hpp"

#include <chrono>

namespace pgpipe {

insert_strategy parse_insert_strategy(const std::string& name) {
    if (name == "row")
        return insert_strategy::row;
    if (name == "txn")
        return insert_strategy::txn;
    if (name == "values")
        return insert_strategy::values;
    if (name == "pipeline")
        return insert_strategy::pipeline;
    throw local_error("unknown strategy \"" + name + "\"", {}, "the strategies are row, txn, values and pipeline");
}

namespace {

// The most parameters one statement may carry (the protocol's 16-bit count).
constexpr uint64_t max_parameters = 65535;

class inserter {
public:
    explicit inserter(const insert_load_options& o) : m_o(o) {}
    load_summary run();

private:
    // Checks the options and inputs, connects, and names the columns.
    void open_target(const std::vector<std::string>& inputs);
    // Reads one input to its end (or its \. line), inserting its rows.
    void read_input(const std::string& path);
    // Inserts the rows that end in m_chunk (at m_ends), the first
    // completing m_carry; returns where the unfinished row starts.
    size_t add_rows(const std::string& input, uint64_t& line, const std::vector<end_marker>& markers);
    // Sends what is still queued and commits.
    void finish_load();
    // What a failed or interrupted load leaves committed, for its detail.
    std::string what_committed() const;
    void prepare(size_t fields);
    std::string statement_for(size_t rows) const;
    void add_row(std::string_view row, const std::string& input, uint64_t line);
    // The three ways add_row sends the parsed row (m_row), by strategy.
    void insert_one(const std::string& input, uint64_t line);
    void queue_values(const std::string& input, uint64_t line);
    void send_pipelined(const std::string& input, uint64_t line);
    void flush_values();
    void drain_pipeline();
    [[noreturn]] void fail(const server_error& e, const std::string& input, uint64_t line);

    const insert_load_options& m_o;
    std::optional<connection> m_conn;
    std::string m_table_sql;
    std::vector<std::string> m_columns;
    std::string m_conflict;
    size_t m_fields = 0;
    uint64_t m_batch = 0;
    copy_text_fields m_row;
    // values: the parameters of the rows waiting for a statement, and where they came from
    std::vector<std::string> m_pending_values;
    std::vector<char> m_pending_null;
    std::vector<std::pair<std::string, uint64_t>> m_pending_where;
    std::vector<std::pair<std::string, uint64_t>> m_pipeline_where;
    std::vector<size_t> m_prepared_sizes; // statement sizes prepared so far
    load_summary m_summary;
    uint64_t m_rows_read = 0;
    bool m_end_marker = false;
    progress_meter m_meter{false};
    progress_state m_state;
    std::string m_chunk;        // one read of the input
    std::string m_carry;        // a row cut by the end of a read
    std::vector<size_t> m_ends; // the row ends the splitter found in m_chunk
};

std::string inserter::statement_for(size_t rows) const {
    std::string cols;
    for (size_t k = 0; k < m_columns.size(); ++k)
        cols += (k ? ", " : "") + m_columns[k];
    std::string sql = "INSERT INTO " + m_table_sql + (cols.empty() ? "" : " (" + cols + ")") + " VALUES ";
    size_t p = 1;
    for (size_t r = 0; r < rows; ++r) {
        sql += r ? ", (" : "(";
        for (size_t f = 0; f < m_fields; ++f)
            sql += (f ? ", $" : "$") + std::to_string(p++);
        sql += ")";
    }
    return sql + m_conflict;
}

void inserter::prepare(size_t fields) {
    m_fields = m_columns.size();
    m_batch = m_o.batch;
    if (m_o.strategy == insert_strategy::values && m_batch * fields > max_parameters) {
        m_batch = std::max<uint64_t>(1, max_parameters / fields);
        log_info("--batch lowered to " + std::to_string(m_batch) + " rows: a statement takes at most 65535 parameters");
    }
    if (m_o.on_conflict != conflict_action::none) {
        std::vector<std::string> cols = m_columns.empty() ? insertable_columns(*m_conn, m_table_sql) : m_columns;
        m_conflict = on_conflict_clause(*m_conn, m_table_sql, cols, m_o.on_conflict == conflict_action::update,
                                        m_o.conflict_columns);
    }
    size_t per_statement = m_o.strategy == insert_strategy::values ? m_batch : 1;
    result_ptr r(PQprepare(m_conn->get(), "pginsert", statement_for(per_statement).c_str(), 0, nullptr), PQclear);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
        throw server_error(r.get(), m_conn->get());
    m_prepared_sizes.push_back(per_statement);
    // Prepared synchronously above; from here on, queries are queued.
    if (m_o.strategy == insert_strategy::pipeline && PQenterPipelineMode(m_conn->get()) != 1)
        throw server_error(nullptr, m_conn->get());
}

void inserter::fail(const server_error& e, const std::string& input, uint64_t line) {
    std::string detail = e.detail();
    if (m_o.strategy == insert_strategy::row)
        detail += std::string(detail.empty() ? "" : "\n") + format_count(m_summary.rows) +
                  " rows were committed before it (one transaction per row)";
    else
        detail += std::string(detail.empty() ? "" : "\n") + "nothing was committed: the load's transaction was rolled back";
    error out(e.status(), input + ":" + std::to_string(line) + ": " + e.what(), detail, e.hint());
    out.set_context(e.context());
    throw out;
}

void inserter::flush_values() {
    size_t rows = m_pending_where.size();
    if (rows == 0)
        return;
    std::vector<const char*> params;
    params.reserve(rows * m_fields);
    for (size_t k = 0; k < rows * m_fields; ++k)
        params.push_back(m_pending_null[k] ? nullptr : m_pending_values[k].c_str());
    // A shorter last batch needs its own statement.
    const char* name = "pginsert";
    std::string tail_name;
    if (rows != m_batch) {
        tail_name = "pginsert_" + std::to_string(rows);
        result_ptr p(PQprepare(m_conn->get(), tail_name.c_str(), statement_for(rows).c_str(), 0, nullptr), PQclear);
        if (PQresultStatus(p.get()) != PGRES_COMMAND_OK)
            throw server_error(p.get(), m_conn->get());
        name = tail_name.c_str();
    }
    result_ptr r(PQexecPrepared(m_conn->get(), name, static_cast<int>(params.size()), params.data(), nullptr, nullptr, 0),
                 PQclear);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
        server_error e(r.get(), m_conn->get());
        // A multi-row statement names no row: point at the first of the batch.
        fail(e, m_pending_where.front().first, m_pending_where.front().second);
    }
    m_summary.rows += std::strtoull(PQcmdTuples(r.get()), nullptr, 10);
    m_pending_where.clear();
}

void inserter::drain_pipeline() {
    PGconn* c = m_conn->get();
    if (PQpipelineSync(c) != 1)
        throw server_error::after_send_failure(c);
    size_t k = 0;
    std::optional<server_error> first_error;
    size_t error_at = 0;
    for (;;) {
        PGresult* raw = PQgetResult(c);
        if (!raw) {
            ++k; // the end of one query's results
            continue;
        }
        result_ptr r(raw, PQclear);
        auto status = PQresultStatus(raw);
        if (status == PGRES_PIPELINE_SYNC)
            break;
        if (status == PGRES_COMMAND_OK) {
            m_summary.rows += std::strtoull(PQcmdTuples(raw), nullptr, 10);
        } else if (status != PGRES_PIPELINE_ABORTED && !first_error) {
            first_error.emplace(raw, c);
            error_at = k;
        }
        if (PQstatus(c) == CONNECTION_BAD)
            throw server_error(nullptr, c);
    }
    if (first_error) {
        const auto& where = m_pipeline_where[std::min(error_at, m_pipeline_where.size() - 1)];
        fail(*first_error, where.first, where.second);
    }
    m_pipeline_where.clear();
}

void inserter::add_row(std::string_view row, const std::string& input, uint64_t line) {
    if (!row.empty() && row.back() == '\n')
        row.remove_suffix(1);
    if (row == "\\." || row == "\\.\r") {
        m_end_marker = true; // the end-of-data line of COPY text
        return;
    }
    m_row.parse(row);
    if (m_fields == 0)
        prepare(m_row.size());
    if (m_row.size() != m_fields)
        throw local_error(input + ":" + std::to_string(line) + ": " + std::to_string(m_row.size()) +
                          (m_row.size() == 1 ? " field" : " fields") + " where " + std::to_string(m_fields) +
                          (m_fields == 1 ? " column is" : " columns are") + " loaded",
                          "nothing was committed" + std::string(m_o.strategy == insert_strategy::row
                                                                    ? " after row " + format_count(m_summary.rows)
                                                                    : ""));
    switch (m_o.strategy) {
    case insert_strategy::row:
    case insert_strategy::txn: insert_one(input, line); break;
    case insert_strategy::values: queue_values(input, line); break;
    case insert_strategy::pipeline: send_pipelined(input, line); break;
    }
}

void inserter::insert_one(const std::string& input, uint64_t line) {
    PGconn* c = m_conn->get();
    result_ptr r(PQexecPrepared(c, "pginsert", static_cast<int>(m_fields), m_row.pointers().data(), nullptr, nullptr, 0),
                 PQclear);
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK)
        fail(server_error(r.get(), c), input, line);
    m_summary.rows += std::strtoull(PQcmdTuples(r.get()), nullptr, 10);
}

void inserter::queue_values(const std::string& input, uint64_t line) {
    size_t at = m_pending_where.size() * m_fields;
    if (m_pending_values.size() < at + m_fields) {
        m_pending_values.resize(at + m_fields);
        m_pending_null.resize(at + m_fields);
    }
    for (size_t f = 0; f < m_fields; ++f) {
        const char* v = m_row.value(f);
        m_pending_null[at + f] = v == nullptr;
        if (v)
            m_pending_values[at + f].assign(v);
    }
    m_pending_where.emplace_back(input, line);
    if (m_pending_where.size() == m_batch)
        flush_values();
}

void inserter::send_pipelined(const std::string& input, uint64_t line) {
    PGconn* c = m_conn->get();
    if (PQsendQueryPrepared(c, "pginsert", static_cast<int>(m_fields), m_row.pointers().data(), nullptr, nullptr, 0) !=
        1)
        throw server_error::after_send_failure(c);
    m_pipeline_where.emplace_back(input, line);
    if (m_pipeline_where.size() >= m_batch)
        drain_pipeline();
}

void inserter::open_target(const std::vector<std::string>& inputs) {
    if (m_o.batch == 0)
        throw local_error("--batch must be at least 1");
    parse_qualified_name(m_o.table);
    check_inputs_readable(inputs);
    m_conn.emplace(connection::open(m_o.connection));
    m_table_sql = quote_qualified_name(*m_conn, parse_qualified_name(m_o.table));
    // Name the columns always: a short row must be refused, as COPY
    // refuses it, not padded with NULLs; and a missing table is found
    // before any input is read.
    if (m_o.columns)
        for (const auto& name : parse_name_list(*m_o.columns))
            m_columns.push_back(m_conn->quote_identifier(name));
    else
        m_columns = insertable_columns(*m_conn, m_table_sql);
}

// The rows of m_chunk the splitter found (m_ends; markers: its \. lines).
// The data before a \. that ends a row is a row, as the server reads it;
// the marker ends the input.
size_t inserter::add_rows(const std::string& input, uint64_t& line, const std::vector<end_marker>& markers) {
    size_t from = 0, next_marker = 0;
    for (size_t e : m_ends) {
        if (m_end_marker)
            break;
        ++line;
        std::string_view row(m_chunk.data() + from, e - from);
        if (!m_carry.empty()) {
            m_carry.append(row);
            row = m_carry;
        }
        if (next_marker < markers.size() && markers[next_marker].end == e) {
            if (markers[next_marker].refused) // as the server refuses it (18)
                throw marker_not_alone(input, line);
            row.remove_suffix(markers[next_marker++].size);
            m_end_marker = true;
        }
        if (!row.empty() || !m_end_marker)
            add_row(row, input, line);
        m_carry.clear();
        from = e;
    }
    return from;
}

void inserter::read_input(const std::string& path) {
    input_stream in(path);
    auto splitter = make_row_splitter(copy_format_options{}, server_rules::of(*m_conn).markers()); // COPY text
    uint64_t line = 0;
    m_carry.clear();
    m_end_marker = false;
    while (size_t n = in.read(m_chunk.data(), m_chunk.size())) {
        throw_if_interrupted();
        m_ends.clear();
        splitter->scan(m_chunk.data(), n, m_ends);
        size_t from = add_rows(in.name(), line, splitter->end_markers());
        if (m_end_marker)
            break;
        m_carry.append(m_chunk.data() + from, n - from);
        m_state.rows = m_summary.rows;
        m_state.bytes += n;
        m_meter.update(m_state);
    }
    if (!m_carry.empty() && !m_end_marker)
        add_row(m_carry, in.name(), ++line);
    m_rows_read += line;
    m_summary.input_bytes += in.raw_bytes_read();
}

void inserter::finish_load() {
    if (m_o.strategy == insert_strategy::values)
        flush_values();
    if (m_o.strategy == insert_strategy::pipeline && !m_pipeline_where.empty())
        drain_pipeline();
    if (m_o.strategy == insert_strategy::pipeline)
        PQexitPipelineMode(m_conn->get());
    if (m_o.strategy != insert_strategy::row)
        m_conn->exec("COMMIT");
    m_summary.committed = true;
}

std::string inserter::what_committed() const {
    return m_o.strategy == insert_strategy::row
               ? format_count(m_summary.rows) + " rows were committed (one transaction per row)"
               : "nothing was committed: the load's transaction was rolled back";
}

load_summary inserter::run() {
    auto started = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
    m_summary.program = std::string(program_name());
    m_summary.target = m_o.table;
    m_summary.verb = "inserted";
    std::vector<std::string> inputs = inputs_or_stdin(m_o.inputs);
    try {
        open_target(inputs);
        m_meter = progress_meter(m_o.show_progress);
        if (m_o.strategy != insert_strategy::row)
            m_conn->exec("BEGIN");
        m_chunk.assign(1 << 20, '\0');
        for (const auto& path : inputs)
            read_input(path);
        finish_load();
    } catch (const error& e) {
        m_meter.finish();
        m_summary.seconds = elapsed();
        m_summary.error = e.what();
        if (m_o.strategy != insert_strategy::row)
            m_summary.rows = 0;
        write_stats_file(m_o.stats_file, m_summary);
        if (const auto* stop = dynamic_cast<const interrupted*>(&e))
            throw interrupted(stop->signal_number(), what_committed());
        throw;
    }
    m_meter.finish();
    m_summary.bytes = m_state.bytes;
    m_summary.seconds = elapsed();
    log_info(summary_line(m_summary));
    write_stats_file(m_o.stats_file, m_summary);
    return m_summary;
}

} // namespace

void validate_insert_load(const insert_load_options& o) {
    if (o.table.empty())
        throw usage_failure("no table given");
    if (o.batch == 0)
        throw usage_failure("--batch must be at least 1");
    if (o.conflict_columns && o.on_conflict == conflict_action::none)
        throw usage_failure("--conflict-columns needs --on-conflict");
}

load_summary run_insert(const insert_load_options& options) {
    validate_insert_load(options);
    inserter loader(options);
    return loader.run();
}

} // namespace pgpipe
