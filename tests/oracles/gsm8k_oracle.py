"""Golden values for Qllm's gsm8k task, computed the way lm-evaluation-harness v0.4 computes them.

Sources: lm_eval/tasks/gsm8k/gsm8k.yaml (version 3.0), lm_eval/api/samplers.py (ContextSampler.get_context,
rnd.sample), lm_eval/api/task.py (set_fewshot_seed: one random.Random(1234) per task), lm_eval/filters/extraction.py
(RegexFilter) and lm_eval/api/metrics.py (exact_match_hf_evaluate). Re-implemented here with Python's own `random`
and `re`, so the C# port is checked against CPython itself.

Run from the repository root: python3 tests/oracles/gsm8k_oracle.py > tests/oracles/gsm8k_golden.json
"""
import json
import random
import re
import sys

DATA = "../shared/data/gsm8k"


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def doc_to_text(doc):
    return "Question: " + doc["question"] + "\nAnswer:"


def regex_filter(resp, pattern, group_select=0):
    match = re.compile(pattern).findall(resp)
    if not match:
        return "[invalid]"
    match = match[group_select]
    if isinstance(match, tuple):
        match = [m for m in match if m][0]
    return match.strip()


def normalize(text):
    for s in [",", "\\$", "(?s).*#### ", "\\.$"]:
        text = re.sub(s, "", text)
    return text.lower()


test, train = load(f"{DATA}/test.jsonl"), load(f"{DATA}/train.jsonl")
rnd = random.Random(1234)
fewshot = [rnd.sample(range(len(train)), 5) for _ in range(3)]
prompts = []
for i in range(2):
    shots = "".join(doc_to_text(train[j]) + " " + train[j]["answer"] + "\n\n" for j in fewshot[i])
    prompts.append(shots + doc_to_text(test[i]))

tricky = [
    "The answer is $1,234.50.",
    "She pays 5 + 3 = 8 dollars.\n#### 8",
    "#### -1,000.5 and then #### 7",
    "It costs $18.\n\nQuestion:",
    "no digits here",
    "Roughly 3 apples, or 12.5%, or -7",
    "1.",
    "#### 1,234.",
]
strict = [regex_filter(t, r"#### (\-?[0-9\.\,]+)") for t in tricky]
flexible = [regex_filter(t, r"(-?[$0-9.,]{2,})|(-?[0-9]+)", -1) for t in tricky]
reference = "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n#### 1,234.5"
json.dump({
    "fewshot_indices": fewshot,
    "prompts": prompts,
    "tricky": tricky,
    "strict": strict,
    "flexible": flexible,
    "normalized_strict": [normalize(s) for s in strict],
    "normalized_flexible": [normalize(s) for s in flexible],
    "reference": reference,
    "normalized_reference": normalize(reference),
}, sys.stdout, indent=1, ensure_ascii=False)
print()
