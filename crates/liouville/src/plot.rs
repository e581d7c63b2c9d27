//! Plots without system fonts: DejaVu Sans ships in `assets/fonts/` and is registered with
//! plotters' `ab_glyph` backend at start-up. Files are written atomically (temporary file, then
//! rename), so an interrupted run never leaves a half-written plot behind.

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::prelude::*;

/// Why a plot could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// Drawing failed inside plotters.
    #[error("drawing {path}: {message}")]
    Draw {
        /// Target file.
        path: PathBuf,
        /// Backend message.
        message: String,
    },
    /// Filesystem error.
    #[error("writing {path}: {source}")]
    Io {
        /// Target file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Nothing positive to draw on a log axis.
    #[error("no positive, finite values to plot on a log scale for {0}")]
    Empty(PathBuf),
    /// Values whose span no axis can draw (it overflows f64, as for ±1e308).
    #[error("{axis} values span [{min:e}, {max:e}], wider than an axis can draw; rescale or clip the data")]
    Range {
        /// "x" or "y".
        axis: &'static str,
        /// Smallest value.
        min: f64,
        /// Largest value.
        max: f64,
    },
}

/// A drawable axis range around [min, max]: exact for x, padded by 5 % of the span for y (at
/// least a relative 1e-9, so that a constant series far from zero still gets a non-empty axis),
/// or, on a log axis, by a factor of 2. A span that overflows is an error rather than an axis with
/// infinite ticks (plotters never finishes laying those out).
fn axis_range(axis: &'static str, min: f64, max: f64, log: bool) -> Result<std::ops::Range<f64>, PlotError> {
    let range = if log {
        (min / 2.0).max(1e-300)..max * 2.0
    } else if axis == "x" && max > min {
        min..max
    } else {
        let floor = 1e-9 * min.abs().max(max.abs()).max(1e-3);
        let pad = (0.05 * (max - min)).max(floor);
        (min - pad)..(max + pad)
    };
    if range.start.is_finite()
        && range.end.is_finite()
        && range.start < range.end
        && (range.end - range.start).is_finite()
    {
        Ok(range)
    } else {
        Err(PlotError::Range { axis, min, max })
    }
}

static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Registers the shipped font as plotters' "sans-serif" (idempotent).
pub fn register_fonts() {
    REGISTER.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            // The font is compiled in; failing to parse it is a build defect, not a user error.
            unreachable!("the shipped DejaVuSans.ttf is a valid TrueType font");
        }
    });
}

/// One named line of a chart.
pub struct Series<'a> {
    /// Legend label.
    pub label: &'a str,
    /// (x, y) points.
    pub points: &'a [(f64, f64)],
}

/// Draws `series` against a linear x axis and a logarithmic y axis into `path` (PNG or SVG by
/// extension), atomically. Non-positive or non-finite y values are skipped.
pub fn log_y_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
) -> Result<(), PlotError> {
    chart(path, title, x_label, y_label, series, true)
}

/// Draws `series` on linear axes (phase portraits, trajectories) into `path`, atomically.
/// Non-finite points are skipped.
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
) -> Result<(), PlotError> {
    chart(path, title, x_label, y_label, series, false)
}

fn chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
    log_y: bool,
) -> Result<(), PlotError> {
    register_fonts();
    let keep = |&(x, y): &(f64, f64)| x.is_finite() && y.is_finite() && (!log_y || y > 0.0);
    let all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|s| s.points.iter().copied().filter(keep))
        .collect();
    if all.is_empty() {
        return Err(PlotError::Empty(path.to_owned()));
    }
    let (x_min, x_max) = all
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y_min, y_max) = all
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
    let y_range = axis_range("y", y_min, y_max, log_y)?;
    let x_range = axis_range("x", x_min, x_max, false)?;
    let spec = ChartSpec {
        title,
        x_label,
        y_label,
        series,
        x_range,
        y_range,
        log_y,
    };
    let svg = path.extension().is_some_and(|e| e == "svg");
    liouville_base::files::write_atomic_with(path, |tmp| {
        if svg {
            draw_chart(SVGBackend::new(tmp, (WIDTH, HEIGHT)).into_drawing_area(), &spec)
        } else {
            draw_chart(BitMapBackend::new(tmp, (WIDTH, HEIGHT)).into_drawing_area(), &spec)
        }
    })
    .map_err(|e| plot_error(path, e))
}

