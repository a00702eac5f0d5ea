// pgreport's per-version SQL, its diff model and its renderers, without a
// server: PostgreSQL 13 to 17 name their views and columns differently.
#include "core/error.hpp"
#include "pgreport/diff.hpp"
#include "pgreport/report.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace pgpipe;

namespace {

std::set<std::string> names(int version) {
    std::set<std::string> out;
    for (const auto& s : snapshot_sections(server_rules(version), "'{}'"))
        out.insert(s.name);
    return out;
}

// A minimal snapshot of a server of version v with the given sections.
std::string snapshot_json(int version, double epoch, const std::string& extra) {
    return "{\"pgreport_snapshot\": 1, \"meta\": {\"epoch\": " + std::to_string(epoch) +
           ", \"server_version_num\": " + std::to_string(version) +
           ", \"server_version\": \"x\", \"database\": \"db\"}, \"tables\": [{\"schema\": \"public\", \"name\": "
           "\"t\", \"n_tup_ins\": " +
           std::to_string(static_cast<int>(epoch) * 100) + ", \"table_bytes\": 8192}]" + extra + "}";
}

// Two snapshots of one PostgreSQL 15 database, 4 seconds apart, with a
// table that grew, one untouched, one created, and a dozen statements.
std::pair<snapshot, snapshot> two_snapshots() {
    snapshot a, b;
    a.epoch = 100;
    b.epoch = 104;
    a.server_version_num = b.server_version_num = 150004;
    a.database = b.database = "shop";
    b.server_version = "15.4";
    a.tables = {{"public.a", {{"n_tup_ins", 10}, {"table_bytes", 8192}}}, {"public.idle", {{"n_tup_ins", 5}}}};
    b.tables = {{"public.a", {{"n_tup_ins", 410}, {"n_tup_upd", 3}, {"table_bytes", 16384}, {"index_bytes", 8192}}},
                {"public.idle", {{"n_tup_ins", 5}}},
                {"public.new", {}}};
    a.flat["wal"] = {{"wal_bytes", 1000}, {"wal_records", 10}, {"wal_fpi", 1}};
    b.flat["wal"] = {{"wal_bytes", 41000}, {"wal_records", 110}, {"wal_fpi", 4}};
    a.flat["bgwriter"] = {{"checkpoints_timed", 1}, {"checkpoints_req", 0}, {"buffers_backend", 7}};
    b.flat["bgwriter"] = {{"checkpoints_timed", 2}, {"checkpoints_req", 3}, {"buffers_backend", 9}};
    a.flat["database"] = {{"xact_commit", 5}, {"blks_read", 10}, {"blks_hit", 10}};
    b.flat["database"] = {{"xact_commit", 9}, {"xact_rollback", 1}, {"tup_inserted", 400},
                          {"blks_read", 20}, {"blks_hit", 40}};
    a.statements["1"] = {{"calls", 1}, {"total_exec_time", 5}};
    for (int k = 1; k <= 12; ++k)
        b.statements[std::to_string(k)] = {{"calls", 1}, {"total_exec_time", k == 1 ? 5 : k}, {"rows", 2.0 * k}};
    b.statement_text["12"] = "SELECT 12";
    b.notes = {"io left out: x"};
    return {a, b};
}

// A small model, by hand, for the renderers.
snapshot_diff small_model() {
    snapshot_diff d;
    d.seconds = 2;
    d.database = "shop";
    d.server_version = "15.4 (Debian 15.4-1)";
    d.tables = {{"public.orders", 1000, 500, 2, 1, 81920, 16384, 0, 90112}};
    d.inserted_total = 1000;
    d.wal = wal_delta{1048576, 1200, 3, 524288, 1048.576};
    d.checkpoints = {0, 1, 5};
    d.db = {"shop", 4, 1, 1000, 10, 90, 0.9, 0};
    d.statements = {{"COPY orders FROM STDIN", 12.5, 1, 1000, 1048576}};
    d.notes = {"io left out: permission denied"};
    return d;
}

// The small model with nothing but the checkpoint and database lines.
snapshot_diff quiet_model() {
    snapshot_diff d = small_model();
    d.tables.clear();
    d.inserted_total = 0;
    d.wal.reset();
    d.statements.clear();
    d.notes.clear();
    return d;
}

} // namespace

