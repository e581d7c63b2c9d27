//! Typed errors of graph construction and batching.

use thiserror::Error;

/// What is wrong with a graph or a batch of graphs.
#[derive(Debug, Error, PartialEq)]
pub enum GraphError {
    /// Feature arrays that are not whole rows of their width, or rows that do not match the counts.
    #[error("{what}: {found} values are not {rows} rows of width {width}")]
    FeatureShape {
        /// "nodes", "edges" or "globals".
        what: &'static str,
        /// Values given.
        found: usize,
        /// Rows expected.
        rows: usize,
        /// Row width.
        width: usize,
    },
    /// Per-graph counts that do not add up to the totals.
    #[error("{what} counts add up to {sum}, but there are {total}")]
    Counts {
        /// "node" or "edge".
        what: &'static str,
        /// Σ counts.
        sum: usize,
        /// Rows present.
        total: usize,
    },
    /// An edge endpoint outside the batch, or in another graph than its edge.
    #[error("edge {edge}: {end} {node} is not a node of graph {graph} (nodes {first}..{last})")]
    EdgeEndpoint {
        /// Edge index in the batch.
        edge: usize,
        /// "sender" or "receiver".
        end: &'static str,
        /// The node index it names.
        node: usize,
        /// The edge's graph.
        graph: usize,
        /// First node of that graph.
        first: usize,
        /// One past its last node.
        last: usize,
    },
    /// A NaN or infinite feature.
    #[error("{what} feature [{row}, {column}] is {value}")]
    NonFinite {
        /// "nodes", "edges" or "globals".
        what: &'static str,
        /// Row.
        row: usize,
        /// Column.
        column: usize,
        /// The value.
        value: f64,
    },
    /// Graphs of different feature widths in one batch.
    #[error("graph {index} has {what} width {found}, the batch {expected}")]
    WidthMismatch {
        /// Graph index.
        index: usize,
        /// "node", "edge" or "global".
        what: &'static str,
        /// Its width.
        found: usize,
        /// The first graph's.
        expected: usize,
    },
    /// A graph without nodes where real graphs are required (a batch of user graphs).
    #[error("graph {index} has no nodes")]
    EmptyGraph {
        /// Graph index.
        index: usize,
    },
    /// Padding targets too small for the batch (jraph needs one padding node and graph).
    #[error("cannot pad {have} {what} to {target}: {need}")]
    Padding {
        /// "nodes", "edges" or "graphs".
        what: &'static str,
        /// Present.
        have: usize,
        /// Asked for.
        target: usize,
        /// What is needed.
        need: &'static str,
    },
    /// A training window longer than the trajectory it is cut from.
    #[error("a window of {horizon} observations needs 1 <= horizon < samples, the trajectory has {samples} samples")]
    Window {
        /// Observations per window.
        horizon: usize,
        /// Observations in the trajectory.
        samples: usize,
    },
    /// Particle systems of different dimensions in one data set.
    #[error("trajectory {index} has particles in {found} dimensions, the first one {expected}")]
    Dimension {
        /// Trajectory index.
        index: usize,
        /// Its dimension.
        found: usize,
        /// The first trajectory's.
        expected: usize,
    },
    /// Settings of a learned simulator's recipe that cannot work.
    #[error("{0}")]
    Recipe(String),
}
