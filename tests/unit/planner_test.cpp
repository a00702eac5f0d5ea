// pgcopy's option rules, its planner and its entry, without a server: the
// facts are given, the steps counted.
#include "pgcopy/copy_load.hpp"
#include "pgcopy/copy_rules.hpp"
#include "pgcopy/load_plan.hpp"
#include "io/row_splitter.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

#include <fcntl.h>
#include <unistd.h>

#include <string>

using namespace pgpipe;

namespace {

// A plain load of table t from /dev/null: every rule passes.
copy_load_options plain() {
    copy_load_options o;
    o.table = "t";
    o.inputs = {"/dev/null"};
    return o;
}

// The message validate_copy_load refuses o with, or empty when it allows it.
std::string refusal(const copy_load_options& o) {
    try {
        validate_copy_load(o);
    } catch (const error& e) {
        return e.what();
    }
    return {};
}

// Whether o is refused as a bad command-line value (a usage failure).
bool usage_refused(const copy_load_options& o) {
    try {
        validate_copy_load(o);
    } catch (const error& e) {
        return e.usage();
    }
    return false;
}

// A table on this machine with keys to defer, small beside the input.
table_facts local_table(unsigned cores = 2) {
    table_facts t;
    t.server_local = true;
    t.cores = cores;
    t.has_keys = true;
    t.table_bytes = 8192;
    t.toastable = true;
    t.server_lz4 = true;
    return t;
}

// A 1 MiB text input of rows this wide.
input_facts text_rows(uint64_t row_bytes) {
    input_facts in;
    in.peeked = true;
    in.average_row_bytes = row_bytes;
    in.total_bytes = 1 << 20;
    return in;
}

copy_load_options fast() {
    copy_load_options o = plain();
    o.levers.fast = true;
    return o;
}

bool has_line(const load_plan& p, const std::string& line) {
    for (const auto& l : p.lines)
        if (l == line)
            return true;
    return false;
}

} // namespace

// ---------------------------------------------------------------- option rules

TEST_CASE("a plain load passes every rule", "[planner]") {
    CHECK(refusal(plain()).empty());
    copy_load_options o = plain();
    o.batch_size.rows = 1000;
    o.jobs = 4;
    o.rejects.file = "r.tsv";
    o.rejects.max = 10;
    CHECK(refusal(o).empty());
}

TEST_CASE("bad values are usage failures", "[planner]") {
    copy_load_options o = plain();
    o.jobs = 0;
    CHECK(usage_refused(o));
    o.jobs = 65;
    CHECK(refusal(o) == "--jobs must be between 1 and 64");
    o = plain();
    o.levers.toast_compression = "zstd";
    CHECK(usage_refused(o));
    o = plain();
    o.retries = -1;
    CHECK(usage_refused(o));
    copy_load_options given;
    CHECK_THROWS(parse_max_rejects("ten", given));
    parse_max_rejects("5%", given);
    CHECK(*given.rejects.max == 5);
    CHECK(given.rejects.max_percent);
}

TEST_CASE("a streamed load's combinations", "[planner]") {
    copy_load_options o = plain();
    o.freeze = true;
    CHECK(refusal(o) == "--freeze needs --truncate");
    o.truncate = true;
    CHECK(refusal(o).empty());
    o = plain();
    o.table.clear();
    o.levers.defer_indexes = true;
    CHECK(refusal(o) == "--truncate and --defer-* need a TABLE");
}

TEST_CASE("a batched load's combinations", "[planner]") {
    auto with = [](auto change) {
        copy_load_options o = plain();
        o.batch_size.rows = 100;
        change(o);
        return refusal(o);
    };
    CHECK(with([](copy_load_options& o) { o.freeze = o.truncate = true; }) == "--freeze cannot be used with batches");
    CHECK(with([](copy_load_options& o) {
              o.single_transaction = true;
              o.resume_key = "k";
          }) == "--single-transaction cannot be used with --resume-key or --retries");
    CHECK(with([](copy_load_options& o) {
              o.single_transaction = true;
              o.jobs = 2;
          }) == "--single-transaction cannot be used with --jobs");
    CHECK(with([](copy_load_options& o) {
              o.truncate = true;
              o.retries = 2;
          }) == "--truncate cannot be used with --resume-key or --retries");
    CHECK(with([](copy_load_options& o) {
              o.levers.defer_indexes = true;
              o.upsert.on_conflict = conflict_action::ignore;
          }) == "--defer-indexes cannot be used with --on-conflict");
    CHECK(with([](copy_load_options& o) { o.rejects.max = 3; }) == "--max-rejects needs --reject-file");
    CHECK(with([](copy_load_options& o) { o.upsert.conflict_columns = "a"; }) == "--conflict-columns needs --on-conflict");
    CHECK(with([](copy_load_options& o) { o.batch_size.rows = 0; }) == "a batch must hold at least one row or byte");
}

