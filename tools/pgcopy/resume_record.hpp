// What a --resume-key record holds besides the committed position: the
// load's shape (how its rows are read and where they go) and a stamp of each
// input it finished, so that a rerun which would read other rows is refused.
#pragma once

#include "io/copy_format.hpp"
#include "fingerprint.hpp"
#include "io/input.hpp"
#include "pg/connection.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgpipe {

/// The parts of a load that decide what a row of input becomes in the
/// table: the target (by oid), the column list and the format with its
/// options. Parts that only change how fast rows go (jobs, batch sizes,
/// --fast) are not in it.
class load_shape {
public:
    /// Adds one part; name is how messages call it ("columns", "delimiter").
    void add(std::string name, std::string value) { m_parts.emplace_back(std::move(name), std::move(value)); }
    /// The shape as stored in pgpipe.load_progress: one "name=value" line a part.
    std::string text() const;
    /// A stored shape read back (the inverse of text()).
    static load_shape parse(std::string_view text);
    /// What differs from then (an earlier run's shape), one phrase a part,
    /// such as `columns: "a,b" then, "b,a" now`; empty when nothing does.
    std::vector<std::string> differences_from(const load_shape& then) const;

private:
    std::vector<std::pair<std::string, std::string>> m_parts;
};

/// The shape of a load into table_sql (quoted) of columns (unquoted; empty:
/// every column COPY fills) in format f, with the defaults f leaves to COPY.
load_shape describe_load(connection& c, const std::string& table_sql, std::vector<std::string> columns,
                         const copy_format_options& f);

/// Refuses (local_error, status 1) a rerun of resume key KEY whose shape
/// differs from the recorded one, naming each part that changed; a record
/// without a shape (an older pgcopy's) is not checked. forget: how the hint
/// tells to forget the key.
void check_resumed_shape(const std::string& key, const load_shape& now, const std::string& recorded,
                         const std::string& forget);

/// A tag no other run of pgcopy has: "pgcopy-PID-RANDOM", for a key of this
/// run's own (--retries) or its prepared transactions' names (--two-phase).
std::string run_tag();

/// A value as messages show it: quoted, with tabs, newlines and
/// backslashes written as escapes.
std::string shape_value(std::string_view value);

/// Column names as messages show a list of them: "a, b, \"Mixed Case\"",
/// a name quoted where SQL would need it.
std::string name_list_text(const std::vector<std::string>& names);

/// What a finished input was: its size and modification time when it is a
/// regular file (-1 otherwise), and the fingerprint of its bytes as read.
struct input_stamp {
    int64_t size = -1;
    int64_t mtime_ns = -1;
    std::string hash; ///< empty: not recorded
};

/// The size and modification time of PATH ("-": stdin) when it is a
/// regular file; the hash is left empty.
input_stamp stat_input(const std::string& path);

/// The stamps of a load's inputs: an earlier run's, then this run's as the
/// reader finishes each input (its size and time when opened, the
/// fingerprint of all it read).
class input_stamps {
public:
    /// The earlier run's, as stored in pgpipe.load_progress.input_stamps
    /// (one line an input; missing ones are empty); count: the inputs.
    void read(std::string_view text, size_t count);
    /// The stamp of input index; empty when not recorded.
    const input_stamp& operator[](size_t index) const { return m_stamps[index]; }
    /// An input is opened: its size and time now, and a new fingerprint.
    void open(const std::string& path);
    /// Bytes the reader read of the open input.
    void update(const char* data, size_t size) { m_print.update(data, size); }
    /// The open input, index, was read to its end.
    void finish(size_t index);
    /// The stamps of inputs [0, count), as stored (every input's: text(size())).
    std::string text(size_t count) const;
    /// How many inputs there are.
    size_t size() const { return m_stamps.size(); }

private:
    std::vector<input_stamp> m_stamps;
    input_stamp m_opened;
    fingerprint m_print;
};

/// Whether PATH still holds what stamp recorded. Size and modification time
/// that both match are taken as the same file; otherwise the input is read
/// (decompressed as a load reads it: through opened, when given, which must
/// be at its start) and its fingerprint compared. A stamp without a hash (an
/// older pgpipe's record) matches anything.
bool input_unchanged(const std::string& path, const input_stamp& stamp, input_stream* opened = nullptr);

} // namespace pgpipe
