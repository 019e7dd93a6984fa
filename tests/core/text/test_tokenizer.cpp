// Tokenizer tests that need no download: the HF slow-tokenizer fixture of model-formats.md §8.1
// (built here from the definition, in both merges encodings), byte-mapping spot checks (§8.2),
// NFC, the pre-tokenizer regex, UTF-8 replacement on decode, and loud failures on bad files.
#include "core/common/Error.h"
#include "core/text/ByteLevel.h"
#include "core/text/Nfc.h"
#include "core/text/RegexSplitter.h"
#include "core/text/Tokenizer.h"
#include "core/text/Utf8.h"
#include "tests/core/text/TextTestSupport.h"
#include "tests/support/TestHelpers.h"
#include "tests/support/TestSupport.h"

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <fstream>

using xopd::text::kMaxUnusedTokenIds;
using xopd::text::Tokenizer;

namespace {

std::vector<int32_t> ids(std::initializer_list<int32_t> l) { return l; }

void writeText(const QString& path, const std::string& text) {
    std::ofstream(path.toStdString(), std::ios::binary) << text;
}

}  // namespace

class TestTokenizer : public QObject {
    Q_OBJECT
private slots:
    void byteMappingMatchesDefinition() {
        const auto ref = xopd::test::referenceBytesToUnicode();
        for (int b = 0; b < 256; ++b) {
            QCOMPARE(uint32_t(xopd::text::byteToCodePoint(uint8_t(b))), uint32_t(ref[b]));
            QCOMPARE(xopd::text::byteToSymbol(uint8_t(b)), xopd::test::utf8(ref[b]));
        }
        QCOMPARE(uint32_t(xopd::text::byteToCodePoint(' ')), 0x120u);
        QCOMPARE(uint32_t(xopd::text::byteToCodePoint('\n')), 0x10Au);
        std::string all;
        for (int b = 0; b < 256; ++b) all += char(b);
        QCOMPARE(*xopd::text::symbolsToBytes(xopd::text::bytesToSymbols(all)), all);
        QVERIFY(!xopd::text::symbolsToBytes("\u4e16"));  // not in the byte alphabet
    }

    void fixture_data() {
        QTest::addColumn<QString>("layout");
        QTest::newRow("vocab.json + merges.txt (\"a b\")") << "slow";
        QTest::newRow("tokenizer.json [\"a\",\"b\"] pairs") << "pairs";
        QTest::newRow("tokenizer.json \"a b\" strings") << "strings";
    }
    void fixture() {
        QFETCH(QString, layout);
        QTemporaryDir dir;
        QString path = dir.path();
        if (layout == "slow") {
            xopd::test::writeFixtureSlowFiles(dir.path());
        } else {
            path = dir.path() + "/tokenizer.json";
            xopd::test::writeFixtureTokenizerJson(path, layout == "pairs");
        }
        const Tokenizer tok = Tokenizer::fromFile(path.toStdString());
        QCOMPARE(tok.mergeCount(), size_t(10));
        QCOMPARE(tok.size(), 271);
        // §8.2 byte-mapping spot checks.
        QCOMPARE(tok.encode("!"), ids({0}));
        QCOMPARE(tok.encode("l"), ids({75}));
        QCOMPARE(tok.encode("\n"), ids({198}));
        QCOMPARE(tok.encode(" "), ids({220}));
        // §8.1: NFC (U+03D2 U+0301 -> U+03D3), single digits, symbol + newline gluing, added token.
        const std::string text = "lower lower newer 010;}\n<|endoftext|>\u03d2\u0301";
        const auto got = tok.encode(text);
        QCOMPARE(got, ids({75, 78, 86, 260, 259, 260, 220, 77, 68, 86, 260, 220, 15, 16, 15, 266, 270, 267}));
        std::vector<std::string> tokens;
        for (int32_t id : got) tokens.push_back(tok.idToToken(id));
        const std::vector<std::string> expected = {"l", "o", "w", "er", "\u0120low", "er", "\u0120", "n", "e",
                                                   "w", "er", "\u0120", "0", "1", "0", ";}\u010a",
                                                   "<|endoftext|>", "\u00cf\u0135"};
        QCOMPARE(tokens, expected);
        QCOMPARE(tok.encode(" ###"), ids({268, 269}));
        QCOMPARE(tok.decode(got), std::string("lower lower newer 010;}\n<|endoftext|>\u03d3"));
        xopd::text::DecodeOptions skip;
        skip.skip_special = true;
        QCOMPARE(tok.decode(got, skip), std::string("lower lower newer 010;}\n\u03d3"));
        QVERIFY(tok.isSpecial(270));
        QVERIFY(!tok.isSpecial(260));
        xopd::text::EncodeOptions literal;
        literal.parse_added_tokens = false;
        const auto plain = tok.encode("<|endoftext|>", literal);
        QVERIFY(std::find(plain.begin(), plain.end(), 270) == plain.end());
        QCOMPARE(tok.decode(plain), std::string("<|endoftext|>"));
    }

