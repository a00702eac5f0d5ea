// Generators: the spec grammar, the generators it names and their values.
#include "generator.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace pgpipe {

// A small vocabulary of plain English words, enough for text that looks like
// text without a dictionary file: one string, split once.
constexpr std::string_view vocabulary = R"(
able about account acid across action after again against age agent air all amount angle animal
answer apple arch arm army art attack autumn awake baby back balance ball band base basin basket
bath bed bell berry bird birth bit blade blue board boat body bone book boot bottle box brain
brake branch brass bread brick bridge bright brother brush bucket bulb burn butter button cake
camera canvas card care cart cause chain chalk chance change cheese chest chief chin circle
clean clear clock cloth cloud coal coat collar colour comb comfort copper copy cord cork cotton
cough country cover crack credit crime cruel crush cry cup current curtain curve cushion damage
danger dark daughter day death debt decision deep degree design desire detail dinner direction
dirty discovery dog door drain drawer dress drink drop dust early earth edge effect egg engine
error event example expert eye face fact family farm father feather feeling field fight finger
fire fish flag flame flight floor flower fold food foot force fork form frame friend front fruit
garden gate glass glove goat gold grain grass green grip group growth guide gun hair hammer hand
harbour harmony hat head heart heat history hole hook hope horn horse hour house humour idea
impulse increase ink insect iron island jelly jewel join journey judge jump kettle key kick kiss
knee knife knot land language laugh lead leaf leather letter level library lift light limit line
linen lip liquid list lock look loss love machine map mark market mass meal measure meat memory
metal milk mind mine minute mist money monkey month moon morning mother motion mountain mouth
muscle music nail name nation neck needle nerve net news night noise nose note number nut offer
office oil orange order oven owner page pain paint paper parcel paste payment peace pen pencil
person picture pig pin pipe place plane plant plate play pleasure plough pocket point poison
polish porter pot powder power price print prison process profit property prose protest pull
pump punishment purpose push quality question rail rain range rat rate ray reading reason
receipt record regret relation religion request respect rest reward rhythm rice ring river road
rod roll roof room root rule run sail salt sand scale school science screw sea seat secretary
seed sense servant shade shake shame sheep shelf ship shirt shock shoe side sign silk silver
sister size skin skirt sky sleep slope smash smell smile smoke snake sneeze snow soap society
sock soda son song sort sound soup space spade sponge spoon spring square stage stamp star start
station steam steel stem step stick stitch stocking stomach stone store story street stretch
structure sugar summer sun support surprise swim system table tail talk taste tax teaching
tendency test theory thing thought thread throat thumb thunder ticket time tin toe tongue tooth
top touch town trade train tray tree trick trouble trousers turn twist umbrella unit use value
verse vessel view voice walk wall war wash waste watch water wave wax way weather week weight
wheel whip whistle window wine wing winter wire woman wood wool word work worm wound writing
year yellow youth zinc
)";

const std::vector<std::string_view>& word_list() {
    static const std::vector<std::string_view> words = [] {
        std::vector<std::string_view> out;
        size_t at = 0;
        while ((at = vocabulary.find_first_not_of(" \n", at)) != std::string_view::npos) {
            size_t end = std::min(vocabulary.find_first_of(" \n", at), vocabulary.size());
            out.push_back(vocabulary.substr(at, end - at));
            at = end;
        }
        return out;
    }();
    return words;
}

column_type generator::default_type(const row_range& rows) const {
    column_type t;
    switch (kind()) {
    case value_kind::integer: {
        auto range = int_range(rows);
        bool fits4 = range && range->first >= std::numeric_limits<int32_t>::min() &&
                     range->second <= std::numeric_limits<int32_t>::max();
        t.base = fits4 ? pg_type::int4 : pg_type::int8;
        break;
    }
    case value_kind::decimal: t.base = pg_type::numeric; break;
    case value_kind::real: t.base = pg_type::float8; break;
    case value_kind::boolean: t.base = pg_type::boolean; break;
    case value_kind::bytes: t.base = pg_type::bytea; break;
    case value_kind::date: t.base = pg_type::date; break;
    case value_kind::time: t.base = pg_type::time; break;
    case value_kind::timestamp: t.base = pg_type::timestamp; break;
    case value_kind::interval: t.base = pg_type::interval; break;
    case value_kind::uuid: t.base = pg_type::uuid; break;
    case value_kind::json: t.base = pg_type::jsonb; break;
    case value_kind::array:
        t = element()->default_type(rows);
        t.is_array = true;
        t.name += "[]";
        return t;
    default: t.base = pg_type::text; break;
    }
    t.name = type_sql_name(t.base);
    return t;
}

namespace {

// ---------------------------------------------------------------- parsing

struct node {
    std::string text;          // name, word or string contents
    bool quoted = false;       // a '...' or "..." literal
    bool call = false;         // name(args)
    std::vector<node> args;
    std::optional<std::string> weight; // choice(a:3)
    std::string source;        // the node's own spec text
};

class parser {
public:
    parser(std::string_view text, const std::string& column) : m_text(text), m_column(column) {}

    node parse_spec() {
        skip();
        node n = parse_term();
        skip();
        if (m_pos < m_text.size())
            fail("unexpected \"" + std::string(m_text.substr(m_pos, 1)) + "\"");
        return n;
    }

    [[noreturn]] void fail(const std::string& what) const {
        throw local_error("column " + m_column + ": " + what + " in generator \"" + std::string(m_text) +
                              "\" at character " + std::to_string(m_pos + 1),
                          {}, "see GENERATORS in pggen(1)");
    }

private:
    void skip() {
        while (m_pos < m_text.size() && (m_text[m_pos] == ' ' || m_text[m_pos] == '\t'))
            ++m_pos;
    }

    node parse_term() {
        size_t start = m_pos;
        node n = parse_atom();
        skip();
        // "|null(P)" wraps whatever came before it.
        while (m_pos < m_text.size() && m_text[m_pos] == '|') {
            ++m_pos;
            skip();
            node modifier = parse_atom();
            if (!modifier.call || modifier.text != "null" || modifier.args.size() != 1)
                fail("expected null(RATE) after |");
            node wrapped;
            wrapped.text = "|null";
            wrapped.call = true;
            wrapped.args = {std::move(n), std::move(modifier.args[0])};
            n = std::move(wrapped);
            skip();
        }
        n.source = std::string(m_text.substr(start, m_pos - start));
        return n;
    }