TEST_CASE("--single-transaction with --jobs 1 given is allowed", "[planner]") {
    copy_load_options o = plain();
    o.single_transaction = true;
    o.jobs = 1;
    CHECK(refusal(o).empty());
}

TEST_CASE("the levers' combinations", "[planner]") {
    copy_load_options o = plain();
    o.levers.reserve_ids = true;
    o.upsert.on_conflict = conflict_action::update;
    CHECK(refusal(o) == "--reserve-ids cannot be used with --single-transaction or --on-conflict");
    o = plain();
    o.levers.send_binary = true;
    o.format.format = copy_format::csv;
    CHECK(refusal(o) == "--send-binary needs text input with the default delimiter, NULL string and encoding");
    o = plain();
    o.levers.fast = true;
    o.table.clear();
    CHECK(refusal(o) == "--fast, --reserve-ids and --send-binary need a TABLE");
    o = plain();
    o.sharding.two_phase = true;
    o.sharding.route = route_mode::off;
    CHECK(refusal(o) == "--two-phase needs a routed load");
}

TEST_CASE("--restore does nothing else", "[planner]") {
    copy_load_options o;
    o.table = "t";
    o.restore = true;
    CHECK(refusal(o).empty());
    o.inputs = {"/dev/null"};
    CHECK(refusal(o) == "--restore takes no FILE");
    o.inputs.clear();
    o.levers.fast = true;
    CHECK(refusal(o) == "--restore cannot be used with load options");
    o.levers.fast = false;
    o.table.clear();
    CHECK(refusal(o) == "--restore needs a TABLE");
}

TEST_CASE("an input that cannot be read is refused before connecting", "[planner]") {
    copy_load_options o = plain();
    o.inputs = {"/nonexistent/rows.tsv"};
    CHECK_FALSE(refusal(o).empty());
}

TEST_CASE("which options ask for batches", "[planner]") {
    copy_load_options o = plain();
    CHECK_FALSE(o.batched());
    o.jobs = 1;
    CHECK_FALSE(o.batched()); // --jobs 1 is one connection, as without it
    o.jobs = 2;
    CHECK(o.batched());
    CHECK(fast().batched());
    o = plain();
    o.levers.reserve_ids = true;
    CHECK(o.batched());
}

// ---------------------------------------------------------------- the planner

TEST_CASE("no batch option: one transaction, one job, pieces of 256 KiB", "[planner]") {
    const load_plan p = plan_load(plain(), table_facts{}, input_facts{});
    CHECK(p.one_transaction.value);
    CHECK(p.one_transaction.reason == "no batch option: the whole load in one transaction");
    CHECK(p.jobs.value == 1);
    CHECK(p.batch_bytes.value == 256 << 10);
    CHECK(p.ids.value == lever::off);
    CHECK(p.binary.value == lever::off);
    CHECK_FALSE(p.routed.value);
    CHECK(p.lines.empty()); // nothing chosen beyond what was asked: -v prints no plan lines
    CHECK(p.trades.empty());
}

TEST_CASE("batches: --batch-rows is cut at 16 MiB too, --batch-bytes as given", "[planner]") {
    copy_load_options o = plain();
    o.batch_size.rows = 1000;
    load_plan p = plan_load(o, table_facts{}, input_facts{});
    CHECK_FALSE(p.one_transaction.value);
    CHECK(*p.batch_rows == 1000);
    CHECK(p.batch_bytes.value == 16 << 20);
    o.batch_size.bytes = 1234;
    CHECK(plan_load(o, table_facts{}, input_facts{}).batch_bytes == choice<uint64_t>{1234, "--batch-bytes"});
}

