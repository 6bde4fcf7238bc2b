#!/usr/bin/env bash
# Run every multi-process (torchrun / torch.distributed) test N times in a row, optionally
# with one CPU-bound process per core beside it, and count the failures. A multi-process
# test is trusted only after this passes, quiet and busy.
#
#   scripts/stress_multiprocess.sh 20          # quiet machine
#   scripts/stress_multiprocess.sh 20 --busy   # one spinning process per core beside it
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
python=${PYTHON:-.venv/bin/python}
tests=(tests/test_distributed.py tests/test_hmm_distributed.py tests/test_lda_distributed.py
       "tests/test_hmm_resume.py::test_under_torchrun_rank_0_writes_and_every_rank_resumes_exactly"
       "tests/test_reliability.py::test_under_torchrun_each_process_trains_on_its_own_share_of_a_loader")
spinners=()
if [[ "${2:-}" == "--busy" ]]; then
    for _ in $(seq "$(nproc)"); do
        "$python" -c "while True: pass" &
        spinners+=($!)
    done
    trap 'kill "${spinners[@]}" 2>/dev/null' EXIT
fi
failures=0
for i in $(seq "$runs"); do
    log=$(mktemp)
    if "$python" -m pytest -q -p no:cacheprovider "${tests[@]}" >"$log" 2>&1; then
        echo "run $i: $(tail -n 1 "$log")"
    else
        failures=$((failures + 1))
        echo "run $i FAILED: $(tail -n 1 "$log") (log kept: $log)"
        continue
    fi
    rm -f "$log"
done
echo "$failures failures in $runs runs${2:+ ($2)}"
[[ $failures -eq 0 ]]
