// pggen's engine: presets, the plan of columns and generators, and the rows.
#include "generate.hpp"

#include "core/error.hpp"
#include "generator.hpp"
#include "pg/identifier.hpp"
#include "core/interrupt.hpp"
#include "core/log.hpp"
#include "io/output.hpp"
#include "core/progress.hpp"
#include "pg/row_writer.hpp"
#include "pg/schema.hpp"

#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <memory>

namespace pgpipe {
namespace {

// ---------------------------------------------------------------- presets

struct preset_column {
    const char* name;
    const char* type;        // as CREATE TABLE writes it
    const char* constraints; // after the type in CREATE TABLE
    const char* generator;
};

struct preset {
    const char* name;
    const char* description;
    std::vector<preset_column> columns;
    const char* after; // statements after CREATE TABLE ("%s" is the table)
};

const std::vector<preset>& presets() {
    // The shapes of the seed articles and of pgbench. orders is exactly the
    // table make bench writes; ids are written explicitly (seq), so a
    // serial's sequence is not advanced by a load of them.
    static const std::vector<preset> all = {
        {"orders", "orders of make bench: 4 columns, ~27 bytes a row",
         {{"id", "bigserial", "PRIMARY KEY", "seq"},
          {"customer_id", "integer", "NOT NULL", "mod(10000)"},
          {"amount", "numeric(12,4)", "NOT NULL", "mod(500,0.99)"},
          {"status", "varchar(32)", "NOT NULL", "cycle(completed,pending,pending)"}},
         ""},
        {"posts", "wide text rows of the seed articles, ~33 KB a row",
         {{"id", "serial", "PRIMARY KEY", "seq"},
          {"title", "text", "", "repeat('title',1764)"},
          {"body", "text", "", "repeat('body',1764)"},
          {"payload", "text", "", "repeat('dummy data',1764)"}},
         ""},
        {"roles", "roles that users reference (load 10 before users)",
         {{"id", "serial", "PRIMARY KEY", "seq"},
          {"name", "varchar(64)", "NOT NULL UNIQUE", "format('role_{i}')"}},
         ""},
        {"users", "users: unique username, email index, role_id -> roles(id)",
         {{"id", "serial", "PRIMARY KEY", "seq"},
          {"username", "varchar(64)", "NOT NULL UNIQUE", "format('user_{i}')"},
          {"email", "varchar(128)", "NOT NULL", "format('user_{i}@test.com')"},
          {"created_at", "timestamptz", "NOT NULL", "timestamptz(2020-01-01,2026-01-01)"},
          {"role_id", "integer", "NOT NULL REFERENCES roles (id)", "int(1,10)"}},
         "CREATE INDEX ON %s (email);\n"},
        {"pgbench_accounts", "pgbench's accounts: 100,000 per branch, 84-byte filler",
         {{"aid", "integer", "NOT NULL PRIMARY KEY", "seq"},
          {"bid", "integer", "", "div(100000)"},
          {"abalance", "integer", "", "0"},
          {"filler", "char(84)", "", "''"}},
         ""},
    };
    return all;
}

const preset& find_preset(const std::string& name) {
    for (const auto& p : presets())
        if (name == p.name)
            return p;
    std::string names;
    for (const auto& p : presets())
        names += std::string(names.empty() ? "" : ", ") + p.name;
    throw local_error("unknown preset \"" + name + "\"", {}, "the presets are " + names + " (pggen --list-presets)");
}

// ---------------------------------------------------------------- the plan

struct planned_column {
    std::string name;
    column_type type;
    std::unique_ptr<generator> gen;
    bool must_be_unique = false;
};

struct plan {
    std::string label;        // the table, for messages and the summary
    std::string ddl_name;     // quoted table name for --ddl
    std::vector<planned_column> columns;
    std::vector<std::string> server_filled;
    const preset* from_preset = nullptr;
};

struct column_spec {
    std::string name;
    std::optional<column_type> type;
    std::string generator;
};

column_spec parse_column_spec(const std::string& text, const std::string& where) {
    size_t eq = std::string::npos;
    bool quoted = false;
    for (size_t k = 0; k < text.size(); ++k) {
        if (text[k] == '"')
            quoted = !quoted;
        else if (text[k] == '=' && !quoted) {
            eq = k;
            break;
        }
    }
    if (eq == std::string::npos)
        throw local_error(where + "\"" + text + "\" is not COLUMN=GENERATOR", {},
                          "for example: amount=numeric(0,100,2) or 'email=format(''u{i}@x.org'')'");
    std::string left = text.substr(0, eq);
    column_spec spec;
    spec.generator = text.substr(eq + 1);
    // COLUMN:TYPE: the colon outside quotes.
    size_t colon = std::string::npos;
    quoted = false;
    for (size_t k = 0; k < left.size(); ++k) {
        if (left[k] == '"')
            quoted = !quoted;
        else if (left[k] == ':' && !quoted) {
            colon = k;
            break;
        }
    }
    std::string name_text = colon == std::string::npos ? left : left.substr(0, colon);
    auto names = parse_name_list(name_text);
    if (names.size() != 1)
        throw local_error(where + "\"" + name_text + "\" is not one column name");
    spec.name = names[0];
    if (colon != std::string::npos)
        spec.type = parse_type_name(left.substr(colon + 1));
    return spec;
}

std::vector<column_spec> collect_specs(const generate_options& o) {
    std::vector<column_spec> specs;
    if (o.spec_file) {
        std::ifstream in(*o.spec_file);
        if (!in)
            throw local_error("could not read spec file \"" + *o.spec_file + "\"");
        std::string line;
        int number = 0;
        while (std::getline(in, line)) {
            ++number;
            size_t first = line.find_first_not_of(" \t\r");
            if (first == std::string::npos || line[first] == '#')
                continue;
            size_t last = line.find_last_not_of(" \t\r");
            specs.push_back(parse_column_spec(line.substr(first, last - first + 1),
                                              *o.spec_file + ":" + std::to_string(number) + ": "));
        }
    }
    for (const auto& s : o.column_specs)
        specs.push_back(parse_column_spec(s, ""));
    for (size_t a = 0; a < specs.size(); ++a)
        for (size_t b = a + 1; b < specs.size(); ++b)
            if (specs[a].name == specs[b].name)
                throw local_error("column " + specs[a].name + " is given two generators");
    return specs;
}

std::string format_number(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.15g", v);
    return buf;
}

// The decimals a number type's default values keep: a numeric's scale (2
// when it has none), none for the others.
int default_scale(const column_type& t) {
    return t.base == pg_type::numeric ? (t.scale >= 0 ? t.scale : 2) : 0;
}

// The values a column of a number type holds. bigint's and an unconstrained
// numeric's are kept to +-9e18, which a double holds (bigint's ends it does
// not); numeric(p,s)'s are +-(10^(p-s) - 10^-s).
std::pair<double, double> type_range(const column_type& t) {
    switch (t.base) {
    case pg_type::int2:
        return {std::numeric_limits<int16_t>::min(), std::numeric_limits<int16_t>::max()};
    case pg_type::int4:
        return {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()};
    case pg_type::float4:
        return {-std::numeric_limits<float>::max(), std::numeric_limits<float>::max()};
    case pg_type::float8:
        return {-std::numeric_limits<double>::max(), std::numeric_limits<double>::max()};
    case pg_type::numeric:
        if (t.precision > 0) {
            double most = std::pow(10.0, t.precision - t.scale) - std::pow(10.0, -default_scale(t));
            return {-most, most};
        }
        break;
    default:
        break;
    }
    return {-9e18, 9e18};
}

// A live column without a spec, while default_generator chooses its
// generator: valid for its type, its length, its CHECK range, its
// uniqueness and its foreign key.
struct column_defaults {
    const table_column& col;
    const column_type& t;
    const row_range& rows;