TEST_CASE("--jobs without a batch size: about four batches per job, 1 to 16 MiB", "[planner]") {
    copy_load_options o = plain();
    o.jobs = 4;
    input_facts in;
    in.total_bytes = uint64_t{64} << 20;
    CHECK(plan_load(o, table_facts{}, in).batch_bytes.value == 4 << 20);
    in.total_bytes = 1000;
    CHECK(plan_load(o, table_facts{}, in).batch_bytes.value == 1 << 20);
    in.total_bytes.reset(); // a stream: its size is unknown
    CHECK(plan_load(o, table_facts{}, in).batch_bytes.value == 4 << 20);
    CHECK(plan_load(o, table_facts{}, in).jobs == choice<unsigned>{4, "--jobs"});
}

TEST_CASE("--single-transaction: batches, a savepoint each, one connection", "[planner]") {
    copy_load_options o = fast();
    o.single_transaction = true;
    const load_plan p = plan_load(o, local_table(8), text_rows(100));
    CHECK_FALSE(p.one_transaction.value);
    CHECK(p.one_transaction.reason == "--single-transaction: batches, a savepoint each");
    CHECK(p.jobs.value == 1);
    CHECK(p.ids.value == lever::off); // a block of ids needs a transaction of its own
}

TEST_CASE("--fast counts the cores of a local server, 4 jobs for a remote one", "[planner]") {
    load_plan p = plan_load(fast(), local_table(3), text_rows(100));
    CHECK(p.jobs.value == 3);
    CHECK(has_line(p, "3 jobs (the server's cores: it runs on this machine)"));
    table_facts remote = local_table(3);
    remote.server_local = false;
    p = plan_load(fast(), remote, text_rows(100));
    CHECK(p.jobs.value == 4);
    CHECK(p.lines.front() == "4 jobs (the server is on another machine, whose cores pgcopy cannot see; set --jobs)");
}

TEST_CASE("--fast takes --jobs as given", "[planner]") {
    copy_load_options o = fast();
    o.jobs = 2;
    const load_plan p = plan_load(o, local_table(8), text_rows(100));
    CHECK(p.jobs == choice<unsigned>{2, "--jobs"});
    CHECK_FALSE(has_line(p, "8 jobs (the server's cores: it runs on this machine)"));
}

TEST_CASE("--fast defers the keys of a table smaller than its input", "[planner]") {
    const load_plan p = plan_load(fast(), local_table(), text_rows(100));
    CHECK(p.defer_indexes.value);
    CHECK(p.defer_constraints.value);
    CHECK(has_line(p, "indexes and constraints deferred: dropped first, rebuilt in parallel at the end"));
}

TEST_CASE("--fast keeps the keys when deferring would not pay or could not work", "[planner]") {
    table_facts big = local_table();
    big.table_bytes = uint64_t{2} << 20;
    load_plan p = plan_load(fast(), big, text_rows(100));
    CHECK_FALSE(p.defer_indexes.value);
    CHECK(p.defer_indexes.reason ==
          "indexes and constraints kept: the table holds more than the input brings: rebuilding would cost more");
    input_facts stream = text_rows(100);
    stream.total_bytes.reset();
    big.table_bytes = uint64_t{9} << 20;
    CHECK(plan_load(fast(), big, stream).defer_indexes.reason ==
          "indexes and constraints kept: the table holds more than 8 MB and the input's size is unknown");
    copy_load_options o = fast();
    o.rejects.file = "r.tsv";
    CHECK(plan_load(o, local_table(), text_rows(100)).defer_indexes.reason ==
          "indexes and constraints kept: --reject-file needs them to reject rows one by one");
    table_facts blocked = local_table();
    blocked.deferral_blocker = "trigger add on t may rely on them";
    CHECK(plan_load(fast(), blocked, text_rows(100)).defer_indexes.reason ==
          "indexes and constraints kept: trigger add on t may rely on them");
    table_facts secured = local_table();
    secured.row_security = true;
    CHECK_FALSE(plan_load(fast(), secured, text_rows(100)).defer_constraints.value);
}

