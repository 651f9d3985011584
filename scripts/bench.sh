#!/usr/bin/env bash
# Runs the benchmarks that BENCHMARKS.md reports, -count 5 each, into
# bench-*.txt at the module root (git-ignored). Summarise with benchstat:
#   go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da bench-patterns.txt
set -euo pipefail
cd "$(dirname "$0")/.."
# The city-lots benchmarks read the whole data file from EDA_CITYLOTS (BENCHMARKS.md).
: "${EDA_CITYLOTS:?set EDA_CITYLOTS to the absolute path of citylots.jlines.gz (see BENCHMARKS.md)}"
export EDA_CITYLOTS
count=${COUNT:-5}
go test -run '^$' -bench 'CityLots' -benchtime 200000x -count "$count" -benchmem . | tee bench-patterns.txt
go test -run '^$' -bench 'MatcherScaling|MatcherSynthetic' -benchtime 100000x -count "$count" -benchmem . | tee bench-scaling.txt
go test -run '^$' -bench 'MatcherAdd' -benchtime 100000x -count "$count" -benchmem . | tee bench-add.txt
go test -run '^$' -bench 'Fanout' -benchtime 200000x -count "$count" -benchmem ./internal/delivery | tee bench-delivery.txt
go test -run '^$' -bench 'DestinationDelivery|BusPutEvents' -benchtime 20000x -count "$count" -benchmem . | tee bench-bus.txt
go test -run '^$' -bench 'SharedPredicates' -benchtime 20000x -count "$count" -benchmem ./internal/pattern | tee bench-shared.txt
