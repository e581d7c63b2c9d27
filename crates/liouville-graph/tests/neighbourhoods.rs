//! Neighbourhoods: the cell-list radius graph equals the O(N²) scan on random particle sets
//! (proptest, 2-D and 3-D, particles on cell boundaries included), complete graphs, bad input.

use liouville_base::property::check;
use liouville_graph::GraphError;
use liouville_graph::neighbourhoods::{chain_graph, complete_graph, radius_graph, radius_graph_by_scan};
use proptest::prelude::*;

#[test]
fn cell_lists_find_exactly_the_pairs_the_scan_finds() {
    let strategy = (
        2usize..4,
        prop::collection::vec(-3.0f64..3.0, 0..180),
        0.2f64..1.5,
        any::<bool>(),
    );
    // property::check counts the cases: this property cannot pass by running none.
    check(96, &strategy, |(dim, raw, radius, snap)| {
        let n = raw.len() / dim;
        // Optionally put particles exactly on cell boundaries (multiples of the radius).
        let positions: Vec<f64> = raw[..n * dim]
            .iter()
            .map(|&v| if snap { (v / radius).round() * radius } else { v })
            .collect();
        let fast = radius_graph(&positions, dim, radius).unwrap();
        let slow = radius_graph_by_scan(&positions, dim, radius).unwrap();
        prop_assert_eq!(&fast, &slow);
        // Symmetric: (i, j) present iff (j, i) is.
        let pairs: std::collections::HashSet<(usize, usize)> =
            fast.0.iter().copied().zip(fast.1.iter().copied()).collect();
        for &(s, r) in &pairs {
            prop_assert!(pairs.contains(&(r, s)));
            prop_assert!(s != r);
        }
        Ok(())
    });
}

#[test]
fn complete_graphs_have_every_ordered_pair() {
    let (s, r) = complete_graph(4);
    assert_eq!(s.len(), 12);
    assert!(s.iter().zip(&r).all(|(a, b)| a != b));
    let mut pairs: Vec<_> = s.into_iter().zip(r).collect();
    pairs.sort_unstable();
    pairs.dedup();
    assert_eq!(pairs.len(), 12);
    assert_eq!(complete_graph(1), (vec![], vec![]));
}

#[test]
fn chains_link_neighbours_both_ways() {
    assert_eq!(chain_graph(3), (vec![0, 1, 1, 2], vec![1, 0, 2, 1]));
    assert_eq!(chain_graph(1), (vec![], vec![]));
    assert_eq!(chain_graph(0), (vec![], vec![]));
}

#[test]
fn a_lattice_has_its_nearest_neighbours() {
    // A 5 × 5 square lattice of spacing 1, radius 1: 2·5·4 = 40 nearest-neighbour bonds (the
    // diagonals are √2 away), each in both directions.
    let positions: Vec<f64> = (0..25).flat_map(|i| [(i % 5) as f64, (i / 5) as f64]).collect();
    let (s, _) = radius_graph(&positions, 2, 1.0).unwrap();
    assert_eq!(s.len(), 80);
}

#[test]
fn bad_positions_and_radii_are_typed_errors() {
    assert!(matches!(
        radius_graph(&[0.0, 1.0, 2.0], 2, 1.0),
        Err(GraphError::FeatureShape { .. })
    ));
    assert!(matches!(
        radius_graph(&[0.0, f64::NAN], 2, 1.0),
        Err(GraphError::NonFinite {
            what: "positions",
            row: 0,
            column: 1,
            ..
        })
    ));
    for r in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(
            matches!(
                radius_graph(&[0.0, 0.0], 2, r),
                Err(GraphError::NonFinite { what: "radius", .. })
            ),
            "radius {r}"
        );
    }
    assert_eq!(radius_graph(&[], 3, 1.0).unwrap(), (vec![], vec![]));
}