TEST_CASE("--fast finishes what an interrupted load left off, and says nothing of a table without keys", "[planner]") {
    table_facts t = local_table();
    t.left_off = true;
    t.table_bytes = uint64_t{1} << 30; // larger than the input: deferred all the same
    CHECK(plan_load(fast(), t, text_rows(100)).defer_indexes.value);
    table_facts bare = local_table();
    bare.has_keys = false;
    const load_plan p = plan_load(fast(), bare, text_rows(100));
    CHECK_FALSE(p.defer_indexes.value);
    for (const auto& line : p.lines)
        CHECK(line.find("indexes and constraints") == std::string::npos);
}

TEST_CASE("--defer-* as given: the planner does not choose them", "[planner]") {
    copy_load_options o = fast();
    o.levers.defer_constraints = true;
    table_facts big = local_table();
    big.table_bytes = uint64_t{1} << 30;
    const load_plan p = plan_load(o, big, text_rows(100));
    CHECK_FALSE(p.defer_indexes.value);
    CHECK(p.defer_constraints == choice<bool>{true, "--defer-constraints"});
}

TEST_CASE("--fast sets lz4 when the server has it and a column is compressed", "[planner]") {
    CHECK(*plan_load(fast(), local_table(), text_rows(100)).toast_compression.value == "lz4");
    table_facts no_lz4 = local_table();
    no_lz4.server_lz4 = false;
    const load_plan p = plan_load(fast(), no_lz4, text_rows(100));
    CHECK_FALSE(p.toast_compression.value);
    CHECK(has_line(p, "pglz TOAST kept: the server was built without lz4"));
    table_facts narrow = local_table();
    narrow.toastable = false;
    CHECK_FALSE(plan_load(fast(), narrow, text_rows(100)).toast_compression.value);
    copy_load_options o = fast();
    o.levers.toast_compression = "pglz";
    CHECK(*plan_load(o, local_table(), text_rows(100)).toast_compression.value == "pglz");
}

TEST_CASE("--fast: batches of 1 MiB unless a size is given", "[planner]") {
    const load_plan p = plan_load(fast(), local_table(), text_rows(100));
    CHECK(p.batch_bytes.value == 1 << 20);
    CHECK(has_line(p, "batches of 1 MiB"));
    copy_load_options o = fast();
    o.batch_size.rows = 500;
    CHECK_FALSE(has_line(plan_load(o, local_table(), text_rows(100)), "batches of 1 MiB"));
}

TEST_CASE("--fast encodes binary for wide rows only", "[planner]") {
    load_plan p = plan_load(fast(), local_table(), text_rows(29));
    CHECK(p.binary.value == lever::off);
    CHECK(has_line(p, "text sent as text: rows of 29 bytes are too narrow for binary encoding to pay"));
    p = plan_load(fast(), local_table(), text_rows(33000));
    CHECK(p.binary.value == lever::if_possible);
    CHECK(p.lines.size() == 4); // jobs, deferral, lz4, batches: the loader says what the types allow
}

TEST_CASE("--fast sends binary and CSV input as read", "[planner]") {
    input_facts binary = text_rows(33000);
    binary.binary_signature = true;
    CHECK(plan_load(fast(), local_table(), binary).binary == choice<lever>{lever::off, "binary as read"});
    copy_load_options csv = fast();
    csv.format.format = copy_format::csv;
    CHECK(plan_load(csv, local_table(), text_rows(33000)).binary ==
          choice<lever>{lever::off, "sent as read: not plain COPY text"});
}

TEST_CASE("--reserve-ids and --send-binary insist; --fast takes them if it can", "[planner]") {
    copy_load_options o = plain();
    o.levers.reserve_ids = o.levers.send_binary = true;
    load_plan p = plan_load(o, table_facts{}, text_rows(29));
    CHECK(p.ids == choice<lever>{lever::required, "--reserve-ids"});
    CHECK(p.binary == choice<lever>{lever::required, "--send-binary"}); // narrow rows too: asked for
    CHECK(p.lines.empty());
    p = plan_load(fast(), local_table(), text_rows(33000));
    CHECK(p.ids.value == lever::if_possible);
    copy_load_options both = fast();
    both.levers.reserve_ids = true; // given with --fast it still insists
    CHECK(plan_load(both, local_table(), text_rows(33000)).ids.value == lever::required);
    copy_load_options upserting = fast();
    upserting.upsert.on_conflict = conflict_action::ignore;
    CHECK(plan_load(upserting, local_table(), text_rows(100)).ids.value == lever::off);
}

