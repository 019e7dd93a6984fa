// LoRA on runtime Linear layers: starts at the base model exactly, the delta is (α/r)·B·A·x
// (checked against a direct float64 computation), only A and B train, PEFT files are written.
#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/common/Tensors.h"
#include "core/distill/Lora.h"
#include "core/model/checkpoint/WeightStore.h"

#include <QtTest/QtTest>

using namespace xopd;
using namespace xopd::distill;

class TestDistillLora : public QObject {
    Q_OBJECT

private slots:
    void attachWrapsTargetsOnly() {
        model::Linear q, down, embedLike;
        q.weight = torch::randn({6, 4});
        q.bias = torch::randn({6});
        down.weight = torch::randn({4, 6});
        embedLike.weight = torch::randn({3, 4});
        std::vector<std::pair<std::string, model::Linear*>> linears{
            {"model.layers.0.self_attn.q_proj", &q}, {"model.layers.0.mlp.down_proj", &down}, {"model.other", &embedLike}};
        LoraOptions o;
        o.rank = 2;
        o.alpha = 4.0;
        o.targets = {"q_proj", "down_proj"};
        const auto x = torch::randn({3, 4});
        const auto before = q.forward(x);
        const auto adapters = attachLora(linears, o);
        QCOMPARE(adapters.size(), size_t(2));
        QVERIFY(!embedLike.hasLora());
        QVERIFY(!q.weight.requires_grad());
        QVERIFY(torch::equal(q.forward(x), before));  // B = 0: identical at start
        // Delta against float64 by hand.
        {
            torch::NoGradGuard g;
            q.lora_b.copy_(torch::randn({6, 2}));
        }
        const auto got = q.forward(x).to(torch::kDouble);
        const auto xd = x.to(torch::kDouble);
        const auto expect = xd.matmul(q.weight.to(torch::kDouble).t()) + q.bias.to(torch::kDouble) +
                            2.0 * xd.matmul(q.lora_a.detach().to(torch::kDouble).t()).matmul(q.lora_b.detach().to(torch::kDouble).t());
        QVERIFY2(torch::allclose(got, expect, 1e-4, 1e-5), "LoRA delta differs from (alpha/r) B A x");
        // Gradients reach A and B only.
        q.forward(x).sum().backward();
        QVERIFY(q.lora_a.grad().defined() && q.lora_b.grad().defined());
        QVERIFY(!q.weight.grad().defined());
        QCOMPARE(loraParameters(adapters).size(), size_t(4));

        QTemporaryDir dir;
        writePeftAdapter(dir.path().toStdString(), adapters, o, "tiny");
        const auto cfg = readJsonFile(dir.filePath("adapter_config.json").toStdString());
        QCOMPARE(cfg["r"].get<int>(), 2);
        QCOMPARE(cfg["peft_type"].get<std::string>(), std::string("LORA"));
        const auto store = WeightStore::open(dir.filePath("adapter_model.safetensors").toStdString());
        QVERIFY(store.has("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
        QVERIFY(torch::equal(store.get("base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"), q.lora_b.detach()));
    }

    void noMatchIsAnError() {
        model::Linear l;
        l.weight = torch::randn({2, 2});
        LoraOptions o;
        o.targets = {"q_proj"};
        QVERIFY_EXCEPTION_THROWN(attachLora({{"model.lm_head", &l}}, o), xopd::Error);
    }
};

QTEST_APPLESS_MAIN(TestDistillLora)
#include "test_distill_lora.moc"
