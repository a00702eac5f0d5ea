// The reader of pgcopy's engine: reads the inputs, detects the format and
// script streams, checks headers, cuts batches at row boundaries, handles
// end-of-data markers, and skips (and fingerprints) what a resumed load
// committed before; it hands every batch to the queue.
#pragma once

#include "batch.hpp"
#include "batch_queue.hpp"
#include "load_context.hpp"
#include "resume_record.hpp"
#include "fingerprint.hpp"
#include "io/input.hpp"
#include "pg/connection.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pgpipe {

/// What the reader asks of a server about a script block's COPY line: the
/// one place it needs one (so that it can be tested without a server).
class block_tables {
public:
    virtual ~block_tables() = default;
    /// The block's table as SQL (quoted; qualified as the line names it).
    virtual std::string table_sql(const std::vector<std::string>& name) = 0;
    /// Whether table (as table_sql returned it) is the load's TABLE, target_sql.
    virtual bool is_target(const std::string& table, const std::string& target_sql) = 0;
    /// The COPY statement for the block's rows.
    virtual std::string copy_sql(const std::string& table, const std::vector<std::string>& columns) = 0;
};

/// A server's answers, on a connection of the reader's own, opened at the first block.
class server_block_tables : public block_tables {
public:
    /// Logs in as ctx says (ctx.login once the loaders connected).
    explicit server_block_tables(const load_context& ctx) : m_ctx(ctx) {}
    /// Quoted on the reader's connection.
    std::string table_sql(const std::vector<std::string>& name) override;
    /// By oid: TABLE's, read once.
    bool is_target(const std::string& table, const std::string& target_sql) override;
    /// As the server's version writes it.
    std::string copy_sql(const std::string& table, const std::vector<std::string>& columns) override;

private:
    connection& conn();
    const load_context& m_ctx;
    std::optional<connection> m_conn;
    std::string m_target_oid; // TABLE's, which every block must load into
};

/// What the first input's first bytes say that the options cannot.
struct first_input_facts {
    bool binary = false; ///< binary COPY data without -F binary
    bool script = false; ///< a script stream
    std::optional<std::vector<std::string>> header_names; ///< --header without -c: the header's names, unchecked
};

/// Reads every input into batches for the queue, in input order.
class batch_reader {
public:
    /// A reader of ctx's inputs; first: the first input, opened already (or null).
    batch_reader(const load_context& ctx, batch_queue& queue, block_tables& tables,
                 std::unique_ptr<input_stream> first);
    batch_reader(const batch_reader&) = delete;
    batch_reader& operator=(const batch_reader&) = delete;

    /// Called with the bytes read of each chunk, and the input's raw bytes so far.
    void on_read(std::function<void(uint64_t, uint64_t)> f) { m_on_read = std::move(f); }
    /// What an earlier run of the key committed: skipped, its bytes checked.
    void resume(resume_point p);
    /// Inputs that an earlier run of the key finished are not read again:
    /// each must still be what that run loaded.
    void check_finished_inputs(size_t count);
    /// Reads the first bytes of the input the load starts with.
    first_input_facts sniff();
    /// Reads every input from the resume point on, pushing batches.
    void read_all();

    /// Where the load starts (an earlier run's committed prefix).
    const position& resume_from() const { return m_resume_from; }
    /// Whether an earlier run committed batches out of input order.
    bool resumes_out_of_order() const { return !m_resume_ranges.empty(); }
    /// The inputs' stamps: recorded, then this run's as each input ends.
    const input_stamps& stamps() const { return m_stamps; }
    /// The first input's first bytes (what sniff read).
    const std::string& first_chunk() const { return m_first_chunk; }
    /// Whether the input is not what the resume key's first run read.
    bool input_changed() const { return m_input_changed; }

private:
    struct input_cursor;
    enum class row_kind;
    bool starts_script(std::string_view first_line) const;
    void check_script_options(size_t index) const;
    bool take_script_line(input_cursor& in, size_t end, row_kind kind);
    void start_script_block(input_cursor& in, std::string_view line);
    void load_input(size_t index);
    void take_chunk(input_cursor& in, const char* chunk, size_t n);
    void take_marker(input_cursor& in, uint64_t end, const end_marker& marker, char newline);
    void take_row(input_cursor& in, size_t end, row_kind kind);
    void take_header(input_cursor& in, size_t end);
    void skip_row(input_cursor& in, size_t end);
    void hold_marker(input_cursor& in, size_t end);
    void refuse_marker(input_cursor& in, size_t end, row_kind kind);
    void release_marker(input_cursor& in);
    size_t flush_rows_before(batch& b, size_t end);
    void finish_input(input_cursor& in);
    void check_header(const std::string& input, const std::string& header) const;
    void cut_batches(batch& b, bool at_end);
    void reserve_batch(batch& b) const;
    // Fingerprints of what a resumed load skips, against what its first run recorded.
    void print_through(const batch& b, size_t end);
    void check_resumed_prefix(const input_cursor& in, size_t end);
    void check_resumed_range(const input_cursor& in, const committed_range* range, size_t start, size_t end);
    [[noreturn]] void input_changed(const std::string& input, const std::string& what);
    const committed_range* committed_range_of(size_t input_index, uint64_t start, uint64_t end) const;
    const committed_range* range_holding(size_t input_index, uint64_t offset) const;

    const load_context& m_ctx;
    batch_queue& m_queue;
    block_tables& m_tables;
    std::function<void(uint64_t, uint64_t)> m_on_read;
    std::unique_ptr<input_stream> m_first_input; // opened to look at its first bytes; load_input reads on
    std::string m_first_chunk;                   // those first bytes
    position m_resume_from;                      // an earlier run's committed prefix
    std::string m_resume_hash;                   // ... its fingerprint (empty: none recorded)
    committed_range m_prefix_range{0, 0, 0, {}}; // what committed_range_of returns for the prefix
    std::vector<committed_range> m_resume_ranges; // and its --jobs batches past it
    input_stamps m_stamps;      // one per input: the earlier run's, then this run's as each ends
    std::string m_stamps_text;  // stamps of the inputs the reader has finished, as batches carry them
    // The fingerprints (with a resume key): of the current input up to
    // m_printed, and of the committed range being skipped.
    fingerprint m_input_print;
    uint64_t m_printed = 0;
    bool m_prefix_checked = false;
    const committed_range* m_checking = nullptr;
    fingerprint m_range_print;
    std::string m_block_table; // the table of the script block being read
    bool m_input_changed = false;
};

} // namespace pgpipe
