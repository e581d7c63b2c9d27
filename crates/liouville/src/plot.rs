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
            draw_chart(SVGBackend::new(tmp, (1100, 700)).into_drawing_area(), &spec)
        } else {
            draw_chart(BitMapBackend::new(tmp, (1100, 700)).into_drawing_area(), &spec)
        }
    })
    .map_err(|e| match e {
        liouville_base::files::AtomicWriteError::Io(source) => PlotError::Io {
            path: path.to_owned(),
            source,
        },
        liouville_base::files::AtomicWriteError::Write(message) => PlotError::Draw {
            path: path.to_owned(),
            message,
        },
    })
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
    let mut builder = ChartBuilder::on(&root);
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
            mesh.x_desc(c.x_label).y_desc(c.y_label);
            if c.log_y {
                mesh.y_label_formatter(&|v| format!("{v:.0e}"));
            }
            mesh.draw().map_err(|e| e.to_string())?;
            for (i, s) in c.series.iter().enumerate() {
                let points = s
                    .points
                    .iter()
                    .copied()
                    .filter(|&(x, y)| x.is_finite() && y.is_finite() && (!c.log_y || y > 0.0));
                chart
                    .draw_series(LineSeries::new(points, Palette99::pick(i).stroke_width(2)))
                    .map_err(|e| e.to_string())?
                    .label(s.label)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], Palette99::pick(i).stroke_width(2))
                    });
            }
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .position(SeriesLabelPosition::LowerRight)
                .label_font(("sans-serif", 14))
                .draw()
                .map_err(|e| e.to_string())?;
        }};
    }
    if c.log_y {
        draw!(builder.build_cartesian_2d(c.x_range.clone(), c.y_range.clone().log_scale()));
    } else {
        draw!(builder.build_cartesian_2d(c.x_range.clone(), c.y_range.clone()));
    }
    root.present().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

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