/// The [`PlotError`] of a failed atomic write of `path`.
fn plot_error(path: &Path, e: liouville_base::files::AtomicWriteError<String>) -> PlotError {
    match e {
        liouville_base::files::AtomicWriteError::Io(source) => PlotError::Io {
            path: path.to_owned(),
            source,
        },
        liouville_base::files::AtomicWriteError::Write(message) => PlotError::Draw {
            path: path.to_owned(),
            message,
        },
    }
}

/// Plot width in pixels; a series with more points than this is drawn as its envelope.
const WIDTH: u32 = 1100;
const HEIGHT: u32 = 700;

/// Tableau's 10 colours followed by 6 darker ones (from Tableau 20b), all dark enough to read on
/// white (Palette99 included #FFFAC8) and distinct for the 15 curves of the integrator showcase.
const COLOURS: [RGBColor; 16] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(57, 59, 121),
    RGBColor(99, 121, 57),
    RGBColor(140, 109, 49),
    RGBColor(132, 60, 57),
    RGBColor(123, 65, 115),
    RGBColor(0, 0, 0),
];

/// Up to this many series the legend sits in the emptiest corner; beyond, in a panel beside the
/// axes, so that it never covers data.
const LEGEND_IN_AXES: usize = 4;
/// Width of the legend panel.
const LEGEND_PANEL: u32 = 250;

fn colour(i: usize) -> RGBColor {
    COLOURS[i % COLOURS.len()]
}

/// A series with x non-decreasing and more points than `columns`, reduced to the first, lowest,
/// highest and last point of each of `columns` equal x-bins, in x order: what a pixel column
/// shows, without drawing millions of segments (whose thick joins rasterised as spikes above
/// the data). Other series (phase portraits, where x turns back) are returned unchanged.
fn envelope(points: &[(f64, f64)], x_range: &std::ops::Range<f64>, columns: usize) -> Vec<(f64, f64)> {
    let monotone = points.windows(2).all(|w| w[1].0 >= w[0].0);
    if points.len() <= 4 * columns || !monotone || columns == 0 {
        return points.to_vec();
    }
    let width = (x_range.end - x_range.start) / columns as f64;
    let bin = |x: f64| (((x - x_range.start) / width) as usize).min(columns - 1);
    let mut out = Vec::with_capacity(4 * columns);
    let mut start = 0;
    while start < points.len() {
        let b = bin(points[start].0);
        let mut end = start;
        while end < points.len() && bin(points[end].0) == b {
            end += 1;
        }
        let chunk = &points[start..end];
        let low = (0..chunk.len())
            .min_by(|&i, &j| chunk[i].1.total_cmp(&chunk[j].1))
            .unwrap_or(0);
        let high = (0..chunk.len())
            .max_by(|&i, &j| chunk[i].1.total_cmp(&chunk[j].1))
            .unwrap_or(0);
        let mut keep = vec![0, low, high, chunk.len() - 1];
        keep.sort_unstable();
        keep.dedup();
        out.extend(keep.into_iter().map(|i| chunk[i]));
        start = end;
    }
    out
}

