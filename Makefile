# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
export RTC_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: run test prereqs lint typecheck contracts pytest fast clean bench bench-iam bench-clusters bench-engines bench-jobs bench-fairness chromium zookeeper sandbox netlab cgroup2-vm wheelhouse screenshots

# An offline wheelhouse (`pip wheel` output) of the engine versions the tests install: built
# once per checkout, then every engine install in the suite is offline.
WHEELHOUSE ?= .cache/wheelhouse
TEST_ENGINES := 2.2.1 1.20.5

prereqs:
	@$(PYTHON) scripts/check_prereqs.py

$(STAMP): pyproject.toml | prereqs
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(DEVSTAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

run: $(STAMP) zookeeper sandbox
	$(BIN)/rtc db upgrade
	$(BIN)/rtc up

# Headless Chromium for the browser tests, and a CJK font so that Chinese pages render (and
# their screenshots show characters, not boxes).
chromium:
	@{ test -x /usr/bin/chromium && test -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc; } || \
		(apt-get update && apt-get install -y chromium fonts-noto-cjk)

# The console's main pages in English and Chinese, as docs/console.md shows them: a browser
# test with its own server, a running cluster and a job on real Flink (a few minutes).
SCREENSHOTS ?= docs/screenshots
screenshots: $(DEVSTAMP) chromium sandbox wheelhouse
	@mkdir -p $(SCREENSHOTS)
	RTC_SCREENSHOTS=$(abspath $(SCREENSHOTS)) RTC_TEST_WHEELHOUSE=$(abspath $(WHEELHOUSE)) \
		$(BIN)/pytest tests/e2e/test_console_screenshots.py

# ZooKeeper for the quorum of 3-master clusters (Debian package; Java 17 is a prerequisite).
zookeeper:
	@test -d /usr/share/zookeeper || (apt-get update && apt-get install -y zookeeper)

# The sandbox of tenants' processes (docs/security.md): bubblewrap for their filesystem view,
# nftables for who may reach their ports (Debian packages; only root can use them).
sandbox:
	@test "$$(id -u)" != 0 || { test -x /usr/bin/bwrap && test -x /usr/sbin/nft; } || \
		(apt-get update && apt-get install -y bubblewrap nftables)

# Network namespaces as the hosts of the multi-host tests (tests/netlab.py): `ip` of the
# Debian package iproute2 (only root can use them).
netlab:
	@test "$$(id -u)" != 0 || command -v ip >/dev/null 2>&1 || \
		(apt-get update && apt-get install -y iproute2)

lint: $(DEVSTAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

typecheck: $(DEVSTAMP)
	$(BIN)/mypy

contracts: $(DEVSTAMP)
	$(BIN)/lint-imports

$(WHEELHOUSE)/.built: | $(STAMP)
	@mkdir -p $(WHEELHOUSE)
	@for v in $(TEST_ENGINES); do \
		echo "wheelhouse: apache-flink==$$v"; \
		$(BIN)/python -m pip wheel --quiet --disable-pip-version-check -w $(WHEELHOUSE) apache-flink==$$v 2>&1 \
			| grep -v "^WARNING: Location" || true; \
		ls $(WHEELHOUSE)/apache_flink-$$v-*.whl >/dev/null || exit 1; \
	done
	@touch $@

wheelhouse: $(WHEELHOUSE)/.built

# A cgroup v2 kernel for tests/security/test_cgroup_v2.py (these hosts mount cgroup v1):
# QEMU and Debian's kernel, booted by virtme-ng (a dev dependency) on the host's own files.
cgroup2-vm:
	@test "$$(id -u)" != 0 || { test -x /usr/bin/qemu-system-x86_64 && ls /boot/vmlinuz-* >/dev/null 2>&1 && test -x /bin/busybox; } || \
		(apt-get update && apt-get install -y --no-install-recommends qemu-system-x86 linux-image-amd64 busybox-static)

# The suite runs on TEST_WORKERS processes (pytest-xdist), a test file per worker at a time
# (module fixtures such as a shared server stay in one process). 3 on the 2-core CI machine:
# much of the suite waits on Flink, browsers and servers (2 workers kept 1.2 cores busy).
TEST_WORKERS ?= 3

pytest: $(DEVSTAMP) chromium zookeeper sandbox netlab cgroup2-vm wheelhouse
	RTC_TEST_WHEELHOUSE=$(abspath $(WHEELHOUSE)) $(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

# Fast subset for developers: no browser, no subprocess servers.
fast: $(DEVSTAMP)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile -m "not slow"

# Engine install and syntax-check benchmark (bench/engines.py, results in docs/benchmarks.md).
bench-engines: $(STAMP) wheelhouse
	$(BIN)/python bench/engines.py --wheelhouse $(abspath $(WHEELHOUSE)) $(BENCH_ENGINES_ARGS)

test: lint typecheck contracts pytest

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Fairness of the warm workers (bench/check_fairness.py, results in docs/benchmarks.md): a
# tenant's SELECT 1 while another explains a 60-way join in a loop.
bench-fairness: $(STAMP) sandbox wheelhouse
	$(BIN)/python bench/check_fairness.py --wheelhouse $(abspath $(WHEELHOUSE)) $(BENCH_FAIRNESS_ARGS)

# Jobs benchmark (bench/jobs.py, results in docs/benchmarks.md): throughput per CU vs bare
# PyFlink, start latency vs a bare standalone cluster, memory of a 1-CU job.
bench-jobs: $(STAMP) zookeeper sandbox wheelhouse
	$(BIN)/python bench/jobs.py --wheelhouse $(abspath $(WHEELHOUSE)) $(BENCH_JOBS_ARGS)

# API benchmark (bench/api.py, results in docs/benchmarks.md); installs wrk when missing.
# Pass flags with BENCH_ARGS, e.g. `make bench BENCH_ARGS="--rounds 5 --duration 20"`.
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || (apt-get update && apt-get install -y wrk)
	$(BIN)/python bench/api.py $(BENCH_ARGS)

# RAM decision benchmark (bench/iam.py, results in docs/benchmarks.md); in-process, no wrk.
# Flags with BENCH_IAM_ARGS, e.g. `make bench-iam BENCH_IAM_ARGS="--repeats 5"`.
bench-iam: $(STAMP)
	$(BIN)/python bench/iam.py $(BENCH_IAM_ARGS)

# Cluster start benchmark (bench/clusters.py, results in docs/benchmarks.md): order paid ->
# running on the local provider, against a bare ZooKeeper quorum started by hand.
bench-clusters: $(STAMP) zookeeper
	$(BIN)/python bench/clusters.py $(BENCH_CLUSTERS_ARGS)
