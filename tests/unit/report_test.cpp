// pgreport's per-version SQL and diff, without a server: PostgreSQL 13 to 17
// name their views and columns differently.
#include "core/error.hpp"
#include "pgreport/report.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace pgpipe;

namespace {

std::set<std::string> names(int version, bool statements) {
    std::set<std::string> out;
    for (const auto& s : snapshot_sections(version, statements, {}))
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

} // namespace

TEST_CASE("snapshot sections follow the server version") {
    CHECK(names(130000, false) == std::set<std::string>{"meta", "database", "tables", "bgwriter", "settings"});
    CHECK(names(140000, false).count("wal"));
    CHECK_FALSE(names(150000, false).count("io"));
    CHECK(names(160000, false).count("io"));
    CHECK_FALSE(names(160000, false).count("checkpointer"));
    CHECK(names(170000, true).count("checkpointer"));
    CHECK(names(170000, true).count("statements"));
    CHECK_FALSE(names(170000, false).count("statements"));
    auto sections = snapshot_sections(150000, false, {"'public.t'", "'s.u'"});
    for (const auto& s : sections)
        if (s.name == "tables")
            CHECK_THAT(s.sql, Catch::Contains("s.relid IN ('public.t'::regclass, 's.u'::regclass)"));
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

TEST_CASE("things that are not snapshots are refused by name") {
    CHECK_THROWS_WITH(parse_snapshot("[1, 2]", "x.json"), Catch::Contains("\"x.json\" is not a pgreport snapshot"));
    CHECK_THROWS_WITH(parse_snapshot("{\"pgreport_snapshot\": 2}", "x"), Catch::Contains("pgreport_snapshot"));
    CHECK_THROWS_WITH(parse_snapshot("{\"pgreport_snapshot\": 1, \"meta\": {}}", "x"), Catch::Contains("epoch"));
    CHECK_THROWS_WITH(parse_snapshot("{", "x"), Catch::Contains("invalid JSON"));
    CHECK_THROWS_AS(parse_report_format("xml"), error);
}
