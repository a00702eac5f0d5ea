// Commit accounting: the progress record a batch commits with, the counts
// of what committed, and the reject files' committed sizes.
#include "committer.hpp"

#include "copy_sql.hpp"
#include "reject_rules.hpp"
#include "core/text.hpp"
#include "core/log.hpp"

#include <algorithm>


namespace pgpipe {
namespace {

// Progress tables made by an older pgcopy lack the fingerprints and the
// counts of --jobs batches: add them (only then, so that a role that cannot
// ALTER still resumes).
void upgrade_progress_tables(connection& c) {
    static const char* const added[][2] = {
        {"load_progress", "input_hash text"},        {"load_batches", "content_hash text"},
        {"load_batches", "rows_loaded bigint"},      {"load_batches", "rows_rejected bigint"},
        {"load_batches", "rows_seen bigint"},        {"load_batches", "reject_bytes bigint"},
        {"load_batches", "reject_log_bytes bigint"}, {"load_progress", "shape text"},
        {"load_progress", "input_stamps text"},
    };
    result_ptr r = c.query("SELECT count(*) FROM pg_attribute WHERE attrelid IN ('pgpipe.load_progress'::regclass,"
                           " 'pgpipe.load_batches'::regclass) AND attname IN ('input_hash', 'content_hash',"
                           " 'rows_loaded', 'rows_rejected', 'rows_seen', 'reject_bytes', 'reject_log_bytes', 'shape',"
                           " 'input_stamps')"
                           " AND NOT attisdropped");
    // load_progress has rows_*, reject_* of its own: 5 + the 9 added.
    if (std::string(PQgetvalue(r.get(), 0, 0)) == "14")
        return;
    for (const auto& column : added)
        c.exec(std::string("ALTER TABLE pgpipe.") + column[0] + " ADD COLUMN IF NOT EXISTS " + column[1]);
}

void create_progress_tables(connection& c) {
    create_pgpipe_tables(
        c, {"pgpipe.load_progress", "pgpipe.load_batches"},
        {"CREATE TABLE IF NOT EXISTS pgpipe.load_progress ("
         " key text PRIMARY KEY, target text NOT NULL, inputs text NOT NULL,"
         " input_index int NOT NULL, input_offset bigint NOT NULL, input_line bigint NOT NULL,"
         " rows_loaded bigint NOT NULL, rows_rejected bigint NOT NULL, rows_seen bigint NOT NULL,"
         " reject_bytes bigint NOT NULL, reject_log_bytes bigint NOT NULL, batches bigint NOT NULL,"
         " finished boolean NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), input_hash text,"
         " shape text, input_stamps text)",
         // The batches --jobs committed out of order, past input_offset.
         "CREATE TABLE IF NOT EXISTS pgpipe.load_batches ("
         " key text NOT NULL, input_index int NOT NULL, start_offset bigint NOT NULL,"
         " end_offset bigint NOT NULL, content_hash text, rows_loaded bigint, rows_rejected bigint,"
         " rows_seen bigint, reject_bytes bigint, reject_log_bytes bigint,"
         " PRIMARY KEY (key, input_index, start_offset))"});
    upgrade_progress_tables(c);
}

std::string n(uint64_t v) { return std::to_string(v); }

} // namespace

committer::committer(const load_context& ctx) : m_ctx(ctx) {
    m_summary.program = std::string(program_name());
    m_summary.target = ctx.o.table.empty() ? "the script's tables" : ctx.o.table;
}

// What the --jobs batches of earlier runs committed, on top of the progress row.
void committer::add_batch_counts(connection& c) {
    result_ptr r = c.query("SELECT coalesce(sum(rows_loaded), 0), coalesce(sum(rows_rejected), 0),"
                           " coalesce(sum(rows_seen), 0), count(*), coalesce(max(reject_bytes), 0),"
                           " coalesce(max(reject_log_bytes), 0) FROM pgpipe.load_batches WHERE key = " +
                           c.quote_literal(m_ctx.key));
    auto v = [&](int col) { return std::stoull(PQgetvalue(r.get(), 0, col)); };
    m_from_batches = {v(0), v(1), v(2), v(3)};
    m_summary.rows += m_from_batches.rows;
    m_summary.rejected += m_from_batches.rejected;
    m_rows_sent += m_from_batches.seen;
    m_summary.batches += m_from_batches.batches;
    // The reject files grow in commit order: the last committed batch's sizes are the largest.
    m_reject_size = std::max<uint64_t>(m_reject_size, v(4));
    m_log_size = std::max<uint64_t>(m_log_size, v(5));
}

// --jobs batches record only their own rows; the load's row must be there
// for a rerun to know the key's load.
void committer::ensure_progress_row(connection& c) {
    if (m_ctx.key.empty() || !m_ctx.parallel() || m_ctx.route) // a routed load's records are its destinations'
        return;
    c.exec("INSERT INTO pgpipe.load_progress (key, target, inputs, input_index, input_offset, input_line,"
           " rows_loaded, rows_rejected, rows_seen, reject_bytes, reject_log_bytes, batches, finished, input_hash, shape)"
           " VALUES (" + c.quote_literal(m_ctx.key) + ", " + c.quote_literal(m_ctx.o.table) + ", " +
           c.quote_literal(m_ctx.inputs_text()) + ", 0, 0, 1, 0, 0, 0, 0, 0, 0, false, '', " +
           c.quote_literal(m_ctx.shape_text) + ") ON CONFLICT (key) DO NOTHING");
}

resume_point committer::read_progress(connection& c) {
    resume_point p;
    if (m_ctx.key.empty())
        return p;
    create_progress_tables(c);
    read_progress_row(c, p);
    if (!p.recorded)
        return p;
    add_batch_counts(c);
    p.ranges = read_ranges(c);
    return p;
}

void committer::read_progress_row(connection& c, resume_point& p) {
    const std::string& key = m_ctx.key;
    result_ptr r = c.query("SELECT target, inputs, input_index, input_offset, input_line, rows_loaded, rows_rejected,"
                           " rows_seen, reject_bytes, reject_log_bytes, batches, finished, coalesce(input_hash, ''),"
                           " coalesce(shape, ''), coalesce(input_stamps, '') FROM pgpipe.load_progress WHERE key = " +
                           c.quote_literal(key));
    if (PQntuples(r.get()) == 0)
        return;
    auto v = [&](int col) { return std::string(PQgetvalue(r.get(), 0, col)); };
    if (v(0) != m_ctx.o.table || v(1) != m_ctx.inputs_text())
        throw local_error("resume key \"" + key + "\" belongs to another load (of " + v(0) + " from " +
                              one_line(v(1)) + ")",
                          {}, "use a new key for a new load");
    p.recorded = true;
    p.from.input_index = std::stoul(v(2));
    p.from.offset = std::stoull(v(3));
    p.from.line = std::stoull(v(4));
    m_summary.rows = std::stoull(v(5));
    m_summary.rejected = std::stoull(v(6));
    m_rows_sent = std::stoull(v(7));
    m_reject_size = std::stoull(v(8));
    m_log_size = std::stoull(v(9));
    m_summary.batches = std::stoull(v(10));
    p.finished = v(11) == "t";
    p.hash = v(12);
    p.shape = v(13);
    p.stamps = v(14);
}

std::vector<committed_range> committer::read_ranges(connection& c) {
    std::vector<committed_range> out;
    result_ptr ranges = c.query("SELECT input_index, start_offset, end_offset, coalesce(content_hash, '')"
                                " FROM pgpipe.load_batches WHERE key = " +
                                c.quote_literal(m_ctx.key) + " ORDER BY input_index, start_offset");
    for (int k = 0; k < PQntuples(ranges.get()); ++k)
        out.push_back({std::stoul(PQgetvalue(ranges.get(), k, 0)), std::stoull(PQgetvalue(ranges.get(), k, 1)),
                       std::stoull(PQgetvalue(ranges.get(), k, 2)), PQgetvalue(ranges.get(), k, 3)});
    return out;
}

void committer::open_rejects() {
    if (!m_ctx.o.rejects.file.empty()) // a resumed load keeps what committed batches rejected
        m_rejects = std::make_unique<reject_sink>(m_ctx.o.rejects.file, m_reject_size, m_log_size);
}

void committer::start_progress(bool show) {
    m_meter = progress_meter(show);
    m_state.job_rows.assign(m_ctx.parallel() ? m_ctx.loaders : 0, 0);
}

void committer::check_reject_limit(const batch& b, uint64_t pending, bool at_batch_end) {
    const copy_load_options& o = m_ctx.o;
    if (!o.rejects.max)
        return;
    std::unique_lock<std::mutex> lock(m_mutex);
    const uint64_t rejected = m_summary.rejected + pending;
    if (over_max_rejects(o, rejected, m_rows_sent + b.rows(), at_batch_end))
        throw max_rejects_stop(o, rejected, committed_so_far(), m_ctx.where(b, 0));
}

void committer::write_rejects(reject_claim& claim, const batch& b, const std::vector<reject>& rejects) {
    claim.lock = std::unique_lock<std::mutex>(m_reject_mutex);
    claim.rows_size = m_rejects->rows_size();
    claim.log_size = m_rejects->log_size();
    append_rejects(b, rejects);
}

void committer::append_rejects(const batch& b, const std::vector<reject>& rejects) {
    std::string rows, logs;
    for (const auto& r : rejects) {
        rows += r.raw;
        logs += r.log_line;
    }
    // The reject file is a loadable stream: CSV keeps its header, binary its
    // header (the trailer goes on at the end of the load).
    const bool header = m_ctx.format.format == copy_format::binary || m_ctx.format.header;
    m_rejects->append(rows, logs, header ? std::string_view(b.header) : std::string_view());
    // On disk before the batch commits, so a committed batch never lacks its rejects.
    m_rejects->sync();
}

void committer::take_back(reject_claim& claim) {
    if (!claim.held())
        return;
    m_rejects->truncate(claim.rows_size, claim.log_size);
    claim.lock.unlock();
}

void committer::take_back_keeping(reject_claim& claim, const batch& b, const std::vector<reject>& rejects,
                                  const std::vector<bool>& committed) {
    if (!claim.held())
        return;
    const bool any = std::find(committed.begin(), committed.end(), true) != committed.end();
    std::vector<reject> kept;
    for (const reject& r : rejects)
        if ((r.destination < committed.size() && committed[r.destination]) || (any && r.destination == 0))
            kept.push_back(r);
    m_rejects->truncate(claim.rows_size, claim.log_size);
    if (!kept.empty())
        append_rejects(b, kept);
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_reject_size = m_rejects->rows_size(), m_log_size = m_rejects->log_size();
        m_summary.rejected += kept.size();
    }
    claim.lock.unlock();
}

