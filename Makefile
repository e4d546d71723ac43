# The two entry points a new user needs:
#   make demo   set everything up, build the demo warehouse (warehouse/identity.duckdb)
#   make test   set everything up, run lint, dbt build (data + unit tests), pytest, and the same project
#               on Spark against DuckDB (test-spark)
# and, for the edit loop: make test-fast (under a minute; see its rule)
# and, for measuring: make benchmark EVENTS=1000000 [FORMAT=parquet] (see docs/performance.md)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-requirements
BENCHMARK_STAMP := $(VENV)/.installed-benchmark-requirements
SPARK_STAMP := $(VENV)/.installed-spark-requirements
EVENTS ?= 1000000
FORMAT ?= ndjson

.PHONY: setup spark-setup demo test test-fast lint dbt-build pytest test-spark benchmark clean

# The pinned dependencies, then this project itself in editable mode (pyproject.toml: the `idr`
# command and the development tools' commands in .venv/bin), built with the pinned setuptools.
$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] >= (3, 11), "Python 3.11+ is required, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

$(BENCHMARK_STAMP): $(STAMP) requirements-benchmark.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-benchmark.lock
	touch $(BENCHMARK_STAMP)

# The optional Spark target (dbt-spark, pyspark; needs Java 17).
$(SPARK_STAMP): $(STAMP) requirements-spark.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-spark.lock
	touch $(SPARK_STAMP)

spark-setup: $(SPARK_STAMP)

demo: setup
	$(BIN)/idr run

lint: setup
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	mkdir -p build/ci
	# sqlfluff in one process per core (--processes 0)
	IDR_DB_PATH=build/ci/lint.duckdb $(BIN)/sqlfluff lint --processes 0 models macros tests analyses
	# the macros' SQL, which the lint above skips (templated), checked in the SQL dbt compiles from every
	# model (.sqlfluff-compiled); the keyed recursive CTEs' `using key (...)`, which sqlfluff cannot parse
	# yet, is cut from that copy so that the stitching is checked too
	rm -rf build/ci/lint-target
	IDR_DB_PATH=build/ci/lint.duckdb $(BIN)/dbt --quiet compile --select resource_type:model \
		--indirect-selection empty --target-path build/ci/lint-target
	find build/ci/lint-target/compiled -name '*.sql' -exec sed -i -E \
		's/ using key \([^)]*\)//; /sqlfluff:ignore:parsing/d' {} +
	$(BIN)/sqlfluff lint --processes 0 --config .sqlfluff-compiled --disregard-sqlfluffignores \
		build/ci/lint-target/compiled

dbt-build: setup
	mkdir -p build/ci
	rm -f build/ci/dbt_build.duckdb build/ci/dbt_build.duckdb.wal
	IDR_DB_PATH=build/ci/dbt_build.duckdb $(BIN)/dbt build --target-path build/ci/target

# in TEST_WORKERS processes (pytest-xdist), each test module in one of them (its fixtures built once)
TEST_WORKERS ?= 2
pytest: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope

# The demo on Spark and on DuckDB must give the same profiles (tests/spark).
test-spark: spark-setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope tests/spark

test: lint dbt-build pytest test-spark

# The edit loop, under a minute: ruff, every model and seed built empty (the SQL compiles and runs on
# DuckDB), dbt's unit tests, and the Python tests that build no warehouse (event files, loading, the
# benchmark's helpers). Not a substitute for make test.
test-fast: setup
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	mkdir -p build/fast
	rm -f build/fast/fast.duckdb build/fast/fast.duckdb.wal
	IDR_DB_PATH=build/fast/fast.duckdb $(BIN)/dbt --quiet build --empty --exclude test_type:data test_type:unit \
		--target-path build/fast/target
	IDR_DB_PATH=build/fast/fast.duckdb $(BIN)/dbt --quiet test --select test_type:unit --target-path build/fast/target
	$(BIN)/python -m pytest -q tests/python/test_event_files.py tests/python/test_loading.py \
		tests/python/test_benchmark_helpers.py tests/python/test_publishing.py tests/python/test_docs.py \
		tests/python/test_spark_session.py

benchmark: $(BENCHMARK_STAMP)
	$(BIN)/idr-benchmark --events $(EVENTS) --format $(FORMAT)

clean:
	rm -rf $(VENV) target build warehouse logs
