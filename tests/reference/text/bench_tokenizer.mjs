// Throughput of the JS reference tokenizer on the corpus repeated to M megabytes (the same document
// as tests/bench/bench_tokenizer.cpp). usage: node bench_tokenizer.mjs TOKENIZER_JSON CORPUS_JSONL M
import { loadTokenizer, readCorpus } from "./qwen_tokenizer.mjs";

const [tokenizerPath, corpusPath, mb = "4"] = process.argv.slice(2);
const tok = loadTokenizer(tokenizerPath);
const one = readCorpus(corpusPath).map((t) => t + "\n").join("");
let doc = "";
while (Buffer.byteLength(doc, "utf8") < Number(mb) * 1e6) doc += one;
tok.encode(one);
const t0 = process.hrtime.bigint();
const ids = tok.encode(doc);
const s = Number(process.hrtime.bigint() - t0) / 1e9;
const bytes = Buffer.byteLength(doc, "utf8");
console.log(`bytes ${bytes}\ntokens ${ids.length}\nseconds ${s.toFixed(4)}\nmb_per_s ${(bytes / 1e6 / s).toFixed(3)}`);
