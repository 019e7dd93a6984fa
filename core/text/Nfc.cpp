#include "core/text/Nfc.h"

#include "core/common/Error.h"
#include "core/text/Utf8.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/stringpiece.h>

namespace xopd::text {

namespace {

const icu::Normalizer2& nfcInstance() {
    static const icu::Normalizer2* instance = [] {
        UErrorCode status = U_ZERO_ERROR;
        const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(status);
        XOPD_CHECK(U_SUCCESS(status) && n, "ICU: cannot load the NFC normalizer (" << u_errorName(status) << ")");
        return n;
    }();
    return *instance;
}

}  // namespace

bool isNfc(std::string_view s) {
    if (isAscii(s)) return true;
    UErrorCode status = U_ZERO_ERROR;
    const bool yes = nfcInstance().isNormalizedUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())), status);
    XOPD_CHECK(U_SUCCESS(status), "ICU: NFC check failed (" << u_errorName(status) << ")");
    return yes;
}

std::string toNfc(std::string_view s) {
    if (isNfc(s)) return std::string(s);
    std::string out;
    out.reserve(s.size());
    icu::StringByteSink<std::string> sink(&out);
    UErrorCode status = U_ZERO_ERROR;
    nfcInstance().normalizeUTF8(0, icu::StringPiece(s.data(), static_cast<int32_t>(s.size())), sink, nullptr, status);
    XOPD_CHECK(U_SUCCESS(status), "ICU: NFC normalisation failed (" << u_errorName(status) << ")");
    return out;
}

}  // namespace xopd::text
