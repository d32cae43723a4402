#!/usr/bin/env bash
# One command for a fresh GPU machine: environment, versions, the CUDA tests, then the GPU-vs-CPU
# timings of benchmarks/scale/run_gpu_check.py. Everything it writes goes to $OUT (default ./gpu_out).
#
#   bash benchmarks/scale/run_gpu_check.sh                 # the device run (about 7 minutes at most)
#   bash benchmarks/scale/run_gpu_check.sh --quick --threads 1   # a trial on a CPU machine (about 2 minutes)
#
# Arguments are passed on to run_gpu_check.py (run as the module benchmarks.scale.run_gpu_check). Environment: PYTHON (default python3), OUT,
# GPU_CHECK_TOTAL_S (wall-clock target for the whole script, default 450), GPU_CHECK_BENCH_S (most
# seconds for the timings, default 300), GPU_CHECK_TEST_S (pytest limit, default 150).
# Nothing here stops on a failure: every step says what it found and the next one runs.

set -u
cd "$(dirname "$0")/../.." || exit 1
START=$(date +%s)
TOTAL_S=${GPU_CHECK_TOTAL_S:-450}
BENCH_S=${GPU_CHECK_BENCH_S:-300}
case " $* " in *" --quick "*) BENCH_S=${GPU_CHECK_BENCH_S:-120} ;; esac
TEST_S=${GPU_CHECK_TEST_S:-150}
OUT=${OUT:-./gpu_out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export OUT
exec > >(tee -a "$OUT/run_gpu_check.log") 2>&1

PY=${PYTHON:-python3}
export GPU_CHECK_COMMAND="bash benchmarks/scale/run_gpu_check.sh${*:+ $*}"
elapsed() { echo $(( $(date +%s) - START )); }
left() { echo $(( TOTAL_S - $(elapsed) )); }
cap() {  # cap SECONDS RESERVE: SECONDS, or less so that RESERVE seconds of the total stay (at least 30)
    local n=$1 room=$(( TOTAL_S - $(elapsed) - $2 ))
    [ "$room" -lt "$n" ] && n=$room
    [ "$n" -lt 30 ] && n=30
    echo "$n"
}
step() { echo; echo "=== [$(elapsed) s] $*"; }
PIP=("$PY" -m pip install --no-input --disable-pip-version-check --progress-bar off)
pip_install() {  # pip_install SECONDS ARGS...: plain first, then past an externally managed Python
    local limit=$1; shift
    timeout "$limit" "${PIP[@]}" "$@" && return 0
    timeout "$limit" "${PIP[@]}" --break-system-packages "$@"
}

step "machine"
date -u +%Y-%m-%dT%H:%M:%SZ
echo "host $(hostname); $(nproc) cores; repo $(pwd); OUT $OUT"
free -g 2>/dev/null | head -2
df -h . 2>/dev/null | tail -1
if command -v nvidia-smi >/dev/null; then
    timeout 30 nvidia-smi || echo "nvidia-smi failed"
    timeout 30 nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
else
    echo "no nvidia-smi on PATH"
fi
"$PY" --version || { echo "no $PY: stop"; exit 1; }

step "torch"
torch_line() { timeout 120 "$PY" -c "import torch; print(torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available())" 2>&1; }
if ! torch_line; then
    echo "torch is missing: installing torch==2.13.* (a CUDA wheel from PyPI, several GB; may take minutes)"
    pip_install "$(cap 300 150)" "torch==2.13.*" | tail -3
    torch_line || echo "torch still missing: the timings will fail"
elif command -v nvidia-smi >/dev/null && torch_line | grep -q "+cpu" && [ "$(left)" -gt 330 ]; then
    echo "a CPU-only torch on a GPU machine: reinstalling the PyPI build of the same version (CUDA)"
    version=$("$PY" -c "import torch; print(torch.__version__.split('+')[0])")
    pip_install "$(cap 240 200)" --force-reinstall "torch==$version" | tail -3
    torch_line
fi

step "other dependencies"
missing=()
for pair in torch_geometric:torch-geometric ot:POT networkx:networkx scipy:scipy numpy:numpy tqdm:tqdm pytest:pytest; do
    module=${pair%%:*}; package=${pair#*:}
    if timeout 120 "$PY" -c "import $module" 2>/dev/null; then
        echo "$module: $("$PY" -c "import $module; print(getattr($module, '__version__', '?'))" 2>/dev/null)"
    else
        echo "$module: missing"; missing+=("$package")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    pip_install "$(cap 180 150)" "${missing[@]}" | tail -3
fi
export PYTHONPATH="$(pwd)${PYTHONPATH:+:$PYTHONPATH}"
if ! (cd /tmp && timeout 60 "$PY" -c "import graphwgan" 2>/dev/null); then
    echo "graphwgan is not installed: pip install -e . --no-deps (PYTHONPATH covers it if that fails)"
    pip_install "$(cap 120 150)" --no-deps --no-build-isolation -e . | tail -2
fi
timeout 120 "$PY" - <<'EOF'
import graphwgan, numpy, scipy, torch
print("graphwgan", graphwgan.__file__)
print("numpy", numpy.__version__, "scipy", scipy.__version__, "torch", torch.__version__, "cuda", torch.version.cuda)
if torch.cuda.is_available():
    p = torch.cuda.get_device_properties(0)
    print("GPU", p.name, f"{p.total_memory / 2**30:.0f} GiB", f"sm_{p.major}{p.minor}", "devices", torch.cuda.device_count(),
          "nccl", torch.cuda.nccl.version() if hasattr(torch.cuda, "nccl") else "?")
    x = torch.randn(1024, 1024, device="cuda")
    print("matmul agrees with the CPU:", torch.allclose((x @ x).cpu(), x.cpu() @ x.cpu(), rtol=1e-3, atol=1e-2))
else:
    print("no CUDA device visible to torch: the CUDA tests skip and the CUDA timings are reported as skipped")
EOF

TEST_S=$(cap "$TEST_S" 120)
step "CUDA tests (pytest -k 'cuda or nccl or gpu', limit ${TEST_S} s)"
timeout "$TEST_S" "$PY" -m pytest -q -rs -p no:cacheprovider tests -k "cuda or nccl or gpu" 2>&1 \
    | tee "$OUT/pytest_cuda.txt" | tail -n 40
echo "pytest exit status ${PIPESTATUS[0]} (124 = stopped at the limit)"

budget=$(( $(left) - 45 ))
[ "$budget" -gt "$BENCH_S" ] && budget=$BENCH_S
[ "$budget" -lt 60 ] && budget=60
step "timings: python -m benchmarks.scale.run_gpu_check --budget $budget $*"
timeout $(( budget + 90 )) "$PY" -m benchmarks.scale.run_gpu_check --out "$OUT" --budget "$budget" "$@"
echo "run_gpu_check exit status $?"

step "report"
"$PY" -m benchmarks.scale.run_gpu_check --report "$OUT/gpu_check.json" --md "$OUT/scaling_gpu.md" \
    && cat "$OUT/scaling_gpu.md"
step "done in $(elapsed) s; files in $OUT:"
ls -la "$OUT"
