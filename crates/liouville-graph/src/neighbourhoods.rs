//! Who interacts with whom: complete graphs, and radius graphs of particle systems — every
//! ordered pair (i, j), i ≠ j, with |xᵢ − xⱼ| ≤ r — built in O(N) expected time by cell lists
//! (Allen & Tildesley, "Computer Simulation of Liquids", §5.3): particles are binned into cubic
//! cells of side r, and each is compared only with the particles of its own and the adjacent
//! cells. [`radius_graph_by_scan`] is the O(N²) definition the cell list is tested against.
//!
//! Edges come sorted by (receiver, sender), so the result does not depend on how the particles
//! fell into cells.

use std::collections::HashMap;

use crate::GraphError;

/// Directed edges as (senders, receivers).
pub type Edges = (Vec<usize>, Vec<usize>);

/// Every ordered pair of distinct nodes of an n-node graph.
pub fn complete_graph(n: usize) -> Edges {
    let mut pairs: Vec<(usize, usize)> = Vec::with_capacity(n * n.saturating_sub(1));
    for receiver in 0..n {
        for sender in (0..n).filter(|&s| s != receiver) {
            pairs.push((sender, receiver));
        }
    }
    pairs.into_iter().unzip()
}

fn check(positions: &[f64], dim: usize, radius: f64) -> Result<usize, GraphError> {
    if dim == 0 || !positions.len().is_multiple_of(dim) {
        return Err(GraphError::FeatureShape {
            what: "positions",
            found: positions.len(),
            rows: positions.len() / dim.max(1),
            width: dim,
        });
    }
    if let Some(i) = positions.iter().position(|v| !v.is_finite()) {
        return Err(GraphError::NonFinite {
            what: "positions",
            row: i / dim,
            column: i % dim,
            value: positions[i],
        });
    }
    if !(radius.is_finite() && radius > 0.0) {
        return Err(GraphError::NonFinite {
            what: "radius",
            row: 0,
            column: 0,
            value: radius,
        });
    }
    Ok(positions.len() / dim)
}

fn within(positions: &[f64], dim: usize, i: usize, j: usize, r2: f64) -> bool {
    let d2: f64 = (0..dim)
        .map(|k| {
            let d = positions[i * dim + k] - positions[j * dim + k];
            d * d
        })
        .sum();
    d2 <= r2
}

fn sorted(mut pairs: Vec<(usize, usize)>) -> Edges {
    pairs.sort_unstable_by_key(|&(s, r)| (r, s));
    pairs.into_iter().unzip()
}

/// The radius graph of `positions` (`[N, dim]` row-major), by cell lists.
pub fn radius_graph(positions: &[f64], dim: usize, radius: f64) -> Result<Edges, GraphError> {
    let n = check(positions, dim, radius)?;
    let cell_of = |i: usize| -> Vec<i64> {
        (0..dim)
            .map(|k| (positions[i * dim + k] / radius).floor() as i64)
            .collect()
    };
    let mut cells: HashMap<Vec<i64>, Vec<usize>> = HashMap::new();
    for i in 0..n {
        cells.entry(cell_of(i)).or_default().push(i);
    }
    // The 3^dim offsets of a cell's neighbourhood.
    let offsets: Vec<Vec<i64>> = (0..3usize.pow(dim as u32))
        .map(|mut code| {
            (0..dim)
                .map(|_| {
                    let o = (code % 3) as i64 - 1;
                    code /= 3;
                    o
                })
                .collect()
        })
        .collect();
    let r2 = radius * radius;
    let mut pairs = Vec::new();
    for receiver in 0..n {
        let home = cell_of(receiver);
        for offset in &offsets {
            let cell: Vec<i64> = home.iter().zip(offset).map(|(c, o)| c + o).collect();
            if let Some(members) = cells.get(&cell) {
                for &sender in members {
                    if sender != receiver && within(positions, dim, sender, receiver, r2) {
                        pairs.push((sender, receiver));
                    }
                }
            }
        }
    }
    Ok(sorted(pairs))
}

/// The radius graph by comparing every pair: the O(N²) reference.
pub fn radius_graph_by_scan(positions: &[f64], dim: usize, radius: f64) -> Result<Edges, GraphError> {
    let n = check(positions, dim, radius)?;
    let r2 = radius * radius;
    let mut pairs = Vec::new();
    for receiver in 0..n {
        for sender in (0..n).filter(|&s| s != receiver) {
            if within(positions, dim, sender, receiver, r2) {
                pairs.push((sender, receiver));
            }
        }
    }
    Ok(sorted(pairs))
}
