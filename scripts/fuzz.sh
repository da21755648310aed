#!/usr/bin/env bash
# Fuzzes StackDock's parsers of untrusted input for a bounded time per target:
#   config_parse         arbitrary bytes -> UTF-8 -> stackdock_core::config::parse
#   vultr_decode         arbitrary bytes as a Vultr list page -> records
#   digitalocean_decode  arbitrary bytes as a DigitalOcean list page -> records
#   linode_decode        arbitrary bytes as a Linode list page -> records
#
# Usage: scripts/fuzz.sh [seconds per target, default 60]
#
# libFuzzer needs a nightly toolchain and cargo-fuzz. Without nightly this script says so and
# replays each target's seed corpus (fuzz/corpus/<target>/) through the same target functions in a
# normal stable test build instead: no mutation, but every seed and every saved crash still runs.
set -euo pipefail

seconds="${1:-60}"
case "$seconds" in
    '' | *[!0-9]*) echo "usage: $0 [seconds per target]" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/fuzz"
targets=(config_parse vultr_decode digitalocean_decode linode_decode)

replay_corpus() {
    echo "fuzz: replaying the seed corpora on stable (cargo test in fuzz/)"
    cargo test --quiet
}

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    echo "fuzz: no nightly toolchain is installed (libFuzzer needs nightly; try \`rustup toolchain install nightly\`)." >&2
    echo "fuzz: NOT fuzzing; running each target's seed corpus through the target functions instead." >&2
    replay_corpus
    exit 0
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked)"
    if ! cargo install cargo-fuzz --locked; then
        echo "fuzz: cargo-fuzz could not be installed; NOT fuzzing, replaying the seed corpora instead." >&2
        replay_corpus
        exit 0
    fi
fi

# The corpus replay first: a seed that crashes is a regression, whatever fuzzing finds next.
replay_corpus
for target in "${targets[@]}"; do
    echo "fuzz: $target for ${seconds}s"
    # The seed directory is read, and new interesting inputs are written to a scratch copy so the
    # committed corpus changes only when someone chooses to add a seed.
    scratch="$(mktemp -d)"
    cp -r "corpus/$target/." "$scratch/"
    cargo +nightly fuzz run --features libfuzzer "$target" "$scratch" -- \
        -max_total_time="$seconds" -max_len=1048576 -timeout=10 -rss_limit_mb=2048
    rm -rf "$scratch"
done
echo "fuzz: every target ran ${seconds}s without a crash"
