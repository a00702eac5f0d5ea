// The planner: options and facts in, the plan out (route, transaction, jobs,
// batches, deferral, lz4, ids, binary), each choice with its reason.
#include "load_plan.hpp"

#include "copy_rules.hpp"
#include "core/progress.hpp"

#include <algorithm>

namespace pgpipe {
namespace {

constexpr uint64_t one_transaction_batch_bytes = 256 << 10; // one transaction's pieces: two stay small
// --fast encodes binary only for rows this wide: on narrow ones the client's
// encoding costs what the server's parsing saves (measured on orders, 29-byte
// rows: 0.97x; on posts, 33 kB rows: 1.3x).
constexpr uint64_t binary_min_row_bytes = 1024;

// Routed, through the parent, or refused (--route, --two-phase).
void plan_route(const copy_load_options& o, const table_facts& t, load_plan& p) {
    if (!t.freeze_refusal.empty())
        throw local_error(t.freeze_refusal, t.freeze_detail,
                          "leave out --freeze; to freeze a shard's rows, load its table on its own server");
    if (o.sharding.route == route_mode::off || o.table.empty() || o.script) {
        p.routed = {false, o.sharding.route == route_mode::off ? "--no-route" : "a script stream names its own tables"};
        return;
    }
    const routing_decision& d = t.routing;
    if (d.plan) {
        p.routed = {true, o.table + " is partitioned over postgres_fdw shards: each row goes to its shard"};
        return;
    }
    const std::string why = d.applies ? o.table + " is not routed to its shards: " + d.refusal
                                      : o.table + " is not partitioned over foreign tables: there is nothing to route";
    if (o.sharding.route == route_mode::on || o.sharding.two_phase)
        throw local_error(why, "", "load it through the parent table with --no-route" +
                                       (d.applies ? " (" + t.parent_path + ")" : std::string()));
    p.routed = {false, d.applies ? why + "; loading through " + o.table + " instead (" + t.parent_path + ")" : why};
}

// How many connections load: --jobs, else --fast's count, else one.
void plan_jobs(const copy_load_options& o, const table_facts& t, load_plan& p) {
    if (o.jobs) {
        p.jobs = {*o.jobs, "--jobs"};
    } else if (!o.levers.fast || o.single_transaction) {
        p.jobs = {1, o.single_transaction ? "one transaction is one connection" : "one connection"};
    } else if (!t.server_local) {
        p.jobs = {4, "4 jobs (the server is on another machine, whose cores pgcopy cannot see; set --jobs)"};
        p.lines.push_back(p.jobs.reason);
    } else {
        p.jobs = {t.cores, std::to_string(t.cores) + (t.cores == 1 ? " job" : " jobs") +
                               " (the server's cores: it runs on this machine)"};
        p.lines.push_back(p.jobs.reason);
    }
}

// Why the load's options or sizes make deferral not pay; empty when it pays.
std::string deferral_cost(const copy_load_options& o, const table_facts& t, const input_facts& in) {
    if (!o.rejects.file.empty())
        return "--reject-file needs them to reject rows one by one";
    if (o.upsert.on_conflict != conflict_action::none)
        return "--on-conflict needs the unique indexes";
    const uint64_t enough = in.total_bytes ? *in.total_bytes : uint64_t{8} << 20;
    if (t.table_bytes <= enough)
        return {};
    return in.total_bytes ? "the table holds more than the input brings: rebuilding would cost more"
                          : "the table holds more than 8 MB and the input's size is unknown";
}

// --fast defers the table's indexes and constraints when it has any, no
// option needs them during the load, and the table holds less than the
// input brings (rebuilding a large table's indexes for a small load would
// cost more than it saves).
choice<bool> fast_deferral(const copy_load_options& o, const table_facts& t, const input_facts& in) {
    // COPY FROM refuses a table whose row security applies to this role: the
    // load fails with the server's own reason, before any lever is pulled.
    if (t.row_security)
        return {false, "indexes and constraints kept: row-level security applies to this role"};
    // An interrupted load's indexes are off already: they are rebuilt at the end either way.
    if (t.left_off)
        return {true, "indexes and constraints deferred: an interrupted load left them off; rebuilt in parallel at the end"};
    if (!t.has_keys)
        return {false, ""};
    std::string why_not = deferral_cost(o, t, in);
    if (why_not.empty())
        why_not = t.deferral_blocker;
    if (!why_not.empty())
        return {false, "indexes and constraints kept: " + why_not};
    return {true, "indexes and constraints deferred: dropped first, rebuilt in parallel at the end"};
}

void plan_deferral(const copy_load_options& o, const table_facts& t, const input_facts& in, load_plan& p) {
    if (!o.levers.fast || o.levers.defer_indexes || o.levers.defer_constraints) {
        p.defer_indexes = {o.levers.defer_indexes, o.levers.defer_indexes ? "--defer-indexes" : "not asked for"};
        p.defer_constraints = {o.levers.defer_constraints, o.levers.defer_constraints ? "--defer-constraints" : "not asked for"};
        return;
    }
    const choice<bool> c = fast_deferral(o, t, in);
    p.defer_indexes = p.defer_constraints = c.reason.empty() ? choice<bool>{false, "the table has none"} : c;
    if (!c.reason.empty())
        p.lines.push_back(c.reason);
}

void plan_lz4(const copy_load_options& o, const table_facts& t, load_plan& p) {
    if (!o.levers.fast || o.levers.toast_compression) {
        p.toast_compression = {o.levers.toast_compression,
                               o.levers.toast_compression ? "--toast-compression" : "the server's default"};
    } else if (!t.toastable) { // values too small to be compressed are not: lz4 would change nothing
        p.toast_compression = {std::nullopt, "no column TOAST compresses"};
    } else if (!t.server_lz4) {
        p.toast_compression = {std::nullopt, "pglz TOAST kept: the server was built without lz4"};
        p.lines.push_back(p.toast_compression.reason);
    } else {
        p.toast_compression = {"lz4", "lz4 TOAST compression of wide values"};
        p.lines.push_back(p.toast_compression.reason);
    }
}

// --jobs with no batch size: about four batches per job, so that every
// connection is busy to the end (from the files' sizes; 4 MiB for a
// stream), between 1 and 16 MiB. Measured on orders, 1M rows with a
// primary key, stock durability: --jobs 2 with 16 MiB batches (two of
// them) took 1.09 s, as long as one COPY; with 4 MiB batches 0.94 s.
uint64_t parallel_batch_bytes(std::optional<uint64_t> total, unsigned jobs) {
    if (!total)
        return 4 << 20;
    return std::clamp<uint64_t>(*total / (4 * uint64_t{jobs}), 1 << 20, default_batch_bytes);
}

// Where a batch is cut: --batch-bytes, else by the plan's shape. A batch is
// also cut at 16 MiB unless --batch-bytes says otherwise: --batch-rows 100k
// of 33 kB rows must not hold 3 GB.
void plan_batches(const copy_load_options& o, const input_facts& in, load_plan& p) {
    p.batch_rows = o.batch_size.rows;
    if (o.batch_size.bytes) {
        p.batch_bytes = {*o.batch_size.bytes, "--batch-bytes"};
    } else if (p.one_transaction.value) {
        p.batch_bytes = {one_transaction_batch_bytes, "one transaction streams its rows in pieces of 256 KiB"};
    } else if (o.batch_size.rows) {
        p.batch_bytes = {default_batch_bytes, "--batch-rows, and at most 16 MiB"};
    } else if (o.levers.fast) {
        // Batches that stay in the CPU's cache while they are encoded and
        // sent: measured on 2 cores, 1 MiB beat 4 MiB by 13% on posts (33 kB
        // rows) and by 3% on users, and tied on orders.
        p.batch_bytes = {1 << 20, "batches of 1 MiB"};
        p.lines.push_back(p.batch_bytes.reason);
    } else if (p.jobs.value > 1) {
        p.batch_bytes = {parallel_batch_bytes(in.total_bytes, p.jobs.value), "about four batches per job"};
    } else {
        p.batch_bytes = {default_batch_bytes, "batches of 16 MiB"};
    }
}

// --reserve-ids insists; --fast takes the ids if the table and input allow it.
void plan_ids(const copy_load_options& o, load_plan& p) {
    if (o.levers.reserve_ids)
        p.ids = {lever::required, "--reserve-ids"};
    else if (o.levers.fast && o.upsert.on_conflict == conflict_action::none && !o.single_transaction)
        p.ids = {lever::if_possible, "--fast: when a sequence fills a column the input lacks"};
    else
        p.ids = {lever::off, o.levers.fast ? "each batch's ids need a transaction of their own" : "not asked for"};
}

// --send-binary encodes where the types allow; --fast only plain text of wide rows.
void plan_binary(const copy_load_options& o, const input_facts& in, load_plan& p) {
    if (o.levers.send_binary) {
        p.binary = {lever::required, "--send-binary"};
    } else if (!o.levers.fast) {
        p.binary = {lever::off, "not asked for"};
    } else if (o.format.format == copy_format::binary || in.binary_signature) {
        p.binary = {lever::off, "binary as read"};
    } else if (!plain_text_format(o.format)) {
        p.binary = {lever::off, "sent as read: not plain COPY text"};
    } else if (in.average_row_bytes && *in.average_row_bytes < binary_min_row_bytes) {
        p.binary = {lever::off, "text sent as text: rows of " + std::to_string(*in.average_row_bytes) +
                                    " bytes are too narrow for binary encoding to pay"};
    } else {
        p.binary = {lever::if_possible, "--fast: rows wide enough for binary encoding to pay"};
        return;
    }
    if (o.levers.fast)
        p.lines.push_back(p.binary.reason);
}

// ids and binary encoding: a script stream names its own tables and columns.
void plan_encoding(const copy_load_options& o, const input_facts& in, load_plan& p) {
    if (in.script_line && o.levers.fast) {
        p.ids = {lever::off, "a script stream names its own columns"};
        p.binary = {lever::off, "a script stream goes as it reads"};
        p.lines.push_back("a script stream: each block goes as it reads, into the table its COPY line names");
        return;
    }
    plan_ids(o, p);
    plan_binary(o, in, p);
}

// A routed load's levers: ids reserved on the coordinator before routing
// (route_plan.cpp puts their column first), rows sent to the shards as read.
void plan_routed_levers(const copy_load_options& o, load_plan& p) {
    if (p.one_transaction.value && !o.batch_size.bytes) // each piece is a COPY per destination
        p.batch_bytes = {1 << 20, "one transaction's pieces of 1 MiB, into a COPY per destination kept open"};
    plan_ids(o, p);
    p.binary = {lever::off, "rows sent to the shards as read: their tables' types are not the coordinator's to encode for"};
    p.defer_indexes = p.defer_constraints = {false, "a routed load's indexes and constraints live on the shards"};
    if (o.levers.fast) {
        p.lines.push_back(p.binary.reason);
        p.lines.push_back("indexes and constraints kept: they live on the shards");
    }
}

} // namespace

std::string plan_line::text() const {
    const bool said = why.empty() || (what.size() >= why.size() && what.compare(what.size() - why.size(), why.size(), why) == 0);
    return said ? what : what + " (" + why + ")";
}

std::vector<plan_line> plan_choices(const load_plan& p) {
    auto lever_word = [](lever l) { return l == lever::off ? "off" : l == lever::required ? "required" : "if possible"; };
    auto size = [](uint64_t n) {
        return n % (1 << 20) == 0 ? std::to_string(n >> 20) + " MiB"
               : n % 1024 == 0    ? std::to_string(n >> 10) + " KiB"
                                  : std::to_string(n) + " bytes";
    };
    std::vector<plan_line> out;
    if (!p.routed.reason.empty())
        out.push_back({p.routed.value ? "routed" : "not routed", p.routed.reason});
    out.push_back({p.one_transaction.value ? "one transaction" : "batches", p.one_transaction.reason});
    out.push_back({"jobs: " + std::to_string(p.jobs.value), p.jobs.reason});
    out.push_back({"batches cut at " + size(p.batch_bytes.value) +
                       (p.batch_rows ? " or " + format_count(*p.batch_rows) + " rows" : ""),
                   p.batch_bytes.reason});
    out.push_back({std::string("ids by block: ") + lever_word(p.ids.value), p.ids.reason});
    out.push_back({std::string("binary encoding: ") + lever_word(p.binary.value), p.binary.reason});
    out.push_back({std::string("deferred indexes: ") + (p.defer_indexes.value ? "yes" : "no"), p.defer_indexes.reason});
    out.push_back({std::string("deferred constraints: ") + (p.defer_constraints.value ? "yes" : "no"),
                   p.defer_constraints.reason});
    out.push_back({"TOAST compression: " + p.toast_compression.value.value_or("the server's default"),
                   p.toast_compression.reason});
    return out;
}

load_plan plan_load(const copy_load_options& o, const table_facts& t, const input_facts& in) {
    load_plan p;
    p.detect_binary = !o.named_format;
    plan_route(o, t, p);
    p.one_transaction = o.batched() ? choice<bool>{false, o.single_transaction
                                                              ? "--single-transaction: batches, a savepoint each"
                                                              : "batches, each committed on its own"}
                                    : choice<bool>{true, "no batch option: the whole load in one transaction"};
    plan_jobs(o, t, p);
    plan_lz4(o, t, p);
    plan_batches(o, in, p);
    if (p.routed.value) {
        plan_routed_levers(o, p);
    } else {
        plan_deferral(o, t, in, p);
        plan_encoding(o, in, p);
    }
    if (o.levers.fast)
        p.trades = o.resume_key.empty()
                       ? "trades: batches commit one by one; a failed load leaves those before it committed "
                         "(use --resume-key KEY to rerun it exactly once)"
                       : "trades: batches commit one by one, under resume key " + o.resume_key +
                             " (a rerun of the same command loads exactly the rest)";
    return p;
}

} // namespace pgpipe
