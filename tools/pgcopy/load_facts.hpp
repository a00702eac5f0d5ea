// What the planner is told: the first input's first bytes and the table's
// catalog, each read once, before the plan is made (load_plan.hpp).
#pragma once

#include "copy_options.hpp"
#include "route_plan.hpp"
#include "io/input.hpp"
#include "pg/connection.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pgpipe {

/// What the first input's first bytes say (all false/empty when it was not looked at).
struct input_facts {
    bool peeked = false;                  ///< the first input was opened and looked at
    std::string first_name;               ///< its name, for messages
    bool binary_signature = false;        ///< it starts with COPY binary's signature (and no -F said otherwise)
    bool script_line = false;             ///< its first line is a script stream's COPY line
    std::vector<std::string> header;      ///< --header without -c: the first line's names
    std::optional<uint64_t> average_row_bytes; ///< of the rows in its first bytes
    std::optional<uint64_t> total_bytes;  ///< every input's size, when all are regular files (a stat: set looked at or not)
};

/// Whether planning needs a look at the first input: no TABLE (is it a
/// script stream?), --header without -c (its names), or --fast (its rows' width).
bool needs_input_facts(const copy_load_options& options);

/// What is known of the inputs without reading them: their total size.
input_facts stat_inputs(const copy_load_options& options);

/// Opens the first input and reads its first bytes (up to 1 MiB), giving
/// them back: opened holds it, for the engine to read on. The one look
/// before the load.
input_facts peek_first_input(const copy_load_options& options, std::unique_ptr<input_stream>& opened);

/// What the server and the catalog say of the load's table.
struct table_facts {
    bool server_local = true;             ///< the server runs on this machine (-h, PGHOST: a socket or loopback)
    unsigned cores = 1;                   ///< this machine's, 1 to 16
    routing_decision routing;             ///< partitioned over postgres_fdw shards, and whether pgcopy can route it
    std::string parent_path;              ///< what the server does with rows through the parent (routing applies)
    std::string freeze_refusal;           ///< --freeze: why it cannot load the table, or empty
    std::string freeze_detail;            ///< and what the server does with COPY FREEZE there
    // Read for --fast only (deferral when no --defer-*, lz4 when no --toast-compression):
    bool row_security = false;            ///< row-level security applies to this role
    bool left_off = false;                ///< an interrupted load left its indexes and constraints off
    bool has_keys = false;                ///< indexes, foreign keys or checks there are to defer
    uint64_t table_bytes = 0;             ///< pg_table_size
    std::string deferral_blocker;         ///< why dropping them would fail or change the table meanwhile
    bool toastable = false;               ///< a column TOAST compresses
    bool server_lz4 = false;              ///< the server was built with lz4
};

/// Reads what planning needs of options.table over conn (the coordinator):
/// routing unless --no-route, --freeze's refusal, and for --fast what the
/// deferral and lz4 choices need. header: the first input's names, if any.
table_facts read_table_facts(connection& conn, const copy_load_options& options, const input_facts& input);

} // namespace pgpipe
