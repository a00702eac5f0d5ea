// The router stage without a server: each row's key read as COPY reads it,
// its destination by the partition bounds, rows no partition admits
// (23514), parts an earlier run committed, and ids reserved in front.
#include "pgcopy/router.hpp"
#include "pgcopy/fingerprint.hpp"
#include "pgcopy/load_plan.hpp"
#include "core/error.hpp"

#include <catch2/catch.hpp>

using namespace pgpipe;

namespace {

// orders_all (id, v) by range of id: [1, 100) on shard1, [100, 1000) on
// shard2, the parent (destination 0) for what pgcopy cannot read.
routing two_shards(key_kind kind = key_kind::int8) {
    routing r;
    r.table_sql = "\"orders_all\"";
    r.key_column = "id";
    r.kind = kind;
    r.columns = {"id", "v"};
    r.destinations.resize(3);
    r.destinations[0].name = "orders_all";
    for (int k = 1; k <= 2; ++k) {
        r.destinations[k].name = "orders_p" + std::to_string(k);
        r.destinations[k].server = "shard" + std::to_string(k);
    }
    std::string why;
    r.bounds.push_back(*parse_partition_bound("FOR VALUES FROM ('1') TO ('100')", kind, why));
    r.bounds.push_back(*parse_partition_bound("FOR VALUES FROM ('100') TO ('1000')", kind, why));
    r.bound_destination = {1, 2};
    return r;
}

// A router over one batch of rows, as a loader holds it.
struct router_rig {
    copy_load_options o;
    load_plan plan;
    routing route = two_shards();
    std::vector<committed_batches> found;
    std::optional<load_context> ctx;
    batch b;
    std::vector<unplaced_row> unplaced;
    std::optional<router> routes; // one per loader, over all its batches

    router_rig() {
        o.table = "orders_all";
        o.inputs = {"in.tsv"};
        o.batch_size.rows = 1000;
    }
    // The context (o set first), and the batch of rows (whole lines).
    load_context& open(const std::string& rows) {
        plan = plan_load(o, table_facts{}, input_facts{});
        ctx.emplace(o, plan);
        ctx->route = &route;
        b.bytes = rows;
        b.starts.assign(1, 0);
        for (size_t at = 0; (at = rows.find('\n', at)) != std::string::npos;)
            b.starts.push_back(++at);
        return *ctx;
    }
    void route_all() {
        if (!ctx)
            open(b.bytes);
        if (!routes)
            routes.emplace(*ctx);
        ctx->routed_found = found; // as the engine reads it before the router starts
        routes->route(b);
        unplaced = b.unplaced;
    }
    std::string part(size_t d) const { return b.parts[d].bytes; }
};

} // namespace

TEST_CASE("the router sends each row to its bound's destination, in input order", "[stages][router]") {
    router_rig rig;
    rig.open("1\ta\n150\tb\n99\tc\n999\td\n");
    rig.route_all();
    REQUIRE(rig.b.parts.size() == 3);
    CHECK(rig.part(0).empty());
    CHECK(rig.part(1) == "1\ta\n99\tc\n");
    CHECK(rig.part(2) == "150\tb\n999\td\n");
    CHECK(rig.b.parts[1].source_rows == std::vector<uint32_t>{0, 2});
    CHECK(rig.b.parts[2].whole == &rig.b);
    CHECK(rig.b.parts[2].line_of(1) == 4); // its input line, through the whole batch
    CHECK(rig.b.parts[2].offset_of(0) == 4); // "1\ta\n" before it
    CHECK(rig.unplaced.empty());
}

TEST_CASE("a key pgcopy cannot read as the server would goes to the parent", "[stages][router]") {
    router_rig rig;
    rig.open("abc\ta\n 7\tb\n5\tc\n");
    rig.route_all();
    CHECK(rig.part(0) == "abc\ta\n 7\tb\n"); // the server routes them (or refuses them) itself
    CHECK(rig.part(1) == "5\tc\n");
}

