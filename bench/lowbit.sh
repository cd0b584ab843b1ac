#!/usr/bin/env bash
# Packed low-bit layers against fp32 on the 110M LLaMA shape (random weights), in one run on this machine:
#   - decode tokens/s, fp32 vs W4 g128 packed blocks with the LM head kept fp32, kept at 16 bits (bf16: what a
#     GPTQ checkpoint ships, its head in the model's fp16), or packed as well (w8, w4). All five models decode in
#     one process, 16 steps each in turn (`qllm bench decode-ratio`), so each round's ratios share the host's load
#     and memory bandwidth, which on a shared virtual machine swing by ±20% from one second to the next;
#   - prefill tokens/s at seqlen 512 and 2048, fp32 vs W4 g128 (the head at fp32 in both), one pass each in turn
#     per round (`qllm bench prefill-ratio`).
# Medians over the rounds are reported. Results: bench/results/lowbit-<time>/ (JSON for every run) and the table.
# Usage: bash bench/lowbit.sh [--rounds N] [--wbits B] [--wgroup G]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=5; wbits=4; wgroup=128
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --wbits) wbits=$2; shift 2 ;;
    --wgroup) wgroup=$2; shift 2 ;;
    *) echo "error: unknown option '$1' (use --rounds N, --wbits B, --wgroup G)" >&2; exit 2 ;;
  esac
done
threads=$(nproc)
PY=/usr/bin/python3

dotnet build -c Release -v q src/Qllm.Cli >/dev/null
QLLM=(dotnet src/Qllm.Cli/bin/Release/net10.0/Qllm.Cli.dll)
out=bench/results/lowbit-$(date -u +%Y%m%dT%H%M%SZ); mkdir -p "$out"

packed=(--wbits "$wbits" --wgroup "$wgroup")
"${QLLM[@]}" bench decode-ratio --shape llama-110m --tokens 256 --rounds "$rounds" --threads "$threads" "${packed[@]}" \
  --head-dtypes "f32,bf16,w8,w$wbits" > "$out/decode-ratio.json"
for seqlen in 512 2048; do
  "${QLLM[@]}" bench prefill-ratio --shape llama-110m --seqlen "$seqlen" --rounds "$rounds" --threads "$threads" "${packed[@]}" \
    --head-dtypes f32 > "$out/prefill-ratio-$seqlen.json"
done

$PY - "$out" "$rounds" "$wbits" "$wgroup" <<'PY'
import json, sys
out, rounds, bits, group = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
print(f"| configuration (W{bits} g{group} packed, asymmetric) | bytes read per token | tokens/s (median) | vs fp32, same round: median (rounds) |")
print("| --- | --- | --- | --- |")
for c in json.load(open(f"{out}/decode-ratio.json"))["configurations"]:
    ratios = ", ".join(f"{x:.2f}" for x in c["ratio_to_fp32"])
    print(f"| decode {c['name']} | {c['bytes_per_token'] / 1e6:.0f} MB | {c['median_tokens_per_s']:.1f} | {c['median_ratio_to_fp32']:.2f} ({ratios}) |")
for seqlen in (512, 2048):
    for c in json.load(open(f"{out}/prefill-ratio-{seqlen}.json"))["configurations"]:
        ratios = ", ".join(f"{x:.2f}" for x in c["ratio_to_fp32"])
        label = "fp32" if c["name"] == "fp32" else f"W{bits} blocks"
        print(f"| prefill {seqlen} {label} | | {c['median_tokens_per_s']:.1f} | {c['median_ratio_to_fp32']:.2f} ({ratios}) |")
print(f"\nJSON for every measurement: {out}")
PY
