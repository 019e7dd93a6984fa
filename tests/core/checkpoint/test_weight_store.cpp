// WeightStore: single-file and sharded checkpoints, every index check (missing shard, a mapped name
// absent from its shard, a name in two shards, bad index), prefix helpers, in-memory stores.
#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/common/Tensors.h"
#include "core/model/checkpoint/SafetensorsWriter.h"
#include "core/model/checkpoint/WeightStore.h"

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <filesystem>

using xopd::WeightStore;

class TestWeightStore : public QObject {
    Q_OBJECT

    static std::string path(const QTemporaryDir& d, const char* name) { return d.filePath(name).toStdString(); }

    // Two shards: a.* in the first, b.* in the second, plus an index.
    static void writeSharded(const QTemporaryDir& d) {
        xopd::writeSafetensors(path(d, "model-00001-of-00002.safetensors"),
                               {{"a.x", torch::arange(4, torch::kFloat32)}, {"a.y", torch::ones({2, 3}, torch::kBFloat16)}});
        xopd::writeSafetensors(path(d, "model-00002-of-00002.safetensors"), {{"b.z", torch::full({5}, 2.0, torch::kFloat16)}});
        xopd::writeJsonFileAtomic(path(d, "model.safetensors.index.json"),
                                  {{"metadata", {{"total_size", 16 + 12 + 10}}},
                                   {"weight_map",
                                    {{"a.x", "model-00001-of-00002.safetensors"},
                                     {"a.y", "model-00001-of-00002.safetensors"},
                                     {"b.z", "model-00002-of-00002.safetensors"}}}});
    }

    static void expectError(const std::string& p, const QStringList& parts) {
        try {
            WeightStore::open(p);
            QFAIL("no error");
        } catch (const xopd::Error& e) {
            const QString msg = e.what();
            for (const auto& part : parts) QVERIFY2(msg.contains(part), qPrintable("missing '" + part + "' in: " + msg));
        }
    }

private slots:
    void singleFileFolderAndFile() {
        QTemporaryDir d;
        xopd::writeSafetensors(path(d, "model.safetensors"), {{"m.w", torch::eye(3)}, {"m.b", torch::zeros({3})}});
        for (const auto& p : {d.path().toStdString(), path(d, "model.safetensors")}) {
            const auto s = WeightStore::open(p);
            QCOMPARE(s.size(), size_t{2});
            QVERIFY(s.has("m.w"));
            QVERIFY(!s.has("m.x"));
            QVERIFY(torch::equal(s.get("m.w"), torch::eye(3)));
            QVERIFY(s.indexFile().empty());
            QCOMPARE(s.shardFiles().size(), size_t{1});
        }
    }

    void shardedFolder() {
        QTemporaryDir d;
        writeSharded(d);
        const auto s = WeightStore::open(d.path().toStdString());
        QCOMPARE(s.names(), (std::vector<std::string>{"a.x", "a.y", "b.z"}));
        QCOMPARE(s.shardFiles().size(), size_t{2});
        QVERIFY(torch::equal(s.get("a.x"), torch::arange(4, torch::kFloat32)));
        QCOMPARE(s.get("a.y").scalar_type(), torch::kBFloat16);
        QVERIFY(torch::equal(s.get("b.z").to(torch::kFloat32), torch::full({5}, 2.0)));
        QCOMPARE(s.location("b.z").file, path(d, "model-00002-of-00002.safetensors"));
        QCOMPARE(s.namesWithPrefix("a."), (std::vector<std::string>{"a.x", "a.y"}));
        QVERIFY(s.hasPrefix("b."));
        QVERIFY(!s.hasPrefix("c."));
        QCOMPARE(s.parameterCount(), int64_t{4 + 6 + 5});
        QCOMPARE(s.parameterCount("a."), int64_t{10});
        QCOMPARE(s.dataBytes(), uint64_t{38});
        QCOMPARE(s.dtypeCounts().at("BF16"), int64_t{1});
        QVERIFY(s.unmappedNames().empty());
        // The same store through the index path.
        QCOMPARE(WeightStore::open(path(d, "model.safetensors.index.json")).size(), size_t{3});
    }

