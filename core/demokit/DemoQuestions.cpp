#include "core/demokit/DemoQuestions.h"

#include <cstdio>
#include <utility>

namespace xopd::demokit {

const std::vector<std::string>& numberWords() {
    static const std::vector<std::string> words{
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
        "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
        "nineteen", "twenty"};
    return words;
}

std::vector<DemoQuestion> demoQuestions() {
    using Pairs = std::vector<std::pair<const char*, const char*>>;
    std::vector<DemoQuestion> out;
    auto add = [&out](std::string q, std::string a, const char* category) {
        char id[16];
        std::snprintf(id, sizeof id, "q%03zu", out.size());
        out.push_back({id, std::move(q), std::move(a), category});
    };
    const auto& n = numberWords();
    for (int a = 1; a <= 5; ++a)
        for (int b = 1; b <= 5; ++b) add("what is " + n[a] + " plus " + n[b], n[a + b], "arithmetic");
    for (int a = 6; a <= 9; ++a)
        for (int b = 1; b <= 4; ++b) add("what is " + n[a] + " minus " + n[b], n[a - b], "arithmetic");
    for (const auto& [thing, colour] : Pairs{
             {"the sky", "blue"}, {"grass", "green"}, {"snow", "white"}, {"coal", "black"},
             {"blood", "red"}, {"a banana", "yellow"}, {"milk", "white"}, {"a tomato", "red"},
             {"a frog", "green"}, {"the sea", "blue"}, {"a lemon", "yellow"}, {"a carrot", "orange"},
             {"a crow", "black"}, {"a strawberry", "red"}, {"a leaf", "green"}, {"an aubergine", "purple"}})
        add(std::string("what colour is ") + thing, colour, "colour");
    for (const auto& [w, o] : Pairs{
             {"hot", "cold"}, {"big", "small"}, {"up", "down"}, {"day", "night"}, {"fast", "slow"},
             {"left", "right"}, {"open", "closed"}, {"wet", "dry"}, {"happy", "sad"}, {"early", "late"},
             {"high", "low"}, {"full", "empty"}, {"hard", "soft"}, {"long", "short"}, {"rich", "poor"},
             {"north", "south"}, {"east", "west"}, {"black", "white"}, {"top", "bottom"}, {"light", "dark"}}) {
        add(std::string("what is the opposite of ") + w, o, "opposite");
        add(std::string("what is the opposite of ") + o, w, "opposite");
    }
    for (const auto& [country, city] : Pairs{
             {"france", "paris"}, {"germany", "berlin"}, {"italy", "rome"}, {"spain", "madrid"},
             {"japan", "tokyo"}, {"england", "london"}, {"russia", "moscow"}, {"egypt", "cairo"},
             {"greece", "athens"}, {"ireland", "dublin"}, {"norway", "oslo"}, {"austria", "vienna"},
             {"portugal", "lisbon"}, {"poland", "warsaw"}, {"canada", "ottawa"}, {"kenya", "nairobi"},
             {"peru", "lima"}, {"cuba", "havana"}})
        add(std::string("what is the capital of ") + country, city, "capital");
    for (const auto& [animal, sound] : Pairs{
             {"a dog", "woof"}, {"a cat", "meow"}, {"a cow", "moo"}, {"a duck", "quack"},
             {"a sheep", "baa"}, {"an owl", "hoot"}, {"a snake", "hiss"}, {"a pig", "oink"},
             {"a lion", "roar"}, {"a bee", "buzz"}})
        add(std::string("what sound does ") + animal + " make", sound, "animal");
    for (int k = 1; k <= 11; ++k) add("what number comes after " + n[k], n[k + 1], "counting");
    const char* days[] = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"};
    for (int d = 0; d < 7; ++d)
        add(std::string("what day comes after ") + days[d], days[(d + 1) % 7], "weekday");
    return out;
}

}  // namespace xopd::demokit