    bool unique_scalar() const { return col.unique && !t.is_array; }

    [[noreturn]] void unique_fail(const std::string& why) const {
        throw local_error("column " + col.name + " is unique, but " + why, {},
                          "give it a generator that fits: " + col.name + "=GENERATOR");
    }

    // A CHECK range replaces the default window lo..hi (a million values
    // wide where it is open on one side), and stays within the values the
    // type holds: smallint CHECK (n > 0) is 1..32767. step: the type's
    // smallest step.
    std::pair<double, double> bounded(double lo, double hi, double step) const {
        if (col.check_min) {
            lo = *col.check_min + (col.check_min_strict ? step : 0);
            if (!col.check_max)
                hi = std::max(hi, lo + 1e6);
        }
        if (col.check_max) {
            hi = *col.check_max - (col.check_max_strict ? step : 0);
            if (!col.check_min)
                lo = std::min(lo, hi - 1e6);
        }
        auto [type_lo, type_hi] = type_range(t);
        lo = std::max(lo, type_lo);
        hi = std::min(hi, type_hi);
        if (lo > hi)
            throw local_error("column " + col.name + ": its CHECK range is empty for type " + t.name);
        return std::make_pair(lo, hi);
    }
};

bool is_integer_type(pg_type t) { return t == pg_type::int2 || t == pg_type::int4 || t == pg_type::int8; }

// A unique number column: row i gets lo + i - 1 whatever --start and -n
// are, so a later run with --start continues the keys instead of
// repeating them.
std::string unique_number(const column_defaults& c, double step) {
    const table_column& col = c.col;
    auto [type_lo, type_hi] = type_range(c.t);
    auto [lo, hi] = c.bounded(col.check_min || col.check_max ? type_lo : 1, type_hi,
                              is_integer_type(c.t.base) ? 1 : step);
    double first = std::ceil(lo);
    if (first + static_cast<double>(c.rows.last) - 1 > hi)
        c.unique_fail("its range " + format_number(first) + ".." + format_number(hi) + " holds fewer than " +
                      std::to_string(c.rows.last) + " values (rows 1 to " + std::to_string(c.rows.last) + ")");
    return "seq(" + format_number(first) + ")";
}

// int2, int4, int8 and numeric.
std::string default_number(const column_defaults& c) {
    const column_type& t = c.t;
    const bool is_int = is_integer_type(t.base);
    int scale = default_scale(t);
    double step = std::pow(10.0, -scale);
    if (c.unique_scalar())
        return unique_number(c, step);
    double window = is_int ? 1e6 : 1000.0;
    auto [lo, hi] = c.bounded(is_int ? 1 : 0, window, is_int ? 1 : step);
    if (is_int)
        return "int(" + format_number(std::ceil(lo)) + "," + format_number(std::floor(hi)) + ")";
    char a[64], b[64];
    std::snprintf(a, sizeof a, "%.*f", scale, std::ceil(lo / step) * step);
    std::snprintf(b, sizeof b, "%.*f", scale, std::floor(hi / step) * step);
    return std::string("numeric(") + a + "," + b + "," + std::to_string(scale) + ")";
}

std::string default_float(const column_defaults& c) {
    if (c.unique_scalar())
        return "seq";
    auto [lo, hi] = c.bounded(0, 1000, 1e-6);
    return "float(" + format_number(lo) + "," + format_number(hi) + ")";
}

std::string default_boolean(const column_defaults& c) {
    if (c.unique_scalar())
        c.unique_fail("a boolean holds two values");
    return "bool";
}

// text, varchar(n) and char(n).
std::string default_text(const column_defaults& c) {
    const column_type& t = c.t;
    size_t limit = t.length > 0 ? static_cast<size_t>(t.length) : 0;
    if (!c.unique_scalar()) {
        if (t.base == pg_type::bpchar)
            return "text(" + std::to_string(limit) + "," + std::to_string(limit) + ")";
        if (limit && limit < 60)
            return "text(1," + std::to_string(std::min<size_t>(limit, 12)) + ")";
        return "words(1,5)";
    }
    size_t digits = std::to_string(c.rows.last).size();
    std::string prefix = c.col.name + "_";
    if (limit) {
        // Room for ten digits, whatever -n is, so that row i gets the same
        // value in every run.
        prefix = prefix.substr(0, limit > 10 ? limit - 10 : 0);
        if (prefix.size() + digits > limit)
            c.unique_fail("it holds " + std::to_string(limit) + " characters, too few for " +
                          std::to_string(c.rows.last) + " distinct values");
    }
    std::string quoted;
    for (char ch : prefix) {
        if (ch == '\'')
            quoted += '\'';
        quoted += ch;
    }
    return "format('" + quoted + "{i}')";
}

std::string default_enum(const column_defaults& c) {
    if (c.unique_scalar())
        c.unique_fail("an enum holds only its labels");
    if (c.col.enum_labels.empty())
        throw local_error("column " + c.col.name + ": enum type " + c.t.name + " has no labels");
    return "\x02"; // marker: pick from the labels
}

// The default generator of one column type.
struct default_rule {
    pg_type type;
    const char* fixed;                                // the generator, if it depends on the type alone
    bool repeats;                                     // fixed may repeat values: none for a unique column
    std::string (*choose)(const column_defaults&);    // else: chooses one for the column
};

const default_rule default_rules[] = {
    {pg_type::int2, nullptr, false, default_number},
    {pg_type::int4, nullptr, false, default_number},
    {pg_type::int8, nullptr, false, default_number},
    {pg_type::numeric, nullptr, false, default_number},
    {pg_type::float4, nullptr, false, default_float},
    {pg_type::float8, nullptr, false, default_float},
    {pg_type::boolean, nullptr, false, default_boolean},
    {pg_type::text, nullptr, false, default_text},
    {pg_type::varchar, nullptr, false, default_text},
    {pg_type::bpchar, nullptr, false, default_text},
    {pg_type::bytea, "bytes(4,16)", false, nullptr},
    {pg_type::date, "date(2000-01-01,2030-12-31)", true, nullptr},
    {pg_type::time, "time", false, nullptr},
    {pg_type::timestamp, "timestamp(2020-01-01,2026-01-01)", true, nullptr},
    {pg_type::timestamptz, "timestamptz(2020-01-01,2026-01-01)", true, nullptr},
    {pg_type::interval, "interval(30)", false, nullptr},
    {pg_type::uuid, "uuid", false, nullptr},
    {pg_type::json, "json(4)", false, nullptr},
    {pg_type::jsonb, "json(4)", false, nullptr},
    {pg_type::enumeration, nullptr, false, default_enum},
};

// The generator spec a live column gets without a spec of its own ("\x02"
// for an enum: pick from its labels).
std::string default_generator(const table_column& col, const row_range& rows) {
    const column_defaults c{col, *col.type, rows};
    std::string element;
    for (const auto& rule : default_rules) {
        if (rule.type != c.t.base)
            continue;
        if (rule.choose)
            element = rule.choose(c);
        else if (!(rule.repeats && col.unique))
            element = rule.fixed;
        break;
    }
    if (element.empty())
        c.unique_fail("pggen does not make unique values of type " + c.t.name + " by itself");
    if (c.t.is_array)
        return "array(" + element + ",0,4)";
    return element;
}

// Values of a foreign key, drawn from what the referenced column holds now.
std::unique_ptr<generator> foreign_key_generator(connection& conn, const table_column& col) {
    const pg_type b = col.type->base;
    const bool integer = b == pg_type::int2 || b == pg_type::int4 || b == pg_type::int8;
    if (!integer && b != pg_type::text && b != pg_type::varchar && b != pg_type::bpchar)
        throw local_error("column " + col.name + ": pggen draws foreign keys of integer and text types only, not " +
                              col.type->name,
                          {}, "give it a generator: " + col.name + "=GENERATOR");
    result_ptr r = conn.query("SELECT DISTINCT " + col.references_column + " FROM " + col.references_table +
                              " WHERE " + col.references_column + " IS NOT NULL ORDER BY 1 LIMIT 1000000");
    if (PQntuples(r.get()) == 0)
        throw local_error("column " + col.name + " references " + col.references_table + ", which is empty", {},
                          "load " + col.references_table + " first, or give " + col.name + " a generator");
    std::unique_ptr<generator> g;
    if (integer) {
        std::vector<int64_t> values;
        for (int k = 0; k < PQntuples(r.get()); ++k)
            values.push_back(std::stoll(PQgetvalue(r.get(), k, 0)));
        g = make_int_pick(std::move(values));
    } else {
        std::vector<std::string> values;
        for (int k = 0; k < PQntuples(r.get()); ++k)
            values.emplace_back(PQgetvalue(r.get(), k, 0));
        g = make_string_pick(std::move(values));
    }
    g->set_spec("a value of " + col.references_table + "." + col.references_column);
    return g;
}

std::unique_ptr<generator> build_default(connection& conn, const table_column& col, const row_range& rows) {
    if (!col.references_table.empty())
        return foreign_key_generator(conn, col);
    std::string spec = default_generator(col, rows);
    if (spec.find('\x02') != std::string::npos) {
        auto g = make_string_pick(col.enum_labels);
        g->set_spec("a label of " + col.type->name);
        if (col.type->is_array) {
            // array(enum): build through the grammar with the labels quoted.
            std::string labels;
            for (const auto& l : col.enum_labels) {
                std::string q = "'";
                for (char c : l) {
                    if (c == '\'')
                        q += '\'';
                    q += c;
                }
                labels += (labels.empty() ? "" : ",") + q + "'";
            }
            return parse_generator("array(choice(" + labels + "),0,4)", col.name);
        }
        return g;
    }
    return parse_generator(spec, col.name);
}

// The column specs of --spec and the command line, and which of them a
// column of the preset or table took.
class spec_list {
public:
    explicit spec_list(std::vector<column_spec> specs) : m_specs(std::move(specs)), m_taken(m_specs.size(), false) {}

