// pgreport's diff model: the deltas between two snapshots, section by
// section, before any rendering.
#include "diff.hpp"

#include <algorithm>

namespace pgpipe {
namespace {

using counters = std::map<std::string, double>;

double get(const counters& m, const std::string& key) {
    auto it = m.find(key);
    return it == m.end() ? 0 : it->second;
}

// A counter of a flat section (database, wal, ...); a section the later
// snapshot lacks counts as unchanged, one the earlier lacks as from zero.
double delta(const snapshot& a, const snapshot& b, const char* section, const std::string& key) {
    auto ia = a.flat.find(section), ib = b.flat.find(section);
    if (ib == b.flat.end())
        return 0;
    return get(ib->second, key) - (ia == a.flat.end() ? 0 : get(ia->second, key));
}

// The counters of key in rows, or none (a table or statement that is new).
const counters& row_or_empty(const std::map<std::string, counters>& rows, const std::string& key) {
    static const counters empty;
    auto it = rows.find(key);
    return it == rows.end() ? empty : it->second;
}

void diff_tables(const snapshot& a, const snapshot& b, snapshot_diff& d) {
    for (const auto& [name, after] : b.tables) {
        const counters& before = row_or_empty(a.tables, name);
        auto change = [&](const char* key) { return get(after, key) - get(before, key); };
        table_delta t{name,
                      change("n_tup_ins"),
                      change("n_tup_ins") / d.seconds,
                      change("n_tup_upd"),
                      change("n_tup_del"),
                      change("table_bytes"),
                      change("index_bytes"),
                      change("toast_bytes"),
                      get(after, "table_bytes")};
        bool untouched = t.inserted == 0 && t.updated == 0 && t.deleted == 0 && t.table_bytes == 0 &&
                         t.index_bytes == 0 && t.toast_bytes == 0;
        if (untouched && a.tables.count(name))
            continue; // there before, and nothing happened to it
        d.inserted_total += t.inserted;
        d.tables.push_back(std::move(t));
    }
}

std::optional<wal_delta> diff_wal(const snapshot& a, const snapshot& b, double seconds, double inserted) {
    if (!b.flat.count("wal"))
        return std::nullopt; // before 14, or the section was left out
    double bytes = delta(a, b, "wal", "wal_bytes");
    return wal_delta{bytes, delta(a, b, "wal", "wal_records"), delta(a, b, "wal", "wal_fpi"), bytes / seconds,
                     inserted > 0 ? bytes / inserted : 0};
}

// Checkpoint counters are in pg_stat_bgwriter up to 16, in
// pg_stat_checkpointer from 17. Buffers written by backends are
// buffers_backend of pg_stat_bgwriter up to 15, which counted writes and
// extends together; from 16 pg_stat_io's writes and extends, added up.
checkpoint_delta diff_checkpoints(const snapshot& a, const snapshot& b) {
    const server_rules rules(b.server_version_num);
    checkpoint_delta c;
    if (rules.has_pg_stat_checkpointer()) {
        c.timed = delta(a, b, "checkpointer", "num_timed");
        c.requested = delta(a, b, "checkpointer", "num_requested");
    } else {
        c.timed = delta(a, b, "bgwriter", "checkpoints_timed");
        c.requested = delta(a, b, "bgwriter", "checkpoints_req");
    }
    if (rules.has_pg_stat_io()) {
        for (const auto& [key, writes] : b.io_backend_writes)
            c.backend_buffer_writes += writes - get(a.io_backend_writes, key);
    } else {
        c.backend_buffer_writes = delta(a, b, "bgwriter", "buffers_backend");
    }
    return c;
}

database_delta diff_database(const snapshot& a, const snapshot& b) {
    auto change = [&](const char* key) { return delta(a, b, "database", key); };
    double read = change("blks_read"), hit = change("blks_hit");
    return database_delta{b.database,         change("xact_commit"), change("xact_rollback"),
                          change("tup_inserted"), read,                 hit,
                          read + hit > 0 ? hit / (read + hit) : 1,    change("temp_bytes")};
}

// The ten statements that took most time among those called in the interval.
std::vector<statement_delta> diff_statements(const snapshot& a, const snapshot& b) {
    std::vector<statement_delta> out;
    for (const auto& [id, after] : b.statements) {
        const counters& before = row_or_empty(a.statements, id);
        auto change = [&](const char* key) { return get(after, key) - get(before, key); };
        statement_delta s{id, change("total_exec_time"), change("calls"), change("rows"), change("wal_bytes")};
        if (s.calls > 0)
            out.push_back(std::move(s));
    }
    std::sort(out.begin(), out.end(),
              [](const statement_delta& x, const statement_delta& y) { return x.total_ms > y.total_ms; });
    if (out.size() > 10)
        out.resize(10);
    for (auto& s : out) // query holds the queryid until here
        if (auto text = b.statement_text.find(s.query); text != b.statement_text.end())
            s.query = text->second;
    return out;
}

} // namespace

snapshot_diff diff_snapshots(const snapshot& a, const snapshot& b) {
    snapshot_diff d;
    d.seconds = std::max(b.epoch - a.epoch, 1e-6);
    d.database = b.database;
    d.server_version = b.server_version;
    diff_tables(a, b, d);
    d.wal = diff_wal(a, b, d.seconds, d.inserted_total);
    d.checkpoints = diff_checkpoints(a, b);
    d.db = diff_database(a, b);
    d.statements = diff_statements(a, b);
    d.notes = b.notes;
    return d;
}

std::vector<metric_row> metric_rows(const snapshot_diff& d) {
    std::vector<metric_row> rows;
    for (const auto& t : d.tables)
        rows.push_back({"table", t.name,
                        {{"inserted", t.inserted}, {"rows_per_second", t.rows_per_second}, {"updated", t.updated},
                         {"deleted", t.deleted}, {"table_bytes", t.table_bytes}, {"index_bytes", t.index_bytes},
                         {"toast_bytes", t.toast_bytes}, {"table_bytes_after", t.table_bytes_after}}});
    if (const auto& w = d.wal)
        rows.push_back({"wal", "wal",
                        {{"bytes", w->bytes}, {"records", w->records}, {"full_page_images", w->full_page_images},
                         {"bytes_per_second", w->bytes_per_second},
                         {"bytes_per_inserted_row", w->bytes_per_inserted_row}}});
    const auto& c = d.checkpoints;
    rows.push_back({"checkpoints", "checkpoints",
                    {{"timed", c.timed}, {"requested", c.requested},
                     {"backend_buffer_writes", c.backend_buffer_writes}}});
    const auto& db = d.db;
    rows.push_back({"database", db.name,
                    {{"commits", db.commits}, {"rollbacks", db.rollbacks}, {"rows_inserted", db.rows_inserted},
                     {"blocks_read", db.blocks_read}, {"blocks_hit", db.blocks_hit}, {"hit_ratio", db.hit_ratio},
                     {"temp_bytes", db.temp_bytes}}});
    for (const auto& s : d.statements)
        rows.push_back({"statement", s.query,
                        {{"total_ms", s.total_ms}, {"calls", s.calls}, {"rows", s.rows}, {"wal_bytes", s.wal_bytes}}});
    return rows;
}

} // namespace pgpipe
