// libFuzzer entry point for the tokenizer (core/text/Tokenizer.h) on the real Qwen vocabulary.
// Any input must either be refused with xopd::Error (ill-formed UTF-8) or encode to ids that are
// all known and decode back to the NFC form of the input; with added-token matching off, the ids
// must contain no special token. Anything else (another exception, a wrong round trip, a crash, an
// ASan/UBSan report) is a finding.
#include "core/common/Error.h"
#include "core/text/Nfc.h"
#include "core/text/Tokenizer.h"

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

namespace {
const xopd::text::Tokenizer& tokenizer() {
    static const auto tok = std::make_unique<xopd::text::Tokenizer>(xopd::text::Tokenizer::fromFile(XOPD_FUZZ_TOKENIZER_JSON));
    return *tok;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const auto& tok = tokenizer();
    std::vector<int32_t> ids;
    try {
        ids = tok.encode(text);
    } catch (const xopd::Error&) {
        return 0;  // ill-formed UTF-8, refused with a message
    }
    if (tok.decode(ids) != xopd::text::toNfc(text)) std::abort();
    xopd::text::EncodeOptions plain;
    plain.parse_added_tokens = false;
    const auto plainIds = tok.encode(text, plain);
    for (int32_t id : plainIds)
        if (id >= 151643) std::abort();  // special ids only come from matched added tokens
    if (tok.decode(plainIds) != xopd::text::toNfc(text)) std::abort();
    return 0;
}
