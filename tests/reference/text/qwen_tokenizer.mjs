// Loads a Hugging Face tokenizer.json (+ tokenizer_config.json next to it) with the JS tokenizer of
// @lenml/tokenizers (the transformers.js implementation), for the reference scripts below.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(import.meta.url);

export function loadTokenizer(tokenizerJsonPath) {
  const { TokenizerLoader } = require("@lenml/tokenizers");
  const tokenizerJSON = JSON.parse(fs.readFileSync(tokenizerJsonPath, "utf8"));
  const configPath = path.join(path.dirname(tokenizerJsonPath), "tokenizer_config.json");
  const tokenizerConfig = fs.existsSync(configPath) ? JSON.parse(fs.readFileSync(configPath, "utf8")) : {};
  return TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
}

export function packageVersion(name) {
  // The package's exports hide package.json; read it from the resolved entry's folder.
  let dir = path.dirname(require.resolve(name));
  while (!fs.existsSync(path.join(dir, "package.json"))) dir = path.dirname(dir);
  return JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version;
}

export function readCorpus(corpusPath) {
  return fs
    .readFileSync(corpusPath, "utf8")
    .split("\n")
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l).text);
}