std::string committer::reject_sizes_sql(const reject_claim& claim) {
    if (!m_rejects)
        return "NULL, NULL";
    if (claim.held()) // the batch's rejects are the last in the files
        return std::to_string(m_rejects->rows_size()) + ", " + std::to_string(m_rejects->log_size());
    std::lock_guard<std::mutex> lock(m_mutex); // else what committed so far, which a rerun keeps
    return std::to_string(m_reject_size) + ", " + std::to_string(m_log_size);
}

// With one loader the committed prefix moves with each batch, in the one
// progress row. With several, each batch inserts a row of its own into
// load_batches (its range, counts and fingerprint): no row is shared, so
// the loaders' transactions do not wait for each other's COMMIT.
void committer::save_progress(connection& c, const batch& b, const position& after, uint64_t loaded,
                              uint64_t rejected, const reject_claim& claim) {
    if (m_ctx.key.empty())
        return;
    const bool rejects = claim.held();
    const std::string key = c.quote_literal(m_ctx.key);
    if (m_ctx.parallel()) {
        c.exec("INSERT INTO pgpipe.load_batches (key, input_index, start_offset, end_offset, content_hash,"
               " rows_loaded, rows_rejected, rows_seen, reject_bytes, reject_log_bytes) VALUES (" +
               key + ", " + n(b.input_index) + ", " + n(b.first_offset + b.starts[0]) + ", " + n(b.end_offset()) +
               ", " + c.quote_literal(b.content_hash) + ", " + n(loaded) + ", " + n(rejected) + ", " + n(b.rows()) +
               ", " + (rejects ? n(m_rejects->rows_size()) + ", " + n(m_rejects->log_size()) : "NULL, NULL") + ")");
        return;
    }
    // The progress row counts what one-loader batches committed; --jobs
    // batch rows of an earlier run count their own.
    const load_summary& s = m_summary;
    const batch_counts& e = m_from_batches;
    c.exec("INSERT INTO pgpipe.load_progress AS p (key, target, inputs, input_index, input_offset, input_line,"
           " rows_loaded, rows_rejected, rows_seen, reject_bytes, reject_log_bytes, batches, finished, input_hash, shape,"
           " input_stamps) VALUES (" +
           key + ", " + c.quote_literal(m_ctx.o.table) + ", " + c.quote_literal(m_ctx.inputs_text()) + ", " +
           n(after.input_index) + ", " + n(after.offset) + ", " + n(after.line) + ", " +
           n(s.rows - e.rows + loaded) + ", " + n(s.rejected - e.rejected + rejected) + ", " +
           n(m_rows_sent - e.seen + b.rows()) + ", " +
           (rejects ? n(m_rejects->rows_size()) + ", " + n(m_rejects->log_size())
                    : n(m_reject_size) + ", " + n(m_log_size)) + ", " +
           n(s.batches - e.batches + 1) + ", false, " + c.quote_literal(b.prefix_hash) + ", " +
           c.quote_literal(m_ctx.shape_text) + ", " + c.quote_literal(b.input_stamps) +
           ") ON CONFLICT (key) DO UPDATE SET input_index = EXCLUDED.input_index, input_hash = EXCLUDED.input_hash,"
           " shape = EXCLUDED.shape, input_stamps = EXCLUDED.input_stamps,"
           " input_offset = EXCLUDED.input_offset, input_line = EXCLUDED.input_line,"
           " rows_loaded = EXCLUDED.rows_loaded, rows_rejected = EXCLUDED.rows_rejected,"
           " rows_seen = EXCLUDED.rows_seen, reject_bytes = EXCLUDED.reject_bytes,"
           " reject_log_bytes = EXCLUDED.reject_log_bytes, batches = EXCLUDED.batches, updated_at = now()");
}

