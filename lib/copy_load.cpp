#include "pgpipe/copy_load.hpp"

#include "pgpipe/copy_in.hpp"
#include "pgpipe/identifier.hpp"
#include "pgpipe/input.hpp"
#include "pgpipe/interrupt.hpp"
#include "pgpipe/log.hpp"
#include "pgpipe/progress.hpp"
#include "pgpipe/row_splitter.hpp"
#include "pgpipe/schema.hpp"

#include <cctype>
#include <cstring>
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
error annotate(const error& e, const std::string& input_name, stage at, bool connection_lost,
               uint64_t line_offset = 0) {
    std::string message = e.what();
    if (auto line = copy_context_line(e.context()); line && !input_name.empty())
        message = input_name + ":" + std::to_string(*line + line_offset) + ": " + message;
    error out(e.status(), message, append_line(e.detail(), commit_state(at, connection_lost)), e.hint());
    out.set_context(e.context());
    return out;
}

std::string build_copy_sql(const connection& conn, const copy_load_options& o) {
    copy_format_options format = o.format;
    // A header whose names do not match the columns is refused by the
    // server itself from PostgreSQL 15 on.
    format.header_match = o.format.header && PQserverVersion(conn.get()) >= 150000;
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
    return sql + " FROM STDIN " + copy_options_sql(conn, format, o.freeze);
}

// "COPY name [(columns)] FROM stdin;" of a script stream, rebuilt with
// quoted identifiers: the input names tables, it never supplies SQL.
std::string script_copy_sql(const connection& conn, std::string_view line, const std::string& where) {
    auto fail = [&]() -> std::string {
        throw local_error(where + ": expected \"COPY table [(columns)] FROM stdin;\", found \"" +
                          std::string(line.substr(0, 80)) + "\"");
    };
    auto starts = [](std::string_view text, std::string_view word) {
        if (text.size() < word.size())
            return false;
        for (size_t k = 0; k < word.size(); ++k)
            if (std::toupper(static_cast<unsigned char>(text[k])) != word[k])
                return false;
        return true;
    };
    if (!starts(line, "COPY "))
        return fail();
    std::string_view rest = line.substr(5);
    // The name runs to " (" or " FROM" outside quotes.
    size_t k = 0;
    bool quoted = false;
    for (; k < rest.size(); ++k) {
        if (rest[k] == '"')
            quoted = !quoted;
        else if (!quoted && (rest[k] == '(' || rest[k] == ' '))
            break;
    }
    std::string sql = "COPY " + quote_qualified_name(conn, parse_qualified_name(rest.substr(0, k)));
    rest = rest.substr(k);
    while (!rest.empty() && rest[0] == ' ')
        rest.remove_prefix(1);
    if (!rest.empty() && rest[0] == '(') {
        size_t close = std::string_view::npos;
        quoted = false;
        for (size_t j = 1; j < rest.size(); ++j) {
            if (rest[j] == '"')
                quoted = !quoted;
            else if (!quoted && rest[j] == ')') {
                close = j;
                break;
            }
        }
        if (close == std::string_view::npos)
            return fail();
        sql += " (";
        bool first = true;
        for (const auto& column : parse_name_list(rest.substr(1, close - 1))) {
            sql += (first ? "" : ", ") + conn.quote_identifier(column);
            first = false;
        }
        sql += ")";
        rest = rest.substr(close + 1);
        while (!rest.empty() && rest[0] == ' ')
            rest.remove_prefix(1);
    }
    if (!starts(rest, "FROM STDIN") || rest.substr(10).find_first_not_of(" ;") != std::string_view::npos ||
        rest.substr(10).find(';') == std::string_view::npos)
        return fail();
    return sql + " FROM STDIN (FORMAT text)";
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

// Runs the COPY blocks of a script stream, in the caller's transaction.
// Returns the rows the server reported. first bytes are already in buffer.
uint64_t load_script(connection& conn, input_stream& input, std::vector<char>& buffer, size_t first,
                     load_summary& summary, progress_state& state, progress_meter& meter, bool count_rows,
                     uint64_t input_bytes_before, uint64_t& block_line) {
    uint64_t rows = 0;
    uint64_t line = 0;               // lines consumed so far
    std::string pending;             // bytes not yet handled (a partial header, or the terminator's lookahead)
    std::optional<copy_in_session> session;
    uint64_t header_line = 0;
    auto feed = [&](std::string_view data) {
        pending.append(data);
        size_t pos = 0;
        for (;;) {
            if (!session) {
                size_t nl = pending.find('\n', pos);
                if (nl == std::string::npos)
                    break;
                std::string_view header(pending.data() + pos, nl - pos);
                ++line;
                pos = nl + 1;
                if (header.find_first_not_of(" \t\r") == std::string_view::npos)
                    continue;
                header_line = line;
                std::string sql = script_copy_sql(conn, header, input.name() + ":" + std::to_string(line));
                session.emplace(conn, sql);
                block_line = line;
                continue;
            }
            // Data up to a line that is exactly "\." ends the block.
            size_t end = std::string::npos, data_end = 0;
            if (pending.compare(pos, 3, "\\.\n") == 0 && (pos == 0 || pending[pos - 1] == '\n')) {
                end = pos + 3;
                data_end = pos;
            } else {
                size_t hit = pending.find("\n\\.\n", pos);
                if (hit != std::string::npos) {
                    end = hit + 4;
                    data_end = hit + 1;
                }
            }
            size_t send_to = end != std::string::npos ? data_end : (pending.size() > pos + 3 ? pending.size() - 3 : pos);
            if (send_to > pos) {
                session->put(pending.data() + pos, send_to - pos);
                uint64_t lines = count_newlines(pending.data() + pos, send_to - pos);
                line += lines;
                summary.bytes += send_to - pos;
                if (count_rows)
                    state.rows += lines;
                pos = send_to;
            }
            if (end == std::string::npos)
                break;
            ++line; // the "\." line
            rows += session->finish();
            session.reset();
            pos = end;
        }
        pending.erase(0, pos);
    };
    feed(std::string_view(buffer.data(), first));
    while (size_t n = input.read(buffer.data(), buffer.size())) {
        throw_if_interrupted();
        feed(std::string_view(buffer.data(), n));
        state.bytes = summary.bytes;
        state.input_bytes = input_bytes_before + input.raw_bytes_read();
        meter.update(state);
    }
    if (session)
        throw local_error(input.name() + ": the script ends inside the COPY block that starts at line " +
                              std::to_string(header_line),
                          "the stream is truncated: no \\. line ends the block");
    if (pending.find_first_not_of(" \t\r\n") != std::string::npos)
        throw local_error(input.name() + ":" + std::to_string(line + 1) + ": a COPY line without its line end");
    return rows;
}

} // namespace