TEST_CASE("--fast on a script stream: each block as it reads", "[planner]") {
    input_facts script = text_rows(100);
    script.script_line = true;
    const load_plan p = plan_load(fast(), local_table(), script);
    CHECK(p.ids.value == lever::off);
    CHECK(p.binary.value == lever::off);
    CHECK(has_line(p, "a script stream: each block goes as it reads, into the table its COPY line names"));
}

TEST_CASE("--fast's trades, with and without a resume key", "[planner]") {
    CHECK(plan_load(fast(), local_table(), text_rows(100)).trades.rfind("trades: batches commit one by one; ", 0) == 0);
    copy_load_options o = fast();
    o.resume_key = "k1";
    CHECK(plan_load(o, local_table(), text_rows(100)).trades ==
          "trades: batches commit one by one, under resume key k1 (a rerun of the same command loads exactly the rest)");
}

TEST_CASE("-F given: binary input is not detected", "[planner]") {
    CHECK(plan_load(plain(), table_facts{}, input_facts{}).detect_binary);
    copy_load_options o = plain();
    o.named_format = copy_format::text;
    CHECK_FALSE(plan_load(o, table_facts{}, input_facts{}).detect_binary);
}

// ---------------------------------------------------------------- routing

namespace {

table_facts sharded(bool routable) {
    table_facts t;
    t.routing.applies = true;
    if (routable)
        t.routing.plan.emplace();
    else
        t.routing.refusal = "--on-conflict stages rows on one server";
    t.parent_path = "PostgreSQL 15 sends one INSERT per row";
    return t;
}

} // namespace

TEST_CASE("a table over postgres_fdw shards is routed when pgcopy can", "[planner]") {
    const load_plan p = plan_load(plain(), sharded(true), input_facts{});
    CHECK(p.routed.value);
    CHECK(p.routed.reason == "t is partitioned over postgres_fdw shards: each row goes to its shard");
}

TEST_CASE("when pgcopy cannot route, through the parent with a reason, or refused with --route", "[planner]") {
    const load_plan p = plan_load(plain(), sharded(false), input_facts{});
    CHECK_FALSE(p.routed.value);
    CHECK(p.routed.reason == "t is not routed to its shards: --on-conflict stages rows on one server; loading through t "
                             "instead (PostgreSQL 15 sends one INSERT per row)");
    copy_load_options on = plain();
    on.sharding.route = route_mode::on;
    CHECK_THROWS_WITH(plan_load(on, sharded(false), input_facts{}),
                      "t is not routed to its shards: --on-conflict stages rows on one server");
    CHECK_THROWS_WITH(plan_load(on, table_facts{}, input_facts{}),
                      "t is not partitioned over foreign tables: there is nothing to route");
    copy_load_options off = plain();
    off.sharding.route = route_mode::off;
    CHECK(plan_load(off, sharded(true), input_facts{}).routed == choice<bool>{false, "--no-route"});
}

TEST_CASE("a routed load is planned as any load: jobs, batches, ids", "[planner]") {
    copy_load_options o = plain();
    o.jobs = 2;
    o.levers.reserve_ids = true;
    const load_plan p = plan_load(o, sharded(true), input_facts{});
    CHECK(p.routed.value);
    CHECK(p.jobs == choice<unsigned>{2, "--jobs"});
    CHECK_FALSE(p.one_transaction.value);
    CHECK(p.ids.value == lever::required);
    CHECK(p.binary.value == lever::off);
    CHECK_FALSE(p.defer_indexes.value);
    CHECK(plan_load(plain(), sharded(true), input_facts{}).one_transaction.value); // no batch option
}