/// A tick label: integers as integers (1000, not 1000.0), other values with 4 significant
/// digits, very large or small ones in scientific notation.
fn tick_label(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if (1e-3..1e6).contains(&a) {
        if v.fract() == 0.0 {
            format!("{v:.0}")
        } else {
            let digits = (3 - a.log10().floor() as i32).max(0) as usize;
            let s = format!("{v:.digits$}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        }
    } else {
        format!("{v:.1e}").replace(".0e", "e")
    }
}

/// The corner of the plot where the legend hides the fewest points (a box of 30 % × 25 % of
/// the axes in each corner).
fn legend_corner(
    series: &[Series<'_>],
    x: &std::ops::Range<f64>,
    y: &std::ops::Range<f64>,
    log_y: bool,
) -> SeriesLabelPosition {
    let scale = |v: f64| if log_y { v.max(1e-300).log10() } else { v };
    let (y0, y1) = (scale(y.start), scale(y.end));
    let fx = |v: f64| (v - x.start) / (x.end - x.start);
    let fy = |v: f64| (scale(v) - y0) / (y1 - y0);
    let corners = [
        (SeriesLabelPosition::UpperRight, 0.7..1.0, 0.75..1.0),
        (SeriesLabelPosition::UpperLeft, 0.0..0.3, 0.75..1.0),
        (SeriesLabelPosition::LowerRight, 0.7..1.0, 0.0..0.25),
        (SeriesLabelPosition::LowerLeft, 0.0..0.3, 0.0..0.25),
    ];
    let hidden = |cx: &std::ops::Range<f64>, cy: &std::ops::Range<f64>| {
        series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter(|&&(px, py)| cx.contains(&fx(px)) && cy.contains(&fy(py)))
            .count()
    };
    corners
        .into_iter()
        .min_by_key(|(_, cx, cy)| hidden(cx, cy))
        .map(|(corner, _, _)| corner)
        .unwrap_or(SeriesLabelPosition::UpperRight)
}

struct ChartSpec<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    series: &'a [Series<'a>],
    x_range: std::ops::Range<f64>,
    y_range: std::ops::Range<f64>,
    log_y: bool,
}

fn draw_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    c: &ChartSpec<'_>,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let panel = c.series.len() > LEGEND_IN_AXES;
    let (axes, legend) = if panel {
        let (a, l) = root.split_horizontally(WIDTH - LEGEND_PANEL);
        (a, Some(l))
    } else {
        (root.clone(), None)
    };
    if let Some(area) = &legend {
        for (i, s) in c.series.iter().enumerate() {
            let y = 60 + 22 * i as i32;
            area.draw(&PathElement::new(vec![(8, y), (34, y)], colour(i).stroke_width(3)))
                .map_err(|e| e.to_string())?;
            area.draw(&Text::new(s.label, (42, y - 8), ("sans-serif", 14).into_font()))
                .map_err(|e| e.to_string())?;
        }
    }
    let mut builder = ChartBuilder::on(&axes);
    builder
        .caption(c.title, ("sans-serif", 26))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70);
    // The two coordinate systems have different types; the drawing code is shared by a macro.
    macro_rules! draw {
        ($chart:expr) => {{
            let mut chart = $chart.map_err(|e| e.to_string())?;
            let mut mesh = chart.configure_mesh();
            let y_desc = if c.log_y {
                format!("{} (log scale)", c.y_label)
            } else {
                c.y_label.to_string()
            };
            mesh.x_desc(c.x_label).y_desc(y_desc);
            mesh.x_label_formatter(&|v| tick_label(*v));
            if c.log_y {
                mesh.y_label_formatter(&|v| format!("{v:.0e}"));
            } else {
                mesh.y_label_formatter(&|v| tick_label(*v));
            }
            mesh.draw().map_err(|e| e.to_string())?;
            for (i, s) in c.series.iter().enumerate() {
                let finite: Vec<(f64, f64)> = s
                    .points
                    .iter()
                    .copied()
                    .filter(|&(x, y)| x.is_finite() && y.is_finite() && (!c.log_y || y > 0.0))
                    .collect();
                let points = envelope(&finite, &c.x_range, WIDTH as usize);
                // Thin lines for dense series, where 2-px joins smear into each other.
                let width = if points.len() > 2 * WIDTH as usize { 1 } else { 2 };
                chart
                    .draw_series(LineSeries::new(points, colour(i).stroke_width(width)))
                    .map_err(|e| e.to_string())?
                    .label(s.label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour(i).stroke_width(2)));
            }
            if !panel {
                chart
                    .configure_series_labels()
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .position(legend_corner(c.series, &c.x_range, &c.y_range, c.log_y))
                    .label_font(("sans-serif", 14))
                    .draw()
                    .map_err(|e| e.to_string())?;
            }
        }};
    }
    if c.log_y {
        draw!(builder.build_cartesian_2d(c.x_range.clone(), c.y_range.clone().log_scale()));
    } else {
        draw!(builder.build_cartesian_2d(c.x_range.clone(), c.y_range.clone()));
    }
    root.present().map_err(|e| e.to_string())
}

/// A density on a regular grid, with points drawn over it: what a flow learned, and samples.
pub struct DensityMap<'a> {
    /// x from `x_range.0` to `x_range.1`, `nx` cells.
    pub x_range: (f64, f64),
    /// y from `y_range.0` to `y_range.1`, `ny` cells.
    pub y_range: (f64, f64),
    /// Cells along x.
    pub nx: usize,
    /// Cells along y.
    pub ny: usize,
    /// Density at the cell centres, row `j` (y) by column `i` (x): `values[j * nx + i]`.
    pub values: &'a [f64],
    /// Points drawn over the map (e.g. samples); non-finite ones and those outside are skipped.
    pub points: &'a [(f64, f64)],
}