    void tensorsOutliveStore() {
        QTemporaryDir d;
        writeSharded(d);
        torch::Tensor x;
        {
            const auto s = WeightStore::open(d.path().toStdString());
            x = s.get("a.x");
        }
        QVERIFY(torch::equal(x, torch::arange(4, torch::kFloat32)));
    }

    void missingShard() {
        QTemporaryDir d;
        writeSharded(d);
        QFile::remove(d.filePath("model-00002-of-00002.safetensors"));
        expectError(d.path().toStdString(), {"model.safetensors.index.json", "model-00002-of-00002.safetensors", "missing"});
    }

    void indexNamesTensorAbsentFromShard() {
        QTemporaryDir d;
        writeSharded(d);
        auto index = xopd::readJsonFile(path(d, "model.safetensors.index.json"));
        index["weight_map"]["b.ghost"] = "model-00002-of-00002.safetensors";
        xopd::writeJsonFileAtomic(path(d, "model.safetensors.index.json"), index);
        expectError(d.path().toStdString(), {"model.safetensors.index.json", "'b.ghost'", "model-00002-of-00002",
                                             "no such tensor"});
    }

    void tensorInTwoShards() {
        QTemporaryDir d;
        writeSharded(d);
        xopd::writeSafetensors(path(d, "model-00002-of-00002.safetensors"),
                               {{"b.z", torch::full({5}, 2.0, torch::kFloat16)}, {"a.x", torch::zeros({4})}});
        expectError(d.path().toStdString(), {"'a.x'", "two shards"});
    }

    void unmappedTensorIsReported() {
        QTemporaryDir d;
        writeSharded(d);
        xopd::writeSafetensors(path(d, "model-00002-of-00002.safetensors"),
                               {{"b.z", torch::full({5}, 2.0, torch::kFloat16)}, {"b.extra", torch::zeros({1})}});
        const auto s = WeightStore::open(d.path().toStdString());
        QCOMPARE(s.unmappedNames(), std::vector<std::string>{"b.extra"});
        QVERIFY(s.has("b.extra"));
    }

    void badIndexAndShardPaths() {
        QTemporaryDir d;
        writeSharded(d);
        xopd::writeFileAtomic(path(d, "model.safetensors.index.json"), "{\"weight_map\": 3}");
        expectError(d.path().toStdString(), {"model.safetensors.index.json", "weight_map"});
        xopd::writeFileAtomic(path(d, "model.safetensors.index.json"), "{ nope");
        expectError(d.path().toStdString(), {"model.safetensors.index.json", "not valid JSON"});
        xopd::writeJsonFileAtomic(path(d, "model.safetensors.index.json"), {{"weight_map", {{"a.x", "../x.safetensors"}}}});
        expectError(d.path().toStdString(), {"'a.x'", "not a file name"});
    }

    void malformedShardNamesShard() {
        QTemporaryDir d;
        writeSharded(d);
        xopd::writeFileAtomic(path(d, "model-00001-of-00002.safetensors"), std::string("\x08\0\0\0\0\0\0\0{}", 10));
        expectError(d.path().toStdString(), {"model-00001-of-00002.safetensors"});
    }

    void folderWithoutWeights() {
        QTemporaryDir d;
        expectError(d.path().toStdString(), {"no model.safetensors or model.safetensors.index.json"});
        expectError("/nonexistent/model", {"/nonexistent/model", "no such file"});
    }

    void inMemoryStore() {
        const auto s = WeightStore::fromTensors({{"p.w", torch::ones({2, 2})}, {"q", torch::zeros({3}, torch::kBFloat16)}});
        QCOMPARE(s.size(), size_t{2});
        QCOMPARE(s.parameterCount("p."), int64_t{4});
        QCOMPARE(s.location("q").info.dtype, xopd::SafetensorsDtype::BF16);
        QVERIFY(torch::equal(s.get("p.w"), torch::ones({2, 2})));
        QVERIFY_THROWS_EXCEPTION(xopd::Error, s.get("nope"));
        QVERIFY_THROWS_EXCEPTION(xopd::Error, WeightStore::fromTensors({{"a", torch::ones(1)}, {"a", torch::ones(1)}}));
    }
};

QTEST_APPLESS_MAIN(TestWeightStore)
#include "test_weight_store.moc"