TEST_CASE("--fast on a routed load: jobs, batches and ids as any table's, rows and the shards' keys as they are",
          "[planner]") {
    copy_load_options o = plain();
    o.levers.fast = true;
    table_facts t = sharded(true);
    t.server_local = true;
    t.cores = 2;
    t.has_keys = true; // a local table of this size would have them deferred
    input_facts in;
    in.total_bytes = uint64_t{1} << 30;
    in.average_row_bytes = 4000;
    const load_plan p = plan_load(o, t, in);
    CHECK(p.routed.value);
    CHECK(p.jobs.value == 2);
    CHECK(p.batch_bytes.value == 1 << 20);
    CHECK(p.ids.value == lever::if_possible);
    CHECK(p.binary.value == lever::off);
    CHECK_FALSE(p.defer_indexes.value);
    CHECK_FALSE(p.defer_constraints.value);
    CHECK(std::find(p.lines.begin(), p.lines.end(), "indexes and constraints kept: they live on the shards") !=
          p.lines.end());
}

TEST_CASE("-v says every choice of the plan with its reason", "[planner]") {
    copy_load_options o = plain();
    o.jobs = 2;
    o.batch_size.rows = 5000;
    std::vector<std::string> lines;
    for (const plan_line& line : plan_choices(plan_load(o, table_facts{}, input_facts{})))
        lines.push_back(line.text());
    auto has = [&](const std::string& line) { return std::find(lines.begin(), lines.end(), line) != lines.end(); };
    CHECK(has("batches (batches, each committed on its own)"));
    CHECK(has("jobs: 2 (--jobs)"));
    CHECK(has("batches cut at 16 MiB or 5,000 rows (--batch-rows, and at most 16 MiB)"));
    CHECK(has("ids by block: off (not asked for)"));
    CHECK(has("deferred indexes: no (not asked for)"));
    CHECK(has("TOAST compression: the server's default"));
}

TEST_CASE("--freeze into a sharded table is refused by the plan", "[planner]") {
    table_facts t = sharded(true);
    t.freeze_refusal = "--freeze cannot load t: a partition is a foreign table";
    CHECK_THROWS_WITH(plan_load(plain(), t, input_facts{}), t.freeze_refusal);
}

// ---------------------------------------------------------------- the entry: each step once

namespace {

// Rows in a pipe: they can be read once only, as stdin from a producer.
// Written at once, so less than the pipe's buffer (64 KiB).
class rows_pipe {
public:
    explicit rows_pipe(const std::string& rows) {
        REQUIRE(::pipe(m_fds) == 0);
        REQUIRE(::write(m_fds[1], rows.data(), rows.size()) == static_cast<ssize_t>(rows.size()));
        ::close(m_fds[1]);
    }
    ~rows_pipe() { ::close(m_fds[0]); }
    rows_pipe(const rows_pipe&) = delete;
    rows_pipe& operator=(const rows_pipe&) = delete;
    std::string path() const { return "/dev/fd/" + std::to_string(m_fds[0]); }

private:
    int m_fds[2];
};

// The real rules and the real look at the first input; the catalog given,
// the load replaced by reading on from the opened input. Counts each step.
class counting_steps final : public load_steps {
public:
    int validated = 0, connected = 0, peeked = 0, tables_read = 0, runs = 0, failures = 0;
    table_facts facts = local_table();
    std::string rows_loaded;
    load_plan plan_run;

    void validate(const copy_load_options& o) override {
        ++validated;
        validate_copy_load(o);
    }
    void connect(const copy_load_options&) override { ++connected; }
    input_facts peek(const copy_load_options& o) override {
        ++peeked;
        return peek_first_input(o, m_first);
    }
    table_facts read_table(const copy_load_options&, const input_facts&) override {
        ++tables_read;
        return facts;
    }
    load_summary run(const copy_load_options& o, load_plan plan) override {
        ++runs;
        plan_run = std::move(plan);
        std::unique_ptr<input_stream> in = m_first ? std::move(m_first) : std::make_unique<input_stream>(o.inputs[0]);
        char buffer[4096];
        while (size_t n = in->read(buffer, sizeof buffer))
            rows_loaded.append(buffer, n);
        return {};
    }
    void failed(const copy_load_options&, const error&) override { ++failures; }

private:
    std::unique_ptr<input_stream> m_first;
};

// run_copy of o reading input, through steps that count what it did.
counting_steps run_reading(copy_load_options o, const rows_pipe& input) {
    o.inputs = {input.path()};
    counting_steps steps;
    run_copy(o, steps);
    return steps;
}

} // namespace

