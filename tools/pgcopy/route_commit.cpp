// A routed load's unit commit: settling a unit, its failed rows and rejects, the reject limit, (two-phase) commit, failure.
#include "route_commit.hpp"

#include "reject_rules.hpp"
#include "resume_record.hpp"
#include "core/interrupt.hpp"
#include "core/progress.hpp"
#include "core/text.hpp"
#include "io/copy_format.hpp"
#include "io/input.hpp"


namespace pgpipe {

unit_committer::unit_committer(const route_context& context, destination_streams& streams, piece_pool& pool,
                               route_reader& reader, load_summary& summary)
    : m_context(context), m_streams(streams), m_pool(pool), m_reader(reader), m_summary(summary) {}

// The reject files start with what committed batches rejected: those of
// the key's committed batches (at most what the files hold: a batch whose
// COMMIT failed on a shard took its part back; all of it when an older
// pgcopy's records do not say), else nothing.
void unit_committer::open() {
    const copy_load_options& o = m_context.options;
    if (!o.rejects.file.empty()) {
        const resume_found& c = m_streams[0]->found();
        const uint64_t rows = regular_file_size(o.rejects.file).value_or(0);
        const uint64_t log = regular_file_size(o.rejects.file + ".log").value_or(0);
        m_rejects = c.reject_sizes_known ? std::make_unique<reject_sink>(o.rejects.file, std::min(c.reject_bytes, rows),
                                                                         std::min(c.reject_log_bytes, log))
                                         : std::make_unique<reject_sink>(o.rejects.file, rows, log);
    }
    if (o.sharding.two_phase) {
        m_gid_prefix = run_tag();
    }
}

uint64_t unit_committer::row_of_line(const piece& p, size_t destination, uint64_t line) const {
    const auto& rows = p.rows_of[destination];
    const size_t k = row_at_copy_line(m_context.csv(), rows.size(), line, [&](size_t i) { return p.row(rows[i]); });
    return k < rows.size() ? k + 1 : 0;
}

// The unit handed on: every destination took it, then all commit or none.
void unit_committer::settle() {
    if (!m_unsettled)
        return;
    piece& p = *m_unsettled;
    m_unsettled = nullptr; // settled once, even when it fails
    m_pool.wait_sent(p);
    if (m_context.batched)
        reject_failed_rows(p);
    if (destination_stream* failed = m_pool.failed(m_streams))
        fail_unit(*failed, &p);
    check_reject_limit(p); // before COMMIT: a unit past the limit rolls back whole
    write_rejects(p);
    commit(&p);
    m_rows_settled += p.rows();
    m_pool.give_back(&p);
}

std::string committed_text(const load_summary& summary) {
    if (summary.batches == 0)
        return "nothing was committed";
    return format_count(summary.rows) + " rows in " + format_count(summary.batches) + " batches were committed";
}

std::string detail_and_committed(const error& e, const load_summary& summary) {
    return e.detail().empty() ? committed_text(summary) : e.detail() + "\n" + committed_text(summary);
}

// A destination's failure ends the load: every open transaction rolls back.
void unit_committer::fail_unit(destination_stream& d, const piece* unit) {
    error e = *d.failure();
    std::pair<size_t, uint64_t> place{0, 0}; // input, line
    uint64_t row_number = d.failed_row();
    if (const uint64_t row = m_context.batched && unit ? row_of_line(*unit, d.index(), d.failed_row()) : 0) {
        place = {unit->input_index, unit->lines[unit->rows_of[d.index()][row - 1]]}; // a batch knows its rows' lines
        row_number = row;
    } else if (!m_context.batched && d.failed_row()) {
        if (const uint64_t line = m_reader.lines(d.index()).line_of(d.failed_row()))
            place = m_reader.place_of(line);
    }
    if (place.second) {
        e.set_context(m_context.where(place.first, place.second) + " (row " + std::to_string(row_number) + " sent to " +
                      d.destination().name + (d.destination().server.empty() ? "" : " on " + d.destination().server) + ")");
        d.place_failure(e); // a later call (the load's fail, the unit gone) keeps the place
    }
    m_pool.stop(m_streams);
    error out(e.status(), d.destination().name + ": " + escape_line_ends(e.what()),
              detail_and_committed(e, m_summary), e.hint());
    out.set_context(e.context());
    throw out;
}

// --reject-file: a row a destination refused goes to the reject file, and
// the destination's part of the batch goes again without it.
void unit_committer::reject_failed_rows(piece& p) {
    for (size_t d = 0; d < m_streams.size(); ++d) {
        destination_stream& s = *m_streams[d];
        auto& rows = p.rows_of[d];
        uint64_t row = 0;
        while (s.failure() && m_rejects && (row = row_of_line(p, d, s.failed_row())) > 0 &&
               row_fault(s.failed_state())) {
            const uint32_t k = rows[row - 1];
            p.reject(d, p.row(k), m_context.inputs[p.input_index], p.lines[k], p.first_offset + p.starts[k],
                     s.failed_state(), s.failure()->what(), s.failure()->detail());
            rows.erase(rows.begin() + static_cast<ptrdiff_t>(row - 1));
            s.clear_failure();
            s.rollback();
            if (m_context.options.truncate && m_units == 0)
                s.truncate(); // the rollback took the first transaction's TRUNCATE with it
            try {
                s.send(p);
            } catch (const error& e) {
                s.note_failure(e);
            }
        }
    }
}

void unit_committer::write_rejects(const piece& p) {
    m_summary.rejected += p.rejected();
    if (!m_rejects)
        return;
    m_reject_rows_size = m_rejects->rows_size();
    m_reject_log_size = m_rejects->log_size();
    append_rejects(p, std::vector<bool>(m_streams.size(), true));
}

// The rejects of the parts given, on disk before the batch commits: a crash
// between them repeats a reject (cut back by a rerun with the same
// --resume-key), never loses one.
void unit_committer::append_rejects(const piece& p, const std::vector<bool>& parts) {
    bool any = false;
    for (size_t d = 0; d < p.rejects.size(); ++d) {
        if (!parts[d] || p.rejects[d].rows.empty())
            continue;
        m_rejects->append(p.rejects[d].rows, p.rejects[d].log);
        any = true;
    }
    if (any)
        m_rejects->sync();
}

// The unit did not commit on open[committed] and after: the rejects of those
// parts leave the reject files. A part without a transaction (no rows, or
// all rejected) went with the unit if any part committed.
void unit_committer::take_back_rejects(const piece& p, const std::vector<destination_stream*>& open, size_t committed) {
    std::vector<bool> kept(m_streams.size(), committed > 0);
    for (size_t k = 0; k < open.size(); ++k)
        kept[open[k]->index()] = k < committed;
    for (size_t d = 0; d < p.rejects.size(); ++d)
        if (!kept[d])
            m_summary.rejected -= p.rejects[d].count;
    if (!m_rejects)
        return;
    m_rejects->truncate(m_reject_rows_size, m_reject_log_size);
    append_rejects(p, kept);
}

void unit_committer::check_reject_limit(const piece& p) {
    const uint64_t rejected = m_summary.rejected + p.rejected();
    if (over_max_rejects(m_context.options, rejected, m_rows_settled + p.rows(), true))
        throw max_rejects_stop(m_context.options, rejected, committed_text(m_summary),
                               m_context.where(p.input_index, p.rows() ? p.lines[0] : m_reader.line()));
}

// --two-phase: every open transaction prepared, or none left prepared.
void unit_committer::prepare_all(const std::vector<destination_stream*>& open) {
    std::vector<destination_stream*> prepared;
    for (destination_stream* s : open) {
        try {
            s->prepare(m_gid_prefix + "-" + std::to_string(m_units) + "-" + std::to_string(s->index()));
            prepared.push_back(s);
        } catch (const error& e) {
            s->end_transaction(); // a failed PREPARE rolls back
            for (destination_stream* done : prepared)
                done->rollback_prepared();
            m_pool.stop(m_streams);
            throw error(exit_status::server_error, s->destination().name + ": PREPARE TRANSACTION failed: " + e.what(),
                        committed_text(m_summary) + "; this " + (m_context.batched ? "batch" : "load") + " was rolled back everywhere",
                        "--two-phase needs max_prepared_transactions above 0 on every server that takes rows");
        }
    }
}

// --resume-key: the coordinator's record of the batch, with the reject
// files' sizes once its rejects are in them (what a rerun cuts them back to).
void unit_committer::record_unit(const piece& p) {
    if (m_context.options.resume_key.empty() || p.skip[0])
        return;
    m_streams[0]->record(p, m_rejects ? std::to_string(m_rejects->rows_size()) + ", " + std::to_string(m_rejects->log_size())
                                      : std::string("NULL, NULL"));
}

// Every destination with an open transaction commits this unit's rows (p:
// the unit, null for the TRUNCATE of an empty input). The rejects of the
// parts that do not commit are taken back.
void unit_committer::commit(piece* p) {
    std::vector<destination_stream*> open;
    try {
        if (p)
            record_unit(*p);
        for (auto& s : m_streams)
            if (s->in_transaction())
                open.push_back(s.get());
        throw_if_interrupted();
        if (m_context.options.sharding.two_phase)
            prepare_all(open);
    } catch (...) {
        if (p)
            take_back_rejects(*p, open, 0);
        throw;
    }
    std::string done;
    for (size_t k = 0; k < open.size(); ++k) {
        destination_stream& s = *open[k];
        try {
            s.commit();
        } catch (const error& e) {
            // A connection lost during COMMIT leaves open[k]'s part perhaps
            // committed: its rejects stay (a rerun may repeat a reject, never
            // lose one). Prepared parts are to be committed by hand: theirs stay.
            const auto* server = dynamic_cast<const server_error*>(&e);
            const bool lost = server && server->connection_lost();
            if (p && !m_context.options.sharding.two_phase)
                take_back_rejects(*p, open, lost ? k + 1 : k);
            commit_failed(e, open, k, done, lost);
        }
        m_summary.rows += s.unit_rows();
        done += (done.empty() ? "" : ", ") + s.destination().name;
    }
    for (auto& s : m_streams)
        s->clear_unit();
    m_reader.clear_lines();
    ++m_summary.batches;
    ++m_units;
}

void unit_committer::commit_failed(const error& e, const std::vector<destination_stream*>& open, size_t k,
                                   const std::string& done, bool lost) {
    const bool two_phase = m_context.options.sharding.two_phase;
    std::string left;
    for (size_t j = lost ? k + 1 : k; j < open.size(); ++j)
        left += (left.empty() ? "" : ", ") + open[j]->destination().name +
                (two_phase ? " (prepared as " + open[j]->gid() + ")" : "");
    m_pool.stop(m_streams);
    throw error(exit_status::server_error, open[k]->destination().name + ": COMMIT failed: " + e.what(),
                committed_text(m_summary) + "; of this " + (m_context.batched ? "batch" : "load") +
                    ", committed on: " + (done.empty() ? "none" : done) +
                    (lost ? "; unknown on: " + open[k]->destination().name + " (the connection was lost during COMMIT)"
                          : "") +
                    "; not on: " + (left.empty() ? "none" : left),
                two_phase ? "run COMMIT PREPARED on the servers left prepared, or rerun with the same --resume-key"
                          : "rerun with the same --resume-key, or check those tables");
}

} // namespace pgpipe
