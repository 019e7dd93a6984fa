#include "core/text/RegexSplitter.h"

#include "core/common/Error.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace xopd::text {

const char* const kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

std::string pcre2Message(int code) {
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(code, buffer, sizeof buffer);
    return reinterpret_cast<const char*>(buffer);
}

// Long runs of a repeated class under a lookahead (\s+(?!\S)) may need more than PCRE2's default
// 32 KiB JIT stack; matching retries once with this much.
constexpr size_t kLargeJitStack = 64u << 20;

}  // namespace

struct RegexSplitter::Impl {
    pcre2_code* code = nullptr;
    ~Impl() { pcre2_code_free(code); }
};

RegexSplitter::RegexSplitter(const std::string& pattern, const std::string& source)
    : impl_(std::make_unique<Impl>()), pattern_(pattern) {
    int error = 0;
    PCRE2_SIZE offset = 0;
    impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &error, &offset, nullptr);
    XOPD_CHECK(impl_->code, "'" << source << "': pre-tokenizer regex does not compile at offset " << offset << ": "
                                << pcre2Message(error) << " (pattern " << pattern << ")");
    jit_ = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

RegexSplitter::~RegexSplitter() = default;

void RegexSplitter::split(std::string_view text, std::vector<std::string_view>& out) const {
    if (text.empty()) return;
    struct MatchData {
        pcre2_match_data* data;
        pcre2_match_context* context = nullptr;
        pcre2_jit_stack* stack = nullptr;
        ~MatchData() {
            pcre2_match_data_free(data);
            pcre2_match_context_free(context);
            pcre2_jit_stack_free(stack);
        }
    } md{pcre2_match_data_create(1, nullptr)};
    XOPD_CHECK(md.data, "PCRE2: out of memory");
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    const PCRE2_SIZE length = text.size();
    PCRE2_SIZE pos = 0;
    PCRE2_SIZE last = 0;  // end of the previous piece
    while (pos < length) {
        int rc = pcre2_match(impl_->code, subject, length, pos, PCRE2_NO_UTF_CHECK, md.data, md.context);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !md.stack) {
            md.stack = pcre2_jit_stack_create(32 * 1024, kLargeJitStack, nullptr);
            md.context = pcre2_match_context_create(nullptr);
            XOPD_CHECK(md.stack && md.context, "PCRE2: out of memory");
            pcre2_jit_stack_assign(md.context, nullptr, md.stack);
            rc = pcre2_match(impl_->code, subject, length, pos, PCRE2_NO_UTF_CHECK, md.data, md.context);
        }
        if (rc == PCRE2_ERROR_NOMATCH) break;
        XOPD_CHECK(rc >= 0, "pre-tokenizer: regex match failed at byte " << pos << ": " << pcre2Message(rc));
        const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.data);
        PCRE2_SIZE start = ov[0], end = ov[1];
        if (start > last) out.emplace_back(text.data() + last, start - last);  // unmatched gap
        if (end > start) {
            out.emplace_back(text.data() + start, end - start);
            pos = end;
        } else {
            // Empty match: it ends the gap before it (as in HF tokenizers); then step over one
            // whole character (keeps UTF-8 boundaries).
            last = start;
            pos = start + 1;
            while (pos < length && (static_cast<unsigned char>(text[pos]) & 0xC0) == 0x80) ++pos;
            continue;
        }
        last = end;
    }
    if (last < length) out.emplace_back(text.data() + last, length - last);
}

}  // namespace xopd::text