    // The spec of column name, now taken; nullptr if there is none.
    const column_spec* take(const std::string& name) {
        for (size_t k = 0; k < m_specs.size(); ++k)
            if (m_specs[k].name == name) {
                m_taken[k] = true;
                return &m_specs[k];
            }
        return nullptr;
    }
    // The specs no column took, in order.
    std::vector<const column_spec*> left() const {
        std::vector<const column_spec*> out;
        for (size_t k = 0; k < m_specs.size(); ++k)
            if (!m_taken[k])
                out.push_back(&m_specs[k]);
        return out;
    }
    bool empty() const { return m_specs.empty(); }

private:
    std::vector<column_spec> m_specs;
    std::vector<bool> m_taken;
};

// A preset's columns; a spec replaces a column's generator (and type).
void plan_preset(const generate_options& o, spec_list& specs, plan& p) {
    const preset& pr = find_preset(*o.preset);
    p.from_preset = &pr;
    p.label = o.table ? *o.table : pr.name;
    for (const auto& c : pr.columns) {
        planned_column col;
        col.name = c.name;
        col.type = parse_type_name(c.type);
        if (const column_spec* s = specs.take(col.name)) {
            if (s->type)
                col.type = *s->type;
            col.gen = parse_generator(s->generator, col.name);
        } else {
            col.gen = parse_generator(c.generator, col.name);
        }
        p.columns.push_back(std::move(col));
    }
}

// One column of a live table, with its spec s or else its default.
planned_column plan_live_column(connection& conn, const table_column& c, const column_spec* s, const row_range& rows) {
    if (s && c.generated_always)
        throw local_error("column " + c.name + " is a generated column, which COPY cannot fill");
    planned_column col;
    col.name = c.name;
    col.must_be_unique = c.unique;
    if (s) {
        col.gen = parse_generator(s->generator, col.name);
        if (!c.type && !s->type)
            throw local_error("column " + c.name + ": pggen does not encode type " + c.type_name, {},
                              "give the column a type it knows: " + c.name + ":text=GENERATOR (text output)");
        col.type = s->type ? *s->type : *c.type;
        return col;
    }
    if (!c.type)
        throw local_error("column " + c.name + " has type " + c.type_name + ", which pggen has no generator for", {},
                          "give it one: " + c.name + ":text=GENERATOR, with text output");
    col.type = *c.type;
    col.gen = build_default(conn, c, rows);
    return col;
}

// A live table's columns, read from the server; those the server fills
// (serial, identity, generated) are left to it unless a spec names them.
void plan_live_table(const generate_options& o, const row_range& rows, std::optional<connection>& conn,
                     spec_list& specs, plan& p) {
    p.label = *o.table;
    conn.emplace(connection::open(o.connection));
    table_schema schema = read_table_schema(*conn, *o.table);
    for (const auto& c : schema.ignored_checks)
        log_warning("CHECK constraint " + c + " is not a simple range; generated rows may violate it");
    for (const auto& c : schema.columns) {
        const column_spec* s = specs.take(c.name);
        if (!s && (c.server_filled || c.generated_always))
            p.server_filled.push_back(c.name);
        else
            p.columns.push_back(plan_live_column(*conn, c, s, rows));
    }
    for (const column_spec* s : specs.left())
        throw local_error("column " + s->name + " is not a column of " + schema.quoted_name);
    if (!p.server_filled.empty()) {
        std::string names;
        for (const auto& n : p.server_filled)
            names += (names.empty() ? "" : ", ") + n;
        log_info("leaving " + names + " to the server; load with: pgcopy -c \"$(pggen --list-columns " + *o.table +
                 ")\" " + *o.table);
    }
}

// Column specs alone, with no preset nor live table.
void plan_specs_only(const generate_options& o, const spec_list& specs, plan& p) {
    if (specs.empty() && o.action == generate_action::ddl)
        throw local_error("--ddl needs --preset or column specs", {},
                          "pggen prints the CREATE TABLE of what it would generate, not of a live table");
    if (specs.empty())
        throw local_error("nothing to generate", {},
                          "give --preset NAME, a TABLE to read, or COLUMN=GENERATOR arguments (pggen --help)");
    p.label = o.table ? *o.table : o.output.empty() ? "stdout" : o.output;
}

// The specs no preset column took become columns of their own, typed as
// given or as their generator suggests; a preset takes none.
void plan_spec_columns(const generate_options& o, const spec_list& specs, const row_range& rows, plan& p) {
    for (const column_spec* s : specs.left()) {
        if (o.preset)
            throw local_error("column " + s->name + " is not a column of preset " + *o.preset);
        planned_column col;
        col.name = s->name;
        col.gen = parse_generator(s->generator, col.name);
        col.type = s->type ? *s->type : col.gen->default_type(rows);
        p.columns.push_back(std::move(col));
    }
}

void check_plan(plan& p, const row_range& rows) {
    if (p.columns.empty())
        throw local_error("no columns to generate");
    if (p.columns.size() > 1600)
        throw local_error("too many columns (" + std::to_string(p.columns.size()) + "; PostgreSQL allows 1600)");
    for (auto& col : p.columns) {
        check_generator_fits(*col.gen, col.type, col.name, rows);
        if (col.must_be_unique && !col.gen->unique())
            log_warning("column " + col.name + " is unique, but \"" + col.gen->spec() +
                        "\" may repeat values; the load may fail on a duplicate");
    }
}

plan make_plan(const generate_options& o, const row_range& rows, std::optional<connection>& conn) {
    plan p;
    spec_list specs(collect_specs(o));
    const bool live = o.table && o.action != generate_action::ddl;
    if (o.preset)
        plan_preset(o, specs, p);
    else if (live)
        plan_live_table(o, rows, conn, specs, p);
    else
        plan_specs_only(o, specs, p);
    if (o.preset || !live)
        plan_spec_columns(o, specs, rows, p);
    check_plan(p, rows);
    return p;
}

std::string ddl(const plan& p, const generate_options& o) {
    if (!o.table && !p.from_preset)
        throw local_error("--ddl needs a TABLE name for column specs", {}, "pggen --ddl mytable 'id=seq' ...");
    std::string table;
    for (const auto& part : parse_qualified_name(o.table ? *o.table : p.label))
        table += (table.empty() ? "" : ".") + quote_identifier_if_needed(part);
    std::string out = "CREATE TABLE " + table + " (\n";
    for (size_t k = 0; k < p.columns.size(); ++k) {
        const auto& col = p.columns[k];
        std::string type = col.type.name;
        std::string constraints;
        if (p.from_preset) {
            for (const auto& pc : p.from_preset->columns)
                if (col.name == pc.name) {
                    // The preset's own spelling (bigserial), unless a spec changed the type.
                    if (parse_type_name(pc.type).name == col.type.name)
                        type = pc.type;
                    constraints = pc.constraints;
                }
        }
        out += "  " + quote_identifier_if_needed(col.name) + " " + type + (constraints.empty() ? "" : " " + constraints) +
               (k + 1 < p.columns.size() ? ",\n" : "\n");
    }
    out += ");\n";
    if (p.from_preset && *p.from_preset->after) {
        std::string after = p.from_preset->after;
        auto at = after.find("%s");
        if (at != std::string::npos)
            after.replace(at, 2, table);
        out += after;
    }
    return out;
}

} // namespace

std::vector<std::pair<std::string, std::string>> list_presets() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& p : presets())
        out.emplace_back(p.name, p.description);
    return out;
}

