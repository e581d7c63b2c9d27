//! Who interacts with whom: complete graphs, chains, and radius graphs of particle systems — every
//! ordered pair (i, j), i ≠ j, with |xᵢ − xⱼ| ≤ r — built in O(N) expected time by cell lists
//! (Allen & Tildesley, "Computer Simulation of Liquids", §5.3): particles are binned into cubic
//! cells of side r (an FNV hash map of integer cell coordinates, so unbounded boxes cost nothing),
//! and each is compared only with the particles of its own and the adjacent cells. [`radius_graph_by_scan`] is the O(N²) definition the cell list is tested against.
//!
//! Edges come sorted by (receiver, sender), so the result does not depend on how the particles
//! fell into cells.

use fnv::FnvHashMap;

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

/// A chain 0 — 1 — … — (n − 1), every link in both directions (i → i+1 and i+1 → i), so a
/// pair potential summed over the edges is symmetric under reversing the chain.
pub fn chain_graph(n: usize) -> Edges {
    let mut edges = (Vec::new(), Vec::new());
    for i in 1..n {
        edges.0.extend([i - 1, i]);
        edges.1.extend([i, i - 1]);
    }
    edges
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

/// Pairs sorted by (receiver, sender).
fn sorted(mut pairs: Vec<(usize, usize)>) -> Edges {
    pairs.sort_unstable_by_key(|&(s, r)| (r, s));
    pairs.into_iter().unzip()
}

/// Integer cell coordinates (unused axes 0): fixed-size keys, no allocation per lookup.
type Cell = [i64; 3];

/// The radius graph of `positions` (`[N, dim]` row-major, 1 ≤ dim ≤ 3), by cell lists.
pub fn radius_graph(positions: &[f64], dim: usize, radius: f64) -> Result<Edges, GraphError> {
    let n = check(positions, dim, radius)?;
    if dim > 3 {
        return Err(GraphError::FeatureShape {
            what: "positions (cell lists take 1 to 3 dimensions)",
            found: positions.len(),
            rows: n,
            width: dim,
        });
    }
    let cell_of = |i: usize| -> Cell {
        let mut c = [0i64; 3];
        for k in 0..dim {
            c[k] = (positions[i * dim + k] / radius).floor() as i64;
        }
        c
    };
    // Particles sorted by cell, with their positions copied in that order: a cell's members are
    // one contiguous block, so the neighbour search reads memory in runs instead of at random
    // (at 10⁵ particles the random reads cost more than the arithmetic).
    let keys: Vec<Cell> = (0..n).map(cell_of).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_unstable_by_key(|&i| keys[i]);
    let sorted: Vec<f64> = order
        .iter()
        .flat_map(|&i| positions[i * dim..(i + 1) * dim].iter().copied())
        .collect();
    let mut cells: FnvHashMap<Cell, (usize, usize)> = FnvHashMap::with_capacity_and_hasher(n, Default::default());
    let mut start = 0;
    while start < n {
        let key = keys[order[start]];
        let mut end = start + 1;
        while end < n && keys[order[end]] == key {
            end += 1;
        }
        cells.insert(key, (start, end));
        start = end;
    }
    // The 3^dim offsets of a cell's neighbourhood.
    let offsets: Vec<Cell> = (0..3usize.pow(dim as u32))
        .map(|mut code| {
            let mut o = [0i64; 3];
            for slot in o.iter_mut().take(dim) {
                *slot = (code % 3) as i64 - 1;
                code /= 3;
            }
            o
        })
        .collect();
    let r2 = radius * radius;
    // Cell by cell, in sorted order: a cell's neighbour blocks are looked up once for all its
    // particles, and consecutive cells share most of them in cache.
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut blocks: Vec<(usize, usize)> = Vec::with_capacity(offsets.len());
    let mut start = 0;
    while start < n {
        let home = keys[order[start]];
        let (_, end) = cells[&home];
        blocks.clear();
        blocks.extend(
            offsets
                .iter()
                .filter_map(|o| cells.get(&[home[0] + o[0], home[1] + o[1], home[2] + o[2]]).copied()),
        );
        for j in start..end {
            let x = &sorted[j * dim..(j + 1) * dim];
            for &(from, to) in &blocks {
                for k in from..to {
                    let y = &sorted[k * dim..(k + 1) * dim];
                    let d2: f64 = x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum();
                    if d2 <= r2 && k != j {
                        pairs.push((order[k], order[j]));
                    }
                }
            }
        }
        start = end;
    }
    // Counting sort by receiver (O(E)), then each receiver's few senders in order.
    let mut offsets_by_receiver = vec![0usize; n + 1];
    for &(_, r) in &pairs {
        offsets_by_receiver[r + 1] += 1;
    }
    for i in 0..n {
        offsets_by_receiver[i + 1] += offsets_by_receiver[i];
    }
    let mut senders = vec![0usize; pairs.len()];
    let mut fill = offsets_by_receiver.clone();
    for &(s, r) in &pairs {
        senders[fill[r]] = s;
        fill[r] += 1;
    }
    let mut receivers = Vec::with_capacity(pairs.len());
    for r in 0..n {
        senders[offsets_by_receiver[r]..offsets_by_receiver[r + 1]].sort_unstable();
        receivers.extend(std::iter::repeat_n(
            r,
            offsets_by_receiver[r + 1] - offsets_by_receiver[r],
        ));
    }
    Ok((senders, receivers))
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