TEST_CASE("snapshot sections follow the server version") {
    CHECK(names(130000) == std::set<std::string>{"meta", "database", "tables", "bgwriter", "settings"});
    CHECK(names(140000).count("wal"));
    CHECK_FALSE(names(150000).count("io"));
    CHECK(names(160000).count("io"));
    CHECK_FALSE(names(160000).count("checkpointer"));
    CHECK(names(170000).count("checkpointer"));
    CHECK_FALSE(names(180000).count("statements")); // read last, by statements_section
    auto sections = snapshot_sections(server_rules(150000), "'{public.t,s.u}'");
    for (const auto& s : sections)
        if (s.name == "tables")
            CHECK_THAT(s.sql, Catch::Contains("s.relid = ANY ('{public.t,s.u}'::regclass[])"));
}

TEST_CASE("the statement section leaves out pgreport's own queries by queryid") {
    snapshot_section s = statements_section({"-42", "7"});
    CHECK(s.name == "statements");
    CHECK_THAT(s.sql, Catch::Contains("queryid::text <> ALL ('{-42,7}'::text[])"));
    CHECK_THAT(s.sql, Catch::Contains("pid = pg_backend_pid()"));
    CHECK_THAT(statements_section({}).sql, Catch::Contains("<> ALL ('{}'::text[])"));
    CHECK_THAT(s.sql, !Catch::Contains("pgreport */"));
}

TEST_CASE("the diff reads checkpoints from the view the version has") {
    auto b15 = parse_snapshot(snapshot_json(150000, 10, ", \"bgwriter\": {\"checkpoints_timed\": 1, "
                                                        "\"checkpoints_req\": 2, \"buffers_backend\": 5}"), "a");
    auto a15 = parse_snapshot(snapshot_json(150000, 12, ", \"bgwriter\": {\"checkpoints_timed\": 2, "
                                                        "\"checkpoints_req\": 5, \"buffers_backend\": 9}"), "b");
    std::string tsv = render_diff(b15, a15, report_format::tsv);
    CHECK_THAT(tsv, Catch::Contains("checkpoints\tcheckpoints\ttimed\t1\n"));
    CHECK_THAT(tsv, Catch::Contains("checkpoints\tcheckpoints\trequested\t3\n"));
    CHECK_THAT(tsv, Catch::Contains("backend_buffer_writes\t4\n"));
    CHECK_THAT(tsv, Catch::Contains("table\tpublic.t\tinserted\t200\n"));
    CHECK_THAT(tsv, Catch::Contains("table\tpublic.t\trows_per_second\t100\n"));

    auto b17 = parse_snapshot(snapshot_json(170000, 10, ", \"checkpointer\": {\"num_timed\": 4, \"num_requested\": 0},"
                                                        " \"io\": [{\"backend_type\": \"client backend\", \"object\": "
                                                        "\"relation\", \"context\": \"normal\", \"writes\": 10}]"), "a");
    auto a17 = parse_snapshot(snapshot_json(170000, 11, ", \"checkpointer\": {\"num_timed\": 6, \"num_requested\": 1},"
                                                        " \"io\": [{\"backend_type\": \"client backend\", \"object\": "
                                                        "\"relation\", \"context\": \"normal\", \"writes\": 17}]"), "b");
    tsv = render_diff(b17, a17, report_format::tsv);
    CHECK_THAT(tsv, Catch::Contains("checkpoints\tcheckpoints\ttimed\t2\n"));
    CHECK_THAT(tsv, Catch::Contains("checkpoints\tcheckpoints\trequested\t1\n"));
    CHECK_THAT(tsv, Catch::Contains("backend_buffer_writes\t7\n"));
}

