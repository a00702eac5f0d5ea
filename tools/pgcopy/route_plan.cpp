// Routing a partitioned table's rows to its postgres_fdw shards: what the catalog says, and whether pgcopy can.
#include "route_plan.hpp"

#include "id_blocks.hpp"
#include "pg/identifier.hpp"
#include "pg/server_rules.hpp"
#include "io/sql_names.hpp"

#include <algorithm>
#include <array>
#include <set>

namespace pgpipe {

std::optional<size_t> routing::destination_of(const key_value& key) const {
    const uint64_t hash = hashed ? partition_hash(kind, key) : 0;
    for (size_t k = 0; k < bounds.size(); ++k)
        if (bounds[k].admits(kind, key, hash))
            return bound_destination[k];
    return default_destination;
}

namespace {

// What a routed load does not do, with the reason given when it is refused.
struct option_refusal {
    bool (*applies)(const copy_load_options&);
    const char* reason;
};

constexpr std::array<option_refusal, 7> option_refusals{{
    {[](const copy_load_options& o) { return o.format.format == copy_format::binary; },
     "pgcopy routes text and CSV rows, not binary ones"},
    {[](const copy_load_options& o) { return o.script; }, "script streams name their own tables"},
    {[](const copy_load_options& o) {
         return o.upsert.on_conflict != conflict_action::none || o.upsert.conflict_columns.has_value();
     },
     "--on-conflict stages rows on one server"},
    {[](const copy_load_options& o) { return o.single_transaction; }, "--single-transaction holds one server's savepoints"},
    {[](const copy_load_options& o) { return o.levers.send_binary; },
     "--send-binary encodes for the coordinator's column types, which a shard's table need not share"},
    {[](const copy_load_options& o) { return o.levers.defer_indexes || o.levers.defer_constraints; },
     "--defer-indexes and --defer-constraints see only the coordinator's table"},
    {[](const copy_load_options& o) { return o.restore; }, "--restore puts back one table's indexes"},
}};

// Whether libpq takes key as a connection option. A postgres_fdw server's
// options mix libpq's with postgres_fdw's own (fetch_size, batch_size,
// use_scram_passthrough on 18...), which libpq would refuse: the ones libpq
// lists are kept, so that no option a postgres_fdw adds breaks routing.
bool libpq_knows(const std::string& key) {
    static const std::set<std::string> keywords = [] {
        std::set<std::string> out;
        PQconninfoOption* defaults = PQconndefaults();
        // Without the list every option would be left out, and the shard
        // logins would go to libpq's default host: refuse instead.
        if (!defaults)
            throw local_error("libpq could not list its connection options (out of memory)");
        for (const PQconninfoOption* o = defaults; o->keyword; ++o)
            out.emplace(o->keyword);
        PQconninfoFree(defaults);
        return out;
    }();
    return keywords.count(key) > 0;
}

// A conninfo value in single quotes (backslash and quote escaped).
std::string conninfo_value(const std::string& v) {
    std::string out = "'";
    for (char c : v) {
        if (c == '\'' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "'";
}

// The libpq conninfo of a server's options ("k=v" entries) and a user.
// What the server leaves out is said explicitly, so that pgcopy's own PG*
// variables never fill it in: no host is the coordinator's (as its own
// libpq would connect locally), no port 5432, no user the one pgcopy
// connected as, no dbname the user's name (libpq's defaults).
std::string server_conninfo(const std::vector<std::string>& options, std::string user, const connection& c) {
    std::string conninfo;
    bool host = false, port = false, dbname = false;
    for (const auto& option : options) {
        const size_t eq = option.find('=');
        const std::string key = option.substr(0, eq);
        if (eq == std::string::npos || !libpq_knows(key))
            continue;
        host = host || key == "host" || key == "hostaddr";
        port = port || key == "port";
        dbname = dbname || key == "dbname";
        conninfo += key + "=" + conninfo_value(option.substr(eq + 1)) + " ";
    }
    if (user.empty())
        user = PQuser(c.get());
    if (!host)
        conninfo += "host=" + conninfo_value(PQhost(c.get())) + " ";
    if (!port)
        conninfo += "port=5432 ";
    if (!dbname)
        conninfo += "dbname=" + conninfo_value(user) + " ";
    return conninfo + "user=" + conninfo_value(user);
}

// A text[] of the server's ("{a=b,c=d}" with quotes) as its elements.
std::vector<std::string> text_array(const char* text) {
    std::vector<std::string> out;
    std::string v;
    bool quoted = false, any = false;
    for (const char* p = text + 1; *p && !(*p == '}' && !quoted); ++p) {
        if (*p == '"') {
            quoted = !quoted;
        } else if (*p == '\\' && quoted && p[1]) {
            v += *++p;
        } else if (*p == ',' && !quoted) {
            out.push_back(std::move(v));
            v.clear();
        } else {
            v += *p;
        }
        any = true;
    }
    if (any)
        out.push_back(std::move(v));
    return out;
}

std::string option_value(const std::vector<std::string>& options, const std::string& key, const std::string& fallback) {
    for (const auto& o : options)
        if (o.compare(0, key.size() + 1, key + "=") == 0)
            return o.substr(key.size() + 1);
    return fallback;
}

struct key_facts {
    std::string column, type, collation, strategy, provider, server_encoding, client_encoding;
    bool deterministic = true, default_opclass = true, expression = false;
    int columns = 0, typmod = -1;
};

key_facts read_key(connection& c, const std::string& oid) {
    result_ptr r = c.query(
        "SELECT p.partstrat, p.partnatts, p.partattrs[0] = 0, a.attname, t.typname,"
        " COALESCE(NULLIF(co.collname, 'default'), (SELECT datcollate FROM pg_database WHERE datname = current_database())),"
        " COALESCE(co.collisdeterministic, true), opc.opcdefault, a.atttypmod,"
        // the default collation's provider (datlocprovider, PostgreSQL 15+; libc before)
        " CASE WHEN co.oid IS NULL OR co.collname = 'default' THEN COALESCE((SELECT to_jsonb(d)->>'datlocprovider'"
        "   FROM pg_database d WHERE datname = current_database()), 'c') ELSE co.collprovider::text END,"
        " current_setting('server_encoding'), current_setting('client_encoding')"
        " FROM pg_partitioned_table p LEFT JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]"
        " LEFT JOIN pg_type t ON t.oid = a.atttypid LEFT JOIN pg_collation co ON co.oid = p.partcollation[0]"
        " JOIN pg_opclass opc ON opc.oid = p.partclass[0] WHERE p.partrelid = " + oid);
    key_facts k;
    auto v = [&](int col) { return std::string(PQgetvalue(r.get(), 0, col)); };
    k.strategy = v(0);
    k.columns = std::stoi(v(1));
    k.expression = v(2) == "t";
    k.column = v(3);
    k.type = v(4);
    k.collation = v(5);
    k.deterministic = v(6) == "t";
    k.default_opclass = v(7) == "t";
    k.typmod = std::stoi(v(8));
    k.provider = v(9);
    k.server_encoding = v(10);
    k.client_encoding = v(11);
    return k;
}

// Why a key cannot be routed, or empty.
std::string key_refusal(const key_facts& k, const copy_load_options& o) {
    if (k.columns != 1)
        return "the partition key has " + std::to_string(k.columns) + " columns; pgcopy routes one-column keys";
    if (k.expression)
        return "the partition key is an expression";
    if (!key_kind_of(k.type))
        return "pgcopy does not route keys of type " + k.type +
               " (it routes int2, int4, int8, text, varchar, uuid, date and timestamp)";
    if (!k.default_opclass)
        return "the partition key uses an operator class other than its type's default";
    if (*key_kind_of(k.type) != key_kind::text)
        return {};
    if (!k.deterministic)
        return "the text key's collation " + k.collation + " is nondeterministic";
    if (k.strategy == "r" && (k.provider != "c" || (k.collation != "C" && k.collation != "POSIX")))
        return "range bounds on text compare by the collation " + k.collation + "; pgcopy compares bytes (collation C)";
    const std::string& server = k.server_encoding;
    const std::string& client = k.client_encoding;
    if (client != server || (o.format.encoding && *o.format.encoding != server))
        return "text keys are hashed and compared in the server's encoding (" + server + "), and the input is not in it";
    return {};
}

std::vector<std::string> table_columns(connection& c, const std::string& oid) {
    result_ptr r = c.query("SELECT attname FROM pg_attribute WHERE attrelid = " + oid +
                           " AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum");
    std::vector<std::string> names;
    for (int k = 0; k < PQntuples(r.get()); ++k)
        names.emplace_back(PQgetvalue(r.get(), k, 0));
    return names;
}

// The server's name of each loaded column of a foreign partition (its column_name option).
std::string remote_columns(connection& c, const std::string& oid, const std::vector<std::string>& loaded,
                           std::vector<std::string>& out) {
    result_ptr r = c.query("SELECT attname, COALESCE((SELECT substr(o, 13) FROM unnest(attfdwoptions) o"
                           " WHERE o LIKE 'column_name=%'), attname) FROM pg_attribute WHERE attrelid = " + oid +
                           " AND attnum > 0 AND NOT attisdropped");
    for (const auto& name : loaded) {
        int k = 0;
        while (k < PQntuples(r.get()) && name != PQgetvalue(r.get(), k, 0))
            ++k;
        if (k == PQntuples(r.get()))
            return "column " + name + " is missing";
        out.emplace_back(PQgetvalue(r.get(), k, 1));
    }
    return {};
}

constexpr const char* partitions_sql =
    "SELECT c.oid, c.relkind, pg_get_expr(c.relpartbound, c.oid), quote_ident(n.nspname) || '.' || quote_ident(c.relname),"
    " s.srvname, s.srvoptions, ft.ftoptions, n.nspname, c.relname,"
    " EXISTS (SELECT FROM pg_user_mappings m WHERE m.srvid = s.oid AND m.usename IN (current_user, 'public')),"
    " (SELECT substr(o, 6) FROM pg_user_mappings m, unnest(m.umoptions) o WHERE m.srvid = s.oid"
    "   AND m.usename IN (current_user, 'public') AND o LIKE 'user=%' ORDER BY m.usename = 'public' LIMIT 1)"
    " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
    " LEFT JOIN pg_foreign_table ft ON ft.ftrelid = c.oid LEFT JOIN pg_foreign_server s ON s.oid = ft.ftserver"
    " WHERE NOT COALESCE((to_jsonb(i)->>'inhdetachpending')::bool, false) AND i.inhparent = ";

// One foreign partition's destination, or why it cannot be one.
std::string foreign_destination(connection& c, const PGresult* r, int row, routing& plan) {
    auto v = [&](int col) { return std::string(PQgetvalue(r, row, col)); };
    route_destination d;
    d.name = v(3);
    d.server = v(4);
    if (v(9) != "t")
        return "no user mapping for server " + d.server + " is visible to this role";
    const auto table_options = text_array(PQgetvalue(r, row, 6));
    d.remote_table_parts = {option_value(table_options, "schema_name", v(7)), option_value(table_options, "table_name", v(8))};
    d.remote_table = d.remote_table_parts[0] + "." + d.remote_table_parts[1];
    if (std::string why = remote_columns(c, v(0), plan.columns, d.columns); !why.empty())
        return "foreign partition " + d.name + ": " + why;
    d.login.dbname = server_conninfo(text_array(PQgetvalue(r, row, 5)), v(10), c);
    d.login.dbname_source = "the options of foreign server " + d.server;
    d.login.prompt = password_prompt::never;
    plan.destinations.push_back(std::move(d));
    return {};
}

// Every partition's bound and destination; why not, or empty.
std::string read_partitions(connection& c, const std::string& oid, routing& plan, bool& any_foreign) {
    result_ptr r = c.query(partitions_sql + oid + " ORDER BY c.oid");
    for (int row = 0; row < PQntuples(r.get()); ++row) {
        std::string why;
        auto bound = parse_partition_bound(PQgetvalue(r.get(), row, 2), plan.kind, why);
        if (!bound)
            return why;
        size_t destination = 0;
        if (std::string(PQgetvalue(r.get(), row, 1)) == "f") {
            any_foreign = true;
            if (std::string failed = foreign_destination(c, r.get(), row, plan); !failed.empty())
                return failed;
            destination = plan.destinations.size() - 1;
        } else {
            plan.destinations[0].truncate.emplace_back(PQgetvalue(r.get(), row, 3));
        }
        if (bound->kind == partition_bound::strategy::fallback) {
            plan.default_destination = destination;
        } else {
            plan.bounds.push_back(std::move(*bound));
            plan.bound_destination.push_back(destination);
        }
    }
    return {};
}

// --truncate locks each remote table until the end: two partitions on one
// remote table would wait for each other. Why not, or empty.
std::string shared_remote_table(const routing& plan) {
    for (size_t a = 1; a < plan.destinations.size(); ++a)
        for (size_t b = a + 1; b < plan.destinations.size(); ++b)
            if (plan.destinations[a].login.dbname == plan.destinations[b].login.dbname &&
                plan.destinations[a].remote_table == plan.destinations[b].remote_table)
                return "partitions " + plan.destinations[a].name + " and " + plan.destinations[b].name + " share " +
                       plan.destinations[a].remote_table + " on one server, which --truncate would lock against itself";
    return {};
}

// The loaded columns and the key's place among them; why not, or empty.
// --reserve-ids (or --fast, where the sequence allows blocks): the column
// a sequence fills and the input lacks goes first, as the engine sends it,
// reserved on the coordinator before routing (it may be the key).
void prepend_id_column(connection& c, const copy_load_options& o, routing& plan) {
    if (!o.levers.reserve_ids && !(o.levers.fast && !o.single_transaction))
        return;
    std::string why_not;
    const std::optional<sequence_column> id = find_sequence_column(c, plan.table_sql, plan.columns, why_not);
    if (!id || (!o.levers.reserve_ids && !id_block_blocker(c, *id).empty()))
        return; // the engine says why (or refuses --reserve-ids)
    plan.id_column = id->name;
    plan.columns.insert(plan.columns.begin(), id->name);
}

std::string place_key(connection& c, const std::string& oid, const copy_load_options& o,
                      const std::vector<std::string>& header, routing& plan) {
    plan.columns = o.columns ? parse_name_list(*o.columns) : !header.empty() ? header : table_columns(c, oid);
    prepend_id_column(c, o, plan);
    result_ptr r = c.query("SELECT attname FROM pg_attribute WHERE attrelid = " + oid + " AND attnum > 0 AND NOT"
                           " attisdropped AND (atthasdef OR attidentity <> '' OR attgenerated <> '')");
    for (int k = 0; k < PQntuples(r.get()); ++k)
        if (std::find(plan.columns.begin(), plan.columns.end(), PQgetvalue(r.get(), k, 0)) == plan.columns.end())
            return "column " + std::string(PQgetvalue(r.get(), k, 0)) + " is not loaded and " + o.table +
                   " computes it (a default, an identity, a generation expression), which the shards' tables would not";
    for (size_t k = 0; k < plan.columns.size(); ++k)
        if (plan.columns[k] == plan.key_column) {
            plan.key_field = k;
            return {};
        }
    return "the partition key column " + plan.key_column + " is not among the loaded columns";
}

} // namespace

routing_decision plan_routing(connection& c, const copy_load_options& o,
                              const std::function<std::vector<std::string>()>& header) {
    routing_decision d;
    const std::string table_sql = quote_qualified_name(c, parse_qualified_name(o.table));
    result_ptr t = c.query("SELECT c.oid, EXISTS (SELECT FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid"
                           " WHERE i.inhparent = c.oid AND p.relkind = 'f') FROM pg_class c WHERE c.relkind = 'p'"
                           " AND c.oid = to_regclass(" + c.quote_literal(table_sql) + ")");
    if (PQntuples(t.get()) == 0 || std::string(PQgetvalue(t.get(), 0, 1)) != "t")
        return d;
    d.applies = true;
    for (const auto& refusal : option_refusals)
        if (refusal.applies(o)) {
            d.refusal = refusal.reason;
            return d;
        }
    const std::string oid = PQgetvalue(t.get(), 0, 0);
    const key_facts key = read_key(c, oid);
    if (d.refusal = key_refusal(key, o); !d.refusal.empty())
        return d;
    routing plan;
    plan.table_sql = table_sql;
    plan.key_column = key.column;
    plan.kind = *key_kind_of(key.type);
    plan.hashed = key.strategy == "h";
    if (key.type == "varchar" && key.typmod > 4) {
        plan.key_max_chars = static_cast<size_t>(key.typmod - 4);
        plan.key_utf8 = key.server_encoding == "UTF8";
    }
    plan.destinations.push_back(route_destination{o.table, {}, o.connection, o.table, {}, {}, {}});
    if (d.refusal = place_key(c, oid, o, header(), plan); !d.refusal.empty())
        return d;
    plan.destinations[0].columns = plan.columns;
    c.exec("SET DateStyle = ISO"); // bounds as pgcopy reads dates
    bool any_foreign = false;
    d.refusal = read_partitions(c, oid, plan, any_foreign);
    if (d.refusal.empty() && o.truncate)
        d.refusal = shared_remote_table(plan);
    c.exec("RESET DateStyle");
    if (!d.refusal.empty())
        return d;
    if (plan.hashed && (d.refusal = check_hash_agreement(c, plan)).size())
        return d;
    d.plan = std::move(plan);
    return d;
}

std::string parent_path_note(connection& c, const std::string& table) {
    const server_rules rules = server_rules::of(c);
    const std::string version = "PostgreSQL " + std::to_string(rules.major());
    // Each foreign leaf's batch_size: the table's, else its server's, else 1.
    result_ptr r = c.query(
        "SELECT COALESCE((SELECT substr(o, 12) FROM unnest(ft.ftoptions) o WHERE o LIKE 'batch_size=%'),"
        " (SELECT substr(o, 12) FROM unnest(s.srvoptions) o WHERE o LIKE 'batch_size=%'), '1')::int"
        " FROM pg_partition_tree(to_regclass(" + c.quote_literal(quote_qualified_name(c, parse_qualified_name(table))) +
        ")) t JOIN pg_foreign_table ft ON ft.ftrelid = t.relid JOIN pg_foreign_server s ON s.oid = ft.ftserver");
    int most_asked = 1, fewest = 1000, most = 1;
    for (int k = 0; k < PQntuples(r.get()); ++k) {
        const int asked = std::stoi(PQgetvalue(r.get(), k, 0));
        most_asked = std::max(most_asked, asked);
        fewest = std::min(fewest, rules.fdw_copy_rows_per_insert(asked));
        most = std::max(most, rules.fdw_copy_rows_per_insert(asked));
    }
    const std::string per_row = version + " sends one remote INSERT per row bound for a foreign partition";
    if (!rules.fdw_copy_batches())
        return per_row + (most_asked > 1 ? ", whatever its batch_size (which COPY uses from PostgreSQL 16 on)" : "");
    if (most == 1)
        return per_row + ", as its batch_size is 1 (a batch_size on the foreign servers or tables sends batches)";
    const std::string sizes = fewest == most ? std::to_string(most) : std::to_string(fewest) + " to " + std::to_string(most);
    return version + " sends the rows bound for a foreign partition in remote INSERTs of up to " + sizes + " rows (batch_size" +
           (most_asked > most ? " " + std::to_string(most_asked) + ", and COPY buffers at most 1000 rows" : "") + ")";
}

std::string freeze_refusal(connection& c, const std::string& table) {
    // A foreign table that is no partition has no partition tree: its own kind says it.
    result_ptr r = c.query("SELECT c.relkind, c.relkind = 'f' OR EXISTS (SELECT FROM pg_partition_tree(c.oid) t"
                           " JOIN pg_class l ON l.oid = t.relid WHERE l.relkind = 'f') FROM pg_class c"
                           " WHERE c.oid = to_regclass(" +
                           c.quote_literal(quote_qualified_name(c, parse_qualified_name(table))) + ")");
    if (PQntuples(r.get()) == 0 || std::string(PQgetvalue(r.get(), 0, 1)) != "t")
        return {};
    const bool partitioned = std::string(PQgetvalue(r.get(), 0, 0)) == "p";
    return std::string("--freeze: no PostgreSQL freezes rows copied into ") +
           (partitioned ? "a partitioned table, and " + table + " is one, with foreign partitions"
                        : "a foreign table, and " + table + " is one");
}

std::string freeze_refusal_detail(const connection& c) {
    const server_rules rules = server_rules::of(c);
    const std::string version = "PostgreSQL " + std::to_string(rules.major());
    if (rules.copy_freeze_refused_on_foreign_tables())
        return version + " refuses COPY FREEZE into a foreign table, as into a partitioned table";
    return version + " takes COPY FREEZE into a foreign table only in the transaction that created it, and ignores "
                     "FREEZE there; it refuses it into a partitioned table";
}

std::string check_hash_agreement(connection& c, const routing& plan) {
    static constexpr std::array<const char*, 8> samples_by_kind[] = {
        {"0", "1", "-1", "42", "1000", "-32768", "32767", "7"},
        {"0", "1", "-1", "42", "100000", "-2147483648", "2147483647", "7"},
        {"0", "1", "-1", "42", "10000000000", "-9223372036854775808", "9223372036854775807", "7"},
        {"2000-01-01", "1999-12-31", "2024-02-29", "1970-01-01", "2100-06-15", "0001-01-01", "9999-12-31", "2026-11-24"},
        {"2000-01-01 00:00:00", "1999-12-31 23:59:59.999999", "2024-02-29 12:00:00", "1970-01-01 00:00:01",
         "2100-06-15 06:30:00.5", "2026-11-24 17:30:40", "2001-01-01", "1900-03-01 00:00:00"},
        {"", "a", "abc", "hello world", "orders", "0123456789abcdef", "ünïcödé", "a somewhat longer key text"},
        {"00000000-0000-0000-0000-000000000000", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
         "ffffffff-ffff-ffff-ffff-ffffffffffff", "123e4567-e89b-12d3-a456-426614174000",
         "0123456789abcdef0123456789abcdef", "f47ac10b-58cc-4372-a567-0e02b2c3d479",
         "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "00000000-0000-0000-0000-000000000001"}};
    const auto& samples = samples_by_kind[static_cast<int>(plan.kind)];
    const std::string type = PQgetvalue(c.query("SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = " +
                                                c.quote_literal(plan.table_sql) + "::regclass AND attname = " +
                                                c.quote_literal(plan.key_column)).get(), 0, 0);
    std::string sql = "SELECT bool_and(satisfies_hash_partition(" + c.quote_literal(plan.table_sql) +
                      "::regclass, m, r, v::" + type + ")) FROM (VALUES ";
    key_value key;
    for (size_t k = 0; k < samples.size(); ++k) {
        parse_key(plan.kind, samples[k], key);
        const uint64_t h = partition_hash(plan.kind, key);
        const partition_bound* bound = nullptr;
        for (const auto& b : plan.bounds)
            if (b.admits(plan.kind, key, h))
                bound = &b;
        if (!bound)
            return "the hash partitions do not cover every remainder";
        sql += (k ? ", (" : "(") + std::to_string(bound->modulus) + ", " + std::to_string(bound->remainder) + ", " +
               c.quote_literal(samples[k]) + ")";
    }
    if (!c.query_flag(sql + ") AS s(m, r, v)"))
        return "pgcopy's partition hash disagrees with the server's (a server of another byte order?)";
    return {};
}

} // namespace pgpipe