TEST_CASE("a row no partition admits fails the load at its line, or is set aside with --reject-file",
          "[stages][router]") {
    router_rig rig;
    rig.open("1\ta\n5000\tb\n\\N\tc\n");
    try {
        rig.route_all();
        FAIL("no error");
    } catch (const error& e) {
        CHECK(std::string(e.what()) == "no partition of relation \"orders_all\" found for row at in.tsv:2");
        CHECK(e.detail() == "Partition key of the failing row contains (id) = (5000).");
        CHECK(e.status() == exit_status::server_error);
    }
    router_rig rejecting;
    rejecting.o.rejects.file = "r.rej";
    rejecting.open("1\ta\n5000\tb\n\\N\tc\n");
    rejecting.route_all();
    REQUIRE(rejecting.unplaced.size() == 2);
    CHECK(rejecting.unplaced[0].row == 1);
    CHECK(rejecting.unplaced[1].detail == "Partition key of the failing row contains (id) = (null).");
    CHECK(rejecting.part(1) == "1\ta\n");
}

TEST_CASE("CSV keys are read with their quotes undone", "[stages][router]") {
    router_rig rig;
    rig.o.format.format = copy_format::csv;
    rig.open("\"150\",\"a,b\"\n\"1\",x\n");
    rig.route_all();
    CHECK(rig.part(2) == "\"150\",\"a,b\"\n");
    CHECK(rig.part(1) == "\"1\",x\n");
}

TEST_CASE("parts an earlier run of the key committed are marked, and their rows not sent", "[stages][router]") {
    router_rig rig;
    rig.o.resume_key = "k";
    load_context& ctx = rig.open("1\ta\n150\tb\n");
    ctx.key = "k";
    const std::string hash = fingerprint_of(rig.b.bytes.data(), rig.b.bytes.size());
    rig.found.resize(3);
    rig.found[2][{0, 0}] = {rig.b.bytes.size(), hash};
    rig.route_all();
    CHECK(rig.b.content_hash == hash);
    CHECK(rig.b.parts[2].committed_before);
    CHECK(rig.b.parts[2].rows() == 0);
    CHECK_FALSE(rig.b.parts[1].committed_before);
    CHECK(rig.part(1) == "1\ta\n");
    // Other bytes where the record says the batch was: the input changed.
    rig.found[2][{0, 0}] = {rig.b.bytes.size(), "another"};
    CHECK_THROWS_WITH(rig.route_all(), Catch::Contains("is not what the first run read") &&
                                           Catch::Contains("differ on orders_p2"));
}

TEST_CASE("reserved ids go in front of each row, and route it when they are the key", "[stages][router]") {
    router_rig rig;
    rig.route.columns = {"id", "v"}; // the input carries v only
    rig.route.id_column = "id";
    load_context& ctx = rig.open("a\nb\nc\n");
    ctx.sequence = sequence_column{"id", "\"orders_all_id_seq\"", column_type{}};
    ctx.sequence->type.base = pg_type::int8;
    rig.b.first_id = 98;
    rig.route_all();
    CHECK(rig.part(1) == "98\ta\n99\tb\n");
    CHECK(rig.part(2) == "100\tc\n");
    CHECK(rig.b.parts[2].raw_row(0) == "c\n"); // a reject keeps the row as read
    CHECK(rig.b.parts[2].id_of(0) == 100);
    // The loader's next batch, through the same router: its own ids only.
    rig.b.first_id = 101;
    rig.b.bytes = "d\ne\n";
    rig.b.starts = {0, 2, 4};
    rig.route_all();
    CHECK(rig.part(1).empty());
    CHECK(rig.part(2) == "101\td\n102\te\n");
}

TEST_CASE("an end-of-data marker's batch routes no row", "[stages][router]") {
    router_rig rig;
    rig.open("\\.\n");
    rig.b.end_marker = true;
    rig.route_all();
    for (const batch& part : rig.b.parts)
        CHECK(part.rows() == 0);
}