// One loader moves the committed prefix; several record each batch's range.
bool committer::batch_committed(connection& c, const batch& b) {
    const std::string key = c.quote_literal(m_ctx.key);
    const std::string sql =
        m_ctx.parallel() ? "SELECT 1 FROM pgpipe.load_batches WHERE key = " + key + " AND input_index = " +
                             n(b.input_index) + " AND start_offset = " + n(b.first_offset + b.starts[0])
                       : "SELECT 1 FROM pgpipe.load_progress WHERE key = " + key +
                             " AND (input_index, input_offset) >= (" + n(b.input_index) + ", " + n(b.end_offset()) + ")";
    return PQntuples(c.query(sql).get()) > 0;
}

void committer::count_committed(const batch& b, const position& after, uint64_t loaded, uint64_t rejected,
                                const reject_claim& claim, unsigned loader, uint64_t loader_rows) {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (claim.held()) {
        m_reject_size = m_rejects->rows_size();
        m_log_size = m_rejects->log_size();
    }
    m_committed = after;
    m_summary.rows += loaded;
    m_summary.bytes += b.size();
    m_summary.rejected += rejected;
    m_rows_sent += b.rows();
    m_summary.batches += 1;
    m_state.rows = m_summary.rows;
    if (m_ctx.parallel())
        m_state.job_rows[loader] = loader_rows;
}

