// What a load did: the closing summary line and the --stats JSON.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pgpipe {

/// A flat JSON object built field by field, for --stats files and reports.
class json_object {
public:
    /// Adds a string field (escaped).
    json_object& add(const std::string& key, const std::string& value);
    /// Adds an integer field.
    json_object& add(const std::string& key, uint64_t value);
    /// Adds a floating-point field (rounded to 3 decimals).
    json_object& add(const std::string& key, double value);
    /// Adds an array of integers.
    json_object& add(const std::string& key, const std::vector<uint64_t>& values);
    /// Adds a boolean field.
    json_object& add_bool(const std::string& key, bool value);
    /// The object as one line of JSON.
    std::string str() const;

private:
    std::vector<std::pair<std::string, std::string>> m_fields; // key, encoded value
};

/// Escapes a string as a JSON string literal, quotes included.
std::string json_quote(const std::string& text);

/// What a load did, for the closing summary and --stats.
struct load_summary {
    std::string program;     ///< the program that ran
    std::string target;      ///< the table, as the user named it
    uint64_t rows = 0;       ///< rows committed, from the server's command tag
    uint64_t bytes = 0;      ///< bytes sent to the server (decompressed)
    uint64_t input_bytes = 0; ///< bytes read from the inputs (compressed, if they were)
    double seconds = 0;      ///< wall time from connecting to commit
    bool committed = false;  ///< whether the transaction committed
    std::string error;       ///< the failure, when there was one
    uint64_t rejected = 0;   ///< rows that went to the reject file
    uint64_t batches = 0;    ///< transactions committed (batched loads)
    std::vector<uint64_t> job_rows; ///< rows committed by each connection of pgcopy --jobs
    std::string plan;        ///< what pgcopy --fast chose, one line
    std::string verb = "loaded";        ///< what the summary says was done
    std::string preposition = "into";   ///< "loaded … into t", "generated … for t"
};

/// "loaded 1,000 rows (41.2 MB) into orders in 1.23 s: 812 rows/s, 33.5 MB/s".
std::string summary_line(const load_summary& summary);
/// The summary as a JSON object, with the process's peak RSS added.
std::string summary_json(const load_summary& summary);
/// The process's peak resident set size in KiB.
uint64_t peak_rss_kib();
/// Writes the summary as JSON to path (nothing for an empty path). A file
/// that cannot be written is a warning, never an error: it must neither hide
/// a load's real outcome nor turn a committed load into a failure that a
/// cron job retries.
void write_stats_file(const std::string& path, const load_summary& summary);
/// Writes text to PATH (atomically, via a temporary file and rename); throws local_error.
void write_text_file(const std::string& path, const std::string& text);

} // namespace pgpipe
