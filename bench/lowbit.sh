#!/usr/bin/env bash
# Packed low-bit layers against fp32 on the 110M LLaMA shape (random weights), in one run on this machine:
#   - decode tokens/s, fp32 vs W4 g128 packed blocks with the LM head kept fp32, kept at 16 bits (bf16: what a
#     GPTQ checkpoint ships, its head in the model's fp16), or packed as well (w8, w4);
#   - prefill tokens/s at seqlen 512 and 2048, fp32 vs W4 g128 (the head at fp32 in both).
# Each round runs every configuration once, back to back, so a round's ratios compare like with like on a shared
# host; the median round is reported. Results: bench/results/lowbit-<time>/ (JSON for every run) and the table.
# Usage: bash bench/lowbit.sh [--rounds N] [--wbits B] [--wgroup G]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3; wbits=4; wgroup=128
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
decode_configs=("f32|" "w-head-f32|${packed[*]} --head-dtype f32" "w-head-bf16|${packed[*]} --head-dtype bf16"
                "w-head-w8|${packed[*]} --head-dtype w8" "w-head-w$wbits|${packed[*]} --head-dtype w$wbits")
for r in $(seq "$rounds"); do
  for config in "${decode_configs[@]}"; do
    name=${config%%|*}; args=${config#*|}
    # shellcheck disable=SC2086
    "${QLLM[@]}" bench decode --shape llama-110m --tokens 256 --threads "$threads" $args > "$out/decode-$name-$r.json"
  done
  for seqlen in 512 2048; do
    "${QLLM[@]}" bench prefill --shape llama-110m --seqlen "$seqlen" --threads "$threads" > "$out/prefill-$seqlen-f32-$r.json"
    "${QLLM[@]}" bench prefill --shape llama-110m --seqlen "$seqlen" --threads "$threads" "${packed[@]}" > "$out/prefill-$seqlen-w-$r.json"
  done
done

$PY - "$out" "$rounds" "$wbits" "$wgroup" <<'PY'
import json, statistics, sys
out, rounds, bits, group = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
load = lambda name, r: json.load(open(f"{out}/{name}-{r}.json"))
def row(label, name, base):
    speed = [load(name, r)["tokens_per_s"] for r in range(1, rounds + 1)]
    ratios = [load(name, r)["tokens_per_s"] / load(base, r)["tokens_per_s"] for r in range(1, rounds + 1)]
    mb = load(name, 1).get("bytes_per_token")
    size = f"{mb / 1e6:.0f} MB" if mb else ""
    print(f"| {label} | {size} | {statistics.median(speed):.1f} | {statistics.median(ratios):.2f} ({', '.join(f'{x:.2f}' for x in ratios)}) |")
print(f"| configuration (W{bits} g{group} packed, asymmetric) | bytes read per token | tokens/s (median) | vs fp32, same round: median (rounds) |")
print("| --- | --- | --- | --- |")
row("decode fp32", "decode-f32", "decode-f32")
row(f"decode W{bits} blocks, fp32 head", "decode-w-head-f32", "decode-f32")
row(f"decode W{bits} blocks, bf16 head (a GPTQ checkpoint's 16-bit head)", "decode-w-head-bf16", "decode-f32")
row(f"decode W{bits} blocks, W8 head", "decode-w-head-w8", "decode-f32")
row(f"decode W{bits} blocks and head", f"decode-w-head-w{bits}", "decode-f32")
for seqlen in (512, 2048):
    row(f"prefill {seqlen} fp32", f"prefill-{seqlen}-f32", f"prefill-{seqlen}-f32")
    row(f"prefill {seqlen} W{bits} blocks", f"prefill-{seqlen}-w", f"prefill-{seqlen}-f32")
PY
echo "JSON for every measurement: $out" >&2
