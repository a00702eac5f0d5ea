// pgreport's renderers: the diff model as text, JSON or TSV, and the
// readings of watch.
#include "diff.hpp"

#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/stats.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace pgpipe {
namespace {

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// A rounded count with thousands separators, keeping the sign.
std::string count(double v) {
    if (v < 0)
        return "-" + format_count(static_cast<uint64_t>(-v + 0.5));
    return format_count(static_cast<uint64_t>(v + 0.5));
}

std::string signed_bytes(double v) {
    return v < 0 ? "-" + format_bytes(static_cast<uint64_t>(-v)) : format_bytes(static_cast<uint64_t>(v));
}

// Pads or cuts text to width (left-aligned) or right-aligns it.
std::string cell(const std::string& text, size_t width, bool right) {
    std::string t = text;
    if (t.size() > width)
        t = t.substr(0, width - 1) + "~";
    std::string pad(width - t.size(), ' ');
    return right ? pad + t : t + pad;
}

// Whole numbers without decimals, the rest with three (JSON and TSV).
std::string number(double v) { return v == std::floor(v) && std::abs(v) < 1e15 ? fixed(v, 0) : fixed(v, 3); }

// ---------------------------------------------------------------- text

std::string text_heading(const snapshot_diff& d) {
    std::string version = d.server_version.substr(0, d.server_version.find(' '));
    return wrap_text("pgreport: " + fixed(d.seconds, 2) + " s on database \"" + d.database + "\" (PostgreSQL " +
                         version + ")",
                     0, 10, 80) +
           "\n";
}

// Two tables: the rows each table took, then how much each grew.
std::string text_tables(const std::vector<table_delta>& tables) {
    if (tables.empty())
        return "\nno table changed in the interval\n";
    std::string out = "\n" + cell("table", 28, false) + cell("inserted", 13, true) + " " + cell("rows/s", 12, true) +
                      cell("updated", 13, true) + cell("deleted", 13, true) + "\n";
    for (const auto& t : tables)
        out += cell(t.name, 28, false) + cell(count(t.inserted), 13, true) + " " +
               cell(count(t.rows_per_second), 12, true) + cell(count(t.updated), 13, true) +
               cell(count(t.deleted), 13, true) + "\n";
    out += "\n" + cell("table", 32, false) + cell("table +", 14, true) + cell("indexes +", 14, true) +
           cell("TOAST +", 14, true) + "\n";
    for (const auto& t : tables)
        out += cell(t.name, 32, false) + cell(signed_bytes(t.table_bytes), 14, true) +
               cell(signed_bytes(t.index_bytes), 14, true) + cell(signed_bytes(t.toast_bytes), 14, true) + "\n";
    return out;
}

// The WAL, checkpoint and database lines, each wrapped under its label.
std::string text_server(const snapshot_diff& d) {
    std::string out = "\n";
    if (const auto& w = d.wal)
        out += wrap_text("WAL           " + signed_bytes(w->bytes) + " in " + count(w->records) + " records, " +
                             count(w->full_page_images) + " full-page images, " +
                             signed_bytes(w->bytes_per_second) + "/s" +
                             (d.inserted_total > 0 ? ", " + fixed(w->bytes_per_inserted_row, 1) +
                                                         " B per inserted row"
                                                   : ""),
                         0, 14, 80) +
               "\n";
    const auto& c = d.checkpoints;
    out += "Checkpoints   " + count(c.timed) + " timed, " + count(c.requested) + " requested; " +
           count(c.backend_buffer_writes) + " buffers written by backends\n";
    const auto& db = d.db;
    out += wrap_text("Database      " + count(db.commits) + " commits, " + count(db.rollbacks) + " rollbacks, " +
                         count(db.blocks_read) + " blocks read, " + fixed(db.hit_ratio * 100, 1) + "% hits, " +
                         format_bytes(static_cast<uint64_t>(std::max(0.0, db.temp_bytes))) + " temp",
                     0, 14, 80) +
           "\n";
    return out;
}

std::string text_statements(const std::vector<statement_delta>& statements) {
    if (statements.empty())
        return {};
    std::string out = "\nstatements by time in the interval\n" + cell("ms", 10, true) + cell("calls", 8, true) +
                      cell("rows", 11, true) + "  query\n";
    for (const auto& s : statements)
        out += cell(fixed(s.total_ms, 1), 10, true) + cell(count(s.calls), 8, true) + cell(count(s.rows), 11, true) +
               "  " + cell(s.query, 49, false) + "\n";
    return out;
}

// Trailing spaces of padded last cells are noise in a terminal and a diff.
std::string trim_line_ends(const std::string& text) {
    std::string trimmed;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        std::string line = text.substr(start, end - start);
        line.erase(line.find_last_not_of(' ') + 1);
        trimmed += line + "\n";
        start = end + 1;
    }
    return trimmed;
}