void committer::count_streamed(const batch& b) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_summary.bytes += b.size();
    m_rows_sent += b.rows();
    m_summary.batches += 1;
    m_state.rows = m_rows_sent; // sent: nothing commits before the end
}

void committer::count_stream_rows(uint64_t rows) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_summary.rows += rows;
}

void committer::count_read(uint64_t bytes, uint64_t raw) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_state.bytes += bytes;
    m_state.input_bytes = raw;
    m_meter.update(m_state);
}

void committer::show_progress() {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_meter.update(m_state);
}

// One transaction: whatever the batches did is rolled back, their rejects too.
void committer::forget_all() {
    m_summary.rows = m_summary.batches = m_summary.rejected = 0;
    m_reject_size = m_log_size = 0;
    if (m_rejects) // a failure to do so is the error reported
        m_rejects->truncate(m_reject_size, m_log_size);
}

void committer::finish_rejects() {
    if (m_rejects && m_ctx.format.format == copy_format::binary)
        m_rejects->finish_binary();
}

void committer::record_finished(connection& c, const std::string& stamps) {
    if (m_ctx.key.empty())
        return;
    std::string key = c.quote_literal(m_ctx.key);
    c.exec("BEGIN");
    // The batch rows go: their counts move into the load's row.
    c.exec(m_ctx.implicit_key ? "DELETE FROM pgpipe.load_progress WHERE key = " + key
                              : "UPDATE pgpipe.load_progress SET finished = true, updated_at = now(), rows_loaded = " +
                                    n(m_summary.rows) + ", rows_rejected = " + n(m_summary.rejected) +
                                    ", rows_seen = " + n(m_rows_sent) + ", batches = " + n(m_summary.batches) +
                                    ", reject_bytes = " + n(m_reject_size) + ", reject_log_bytes = " + n(m_log_size) +
                                    ", input_stamps = " + c.quote_literal(stamps) + " WHERE key = " + key);
    c.exec("DELETE FROM pgpipe.load_batches WHERE key = " + key);
    c.exec("COMMIT");
}

std::string committer::committed_so_far() const {
    std::string out = format_count(m_summary.rows) + " rows were committed in " + format_count(m_summary.batches) +
                      " batches";
    if (m_ctx.parallel())
        return out + " (by " + std::to_string(m_ctx.loaders) + " jobs, not in input order)";
    return out + ", up to " + m_ctx.input_name(m_committed.input_index) + ":" + std::to_string(m_committed.line - 1) +
           " (byte offset " + std::to_string(m_committed.offset) + ")";
}

} // namespace pgpipe
