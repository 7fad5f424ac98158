# The two commands of the README (and make docs).  Each sets itself up from nothing but Python >= 3.10 and pip.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEMO   ?= runs/demo
REAL   ?= ../shared/data/real
# test files run on this many worker processes (pytest-xdist); a file's tests stay in one process,
# so its module fixtures are built once.  TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2

.PHONY: demo demo-real arm apps docs test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	rm -f $(VENV)/.installed-*; touch $@

# make demo: (1) from nothing, on the embedded simulator: pretrain a small teacher, score it, fine-tune an
# activity head, distil a student, convert, call the file through the app runtime, bench, the retention
# report; (2) where ../shared/data/real is beside the clone, with the released weights (pretrained/):
# import real recordings, adapt the real-pretrained teacher and its int8 student to them, convert, call,
# bench against the released file, score the released models on the people they never saw, and give MMASH's
# recordings back filled (lsm-edge fill).
PT     := pretrained
demo: $(STAMP)
	rm -rf $(DEMO)
	$(BIN)/lsm-edge data simulate --subjects 60 --days 14 --seed 0 --out $(DEMO)/data
	$(BIN)/lsm-edge train --recipe train/nano.toml --data $(DEMO)/data --out $(DEMO)/teacher
	$(BIN)/lsm-edge evaluate --teacher $(DEMO)/teacher --data $(DEMO)/data --windows 128 --horizons 10,60,120
	$(BIN)/lsm-edge finetune --teacher $(DEMO)/teacher --data $(DEMO)/data --task activity --head conv --out $(DEMO)/activity
	$(BIN)/lsm-edge distill --teacher $(DEMO)/teacher --student distill/conv64.toml --steps 300 --data $(DEMO)/data --out $(DEMO)/student
	$(BIN)/lsm-edge finetune --teacher $(DEMO)/student --data $(DEMO)/data --task activity --head conv --kd-from $(DEMO)/activity --out $(DEMO)/student_activity
	$(BIN)/lsm-edge convert $(DEMO)/teacher --quant float32,dynamic --classifier $(DEMO)/activity --out $(DEMO)/artifacts
	for q in dynamic int8; do $(BIN)/lsm-edge convert $(DEMO)/student --quant $$q --classifier $(DEMO)/student_activity --out $(DEMO)/artifacts/student_$$q.tflite; done
	for f in $(DEMO)/artifacts/*.tflite; do $(BIN)/python -m lsm_edge.runtime $$f $(DEMO)/data; done
	$(BIN)/lsm-edge bench $(DEMO)/artifacts/teacher_float32.tflite $(DEMO)/artifacts/student_int8.tflite --threads 1,2 --runs 50
	$(BIN)/lsm-edge report --teacher $(DEMO)/teacher --artifacts $(DEMO)/artifacts --data $(DEMO)/data --windows 64 --horizons 60 --runs 30 --out $(DEMO)/report
	if [ -d $(REAL) ]; then $(MAKE) --no-print-directory demo-real; else echo "no $(REAL): the real-data part of the demo is skipped"; fi

demo-real: $(STAMP)
	$(BIN)/lsm-edge data import $(REAL) --out $(DEMO)/real_data
	$(BIN)/lsm-edge train --init $(PT)/real_conv96x5 --data $(DEMO)/real_data --steps 200 --lr 2e-4 --warmup-steps 20 --out $(DEMO)/real_teacher
	$(BIN)/lsm-edge distill --teacher $(DEMO)/real_teacher --init $(PT)/real_student_conv64 --student distill/conv64.toml --steps 200 --lr 2e-4 --data $(DEMO)/real_data --out $(DEMO)/real_student
	$(BIN)/lsm-edge convert $(DEMO)/real_student --quant int8 --out $(DEMO)/real_artifacts/real_student_int8.tflite
	$(BIN)/python -m lsm_edge.runtime $(DEMO)/real_artifacts/real_student_int8.tflite $(DEMO)/real_data
	$(BIN)/lsm-edge bench $(PT)/real_student_conv64/student_conv64_int8.tflite $(DEMO)/real_artifacts/real_student_int8.tflite --runs 50
	$(BIN)/lsm-edge evaluate-real --data $(REAL) --teacher $(PT)/real_conv96x5 --artifacts $(PT)/real_student_conv64 --adapt-steps 0 --horizons 60 --out $(DEMO)/real
	$(BIN)/lsm-edge fill $(REAL)/mmash --model $(PT)/real_student_conv64/student_conv64_int8.tflite --out $(DEMO)/filled --quiet

# make arm: ARM emulation for `lsm-edge bench --arm` (as root on Debian: adds the arm64 architecture,
# installs qemu-user and gcc, builds the cache in ~/.cache/lsm-edge/arm; lsm_edge/core/arm.py says what it holds).
arm: $(STAMP)
	dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64 && apt-get update -q; }
	command -v qemu-aarch64 >/dev/null && command -v gcc >/dev/null && command -v aarch64-linux-gnu-gcc >/dev/null \
		|| apt-get install -y -q qemu-user gcc gcc-aarch64-linux-gnu
	$(BIN)/python -m lsm_edge.core.arm setup

# make apps: the toolchains of the example apps outside Python (as root on Debian): chromium for the web page,
# kotlinc for the docs' Kotlin, a C compiler; and LiteRT.js from npm.  tests/test_apps.py skips each check whose
# toolchain is missing, naming it.
apps: web/node_modules/@litertjs/core/dist/index.js
	command -v chromium >/dev/null && command -v kotlinc >/dev/null && command -v gcc >/dev/null \
		|| { apt-get update -q && apt-get install -y -q chromium kotlin gcc; }

web/node_modules/@litertjs/core/dist/index.js: web/package.json
	cd web && npm install --no-audit --no-fund --loglevel=error

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

test: $(STAMP)
	-$(MAKE) --no-print-directory web/node_modules/@litertjs/core/dist/index.js  # LiteRT.js for the web check (npm)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

clean:
	rm -rf $(VENV) runs web/node_modules
