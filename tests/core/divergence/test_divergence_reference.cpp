// CPU reference divergences (core/distill/divergence) against an independent float64 Python
// reference (tests/reference/divergence/make_fixtures.py, generated at build time), finite
// differences in double, and the identities that must hold exactly.
#include "core/common/Error.h"
#include "core/common/Tensors.h"
#include "core/distill/divergence/Divergence.h"
#include "core/distill/divergence/DivergenceBackend.h"

#include <QtTest/QtTest>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

using namespace xopd::distill;
using nlohmann::json;

namespace {

torch::Tensor toTensor(const json& rows, torch::ScalarType type) {
    std::vector<double> flat;
    int64_t n = 0, v = 0;
    for (const auto& r : rows) {
        ++n;
        v = static_cast<int64_t>(r.size());
        for (double x : r) flat.push_back(x);
    }
    return torch::tensor(flat, torch::kDouble).reshape({n, v}).to(type);
}

torch::Tensor toVector(const json& values, torch::ScalarType type) {
    std::vector<double> flat(values.begin(), values.end());
    return torch::tensor(flat, torch::kDouble).to(type);
}

/// max |a - b| / (max |b| + floor): error relative to the reference's scale.
double relErr(const torch::Tensor& a, const torch::Tensor& b, double floor = 1e-3) {
    auto x = a.detach().to(torch::kDouble), y = b.detach().to(torch::kDouble);
    return (x - y).abs().max().item<double>() / (y.abs().max().item<double>() + floor);
}

DivergenceOptions optionsFor(const json& c) {
    DivergenceOptions o;
    o.kind = parseDivergenceKind(c["kind"].get<std::string>());
    o.jsdBeta = c["beta"].get<double>();
    o.topK = c["topk"].get<int64_t>();
    o.topKMode = c["mode"].get<std::string>() == "renorm" ? TopKMode::Renormalized : TopKMode::TailBucket;
    o.temperature = c["temperature"].get<double>();
    return o;
}

DivergenceInput randomInput(int64_t n, int64_t v, torch::ScalarType type, bool masked, uint64_t seed) {
    torch::manual_seed(seed);
    DivergenceInput in;
    in.studentLogits = (torch::randn({n, v}, torch::kDouble) * 2).to(type);
    in.teacherLogits = (torch::randn({n, v}, torch::kDouble) * 2).to(type);
    in.sampledIds = torch::randint(0, v, {n}, torch::kLong);
    if (masked) {
        in.vocabMask = torch::zeros({v}, torch::kBool);
        // One element type: {1, v - 1} mixes int and int64_t, which torch::tensor rejects.
        in.vocabMask.index_put_({torch::tensor({int64_t{1}, v - 1}, torch::kLong)}, true);
        in.sampledIds = torch::where(in.sampledIds == 1, torch::zeros_like(in.sampledIds), in.sampledIds);
        in.sampledIds = torch::where(in.sampledIds == v - 1, torch::zeros_like(in.sampledIds), in.sampledIds);
    }
    return in;
}

std::vector<DivergenceOptions> allOptions(int64_t k) {
    std::vector<DivergenceOptions> out;
    for (auto kind : {DivergenceKind::ForwardKl, DivergenceKind::ReverseKl, DivergenceKind::Jsd}) {
        for (double beta : kind == DivergenceKind::Jsd ? std::vector<double>{0.0, 0.1, 0.5, 0.9, 1.0}
                                                       : std::vector<double>{0.5}) {
            for (int mode = 0; mode < 3; ++mode) {
                DivergenceOptions o;
                o.kind = kind;
                o.jsdBeta = beta;
                o.topK = mode == 0 ? 0 : k;
                o.topKMode = mode == 2 ? TopKMode::TailBucket : TopKMode::Renormalized;
                out.push_back(o);
            }
        }
    }
    return out;
}

}  // namespace

class TestDivergenceReference : public QObject {
    Q_OBJECT
private slots:
    void matchesFloat64Python();
    void gradientMatchesFiniteDifferences();
    void identicalDistributionsGiveZero();
    void maskedIdsAreIgnored();
    void jsdLimits();
    void topKEdgeCases();
    void tokenLogProbsMatch();
    void badInputsThrow();
    void backendRegistry();
};