    node parse_atom() {
        if (m_pos >= m_text.size())
            fail("missing generator");
        char c = m_text[m_pos];
        if (c == '\'' || c == '"')
            return parse_quoted(c);
        node n = parse_word();
        skip();
        if (m_pos < m_text.size() && m_text[m_pos] == '(') {
            n.call = true;
            ++m_pos;
            parse_args(n);
        }
        return n;
    }

    // Inside, the quote character is written twice.
    node parse_quoted(char quote) {
        node n;
        n.quoted = true;
        ++m_pos;
        for (;;) {
            if (m_pos >= m_text.size())
                fail("unterminated quoted string");
            if (m_text[m_pos] == quote) {
                if (m_pos + 1 < m_text.size() && m_text[m_pos + 1] == quote) {
                    n.text += quote;
                    m_pos += 2;
                    continue;
                }
                ++m_pos;
                return n;
            }
            n.text += m_text[m_pos++];
        }
    }

    node parse_word() {
        node n;
        size_t start = m_pos;
        // Colons stay in words (timestamps); choice() reads a trailing
        // ":weight" itself.
        while (m_pos < m_text.size() && !std::strchr(",()|'\"", m_text[m_pos]))
            ++m_pos;
        n.text = std::string(m_text.substr(start, m_pos - start));
        while (!n.text.empty() && (n.text.back() == ' ' || n.text.back() == '\t'))
            n.text.pop_back();
        if (n.text.empty())
            fail("missing value");
        return n;
    }

    // After the "(", through the ")".
    void parse_args(node& n) {
        skip();
        if (m_pos < m_text.size() && m_text[m_pos] == ')') {
            ++m_pos;
            return;
        }
        for (;;) {
            skip();
            node arg = parse_term();
            skip();
            if (m_pos < m_text.size() && m_text[m_pos] == ':')
                arg.weight = parse_weight();
            n.args.push_back(std::move(arg));
            skip();
            if (m_pos >= m_text.size())
                fail("missing )");
            if (m_text[m_pos] == ')') {
                ++m_pos;
                return;
            }
            if (m_text[m_pos] != ',')
                fail("expected , or )");
            ++m_pos;
        }
    }

    // The ":weight" after a choice() value, unchecked: choice reads it.
    std::string parse_weight() {
        ++m_pos;
        skip();
        size_t w = m_pos;
        while (m_pos < m_text.size() && !std::strchr(",)", m_text[m_pos]))
            ++m_pos;
        return std::string(m_text.substr(w, m_pos - w));
    }

    std::string_view m_text;
    size_t m_pos = 0;
    const std::string& m_column;
};

// ---------------------------------------------------------------- helpers

struct context {
    const std::string& column;
    std::string_view spec;
    [[noreturn]] void fail(const std::string& what) const {
        throw local_error("column " + column + ": " + what + " in \"" + std::string(spec) + "\"", {},
                          "see GENERATORS in pggen(1)");
    }
    int64_t integer(const node& n, const char* what) const {
        if (n.call)
            fail(std::string(what) + " must be a number");
        try {
            size_t used = 0;
            long long v = std::stoll(n.text, &used);
            if (used != n.text.size())
                throw std::invalid_argument(n.text);
            return v;
        } catch (const std::exception&) {
            fail(std::string(what) + " must be a whole number, not \"" + n.text + "\"");
        }
    }
    double real(const node& n, const char* what) const {
        if (n.call)
            fail(std::string(what) + " must be a number");
        try {
            size_t used = 0;
            double v = std::stod(n.text, &used);
            if (used != n.text.size() || !std::isfinite(v))
                throw std::invalid_argument(n.text);
            return v;
        } catch (const std::exception&) {
            fail(std::string(what) + " must be a number, not \"" + n.text + "\"");
        }
    }
    void arity(const node& n, size_t min, size_t max) const {
        if (n.args.size() < min || n.args.size() > max)
            fail(n.text + " takes " +
                 (min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max)) +
                 " argument" + (max == 1 ? "" : "s") + ", not " + std::to_string(n.args.size()));
    }
    int64_t timestamp(const node& n, const char* what) const {
        auto us = parse_timestamp_us(n.text);
        if (n.call || !us)
            fail(std::string(what) + " must be a date or timestamp (YYYY-MM-DD[ HH:MM:SS]), not \"" + n.text + "\"");
        return *us;
    }
};

// A decimal literal ("0.99", "-3", "12.5000") as mantissa and scale.
std::optional<std::pair<int64_t, int32_t>> parse_decimal(const std::string& text) {
    if (text.empty())
        return std::nullopt;
    size_t i = 0;
    bool negative = text[0] == '-';
    if (negative || text[0] == '+')
        ++i;
    int64_t mantissa = 0;
    int32_t scale = 0;
    bool point = false, any = false;
    for (; i < text.size(); ++i) {
        char c = text[i];
        if (c == '.' && !point) {
            point = true;
            continue;
        }
        if (c < '0' || c > '9' || mantissa > (std::numeric_limits<int64_t>::max() - 9) / 10)
            return std::nullopt;
        mantissa = mantissa * 10 + (c - '0');
        any = true;
        if (point)
            ++scale;
    }
    if (!any)
        return std::nullopt;
    return std::make_pair(negative ? -mantissa : mantissa, scale);
}

// ---------------------------------------------------------------- generators

class seq_gen final : public generator {
public:
    seq_gen(int64_t start, int64_t step) : m_start(start), m_step(step) {}
    value_kind kind() const override { return value_kind::integer; }
    void generate(uint64_t row, cell_rng&, value& out) override {
        out.kind = value_kind::integer;
        out.i = m_start + static_cast<int64_t>(row - 1) * m_step;
    }
    bool unique() const override { return m_step != 0; }
    std::optional<std::pair<int64_t, int64_t>> int_range(const row_range& r) const override {
        int64_t a = m_start + static_cast<int64_t>(r.first - 1) * m_step;
        int64_t b = m_start + static_cast<int64_t>(r.last - 1) * m_step;
        return std::make_pair(std::min(a, b), std::max(a, b));
    }

private:
    int64_t m_start, m_step;
};

