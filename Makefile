# Leadstream — the two commands are `make run` and `make test`.
SHELL := /bin/bash
export CARGO_TARGET_DIR ?= /var/tmp/leadstream-target
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/leadstream_test
NATS_URL ?= nats://127.0.0.1:4222
export NATS_URL

.PHONY: help run test lint bench migrate rebuild fmt

help:
	@echo "make run      start Postgres/NATS if needed, migrate, serve http://127.0.0.1:8080/api/v1"
	@echo "make test     every test (unit + end-to-end) against real Postgres and NATS"
	@echo "make lint     rustfmt check and clippy -D warnings"
	@echo "make bench    write-side load test on a release build (ARGS='--clients 16')"
	@echo "make migrate  apply the migrations to DATABASE_URL"
	@echo "make rebuild  replay all history into fresh read-model tables and swap them in"

run:
	bash scripts/run.sh

test:
	DATABASE_URL=$(TEST_DATABASE_URL) bash scripts/services.sh
	DATABASE_URL=$(TEST_DATABASE_URL) cargo test --workspace --all-targets

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

bench:
	bash scripts/bench.sh $(ARGS)

migrate:
	bash scripts/services.sh
	cargo run --release -q -p command-service -- migrate

rebuild:
	bash scripts/services.sh
	cargo run --release -q -p projector -- rebuild

fmt:
	cargo fmt --all