void TestDivergenceReference::matchesFloat64Python() {
    const char* path = std::getenv("XOPD_DIVERGENCE_FIXTURE");
    QVERIFY2(path && *path, "XOPD_DIVERGENCE_FIXTURE is not set");
    std::ifstream f(path);
    QVERIFY2(f.good(), path);
    const json fx = json::parse(f);
    int checked = 0;
    for (const auto& inp : fx["inputs"]) {
        const bool bf16 = inp["dtype"] == "bf16";
        const auto type = bf16 ? torch::kBFloat16 : torch::kFloat;
        auto student = toTensor(inp["student"], type);
        auto teacher = toTensor(inp["teacher"], type);
        std::vector<int64_t> ids = inp["ids"].get<std::vector<int64_t>>();
        std::vector<bool> maskv = inp["mask"].get<std::vector<bool>>();
        std::vector<int64_t> maskIds;
        for (size_t j = 0; j < maskv.size(); ++j)
            if (maskv[j]) maskIds.push_back(static_cast<int64_t>(j));
        torch::Tensor mask;
        if (!maskIds.empty()) {
            mask = torch::zeros({static_cast<int64_t>(maskv.size())}, torch::kBool);
            mask.index_put_({torch::tensor(maskIds)}, true);
        }
        auto w = toVector(inp["w"], torch::kFloat), u = toVector(inp["u"], torch::kFloat);
        for (const auto& c : inp["cases"]) {
            const auto o = optionsFor(c);
            for (bool givenSupport : {true, false}) {
                if (!givenSupport && (o.topK == 0 || bf16)) continue;  // bf16 ties: use the stored support
                DivergenceInput in;
                in.studentLogits = student.clone().requires_grad_(true);
                in.teacherLogits = teacher;
                in.vocabMask = mask;
                in.sampledIds = torch::tensor(ids, torch::kLong);
                if (o.topK > 0 && givenSupport) {
                    std::vector<int64_t> flat;
                    for (const auto& row : c["support"])
                        for (int64_t j : row) flat.push_back(j);
                    in.topKIds = torch::tensor(flat, torch::kLong).reshape({student.size(0), o.topK});
                }
                auto out = computeDivergence(in, o);
                (w * out.divergence + u * out.studentLogProb).sum().backward();
                const QString what = QString("%1 %2 given=%3").arg(QString::fromStdString(inp["name"]),
                                                                   QString::fromStdString(describe(o)))
                                         .arg(givenSupport);
                const double eDiv = relErr(out.divergence, toVector(c["divergence"], torch::kDouble));
                const double eLq = relErr(out.studentLogProb, toVector(c["student_logprob"], torch::kDouble));
                const double eLp = relErr(out.teacherLogProb, toVector(c["teacher_logprob"], torch::kDouble));
                const double eH = relErr(out.studentEntropy, toVector(c["entropy"], torch::kDouble));
                const double eG = relErr(in.studentLogits.grad(), toTensor(c["grad"], torch::kDouble));
                // fp32 math on identical inputs: 1e-5; the bf16 gradient is rounded to bf16 (2^-8).
                const double gradTol = bf16 ? 1e-2 : 1e-5;
                QVERIFY2(eDiv < 1e-5, qPrintable(what + QString(" divergence err %1").arg(eDiv)));
                QVERIFY2(eLq < 1e-5 && eLp < 1e-5, qPrintable(what + QString(" logprob err %1 %2").arg(eLq).arg(eLp)));
                QVERIFY2(eH < 1e-5, qPrintable(what + QString(" entropy err %1").arg(eH)));
                QVERIFY2(eG < gradTol, qPrintable(what + QString(" grad err %1").arg(eG)));
                QVERIFY(!out.divergence.isnan().any().item<bool>());
                ++checked;
            }
        }
    }
    QVERIFY(checked > 100);
}

