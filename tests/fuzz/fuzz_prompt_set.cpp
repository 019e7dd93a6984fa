// libFuzzer entry point for prompt-set manifests (core/data/PromptSet.h): the input is written to
// a file and read with loadPromptSet (audio not required to exist). A manifest must either be
// refused with xopd::Error or load items with unique ids, known splits and non-empty required
// fields, each of which survives promptItemToJsonLine -> parsePromptLine unchanged. Anything else
// (another exception, a changed round trip, a crash, an ASan/UBSan report) is a finding.
#include "core/common/Error.h"
#include "core/data/PromptSet.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

namespace fs = std::filesystem;

namespace {

/// A broken promise of the code under test: say which, then abort (libFuzzer keeps the input).
void check(bool ok, int line) {
    if (ok) return;
    std::fprintf(stderr, "%s:%d: invariant broken\n", __FILE__, line);
    std::abort();
}
#define CHECK(cond) check((cond), __LINE__)

/// The manifest path in a private scratch folder (tmpfs when there is one), removed at exit.
/// Never freed: the exit handler runs after static destructors.
const std::string& manifestPath() {
    static const std::string* path = [] {
        std::string pattern = (fs::exists("/dev/shm") ? "/dev/shm" : fs::temp_directory_path().string()) +
                              "/fuzz_prompt_set.XXXXXX";
        if (!::mkdtemp(pattern.data())) std::abort();
        std::atexit([] {
            std::error_code ec;
            fs::remove_all(fs::path(manifestPath()).parent_path(), ec);
        });
        return new std::string(pattern + "/set.jsonl");
    }();
    return *path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    {
        std::ofstream out(manifestPath(), std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
        if (!out) std::abort();
    }
    try {
        xopd::data::LoadPromptSetOptions options;
        options.require_audio = false;
        const auto set = xopd::data::loadPromptSet(manifestPath(), options);
        CHECK(!set.items.empty());
        std::set<std::string> ids;
        const auto& splits = xopd::data::knownSplits();
        for (const auto& item : set.items) {
            CHECK(ids.insert(item.id).second);
            CHECK(!item.id.empty() && !item.audio.empty() && !item.transcript.empty() &&
                  !item.audio_path.empty());
            CHECK(std::find(splits.begin(), splits.end(), item.split) != splits.end());
            const auto back =
                xopd::data::parsePromptLine(xopd::data::promptItemToJsonLine(item), "round trip");
            CHECK(back.id == item.id && back.audio == item.audio && back.transcript == item.transcript &&
                  back.reference == item.reference && back.split == item.split && back.tags == item.tags &&
                  back.voice == item.voice);
        }
        size_t total = 0;
        for (const auto& s : splits) total += set.bySplit(s).size();
        CHECK(total == set.items.size());
    } catch (const xopd::Error&) {
        // Refused with a message naming the manifest and line: the expected outcome for a bad one.
    }
    return 0;
}
