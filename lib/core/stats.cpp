// The closing summary line, the --stats JSON, and peak RSS.
#include "core/stats.hpp"

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace pgpipe {

std::string json_quote(const std::string& text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

json_object& json_object::add(const std::string& key, const std::string& value) {
    m_fields.emplace_back(key, json_quote(value));
    return *this;
}

json_object& json_object::add(const std::string& key, uint64_t value) {
    m_fields.emplace_back(key, std::to_string(value));
    return *this;
}

json_object& json_object::add(const std::string& key, double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", value);
    m_fields.emplace_back(key, buf);
    return *this;
}

json_object& json_object::add(const std::string& key, const std::vector<uint64_t>& values) {
    std::string out = "[";
    for (size_t k = 0; k < values.size(); ++k)
        out += (k ? ", " : "") + std::to_string(values[k]);
    m_fields.emplace_back(key, out + "]");
    return *this;
}

json_object& json_object::add_bool(const std::string& key, bool value) {
    m_fields.emplace_back(key, value ? "true" : "false");
    return *this;
}

std::string json_object::str() const {
    std::string out = "{";
    for (size_t i = 0; i < m_fields.size(); ++i) {
        if (i)
            out += ", ";
        out += json_quote(m_fields[i].first) + ": " + m_fields[i].second;
    }
    return out + "}";
}

namespace {
double per_second(uint64_t amount, double seconds) {
    return seconds > 0 ? static_cast<double>(amount) / seconds : 0.0;
}
} // namespace

std::string summary_line(const load_summary& s) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.2f s", s.seconds);
    return s.verb + " " + format_count(s.rows) + (s.rows == 1 ? " row (" : " rows (") + format_bytes(s.bytes) + ") " +
           s.preposition + " " + s.target +
           " in " + secs + ": " + format_count(static_cast<uint64_t>(per_second(s.rows, s.seconds))) +
           " rows/s, " + format_bytes(static_cast<uint64_t>(per_second(s.bytes, s.seconds))) + "/s";
}

uint64_t peak_rss_kib() {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0)
        return 0;
    return static_cast<uint64_t>(usage.ru_maxrss); // Linux reports KiB
}

std::string summary_json(const load_summary& s) {
    json_object o;
    o.add("program", s.program)
        .add("target", s.target)
        .add("status", std::string(s.error.empty() ? "ok" : "error"))
        .add_bool("committed", s.committed)
        .add("rows", s.rows)
        .add("bytes", s.bytes)
        .add("input_bytes", s.input_bytes)
        .add("seconds", s.seconds)
        .add("rows_per_second", per_second(s.rows, s.seconds))
        .add("mb_per_second", per_second(s.bytes, s.seconds) / 1e6)
        .add("peak_rss_kib", peak_rss_kib());
    if (s.batches || s.rejected)
        o.add("batches", s.batches).add("rejected", s.rejected);
    if (s.job_rows.size() > 1)
        o.add("jobs", static_cast<uint64_t>(s.job_rows.size())).add("job_rows", s.job_rows);
    if (!s.plan.empty())
        o.add("plan", s.plan);
    if (!s.error.empty())
        o.add("error", s.error);
    return o.str() + "\n";
}

void write_stats_file(const std::string& path, const load_summary& summary) {
    if (path.empty())
        return;
    try {
        write_text_file(path, summary_json(summary));
    } catch (const error& e) {
        log_warning(std::string(e.what()) + (summary.committed ? " (the load itself was committed)" : ""));
    }
}

void write_text_file(const std::string& path, const std::string& text) {
    // Only a regular file (or a new one) is replaced atomically; a device,
    // a pipe or a symbolic link is written in place, never replaced.
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        FILE* f = std::fopen(path.c_str(), "w");
        bool ok = f && std::fwrite(text.data(), 1, text.size(), f) == text.size();
        if (f)
            ok = (std::fclose(f) == 0) && ok;
        if (!ok)
            throw local_error("could not write \"" + path + "\": " + std::strerror(errno));
        return;
    }
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f)
        throw local_error("could not write \"" + path + "\": " + std::strerror(errno));
    bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    ok = (std::fclose(f) == 0) && ok;
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        std::remove(tmp.c_str());
        throw local_error("could not write \"" + path + "\": " + std::strerror(err));
    }
}

} // namespace pgpipe
