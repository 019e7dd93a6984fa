// SafetensorsWriter: output round-trips through the reader, matches the reference layout as checked by
// an independent Python reader (tests/reference/safetensors_ref.py), files written by the Python
// reference writer load with the right values, sharding writes a valid index, and failed writes
// leave nothing behind.
#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/common/Tensors.h"
#include "core/model/checkpoint/SafetensorsFile.h"
#include "core/model/checkpoint/SafetensorsWriter.h"
#include "core/model/checkpoint/WeightStore.h"
#include "tests/support/TestSupport.h"

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <filesystem>

using xopd::NamedTensors;

namespace {

const QString kPython = "/usr/bin/python3";  // Debian's python3 with python3-numpy

// From $XOPD_SOURCE_DIR (CTest sets it); a bare run from the build folder must set it by hand.
QString refScript() { return xopd::test::sourceDir() + "/tests/reference/safetensors_ref.py"; }
const char* kNoScript = "reference script not found: run through ctest or set XOPD_SOURCE_DIR to the source tree";

NamedTensors sampleTensors() {
    torch::manual_seed(7);
    return {
        {"model.layers.0.mlp.up_proj.weight", torch::randn({5, 3}).to(torch::kBFloat16)},
        {"model.norm.weight", torch::randn({6})},
        {"lm_head.weight", torch::randn({4, 3}).to(torch::kFloat16)},
        {"b.scalar", torch::tensor(3.25f)},
        {"a.ids", torch::arange(5, torch::kInt64)},
        {"empty", torch::empty({0, 7}, torch::kBFloat16)},
        {"c.strided", torch::randn({4, 6}).t()},  // non-contiguous input
    };
}

std::vector<std::string> fileNames(const QString& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir.toStdString()))
        out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

class TestSafetensorsWriter : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

