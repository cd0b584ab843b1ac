"""Golden chat prompts: the official Hugging Face Jinja chat templates rendered with jinja2 the way
transformers' apply_chat_template does (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, raise_exception).

Templates (the chat_template field of each tokenizer_config.json):
- llama2: meta-llama/Llama-2-7b-chat-hf (the same string is quoted, with HF's output, in mistral.rs's chat-template tests)
- llama3: meta-llama/Meta-Llama-3-8B-Instruct
- chatml: teknium/OpenHermes-2.5-Mistral-7B
- phi3:   microsoft/Phi-3-mini, read from ../shared/models/tokenizers/phi-3-mini/tokenizer_config.json

The LLaMA-3 rendering is also tokenized by an independent tiktoken-style BPE written here (the ranks of
../shared/models/tokenizers/llama3/tokenizer.model, LLaMA-3's pre-tokenizer regex, special tokens split out first and
mapped to ids 128000 + their index as in meta-llama/llama3's tokenizer.py), giving the ids HF would produce.

Run from the repository root: python3 tests/oracles/chat_template_oracle.py > tests/oracles/chat_template_golden.json
"""
import base64
import json
import sys

import regex

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

LLAMA2 = ("{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}"
          "{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
          "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
          "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
          "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
          "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}")
LLAMA3 = ("{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + "
          "'<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
          "{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}")
CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
with open("../shared/models/tokenizers/phi-3-mini/tokenizer_config.json") as f:
    PHI3 = json.load(f)["chat_template"]

TEMPLATES = {
    "llama2": (LLAMA2, "<s>", "</s>"),
    "llama3": (LLAMA3, "<|begin_of_text|>", "<|eot_id|>"),
    "chatml": (CHATML, "<s>", "</s>"),
    "phi3": (PHI3, "<s>", "<|endoftext|>"),
}

CONVERSATION = [
    {"role": "system", "content": "You are a helpful assistant"},
    {"role": "user", "content": "Hello"},
    {"role": "assistant", "content": "Hi there"},
    {"role": "user", "content": " Who are you\n"},
    {"role": "assistant", "content": "   I am an assistant   "},
    {"role": "user", "content": "Another question"},
]


def raise_exception(message):
    raise TemplateError(message)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
env.globals["raise_exception"] = raise_exception
out = {"conversation": CONVERSATION, "rendered": {}}
for name, (template, bos, eos) in TEMPLATES.items():
    compiled = env.from_string(template)
    out["rendered"][name] = {
        "with_system": compiled.render(messages=CONVERSATION, bos_token=bos, eos_token=eos, add_generation_prompt=True),
        "without_system": compiled.render(messages=CONVERSATION[1:], bos_token=bos, eos_token=eos, add_generation_prompt=True),
        "no_generation_prompt": compiled.render(messages=CONVERSATION[:3], bos_token=bos, eos_token=eos, add_generation_prompt=False),
    }

def llama3_encode(text):
    ranks = {}
    with open("../shared/models/tokenizers/llama3/tokenizer.model") as f:
        for line in f:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    specials = {"<|begin_of_text|>": 128000, "<|end_of_text|>": 128001, "<|start_header_id|>": 128006,
                "<|end_header_id|>": 128007, "<|eot_id|>": 128009}
    pattern = regex.compile(r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

    def bpe(piece):
        parts = [bytes([b]) for b in piece]
        while len(parts) > 1:
            best = min(range(len(parts) - 1), key=lambda i: ranks.get(parts[i] + parts[i + 1], 1 << 30))
            if parts[best] + parts[best + 1] not in ranks:
                break
            parts[best:best + 2] = [parts[best] + parts[best + 1]]
        return [ranks[p] for p in parts]

    ids = []
    for chunk in regex.split("(" + "|".join(regex.escape(s) for s in specials) + ")", text):
        if chunk in specials:
            ids.append(specials[chunk])
        elif chunk:
            for piece in pattern.findall(chunk):
                ids.extend(bpe(piece.encode("utf-8")))
    return ids


out["llama3_ids"] = llama3_encode(out["rendered"]["llama3"]["with_system"])
json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
print()
