// The data-parallel collectives on two ranks (two threads of this process, TCPStore + Gloo over
// 127.0.0.1): weights broadcast from rank 0, gradients summed in buckets (an unused parameter on
// one rank included), step metrics reduced by their meaning, rank 0's commands reaching rank 1.
// Values are small integers and halves: sums are exact in fp32, so comparisons are exact.
#include "core/common/Error.h"
#include "core/dist/Group.h"
#include "core/distill/DataParallel.h"
#include "core/run/RankControl.h"

#include "tests/support/TestSupport.h"

#include <QtTest/QtTest>

#include <cmath>
#include <exception>
#include <functional>
#include <thread>

using namespace xopd;

namespace {


/// Runs body(group) as ranks 0 and 1 of a fresh job; rethrows the first rank's exception.
void twoRanks(const std::function<void(dist::Group&)>& body) {
    const int port = test::freeLoopbackPort();
    std::exception_ptr errors[2];
    std::thread ranks[2];
    for (int r = 0; r < 2; ++r) {
        ranks[r] = std::thread([&, r] {
            try {
                dist::LaunchEnv e;
                e.launcher = dist::Launcher::Torchrun;
                e.rank = e.local_rank = r;
                e.world_size = 2;
                e.master_addr = "127.0.0.1";
                e.master_port = port;
                auto g = dist::Group::join(e, std::chrono::seconds(30));
                body(*g);
                g->barrier();  // neither rank leaves (taking the store with it) before the other is done
            } catch (...) {
                errors[r] = std::current_exception();
            }
        });
    }
    for (auto& t : ranks) t.join();
    for (auto& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace

class TestDistGroup : public QObject {
    Q_OBJECT

private slots:
    void shardsCoverTheBatchInOrder() {
        // 5 prompts over 2 ranks: [0,2) and [2,5); over 3: [0,1) [1,3) [3,5).
        QCOMPARE(distill::dp::shardRange(5, 0, 2), std::make_pair(int64_t(0), int64_t(2)));
        QCOMPARE(distill::dp::shardRange(5, 1, 2), std::make_pair(int64_t(2), int64_t(5)));
        QCOMPARE(distill::dp::shardRange(5, 1, 3), std::make_pair(int64_t(1), int64_t(3)));
        QCOMPARE(distill::dp::shardRange(5, 0, 1), std::make_pair(int64_t(0), int64_t(5)));
        // Whole sampling groups: 10 prompts in groups of 4 are 3 groups ([0,4) [4,8) [8,10)); over
        // 2 ranks [0,4) and [4,10); over 4 ranks the last rank has none.
        QCOMPARE(distill::dp::batchShard(10, 4, 0, 2), std::make_pair(int64_t(0), int64_t(4)));
        QCOMPARE(distill::dp::batchShard(10, 4, 1, 2), std::make_pair(int64_t(4), int64_t(10)));
        QCOMPARE(distill::dp::batchShard(10, 4, 2, 3), std::make_pair(int64_t(8), int64_t(10)));
        QCOMPARE(distill::dp::batchShard(10, 4, 0, 4), std::make_pair(int64_t(0), int64_t(0)));
        QCOMPARE(distill::dp::batchShard(10, 1, 1, 2), distill::dp::shardRange(10, 1, 2));
    }

    void weightsComeFromRankZero() {
        torch::Tensor seen[2];
        twoRanks([&](dist::Group& g) {
            auto w = g.rank() == 0 ? torch::arange(6, torch::kFloat32).reshape({2, 3}) : torch::zeros({2, 3});
            distill::dp::broadcastParameters(g, {w});
            seen[g.rank()] = w;
        });
        QVERIFY(torch::equal(seen[0], torch::arange(6, torch::kFloat32).reshape({2, 3})));
        QVERIFY(torch::equal(seen[1], seen[0]));
    }

    void gradientsAreSummedInBuckets() {
        // Four parameters, 16-byte buckets (several buckets); p[2] has no grad on rank 1, p[3] on neither.
        std::vector<torch::Tensor> out[2];
        twoRanks([&](dist::Group& g) {
            const float k = float(g.rank() + 1);
            std::vector<torch::Tensor> p{torch::zeros({3}, torch::requires_grad()), torch::zeros({5}, torch::requires_grad()),
                                         torch::zeros({2}, torch::requires_grad()), torch::zeros({1}, torch::requires_grad())};
            p[0].mutable_grad() = torch::full({3}, k);
            p[1].mutable_grad() = torch::arange(5, torch::kFloat32) * k;
            if (g.rank() == 0) p[2].mutable_grad() = torch::full({2}, 0.5f);
            distill::dp::allreduceGradients(g, p, 16);
            for (auto& t : p) out[g.rank()].push_back(t.grad());
        });
        for (int r = 0; r < 2; ++r) {
            QVERIFY(torch::equal(out[r][0], torch::full({3}, 3.0f)));
            QVERIFY(torch::equal(out[r][1], torch::arange(5, torch::kFloat32) * 3));
            QVERIFY(torch::equal(out[r][2], torch::full({2}, 0.5f)));
            QVERIFY(!out[r][3].defined());  // unused everywhere: AdamW skips it, as in one process
        }
    }

    void metricsReduceByMeaning() {
        std::map<std::string, double> out[2];
        twoRanks([&](dist::Group& g) {
            const bool zero = g.rank() == 0;
            std::map<std::string, double> s{{"loss", 0.75},  // already the job's (Trainer reduced it)
                                            {"text/objective", zero ? 1.0 : 2.0},
                                            {"lr", 0.125},
                                            {"text/tokens", zero ? 10.0 : 30.0},
                                            {"text/adv_mean", zero ? 2.0 : 4.0},
                                            {"text/adv_min", zero ? -1.0 : -3.0},
                                            {"text/adv_max", zero ? 5.0 : 4.0},
                                            {"time/step_s", zero ? 3.0 : 5.0},
                                            {"speech/entropy_mean", zero ? 1.5 : std::nan("")}};
            distill::dp::reduceScalars(g, s);
            out[g.rank()] = s;
        });
        for (int r = 0; r < 2; ++r) {
            QCOMPARE(out[r]["loss"], 0.75);
            QCOMPARE(out[r]["text/objective"], 3.0);
            QCOMPARE(out[r]["lr"], 0.125);
            QCOMPARE(out[r]["text/tokens"], 40.0);
            QCOMPARE(out[r]["text/adv_mean"], (2.0 * 10 + 4.0 * 30) / 40);  // token-weighted: the one-process mean
            QCOMPARE(out[r]["text/adv_min"], -3.0);
            QCOMPARE(out[r]["text/adv_max"], 5.0);
            QCOMPARE(out[r]["time/step_s"], 5.0);
            QCOMPARE(out[r]["speech/entropy_mean"], 1.5);  // NaN (no tokens) carries no weight
        }
    }

    void differentMetricNamesAreAnError() {
        QString message;
        try {
            twoRanks([&](dist::Group& g) {
                std::map<std::string, double> s{{"loss", 1.0}};
                if (g.rank() == 1) s["extra"] = 2.0;
                distill::dp::reduceScalars(g, s);
            });
        } catch (const Error& e) {
            message = e.what();
        }
        QVERIFY2(message.contains("different names"), qPrintable(message));
    }

    void commandsComeFromRankZero() {
        run::ControlMessage got[2];
        twoRanks([&](dist::Group& g) {
            run::ControlMessage mine;
            if (g.rank() == 0) {
                mine.stop = true;
                mine.knobs = {{"lambda", 0.3}, {"lr", 1e-5}};
            } else {
                mine.pause = true;  // a signal on rank 1: rank 0's commands win
                mine.knobs = {{"temperature", 2.0}};
            }
            got[g.rank()] = run::exchangeControl(g, mine);
        });
        for (int r = 0; r < 2; ++r) {
            QVERIFY(got[r].stop && !got[r].pause && !got[r].cancel);
            QCOMPARE(int(got[r].knobs.size()), 2);
            QCOMPARE(QString::fromStdString(got[r].knobs[0].first), QString("lambda"));
            QCOMPARE(got[r].knobs[0].second, 0.3);
            QCOMPARE(got[r].knobs[1].second, 1e-5);
        }
    }
};

QTEST_APPLESS_MAIN(TestDistGroup)
#include "test_dist_group.moc"