// (i mod n) + offset, or, with block set, (i - 1) / n + offset.
class modular_gen final : public generator {
public:
    modular_gen(int64_t n, int64_t offset, int32_t scale, bool block)
        : m_n(n), m_offset(offset), m_scale(scale), m_block(block), m_unit(power_of_ten(scale)) {}
    value_kind kind() const override { return m_scale ? value_kind::decimal : value_kind::integer; }
    void generate(uint64_t row, cell_rng&, value& out) override {
        int64_t base = m_block ? static_cast<int64_t>((row - 1) / static_cast<uint64_t>(m_n))
                               : static_cast<int64_t>(row % static_cast<uint64_t>(m_n));
        out.kind = kind();
        out.i = base * m_unit + m_offset;
        out.scale = m_scale;
    }
    int32_t scale() const override { return m_scale; }
    std::optional<std::pair<int64_t, int64_t>> int_range(const row_range& r) const override {
        if (m_scale)
            return std::nullopt;
        if (m_block)
            return std::make_pair(static_cast<int64_t>((r.first - 1) / static_cast<uint64_t>(m_n)) + m_offset,
                                  static_cast<int64_t>((r.last - 1) / static_cast<uint64_t>(m_n)) + m_offset);
        return std::make_pair(m_offset, m_offset + m_n - 1);
    }
    std::optional<int64_t> max_magnitude(const row_range& r) const override {
        int64_t top = m_block ? static_cast<int64_t>((r.last - 1) / static_cast<uint64_t>(m_n)) : m_n - 1;
        return std::max(std::abs(m_offset), std::abs(top * m_unit + m_offset));
    }

private:
    int64_t m_n, m_offset;
    int32_t m_scale;
    bool m_block;
    int64_t m_unit;
};

class int_gen final : public generator {
public:
    enum class shape { uniform, normal, zipf };
    int_gen(int64_t lo, int64_t hi, shape s, double exponent) : m_lo(lo), m_hi(hi), m_shape(s), m_s(exponent) {
        if (s == shape::zipf)
            setup_zipf();
    }
    value_kind kind() const override { return value_kind::integer; }
    void generate(uint64_t, cell_rng& rng, value& out) override {
        out.kind = value_kind::integer;
        switch (m_shape) {
        case shape::uniform: out.i = rng.between(m_lo, m_hi); break;
        case shape::normal: {
            // Box-Muller; mean in the middle, six standard deviations across.
            double u1 = rng.uniform(), u2 = rng.uniform();
            double z = std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(6.283185307179586 * u2);
            double mid = (static_cast<double>(m_lo) + static_cast<double>(m_hi)) / 2;
            double sd = (static_cast<double>(m_hi) - static_cast<double>(m_lo)) / 6;
            double x = std::round(mid + z * sd);
            out.i = static_cast<int64_t>(std::clamp(x, static_cast<double>(m_lo), static_cast<double>(m_hi)));
            break;
        }
        case shape::zipf: out.i = m_lo + zipf_rank(rng) - 1; break;
        }
    }
    std::optional<std::pair<int64_t, int64_t>> int_range(const row_range&) const override {
        return std::make_pair(m_lo, m_hi);
    }

private:
    // Rejection-inversion sampling (Hörmann and Derflinger): rank k in
    // 1..n with probability proportional to k^-s, in constant memory.
    double h(double x) const { return std::exp(-m_s * std::log(x)); }
    double big_h(double x) const {
        double log_x = std::log(x);
        double t = (1 - m_s) * log_x;
        return std::abs(t) > 1e-8 ? std::expm1(t) / (1 - m_s) : log_x * (1 + t / 2);
    }
    double big_h_inverse(double x) const {
        double t = x * (1 - m_s);
        if (t < -1)
            t = -1;
        return std::exp(std::abs(t) > 1e-8 ? std::log1p(t) / (1 - m_s) : x * (1 - t / 2));
    }
    void setup_zipf() {
        m_n = static_cast<double>(m_hi - m_lo + 1);
        m_h_x1 = big_h(1.5) - 1;
        m_h_n = big_h(m_n + 0.5);
        m_cut = 2 - big_h_inverse(big_h(2.5) - h(2));
    }
    int64_t zipf_rank(cell_rng& rng) const {
        for (;;) {
            double u = m_h_n + rng.uniform() * (m_h_x1 - m_h_n);
            double x = big_h_inverse(u);
            double k = std::clamp(std::floor(x + 0.5), 1.0, m_n);
            if (k - x <= m_cut || u >= big_h(k + 0.5) - h(k))
                return static_cast<int64_t>(k);
        }
    }

    int64_t m_lo, m_hi;
    shape m_shape;
    double m_s;
    double m_n = 0, m_h_x1 = 0, m_h_n = 0, m_cut = 0;
};

class numeric_gen final : public generator {
public:
    numeric_gen(int64_t lo, int64_t hi, int32_t scale) : m_lo(lo), m_hi(hi), m_scale(scale) {}
    value_kind kind() const override { return value_kind::decimal; }
    void generate(uint64_t, cell_rng& rng, value& out) override {
        out.kind = value_kind::decimal;
        out.i = rng.between(m_lo, m_hi);
        out.scale = m_scale;
    }
    int32_t scale() const override { return m_scale; }
    std::optional<int64_t> max_magnitude(const row_range&) const override {
        return std::max(std::abs(m_lo), std::abs(m_hi));
    }

private:
    int64_t m_lo, m_hi; // as mantissas
    int32_t m_scale;
};

class float_gen final : public generator {
public:
    float_gen(double lo, double hi) : m_lo(lo), m_hi(hi) {}
    value_kind kind() const override { return value_kind::real; }
    void generate(uint64_t, cell_rng& rng, value& out) override {
        out.kind = value_kind::real;
        out.d = m_lo + rng.uniform() * (m_hi - m_lo);
    }

private:
    double m_lo, m_hi;
};

class bool_gen final : public generator {
public:
    explicit bool_gen(double p) : m_p(p) {}
    value_kind kind() const override { return value_kind::boolean; }
    void generate(uint64_t, cell_rng& rng, value& out) override {
        out.kind = value_kind::boolean;
        out.i = rng.uniform() < m_p;
    }

private:
    double m_p;
};