void TestDivergenceReference::gradientMatchesFiniteDifferences() {
    const int64_t n = 3, v = 9;
    for (bool masked : {false, true}) {
        for (const auto& o0 : allOptions(3)) {
            for (double temperature : {1.0, 0.8}) {
                auto o = o0;
                o.temperature = temperature;
                auto in = randomInput(n, v, torch::kDouble, masked, 7);
                in.topKIds = o.topK ? teacherTopK(in.teacherLogits, in.vocabMask, o.topK) : torch::Tensor();
                auto weights = torch::rand({n}, torch::kDouble) + 0.5;
                auto uw = torch::randn({n}, torch::kDouble);
                auto loss = [&](const torch::Tensor& s) {
                    DivergenceInput x = in;
                    x.studentLogits = s;
                    auto out = computeDivergence(x, o);
                    return (weights * out.divergence + uw * out.studentLogProb).sum();
                };
                auto s = in.studentLogits.clone().requires_grad_(true);
                loss(s).backward();
                auto fd = torch::zeros_like(in.studentLogits);
                const double h = 1e-6;
                for (int64_t i = 0; i < n; ++i)
                    for (int64_t j = 0; j < v; ++j) {
                        auto plus = in.studentLogits.clone(), minus = in.studentLogits.clone();
                        plus[i][j] += h;
                        minus[i][j] -= h;
                        fd[i][j] = (loss(plus).item<double>() - loss(minus).item<double>()) / (2 * h);
                    }
                const double err = relErr(s.grad(), fd);
                QVERIFY2(err < 1e-6, qPrintable(QString("%1 masked=%2: grad vs finite differences %3")
                                                    .arg(QString::fromStdString(describe(o)))
                                                    .arg(masked)
                                                    .arg(err)));
                if (masked) {
                    QCOMPARE(s.grad().index({torch::indexing::Slice(), 1}).abs().max().item<double>(), 0.0);
                }
            }
        }
    }
}

void TestDivergenceReference::identicalDistributionsGiveZero() {
    for (bool masked : {false, true}) {
        for (const auto& o : allOptions(4)) {
            auto in = randomInput(5, 23, torch::kFloat, masked, 11);
            in.teacherLogits = in.studentLogits.clone();
            in.studentLogits = in.studentLogits.clone().requires_grad_(true);
            auto out = computeDivergence(in, o);
            out.divergence.sum().backward();
            QVERIFY2(out.divergence.abs().max().item<double>() < 1e-6, describe(o).c_str());
            QVERIFY2(in.studentLogits.grad().abs().max().item<double>() < 1e-6, describe(o).c_str());
            QVERIFY(!in.studentLogits.grad().isnan().any().item<bool>());
        }
    }
}

void TestDivergenceReference::maskedIdsAreIgnored() {
    auto in = randomInput(4, 17, torch::kFloat, true, 3);
    const int64_t v = 17;
    // A smaller problem without the masked columns must give the same numbers.
    std::vector<int64_t> keep;
    for (int64_t j = 0; j < v; ++j)
        if (j != 1 && j != v - 1) keep.push_back(j);
    auto keepIdx = torch::tensor(keep, torch::kLong);
    auto remap = torch::full({v}, -1, torch::kLong);
    remap.index_put_({keepIdx}, torch::arange(static_cast<int64_t>(keep.size())));
    for (const auto& o : allOptions(4)) {
        auto a = computeDivergence(in, o);
        DivergenceInput small;
        small.studentLogits = in.studentLogits.index_select(1, keepIdx);
        small.teacherLogits = in.teacherLogits.index_select(1, keepIdx);
        small.sampledIds = remap.index({in.sampledIds});
        auto b = computeDivergence(small, o);
        QVERIFY2(relErr(a.divergence, b.divergence) < 1e-6, describe(o).c_str());
        QVERIFY(relErr(a.studentLogProb, b.studentLogProb) < 1e-6);
        QVERIFY(relErr(a.studentEntropy, b.studentEntropy) < 1e-6);
        // Changing masked logits changes nothing.
        DivergenceInput moved = in;
        moved.studentLogits = in.studentLogits.clone();
        moved.studentLogits.index_put_({torch::indexing::Slice(), 1}, 1000.0);
        moved.teacherLogits = in.teacherLogits.clone();
        moved.teacherLogits.index_put_({torch::indexing::Slice(), v - 1}, 500.0);
        QVERIFY(relErr(computeDivergence(moved, o).divergence, a.divergence) < 1e-6);
    }
    // A masked sampled id has log-prob -inf.
    DivergenceInput m = in;
    m.sampledIds = torch::ones({4}, torch::kLong);
    auto out = computeDivergence(m, DivergenceOptions::reverseKl());
    QVERIFY(out.studentLogProb.isneginf().all().item<bool>());
}

