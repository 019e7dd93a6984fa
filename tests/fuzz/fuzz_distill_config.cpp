// libFuzzer entry point for run-config parsing (core/distill/DistillConfig.h: distillConfigFromJson
// then validate, what readDistillConfig does). Input that is not JSON is skipped (reading the file
// is core/common/Json.cpp's job); a JSON document must either be refused with xopd::Error or give
// a config that survives the round trip toJson -> distillConfigFromJson unchanged (validate()
// agreeing on both). Anything else (another exception, a changed round trip, a crash, an
// ASan/UBSan report) is a finding.
#include "core/common/Error.h"
#include "core/distill/DistillConfig.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

/// A broken promise of the code under test: say which, then abort (libFuzzer keeps the input).
void check(bool ok, int line) {
    if (ok) return;
    std::fprintf(stderr, "%s:%d: invariant broken\n", __FILE__, line);
    std::abort();
}
#define CHECK(cond) check((cond), __LINE__)

bool validates(const xopd::distill::DistillConfig& c) {
    try {
        c.validate("run.json");
        return true;
    } catch (const xopd::Error&) {
        return false;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(data, data + size);
    } catch (const nlohmann::json::exception&) {
        return 0;
    }
    try {
        const auto c = xopd::distill::distillConfigFromJson(j, "run.json");
        const bool valid = validates(c);
        const nlohmann::json written = xopd::distill::toJson(c);
        const auto again = xopd::distill::distillConfigFromJson(written, "written run.json");
        CHECK(xopd::distill::toJson(again) == written);
        CHECK(validates(again) == valid);
        (void)written.dump();  // every written value serialises (no invalid UTF-8)
    } catch (const xopd::Error&) {
        // Refused with a message naming the file and field: the expected outcome for a bad config.
    }
    return 0;
}