conflict_action parse_conflict_action(std::string_view text) {
    if (text.empty())
        return conflict_action::none;
    if (text == "ignore")
        return conflict_action::ignore;
    if (text == "update")
        return conflict_action::update;
    throw local_error("invalid --on-conflict \"" + std::string(text) + "\" (ignore or update)");
}

void apply_session_settings(connection& conn, const copy_load_options& o) {
    if (o.toast_compression)
        conn.exec("SET default_toast_compression = " + conn.quote_literal(*o.toast_compression));
}

load_summary run_copy(const copy_load_options& o) {
    if (o.batched())
        return run_batched_copy(o);
    load_summary summary;
    summary.program = std::string(program_name());
    summary.target = o.table.empty() ? "the script's tables" : o.table;
    auto started = std::chrono::steady_clock::now();
    auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    auto write_stats = [&] { write_stats_file(o.stats_file, summary); };

    stage at = stage::connecting;
    std::string current_input;
    uint64_t current_line = 0; // in a script: the line before the current COPY block's data
    std::vector<std::string> inputs = o.inputs.empty() ? std::vector<std::string>{"-"} : o.inputs;
    try {
        validate_copy_format(o.format);
        if (o.freeze && !o.truncate)
            throw local_error("--freeze needs --truncate",
                              "COPY FREEZE is valid only when the table was truncated or created in the "
                              "same transaction",
                              "add --truncate to empty the table first, in the load's transaction");
        // Parse names before connecting so that a typo costs no connection.
        // A script stream names its own tables; then TABLE may be absent.
        const bool have_table = !(o.script && o.table.empty());
        if (have_table)
            parse_qualified_name(o.table);
        if (o.columns)
            parse_name_list(*o.columns);
        check_inputs_readable(inputs);
        if (!quiet() && inputs.size() == 1 && inputs[0] == "-" && isatty(STDIN_FILENO))
            log_info("reading rows from the terminal; end them with Ctrl-D");
        throw_if_interrupted();
        connection conn = connection::open(o.connection);
        cancel_target cancel(conn.get());
        apply_session_settings(conn, o);
        std::string copy_sql = have_table ? build_copy_sql(conn, o) : std::string();

        progress_meter meter(o.show_progress);
        progress_state state;
        state.rows_known = o.format.format != copy_format::binary;
        state.input_total = o.show_progress ? total_input_size(inputs) : std::nullopt;
        std::vector<char> buffer(chunk_size);
        const bool count_rows = state.rows_known && o.show_progress;

        conn.exec("BEGIN");
        at = stage::loading;
        try {
            const std::string table_sql = have_table ? quote_qualified_name(conn, parse_qualified_name(o.table)) : "";
            if ((o.truncate || o.defer_indexes || o.defer_constraints) && !have_table)
                throw local_error("--truncate and --defer-* need a TABLE");
            if (o.truncate)
                conn.exec("TRUNCATE " + table_sql);
            // Dropped and rebuilt inside this transaction: a failure (a
            // duplicate key found when the unique index is rebuilt) rolls
            // everything back, indexes included.
            std::vector<std::string> restore;
            if (o.defer_indexes || o.defer_constraints)
                restore = drop_for_load(conn, table_sql, o.defer_indexes, o.defer_constraints);
            uint64_t input_bytes_before = 0;
            for (const auto& path : inputs) {
                input_stream input(path);
                current_input = input.name();
                size_t first = input.read(buffer.data(), buffer.size());
                // A script stream (pgrec --child, pg_dump's data) starts with its first COPY line.
                bool script = o.script || (o.format.format == copy_format::text && first >= 5 &&
                                           std::string_view(buffer.data(), 5) == "COPY ");
                // Binary COPY data announces itself by its signature.
                const bool detected_binary = !o.format_given && o.format.format == copy_format::text && first >= 11 &&
                                             std::memcmp(buffer.data(), binary_copy_header().data(), 11) == 0;
                if (script) {
                    summary.rows += load_script(conn, input, buffer, first, summary, state, meter, count_rows,
                                                input_bytes_before, current_line);
                    input_bytes_before += input.raw_bytes_read();
                    summary.input_bytes = input_bytes_before;
                    continue;
                }
                copy_load_options as_binary;
                if (detected_binary) {
                    as_binary = o;
                    as_binary.format = copy_format_options{};
                    as_binary.format.format = copy_format::binary;
                    as_binary.freeze = o.freeze;
                }
                copy_in_session session(conn, detected_binary ? build_copy_sql(conn, as_binary) : copy_sql);
                // Binary: follow the tuple framing (payloads are skipped, so
                // it is cheap). The server takes a stream that stops between
                // rows; a stream without its trailer is a producer that died,
                // and must not commit.
                std::unique_ptr<row_splitter> framing;
                if (o.format.format == copy_format::binary || detected_binary)
                    framing = make_row_splitter(detected_binary ? as_binary.format : o.format);
                std::vector<size_t> ends;
                uint64_t stream_bytes = 0;
                for (size_t n = first; n > 0; n = input.read(buffer.data(), buffer.size())) {
                    throw_if_interrupted();
                    if (framing) {
                        ends.clear();
                        framing->scan(buffer.data(), n, ends);
                        stream_bytes += n;
                    }
                    session.put(buffer.data(), n);
                    summary.bytes += n;
                    if (count_rows)
                        state.rows += count_newlines(buffer.data(), n);
                    state.bytes = summary.bytes;
                    state.input_bytes = input_bytes_before + input.raw_bytes_read();
                    meter.update(state);
                }
                throw_if_interrupted();
                if (framing) {
                    try {
                        framing->finish(stream_bytes);
                    } catch (const error& e) {
                        throw error(e.status(), "\"" + input.name() + "\": " + e.what(), e.detail(), e.hint());
                    }
                }
                summary.rows += session.finish();
                input_bytes_before += input.raw_bytes_read();
                summary.input_bytes = input_bytes_before;
            }
            current_input.clear();
            if (!restore.empty()) {
                // One sort per index, with room to sort in memory.
                conn.exec("SET LOCAL maintenance_work_mem = '1GB'");
                for (const auto& sql : restore) {
                    throw_if_interrupted();
                    conn.exec(sql);
                }
            }
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
        error annotated = annotate(e, current_input, at, e.connection_lost(), current_line);
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