// choice (random, maybe weighted) and cycle (by row number) over strings.
class choice_gen final : public generator {
public:
    choice_gen(std::vector<std::string> options, std::vector<double> weights, bool cycle)
        : m_options(std::move(options)), m_cycle(cycle) {
        double total = 0;
        for (double w : weights)
            total += w;
        double acc = 0;
        for (double w : weights) {
            acc += w / total;
            m_cumulative.push_back(acc);
        }
        for (const auto& o : m_options) {
            m_max = std::max(m_max, utf8_length(o));
            m_plain.push_back(is_plain_text(o));
        }
    }
    value_kind kind() const override { return value_kind::string; }
    void generate(uint64_t row, cell_rng& rng, value& out) override {
        out.kind = value_kind::string;
        size_t k;
        if (m_cycle) {
            k = row % m_options.size();
        } else {
            double u = rng.uniform();
            k = static_cast<size_t>(std::upper_bound(m_cumulative.begin(), m_cumulative.end(), u) -
                                    m_cumulative.begin());
            if (k >= m_options.size())
                k = m_options.size() - 1;
        }
        out.s = m_options[k];
        out.plain = m_plain[k];
    }
    size_t max_chars(const row_range&) const override { return m_max; }

private:
    std::vector<std::string> m_options;
    std::vector<bool> m_plain;
    std::vector<double> m_cumulative;
    bool m_cycle;
    size_t m_max = 0;
};

class letters_gen final : public generator {
public:
    letters_gen(int64_t lo, int64_t hi) : m_lo(lo), m_hi(hi) {}
    value_kind kind() const override { return value_kind::string; }
    void generate(uint64_t, cell_rng& rng, value& out) override {
        size_t len = static_cast<size_t>(rng.between(m_lo, m_hi));
        m_buf.resize(len);
        for (size_t k = 0; k < len;) {
            uint64_t bits = rng.next();
            // 12 letters from 64 random bits, 5 bits each (modulo bias is fine here).
            for (int j = 0; j < 12 && k < len; ++j, bits >>= 5)
                m_buf[k++] = static_cast<char>('a' + (bits & 31) % 26);
        }
        out.kind = value_kind::string;
        out.s = m_buf;
        out.plain = len > 0;
    }
    size_t max_chars(const row_range&) const override { return static_cast<size_t>(m_hi); }

private:
    int64_t m_lo, m_hi;
    std::string m_buf;
};

class words_gen final : public generator {
public:
    words_gen(int64_t lo, int64_t hi) : m_lo(lo), m_hi(hi) {
        for (auto w : word_list())
            m_longest = std::max(m_longest, w.size());
    }
    value_kind kind() const override { return value_kind::string; }
    void generate(uint64_t, cell_rng& rng, value& out) override {
        const auto& words = word_list();
        int64_t n = rng.between(m_lo, m_hi);
        m_buf.clear();
        for (int64_t k = 0; k < n; ++k) {
            if (k)
                m_buf += ' ';
            m_buf += words[static_cast<size_t>(rng.between(0, static_cast<int64_t>(words.size()) - 1))];
        }
        out.kind = value_kind::string;
        out.s = m_buf;
        out.plain = n > 0;
    }
    size_t max_chars(const row_range&) const override {
        return static_cast<size_t>(m_hi) * (m_longest + 1);
    }

private:
    int64_t m_lo, m_hi;
    size_t m_longest = 0;
    std::string m_buf;
};

// A template: literal parts with {i} (the row number) in between.
class template_gen final : public generator {
public:
    explicit template_gen(const std::string& text) {
        size_t pos = 0;
        for (;;) {
            size_t at = text.find("{i}", pos);
            m_parts.push_back(text.substr(pos, at == std::string::npos ? std::string::npos : at - pos));
            if (at == std::string::npos)
                break;
            pos = at + 3;
        }
        std::string all;
        for (const auto& p : m_parts) {
            m_fixed += utf8_length(p);
            all += p;
        }
        m_plain = is_plain_text(all + "0");
    }
    value_kind kind() const override { return value_kind::string; }
    void generate(uint64_t row, cell_rng&, value& out) override {
        m_buf.clear();
        char digits[24];
        char* end = format_int(digits, static_cast<int64_t>(row));
        for (size_t k = 0; k < m_parts.size(); ++k) {
            if (k)
                m_buf.append(digits, static_cast<size_t>(end - digits));
            m_buf += m_parts[k];
        }
        out.kind = value_kind::string;
        out.s = m_buf;
        out.plain = m_plain;
    }
    bool unique() const override { return m_parts.size() > 1; }
    size_t max_chars(const row_range& r) const override {
        return m_fixed + (m_parts.size() - 1) * std::to_string(r.last).size();
    }

private:
    std::vector<std::string> m_parts;
    size_t m_fixed = 0;
    bool m_plain = false;
    std::string m_buf;
};

class const_gen final : public generator {
public:
    explicit const_gen(std::string text) : m_text(std::move(text)), m_plain(is_plain_text(m_text)) {}
    value_kind kind() const override { return value_kind::string; }
    void generate(uint64_t, cell_rng&, value& out) override {
        out.kind = value_kind::string;
        out.s = m_text;
        out.plain = m_plain;
    }
    size_t max_chars(const row_range&) const override { return utf8_length(m_text); }

private:
    std::string m_text;
    bool m_plain;
};

class const_number_gen final : public generator {
public:
    const_number_gen(int64_t mantissa, int32_t scale) : m_mantissa(mantissa), m_scale(scale) {}
    value_kind kind() const override { return m_scale ? value_kind::decimal : value_kind::integer; }
    void generate(uint64_t, cell_rng&, value& out) override {
        out.kind = kind();
        out.i = m_mantissa;
        out.scale = m_scale;
    }
    int32_t scale() const override { return m_scale; }
    std::optional<std::pair<int64_t, int64_t>> int_range(const row_range&) const override {
        if (m_scale)
            return std::nullopt;
        return std::make_pair(m_mantissa, m_mantissa);
    }
    std::optional<int64_t> max_magnitude(const row_range&) const override { return std::abs(m_mantissa); }

private:
    int64_t m_mantissa;
    int32_t m_scale;
};