namespace {

// A pg_stat_io row of a snapshot (16+).
std::string io_row(const char* backend, const char* object, int writes, int extends) {
    return std::string("{\"backend_type\": \"") + backend + "\", \"object\": \"" + object +
           "\", \"context\": \"bulkwrite\", \"writes\": " + std::to_string(writes) +
           ", \"extends\": " + std::to_string(extends) + "}";
}

// A snapshot of version v whose pg_stat_io rows are scaled by k.
snapshot io_snapshot(int version, double epoch, int k) {
    return parse_snapshot(snapshot_json(version, epoch,
                                        ", \"io\": [" + io_row("client backend", "relation", 10 * k, 100 * k) + ", " +
                                            io_row("autovacuum worker", "relation", k, 2 * k) + ", " +
                                            io_row("client backend", "temp relation", 1000 * k, 1000 * k) + ", " +
                                            io_row("client backend", "wal", 1000 * k, 0) + ", " +
                                            io_row("background writer", "relation", 1000 * k, 0) + ", " +
                                            io_row("checkpointer", "relation", 1000 * k, 0) + "]"),
                          "s");
}

} // namespace

// Up to 15 buffers_backend counted every shared buffer a process other than
// the background writer and the checkpointer wrote or extended (each asks the
// checkpointer to sync the segment); from 16 pg_stat_io counts them apart.
TEST_CASE("buffers written by backends are writes and extends on every version") {
    for (int version : {160000, 170000, 180000}) {
        INFO(version);
        // (10 + 100 + 1 + 2) * (3 - 1): relations only, the bgwriter and the checkpointer aside
        CHECK(diff_snapshots(io_snapshot(version, 10, 1), io_snapshot(version, 11, 3)).checkpoints
                  .backend_buffer_writes == 226);
    }
    // From 18 the counts are of operations of several blocks: the blocks come from the bytes.
    auto io18 = [](double epoch, int blocks) {
        return parse_snapshot(snapshot_json(180000, epoch, ", \"io\": [{\"backend_type\": \"client backend\", "
                                                           "\"object\": \"relation\", \"context\": \"bulkwrite\", "
                                                           "\"writes\": 0, \"extends\": 1, \"write_blocks\": 0, "
                                                           "\"extend_blocks\": " + std::to_string(blocks) + "}]"),
                              "s");
    };
    CHECK(diff_snapshots(io18(10, 8), io18(11, 696)).checkpoints.backend_buffer_writes == 688);
    auto b15 = parse_snapshot(snapshot_json(150000, 10, ", \"bgwriter\": {\"buffers_backend\": 5}"), "a");
    auto a15 = parse_snapshot(snapshot_json(150000, 11, ", \"bgwriter\": {\"buffers_backend\": 9}"), "b");
    CHECK(diff_snapshots(b15, a15).checkpoints.backend_buffer_writes == 4);
}

TEST_CASE("things that are not snapshots are refused by name") {
    CHECK_THROWS_WITH(parse_snapshot("[1, 2]", "x.json"), Catch::Contains("\"x.json\" is not a pgreport snapshot"));
    CHECK_THROWS_WITH(parse_snapshot("{\"pgreport_snapshot\": 2}", "x"), Catch::Contains("pgreport_snapshot"));
    CHECK_THROWS_WITH(parse_snapshot("{\"pgreport_snapshot\": 1, \"meta\": {}}", "x"), Catch::Contains("epoch"));
    CHECK_THROWS_WITH(parse_snapshot("{", "x"), Catch::Contains("invalid JSON"));
    CHECK_THROWS_AS(parse_report_format("xml"), error);
}