/// Shades of blue from white (zero) to dark (the map's maximum), linear in the density.
fn shade(fraction: f64) -> RGBColor {
    let f = if fraction.is_finite() {
        fraction.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let mix = |white: f64, dark: f64| (white + (dark - white) * f).round() as u8;
    RGBColor(mix(255.0, 8.0), mix(255.0, 48.0), mix(255.0, 107.0))
}

/// Draws `map` (linear shading, white = 0, dark blue = the largest finite value) with its points
/// in orange into `path` (PNG or SVG by extension), atomically.
pub fn density_map(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    map: &DensityMap<'_>,
) -> Result<(), PlotError> {
    register_fonts();
    if map.nx == 0 || map.ny == 0 || map.values.len() != map.nx * map.ny {
        return Err(PlotError::Draw {
            path: path.to_owned(),
            message: format!(
                "a {}×{} grid needs {} values, got {}",
                map.nx,
                map.ny,
                map.nx * map.ny,
                map.values.len()
            ),
        });
    }
    let x = axis_range("x", map.x_range.0, map.x_range.1, false)?;
    let y = axis_range("x", map.y_range.0, map.y_range.1, false)?; // exact, like x
    let max = map.values.iter().copied().filter(|v| v.is_finite()).fold(0.0, f64::max);
    let spec = DensitySpec {
        title,
        x_label,
        y_label,
        map,
        x,
        y,
        max,
    };
    let svg = path.extension().is_some_and(|e| e == "svg");
    liouville_base::files::write_atomic_with(path, |tmp| {
        if svg {
            draw_density(SVGBackend::new(tmp, (900, 700)).into_drawing_area(), &spec)
        } else {
            draw_density(BitMapBackend::new(tmp, (900, 700)).into_drawing_area(), &spec)
        }
    })
    .map_err(|e| plot_error(path, e))
}

struct DensitySpec<'a> {
    title: &'a str,
    x_label: &'a str,
    y_label: &'a str,
    map: &'a DensityMap<'a>,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
    max: f64,
}