// One running COPY as a line under the watch heading.
std::string text_copy_line(const copy_progress& c) {
    double rate = c.seconds > 0 ? c.tuple_count / c.seconds : 0;
    return cell(c.pid, 8, true) + "  " + cell(c.table, 20, false) + cell(c.command + " " + c.type, 15, false) +
           cell(count(c.tuple_count), 12, true) + cell(format_bytes(static_cast<uint64_t>(c.byte_count)), 10, true) +
           " " + cell(count(rate), 11, true) + "\n";
}

} // namespace

std::string render_diff_text(const snapshot_diff& d) {
    std::string out = text_heading(d) + text_tables(d.tables) + text_server(d) + text_statements(d.statements);
    for (const auto& note : d.notes)
        out += wrap_text("note: " + note, 0, 6, 80) + "\n";
    return trim_line_ends(out);
}

std::string render_diff_json(const snapshot_diff& d) {
    std::vector<metric_row> rows = metric_rows(d);
    std::string out = "{\"seconds\": " + fixed(d.seconds, 3) + ", \"database\": " + json_quote(d.database) +
                      ", \"server_version\": " + json_quote(d.server_version) + ", \"sections\": [";
    for (size_t k = 0; k < rows.size(); ++k) {
        out += (k ? ", " : "") + std::string("{\"section\": ") + json_quote(rows[k].section) +
               ", \"name\": " + json_quote(rows[k].name);
        for (const auto& [key, v] : rows[k].values)
            out += ", " + json_quote(key) + ": " + number(v);
        out += "}";
    }
    out += "], \"notes\": [";
    for (size_t k = 0; k < d.notes.size(); ++k)
        out += (k ? ", " : "") + json_quote(d.notes[k]);
    return out + "]}\n";
}

std::string render_diff_tsv(const snapshot_diff& d) {
    std::string out = "section\tname\tmetric\tvalue\n";
    out += "interval\t" + d.database + "\tseconds\t" + fixed(d.seconds, 3) + "\n";
    for (const auto& r : metric_rows(d))
        for (const auto& [key, v] : r.values)
            out += r.section + "\t" + r.name + "\t" + key + "\t" + number(v) + "\n";
    return out;
}

std::string render_diff(const snapshot_diff& diff, report_format format) {
    switch (format) {
    case report_format::json: return render_diff_json(diff);
    case report_format::tsv: return render_diff_tsv(diff);
    case report_format::text: break;
    }
    return render_diff_text(diff);
}

std::string render_diff(const snapshot& before, const snapshot& after, report_format format) {
    return render_diff(diff_snapshots(before, after), format);
}

std::string render_copy_progress(const std::vector<copy_progress>& copies, report_format format, bool header) {
    std::string out;
    if (format == report_format::tsv && header)
        out += "pid\ttable\tcommand\ttype\ttuples\tbytes\tbytes_total\tseconds\n";
    if (format == report_format::text && header)
        out += cell("pid", 8, true) + "  " + cell("table", 20, false) + cell("command", 15, false) +
               cell("tuples", 12, true) + cell("bytes", 10, true) + " " + cell("rows/s", 11, true) + "\n";
    for (const auto& c : copies) {
        if (format == report_format::json)
            out += "{\"pid\": " + c.pid + ", \"table\": " + json_quote(c.table) + ", \"command\": " +
                   json_quote(c.command) + ", \"type\": " + json_quote(c.type) + ", \"tuples\": " + c.tuples +
                   ", \"bytes\": " + c.bytes + ", \"bytes_total\": " + c.bytes_total +
                   ", \"seconds\": " + fixed(c.seconds, 3) + "}\n";
        else if (format == report_format::tsv)
            out += c.pid + "\t" + c.table + "\t" + c.command + "\t" + c.type + "\t" + c.tuples + "\t" + c.bytes +
                   "\t" + c.bytes_total + "\t" + fixed(c.seconds, 3) + "\n";
        else
            out += text_copy_line(c);
    }
    if (format == report_format::text && copies.empty())
        out += "no COPY running\n";
    return out;
}

} // namespace pgpipe
