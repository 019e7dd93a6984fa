#pragma once
// Any field of a prompt manifest's rows, read as text, for grouping (the gap explorer's
// `xopd eval --by`): the fields PromptItem carries (voice, tags) and those it does not (accent,
// rate, condition, category, or any other key a kit or an augmentation writes). The manifest's
// format and validation stay with loadPromptSet (PromptSet.h); this reads one key of each row.
//
//   data::PromptSet set = data::loadPromptSet(path);          // validates first
//   auto accents = data::promptFieldValues(path, "accent");   // id -> {"scottish"} or {} when absent
//
// Threading: free functions; no shared state.

#include <map>
#include <string>
#include <vector>

namespace xopd::data {

/// For each item id of the manifest, the values of `key` as text: a string as it is, a number in
/// its shortest JSON spelling, true/false, each element of an array of those; none for a missing
/// or null key. Blank lines are skipped as loadPromptSet skips them. Throws xopd::Error naming the
/// file, the line and the key for a line that is not a JSON object with a string id, or for a
/// value that is an object (or an array holding one).
std::map<std::string, std::vector<std::string>> promptFieldValues(const std::string& manifest_path,
                                                                  const std::string& key);

}  // namespace xopd::data
