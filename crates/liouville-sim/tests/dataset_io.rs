//! Acceptance 4: datasets round-trip; identical bytes across thread counts and shardings; random,
//! truncated or bit-flipped bytes never panic the loader; atomic writes; `.npz` export.

use liouville_base::property::check;
use liouville_sim::SimError;
use liouville_sim::dataset::{Dataset, DatasetSpec, IsingDataset, IsingSpec, Shard, SystemSpec, generate};
use liouville_sim::systems::ising::IsingAlgorithm;
use proptest::prelude::*;

fn small_spec(system: SystemSpec, n: usize, seed: u64) -> DatasetSpec {
    DatasetSpec::new(system, n, 12, 2.0)
        .noise(0.05)
        .seed(seed)
        .test_fraction(0.25)
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn datasets_round_trip_through_bytes_and_files() {
    let systems = [
        SystemSpec::hnn_mass_spring(),
        SystemSpec::hnn_pendulum(),
        SystemSpec::hnn_two_body(),
        SystemSpec::lnn_double_pendulum(),
        SystemSpec::nri_springs(),
        SystemSpec::Lorenz {
            sigma: 10.0,
            rho: 28.0,
            beta: 8.0 / 3.0,
        },
        SystemSpec::DrivenPendulum {
            mass: 1.0,
            length: 1.0,
            gravity: 9.8,
            damping: 0.1,
            amplitude: 0.5,
            frequency: 2.0,
        },
    ];
    check(16, &(0usize..systems.len(), 1usize..6, any::<u64>()), |(k, n, seed)| {
        let ds = generate(&small_spec(systems[k].clone(), n, seed), Shard::whole(), false).unwrap();
        let bytes = ds.to_bytes().unwrap();
        let back = Dataset::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&back, &ds);
        prop_assert_eq!(back.to_bytes().unwrap(), bytes);
        Ok(())
    });
    let dir = tempdir("roundtrip");
    let ds = generate(&small_spec(SystemSpec::nri_springs(), 3, 1), Shard::whole(), false).unwrap();
    let path = dir.join("nri.lds");
    ds.save(&path).unwrap();
    assert_eq!(Dataset::load(&path).unwrap(), ds);
    assert_eq!(ds.edges.as_ref().unwrap().dim(), (3, 5, 5));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn identical_bytes_across_thread_counts_and_shardings() {
    let spec = small_spec(SystemSpec::hnn_three_body(), 23, 42);
    let reference = in_pool(1, || {
        generate(&spec, Shard::whole(), false).unwrap().to_bytes().unwrap()
    });
    for threads in [2, 3, 8] {
        let bytes = in_pool(threads, || {
            generate(&spec, Shard::whole(), false).unwrap().to_bytes().unwrap()
        });
        assert!(bytes == reference, "{threads} threads changed the bytes");
    }
    for count in [2, 3, 7] {
        let mut shards: Vec<Dataset> = (0..count)
            .map(|i| generate(&spec, Shard::new(i, count).unwrap(), false).unwrap())
            .collect();
        shards.reverse(); // merge accepts any order
        let merged = Dataset::merge(shards).unwrap();
        assert!(
            merged.to_bytes().unwrap() == reference,
            "merging {count} shards changed the bytes"
        );
    }
    // Shards must cover the whole range exactly once, and come from one spec.
    // The errors say which trajectories are missing or duplicated.
    let a = generate(&spec, Shard::new(0, 2).unwrap(), false).unwrap();
    let (half, total) = (a.trajectories(), spec.trajectories);
    let err = Dataset::merge(vec![a.clone()]).unwrap_err();
    assert!(matches!(err, SimError::ShapeMismatch(_)));
    assert!(
        err.to_string()
            .contains(&format!("trajectories {half}..{total} are in no shard")),
        "{err}"
    );
    let err = Dataset::merge(vec![a.clone(), a.clone()]).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("trajectories 0..{half} are in two shards")),
        "{err}"
    );
    let other = generate(
        &small_spec(SystemSpec::hnn_three_body(), 23, 43),
        Shard::new(1, 2).unwrap(),
        false,
    )
    .unwrap();
    assert!(matches!(
        Dataset::merge(vec![a, other]),
        Err(SimError::ShapeMismatch(_))
    ));
    assert!(Shard::new(2, 2).is_err());
}

#[test]
fn the_split_is_by_trajectory_and_has_the_requested_size() {
    let ds = generate(
        &DatasetSpec::new(SystemSpec::hnn_mass_spring(), 50, 30, 3.0),
        Shard::whole(),
        false,
    )
    .unwrap();
    assert_eq!(ds.test_indices().len(), 25);
    assert_eq!(ds.train_indices().len(), 25);
}