    void nfc() {
        QCOMPARE(xopd::text::toNfc("\u03d2\u0301\u03d2\u0308\u017f\u0307"), std::string("\u03d3\u03d4\u1e9b"));
        QCOMPARE(xopd::text::toNfc("plain ascii"), std::string("plain ascii"));
        QVERIFY(!xopd::text::isNfc("e\u0301"));
        QVERIFY(xopd::text::isNfc("\u00e9"));
    }

    void regexPieces() {
        const xopd::text::RegexSplitter re(xopd::text::kQwen2Pattern, "test");
        auto split = [&](const std::string& s) {
            std::vector<std::string_view> views;
            re.split(s, views);
            return std::vector<std::string>(views.begin(), views.end());
        };
        QCOMPARE(split("a   b"), (std::vector<std::string>{"a", "  ", " b"}));
        QCOMPARE(split("Audio 1: "), (std::vector<std::string>{"Audio", " ", "1", ":", " "}));
        QCOMPARE(split("it's 42;}\n\nx"), (std::vector<std::string>{"it", "'s", " ", "4", "2", ";}\n\n", "x"}));
        QCOMPARE(split("x\r\n\r\n  y"), (std::vector<std::string>{"x", "\r\n\r\n", " ", " y"}));
        QCOMPARE(split("WE'LL"), (std::vector<std::string>{"WE", "'LL"}));
        // Unicode \s: U+3000 and U+00A0 are whitespace, so the letters keep no prefix from them.
        QCOMPARE(split("a\u3000b"), (std::vector<std::string>{"a", "\u3000b"}));
        // A pattern that matches empty (a mutated Llama 3 file, found by fuzz_tokenizer_file): every
        // byte lands in exactly one piece; the gap before an empty match used to be emitted again.
        const xopd::text::RegexSplitter empty(R"(\p{N}{0,3})", "test");
        std::vector<std::string_view> views;
        empty.split("a!12b", views);
        QCOMPARE(std::vector<std::string>(views.begin(), views.end()),
                 (std::vector<std::string>{"a", "!", "12", "b"}));
    }

    void longPiecesUseTheSameMerges() {
        // Pieces over 48 bytes go through the heap-based merge loop; it must agree with short ones.
        QTemporaryDir dir;
        xopd::test::writeFixtureSlowFiles(dir.path());
        const Tokenizer tok = Tokenizer::fromFile(dir.path().toStdString());
        std::string longWord, expectedLong;
        std::vector<int32_t> expected;
        for (int i = 0; i < 40; ++i) {
            for (int32_t id : tok.encode("er")) expected.push_back(id);
            longWord += "er";
        }
        QCOMPARE(tok.encode(longWord), expected);  // 80 bytes: 40 x "er" (260)
        QCOMPARE(expected.size(), size_t(40));
        std::string hashes(61, '#');  // "##" merges pairwise from the left: 30 x 269 then "#"
        const auto h = tok.encode(hashes);
        QCOMPARE(h.size(), size_t(31));
        QCOMPARE(h.front(), 269);
        QCOMPARE(h.back(), tok.encode("#").front());
    }

    void utf8Replacement() {
        // Expected strings from Python: bytes.decode("utf-8", "replace").
        const std::string r = "\xEF\xBF\xBD";
        QCOMPARE(xopd::text::replaceInvalidUtf8("\xE4\xBD"), r);
        QCOMPARE(xopd::text::replaceInvalidUtf8("\xF0\x80\x80"), r + r + r);
        QCOMPARE(xopd::text::replaceInvalidUtf8("\xED\xA0\x80"), r + r + r);
        QCOMPARE(xopd::text::replaceInvalidUtf8("\xC0\xAF"), r + r);
        QCOMPARE(xopd::text::replaceInvalidUtf8("\xF4\x90\x80\x80"), r + r + r + r);
        QCOMPARE(xopd::text::replaceInvalidUtf8("a\xFF" "b"), "a" + r + "b");
        QCOMPARE(xopd::text::replaceInvalidUtf8("\xE2\x82"), r);
        QCOMPARE(xopd::text::replaceInvalidUtf8("\xF0\x9F\x98\x80 ok"), std::string("\xF0\x9F\x98\x80 ok"));
        // Through the tokenizer: the 2 leading bytes of U+4F60 then "a".
        QTemporaryDir dir;
        xopd::test::writeFixtureSlowFiles(dir.path());
        const Tokenizer tok = Tokenizer::fromFile(dir.path().toStdString());
        auto partial = tok.encode("\u4f60");
        QCOMPARE(partial.size(), size_t(3));
        partial.pop_back();
        partial.push_back(tok.encode("a").front());
        QCOMPARE(tok.decode(partial), r + "a");
        QCOMPARE(tok.tokenBytes(partial[0]), std::string("\xE4"));
    }

