// Routing a partitioned table's rows to its postgres_fdw shards: what the catalog says, and whether pgcopy can.
#pragma once
#include "copy_options.hpp"
#include "route_keys.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace pgpipe {

/// Where one partition's rows go: a foreign partition's table on its
/// server, or (index 0) the parent table on the connected server, which
/// routes rows of local partitions, and any row pgcopy cannot place, itself.
struct route_destination {
    std::string name;                      ///< the partition (or the parent), for messages
    std::string server;                    ///< the foreign server's name (empty: the parent)
    connection_options login;              ///< the server's libpq options, the mapping's user; no password
    std::string remote_table;              ///< schema.table on the server, unquoted parts joined for messages
    std::vector<std::string> remote_table_parts; ///< schema and table, unquoted
    std::vector<std::string> columns;      ///< the loaded columns' names on the server, unquoted
    std::vector<std::string> truncate;     ///< the parent: its local partitions (qualified, quoted)
};

/// A partitioned table pgcopy routes: its one-column key, each partition's
/// bound and destination.
struct routing {
    std::string table_sql;                 ///< the parent, quoted
    std::string key_column;                ///< unquoted
    key_kind kind = key_kind::int4;
    size_t key_field = 0;                  ///< the key's place among the loaded columns
    std::vector<std::string> columns;      ///< the loaded columns, unquoted
    std::vector<route_destination> destinations; ///< [0] is the parent
    std::vector<partition_bound> bounds;   ///< one per partition but DEFAULT
    std::vector<size_t> bound_destination; ///< bounds[k]'s destination
    std::optional<size_t> default_destination; ///< the DEFAULT partition's, if any
    bool hashed = false;                   ///< hash partitioning: bounds need the key's hash
    size_t key_max_chars = 0;              ///< varchar(n): n (a longer key is cut or refused by the server)
    bool key_utf8 = true;                  ///< the server's encoding is UTF8 (for counting a key's characters)
    std::string id_column;                 ///< ids reserved: the sequence's column, first of columns (empty: none)
    /// The destination of a key, or nullopt when no partition admits it.
    std::optional<size_t> destination_of(const key_value& key) const;
};

/// What pgcopy found out about routing TABLE.
struct routing_decision {
    bool applies = false;            ///< the table is partitioned with a foreign partition
    std::optional<routing> plan;     ///< set when pgcopy routes it
    std::string refusal;             ///< why not, when it applies but no plan
};

/// Reads the partitioning of options.table over conn (the coordinator):
/// the key, the bounds, and for each foreign partition its server, table,
/// columns and the user mapping's user (never its password). The options'
/// own refusals (what a routed load does not do) come first. header: the
/// first input's header names (--header without -c), else empty; asked
/// for only when the table is one to route.
routing_decision plan_routing(connection& conn, const copy_load_options& options,
                              const std::function<std::vector<std::string>()>& header);

/// What the server does with the rows bound for TABLE's foreign partitions
/// in a COPY into TABLE (a load through the parent), by its version and the
/// partitions' batch_size: e.g. "PostgreSQL 18 sends ... of up to 300 rows".
std::string parent_path_note(connection& conn, const std::string& table);

/// Why --freeze cannot load TABLE (a foreign table, or partitioned with a
/// foreign partition: no major freezes rows copied there), or empty.
std::string freeze_refusal(connection& conn, const std::string& table);
/// What the server at conn does with COPY FREEZE into a foreign table.
std::string freeze_refusal_detail(const connection& conn);

/// Checks that pgcopy's partition hash agrees with the server's
/// satisfies_hash_partition on a few keys (a server of another byte order
/// would not); returns why not, or empty.
std::string check_hash_agreement(connection& conn, const routing& plan);

} // namespace pgpipe