class null_gen final : public generator {
public:
    value_kind kind() const override { return value_kind::null; }
    void generate(uint64_t, cell_rng&, value& out) override { out.kind = value_kind::null; }
};

class uuid_gen final : public generator {
public:
    explicit uuid_gen(uint64_t key) : m_key(key) {}
    value_kind kind() const override { return value_kind::uuid; }
    void generate(uint64_t row, cell_rng& rng, value& out) override {
        // 60 bits from a bijection of the row (so no two rows share a UUID),
        // laid around the version nibble; the variant and 62 random bits fill
        // the rest.
        uint64_t hi = mix60(row ^ m_key), lo = rng.next();
        for (int b = 0; b < 6; ++b)
            out.uuid[static_cast<size_t>(b)] = static_cast<uint8_t>(hi >> (52 - 8 * b));
        out.uuid[6] = static_cast<uint8_t>(0x40 | ((hi >> 8) & 0x0F)); // version 4
        out.uuid[7] = static_cast<uint8_t>(hi);
        for (int b = 0; b < 8; ++b)
            out.uuid[static_cast<size_t>(8 + b)] = static_cast<uint8_t>(lo >> (56 - 8 * b));
        out.uuid[8] = static_cast<uint8_t>((out.uuid[8] & 0x3F) | 0x80); // RFC 4122 variant
        out.kind = value_kind::uuid;
    }
    bool unique() const override { return true; }

private:
    // Each step is a bijection on 60-bit numbers: odd multipliers modulo
    // 2^60 and right xor-shifts.
    static uint64_t mix60(uint64_t x) {
        constexpr uint64_t mask = (uint64_t{1} << 60) - 1;
        x &= mask;
        x = (x * 0x9E3779B97F4A7C15ULL) & mask;
        x ^= x >> 29;
        x = (x * 0xBF58476D1CE4E5B9ULL) & mask;
        x ^= x >> 32;
        return x;
    }
    uint64_t m_key;
};

class time_range_gen final : public generator {
public:
    time_range_gen(value_kind k, int64_t lo, int64_t hi, bool tz) : m_kind(k), m_lo(lo), m_hi(hi), m_tz(tz) {}
    value_kind kind() const override { return m_kind; }
    void generate(uint64_t, cell_rng& rng, value& out) override {
        out.kind = m_kind;
        out.i = rng.between(m_lo, m_hi);
    }
    column_type default_type(const row_range& rows) const override {
        column_type t = generator::default_type(rows);
        if (m_tz) {
            t.base = pg_type::timestamptz;
            t.name = type_sql_name(t.base);
        }
        return t;
    }

private:
    value_kind m_kind;
    int64_t m_lo, m_hi;
    bool m_tz;
};

class interval_gen final : public generator {
public:
    explicit interval_gen(int64_t max_days) : m_max_days(max_days) {}
    value_kind kind() const override { return value_kind::interval; }
    void generate(uint64_t, cell_rng& rng, value& out) override {
        out.kind = value_kind::interval;
        out.months = 0;
        out.days = static_cast<int32_t>(rng.between(0, m_max_days));
        out.i = rng.between(0, 86400LL * 1000000 - 1) / 1000000 * 1000000; // whole seconds
    }

private:
    int64_t m_max_days;
};

class bytes_gen final : public generator {
public:
    bytes_gen(int64_t lo, int64_t hi) : m_lo(lo), m_hi(hi) {}
    value_kind kind() const override { return value_kind::bytes; }
    void generate(uint64_t, cell_rng& rng, value& out) override {
        size_t len = static_cast<size_t>(rng.between(m_lo, m_hi));
        m_buf.resize(len);
        for (size_t k = 0; k < len; k += 8) {
            uint64_t bits = rng.next();
            std::memcpy(m_buf.data() + k, &bits, std::min<size_t>(8, len - k));
        }
        out.kind = value_kind::bytes;
        out.s = m_buf;
    }

private:
    int64_t m_lo, m_hi;
    std::string m_buf;
};

class json_gen final : public generator {
public:
    explicit json_gen(int64_t keys) : m_keys(keys) {}
    value_kind kind() const override { return value_kind::json; }
    void generate(uint64_t row, cell_rng& rng, value& out) override {
        // {"id": 12, "word": "table", "score": 0.25, "flag": true, ...}:
        // a key per kind of JSON value, in a fixed order.
        const auto& words = word_list();
        static const char* names[] = {"id", "word", "score", "flag", "tags", "note", "count", "ref"};
        m_buf = "{";
        char tmp[32];
        for (int64_t k = 0; k < m_keys; ++k) {
            if (k)
                m_buf += ", ";
            m_buf += '"';
            m_buf += names[k % 8];
            if (k >= 8)
                m_buf += std::to_string(k / 8);
            m_buf += "\": ";
            switch (k % 8) {
            case 0: m_buf.append(tmp, static_cast<size_t>(format_int(tmp, static_cast<int64_t>(row)) - tmp)); break;
            case 1:
            case 5:
                m_buf += '"';
                m_buf += words[static_cast<size_t>(rng.between(0, static_cast<int64_t>(words.size()) - 1))];
                m_buf += '"';
                break;
            case 2: m_buf.append(tmp, static_cast<size_t>(format_decimal(tmp, rng.between(0, 10000), 4) - tmp)); break;
            case 3: m_buf += rng.next() & 1 ? "true" : "false"; break;
            case 4:
                m_buf += "[\"";
                m_buf += words[static_cast<size_t>(rng.between(0, static_cast<int64_t>(words.size()) - 1))];
                m_buf += "\", \"";
                m_buf += words[static_cast<size_t>(rng.between(0, static_cast<int64_t>(words.size()) - 1))];
                m_buf += "\"]";
                break;
            case 6: m_buf.append(tmp, static_cast<size_t>(format_int(tmp, rng.between(0, 1000)) - tmp)); break;
            default: m_buf += "null"; break;
            }
        }
        m_buf += '}';
        out.kind = value_kind::json;
        out.s = m_buf;
    }

private:
    int64_t m_keys;
    std::string m_buf;
};