    void invalidUtf8IsRefused() {
        QTemporaryDir dir;
        xopd::test::writeFixtureSlowFiles(dir.path());
        const Tokenizer tok = Tokenizer::fromFile(dir.path().toStdString());
        const std::string msg = xopd::test::errorOf([&] { tok.encode("ok \xC3("); }).toStdString();
        QVERIFY2(msg.find("not valid UTF-8") != std::string::npos && msg.find("byte 3") != std::string::npos,
                 msg.c_str());
        const std::string unknown = xopd::test::errorOf([&] { tok.decode({5000}); }).toStdString();
        QVERIFY2(unknown.find("5000") != std::string::npos, unknown.c_str());
        QVERIFY(!xopd::test::errorOf([&] { tok.decode({-1}); }).isEmpty());
    }

    void badFilesNameTheFile_data() {
        QTest::addColumn<QString>("contents");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << "{\"model\": " << "not valid JSON";
        QTest::newRow("zero merges") << "ZERO_MERGES" << "no merges loaded";
        QTest::newRow("merge out of vocab") << "BAD_MERGE" << "not in the vocabulary";
        QTest::newRow("merge object") << "OBJECT_MERGE" << "merge 0 is neither";
        QTest::newRow("wordpiece") << "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}" << "not supported";
        QTest::newRow("no byte symbols") << "NO_BYTES" << "missing from the vocabulary";
    }
    void badFilesNameTheFile() {
        QFETCH(QString, contents);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString path = dir.path() + "/tokenizer.json";
        xopd::test::writeFixtureTokenizerJson(path);
        auto doc = nlohmann::json::parse(std::ifstream(path.toStdString()));
        if (contents == "ZERO_MERGES") {
            doc["model"]["merges"] = nlohmann::json::array();
            writeText(path, doc.dump());
        } else if (contents == "BAD_MERGE") {
            doc["model"]["merges"].push_back({"zz", "q"});
            writeText(path, doc.dump());
        } else if (contents == "OBJECT_MERGE") {
            doc["model"]["merges"][0] = {{"a", "b"}};
            writeText(path, doc.dump());
        } else if (contents == "NO_BYTES") {
            doc["model"]["vocab"].erase("!");
            writeText(path, doc.dump());
        } else {
            writeText(path, contents.toStdString());
        }
        const std::string msg = xopd::test::errorOf([&] { Tokenizer::fromFile(path.toStdString()); }).toStdString();
        QVERIFY2(msg.find(path.toStdString()) != std::string::npos, msg.c_str());
        QVERIFY2(msg.find(expected.toStdString()) != std::string::npos, msg.c_str());
    }

