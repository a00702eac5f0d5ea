// A resume record's shape and input stamps: how they are written, read back
// and compared with the rerun's.
#include "resume_record.hpp"

#include "core/error.hpp"
#include "fingerprint.hpp"
#include "io/sql_names.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <random>
#include <memory>

namespace pgpipe {

namespace {

// Values may hold any byte but a newline is the part separator: escape it.
std::string escape_part(std::string_view value) {
    std::string out;
    for (char ch : value) {
        if (ch == '\\' || ch == '\n')
            out += ch == '\\' ? "\\\\" : "\\n";
        else
            out += ch;
    }
    return out;
}

std::string unescape_part(std::string_view value) {
    std::string out;
    for (size_t k = 0; k < value.size(); ++k) {
        if (value[k] == '\\' && k + 1 < value.size()) {
            ++k;
            out += value[k] == 'n' ? '\n' : value[k];
        } else {
            out += value[k];
        }
    }
    return out;
}

int64_t parse_int(std::string_view text) {
    int64_t v = -1;
    std::from_chars(text.data(), text.data() + text.size(), v);
    return v;
}

} // namespace

std::string load_shape::text() const {
    std::string out;
    for (const auto& [name, value] : m_parts)
        out += name + "=" + escape_part(value) + "\n";
    return out;
}

load_shape load_shape::parse(std::string_view text) {
    load_shape shape;
    while (!text.empty()) {
        const size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        const size_t eq = line.find('=');
        if (eq != std::string_view::npos)
            shape.add(std::string(line.substr(0, eq)), unescape_part(line.substr(eq + 1)));
    }
    return shape;
}

std::vector<std::string> load_shape::differences_from(const load_shape& then) const {
    std::vector<std::string> out;
    auto value_in = [](const load_shape& s, const std::string& name) -> const std::string* {
        for (const auto& part : s.m_parts)
            if (part.first == name)
                return &part.second;
        return nullptr;
    };
    // A part an older record lacks was not recorded: it cannot be compared.
    for (const auto& [name, value] : m_parts)
        if (const std::string* old = value_in(then, name); old && *old != value)
            out.push_back(name + ": " + shape_value(*old) + " then, " + shape_value(value) + " now");
    return out;
}

load_shape describe_load(connection& c, const std::string& table_sql, std::vector<std::string> columns,
                         const copy_format_options& f) {
    load_shape shape;
    const std::string oid = PQgetvalue(c.query("SELECT " + c.quote_literal(table_sql) + "::regclass::oid").get(), 0, 0);
    shape.add("table oid", oid);
    if (columns.empty()) { // every column COPY fills when none are named
        result_ptr r = c.query("SELECT attname FROM pg_attribute WHERE attrelid = " + oid +
                               " AND attnum > 0 AND NOT attisdropped AND attgenerated = '' ORDER BY attnum");
        for (int k = 0; k < PQntuples(r.get()); ++k)
            columns.emplace_back(PQgetvalue(r.get(), k, 0));
    }
    shape.add("columns", name_list_text(columns));
    shape.add("format", copy_format_name(f.format));
    if (f.format != copy_format::binary) {
        const copy_syntax syntax = copy_syntax_of(f);
        shape.add("delimiter", std::string(1, syntax.delimiter));
        shape.add("null", syntax.null_text);
        if (syntax.csv) {
            shape.add("quote", std::string(1, syntax.quote));
            shape.add("escape", std::string(1, syntax.escape));
        }
        shape.add("header", f.header ? "yes" : "no");
    }
    shape.add("encoding", f.encoding ? PQgetvalue(c.query("SELECT pg_encoding_to_char(pg_char_to_encoding(" +
                                                          c.quote_literal(*f.encoding) + "))").get(), 0, 0)
                                     : pg_encoding_to_char(PQclientEncoding(c.get())));
    return shape;
}

void check_resumed_shape(const std::string& key, const load_shape& now, const std::string& recorded,
                         const std::string& forget) {
    if (recorded.empty())
        return;
    const std::vector<std::string> changed = now.differences_from(load_shape::parse(recorded));
    if (changed.empty())
        return;
    std::string what;
    for (const auto& part : changed)
        what += (what.empty() ? "" : "; ") + part;
    throw local_error("resume key \"" + key + "\" was loading with other options: " + what,
                      "a resumed load must read its input as the run that started it did; options that change "
                      "only the speed (--jobs, --batch-rows, --batch-bytes, --fast) may differ",
                      "rerun with that run's options; or, to start over, remove what it loaded and forget the key (" +
                          forget + "), or use a new --resume-key");
}

std::string shape_value(std::string_view value) {
    std::string out = "\"";
    for (char ch : value) {
        if (ch == '\t')
            out += "\\t";
        else if (ch == '\n')
            out += "\\n";
        else if (ch == '\r')
            out += "\\r";
        else if (ch == '\\')
            out += "\\\\";
        else
            out += ch;
    }
    return out + "\"";
}

std::string name_list_text(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& name : names)
        out += (out.empty() ? "" : ", ") + quote_identifier_if_needed(name);
    return out;
}

input_stamp stat_input(const std::string& path) {
    input_stamp stamp;
    struct stat st{};
    const int rc = path == "-" ? ::fstat(STDIN_FILENO, &st) : ::stat(path.c_str(), &st);
    if (rc == 0 && S_ISREG(st.st_mode)) {
        stamp.size = static_cast<int64_t>(st.st_size);
        stamp.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    }
    return stamp;
}

void input_stamps::read(std::string_view text, size_t count) {
    m_stamps.assign(count, input_stamp{});
    for (size_t k = 0; k < count && !text.empty(); ++k) {
        const size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        const size_t a = line.find(' '), b = line.find(' ', a + 1);
        if (a == std::string_view::npos || b == std::string_view::npos)
            continue;
        m_stamps[k] = {parse_int(line.substr(0, a)), parse_int(line.substr(a + 1, b - a - 1)),
                       std::string(line.substr(b + 1))};
    }
}

void input_stamps::open(const std::string& path) {
    m_opened = stat_input(path);
    m_print = fingerprint();
}

void input_stamps::finish(size_t index) {
    m_stamps[index] = {m_opened.size, m_opened.mtime_ns, m_print.hex()};
}

std::string input_stamps::text(size_t count) const {
    std::string out;
    for (size_t k = 0; k < count && k < m_stamps.size(); ++k)
        out += std::to_string(m_stamps[k].size) + " " + std::to_string(m_stamps[k].mtime_ns) + " " + m_stamps[k].hash + "\n";
    return out;
}

bool input_unchanged(const std::string& path, const input_stamp& stamp, input_stream* opened) {
    if (stamp.hash.empty())
        return true;
    const input_stamp now = stat_input(path);
    if (stamp.size >= 0 && now.size == stamp.size && now.mtime_ns == stamp.mtime_ns)
        return true;
    std::unique_ptr<input_stream> own;
    if (!opened) {
        own = std::make_unique<input_stream>(path);
        opened = own.get();
    }
    fingerprint print;
    std::string chunk(1 << 20, '\0');
    while (size_t n = opened->read(chunk.data(), chunk.size()))
        print.update(chunk.data(), n);
    return print.hex() == stamp.hash;
}

std::string run_tag() {
    std::random_device rd;
    return "pgcopy-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
}

} // namespace pgpipe