class array_gen final : public generator {
public:
    array_gen(std::unique_ptr<generator> element, int64_t lo, int64_t hi)
        : m_element(std::move(element)), m_lo(lo), m_hi(hi) {
        // Each element's text lives in the element generator's buffer, which the
        // next element reuses: keep copies per slot.
        m_values.resize(static_cast<size_t>(hi));
        m_storage.resize(static_cast<size_t>(hi));
    }
    value_kind kind() const override { return value_kind::array; }
    void generate(uint64_t row, cell_rng& rng, value& out) override {
        uint32_t n = static_cast<uint32_t>(rng.between(m_lo, m_hi));
        for (uint32_t k = 0; k < n; ++k) {
            cell_rng element_rng(rng.next(), row);
            m_element->generate(row, element_rng, m_values[k]);
            if (!m_values[k].s.empty()) {
                m_storage[k].assign(m_values[k].s);
                m_values[k].s = m_storage[k];
            }
        }
        out.kind = value_kind::array;
        out.elements = m_values.data();
        out.count = n;
    }
    const generator* element() const override { return m_element.get(); }

private:
    std::unique_ptr<generator> m_element;
    int64_t m_lo, m_hi;
    std::vector<value> m_values;
    std::vector<std::string> m_storage;
};

class nullable_gen final : public generator {
public:
    nullable_gen(std::unique_ptr<generator> inner, double rate) : m_inner(std::move(inner)), m_rate(rate) {}
    value_kind kind() const override { return m_inner->kind(); }
    void generate(uint64_t row, cell_rng& rng, value& out) override {
        if (rng.uniform() < m_rate) {
            out.kind = value_kind::null;
            return;
        }
        m_inner->generate(row, rng, out);
    }
    std::optional<std::pair<int64_t, int64_t>> int_range(const row_range& r) const override {
        return m_inner->int_range(r);
    }
    int32_t scale() const override { return m_inner->scale(); }
    std::optional<int64_t> max_magnitude(const row_range& r) const override { return m_inner->max_magnitude(r); }
    size_t max_chars(const row_range& r) const override { return m_inner->max_chars(r); }
    const generator* element() const override { return m_inner->element(); }
    column_type default_type(const row_range& r) const override { return m_inner->default_type(r); }

private:
    std::unique_ptr<generator> m_inner;
    double m_rate;
};

class int_pick_gen final : public generator {
public:
    explicit int_pick_gen(std::vector<int64_t> values) : m_values(std::move(values)) {}
    value_kind kind() const override { return value_kind::integer; }
    void generate(uint64_t, cell_rng& rng, value& out) override {
        out.kind = value_kind::integer;
        out.i = m_values[static_cast<size_t>(rng.between(0, static_cast<int64_t>(m_values.size()) - 1))];
    }
    std::optional<std::pair<int64_t, int64_t>> int_range(const row_range&) const override {
        auto [lo, hi] = std::minmax_element(m_values.begin(), m_values.end());
        return std::make_pair(*lo, *hi);
    }

private:
    std::vector<int64_t> m_values;
};

// ---------------------------------------------------------------- building

std::unique_ptr<generator> build(const node& n, const context& cx);

// The builders below get a node whose argument count the table allows.

std::unique_ptr<generator> build_seq(const node& n, const context& cx) {
    return std::make_unique<seq_gen>(n.args.size() > 0 ? cx.integer(n.args[0], "the start") : 1,
                                     n.args.size() > 1 ? cx.integer(n.args[1], "the step") : 1);
}

// mod(N[,OFFSET]) and div(N[,OFFSET]).
std::unique_ptr<generator> build_modular(const node& n, const context& cx) {
    const bool div = n.text == "div";
    int64_t m = cx.integer(n.args[0], "the divisor");
    if (m < 1)
        cx.fail("the divisor must be at least 1");
    int64_t offset = div ? 1 : 0;
    int32_t scale = 0;
    if (n.args.size() > 1) {
        auto d = parse_decimal(n.args[1].text);
        if (!d || n.args[1].call)
            cx.fail("the offset must be a number, not \"" + n.args[1].text + "\"");
        offset = d->first;
        scale = d->second;
    }
    return std::make_unique<modular_gen>(m, offset, scale, div);
}

int_gen::shape int_shape(const node& n, const context& cx) {
    const std::string& d = n.text;
    if (d == "uniform")
        return int_gen::shape::uniform;
    if (d == "normal")
        return int_gen::shape::normal;
    if (d == "zipf")
        return int_gen::shape::zipf;
    cx.fail("unknown distribution \"" + d + "\" (uniform, normal or zipf)");
}

std::unique_ptr<generator> build_int(const node& n, const context& cx) {
    int64_t lo = cx.integer(n.args[0], "the low end"), hi = cx.integer(n.args[1], "the high end");
    if (lo > hi)
        cx.fail("the low end is above the high end");
    auto s = n.args.size() > 2 ? int_shape(n.args[2], cx) : int_gen::shape::uniform;
    double exponent = 1.1;
    if (n.args.size() > 3) {
        if (s != int_gen::shape::zipf)
            cx.fail("only zipf takes an exponent");
        exponent = cx.real(n.args[3], "the zipf exponent");
        if (exponent <= 0)
            cx.fail("the zipf exponent must be above 0");
    }
    return std::make_unique<int_gen>(lo, hi, s, exponent);
}

std::unique_ptr<generator> build_numeric(const node& n, const context& cx) {
    int32_t scale = n.args.size() > 2 ? static_cast<int32_t>(cx.integer(n.args[2], "the scale")) : 2;
    if (scale < 0 || scale > 15)
        cx.fail("the scale must be between 0 and 15");
    auto lo = parse_decimal(n.args[0].text), hi = parse_decimal(n.args[1].text);
    if (!lo || !hi || lo->second > scale || hi->second > scale)
        cx.fail("the range must be numbers with at most " + std::to_string(scale) + " decimals");
    int64_t lo_m = lo->first * power_of_ten(scale - lo->second);
    int64_t hi_m = hi->first * power_of_ten(scale - hi->second);
    if (lo_m > hi_m)
        cx.fail("the low end is above the high end");
    return std::make_unique<numeric_gen>(lo_m, hi_m, scale);
}