private slots:
    void roundTripThroughReader() {
        const std::string path = dir_.filePath("rt.safetensors").toStdString();
        const NamedTensors in = sampleTensors();
        xopd::writeSafetensors(path, in);
        auto f = xopd::SafetensorsFile::open(path);
        QCOMPARE(f->names().size(), in.size());
        QCOMPARE(f->header().metadata.at("format"), std::string("pt"));
        QCOMPARE(f->header().header_size % 8, uint64_t{0});
        QCOMPARE(f->header().data_offset % 8, uint64_t{0});
        for (const auto& [name, t] : in) {
            torch::Tensor got = f->tensor(name);
            QCOMPARE(got.scalar_type(), t.scalar_type());
            QCOMPARE(got.sizes().vec(), t.sizes().vec());
            QVERIFY2(torch::equal(got, t), name.c_str());
        }
    }

    void orderFollowsReferenceWriter() {
        const std::string path = dir_.filePath("order.safetensors").toStdString();
        xopd::writeSafetensors(path, sampleTensors());
        std::vector<std::string> names = xopd::SafetensorsFile::open(path)->names();
        // I64 > F32 > BF16 > F16, then by name (the reference implementation's Dtype order).
        const std::vector<std::string> want = {"a.ids",
                                               "b.scalar",
                                               "c.strided",
                                               "model.norm.weight",
                                               "empty",
                                               "model.layers.0.mlp.up_proj.weight",
                                               "lm_head.weight"};
        QCOMPARE(names, want);
    }

    void independentPythonReaderAgrees() {
        if (!QFile::exists(kPython)) QSKIP("no /usr/bin/python3");
        QVERIFY2(QFile::exists(refScript()), qPrintable(refScript() + ": " + kNoScript));
        const std::string path = dir_.filePath("py.safetensors").toStdString();
        const NamedTensors in = sampleTensors();
        xopd::writeSafetensors(path, in);
        const auto r = xopd::test::runProgram(kPython, {refScript(), "read", QString::fromStdString(path)});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const auto j = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(j["metadata"]["format"].get<std::string>(), std::string("pt"));
        QCOMPARE(j["header_size"].get<uint64_t>() % 8, uint64_t{0});
        for (const auto& [name, t] : in) {
            const auto& e = j["tensors"][name];
            QCOMPARE(e["shape"].get<std::vector<int64_t>>(), t.sizes().vec());
            const auto values = e["values"].get<std::vector<double>>();
            torch::Tensor want = t.to(torch::kFloat64).contiguous().reshape({-1});
            QCOMPARE(static_cast<int64_t>(values.size()), want.numel());
            for (int64_t i = 0; i < want.numel(); ++i)
                QCOMPARE(values[static_cast<size_t>(i)], want[i].item<double>());  // exact: same bits
        }
    }

    void readsPythonReferenceWriterOutput() {
        if (!QFile::exists(kPython)) QSKIP("no /usr/bin/python3");
        QVERIFY2(QFile::exists(refScript()), qPrintable(refScript() + ": " + kNoScript));
        const QString path = dir_.filePath("from_python.safetensors");
        const auto r = xopd::test::runProgram(kPython, {refScript(), "write", path});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const auto j = nlohmann::json::parse(r.out.toStdString());
        auto f = xopd::SafetensorsFile::open(path.toStdString());
        QCOMPARE(f->names().size(), j["tensors"].size());
        for (auto it = j["tensors"].begin(); it != j["tensors"].end(); ++it) {
            torch::Tensor got = f->tensor(it.key());
            QCOMPARE(std::string(xopd::dtypeName(f->info(it.key()).dtype)), it.value()["dtype"].get<std::string>());
            QCOMPARE(got.sizes().vec(), it.value()["shape"].get<std::vector<int64_t>>());
            const auto values = it.value()["values"].get<std::vector<double>>();
            torch::Tensor flat = got.to(torch::kFloat64).reshape({-1});
            for (int64_t i = 0; i < flat.numel(); ++i) QCOMPARE(flat[i].item<double>(), values[static_cast<size_t>(i)]);
        }
        // Writing the same tensors back gives byte-identical output.
        NamedTensors back;
        for (const auto& n : f->names()) back.emplace_back(n, f->tensor(n));
        const std::string again = dir_.filePath("again.safetensors").toStdString();
        xopd::writeSafetensors(again, back);
        QCOMPARE(xopd::readTextFile(again), xopd::readTextFile(path.toStdString()));
    }

    void shardedCheckpointWithIndex() {
        QTemporaryDir d;
        torch::manual_seed(3);
        NamedTensors in;
        for (int i = 0; i < 6; ++i) in.emplace_back("w" + std::to_string(i), torch::randn({100}).to(torch::kBFloat16));
        xopd::SafetensorsWriteOptions o;
        o.max_shard_bytes = 450;  // two 200-byte tensors per shard
        const auto written = xopd::writeCheckpointWeights(d.path().toStdString(), in, o);
        const std::vector<std::string> want = {"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                                               "model-00003-of-00003.safetensors", "model.safetensors.index.json"};
        QCOMPARE(written, want);
        QCOMPARE(fileNames(d.path()), want);
        const auto index = xopd::readJsonFile(d.filePath("model.safetensors.index.json").toStdString());
        QCOMPARE(index["metadata"]["total_size"].get<uint64_t>(), uint64_t{1200});
        QCOMPARE(index["weight_map"]["w5"].get<std::string>(), want[2]);
        const auto store = xopd::WeightStore::open(d.path().toStdString());
        QCOMPARE(store.size(), in.size());
        QCOMPARE(store.shardFiles().size(), size_t{3});
        for (const auto& [name, t] : in) QVERIFY(torch::equal(store.get(name), t));
        // Rewriting unsharded replaces the layout: no stale index or shards shadow the new file.
        o.max_shard_bytes = 0;
        QCOMPARE(xopd::writeCheckpointWeights(d.path().toStdString(), in, o), std::vector<std::string>{"model.safetensors"});
        QVERIFY(!QFile::exists(d.filePath("model.safetensors.index.json")));
        QCOMPARE(xopd::WeightStore::open(d.path().toStdString()).shardFiles().size(), size_t{1});
    }

    void failedWriteLeavesOldFileAndNoTemporary() {
        QTemporaryDir d;
        const std::string path = d.filePath("model.safetensors").toStdString();
        xopd::writeSafetensors(path, {{"x", torch::ones({2})}});
        const std::string before = xopd::readTextFile(path);
        QVERIFY_THROWS_EXCEPTION(xopd::Error, xopd::writeSafetensors(path, {{"x", torch::ones({2})}, {"x", torch::ones({3})}}));
        try {
            xopd::writeSafetensors(path, {{"c", torch::ones({2}, torch::kComplexFloat)}});
            QFAIL("no error");
        } catch (const xopd::Error& e) {
            QVERIFY2(QString(e.what()).contains("'c'"), e.what());
        }
        QCOMPARE(xopd::readTextFile(path), before);
        QCOMPARE(fileNames(d.path()), std::vector<std::string>{"model.safetensors"});
        QVERIFY_THROWS_EXCEPTION(xopd::Error, xopd::writeSafetensors("/nonexistent/dir/x.safetensors", {}));
    }
};

QTEST_APPLESS_MAIN(TestSafetensorsWriter)
#include "test_safetensors_writer.moc"
