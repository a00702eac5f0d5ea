// One loader's destinations in a routed load: connecting, routing, and committing a batch's parts together.
#include "destination_set.hpp"

#include "resume_record.hpp"
#include "core/interrupt.hpp"
#include "core/text.hpp"

namespace pgpipe {

destination_set::destination_set(const load_context& ctx)
    : m_ctx(ctx), m_part_rows(ctx.route->destinations.size()),
      m_open_rows(ctx.route->destinations.size()),
      m_rows_committed(ctx.route->destinations.size()), m_found_now(ctx.route->destinations.size()) {
    for (size_t d = 0; d < ctx.route->destinations.size(); ++d)
        m_links.push_back(std::make_unique<destination_link>(ctx, d));
    if (ctx.o.sharding.two_phase)
        m_gid_prefix = run_tag();
}

void destination_set::connect(const std::string& client_encoding) {
    for (auto& l : m_links)
        if (!l->ok())
            l->connect(client_encoding);
}

std::vector<resume_found> destination_set::read_committed(const std::string& key) {
    std::vector<resume_found> found;
    for (auto& l : m_links)
        found.push_back(l->read_committed(key));
    return found;
}

void destination_set::check_prepared_leftovers() {
    for (auto& l : m_links)
        if (std::string left = l->prepared_leftovers(); !left.empty())
            throw local_error("prepared transactions of an earlier pgcopy --two-phase load are pending on " +
                                  l->conn().describe() + ": " + left,
                              "they hold their rows' locks: this load would wait for them for ever",
                              "COMMIT PREPARED them if every server of their batch has one, else ROLLBACK PREPARED");
}

void destination_set::adopt(batch& b) {
    for (batch& part : b.parts)
        part.whole = &b;
    for (size_t d = 0; d < m_found_now.size() && d < b.parts.size(); ++d)
        if (m_found_now[d]) {
            b.parts[d].committed_before = true;
            b.parts[d].bytes.clear();
            b.parts[d].starts.assign(1, 0);
            b.parts[d].source_rows.clear();
        }
}

void destination_set::truncate_all() {
    for (auto& l : m_links)
        l->truncate();
}

void destination_set::record_all(const batch& b, const std::string& key, const std::string& reject_sizes) {
    if (key.empty())
        return;
    for (auto& l : m_links) {
        const size_t d = l->index();
        if (b.parts[d].committed_before || (d != 0 && !l->in_transaction()))
            continue;
        l->record(key, b, m_part_rows[d], d == 0 ? reject_sizes : "NULL, NULL");
    }
}

// --two-phase: every open transaction prepared, or none left prepared.
void destination_set::prepare_all(const std::vector<destination_link*>& open) {
    std::vector<destination_link*> prepared;
    for (destination_link* l : open) {
        try {
            l->prepare(m_gid_prefix + "-" + std::to_string(m_batches) + "-" + std::to_string(l->index()));
            prepared.push_back(l);
        } catch (const error& e) {
            l->end_transaction(); // a failed PREPARE rolls back
            for (destination_link* done : prepared)
                done->rollback_prepared();
            rollback_all();
            throw error(exit_status::server_error, l->destination().name + ": PREPARE TRANSACTION failed: " + e.what(),
                        std::string("this ") + (m_ctx.one_transaction() ? "load" : "batch") + " was rolled back everywhere",
                        "--two-phase needs max_prepared_transactions above 0 on every server that takes rows");
        }
    }
}

void destination_set::end_streams() {
    for (auto& l : m_links)
        l->end_stream();
}

void destination_set::commit_all(std::vector<bool>& committed) {
    committed.assign(m_links.size(), false);
    end_streams();
    std::vector<destination_link*> open;
    for (auto& l : m_links)
        if (l->in_transaction()) {
            l->write_records();
            open.push_back(l.get());
        }
    throw_if_interrupted();
    ++m_batches;
    if (m_ctx.o.sharding.two_phase)
        prepare_all(open);
    for (size_t k = 0; k < open.size(); ++k) {
        try {
            open[k]->commit();
        } catch (const error& e) {
            // A connection lost during COMMIT leaves the part perhaps committed.
            const auto* server = dynamic_cast<const server_error*>(&e);
            const bool lost = server && server->connection_lost();
            if (lost)
                committed[open[k]->index()] = true;
            commit_failed(e, open, k, lost);
        }
        committed[open[k]->index()] = true;
        m_rows_committed[open[k]->index()] += m_open_rows[open[k]->index()];
        m_open_rows[open[k]->index()] = 0;
    }
}

void destination_set::commit_failed(const error& e, const std::vector<destination_link*>& open, size_t k, bool lost) {
    const bool two_phase = m_ctx.o.sharding.two_phase;
    std::string done, left;
    for (size_t j = 0; j < k; ++j)
        done += (done.empty() ? "" : ", ") + open[j]->destination().name;
    for (size_t j = lost ? k + 1 : k; j < open.size(); ++j)
        left += (left.empty() ? "" : ", ") + open[j]->destination().name +
                (two_phase ? " (prepared as " + open[j]->gid() + ")" : "");
    if (!two_phase)
        rollback_all();
    throw error(exit_status::server_error, open[k]->destination().name + ": COMMIT failed: " + escape_line_ends(e.what()),
                std::string("of this ") + (m_ctx.one_transaction() ? "load" : "batch") +
                    ", committed on: " + (done.empty() ? "none" : done) +
                    (lost ? "; unknown on: " + open[k]->destination().name + " (the connection was lost during COMMIT)" : "") +
                    "; not on: " + (left.empty() ? "none" : left),
                two_phase ? "run COMMIT PREPARED on the servers left prepared, or rerun with the same --resume-key"
                          : "rerun with the same --resume-key, or check those tables");
}

void destination_set::rollback_all() noexcept {
    for (auto& l : m_links)
        l->rollback();
    std::fill(m_open_rows.begin(), m_open_rows.end(), 0);
}

bool destination_set::learn_committed(const batch& b, const std::string& key) {
    bool all = true;
    for (auto& l : m_links) {
        const size_t d = l->index();
        const bool had_rows = d == 0 || (b.parts.size() > d && b.parts[d].rows() > 0);
        if (!m_found_now[d] && l->has_committed(key, b)) {
            m_found_now[d] = true;
            m_found_rows += m_part_rows[d];
            m_rows_committed[d] += m_part_rows[d];
        }
        if (had_rows && !m_found_now[d] && !(b.parts.size() > d && b.parts[d].committed_before))
            all = false;
    }
    return all;
}

uint64_t destination_set::batch_rows() const {
    uint64_t rows = m_found_rows;
    for (uint64_t r : m_part_rows)
        rows += r;
    return rows;
}

void destination_set::clear_batch() {
    begin_attempt();
    m_found_rows = 0;
    std::fill(m_found_now.begin(), m_found_now.end(), false);
}

} // namespace pgpipe