std::pair<uint32_t, uint32_t> parse_shard(const std::string& text) {
    auto slash = text.find('/');
    try {
        if (slash == std::string::npos)
            throw std::invalid_argument(text);
        size_t a = 0, b = 0;
        unsigned long k = std::stoul(text.substr(0, slash), &a);
        unsigned long n = std::stoul(text.substr(slash + 1), &b);
        if (a != slash || b != text.size() - slash - 1 || k < 1 || n < 1 || k > n || n > 1000000)
            throw std::invalid_argument(text);
        return {static_cast<uint32_t>(k), static_cast<uint32_t>(n)};
    } catch (const std::exception&) {
        throw local_error("invalid shard \"" + text + "\"", {}, "write it as K/N with 1 <= K <= N, as in --shard 2/4");
    }
}

namespace {

// The rows to plan for: all of them, not only this shard's, so that every
// shard checks and chooses alike.
row_range planned_rows(const generate_options& o) {
    if (o.start < 1)
        throw local_error("--start must be 1 or more (row numbers start at 1)");
    if (o.rows > 0 && o.start > UINT64_MAX / 2 - o.rows)
        throw local_error("--start and --rows go past the largest row number");
    return row_range{o.start, o.start + (o.rows ? o.rows : 1) - 1};
}

void write_text(const generate_options& o, const std::string& text) {
    output_stream out(o.output, 0, false);
    out.write(text);
    out.close();
}

std::string column_list(const plan& p) {
    std::string names;
    for (const auto& col : p.columns)
        names += (names.empty() ? "" : ",") + quote_identifier_if_needed(col.name);
    return names;
}

// Each column's stream key: its values depend on its name and the seed,
// not on its position.
std::vector<uint64_t> stream_keys(const generate_options& o, const plan& p) {
    cell_rng mix(o.seed, 0x5EED);
    const uint64_t seed_key = mix.next();
    std::vector<uint64_t> keys;
    for (const auto& col : p.columns)
        keys.push_back(stable_hash(col.name) ^ seed_key);
    return keys;
}

// Rows first to end - 1; checks for a signal and draws progress every
// 65536 rows.
void write_row_range(plan& p, const std::vector<uint64_t>& keys, uint64_t first, uint64_t end, row_writer& writer,
                     const output_stream& out, progress_meter& meter) {
    progress_state state;
    state.input_total = std::nullopt;
    const size_t ncols = p.columns.size();
    value v;
    writer.begin();
    for (uint64_t row = first; row < end; ++row) {
        writer.begin_row(static_cast<int16_t>(ncols));
        for (size_t c = 0; c < ncols; ++c) {
            cell_rng rng(keys[c], row);
            p.columns[c].gen->generate(row, rng, v);
            writer.field(v, p.columns[c].type);
        }
        writer.end_row();
        if (((row - first) & 0xFFFF) == 0xFFFF) {
            throw_if_interrupted();
            state.rows = writer.rows();
            state.bytes = out.bytes_in();
            meter.update(state);
        }
    }
}

double seconds_since(std::chrono::steady_clock::time_point started) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

// This shard's rows, then the summary line and the --stats file.
void write_rows(const generate_options& o, plan& p, load_summary& summary) {
    // Shard K of N: a contiguous slice, so that shards 1..N in order are
    // the whole output.
    uint64_t first = o.start + o.rows * (o.shard - 1) / o.shards;
    uint64_t end = o.start + o.rows * o.shard / o.shards;
    std::vector<uint64_t> keys = stream_keys(o, p);
    auto started = std::chrono::steady_clock::now();
    output_stream out(o.output, o.zstd_level, o.format == copy_format::binary);
    row_writer writer(o.format, out);
    progress_meter meter(o.show_progress);
    try {
        write_row_range(p, keys, first, end, writer, out, meter);
        writer.finish(o.end_line);
    } catch (const broken_pipe&) {
        // The reader stopped reading (| head): a normal end.
        meter.finish();
        summary.rows = writer.rows();
        summary.bytes = out.bytes_in();
        summary.seconds = seconds_since(started);
        return;
    }
    meter.finish();
    summary.rows = writer.rows();
    summary.bytes = out.bytes_in();
    summary.input_bytes = out.bytes_out();
    summary.seconds = seconds_since(started);
    log_info(summary_line(summary));
    write_stats_file(o.stats_file, summary);
}

} // namespace

load_summary run_generate(const generate_options& o) {
    std::optional<connection> conn;
    plan p = make_plan(o, planned_rows(o), conn);
    conn.reset(); // generation itself needs no server

    load_summary summary;
    summary.program = std::string(program_name());
    summary.target = p.label;
    summary.verb = "generated";
    summary.preposition = "for";
    if (o.action == generate_action::ddl)
        write_text(o, ddl(p, o));
    else if (o.action == generate_action::list_columns)
        write_text(o, column_list(p) + "\n");
    else
        write_rows(o, p, summary);
    return summary;
}

} // namespace pgpipe
