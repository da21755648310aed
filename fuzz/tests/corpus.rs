//! Replays every seed of `corpus/<target>/` through its target's function on stable: the fuzz
//! targets run (without libFuzzer's mutation) wherever nightly is missing, and every crash a
//! fuzzing run saved there stays a regression test.

use std::path::Path;

#[test]
fn every_seed_of_every_target_runs_without_panicking() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (name, target) in stackdock_fuzz::TARGETS {
        let dir = root.join(name);
        let mut seeds: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        seeds.sort();
        assert!(!seeds.is_empty(), "{name} has no seeds");
        for seed in &seeds {
            let data = std::fs::read(seed).unwrap_or_else(|e| panic!("{}: {e}", seed.display()));
            target(&data);
        }
        eprintln!(
            "RELIABILITY input fuzz-corpus-{name} -> {} seeds, no panic",
            seeds.len()
        );
    }
}
