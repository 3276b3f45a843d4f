# Shared set-up for the bats tests: bats-support and bats-assert, the data
# folder, and a scratch directory per test.
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

DATA=${FACEKIT_DATA:-$BATS_TEST_DIRNAME/../../shared/data}

# skip_without_data: skip a test when ../shared/data is not there
skip_without_data() {
	[ -d "$DATA/lfw" ] || skip "no data folder at $DATA"
}
