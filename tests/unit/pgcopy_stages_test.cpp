// pgcopy's engine stages without a server: the reader (cutting, headers,
// markers, script blocks, resume skipping), the queue (bounded hand-off,
// stop, the first failure) and the committer (rejects taken back across a
// failed COMMIT, --max-rejects).
#include "pgcopy/batch_queue.hpp"
#include "pgcopy/batch_reader.hpp"
#include "pgcopy/committer.hpp"
#include "pgcopy/load_plan.hpp"
#include "core/error.hpp"
#include "pgcopy/fingerprint.hpp"
#include "temp_file.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <thread>
#include <unistd.h>

using namespace pgpipe;
using pgpipe::test::temp_file;

namespace {

// The plan a load of o gets on a plain table (the planner is pure): what the
// stages are handed.
load_plan plan_of(const copy_load_options& o) { return plan_load(o, table_facts{}, stat_inputs(o)); }

// Script blocks' tables named as written, without a server: the test's own
// answers to the reader's one question for a server.
struct named_tables : block_tables {
    std::string table_sql(const std::vector<std::string>& name) override {
        std::string out;
        for (const auto& part : name)
            out += (out.empty() ? "\"" : ".\"") + part + "\"";
        return out;
    }
    bool is_target(const std::string& table, const std::string& target_sql) override { return table == target_sql; }
    std::string copy_sql(const std::string& table, const std::vector<std::string>& columns) override {
        std::string list;
        for (const auto& c : columns)
            list += (list.empty() ? "" : ", ") + c;
        return "COPY " + table + (list.empty() ? "" : " (" + list + ")") + " FROM STDIN";
    }
};

// A reader over one input, whose batches are kept as the queue hands them on.
struct reader_rig {
    copy_load_options o;
    std::optional<temp_file> file;
    load_plan plan;
    std::optional<load_context> ctx;
    batch_queue queue{1};
    named_tables tables;
    std::vector<batch> got;
    std::optional<batch_reader> reader;

    // A table: else an input of text is taken for a script stream. Batches
    // of the default size (a batch option: not one transaction, whose reader
    // also cuts at every short read).
    reader_rig() {
        o.table = "t";
        o.batch_size.bytes = 16 << 20;
    }
    // The input, then the context (o set first): returns it to adjust before reading.
    load_context& open(const std::string& bytes) {
        file.emplace(bytes);
        o.inputs = {file->path};
        plan = plan_of(o);
        ctx.emplace(o, plan);
        queue.take_inline([this](batch& b) { got.push_back(b); });
        reader.emplace(*ctx, queue, tables, nullptr);
        return *ctx;
    }
    void read(resume_point from = {}) {
        reader->resume(std::move(from));
        reader->read_all();
    }
    std::string rows_of(size_t k) const { return got[k].bytes.substr(got[k].starts.front(), got[k].size()); }
};

batch rows_batch(const std::string& bytes, std::vector<size_t> starts) {
    batch b;
    b.bytes = bytes;
    b.starts = std::move(starts);
    return b;
}

} // namespace

// ---------------------------------------------------------------- reader

TEST_CASE("the reader cuts batches at its row limit, whole rows each", "[stages]") {
    reader_rig r;
    r.open("a\nb\nc\nd\ne\n").batch_rows = 2;
    r.read();
    REQUIRE(r.got.size() == 3);
    CHECK(r.rows_of(0) == "a\nb\n");
    CHECK(r.rows_of(1) == "c\nd\n");
    CHECK(r.rows_of(2) == "e\n");
    CHECK(r.got[1].line_of(0) == 3);
    CHECK(r.got[2].first_offset + r.got[2].starts[0] == 8);
}

TEST_CASE("the reader cuts batches by bytes and keeps every byte once", "[stages]") {
    reader_rig r;
    const std::string input = "aaaa\nbbbb\ncccc\ndddd\neeee\n";
    r.open(input).batch_bytes = 10;
    r.read();
    std::string all;
    for (size_t k = 0; k < r.got.size(); ++k) {
        const std::string rows = r.rows_of(k);
        CHECK(rows.back() == '\n'); // whole rows only
        all += rows;
    }
    CHECK(r.got.size() == 3);
    CHECK(all == input);
}

