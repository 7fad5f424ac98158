# The two commands of the README.  Each sets itself up from nothing but Python >= 3.10 and pip.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEMO   ?= runs/demo
REAL   ?= ../shared/data/real
# test files run on this many worker processes (pytest-xdist); a file's tests stay in one process,
# so its module fixtures are built once.  TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2

.PHONY: demo test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	rm -f $(VENV)/.installed-*; touch $@

demo: $(STAMP)
	rm -rf $(DEMO)
	$(BIN)/lsm-edge data simulate --subjects 60 --days 14 --seed 0 --out $(DEMO)/data
	$(BIN)/lsm-edge data stats $(DEMO)/data --out $(DEMO)/stats.json
	$(BIN)/lsm-edge train --recipe train/nano.toml --data $(DEMO)/data --out $(DEMO)/teacher
	$(BIN)/lsm-edge evaluate --teacher $(DEMO)/teacher --data $(DEMO)/data --windows 128 --horizons 10,60,120
	$(BIN)/lsm-edge evaluate --task activity --teacher $(DEMO)/teacher --data $(DEMO)/data --epochs 10 --full-epochs 5 --few-shot 5,20
	$(BIN)/lsm-edge finetune --teacher $(DEMO)/teacher --data $(DEMO)/data --task activity --head conv --out $(DEMO)/activity
	$(BIN)/lsm-edge finetune --teacher $(DEMO)/teacher --data $(DEMO)/data --task exercise --head linear --out $(DEMO)/exercise
	$(BIN)/lsm-edge convert $(DEMO)/teacher --quant float32,float16,dynamic,int8 --out $(DEMO)/artifacts --classifier $(DEMO)/activity --classifier $(DEMO)/exercise
	$(BIN)/lsm-edge distill --teacher $(DEMO)/teacher --student distill/conv64.toml --steps 300 --data $(DEMO)/data --out $(DEMO)/student
	$(BIN)/lsm-edge evaluate --teacher $(DEMO)/teacher --with $(DEMO)/student --data $(DEMO)/data --windows 256 --horizons 60 --out $(DEMO)/student_eval
	$(BIN)/lsm-edge finetune --teacher $(DEMO)/student --data $(DEMO)/data --task activity --head conv --kd-from $(DEMO)/activity --out $(DEMO)/student_activity
	for q in float32 int8; do $(BIN)/lsm-edge convert $(DEMO)/student --quant $$q --classifier $(DEMO)/student_activity --out $(DEMO)/artifacts/student_$$q.tflite; done
	for f in $(DEMO)/artifacts/*.tflite; do $(BIN)/python -m lsm_edge.runtime $$f $(DEMO)/data; done
	$(BIN)/lsm-edge bench $(DEMO)/artifacts/teacher_float32.tflite $(DEMO)/artifacts/student_int8.tflite --threads 1,2 --runs 50
	$(BIN)/lsm-edge report --teacher $(DEMO)/teacher --artifacts $(DEMO)/artifacts --data $(DEMO)/data --windows 64 --horizons 60 --runs 30 --out $(DEMO)/report
	mkdir -p $(DEMO)/real_artifacts && cp $(DEMO)/artifacts/teacher_float32.tflite $(DEMO)/artifacts/student_int8.tflite $(DEMO)/real_artifacts/
	if [ -d $(REAL) ]; then $(BIN)/lsm-edge evaluate-real --data $(REAL) --teacher $(DEMO)/teacher --artifacts $(DEMO)/real_artifacts --adapt-steps 50 --horizons 60 --out $(DEMO)/real; fi

test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

clean:
	rm -rf $(VENV) runs
