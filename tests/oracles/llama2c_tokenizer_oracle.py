# Independent oracle for Qllm's llama2.c tokenizer: run.c's encode(text, bos=1, eos=0) as a naive
# quadratic loop in plain Python (BOS, dummy-prefix " ", code points with byte fallback, then repeatedly
# merge the best-scoring adjacent pair, leftmost on ties). Run once on ../shared/models/stories260K/tok512.bin;
# its output is committed as llama2c_tokenizer_golden.json and read by Llama2cTokenizerTests.
import json, os, struct

here = os.path.dirname(os.path.abspath(__file__))
path = os.path.join(here, "..", "..", "..", "shared", "models", "stories260K", "tok512.bin")
with open(path, "rb") as f:
    data = f.read()
vocab, scores, offset = [], [], 4
while offset < len(data):
    score, length = struct.unpack_from("<fi", data, offset)
    offset += 8
    vocab.append(data[offset:offset + length].decode("utf-8"))
    scores.append(score)
    offset += length
lookup = {}
for i, piece in enumerate(vocab):
    lookup.setdefault(piece, i)

def encode(text):
    tokens = [1]
    if text:
        tokens.append(lookup[" "])
    for ch in text:
        if ch in lookup:
            tokens.append(lookup[ch])
        else:
            tokens.extend(b + 3 for b in ch.encode("utf-8"))
    while True:
        best, best_id, best_idx = -1e10, -1, -1
        for i in range(len(tokens) - 1):
            merged = vocab[tokens[i]] + vocab[tokens[i + 1]]
            if merged in lookup and scores[lookup[merged]] > best:
                best, best_id, best_idx = scores[lookup[merged]], lookup[merged], i
        if best_idx == -1:
            break
        tokens[best_idx:best_idx + 2] = [best_id]
    return tokens

texts = ["Once upon a time, there was a little girl named Lily.",
         "Hello world!",
         " leading space and  double  spaces\n\nand blank lines\n",
         "café naïve — “quotes” 😀 中文",
         "aaaaaaaaaaaaaaaaaaaa bbbbbbbbb",
         "= Robert Boulter = \n\n Robert Boulter is an English film , television and theatre actor .",
         ""]
json.dump({"source": "tests/oracles/llama2c_tokenizer_oracle.py (naive run.c encode loop in Python)",
           "tokenizer": "shared/models/stories260K/tok512.bin",
           "cases": [{"text": t, "ids": encode(t)} for t in texts]},
          open(os.path.join(here, "llama2c_tokenizer_golden.json"), "w"), ensure_ascii=False, indent=1)
print("ok", [len(encode(t)) for t in texts])
