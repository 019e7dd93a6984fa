#pragma once
// The one exception type of the core. Every failure that a user can cause (bad file, bad config,
// bad argument) throws xopd::Error with a message that names the file or object at fault and what
// is wrong with it. Front ends (CLI, GUI bridge) catch it at the thread boundary and show it.
//
//   XOPD_CHECK(n > 0, "'" << path << "': header claims " << n << " frames");
//   XOPD_FAIL("'" << path << "': unknown dtype '" << dtype << "'");

#include <sstream>
#include <stdexcept>
#include <string>

namespace xopd {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// Throws xopd::Error(message). Out of line so the macros stay small.
[[noreturn]] void throwError(const std::string& message);

}  // namespace xopd

/// Throws xopd::Error with a streamed message.
#define XOPD_FAIL(streamed)                      \
    do {                                         \
        std::ostringstream xopd_fail_os_;        \
        xopd_fail_os_ << streamed;               \
        ::xopd::throwError(xopd_fail_os_.str()); \
    } while (0)

/// Precondition on user input: throws xopd::Error with a streamed message when cond is false.
#define XOPD_CHECK(cond, streamed) \
    do {                           \
        if (!(cond)) XOPD_FAIL(streamed); \
    } while (0)

/// Internal invariant: a failure is a bug in this program, not in the input.
#define XOPD_ASSERT(cond) \
    XOPD_CHECK(cond, "internal error: " << #cond << " failed at " << __FILE__ << ":" << __LINE__)
