// pgcopy --reserve-ids: a sequence-filled column the input lacks, filled by
// pgcopy from blocks of the sequence's values reserved in one step.
#pragma once

#include "pg/pg_types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pgpipe {

class connection;

/// A column the server would fill from a sequence (serial, bigserial, identity).
struct sequence_column {
    std::string name;         ///< the column, unquoted
    std::string sequence_sql; ///< the sequence, as SQL names it (quoted where needed)
    column_type type;         ///< int2, int4 or int8
};

/// The column of table_sql (quoted) that defaults to a sequence with
/// increment 1 and is not among loaded (unquoted names), if there is one.
/// why_not says why there is none, for the --fast plan.
std::optional<sequence_column> find_sequence_column(connection& conn, const std::string& table_sql,
                                                    const std::vector<std::string>& loaded, std::string& why_not);

/// Why reserving blocks of the column's sequence would fail or give other
/// ids than nextval: ALTER SEQUENCE needs its owner, setval needs UPDATE, a
/// cycling sequence wraps where a block cannot, a sequence that passes the
/// column type's range. Empty when none holds (--fast then takes the lever).
std::string id_block_blocker(connection& conn, const sequence_column& column);

/// Reserves n consecutive values of the column's sequence and returns the
/// first. In its own short transaction, which holds the sequence's lock
/// (taken by ALTER SEQUENCE) from its nextval to its setval: another
/// session's nextval waits those few milliseconds and never gets one of
/// them. Throws server_error (e.g. past the sequence's maximum).
int64_t reserve_ids(connection& conn, const sequence_column& column, uint64_t n);

} // namespace pgpipe
