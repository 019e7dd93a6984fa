// Writes the reference token ids of every corpus line, as encoded by the JS tokenizer
// (@lenml/tokenizers, i.e. transformers.js) from the same tokenizer.json the C++ test uses.
// Usage (from tests/reference, after `npm ci`):
//   node text/make_reference_ids.mjs [CORPUS.jsonl] [tokenizer.json] [OUT.json]
// Defaults: ../data/text/corpus.jsonl, ../data/text/qwen3/tokenizer.json, stdout.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadTokenizer, packageVersion, readCorpus } from "./qwen_tokenizer.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = path.join(here, "..", "..", "data", "text");
const corpusPath = process.argv[2] ?? path.join(dataDir, "corpus.jsonl");
const tokenizerPath = process.argv[3] ?? path.join(dataDir, "qwen3", "tokenizer.json");
const outPath = process.argv[4];

const tok = loadTokenizer(tokenizerPath);
const cases = readCorpus(corpusPath).map((text) => {
  const ids = tok.encode(text, { add_special_tokens: false });
  return { text, ids };
});
const doc = {
  generator: "tests/reference/text/make_reference_ids.mjs",
  reference: `@lenml/tokenizers ${packageVersion("@lenml/tokenizers")} (transformers.js tokenizer)`,
  tokenizer: path.basename(path.dirname(tokenizerPath)) + "/" + path.basename(tokenizerPath),
  cases,
};
// One case per line keeps the fixture readable and its diffs small.
const head = JSON.stringify({ ...doc, cases: undefined }, null, 1).replace(/\n}$/, "");
const json = head + ',\n "cases": [\n' + cases.map((c) => "  " + JSON.stringify(c)).join(",\n") + "\n ]\n}\n";
if (outPath) fs.writeFileSync(outPath, json);
else process.stdout.write(json);