TEST_CASE("the reader takes a last row without a newline as a row", "[stages]") {
    reader_rig r;
    r.open("1\n2");
    r.read();
    REQUIRE(r.got.size() == 1);
    CHECK(r.got[0].rows() == 2);
    CHECK(r.got[0].row(1) == "2");
}

TEST_CASE("the reader counts lines that rows hold inside CSV quotes", "[stages]") {
    reader_rig r;
    r.o.format.format = copy_format::csv;
    r.open("1,\"two\nlines\"\n3,x\n");
    r.read();
    REQUIRE(r.got.size() == 1);
    CHECK(r.got[0].rows() == 2);
    CHECK(r.got[0].line_of(1) == 3);
}

// A reader of CSV with a header, loading columns a and b.
struct csv_header_rig : reader_rig {
    explicit csv_header_rig(const std::string& bytes) {
        o.format.format = copy_format::csv;
        o.format.header = true;
        open(bytes).column_names = {"a", "b"};
    }
};

TEST_CASE("a CSV header is kept apart from the rows and checked", "[stages]") {
    csv_header_rig r("a,b\n1,2\n");
    r.read();
    REQUIRE(r.got.size() == 1);
    CHECK(r.got[0].header == "a,b\n");
    CHECK(r.got[0].rows() == 1);
    CHECK(r.got[0].line_of(0) == 2);
}

TEST_CASE("a header that names other columns is refused, naming the field", "[stages]") {
    csv_header_rig r("a,c\n1,2\n");
    CHECK_THROWS_WITH(r.read(), Catch::Contains("field 2 is \"c\", expected \"b\""));
    CHECK(r.got.empty());
}

TEST_CASE("a \\. line at the end ends the data", "[stages]") {
    reader_rig r;
    r.open("1\n2\n\\.\n");
    r.read();
    REQUIRE(r.got.size() == 1);
    CHECK(r.rows_of(0) == "1\n2\n");
}

TEST_CASE("data after a \\. line fails the load without a reject file", "[stages]") {
    reader_rig r;
    r.open("1\n\\.\n2\n");
    CHECK_THROWS_WITH(r.read(), Catch::Contains(":2"));
    REQUIRE(r.got.size() == 1); // the rows before it still go
    CHECK(r.rows_of(0) == "1\n");
}

// A reader with a reject file over rows whose second line is a \. line:
// read, the line a batch of its own between the rows before and after it.
struct marker_rig : reader_rig {
    explicit marker_rig(const std::string& bytes) {
        o.rejects.file = "unused-by-the-reader";
        open(bytes);
        read();
        REQUIRE(got.size() == 3);
    }
};

TEST_CASE("with a reject file, the \\. line before more data is a batch of its own", "[stages]") {
    marker_rig r("1\n\\.\n2\n");
    CHECK(r.rows_of(0) == "1\n");
    CHECK(r.got[1].end_marker);
    CHECK(r.got[1].line_of(0) == 2);
    CHECK(r.rows_of(2) == "2\n");
    CHECK(r.got[2].line_of(0) == 3);
}

TEST_CASE("a \\. line whose line end is not the first line's is refused", "[stages]") {
    reader_rig r;
    r.open("1\r\n\\.\n2\r\n");
    CHECK_THROWS_WITH(r.read(), Catch::Contains("newline"));
}

TEST_CASE("a \\. of another line end goes to the reject file as a refused marker", "[stages]") {
    marker_rig r("1\r\n\\.\n2\r\n");
    CHECK(r.got[1].refused_marker != nullptr);
    CHECK(r.rows_of(2) == "2\r\n");
}

TEST_CASE("a script stream's COPY and \\. lines are not rows; each block has its COPY", "[stages]") {
    reader_rig r;
    r.o.table.clear();
    r.open("COPY s.a (x, y) FROM stdin;\n1\t2\n\\.\nCOPY b FROM stdin;\n3\n\\.\n");
    r.read();
    REQUIRE(r.got.size() == 2);
    CHECK(r.rows_of(0) == "1\t2\n");
    CHECK(*r.got[0].copy_sql == "COPY \"s\".\"a\" (x, y) FROM STDIN");
    CHECK(r.got[0].line_of(0) == 2);
    CHECK(r.rows_of(1) == "3\n");
    CHECK(*r.got[1].copy_sql == "COPY \"b\" FROM STDIN");
    CHECK(r.got[1].line_of(0) == 5);
}

