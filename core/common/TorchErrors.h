#pragma once
// LibTorch reports failures as c10::Error, whose what() carries a C++ backtrace. The core's public
// entry points that front ends call (the Ask service, the run's worker, the set-up inspection)
// turn them into xopd::Error here, with LibTorch's message and no backtrace, so that no c10::Error
// leaves the core (CONVENTIONS.md lesson 10).
//
//   return withTorchErrors("ask", [&] { return impl_->ask(request); });
//
// Threading: pure function.

#include "core/common/Error.h"

#include <c10/util/Exception.h>

#include <string>
#include <utility>

namespace xopd {

/// Runs `f` and returns its result; a c10::Error it throws is rethrown as xopd::Error
/// "CONTEXT: <LibTorch's message>".
template <typename F>
decltype(auto) withTorchErrors(const std::string& context, F&& f) {
    try {
        return std::forward<F>(f)();
    } catch (const c10::Error& e) {
        throw Error(context + ": " + e.what_without_backtrace());
    }
}

}  // namespace xopd
