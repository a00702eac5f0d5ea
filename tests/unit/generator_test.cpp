// pggen's table of generators: the grammar it builds, and pggen(1) and the
// bash completion listing the same names.
#include "core/error.hpp"
#include "pggen/generator.hpp"
#include "pg/pg_types.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace pgpipe;

namespace {

// A file of the source tree: tests/run.sh runs the tests from its root and
// names it in PGPIPE_ROOT.
std::string source_file(const std::string& path) {
    const char* root = std::getenv("PGPIPE_ROOT");
    std::ifstream in(std::string(root && *root ? root : ".") + "/" + path);
    if (!in)
        FAIL("cannot read " << path << " (run from the source tree, or set PGPIPE_ROOT)");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// A heading line of the man page (".BI \%int( LO , HI )") as it reads
// rendered: the macro's arguments run together, without font changes.
std::string plain_heading(const std::string& line) {
    std::string args = line.substr(line.find(' ') + 1), out;
    for (size_t k = 0; k < args.size(); ++k) {
        if (args[k] == ' ')
            continue;
        if (args.compare(k, 2, "\\%") == 0) {
            ++k;
        } else if (args.compare(k, 2, "\\f") == 0) {
            k += 2;
        } else if (args.compare(k, 2, "\\-") == 0) {
            out += '-';
            ++k;
        } else {
            out += args[k];
        }
    }
    return out;
}

// The GENERATORS section of pggen(1), up to the next section.
std::vector<std::string> generators_section() {
    std::vector<std::string> section;
    bool inside = false;
    for (const auto& line : lines_of(source_file("man/pggen.1"))) {
        if (line.rfind(".SH", 0) == 0)
            inside = line == ".SH GENERATORS";
        else if (inside)
            section.push_back(line);
    }
    return section;
}

// Its entries' headings that start with a generator's name (not NUMBER,
// 'STRING' nor GENERATOR|null(RATE)), rendered.
std::set<std::string> man_headings() {
    static const std::regex named(R"(^\.(B|BR|BI) (\\%)?[a-z])");
    std::set<std::string> out;
    auto section = generators_section();
    for (size_t k = 1; k < section.size(); ++k)
        if ((section[k - 1] == ".TP" || section[k - 1] == ".PP") && std::regex_search(section[k], named))
            out.insert(plain_heading(section[k]));
    return out;
}

// The names the Syntax paragraph says may go without parentheses.
std::set<std::string> man_bare_names() {
    static const std::regex name(R"(^\.BR? ([a-z]+))");
    std::set<std::string> out;
    bool inside = false;
    for (const auto& line : generators_section()) {
        if (line.find("written without parentheses") != std::string::npos)
            inside = true;
        else if (inside && line == ".PP")
            break;
        std::smatch m;
        if (inside && std::regex_search(line, m, name))
            out.insert(m[1]);
    }
    return out;
}

// The words of _pggen_generators=(...) in the completion.
std::set<std::string> completion_names() {
    std::string text = source_file("completions/pggen.bash");
    size_t at = text.find("\n_pggen_generators=(");
    REQUIRE(at != std::string::npos);
    at = text.find('(', at) + 1;
    std::istringstream words(text.substr(at, text.find(')', at) - at));
    std::set<std::string> out;
    for (std::string w; words >> w;)
        out.insert(w);
    return out;
}

// The arity a synopsis shows: "int(LO,HI[,DIST[,S]])" is 2 to 4, a name
// with its parentheses in brackets takes none as well, ",..." any number.
std::pair<int, int> synopsis_arity(const generator_info& g) {
    std::string rest(g.synopsis.substr(g.name.size()));
    if (rest.empty())
        return {0, 0};
    const bool optional = rest.rfind("[(", 0) == 0;
    std::string inside = rest.substr(optional ? 2 : 1, rest.size() - (optional ? 4 : 2));
    const bool any = inside.size() > 4 && inside.compare(inside.size() - 4, 4, ",...") == 0;
    if (any)
        inside.resize(inside.size() - 4);
    int required = 1, more = 0, depth = 0;
    for (char c : inside) {
        depth += c == '[' ? 1 : c == ']' ? -1 : 0;
        if (c == ',')
            ++(depth ? more : required);
    }
    return {optional ? 0 : required, any ? -1 : required + more};
}

std::set<std::string> table_synopses() {
    std::set<std::string> out;
    for (const auto& g : generator_table())
        out.insert(std::string(g.synopsis));
    return out;
}

std::set<std::string> table_names(bool bare_ok_only) {
    std::set<std::string> out;
    for (const auto& g : generator_table())
        if (!bare_ok_only || g.spelling == generator_spelling::call_or_bare)
            out.insert(std::string(g.name));
    return out;
}

} // namespace

TEST_CASE("generator table: each synopsis shows the arity and spelling the parser takes") {
    for (const auto& g : generator_table()) {
        INFO(g.synopsis);
        REQUIRE(g.synopsis.substr(0, g.name.size()) == g.name);
        auto [min, max] = synopsis_arity(g);
        CHECK(min == g.min_args);
        CHECK(max == g.max_args);
        bool without_parentheses = g.synopsis == g.name || g.synopsis.find("[(") == g.name.size();
        CHECK(without_parentheses == (g.spelling != generator_spelling::call));
    }
}

TEST_CASE("generator table: the parser dispatches every name through it") {
    for (const auto& g : generator_table()) {
        const std::string name(g.name);
        INFO(name);
        if (g.spelling == generator_spelling::call) {
            CHECK_THROWS_WITH(parse_generator(name, "c"),
                              Catch::Contains("unknown generator \"" + name + "\" (quote a constant"));
        } else {
            CHECK(parse_generator(name, "c")->spec() == name);
        }
        if (g.spelling == generator_spelling::bare) {
            CHECK_THROWS_WITH(parse_generator(name + "()", "c"), Catch::Contains("unknown generator \"" + name + "\""));
        } else if (g.max_args >= 0) {
            std::string args = "1";
            for (int k = 0; k < g.max_args; ++k)
                args += ",1";
            CHECK_THROWS_WITH(parse_generator(name + "(" + args + ")", "c"),
                              Catch::Contains("column c: " + name + " takes ") &&
                                  Catch::Contains(", not " + std::to_string(g.max_args + 1)));
        }
    }
    CHECK_THROWS_WITH(parse_generator("choice()", "c"), Catch::Contains("choice needs at least one value"));
    CHECK_THROWS_WITH(parse_generator("cycle('a':2)", "c"), Catch::Contains("cycle takes no weights"));
    CHECK(parse_generator("float", "c")->kind() == value_kind::real);
    CHECK_THROWS_WITH(parse_generator("float(1)", "c"), Catch::Contains("float takes no arguments or two (LO,HI)"));
}

TEST_CASE("generator table: pggen(1) heads an entry for each generator and no other") {
    CHECK(man_headings() == table_synopses());
    CHECK(man_bare_names() == table_names(true));
}

TEST_CASE("generator table: the bash completion offers each generator and no other") {
    CHECK(completion_names() == table_names(false));
}

TEST_CASE("generators are checked against column types by kind") {
    struct fit {
        const char* gen;
        const char* type;
        const char* refusal; // nullptr: it fits
    };
    const fit cases[] = {
        {"seq", "float8", nullptr},
        {"numeric(0,9,2)", "real", nullptr},
        {"'{}'", "jsonb", nullptr},
        {"date", "timestamptz", nullptr},
        {"uuid", "varchar(36)", nullptr},
        {"array(int(1,9))", "text", nullptr},
        {"null", "int4[]", nullptr},
        {"bytes", "text", "it makes bytes"},
        {"timestamp", "date", "it makes timestamps"},
        {"time", "interval", "it makes times of day"},
        {"json", "bytea", "it makes JSON"},
        {"bool", "int4", "it makes booleans"},
        {"float", "numeric", "it makes floating-point numbers"},
        {"numeric(0,9,2)", "int8", "it makes decimal numbers"},
        {"numeric(0,9,3)", "numeric(5,2)", "values with 3 decimals, the column keeps 2"},
        {"int(1,99999)", "numeric(4,0)", "values up to 99999 need more than 4 integer digits"},
        {"seq(1000)", "varchar(3)", "values up to 4 characters, the column holds 3"},
        {"array(seq)", "char(9)", "arrays go into array columns"},
        {"seq", "int4[]", "the column is an array"},
        {"array(int(1,70000))", "int2[]", "values from 1 to 70000, the column holds -32768 to 32767"},
    };
    const row_range rows{1, 100};
    for (const auto& c : cases) {
        INFO(c.gen << " into " << c.type);
        auto check = [&] { check_generator_fits(*parse_generator(c.gen, "c"), parse_type_name(c.type), "c", rows); };
        if (c.refusal)
            CHECK_THROWS_WITH(check(), Catch::Contains("does not fit type") && Catch::Contains(c.refusal));
        else
            CHECK_NOTHROW(check());
    }
}
