# Each target calls a script; the logic lives there.
.PHONY: demo test unit-test vm-test bench lint setup clean

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

unit-test:
	bash scripts/test.sh tests/unit

vm-test:
	bash scripts/test.sh -m vm vm-tests

bench:
	bash scripts/bench.sh

lint:
	bash scripts/lint.sh

setup:
	bash scripts/setup.sh

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache build *.egg-info