TEST_CASE("a script block into a table other than TABLE is refused", "[stages]") {
    reader_rig r;
    r.o.table = "t";
    r.o.script = true;
    r.open("COPY u FROM stdin;\n1\n\\.\n").table_sql = "\"t\"";
    CHECK_THROWS_WITH(r.read(), Catch::Contains(":1: the script loads into \"u\", not into t"));
}

TEST_CASE("a script that ends inside a block is refused, its rows before still go", "[stages]") {
    reader_rig r;
    r.o.table.clear();
    r.open("COPY a FROM stdin;\n1\n2\n");
    CHECK_THROWS_WITH(r.read(), Catch::Contains("ends inside the COPY block that starts at line 1"));
    REQUIRE(r.got.size() == 1);
    CHECK(r.got[0].rows() == 2);
}

TEST_CASE("a line outside a script block that is not a COPY line is refused", "[stages]") {
    reader_rig r;
    r.o.table.clear();
    r.open("COPY a FROM stdin;\n1\n\\.\nhello\n");
    CHECK_THROWS_WITH(r.read(), Catch::Contains(":4: expected \"COPY table"));
}

TEST_CASE("a resumed load skips its committed prefix, lines still counted", "[stages]") {
    reader_rig r;
    r.open("a\nb\nc\nd\n");
    resume_point p;
    p.from = {0, 4, 3};
    r.read(p);
    REQUIRE(r.got.size() == 1);
    CHECK(r.got[0].rows() == 2);
    CHECK(r.got[0].first_offset + r.got[0].starts[0] == 4);
    CHECK(r.got[0].line_of(0) == 3);
}

TEST_CASE("a resumed prefix must have the bytes its first run committed", "[stages]") {
    const std::string input = "a\nb\nc\nd\n";
    SECTION("the same bytes") {
        reader_rig r;
        r.open(input).key = "k";
        resume_point p;
        p.from = {0, 4, 3};
        p.hash = fingerprint_of(input.data(), 4);
        r.read(p);
        CHECK(r.got.size() == 1);
    }
    SECTION("other bytes") {
        reader_rig r;
        r.open(input).key = "k";
        resume_point p;
        p.from = {0, 4, 3};
        p.hash = fingerprint_of("x\ny\n", 4);
        CHECK_THROWS_WITH(r.read(p), Catch::Contains("its bytes up to byte offset 4"));
        CHECK(r.reader->input_changed());
        CHECK(r.got.empty());
    }
}

TEST_CASE("a resumed --jobs load skips the batches its first run committed out of order", "[stages]") {
    reader_rig r;
    r.open("a\nb\nc\nd\ne\n");
    resume_point p;
    p.ranges = {{0, 4, 8, ""}};
    r.read(p);
    REQUIRE(r.got.size() == 2);
    CHECK(r.rows_of(0) == "a\nb\n");
    CHECK(r.rows_of(1) == "e\n");
    CHECK(r.got[1].line_of(0) == 5);
}

TEST_CASE("an input shorter than what its resume key committed is refused", "[stages]") {
    reader_rig r;
    r.open("a\nb\n");
    resume_point p;
    p.from = {0, 100, 9};
    CHECK_THROWS_WITH(r.read(p), Catch::Contains("is shorter (4 bytes) than what this resume key committed (100)"));
}

TEST_CASE("sniffing tells binary data, script streams and header names", "[stages]") {
    SECTION("binary data without -F") {
        reader_rig r;
        r.o.table = "t";
        r.open(std::string("PGCOPY\n\377\r\n\0", 11) + std::string(8, '\0'));
        r.reader->resume({});
        CHECK(r.reader->sniff().binary);
    }
    SECTION("a script stream") {
        reader_rig r;
        r.o.table.clear();
        r.open("COPY a FROM stdin;\n\\.\n");
        r.reader->resume({});
        const first_input_facts facts = r.reader->sniff();
        CHECK(facts.script);
        CHECK_FALSE(facts.binary);
    }
    SECTION("a header's names, for --header without -c") {
        reader_rig r;
        r.o.table = "t";
        r.o.format.format = copy_format::csv;
        r.o.format.header = true;
        r.open("x,\"y z\"\n1,2\n");
        r.reader->resume({});
        const first_input_facts facts = r.reader->sniff();
        REQUIRE(facts.header_names);
        CHECK(*facts.header_names == std::vector<std::string>{"x", "y z"});
    }
}

