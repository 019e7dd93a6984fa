// Time per X-OPD step split into rollout, teacher scoring and update, on the toy teacher/student
// pair (or a larger toy), median over steps after one warm-up step. Prints one JSON object per
// configuration; bench-distill.sh turns them into a markdown table.
//   bench_distill [--steps N] [--vocab V] [--hidden D] [--batch B] [--m M] [--max-new-tokens L]
#include "core/common/TorchRuntime.h"
#include "core/distill/ToyPolicy.h"
#include "core/distill/Trainer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

using namespace xopd::distill;

namespace {
double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
    int64_t steps = 8, vocab = 512, hidden = 256, batch = 8, m = 4, maxNew = 64;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i];
        const int64_t v = std::atoll(argv[i + 1]);
        if (k == "--steps") steps = v;
        else if (k == "--vocab") vocab = v;
        else if (k == "--hidden") hidden = v;
        else if (k == "--batch") batch = v;
        else if (k == "--m") m = v;
        else if (k == "--max-new-tokens") maxNew = v;
        else {
            std::cerr << "unknown option " << k << "\n";
            return 2;
        }
    }
    xopd::configureThreads();
    ToyPolicyOptions o;
    o.vocab = vocab;
    o.hidden = hidden;
    o.stop_bias = 3.0;  // responses of a few dozen tokens at V = 512
    auto c = defaultDistillConfig(Method::XOpd);
    c.student.kind = c.teacher.kind = ModelSourceKind::Toy;
    c.rollout.rollouts_per_prompt = m;
    c.rollout.max_new_tokens = maxNew;
    c.train.batch_size = batch;
    c.train.lr = 1e-3;
    c.train.max_steps = steps + 1;
    c.train.log_token_samples = 4;
    auto student = std::make_shared<ToyPolicy>(o, true);
    auto teacher = std::make_shared<ToyPolicy>(o, false);
    Trainer t(c, student, teacher, toyPrompts(256));
    std::vector<double> rollout, teacherS, update, step, tokens;
    for (int64_t i = 0; i <= steps; ++i) {
        const auto out = t.step();
        if (i == 0) continue;  // warm-up
        const auto& s = out.metrics.scalars;
        rollout.push_back(s.at("time/rollout_s"));
        teacherS.push_back(s.at("time/teacher_s"));
        update.push_back(s.at("time/update_s"));
        step.push_back(s.at("time/step_s"));
        tokens.push_back(s.at("tokens_per_s"));
    }
    nlohmann::json j;
    j["model"] = student->describe();
    j["batch_prompts"] = batch;
    j["rollouts_per_prompt"] = m;
    j["streams"] = 2;
    j["threads"] = xopd::torchThreads();
    j["rollout_s"] = median(rollout);
    j["teacher_s"] = median(teacherS);
    j["update_s"] = median(update);
    j["step_s"] = median(step);
    j["rollout_share"] = median(rollout) / median(step);
    j["tokens_per_s"] = median(tokens);
    std::cout << j.dump() << std::endl;
    return 0;
}
