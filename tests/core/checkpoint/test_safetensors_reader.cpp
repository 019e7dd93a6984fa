// SafetensorsFile / parseSafetensorsHeader: every malformed file gives an xopd::Error naming the file
// (and the tensor at fault), never a crash; valid files give the right values, as zero-copy views
// when aligned and as copies when not.
#include "core/common/Error.h"
#include "core/common/Tensors.h"
#include "core/model/checkpoint/SafetensorsFile.h"
#include "tests/support/TestHelpers.h"

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cstring>
#include <fstream>

using xopd::SafetensorsFile;

namespace {

std::string floatBytes(std::initializer_list<float> values) {
    std::string s(values.size() * 4, '\0');
    size_t i = 0;
    for (float v : values) std::memcpy(&s[4 * i++], &v, 4);
    return s;
}

}  // namespace

class TestSafetensorsReader : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

    std::string write(const std::string& name, const std::string& bytes) {
        const std::string path = dir_.filePath(QString::fromStdString(name)).toStdString();
        std::ofstream(path, std::ios::binary) << bytes;
        return path;
    }
    // Opening must fail with a message naming the file and containing every `parts`.
    void expectError(const std::string& name, const std::string& bytes, const QStringList& parts) {
        const std::string path = write(name, bytes);
        try {
            SafetensorsFile::open(path);
            QFAIL(qPrintable("no error for " + QString::fromStdString(name)));
        } catch (const xopd::Error& e) {
            const QString msg = e.what();
            QVERIFY2(msg.contains(QString::fromStdString(path)), qPrintable(msg));
            for (const auto& p : parts) QVERIFY2(msg.contains(p), qPrintable("missing '" + p + "' in: " + msg));
        }
    }

