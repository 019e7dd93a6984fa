// libFuzzer entry point for the tokenizer FILE loader (core/text/TokenizerFiles.h, Tokenizer::fromFile):
// the input is written to disk and loaded through the path users have. Two layouts:
//   - anything else: the text of a tokenizer.json;
//   - "XOPD-SLOW\n" then sections "=== <name>\n<contents>" for vocab.json, merges.txt,
//     tokenizer_config.json and added_tokens.json: the slow-tokenizer folder.
// A load must either throw xopd::Error or give a tokenizer whose every added token encodes to, and
// decodes from, its id; whose ids all lie in [0, size()) with size() within kMaxTokenIds; and
// that round-trips sample texts (NFC'd when the file asks for NFC). Anything else (another
// exception, a broken invariant, a crash, an ASan/UBSan report) is a finding.
#include "core/common/Error.h"
#include "core/text/ByteLevel.h"
#include "core/text/Nfc.h"
#include "core/text/Tokenizer.h"
#include "core/text/Utf8.h"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace fs = std::filesystem;
using xopd::text::Tokenizer;

namespace {

const char* const kSlowMagic = "XOPD-SLOW\n";
const char* const kSlowFiles[] = {"vocab.json", "merges.txt", "tokenizer_config.json", "added_tokens.json"};

/// A private scratch folder (tmpfs when there is one), removed at exit. Never freed: the exit
/// handler runs after static destructors.
const fs::path& scratch() {
    static const fs::path* dir = [] {
        std::string pattern = (fs::exists("/dev/shm") ? "/dev/shm" : fs::temp_directory_path().string()) +
                              "/fuzz_tokenizer_file.XXXXXX";
        if (!::mkdtemp(pattern.data())) std::abort();
        std::atexit([] {
            std::error_code ec;
            fs::remove_all(scratch(), ec);
        });
        return new fs::path(pattern);
    }();
    return *dir;
}

void writeFile(const fs::path& path, std::string_view text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) std::abort();
}

/// Writes the input as files; returns what to load (a tokenizer.json or the folder).
std::string writeInput(std::string_view input) {
    const fs::path& dir = scratch();
    for (const char* name : kSlowFiles) fs::remove(dir / name);
    fs::remove(dir / "tokenizer.json");
    if (input.substr(0, 10) != kSlowMagic) {
        writeFile(dir / "tokenizer.json", input);
        return (dir / "tokenizer.json").string();
    }
    input.remove_prefix(10);
    while (input.substr(0, 4) == "=== ") {
        const size_t eol = input.find('\n');
        if (eol == std::string_view::npos) break;
        const std::string_view name = input.substr(4, eol - 4);
        input.remove_prefix(eol + 1);
        const size_t next = input.find("\n=== ");
        const std::string_view body = input.substr(0, next);
        for (const char* known : kSlowFiles)
            if (name == known) writeFile(dir / known, body);
        input = next == std::string_view::npos ? std::string_view() : input.substr(next + 1);
    }
    return dir.string();
}

/// A broken promise of the code under test: say which, then abort (libFuzzer keeps the input).
void check(bool ok, int line) {
    if (ok) return;
    std::fprintf(stderr, "%s:%d: invariant broken\n", __FILE__, line);
    std::abort();
}
#define CHECK(cond) check((cond), __LINE__)

void exercise(const Tokenizer& tok, std::string_view input) {
    CHECK(tok.size() >= 0 && tok.size() <= xopd::text::kMaxTokenIds);
    const auto added = tok.addedTokens();
    // An added token that is also a vocabulary token decodes to its text, not to the bytes its
    // byte-level symbols stand for: text round trips only hold when the two are the same.
    bool roundTrips = true;
    std::string allAdded;
    for (const auto& t : added) {
        CHECK(t.id >= 0 && t.id < tok.size() && !t.content.empty());
        CHECK(tok.tokenToId(t.content) == t.id);
        CHECK(tok.isSpecial(t.id) == t.special);
        CHECK(tok.encode(t.content) == std::vector<int32_t>{t.id});
        CHECK(tok.decode({t.id}) == t.content);
        const auto raw = xopd::text::symbolsToBytes(t.content);
        if (!raw || *raw != t.content) roundTrips = false;
        if (allAdded.size() < 4096) allAdded += t.content;
    }
    // Every id either decodes or is refused with xopd::Error.
    std::vector<int32_t> probes = {-1, tok.size(), tok.size() - 1, INT32_MAX, INT32_MIN};
    for (int32_t id = 0; id < tok.size() && id < 600; ++id) probes.push_back(id);
    for (const int32_t id : probes) {
        try {
            tok.decode({id});
            CHECK(id >= 0 && id < tok.size());
            (void)tok.tokenBytes(id);
            (void)tok.idToToken(id);
        } catch (const xopd::Error&) {
        }
    }
    std::vector<std::string> texts = {"Hello world, it's 2024!\n\n  indented\ttab",
                                      "lower newer 010;}\n\u03d2\u0301 \u4f60\u597d \xf0\x9f\x98\x80",
                                      allAdded + " x" + allAdded};
    const std::string_view head = input.substr(0, 256);
    if (xopd::text::firstInvalidUtf8(head) == std::string_view::npos) texts.emplace_back(head);
    for (const std::string& text : texts) {
        for (const bool parseAdded : {true, false}) {
            xopd::text::EncodeOptions options;
            options.parse_added_tokens = parseAdded;
            const auto ids = tok.encode(text, options);
            for (const int32_t id : ids) CHECK(id >= 0 && id < tok.size());
            const std::string back = tok.decode(ids);
            // With added tokens matched, NFC applies to the text between them only.
            if (roundTrips && !parseAdded) {
                const std::string nfc = xopd::text::toNfc(text);
                CHECK(back == text || back == nfc);
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::string path = writeInput(input);
    try {
        const Tokenizer tok = Tokenizer::fromFile(path);
        exercise(tok, input);
    } catch (const xopd::Error&) {
        // Refused with a message: the expected outcome for a malformed file.
    }
    return 0;
}