TEST_CASE("the diff model holds each section's deltas") {
    auto [a, b] = two_snapshots();
    snapshot_diff d = diff_snapshots(a, b);
    CHECK(d.seconds == 4);
    CHECK(d.database == "shop");
    CHECK(d.server_version == "15.4");
    REQUIRE(d.tables.size() == 2); // public.idle did nothing; public.new is new
    CHECK(d.tables[0].name == "public.a");
    CHECK(d.tables[0].inserted == 400);
    CHECK(d.tables[0].rows_per_second == 100);
    CHECK(d.tables[0].updated == 3);
    CHECK(d.tables[0].deleted == 0);
    CHECK(d.tables[0].table_bytes == 8192);
    CHECK(d.tables[0].index_bytes == 8192);
    CHECK(d.tables[0].table_bytes_after == 16384);
    CHECK(d.tables[1].name == "public.new");
    CHECK(d.tables[1].inserted == 0);
    CHECK(d.inserted_total == 400);
    REQUIRE(d.wal);
    CHECK(d.wal->bytes == 40000);
    CHECK(d.wal->records == 100);
    CHECK(d.wal->full_page_images == 3);
    CHECK(d.wal->bytes_per_second == 10000);
    CHECK(d.wal->bytes_per_inserted_row == 100);
    CHECK(d.checkpoints.timed == 1);
    CHECK(d.checkpoints.requested == 3);
    CHECK(d.checkpoints.backend_buffer_writes == 2);
    CHECK(d.db.name == "shop");
    CHECK(d.db.commits == 4);
    CHECK(d.db.rollbacks == 1);
    CHECK(d.db.rows_inserted == 400);
    CHECK(d.db.blocks_read == 10);
    CHECK(d.db.blocks_hit == 30);
    CHECK(d.db.hit_ratio == 0.75);
    CHECK(d.notes == std::vector<std::string>{"io left out: x"});

    b.flat.erase("wal"); // before 14, or left out
    CHECK_FALSE(diff_snapshots(a, b).wal);
}

TEST_CASE("the diff model keeps the ten statements that took most time") {
    auto [a, b] = two_snapshots();
    snapshot_diff d = diff_snapshots(a, b);
    // "1" was not called in the interval; "2" is the eleventh.
    REQUIRE(d.statements.size() == 10);
    CHECK(d.statements[0].query == "SELECT 12"); // its text where the snapshot has it
    CHECK(d.statements[0].total_ms == 12);
    CHECK(d.statements[0].calls == 1);
    CHECK(d.statements[0].rows == 24);
    CHECK(d.statements[1].query == "11"); // else its queryid
    CHECK(d.statements[9].query == "3");
}

TEST_CASE("the text renderer writes aligned tables within 80 columns") {
    CHECK(render_diff_text(small_model()) ==
          "pgreport: 2.00 s on database \"shop\" (PostgreSQL 15.4)\n"
          "\n"
          "table                            inserted       rows/s      updated      deleted\n"
          "public.orders                       1,000          500            2            1\n"
          "\n"
          "table                                  table +     indexes +       TOAST +\n"
          "public.orders                          81.9 kB       16.4 kB           0 B\n"
          "\n"
          "WAL           1.0 MB in 1,200 records, 3 full-page images, 524.3 kB/s, 1048.6 B\n"
          "              per inserted row\n"
          "Checkpoints   0 timed, 1 requested; 5 buffers written by backends\n"
          "Database      4 commits, 1 rollbacks, 10 blocks read, 90.0% hits, 0 B temp\n"
          "\n"
          "statements by time in the interval\n"
          "        ms   calls       rows  query\n"
          "      12.5       1      1,000  COPY orders FROM STDIN\n"
          "note: io left out: permission denied\n");

    CHECK(render_diff_text(quiet_model()) ==
          "pgreport: 2.00 s on database \"shop\" (PostgreSQL 15.4)\n"
          "\n"
          "no table changed in the interval\n"
          "\n"
          "Checkpoints   0 timed, 1 requested; 5 buffers written by backends\n"
          "Database      4 commits, 1 rollbacks, 10 blocks read, 90.0% hits, 0 B temp\n");
}