void TestDivergenceReference::jsdLimits() {
    auto in = randomInput(6, 31, torch::kDouble, false, 5);
    auto fkl = computeDivergence(in, DivergenceOptions::forwardKl()).divergence;
    auto rkl = computeDivergence(in, DivergenceOptions::reverseKl()).divergence;
    const double eps = 1e-7;
    auto small = computeDivergence(in, DivergenceOptions::jsd(eps)).divergence / eps;
    auto large = computeDivergence(in, DivergenceOptions::jsd(1 - eps)).divergence / eps;
    QVERIFY2(relErr(small, fkl) < 1e-4, "JSD(beta)/beta -> forward KL as beta -> 0");
    QVERIFY2(relErr(large, rkl) < 1e-4, "JSD(beta)/(1-beta) -> reverse KL as beta -> 1");
    QVERIFY(relErr(computeDivergence(in, DivergenceOptions::jsd(0.0)).divergence, fkl) < 1e-12);
    QVERIFY(relErr(computeDivergence(in, DivergenceOptions::jsd(1.0)).divergence, rkl) < 1e-12);
    auto half = computeDivergence(in, DivergenceOptions::jsd(0.5)).divergence;
    QVERIFY(half.max().item<double>() <= std::log(2.0));
    QVERIFY(half.min().item<double>() > 0);
    // Symmetry of JSD(0.5) under swapping teacher and student.
    DivergenceInput swapped = in;
    std::swap(swapped.studentLogits, swapped.teacherLogits);
    QVERIFY(relErr(computeDivergence(swapped, DivergenceOptions::jsd(0.5)).divergence, half) < 1e-12);
}

void TestDivergenceReference::topKEdgeCases() {
    auto in = randomInput(4, 12, torch::kFloat, false, 9);
    for (auto kind : {DivergenceKind::ForwardKl, DivergenceKind::ReverseKl, DivergenceKind::Jsd}) {
        DivergenceOptions full;
        full.kind = kind;
        auto ref = computeDivergence(in, full).divergence;
        for (auto mode : {TopKMode::Renormalized, TopKMode::TailBucket}) {
            auto o = full;
            o.topK = 12;
            o.topKMode = mode;
            QVERIFY2(relErr(computeDivergence(in, o).divergence, ref) < 1e-5, describe(o).c_str());
        }
        // Tail bucket with a k-support is a coarsening: never above the full divergence (data processing).
        auto o = full;
        o.topK = 3;
        o.topKMode = TopKMode::TailBucket;
        QVERIFY(((computeDivergence(in, o).divergence - ref) <= 1e-6).all().item<bool>());
    }
    // The automatic support is the teacher's top-k.
    DivergenceOptions o = DivergenceOptions::reverseKl();
    o.topK = 4;
    auto autoOut = computeDivergence(in, o).divergence;
    DivergenceInput given = in;
    given.topKIds = std::get<1>(in.teacherLogits.topk(4, 1));
    QVERIFY(relErr(computeDivergence(given, o).divergence, autoOut) < 1e-7);
    given.topKIds = std::get<1>(in.studentLogits.topk(4, 1));
    QVERIFY(relErr(computeDivergence(given, o).divergence, autoOut) > 1e-3);
}