TEST_CASE("sniffing refuses what a script stream cannot do, and CSV without TABLE", "[stages]") {
    SECTION("--reject-file with a script") {
        reader_rig r;
        r.o.rejects.file = "r";
        r.o.table.clear();
        r.open("COPY a FROM stdin;\n\\.\n");
        r.reader->resume({});
        CHECK_THROWS_WITH(r.reader->sniff(), Catch::Contains("--reject-file cannot be used with a script stream"));
    }
    SECTION("CSV with no table") {
        reader_rig r;
        r.o.table.clear();
        r.o.format.format = copy_format::csv;
        r.open("1,2\n");
        r.reader->resume({});
        CHECK_THROWS_WITH(r.reader->sniff(), Catch::Contains("no table given"));
    }
}

TEST_CASE("the bytes sniffed are read again by the load", "[stages]") {
    reader_rig r;
    r.o.table = "t";
    r.open("1\n2\n3\n");
    r.reader->resume({});
    r.reader->sniff();
    r.reader->read_all();
    REQUIRE(r.got.size() == 1);
    CHECK(r.rows_of(0) == "1\n2\n3\n");
}

// ---------------------------------------------------------------- queue

TEST_CASE("the queue hands batches on in order, then ends when closed", "[stages]") {
    batch_queue q(2);
    q.push(rows_batch("a\n", {0, 2}));
    q.push(rows_batch("b\n", {0, 2}));
    batch b;
    REQUIRE(q.take(b));
    CHECK(b.bytes == "a\n");
    q.done(std::move(b));
    REQUIRE(q.take(b));
    CHECK(b.bytes == "b\n");
    q.done(std::move(b));
    q.close_and_drain();
    CHECK_FALSE(q.take(b));
    CHECK(q.dispatched());
}

TEST_CASE("the queue drops a batch without rows", "[stages]") {
    batch_queue q(1);
    q.push(rows_batch("", {0}));
    CHECK_FALSE(q.dispatched());
    q.close_and_drain();
    batch b;
    CHECK_FALSE(q.take(b));
}

TEST_CASE("a full queue holds the reader until a loader fails, then stops it", "[stages]") {
    batch_queue q(1);
    q.push(rows_batch("a\n", {0, 2})); // the one loader's batch: the queue is full
    bool stopped = false;
    std::thread reader([&] {
        try {
            q.push(rows_batch("b\n", {0, 2}));
        } catch (const load_stopped&) {
            stopped = true;
        }
    });
    q.fail(std::make_exception_ptr(std::runtime_error("the loader's error")));
    reader.join();
    CHECK(stopped);
}

TEST_CASE("the queue keeps the first failure only", "[stages]") {
    batch_queue q(1);
    q.fail(std::make_exception_ptr(std::runtime_error("first")));
    q.fail(std::make_exception_ptr(std::runtime_error("second")));
    CHECK_THROWS_WITH(std::rethrow_exception(q.failure()), "first");
    batch b;
    CHECK_FALSE(q.take(b));
    CHECK_THROWS_AS(q.push(rows_batch("a\n", {0, 2})), load_stopped);
}

TEST_CASE("a stopped queue gives no more batches and ends the reader's waits", "[stages]") {
    batch_queue q(2);
    q.push(rows_batch("a\n", {0, 2}));
    q.stop();
    batch b;
    CHECK_FALSE(q.take(b));
    CHECK_THROWS_AS(q.wait_committed(), load_stopped);
}

TEST_CASE("waiting for the batches pushed ends when the loaders are done with them", "[stages]") {
    batch_queue q(1);
    q.push(rows_batch("a\n", {0, 2}));
    std::thread loader([&] {
        batch b;
        if (q.take(b))
            q.done(std::move(b));
    });
    q.wait_committed();
    loader.join();
    CHECK_NOTHROW(q.push(rows_batch("b\n", {0, 2})));
}

TEST_CASE("a loaded batch's buffer comes back as the spare", "[stages]") {
    batch_queue q(1);
    batch big = rows_batch(std::string(1000, 'x') + "\n", {0, 1001});
    q.push(std::move(big));
    batch b;
    REQUIRE(q.take(b));
    q.done(std::move(b));
    const batch spare = q.spare();
    CHECK(spare.bytes.empty());
    CHECK(spare.bytes.capacity() >= 1001);
    CHECK(q.spare().bytes.capacity() < 1001); // one spare only
}