TEST_CASE("the json renderer writes one object of sections and notes") {
    CHECK(render_diff_json(small_model()) ==
          "{\"seconds\": 2.000, \"database\": \"shop\", \"server_version\": \"15.4 (Debian 15.4-1)\", \"sections\": ["
          "{\"section\": \"table\", \"name\": \"public.orders\", \"inserted\": 1000, \"rows_per_second\": 500, "
          "\"updated\": 2, \"deleted\": 1, \"table_bytes\": 81920, \"index_bytes\": 16384, \"toast_bytes\": 0, "
          "\"table_bytes_after\": 90112}, "
          "{\"section\": \"wal\", \"name\": \"wal\", \"bytes\": 1048576, \"records\": 1200, \"full_page_images\": 3, "
          "\"bytes_per_second\": 524288, \"bytes_per_inserted_row\": 1048.576}, "
          "{\"section\": \"checkpoints\", \"name\": \"checkpoints\", \"timed\": 0, \"requested\": 1, "
          "\"backend_buffer_writes\": 5}, "
          "{\"section\": \"database\", \"name\": \"shop\", \"commits\": 4, \"rollbacks\": 1, \"rows_inserted\": 1000, "
          "\"blocks_read\": 10, \"blocks_hit\": 90, \"hit_ratio\": 0.900, \"temp_bytes\": 0}, "
          "{\"section\": \"statement\", \"name\": \"COPY orders FROM STDIN\", \"total_ms\": 12.500, \"calls\": 1, "
          "\"rows\": 1000, \"wal_bytes\": 1048576}], "
          "\"notes\": [\"io left out: permission denied\"]}\n");
}

TEST_CASE("the tsv renderer writes one line per metric") {
    snapshot_diff d = quiet_model();
    CHECK(render_diff_tsv(d) == "section\tname\tmetric\tvalue\n"
                                "interval\tshop\tseconds\t2.000\n"
                                "checkpoints\tcheckpoints\ttimed\t0\n"
                                "checkpoints\tcheckpoints\trequested\t1\n"
                                "checkpoints\tcheckpoints\tbackend_buffer_writes\t5\n"
                                "database\tshop\tcommits\t4\n"
                                "database\tshop\trollbacks\t1\n"
                                "database\tshop\trows_inserted\t1000\n"
                                "database\tshop\tblocks_read\t10\n"
                                "database\tshop\tblocks_hit\t90\n"
                                "database\tshop\thit_ratio\t0.900\n"
                                "database\tshop\ttemp_bytes\t0\n");
    CHECK(render_diff(d, report_format::tsv) == render_diff_tsv(d));
    CHECK(render_diff(d, report_format::json) == render_diff_json(d));
    CHECK(render_diff(d, report_format::text) == render_diff_text(d));
}

TEST_CASE("watch renders running COPY commands in each format") {
    std::vector<copy_progress> copies{{"42", "public.orders", "COPY FROM", "PIPE", "1000", "65536", "0", 1000, 65536, 2}};
    CHECK(render_copy_progress(copies, report_format::text, true) ==
          "     pid  table               command              tuples     bytes      rows/s\n"
          "      42  public.orders       COPY FROM PIPE        1,000   65.5 kB         500\n");
    CHECK(render_copy_progress(copies, report_format::tsv, false) ==
          "42\tpublic.orders\tCOPY FROM\tPIPE\t1000\t65536\t0\t2.000\n");
    CHECK(render_copy_progress(copies, report_format::json, true) ==
          "{\"pid\": 42, \"table\": \"public.orders\", \"command\": \"COPY FROM\", \"type\": \"PIPE\", "
          "\"tuples\": 1000, \"bytes\": 65536, \"bytes_total\": 0, \"seconds\": 2.000}\n");
    CHECK(render_copy_progress({}, report_format::text, false) == "no COPY running\n");
}