std::unique_ptr<generator> build_float(const node& n, const context& cx) {
    if (n.args.size() == 1)
        cx.fail("float takes no arguments or two (LO,HI)");
    double lo = n.args.empty() ? 0 : cx.real(n.args[0], "the low end");
    double hi = n.args.empty() ? 1 : cx.real(n.args[1], "the high end");
    if (lo > hi)
        cx.fail("the low end is above the high end");
    return std::make_unique<float_gen>(lo, hi);
}

std::unique_ptr<generator> build_bool(const node& n, const context& cx) {
    double p = n.args.empty() ? 0.5 : cx.real(n.args[0], "the probability");
    if (p < 0 || p > 1)
        cx.fail("the probability must be between 0 and 1");
    return std::make_unique<bool_gen>(p);
}

// A choice value's weight: "a:3" (parsed apart) or, unquoted, "a:3" as one
// word, since words keep their colons. Sets the value's text.
double choice_weight(node a, const context& cx, bool cycle, std::string& text) {
    if (!a.quoted && !a.weight && !cycle) {
        auto colon = a.text.rfind(':');
        if (colon != std::string::npos && parse_decimal(a.text.substr(colon + 1))) {
            a.weight = a.text.substr(colon + 1);
            a.text.resize(colon);
        }
    }
    text = a.text;
    if (!a.weight)
        return 1;
    if (cycle)
        cx.fail("cycle takes no weights");
    node wn;
    wn.text = *a.weight;
    double w = cx.real(wn, "a weight");
    if (w <= 0)
        cx.fail("weights must be above 0");
    return w;
}

// choice(VALUE[:WEIGHT],...) and cycle(VALUE,...).
std::unique_ptr<generator> build_choice(const node& n, const context& cx) {
    const std::string& name = n.text;
    const bool cycle = name == "cycle";
    if (n.args.empty())
        cx.fail(name + " needs at least one value");
    std::vector<std::string> options(n.args.size());
    std::vector<double> weights;
    for (size_t k = 0; k < n.args.size(); ++k) {
        if (n.args[k].call)
            cx.fail(name + " takes values, not generators");
        weights.push_back(choice_weight(n.args[k], cx, cycle, options[k]));
    }
    return std::make_unique<choice_gen>(std::move(options), std::move(weights), cycle);
}

// text, words and bytes: MIN to MAX letters, words or bytes.
std::unique_ptr<generator> build_lengths(const node& n, const context& cx) {
    const std::string& name = n.text;
    int64_t lo = n.args.size() > 0 ? cx.integer(n.args[0], "the shortest") : (name == "words" ? 1 : 8);
    int64_t hi = n.args.size() > 1 ? cx.integer(n.args[1], "the longest")
                                   : n.args.size() == 1 ? lo : (name == "words" ? 5 : lo);
    if (lo < 0 || lo > hi)
        cx.fail("the lengths must satisfy 0 <= shortest <= longest");
    if (hi > (1 << 26))
        cx.fail("values longer than 64 MiB are not generated");
    if (name == "text")
        return std::make_unique<letters_gen>(lo, hi);
    if (name == "bytes")
        return std::make_unique<bytes_gen>(lo, hi);
    return std::make_unique<words_gen>(lo, hi);
}

std::unique_ptr<generator> build_format(const node& n, const context&) {
    return std::make_unique<template_gen>(n.args[0].text);
}

std::unique_ptr<generator> build_repeat(const node& n, const context& cx) {
    int64_t count = cx.integer(n.args[1], "the count");
    if (count < 0 || static_cast<double>(count) * static_cast<double>(n.args[0].text.size()) > (1 << 28))
        cx.fail("the repeated value would be too long");
    std::string s;
    s.reserve(n.args[0].text.size() * static_cast<size_t>(count));
    for (int64_t k = 0; k < count; ++k)
        s += n.args[0].text;
    return std::make_unique<const_gen>(std::move(s));
}

std::unique_ptr<generator> build_const(const node& n, const context& cx) { return build(n.args[0], cx); }

std::unique_ptr<generator> build_uuid(const node&, const context& cx) {
    return std::make_unique<uuid_gen>(stable_hash(cx.column));
}

// date, timestamp and timestamptz: FROM to TO.
std::unique_ptr<generator> build_time_range(const node& n, const context& cx) {
    const std::string& name = n.text;
    int64_t lo = n.args.size() > 0 ? cx.timestamp(n.args[0], "the start") : *parse_timestamp_us("2020-01-01");
    int64_t hi = n.args.size() > 1 ? cx.timestamp(n.args[1], "the end") : *parse_timestamp_us("2026-01-01");
    if (lo > hi)
        cx.fail("the start is after the end");
    constexpr int64_t day = 86400LL * 1000000;
    auto days = [](int64_t us) { return us / day - (us % day < 0); }; // floor, for dates before 2000
    if (name == "date")
        return std::make_unique<time_range_gen>(value_kind::date, days(lo), days(hi), false);
    // Whole microseconds are fine, but whole seconds read better.
    return std::make_unique<time_range_gen>(value_kind::timestamp, lo, hi, name == "timestamptz");
}

std::unique_ptr<generator> build_time(const node&, const context&) {
    return std::make_unique<time_range_gen>(value_kind::time, 0, 86400LL * 1000000 - 1, false);
}

std::unique_ptr<generator> build_interval(const node& n, const context& cx) {
    int64_t days = n.args.empty() ? 30 : cx.integer(n.args[0], "the most days");
    if (days < 0 || days > 1000000)
        cx.fail("the most days must be between 0 and 1000000");
    return std::make_unique<interval_gen>(days);
}

std::unique_ptr<generator> build_json(const node& n, const context& cx) {
    int64_t keys = n.args.empty() ? 4 : cx.integer(n.args[0], "the number of keys");
    if (keys < 0 || keys > 1000)
        cx.fail("the number of keys must be between 0 and 1000");
    return std::make_unique<json_gen>(keys);
}

std::unique_ptr<generator> build_array(const node& n, const context& cx) {
    int64_t lo = n.args.size() > 1 ? cx.integer(n.args[1], "the fewest elements") : 0;
    int64_t hi = n.args.size() > 2 ? cx.integer(n.args[2], "the most elements") : std::max<int64_t>(lo, 4);
    if (lo < 0 || lo > hi || hi > 100000)
        cx.fail("the element counts must satisfy 0 <= fewest <= most <= 100000");
    auto element = build(n.args[0], cx);
    if (element->kind() == value_kind::array)
        cx.fail("arrays of arrays are not generated");
    return std::make_unique<array_gen>(std::move(element), lo, hi);
}