TEST_CASE("--truncate: the first batch alone, until it committed", "[stages]") {
    batch_queue q(2);
    q.hold_first_batch(true);
    CHECK(q.truncate_pending());
    q.truncate_done();
    CHECK_FALSE(q.truncate_pending());
}

TEST_CASE("one transaction: the queue gives each batch in the pushing thread", "[stages]") {
    batch_queue q(1);
    std::vector<std::string> taken;
    const std::thread::id pusher = std::this_thread::get_id();
    bool same_thread = true;
    q.take_inline([&](batch& b) {
        taken.push_back(b.bytes);
        same_thread = same_thread && std::this_thread::get_id() == pusher;
    });
    q.push(rows_batch("a\n", {0, 2}));
    q.push(rows_batch("b\n", {0, 2}));
    CHECK(taken == std::vector<std::string>{"a\n", "b\n"});
    CHECK(same_thread);
    CHECK(q.spare().bytes.capacity() >= 2);
}

// ---------------------------------------------------------------- committer

namespace {

// A committer with a reject file in a directory of its own.
struct committer_rig {
    copy_load_options o;
    std::string dir;
    load_plan plan;
    std::optional<load_context> ctx;
    std::optional<committer> accounts;

    committer_rig() {
        char name[] = "/tmp/pgpipe-stages-XXXXXX";
        REQUIRE(mkdtemp(name));
        dir = name;
        o.rejects.file = dir + "/rejects";
        o.inputs = {"in.txt"};
    }
    ~committer_rig() { std::filesystem::remove_all(dir); }
    committer& open() {
        plan = plan_of(o);
        ctx.emplace(o, plan);
        accounts.emplace(*ctx);
        accounts->open_rejects();
        return *accounts;
    }
    uint64_t rows_size() const { return std::filesystem::file_size(o.rejects.file); }
    uint64_t log_size() const { return std::filesystem::file_size(o.rejects.file + ".log"); }
};

std::vector<reject> rejects_of(const std::string& row) { return {{row, "in.txt:1: bad\n"}}; }

// The batch "1\n2\n" committed with one rejected row ("1") on c, its claim
// held while the rejects are written, then released.
batch commit_with_a_reject(committer& c) {
    batch b = rows_batch("1\n2\n", {0, 2, 4});
    reject_claim claim;
    c.write_rejects(claim, b, rejects_of("1\n"));
    CHECK(claim.held());
    c.count_committed(b, {0, 4, 3}, 1, 1, claim, 0, 1);
    claim.lock.unlock();
    return b;
}

} // namespace

TEST_CASE("the rejects of a batch whose COMMIT failed are taken back", "[stages]") {
    committer_rig r;
    committer& c = r.open();
    const batch b = commit_with_a_reject(c); // committed: its rejects stay
    const uint64_t rows = r.rows_size(), log = r.log_size();
    CHECK(rows == 2);

    reject_claim second;
    c.write_rejects(second, b, rejects_of("2\n"));
    CHECK(r.rows_size() == 4);
    c.take_back(second); // its COMMIT failed
    CHECK_FALSE(second.held());
    CHECK(r.rows_size() == rows);
    CHECK(r.log_size() == log);
}

TEST_CASE("taking back rejects that were never written changes nothing", "[stages]") {
    committer_rig r;
    committer& c = r.open();
    reject_claim none;
    c.take_back(none);
    CHECK(r.rows_size() == 0);
    CHECK_FALSE(none.held());
}

TEST_CASE("--max-rejects N stops at the reject past N", "[stages]") {
    committer_rig r;
    r.o.rejects.max = 2;
    committer& c = r.open();
    const batch b = rows_batch("1\n2\n3\n", {0, 2, 4, 6});
    CHECK_NOTHROW(c.check_reject_limit(b, 2, false));
    try {
        c.check_reject_limit(b, 3, false);
        FAIL("no stop");
    } catch (const error& e) {
        CHECK(e.status() == exit_status::rows_rejected);
        CHECK_THAT(e.what(), Catch::Contains("3 rows rejected, more than --max-rejects 2"));
        CHECK_THAT(e.detail(), Catch::Contains("the batch from in.txt:1 was rolled back"));
    }
}