void TestDivergenceReference::tokenLogProbsMatch() {
    auto in = randomInput(7, 40, torch::kBFloat16, true, 13);
    auto a = computeDivergence(in, DivergenceOptions::reverseKl());
    auto b = tokenLogProbs(in.studentLogits, in.sampledIds, in.vocabMask);
    QVERIFY(relErr(a.studentLogProb, b.logProb) < 1e-7);
    QVERIFY(relErr(a.studentEntropy, b.entropy) < 1e-7);
    // Independent check: log_softmax in double.
    auto z = in.studentLogits.to(torch::kDouble).masked_fill(in.vocabMask.unsqueeze(0), -INFINITY);
    auto ref = torch::log_softmax(z, 1).gather(1, in.sampledIds.unsqueeze(1)).squeeze(1);
    QVERIFY(relErr(b.logProb, ref) < 1e-5);
    auto t = tokenLogProbs(in.studentLogits, in.sampledIds, in.vocabMask, 0.5).logProb;
    auto refT = torch::log_softmax(z / 0.5, 1).gather(1, in.sampledIds.unsqueeze(1)).squeeze(1);
    QVERIFY(relErr(t, refT) < 1e-5);
}

void TestDivergenceReference::badInputsThrow() {
    auto in = randomInput(3, 10, torch::kFloat, false, 1);
    auto expectError = [](const DivergenceInput& x, const DivergenceOptions& o, const char* needle) {
        try {
            computeDivergence(x, o);
        } catch (const xopd::Error& e) {
            QVERIFY2(std::string(e.what()).find(needle) != std::string::npos, e.what());
            return;
        }
        QFAIL(needle);
    };
    auto x = in;
    x.teacherLogits = torch::randn({3, 11});
    expectError(x, {}, "differ in shape");
    x = in;
    x.vocabMask = torch::zeros({9}, torch::kBool);
    expectError(x, {}, "vocabulary mask");
    x = in;
    x.vocabMask = torch::ones({10}, torch::kBool);
    expectError(x, {}, "excludes every id");
    x = in;
    x.sampledIds = torch::tensor({0, 10, 2}, torch::kLong);
    expectError(x, {}, "sampled ids");
    expectError(in, DivergenceOptions::jsd(1.5), "beta");
    DivergenceOptions o;
    o.topK = 11;
    expectError(in, o, "top-k");
    o.topK = 2;
    x = in;
    x.topKIds = torch::tensor({0, 0, 1, 2, 3, 4}, torch::kLong).reshape({3, 2});
    expectError(x, o, "repeat");
    o.kind = DivergenceKind::Invalid;
    expectError(in, o, "invalid divergence kind");
    o = {};
    o.temperature = 0;
    expectError(in, o, "temperature");
    x = in;
    x.studentLogits = torch::randn({30});
    expectError(x, {}, "student logits");
    try {
        parseDivergenceKind("kl2");
        QFAIL("parse accepted kl2");
    } catch (const xopd::Error&) {
    }
}

void TestDivergenceReference::backendRegistry() {
    QVERIFY(hasDivergenceBackend(c10::DeviceType::CPU));
    QCOMPARE(QString::fromStdString(divergenceBackend(c10::DeviceType::CPU).name), QString("cpu-reference"));
    int calls = 0;
    DivergenceBackend fake = referenceDivergenceBackend();
    fake.name = "fake";
    fake.divergence = [&calls](const DivergenceInput& in, const DivergenceOptions& o) {
        ++calls;
        return referenceDivergence(in, o);
    };
    registerDivergenceBackend(c10::DeviceType::CPU, fake);
    auto in = randomInput(2, 5, torch::kFloat, false, 2);
    computeDivergence(in, {});
    QCOMPARE(calls, 1);
    registerDivergenceBackend(c10::DeviceType::CPU, referenceDivergenceBackend());
    computeDivergence(in, {});
    QCOMPARE(calls, 1);
    QCOMPARE(QString::fromStdString(divergenceBackend(c10::DeviceType::Meta).name), QString("cpu-reference"));
    DivergenceBackend incomplete;
    incomplete.name = "incomplete";
    try {
        registerDivergenceBackend(c10::DeviceType::Meta, incomplete);
        QFAIL("incomplete backend accepted");
    } catch (const xopd::Error&) {
    }
}

QTEST_APPLESS_MAIN(TestDivergenceReference)
#include "test_divergence_reference.moc"
