#include "pgpipe/copy_load.hpp"

#include "pgpipe/copy_in.hpp"
#include "pgpipe/identifier.hpp"
#include "pgpipe/input.hpp"
#include "pgpipe/interrupt.hpp"
#include "pgpipe/log.hpp"
#include "pgpipe/progress.hpp"

#include <chrono>
#include <unistd.h>

namespace pgpipe {
namespace {

// Large enough that per-call overhead vanishes, small enough that memory
// stays flat: the one buffer of the hot loop, reused for every chunk.
constexpr size_t chunk_size = 1 << 20;

enum class stage { connecting, loading, committing, done };

std::string commit_state(stage at, bool connection_lost) {
    switch (at) {
    case stage::connecting:
        return {};
    case stage::loading:
        return connection_lost
                   ? "nothing was committed: the connection was lost before COMMIT, so the server rolls "
                     "the transaction back"
                   : "nothing was committed: the load's transaction was rolled back";
    case stage::committing:
        return connection_lost ? "the connection was lost during COMMIT: whether the load was committed "
                                 "is unknown; check the table"
                               : "nothing was committed: the server refused the COMMIT";
    case stage::done:
        return {};
    }
    return {};
}

std::string append_line(const std::string& text, const std::string& line) {
    if (line.empty())
        return text;
    return text.empty() ? line : text + "\n" + line;
}

// Rebuilds a failure so that its message leads with FILE:LINE (when the
// server named a line) and its detail says what was committed.
error annotate(const error& e, const std::string& input_name, stage at, bool connection_lost) {
    std::string message = e.what();
    if (auto line = copy_context_line(e.context()); line && !input_name.empty())
        message = input_name + ":" + std::to_string(*line) + ": " + message;
    error out(e.status(), message, append_line(e.detail(), commit_state(at, connection_lost)), e.hint());
    out.set_context(e.context());
    return out;
}

std::string build_copy_sql(const connection& conn, const copy_load_options& o) {
    std::string sql = "COPY " + quote_qualified_name(conn, parse_qualified_name(o.table));
    if (o.columns) {
        sql += " (";
        bool first = true;
        for (const auto& column : parse_name_list(*o.columns)) {
            if (!first)
                sql += ", ";
            first = false;
            sql += conn.quote_identifier(column);
        }
        sql += ")";
    }
    return sql + " FROM STDIN " + copy_options_sql(conn, o.format, o.freeze);
}

std::optional<uint64_t> total_input_size(const std::vector<std::string>& inputs) {
    uint64_t total = 0;
    for (const auto& path : inputs) {
        auto size = regular_file_size(path);
        if (!size)
            return std::nullopt;
        total += *size;
    }
    return total;
}

} // namespace

load_summary run_copy(const copy_load_options& o) {
    load_summary summary;
    summary.program = std::string(program_name());
    summary.target = o.table;
    auto started = std::chrono::steady_clock::now();
    auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    // A stats file that cannot be written must neither hide the load's real
    // outcome nor turn a committed load into a failure that a cron job retries.
    auto write_stats = [&] {
        if (o.stats_file.empty())
            return;
        try {
            write_text_file(o.stats_file, summary_json(summary));
        } catch (const error& e) {
            log_warning(std::string(e.what()) + (summary.committed ? " (the load itself was committed)" : ""));
        }
    };

    stage at = stage::connecting;
    std::string current_input;
    std::vector<std::string> inputs = o.inputs.empty() ? std::vector<std::string>{"-"} : o.inputs;
    try {
        validate_copy_format(o.format);
        if (o.freeze && !o.truncate)
            throw local_error("--freeze needs --truncate",
                              "COPY FREEZE is valid only when the table was truncated or created in the "
                              "same transaction",
                              "add --truncate to empty the table first, in the load's transaction");
        // Parse names before connecting so that a typo costs no connection.
        parse_qualified_name(o.table);
        if (o.columns)
            parse_name_list(*o.columns);
        check_inputs_readable(inputs);
        if (!quiet() && inputs.size() == 1 && inputs[0] == "-" && isatty(STDIN_FILENO))
            log_info("reading rows from the terminal; end them with Ctrl-D");
        throw_if_interrupted();
        connection conn = connection::open(o.connection);
        cancel_target cancel(conn.get());
        std::string copy_sql = build_copy_sql(conn, o);

        progress_meter meter(o.show_progress);
        progress_state state;
        state.rows_known = o.format.format != copy_format::binary;
        state.input_total = o.show_progress ? total_input_size(inputs) : std::nullopt;
        std::vector<char> buffer(chunk_size);
        const bool count_rows = state.rows_known && o.show_progress;

        conn.exec("BEGIN");
        at = stage::loading;
        try {
            if (o.truncate)
                conn.exec("TRUNCATE " + quote_qualified_name(conn, parse_qualified_name(o.table)));
            uint64_t input_bytes_before = 0;
            for (const auto& path : inputs) {
                input_stream input(path);
                current_input = input.name();
                copy_in_session session(conn, copy_sql);
                while (size_t n = input.read(buffer.data(), buffer.size())) {
                    throw_if_interrupted();
                    session.put(buffer.data(), n);
                    summary.bytes += n;
                    if (count_rows)
                        state.rows += count_newlines(buffer.data(), n);
                    state.bytes = summary.bytes;
                    state.input_bytes = input_bytes_before + input.raw_bytes_read();
                    meter.update(state);
                }
                throw_if_interrupted();
                summary.rows += session.finish();
                input_bytes_before += input.raw_bytes_read();
                summary.input_bytes = input_bytes_before;
            }
            current_input.clear();
            throw_if_interrupted();
            at = stage::committing;
            conn.exec("COMMIT");
            at = stage::done;
            summary.committed = true;
        } catch (...) {
            meter.finish();
            // Leave the server idle and rolled back if it is still there; the
            // COPY session's destructor has already ended any open COPY.
            if (conn.ok() && at == stage::loading)
                PQclear(PQexec(conn.get(), "ROLLBACK"));
            throw;
        }
        meter.finish();
        summary.seconds = elapsed();
    } catch (const server_error& e) {
        summary.seconds = elapsed();
        summary.rows = 0; // nothing committed, whatever was sent
        error annotated = annotate(e, current_input, at, e.connection_lost());
        summary.error = annotated.what();
        write_stats();
        throw annotated;
    } catch (const interrupted& e) {
        summary.seconds = elapsed();
        summary.rows = 0;
        summary.error = e.what();
        write_stats();
        throw interrupted(e.signal_number(), commit_state(at, false));
    } catch (const error& e) {
        summary.seconds = elapsed();
        summary.rows = 0;
        error annotated = annotate(e, {}, at, false);
        summary.error = annotated.what();
        write_stats();
        throw annotated;
    }
    log_info(summary_line(summary));
    write_stats();
    return summary;
}

} // namespace pgpipe