TEST_CASE("--max-rejects N% is judged on whole batches", "[stages]") {
    committer_rig r;
    r.o.rejects.max = 50;
    r.o.rejects.max_percent = true;
    committer& c = r.open();
    const batch one = rows_batch("1\n", {0, 2});
    CHECK_NOTHROW(c.check_reject_limit(one, 1, false)); // one bad row early on is not 100% of the load
    CHECK_THROWS_AS(c.check_reject_limit(one, 1, true), error);
    const batch four = rows_batch("1\n2\n3\n4\n", {0, 2, 4, 6, 8});
    CHECK_NOTHROW(c.check_reject_limit(four, 2, true)); // 50% is not more than 50%
}

TEST_CASE("what committed is counted and said", "[stages]") {
    committer_rig r;
    committer& c = r.open();
    const batch b = rows_batch("1\n2\n3\n", {0, 2, 4, 6});
    reject_claim none;
    c.count_committed(b, {0, 6, 4}, 3, 0, none, 0, 3);
    CHECK(c.summary().rows == 3);
    CHECK(c.summary().batches == 1);
    CHECK(c.rows_sent() == 3);
    CHECK(c.committed_so_far() == "3 rows were committed in 1 batches, up to in.txt:3 (byte offset 6)");
}

TEST_CASE("a failed one transaction forgets what it counted and its rejects", "[stages]") {
    committer_rig r;
    committer& c = r.open();
    commit_with_a_reject(c);
    c.forget_all();
    CHECK(c.summary().rows == 0);
    CHECK(c.summary().rejected == 0);
    CHECK(r.rows_size() == 0);
    CHECK(r.log_size() == 0);
}

// ---------------------------------------------------------------- load context

TEST_CASE("the load context takes its sizes from the plan", "[stages]") {
    copy_load_options o;
    SECTION("one transaction: small batches and reads, two of them in memory") {
        const load_plan plan = plan_of(o);
        const load_context ctx(o, plan);
        CHECK(ctx.one_tx);
        CHECK(ctx.one_transaction());
        CHECK(ctx.chunk == 256 << 10);
        CHECK(ctx.batch_bytes == 256 << 10);
        CHECK(ctx.inputs == std::vector<std::string>{"-"});
    }
    SECTION("batches without a size: 16 MiB, no row limit") {
        o.rejects.file = "r";
        const load_plan plan = plan_of(o);
        const load_context ctx(o, plan);
        CHECK_FALSE(ctx.one_tx);
        CHECK(ctx.chunk == read_chunk);
        CHECK(ctx.batch_bytes == 16 << 20);
        CHECK(ctx.batch_rows == UINT64_MAX);
        CHECK(ctx.loaders == 1);
        CHECK_FALSE(ctx.parallel());
    }
    SECTION("--jobs without a size: about four batches a loader (4 MiB for a stream)") {
        o.jobs = 3;
        const load_plan plan = plan_of(o);
        const load_context ctx(o, plan);
        CHECK(ctx.loaders == 3);
        CHECK(ctx.parallel());
        CHECK(ctx.batch_bytes == 4 << 20);
    }
    SECTION("--batch-rows: the rows, and 16 MiB still") {
        o.batch_size.rows = 1000;
        o.jobs = 3;
        const load_plan plan = plan_of(o);
        const load_context ctx(o, plan);
        CHECK(ctx.batch_rows == 1000);
        CHECK(ctx.batch_bytes == 16 << 20);
    }
}

TEST_CASE("the load context names the row a server's CONTEXT line names", "[stages]") {
    copy_load_options o;
    o.inputs = {"in.csv"};
    const load_plan plan = plan_of(o);
    load_context ctx(o, plan);
    ctx.format.format = copy_format::csv;
    batch b = rows_batch("1,a\n2,\"b\nc\"\n3,d\n", {0, 4, 12, 16});
    b.set_first_line(10);
    // The server counts the newline inside the quotes: the two-line row ends at its line 3.
    CHECK(ctx.row_named(b, 0, 3, 3) == std::optional<size_t>(1));
    CHECK(ctx.row_named(b, 0, 3, 4) == std::optional<size_t>(2));
    CHECK(ctx.row_named(b, 1, 3, 1) == std::optional<size_t>(1));
    CHECK_FALSE(ctx.row_named(b, 0, 3, std::nullopt));
    CHECK(ctx.where(b, 2) == "in.csv:13");
}