private slots:
    void emptyFile() { expectError("empty.safetensors", "", {"0 bytes"}); }
    void truncatedLength() { expectError("short.safetensors", std::string("\x10\0\0", 3), {"shorter than the 8-byte"}); }
    void hugeHeaderLength() {
        expectError("huge.safetensors", xopd::test::safetensorsBytes("{}", "", uint64_t{1} << 63), {"9223372036854775808", "exceeds the limit"});
    }
    void headerPastEnd() { expectError("past.safetensors", xopd::test::safetensorsBytes("{}", "", 4096), {"runs past the end"}); }
    void notJson() { expectError("nojson.safetensors", xopd::test::safetensorsBytes("{not json}", ""), {"not valid JSON"}); }
    void notAnObject() { expectError("array.safetensors", xopd::test::safetensorsBytes("[1, 2]  ", ""), {"starting with '{'"}); }
    void trailingGarbage() { expectError("trail.safetensors", xopd::test::safetensorsBytes("{}  x", ""), {"not valid JSON"}); }
    void invalidUtf8() {
        expectError("utf8.safetensors", xopd::test::safetensorsBytes("{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}",
                                                floatBytes({1})),
                    {"not valid JSON"});
    }
    void overlappingOffsets() {
        const std::string h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})";
        expectError("overlap.safetensors", xopd::test::safetensorsBytes(h, std::string(12, '\0')), {"'b'", "overlap", "'a'"});
    }
    void holeBetweenTensors() {
        const std::string h = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                              R"("b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})";
        expectError("hole.safetensors", xopd::test::safetensorsBytes(h, std::string(20, '\0')), {"'b'", "hole of 4 bytes"});
    }
    void holeAtStart() {
        const std::string h = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
        expectError("hole0.safetensors", xopd::test::safetensorsBytes(h, std::string(8, '\0')), {"'a'", "hole", "start of the data"});
    }
    void trailingDataBytes() {
        const std::string h = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
        expectError("extra.safetensors", xopd::test::safetensorsBytes(h, std::string(9, '\0')), {"cover 4 bytes", "holds 9"});
    }
    void truncatedData() {
        const std::string h = R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
        expectError("truncdata.safetensors", xopd::test::safetensorsBytes(h, std::string(10, '\0')), {"'a'", "past its end"});
    }
    void sizeShapeMismatch() {
        const std::string h = R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})";
        expectError("mismatch.safetensors", xopd::test::safetensorsBytes(h, std::string(8, '\0')), {"'w'", "needs 12 bytes", "hold 8"});
    }
    void unknownDtype() {
        const std::string h = R"({"w":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}})";
        expectError("dtype.safetensors", xopd::test::safetensorsBytes(h, std::string(16, '\0')), {"'w'", "unknown dtype 'F128'"});
    }
    void duplicateNames() {
        const std::string h = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                              R"("w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
        expectError("dup.safetensors", xopd::test::safetensorsBytes(h, std::string(8, '\0')), {"'w'", "more than once"});
    }
    void duplicateKeyInsideEntry() {
        const std::string h = R"({"w":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}})";
        expectError("dupkey.safetensors", xopd::test::safetensorsBytes(h, std::string(4, '\0')), {"'dtype'", "more than once"});
    }
    void negativeShape() {
        const std::string h = R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})";
        expectError("neg.safetensors", xopd::test::safetensorsBytes(h, std::string(4, '\0')), {"'w'", "negative"});
    }
    void fractionalShape() {
        const std::string h = R"({"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})";
        expectError("frac.safetensors", xopd::test::safetensorsBytes(h, std::string(4, '\0')), {"'w'", "integers"});
    }
    void endBeforeBegin() {
        const std::string h = R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})";
        expectError("backwards.safetensors", xopd::test::safetensorsBytes(h, std::string(4, '\0')), {"'w'", "end before begin"});
    }
    void missingField() {
        const std::string h = R"({"w":{"dtype":"F32","shape":[1]}})";
        expectError("nofield.safetensors", xopd::test::safetensorsBytes(h, std::string(4, '\0')), {"'w'", "data_offsets"});
    }
    void nonStringMetadata() {
        const std::string h = R"({"__metadata__":{"format":1}})";
        expectError("meta.safetensors", xopd::test::safetensorsBytes(h, ""), {"__metadata__", "'format'", "string"});
    }
    void shapeOverflow() {
        const std::string h =
            R"({"w":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}})";
        expectError("overflow.safetensors", xopd::test::safetensorsBytes(h, std::string(4, '\0')), {"'w'", "overflows"});
    }
    void subByteNotWhole() {
        const std::string h = R"({"w":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}})";
        expectError("f4.safetensors", xopd::test::safetensorsBytes(h, std::string(1, '\0')), {"'w'", "whole number of bytes"});
    }
    void deepNesting() {
        expectError("deep.safetensors", xopd::test::safetensorsBytes("{\"a\":" + std::string(1000, '[') + std::string(1000, ']') + "}", ""),
                    {"nested deeper"});
    }
    void notARegularFile() {
        try {
            SafetensorsFile::open(dir_.path().toStdString());
            QFAIL("no error");
        } catch (const xopd::Error& e) {
            QVERIFY(QString(e.what()).contains(dir_.path()));
        }
    }

    void readsValuesAsZeroCopyViews() {
        // 8-aligned header, F32 then BF16 then an empty F16 and a scalar.
        std::string h = R"({"__metadata__":{"format":"pt"},)"
                        R"("a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                        R"("s":{"dtype":"F32","shape":[],"data_offsets":[16,20]},)"
                        R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[20,24]},)"
                        R"("e":{"dtype":"F16","shape":[0,3],"data_offsets":[24,24]}})";
        h.append((8 - h.size() % 8) % 8, ' ');
        std::string data = floatBytes({1.f, -2.f, 3.5f, 0.25f}) + floatBytes({7.f});
        const uint16_t bf[2] = {0x3f80, 0xc040};  // 1.0, -3.0
        data.append(reinterpret_cast<const char*>(bf), 4);
        const std::string path = write("good.safetensors", xopd::test::safetensorsBytes(h, data));
        auto f = SafetensorsFile::open(path);
        QCOMPARE(f->header().metadata.at("format"), std::string("pt"));
        QCOMPARE(f->names().size(), size_t{4});
        torch::Tensor a = f->tensor("a");
        QCOMPARE(a.scalar_type(), torch::kFloat32);
        QVERIFY(torch::equal(a, torch::tensor({1.f, -2.f, 3.5f, 0.25f}).reshape({2, 2})));
        const auto* base = reinterpret_cast<const char*>(a.data_ptr());
        QVERIFY(std::memcmp(base, data.data(), 16) == 0);
        torch::Tensor s = f->tensor("s");
        QCOMPARE(s.dim(), int64_t{0});
        QCOMPARE(s.item<float>(), 7.f);
        torch::Tensor b = f->tensor("b");
        QCOMPARE(b.scalar_type(), torch::kBFloat16);
        QVERIFY(torch::equal(b.to(torch::kFloat32), torch::tensor({1.f, -3.f})));
        torch::Tensor e = f->tensor("e");
        QCOMPARE(e.sizes().vec(), (std::vector<int64_t>{0, 3}));
        QCOMPARE(e.scalar_type(), torch::kFloat16);
        // Views outlive the file object; writes into them never reach the file.
        f.reset();
        a.mul_(2);
        QCOMPARE(a[0][0].item<float>(), 2.f);
        QCOMPARE(SafetensorsFile::open(path)->tensor("a")[0][0].item<float>(), 1.f);
    }

    void misalignedDataIsCopied() {
        // Header of 55 bytes, unpadded: data starts at file offset 63, odd for F32 (mappings are
        // page-aligned, so the tensor's address is misaligned too).
        const std::string h = R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})";
        QCOMPARE(h.size(), size_t{55});
        QVERIFY((8 + h.size()) % 4 != 0);
        const std::string path = write("misaligned.safetensors", xopd::test::safetensorsBytes(h, floatBytes({1.5f, -2.f, 4.f})));
        auto f = SafetensorsFile::open(path);
        torch::Tensor x = f->tensor("x");
        QVERIFY(reinterpret_cast<uintptr_t>(x.data_ptr()) % 4 == 0);
        QVERIFY(torch::equal(x, torch::tensor({1.5f, -2.f, 4.f})));
    }

    void unloadableDtypeNamesTensor() {
        const std::string h = R"({"u":{"dtype":"U16","shape":[2],"data_offsets":[0,4]}})";
        const std::string path = write("u16.safetensors", xopd::test::safetensorsBytes(h, std::string(4, '\0')));
        auto f = SafetensorsFile::open(path);  // valid file
        QCOMPARE(f->info("u").dtype, xopd::SafetensorsDtype::U16);
        try {
            f->tensor("u");
            QFAIL("no error");
        } catch (const xopd::Error& e) {
            const QString msg = e.what();
            QVERIFY2(msg.contains("'u'") && msg.contains("U16") && msg.contains(QString::fromStdString(path)),
                     qPrintable(msg));
        }
    }

    void absentTensorNamesFile() {
        const std::string path = write("one.safetensors", xopd::test::safetensorsBytes("{}", ""));
        auto f = SafetensorsFile::open(path);
        QVERIFY(f->names().empty());
        try {
            f->tensor("missing");
            QFAIL("no error");
        } catch (const xopd::Error& e) {
            QVERIFY(QString(e.what()).contains("'missing'"));
            QVERIFY(QString(e.what()).contains(QString::fromStdString(path)));
        }
    }

    void headerParserOnMemory() {
        // The torch-free parser the fuzzer uses works on a byte span.
        const std::string bytes = xopd::test::safetensorsBytes(R"({"t":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}})", std::string(8, '\1'));
        const auto h = xopd::parseSafetensorsHeader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "mem");
        QCOMPARE(h.tensors.size(), size_t{1});
        QCOMPARE(h.tensors[0].byteSize(), uint64_t{8});
        QCOMPARE(h.data_offset, uint64_t{8} + h.header_size);
    }
};

QTEST_APPLESS_MAIN(TestSafetensorsReader)
#include "test_safetensors_reader.moc"