std::unique_ptr<generator> build_null(const node&, const context&) { return std::make_unique<null_gen>(); }

// GENERATOR|null(RATE), which the parser writes as a call of "|null".
std::unique_ptr<generator> build_nullable(const node& n, const context& cx) {
    double rate = cx.real(n.args[1], "the NULL rate");
    if (rate < 0 || rate > 1)
        cx.fail("the NULL rate must be between 0 and 1");
    return std::make_unique<nullable_gen>(build(n.args[0], cx), rate);
}

using builder = std::unique_ptr<generator> (*)(const node&, const context&);

struct generator_entry {
    generator_info info;
    builder build;
};

constexpr int any_number = -1;
constexpr auto call = generator_spelling::call;
constexpr auto call_or_bare = generator_spelling::call_or_bare;

// Every generator name of the grammar, in the order of GENERATORS in
// pggen(1); each synopsis is its entry's heading there, word for word.
const generator_entry generator_entries[] = {
    {{"seq", 0, 2, call_or_bare, "seq[(START[,STEP])]"}, build_seq},
    {{"int", 2, 4, call, "int(LO,HI[,DIST[,S]])"}, build_int},
    {{"mod", 1, 2, call, "mod(N[,OFFSET])"}, build_modular},
    {{"div", 1, 2, call, "div(N[,OFFSET])"}, build_modular},
    {{"numeric", 2, 3, call, "numeric(LO,HI[,SCALE])"}, build_numeric},
    {{"float", 0, 2, call_or_bare, "float[(LO,HI)]"}, build_float},
    {{"bool", 0, 1, call_or_bare, "bool[(P)]"}, build_bool},
    {{"text", 0, 2, call_or_bare, "text[(MIN[,MAX])]"}, build_lengths},
    {{"words", 0, 2, call_or_bare, "words[(MIN[,MAX])]"}, build_lengths},
    {{"choice", 1, any_number, call, "choice(VALUE[:WEIGHT],...)"}, build_choice},
    {{"cycle", 1, any_number, call, "cycle(VALUE,...)"}, build_choice},
    {{"format", 1, 1, call, "format(TEMPLATE)"}, build_format},
    {{"repeat", 2, 2, call, "repeat(STRING,N)"}, build_repeat},
    {{"uuid", 0, 0, call_or_bare, "uuid"}, build_uuid},
    {{"date", 0, 2, call_or_bare, "date[(FROM[,TO])]"}, build_time_range},
    {{"timestamp", 0, 2, call_or_bare, "timestamp[(FROM[,TO])]"}, build_time_range},
    {{"timestamptz", 0, 2, call_or_bare, "timestamptz[(FROM[,TO])]"}, build_time_range},
    {{"time", 0, 0, call_or_bare, "time"}, build_time},
    {{"interval", 0, 1, call_or_bare, "interval[(DAYS)]"}, build_interval},
    {{"json", 0, 1, call_or_bare, "json[(KEYS)]"}, build_json},
    {{"bytes", 0, 2, call_or_bare, "bytes[(MIN[,MAX])]"}, build_lengths},
    {{"array", 1, 3, call, "array(GENERATOR[,MIN[,MAX]])"}, build_array},
    {{"null", 0, 0, generator_spelling::bare, "null"}, build_null},
    {{"const", 1, 1, call, "const(GENERATOR)"}, build_const},
};

const generator_entry* find_entry(const std::string& name) {
    for (const auto& e : generator_entries)
        if (e.info.name == name)
            return &e;
    return nullptr;
}

std::unique_ptr<generator> build_call(const node& n, const context& cx) {
    if (n.text == "|null")
        return build_nullable(n, cx);
    const generator_entry* e = find_entry(n.text);
    if (!e || e->info.spelling == generator_spelling::bare)
        cx.fail("unknown generator \"" + n.text + "\"");
    // choice and cycle count their values themselves.
    if (e->info.max_args != any_number)
        cx.arity(n, static_cast<size_t>(e->info.min_args), static_cast<size_t>(e->info.max_args));
    return e->build(n, cx);
}

// A word without parentheses: null, a number, or a generator whose
// defaults do.
std::unique_ptr<generator> build_word(const node& n, const context& cx) {
    const generator_entry* e = find_entry(n.text);
    if (e && e->info.spelling == generator_spelling::bare)
        return e->build(n, cx);
    if (auto d = parse_decimal(n.text))
        return std::make_unique<const_number_gen>(d->first, d->second);
    if (!e || e->info.spelling != call_or_bare)
        cx.fail("unknown generator \"" + n.text + "\" (quote a constant: '" + n.text + "')");
    node as_call = n;
    as_call.call = true;
    return build_call(as_call, cx);
}

std::unique_ptr<generator> build(const node& n, const context& cx) {
    std::unique_ptr<generator> g;
    if (n.call)
        g = build_call(n, cx);
    else if (!n.quoted)
        g = build_word(n, cx);
    else if (n.text.find("{i}") != std::string::npos) // a template
        g = std::make_unique<template_gen>(n.text);
    else
        g = std::make_unique<const_gen>(n.text);
    g->set_spec(n.source.empty() ? n.text : n.source);
    return g;
}

} // namespace

const std::vector<generator_info>& generator_table() {
    static const std::vector<generator_info> table = [] {
        std::vector<generator_info> infos;
        for (const auto& e : generator_entries)
            infos.push_back(e.info);
        return infos;
    }();
    return table;
}

std::unique_ptr<generator> parse_generator(std::string_view spec, const std::string& column) {
    parser p(spec, column);
    node root = p.parse_spec();
    context cx{column, spec};
    auto g = build(root, cx);
    g->set_spec(std::string(spec));
    return g;
}

std::unique_ptr<generator> make_int_pick(std::vector<int64_t> values) {
    return std::make_unique<int_pick_gen>(std::move(values));
}

std::unique_ptr<generator> make_string_pick(std::vector<std::string> values) {
    std::vector<double> weights(values.size(), 1.0);
    return std::make_unique<choice_gen>(std::move(values), std::move(weights), false);
}

} // namespace pgpipe
