// input_stream: plain and zstd input, read in chunks of every size.
#include "core/error.hpp"
#include "io/input.hpp"
#include "temp_file.hpp"

#include <catch2/catch.hpp>
#include <zstd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <unistd.h>

using namespace pgpipe;
using pgpipe::test::temp_file;

namespace {

std::string compress(const std::string& data, int level = 3) {
    std::string out(ZSTD_compressBound(data.size()), '\0');
    size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level);
    REQUIRE_FALSE(ZSTD_isError(n));
    out.resize(n);
    return out;
}

// As the zstd command line writes it: with a content checksum, without
// which corrupt literals cannot be told from data.
std::string compress_checked(const std::string& data) {
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    std::string out(ZSTD_compressBound(data.size()), '\0');
    size_t n = ZSTD_compress2(cctx, out.data(), out.size(), data.data(), data.size());
    ZSTD_freeCCtx(cctx);
    REQUIRE_FALSE(ZSTD_isError(n));
    out.resize(n);
    return out;
}

std::string read_all(input_stream& in, size_t chunk) {
    std::string out;
    std::string buf(chunk, '\0');
    while (size_t n = in.read(buf.data(), buf.size()))
        out.append(buf.data(), n);
    return out;
}

std::string sample(size_t size) {
    std::mt19937 rng(42);
    std::string s;
    s.reserve(size);
    while (s.size() < size)
        s += std::to_string(rng()) + "\tvalue " + std::to_string(s.size() % 97) + "\n";
    s.resize(size);
    return s;
}

} // namespace

TEST_CASE("plain files come through unchanged, whatever the chunk size") {
    std::string data = sample(3 << 20);
    temp_file f(data);
    for (size_t chunk : {size_t{1} << 20, size_t{4096}, size_t{7}}) {
        if (chunk == 7)
            data.resize(200000); // keep the one-byte-ish pass quick
        temp_file g(data);
        input_stream in(g.path);
        CHECK(read_all(in, chunk) == data);
        CHECK_FALSE(in.compressed());
        CHECK(in.raw_size() == data.size());
        CHECK(in.raw_bytes_read() == data.size());
    }
}

TEST_CASE("empty and tiny files are plain") {
    temp_file empty("");
    input_stream a(empty.path);
    CHECK(read_all(a, 100).empty());
    temp_file tiny("ab");
    input_stream b(tiny.path);
    CHECK(read_all(b, 100) == "ab");
}

TEST_CASE("zstd input is detected and decompressed") {
    std::string data = sample(5 << 20);
    temp_file f(compress(data));
    input_stream in(f.path);
    CHECK(read_all(in, 1 << 20) == data);
    CHECK(in.compressed());
}

TEST_CASE("concatenated zstd frames and skippable frames decode as one stream") {
    std::string a = sample(300000), b = "second part\n";
    std::string skippable("\x50\x2A\x4D\x18\x04\x00\x00\x00meta", 12);
    temp_file f(skippable + compress(a) + compress(b, 19));
    input_stream in(f.path);
    CHECK(read_all(in, 65536) == a + b);
}

TEST_CASE("a truncated zstd frame is an error naming the byte offset") {
    std::string packed = compress(sample(2 << 20));
    size_t cut = packed.size() / 2;
    temp_file f(packed.substr(0, cut));
    input_stream in(f.path);
    try {
        read_all(in, 1 << 20);
        FAIL("no error");
    } catch (const error& e) {
        CHECK(e.status() == exit_status::local_error);
        CHECK_THAT(e.what(), Catch::Contains("truncated zstd frame"));
        CHECK_THAT(e.what(), Catch::Contains("byte offset " + std::to_string(cut)));
    }
}

TEST_CASE("corrupt zstd data is an error") {
    std::string packed = compress_checked(sample(1 << 20));
    for (size_t i = 100; i < 400; ++i)
        packed[i] = static_cast<char>(packed[i] ^ 0x5A);
    temp_file f(packed);
    input_stream in(f.path);
    CHECK_THROWS_WITH(read_all(in, 1 << 20), Catch::Contains("corrupt zstd data"));
}

TEST_CASE("unreadable inputs are named") {
    CHECK_THROWS_WITH(input_stream("/nonexistent/x.tsv"),
                      Catch::Contains("could not open \"/nonexistent/x.tsv\""));
    CHECK_THROWS_WITH(input_stream("/tmp"), Catch::Contains("Is a directory"));
    CHECK_THROWS_WITH(check_inputs_readable({"-", "/nonexistent"}), Catch::Contains("/nonexistent"));
    CHECK_NOTHROW(check_inputs_readable({"-"}));
}

TEST_CASE("the zstd magic is recognized exactly") {
    const unsigned char frame[] = {0x28, 0xB5, 0x2F, 0xFD};
    const unsigned char skip[] = {0x5E, 0x2A, 0x4D, 0x18};
    const unsigned char text[] = {'1', '\t', '2', '\n'};
    CHECK(starts_with_zstd_magic(frame, 4));
    CHECK(starts_with_zstd_magic(skip, 4));
    CHECK_FALSE(starts_with_zstd_magic(text, 4));
    CHECK_FALSE(starts_with_zstd_magic(frame, 3));
}

TEST_CASE("no input given means standard input") {
    using paths = std::vector<std::string>;
    CHECK(inputs_or_stdin({}) == paths{"-"});
    CHECK(inputs_or_stdin({"a.tsv", "-", "b.tsv"}) == paths{"a.tsv", "-", "b.tsv"});
    CHECK(input_display_name(inputs_or_stdin({})[0]) == "stdin");
}