TEST_CASE("--fast from a pipe: validated once, one connection, the input read once and handed on", "[planner]") {
    std::string rows;
    for (int k = 0; k < 2000; ++k)
        rows += std::to_string(k) + "\tsome text of the row\n";
    REQUIRE(rows.size() < 64 << 10);
    rows_pipe input(rows);
    const counting_steps steps = run_reading(fast(), input);
    CHECK(steps.validated == 1);
    CHECK(steps.connected == 1);
    CHECK(steps.peeked == 1);
    CHECK(steps.tables_read == 1);
    CHECK(steps.runs == 1);
    CHECK(steps.failures == 0);
    CHECK(steps.rows_loaded == rows); // the bytes looked at were given back, none read twice
    CHECK(steps.plan_run.binary.reason.find("bytes are too narrow for binary encoding") != std::string::npos);
}

TEST_CASE("a plain load looks at no input before the load", "[planner]") {
    counting_steps steps;
    run_copy(plain(), steps);
    CHECK(steps.validated == 1);
    CHECK(steps.connected == 1);
    CHECK(steps.peeked == 0);
    CHECK(steps.runs == 1);
    CHECK(steps.plan_run.one_transaction.value);
}

TEST_CASE("no TABLE and no script stream: refused after one look, without connecting", "[planner]") {
    rows_pipe input("1\tone\n");
    copy_load_options o;
    o.inputs = {input.path()};
    counting_steps steps;
    CHECK_THROWS_WITH(run_copy(o, steps), "no table given, and " + input.path() + " is not a script stream");
    CHECK(steps.validated == 1);
    CHECK(steps.peeked == 1);
    CHECK(steps.connected == 0);
    CHECK(steps.runs == 0);
    CHECK(steps.failures == 1); // --stats says so
}

TEST_CASE("a script stream without TABLE: one look, no connection to plan", "[planner]") {
    const std::string script = "COPY public.t (a) FROM stdin;\n1\n\\.\n";
    rows_pipe input(script);
    const counting_steps steps = run_reading(copy_load_options{}, input);
    CHECK(steps.peeked == 1);
    CHECK(steps.connected == 0);
    CHECK(steps.tables_read == 0);
    CHECK(steps.rows_loaded == script);
}

TEST_CASE("a refused combination stops before connecting, once", "[planner]") {
    copy_load_options o = plain();
    o.freeze = true;
    counting_steps steps;
    CHECK_THROWS_WITH(run_copy(o, steps), "--freeze needs --truncate");
    CHECK(steps.validated == 1);
    CHECK(steps.connected == 0);
    CHECK(steps.failures == 1);
}

TEST_CASE("the look at the first input: binary signature, header names", "[planner]") {
    const std::string binary = binary_copy_header();
    rows_pipe signed_input(binary);
    copy_load_options o = fast();
    o.inputs = {signed_input.path()};
    std::unique_ptr<input_stream> opened;
    CHECK(peek_first_input(o, opened).binary_signature);
    rows_pipe named_input(binary);
    o.inputs = {named_input.path()};
    o.named_format = copy_format::text; // -F text: taken at its word
    CHECK_FALSE(peek_first_input(o, opened).binary_signature);
    rows_pipe header_input("id,name\n1,a\n");
    copy_load_options csv = plain();
    csv.inputs = {header_input.path()};
    csv.format.format = copy_format::csv;
    csv.format.header = true;
    CHECK(needs_input_facts(csv));
    CHECK(peek_first_input(csv, opened).header == std::vector<std::string>{"id", "name"});
}

TEST_CASE("--jobs without a batch size: the files' sizes are known without a look at them", "[planner]") {
    char path[] = "/tmp/planner_test_XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    const std::string rows(uint64_t{12} << 20, '\n');
    REQUIRE(::write(fd, rows.data(), rows.size()) == static_cast<ssize_t>(rows.size()));
    ::close(fd);
    copy_load_options o = plain();
    o.inputs = {path};
    o.jobs = 2;
    counting_steps steps;
    run_copy(o, steps);
    ::unlink(path);
    CHECK(steps.peeked == 0);
    CHECK(steps.plan_run.batch_bytes.value == (uint64_t{12} << 20) / 8); // four batches per job
}