fn draw_density<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    c: &DensitySpec<'_>,
) -> Result<(), String> {
    let (map, x, y, max) = (c.map, &c.x, &c.y, c.max);
    let (title, x_label, y_label) = (c.title, c.x_label, c.y_label);
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 26))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x.clone(), y.clone())
        .map_err(|e| e.to_string())?;
    let (dx, dy) = ((x.end - x.start) / map.nx as f64, (y.end - y.start) / map.ny as f64);
    chart
        .draw_series((0..map.ny).flat_map(|j| {
            (0..map.nx).map(move |i| {
                let (x0, y0) = (x.start + i as f64 * dx, y.start + j as f64 * dy);
                let fraction = if max > 0.0 {
                    map.values[j * map.nx + i] / max
                } else {
                    0.0
                };
                Rectangle::new([(x0, y0), (x0 + dx, y0 + dy)], shade(fraction).filled())
            })
        }))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_label_formatter(&|v| tick_label(*v))
        .y_label_formatter(&|v| tick_label(*v))
        .draw()
        .map_err(|e| e.to_string())?;
    let inside = |&(px, py): &(f64, f64)| x.contains(&px) && y.contains(&py);
    chart
        .draw_series(
            map.points
                .iter()
                .copied()
                .filter(inside)
                .map(|p| Circle::new(p, 2, RGBColor(230, 85, 13).filled())),
        )
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_time_series_are_drawn_as_their_envelope() {
        let points: Vec<(f64, f64)> = (0..1_000_000).map(|i| (i as f64, (i as f64 * 0.001).sin())).collect();
        let range = 0.0..1e6;
        let e = envelope(&points, &range, 100);
        assert!(e.len() <= 400, "{}", e.len());
        assert_eq!((e[0], *e.last().unwrap()), (points[0], points[points.len() - 1]));
        let (lo, hi) = points
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
        let (elo, ehi) = e
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
        assert_eq!((lo, hi), (elo, ehi), "the envelope keeps the extremes");
        assert!(e.windows(2).all(|w| w[1].0 >= w[0].0));
        // A phase portrait (x turns back) is left alone.
        let circle: Vec<(f64, f64)> = (0..10_000)
            .map(|i| ((i as f64 * 0.01).cos(), (i as f64 * 0.01).sin()))
            .collect();
        assert_eq!(envelope(&circle, &(-1.0..1.0), 100).len(), circle.len());
    }

    #[test]
    fn density_maps_shade_by_density_and_refuse_wrong_grids() {
        assert_eq!(shade(0.0), RGBColor(255, 255, 255));
        assert_eq!(shade(1.0), RGBColor(8, 48, 107));
        assert_eq!(shade(f64::NAN), RGBColor(255, 255, 255));
        let dir = std::env::temp_dir().join(format!("liouville-density-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let values: Vec<f64> = (0..12).map(f64::from).collect();
        let points = [(0.5, 0.5), (f64::NAN, 0.0), (9.0, 9.0)];
        let map = DensityMap {
            x_range: (0.0, 1.0),
            y_range: (0.0, 1.0),
            nx: 4,
            ny: 3,
            values: &values,
            points: &points,
        };
        for ext in ["png", "svg"] {
            let path = dir.join(format!("d.{ext}"));
            density_map(&path, "density", "x", "y", &map).unwrap();
            assert!(std::fs::metadata(&path).unwrap().len() > 1000);
        }
        let wrong = DensityMap { nx: 5, ..map };
        assert!(matches!(
            density_map(&dir.join("w.png"), "t", "x", "y", &wrong),
            Err(PlotError::Draw { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn ticks_colours_and_legends_are_readable() {
        assert_eq!(tick_label(1000.0), "1000");
        assert_eq!(tick_label(-3.0), "-3");
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(1.5e-7), "1.5e-7");
        assert_eq!(tick_label(2e9), "2e9");
        assert_eq!(tick_label(0.0), "0");
        // Every colour has a luminance well below white's.
        for RGBColor(r, g, b) in COLOURS {
            let luminance = (0.2126 * r as f64 + 0.7152 * g as f64 + 0.0722 * b as f64) / 255.0;
            assert!(luminance < 0.7, "({r}, {g}, {b}) is too light on white");
        }
        // A curve rising from the lower left to the upper right leaves an off-diagonal corner.
        let diagonal: Vec<(f64, f64)> = (0..=100).map(|i| (i as f64, i as f64)).collect();
        let s = [Series {
            label: "d",
            points: &diagonal,
        }];
        let corner = legend_corner(&s, &(0.0..100.0), &(0.0..100.0), false);
        assert!(matches!(
            corner,
            SeriesLabelPosition::UpperLeft | SeriesLabelPosition::LowerRight
        ));
    }

    /// Spans that overflow f64 are typed errors (issue 13: ±1e308 hung plotters); constant series
    /// far from zero and the widest finite spans still get a drawable axis.
    #[test]
    fn axis_ranges_are_drawable_or_refused() {
        assert!(matches!(
            axis_range("y", -1e308, 1e308, false),
            Err(PlotError::Range { axis: "y", .. })
        ));
        assert!(matches!(
            axis_range("y", 1e-3, 1e308, true),
            Err(PlotError::Range { .. })
        ));
        for (min, max) in [(1e300, 1e300), (-1e307, 1e307), (0.0, 0.0), (3.0, 3.0), (-2.0, 5.0)] {
            for axis in ["x", "y"] {
                let r = axis_range(axis, min, max, false).unwrap();
                assert!(
                    r.start <= min && r.end >= max && r.start < r.end,
                    "{axis} {min} {max}: {r:?}"
                );
                assert!((r.end - r.start).is_finite());
            }
        }
        assert_eq!(axis_range("x", 0.0, 10.0, false).unwrap(), 0.0..10.0);
    }

    #[test]
    fn writes_png_and_svg_atomically() {
        let dir = std::env::temp_dir().join(format!("liouville-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let points: Vec<(f64, f64)> = (1..100).map(|i| (i as f64, 1e-3 / i as f64)).collect();
        for name in ["a.png", "a.svg"] {
            let path = dir.join(name);
            log_y_chart(
                &path,
                "test",
                "t",
                "err",
                &[Series {
                    label: "line",
                    points: &points,
                }],
            )
            .unwrap();
            let bytes = std::fs::read(&path).unwrap();
            assert!(bytes.len() > 1000, "{name} is {} bytes", bytes.len());
        }
        assert!(std::fs::read(dir.join("a.png")).unwrap().starts_with(b"\x89PNG"));
        assert!(
            String::from_utf8(std::fs::read(dir.join("a.svg")).unwrap())
                .unwrap()
                .contains("<svg")
        );
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
        let err = log_y_chart(
            &dir.join("b.png"),
            "t",
            "x",
            "y",
            &[Series {
                label: "zero",
                points: &[(0.0, 0.0)],
            }],
        );
        assert!(matches!(err, Err(PlotError::Empty(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