    // Ids from the files are checked before anything is sized by them (issue 18): -5 was a
    // "double free or corruption", 2147483647 a segfault, 300000000 took 27 s and 9.8 GB.
    // `patch` is a JSON merge patch on the fixture tokenizer.json, or the whole text of the named
    // file next to the vocab.json + merges.txt fixture.
    void badTokenIdsAreRefused_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("patch");
        QTest::addColumn<QStringList>("expected");
        const QString added =
            R"({"added_tokens": [{"id": %1, "content": "<|endoftext|>", "special": true}]})";
        const QString vocab = R"({"model": {"vocab": {"!": %1}}})";
        for (const char* id :
             {"-5", "2147483647", "300000000", "4194304", "18446744073709551615", "-9223372036854775808"}) {
            QTest::addRow("tokenizer.json added token id %s", id)
                << "tokenizer.json" << added.arg(id)
                << QStringList{"added token \"<|endoftext|>\" has id " + QString(id)};
            QTest::addRow("tokenizer.json vocabulary id %s", id)
                << "tokenizer.json" << vocab.arg(id)
                << QStringList{"vocabulary token \"!\" has id " + QString(id)};
        }
        QTest::newRow("tokenizer.json added token id 1e9 (not an integer)")
            << "tokenizer.json" << added.arg("1e9") << QStringList{"added token without an integer id"};
        QTest::newRow("tokenizer.json two added tokens with one id")
            << "tokenizer.json"
            << R"({"added_tokens": [{"id": 270, "content": "<|endoftext|>"}, {"id": 270, "content": "<|im_end|>"}]})"
            << QStringList{"id 270 is used by two added tokens", "<|endoftext|>", "<|im_end|>"};
        QTest::newRow("tokenizer.json one added token twice")
            << "tokenizer.json"
            << R"({"added_tokens": [{"id": 270, "content": "<|endoftext|>"}, {"id": 271, "content": "<|endoftext|>"}]})"
            << QStringList{"added token \"<|endoftext|>\" has two ids (270 and 271)"};
        QTest::newRow("tokenizer.json two vocabulary tokens with one id")
            << "tokenizer.json" << vocab.arg(1)
            << QStringList{"id 1 is used by both vocabulary tokens", "\"!\""};
        QTest::newRow("tokenizer.json added token on a vocabulary id")
            << "tokenizer.json"
            << R"({"added_tokens": [{"id": 5, "content": "<|endoftext|>"}]})"
            << QStringList{"added token \"<|endoftext|>\" has id 5, which is vocabulary token \"&\""};
        QTest::newRow("tokenizer.json added token with another vocabulary id")
            << "tokenizer.json"
            << R"({"added_tokens": [{"id": 270, "content": "!"}]})"
            << QStringList{"added token \"!\" has id 270, but the vocabulary", "gives it id 0"};
        QTest::newRow("tokenizer.json added token far past the vocabulary")
            << "tokenizer.json" << added.arg(270 + kMaxUnusedTokenIds + 1)
            << QStringList{"has id " + QString::number(270 + kMaxUnusedTokenIds + 1),
                           "only 271 ids are used"};
        QTest::newRow("tokenizer.json vocabulary id far past the others")
            << "tokenizer.json" << vocab.arg(3000000)
            << QStringList{"vocabulary token \"!\" has id 3000000", "only"};
        for (const char* id : {"-5", "2147483647", "300000000", "99999999999999999999"}) {
            QTest::addRow("tokenizer_config.json added token id %s", id)
                << "tokenizer_config.json"
                << QString(
                       R"({"added_tokens_decoder": {"%1": {"content": "<|endoftext|>", "special": true}}})")
                       .arg(id)
                << QStringList{QString(id).size() > 19
                                   ? "added_tokens_decoder key '" + QString(id) + "' is not a token id"
                                   : "added token \"<|endoftext|>\" has id " + QString(id)};
            QTest::addRow("added_tokens.json id %s", id)
                << "added_tokens.json" << QString(R"({"<|endoftext|>": %1})").arg(id)
                << QStringList{QString(id).size() > 19
                                   ? "\"<|endoftext|>\" has no integer id"  // JSON: a float
                                   : "added token \"<|endoftext|>\" has id " + QString(id)};
        }
        QTest::newRow("tokenizer_config.json one id twice (\"270\", \"0270\")")
            << "tokenizer_config.json"
            << R"({"added_tokens_decoder": {"270": {"content": "<|endoftext|>"}, "0270": {"content": "<|im_end|>"}}})"
            << QStringList{"id 270 is used by two added tokens"};
        QTest::newRow("added_tokens.json empty token")
            << "added_tokens.json"
            << R"({"": 270})" << QStringList{"an added token is empty"};
    }
    void badTokenIdsAreRefused() {
        QFETCH(QString, file);
        QFETCH(QString, patch);
        QFETCH(QStringList, expected);
        QTemporaryDir dir;
        const QString path = dir.path() + "/" + file;
        QString load = path;
        if (file == "tokenizer.json") {
            xopd::test::writeFixtureTokenizerJson(path);
            auto doc = nlohmann::json::parse(std::ifstream(path.toStdString()));
            doc.merge_patch(nlohmann::json::parse(patch.toStdString()));
            writeText(path, doc.dump());
        } else {
            xopd::test::writeFixtureSlowFiles(dir.path());
            writeText(path, patch.toStdString());
            load = dir.path();
        }
        const std::string msg =
            xopd::test::errorOf([&] { Tokenizer::fromFile(load.toStdString()); }).toStdString();
        if (qEnvironmentVariableIsSet("XOPD_TEST_PRINT")) qInfo("%s", msg.c_str());
        QVERIFY2(msg.find("'" + path.toStdString() + "'") != std::string::npos, msg.c_str());
        for (const QString& e : expected)
            QVERIFY2(msg.find(e.toStdString()) != std::string::npos, msg.c_str());
    }

    void setAddedTokenChecksIds_data() {
        QTest::addColumn<int>("id");
        QTest::addColumn<QString>("content");
        QTest::addColumn<QString>("expected");
        QTest::newRow("-5") << -5 << "<|a|>"
                            << "has id -5";
        QTest::newRow("2147483647") << 2147483647 << "<|a|>"
                                    << "has id 2147483647";
        QTest::newRow("300000000") << 300000000 << "<|a|>"
                                   << "has id 300000000";
        QTest::newRow("a vocabulary id") << 5 << "<|a|>"
                                         << "which is vocabulary token";
        QTest::newRow("empty") << 300 << ""
                               << "is empty";
    }
    void setAddedTokenChecksIds() {
        QFETCH(int, id);
        QFETCH(QString, content);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        xopd::test::writeFixtureSlowFiles(dir.path());
        Tokenizer tok = Tokenizer::fromFile(dir.path().toStdString());
        const auto before = tok.encode("lower<|endoftext|>");
        const std::string msg = xopd::test::errorOf([&] {
                                    tok.setAddedToken({content.toStdString(), id, true});
                                }).toStdString();
        QVERIFY2(msg.find(expected.toStdString()) != std::string::npos &&
                     msg.find("vocab.json") != std::string::npos,
                 msg.c_str());
        QCOMPARE(tok.size(), 271);  // unchanged
        QCOMPARE(tok.encode("lower<|endoftext|>"), before);
    }

    void idsAtTheLimitsLoad() {
        // kMaxUnusedTokenIds unused ids below the largest are allowed (HF files are dense).
        QTemporaryDir dir;
        const QString path = dir.path() + "/tokenizer.json";
        xopd::test::writeFixtureTokenizerJson(path);
        auto doc = nlohmann::json::parse(std::ifstream(path.toStdString()));
        const int32_t last = 270 + kMaxUnusedTokenIds;
        doc["added_tokens"][0]["id"] = last;
        writeText(path, doc.dump());
        const Tokenizer tok = Tokenizer::fromFile(path.toStdString());
        QCOMPARE(tok.size(), last + 1);
        QCOMPARE(tok.encode("<|endoftext|>"), ids({last}));
        QCOMPARE(tok.decode({last}), std::string("<|endoftext|>"));
        QVERIFY(!xopd::test::errorOf([&] { tok.decode({270}); }).isEmpty());  // unused id
    }

    void missingFilesNameThePath() {
        QTemporaryDir dir;
        const std::string missing = (dir.path() + "/nope.json").toStdString();
        std::string msg = xopd::test::errorOf([&] { Tokenizer::fromFile(missing); }).toStdString();
        QVERIFY2(msg.find(missing) != std::string::npos, msg.c_str());
        msg = xopd::test::errorOf([&] { Tokenizer::fromFile(dir.path().toStdString()); }).toStdString();
        QVERIFY2(msg.find("neither tokenizer.json nor vocab.json") != std::string::npos, msg.c_str());
        writeText(dir.path() + "/vocab.json", "{}");
        msg = xopd::test::errorOf([&] { Tokenizer::fromFile(dir.path().toStdString()); }).toStdString();
        QVERIFY2(msg.find("no merges.txt") != std::string::npos, msg.c_str());
        writeText(dir.path() + "/merges.txt", "#version: 0.2\n\n");
        msg = xopd::test::errorOf([&] { Tokenizer::fromFile(dir.path().toStdString()); }).toStdString();
        QVERIFY2(msg.find("merges.txt") != std::string::npos && msg.find("no merges loaded") != std::string::npos,
                 msg.c_str());
    }

    void addedTokensLongestFirst() {
        QTemporaryDir dir;
        xopd::test::writeFixtureSlowFiles(dir.path());
        Tokenizer tok = Tokenizer::fromFile(dir.path().toStdString());
        tok.setAddedToken({"<|a|>", 300, true});
        tok.setAddedToken({"<|a|><|a|>", 301, false});
        QCOMPARE(tok.encode("x<|a|><|a|><|a|>"), ids({tok.encode("x").front(), 301, 300}));
        // Replacing by text moves the token to the new id.
        tok.setAddedToken({"<|a|>", 302, true});
        QCOMPARE(tok.encode("<|a|>"), ids({302}));
        QVERIFY(!tok.isSpecial(301));
        xopd::text::DecodeOptions skip;
        skip.skip_special = true;
        QCOMPARE(tok.decode({301, 302}, skip), std::string("<|a|><|a|>"));
    }
};

QTEST_APPLESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