#[test]
fn random_truncated_and_flipped_bytes_never_panic_the_loader() {
    let ds = generate(&small_spec(SystemSpec::hnn_pendulum(), 2, 5), Shard::whole(), false).unwrap();
    let bytes = ds.to_bytes().unwrap();
    // Every truncation is an error.
    for len in (0..bytes.len()).step_by(7) {
        assert!(
            Dataset::from_bytes(&bytes[..len]).is_err(),
            "truncated to {len} bytes was accepted"
        );
    }
    // Each property gets its own runner and counts the cases it ran (property::check; a reused
    // runner keeps its success count and ran no cases the second time).
    check(256, &prop::collection::vec(any::<u8>(), 0..512), |random| {
        prop_assert!(Dataset::from_bytes(&random).is_err());
        // A valid header and checksum around random bytes reaches the codec and shape checks.
        let framed = liouville_sim::dataset::container::assemble(
            liouville_sim::dataset::container::Kind::Trajectories,
            [1, 1, 1],
            &random,
        );
        prop_assert!(Dataset::from_bytes(&framed).is_err());
        let mut prefixed = bytes[..64].to_vec();
        prefixed.extend_from_slice(&random);
        prop_assert!(Dataset::from_bytes(&prefixed).is_err());
        Ok(())
    });
    check(256, &(0..bytes.len(), 0u8..8), |(at, bit)| {
        let mut flipped = bytes.clone();
        flipped[at] ^= 1 << bit;
        // A flipped bit is caught by the magic, version, shape, length or checksum checks.
        prop_assert!(Dataset::from_bytes(&flipped).is_err());
        Ok(())
    });
    // Other kinds and versions are typed errors.
    let mut wrong_version = bytes.clone();
    wrong_version[8] = 9;
    assert!(matches!(Dataset::from_bytes(&wrong_version), Err(SimError::Format(m)) if m.contains("version")));
    assert!(matches!(
        IsingDataset::from_bytes(&bytes),
        Err(SimError::ShapeMismatch(_))
    ));
}

#[test]
fn bad_specs_are_typed_errors() {
    let zero_mass = SystemSpec::MassSpring {
        mass: 0.0,
        stiffness: 1.0,
        radius: (0.1, 1.0),
    };
    assert!(matches!(
        generate(&small_spec(zero_mass, 2, 0), Shard::whole(), false),
        Err(SimError::InvalidParameter { name: "mass", .. })
    ));
    let neg_length = SystemSpec::Pendulum {
        mass: 1.0,
        length: -1.0,
        gravity: 9.8,
        radius: (0.1, 1.0),
    };
    assert!(matches!(
        generate(&small_spec(neg_length, 2, 0), Shard::whole(), false),
        Err(SimError::InvalidParameter { name: "length", .. })
    ));
    assert!(
        generate(
            &DatasetSpec::new(SystemSpec::hnn_pendulum(), 0, 10, 1.0),
            Shard::whole(),
            false
        )
        .is_err()
    );
    assert!(
        generate(
            &DatasetSpec::new(SystemSpec::hnn_pendulum(), 2, 10, -1.0),
            Shard::whole(),
            false
        )
        .is_err()
    );
    assert!(
        generate(
            &DatasetSpec::new(SystemSpec::hnn_pendulum(), 2, 10, 1.0).noise(f64::NAN),
            Shard::whole(),
            false
        )
        .is_err()
    );
}

#[test]
fn writes_are_atomic_and_keep_the_previous_file_on_failure() {
    let dir = tempdir("atomic");
    let path = dir.join("d.lds");
    let ds = generate(&small_spec(SystemSpec::hnn_mass_spring(), 2, 0), Shard::whole(), false).unwrap();
    ds.save(&path).unwrap();
    // Saving into a path whose parent is a file fails without touching the existing dataset.
    let blocked = path.join("child.lds");
    assert!(matches!(ds.save(&blocked), Err(SimError::Io { .. })));
    assert_eq!(Dataset::load(&path).unwrap(), ds);
    let leftovers = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains(".tmp-"))
        .count();
    assert_eq!(leftovers, 0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn npz_export_holds_every_array() {
    let dir = tempdir("npz");
    let ds = generate(&small_spec(SystemSpec::nri_springs(), 2, 3), Shard::whole(), false).unwrap();
    let path = dir.join("nri.npz");
    ds.save_npz(&path).unwrap();
    let mut npz = ndarray_npy::NpzReader::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut names = npz.names().unwrap();
    names.sort();
    assert_eq!(
        names,
        [
            "derivatives",
            "edges",
            "initial_conditions",
            "is_test",
            "observations",
            "spec",
            "state_labels",
            "states",
            "times"
        ]
    );
    let states: ndarray::Array3<f64> = npz.by_name("states").unwrap();
    assert_eq!(states, ds.states);
    let ising = IsingDataset::generate(&IsingSpec {
        l: 4,
        temperatures: vec![2.0, 3.0],
        samples: 5,
        spacing: 2,
        thermalization: 10,
        algorithm: IsingAlgorithm::Wolff,
        seed: 1,
    })
    .unwrap();
    ising.save_npz(&dir.join("ising.npz")).unwrap();
    let bytes = ising.to_bytes().unwrap();
    assert_eq!(IsingDataset::from_bytes(&bytes).unwrap(), ising);
    std::fs::remove_dir_all(dir).unwrap();
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("liouville-sim-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
