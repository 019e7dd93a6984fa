#pragma once
// A run that fails while its models load, as the run tests need it more than once: the factory
// throws the error a missing config.json gives. Header-only; torch-free.

#include "core/common/Error.h"
#include "core/run/RunController.h"
#include "core/run/RunEvents.h"
#include "tests/support/TestHelpers.h"

#include <memory>
#include <string>

namespace xopd::test {

/// The message the failing factory throws.
inline constexpr const char* kMissingConfigError = "'/models/student': config.json is missing";

/// `o` with a model factory that fails as a missing config.json does.
inline run::RunOptions withFailingModels(run::RunOptions o) {
    o.factory = [](const distill::DistillConfig&) -> std::shared_ptr<distill::RunModels> {
        throw xopd::Error(kMissingConfigError);
    };
    return o;
}

/// Runs a toy run of `size` in `run_dir` whose models fail to load, until it ends; its final state.
inline RunState runFailedStart(const std::string& run_dir, const ToyRunSize& size) {
    run::RunOptions o;
    o.run_dir = run_dir;
    run::RunController c(toyRunConfig(size), withFailingModels(o));
    c.start();
    c.wait();
    return c.state();
}

}  // namespace xopd::test
