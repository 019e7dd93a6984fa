#include "core/demokit/DemoQuestions.h"

#include "core/common/Error.h"

#include <cstdio>
#include <set>
#include <sstream>
#include <utility>

namespace xopd::demokit {

const std::vector<std::string>& numberWords() {
    static const std::vector<std::string> words{
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen", "twenty"};
    return words;
}

namespace {

std::set<std::string> wordsOf(const std::string& text) {
    std::set<std::string> out;
    std::istringstream in(text);
    for (std::string w; in >> w;) out.insert(w);
    return out;
}

}  // namespace

std::vector<DemoQuestion> demoQuestions() {
    using Pairs = std::vector<std::pair<const char*, const char*>>;
    std::vector<DemoQuestion> out;
    // Compositional questions: the k-th of them (in this order) is held out as test when
    // k % 7 is 1 or 4, as validation when k % 7 is 6 (2/7 test, 1/7 validation).
    int compositional = 0;
    auto add = [&out](std::string q, std::string a, const char* category, const char* split) {
        char id[16];
        std::snprintf(id, sizeof id, "q%03zu", out.size());
        out.push_back({id, std::move(q), std::move(a), category, split});
    };
    auto addSplit = [&](std::string q, std::string a, const char* category) {
        const int k = compositional++ % 7;
        add(std::move(q), std::move(a), category, k == 1 || k == 4 ? "test" : k == 6 ? "validation" : "train");
    };
    const auto& n = numberWords();
    for (int a = 1; a <= 9; ++a)
        for (int b = 1; b <= 9; ++b) addSplit("what is " + n[a] + " plus " + n[b], n[a + b], "arithmetic");
    for (int a = 5; a <= 12; ++a)
        for (int b = 1; b <= 4; ++b) addSplit("what is " + n[a] + " minus " + n[b], n[a - b], "arithmetic");
    const char* days[] = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
    for (int d = 0; d < 7; ++d) {
        addSplit(std::string("what day comes after ") + days[d], days[(d + 1) % 7], "weekday");
        addSplit(std::string("what day comes before ") + days[d], days[(d + 6) % 7], "weekday");
    }
    for (const auto& [thing, colour] : Pairs{
             {"the sky", "blue"}, {"grass", "green"}, {"snow", "white"}, {"coal", "black"},
             {"blood", "red"}, {"a banana", "yellow"}, {"milk", "white"}, {"a tomato", "red"},
             {"a frog", "green"}, {"the sea", "blue"}, {"a lemon", "yellow"}, {"a carrot", "orange"},
             {"a crow", "black"}, {"a strawberry", "red"}, {"a leaf", "green"}, {"an aubergine", "purple"}})
        add(std::string("what colour is ") + thing, colour, "colour", "train");
    for (const auto& [w, o] : Pairs{
             {"hot", "cold"}, {"big", "small"}, {"up", "down"}, {"day", "night"}, {"fast", "slow"},
             {"left", "right"}, {"open", "closed"}, {"wet", "dry"}, {"happy", "sad"}, {"early", "late"},
             {"high", "low"}, {"full", "empty"}, {"hard", "soft"}, {"long", "short"}, {"rich", "poor"},
             {"north", "south"}, {"east", "west"}, {"black", "white"}, {"top", "bottom"}, {"light", "dark"}}) {
        add(std::string("what is the opposite of ") + w, o, "opposite", "train");
        add(std::string("what is the opposite of ") + o, w, "opposite", "train");
    }
    for (const auto& [country, city] : Pairs{
             {"france", "paris"}, {"germany", "berlin"}, {"italy", "rome"}, {"spain", "madrid"},
             {"japan", "tokyo"}, {"england", "london"}, {"russia", "moscow"}, {"egypt", "cairo"},
             {"greece", "athens"}, {"ireland", "dublin"}, {"norway", "oslo"}, {"austria", "vienna"},
             {"portugal", "lisbon"}, {"poland", "warsaw"}, {"canada", "ottawa"}, {"kenya", "nairobi"},
             {"peru", "lima"}, {"cuba", "havana"}})
        add(std::string("what is the capital of ") + country, city, "capital", "train");
    for (const auto& [animal, sound] : Pairs{
             {"a dog", "woof"}, {"a cat", "meow"}, {"a cow", "moo"}, {"a duck", "quack"},
             {"a sheep", "baa"}, {"an owl", "hoot"}, {"a snake", "hiss"}, {"a pig", "oink"},
             {"a lion", "roar"}, {"a bee", "buzz"}})
        add(std::string("what sound does ") + animal + " make", sound, "animal", "train");
    // The held-out category: never trained (its words are heard in the questions above).
    for (int k = 1; k <= 11; ++k) add("what number comes after " + n[k], n[k + 1], kHeldOutCategory, "test");
    for (int k = 2; k <= 12; ++k) add("what number comes before " + n[k], n[k - 1], kHeldOutCategory, "test");
    return out;
}

void checkDemoQuestionSplit(const std::vector<DemoQuestion>& questions) {
    std::set<std::string> heard;
    for (const auto& q : questions) {
        if (q.split != "train") continue;
        XOPD_CHECK(q.category != kHeldOutCategory,
                   "demo questions: " << q.id << " ('" << q.question << "') trains the held-out category " << kHeldOutCategory);
        const auto w = wordsOf(q.question);
        heard.insert(w.begin(), w.end());
    }
    for (const auto& q : questions) {
        if (q.split == "train" || q.category == kHeldOutCategory) continue;
        for (const auto& w : wordsOf(q.question))
            XOPD_CHECK(heard.count(w), "demo questions: " << q.split << " question " << q.id << " ('" << q.question
                                                          << "') holds '" << w << "', which no training question holds");
    }
}

}  // namespace xopd::demokit
