// The version rules of the server at the other end of a connection.
#include "pg/server_rules.hpp"

#include "pg/connection.hpp"

#include <libpq-fe.h>

namespace pgpipe {

server_rules server_rules::of(const connection& conn) { return server_rules(PQserverVersion(conn.get())); }

} // namespace pgpipe
