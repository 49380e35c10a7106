//! A small SVG line chart writer for the benchmark report: two axes (linear or log), labelled
//! ticks, one polyline with point markers per series, a legend and a title. Hand-written SVG,
//! no dependencies: the charts are few and simple, and the files stay diffable text.

use std::fmt::Write as _;

/// Canvas and plot area, in SVG user units (pixels).
pub const WIDTH: f64 = 800.0;
pub const HEIGHT: f64 = 420.0;
pub const PLOT_LEFT: f64 = 80.0;
pub const PLOT_RIGHT: f64 = 520.0;
pub const PLOT_TOP: f64 = 50.0;
pub const PLOT_BOTTOM: f64 = 360.0;
pub const LEGEND_X: f64 = 540.0;

/// Colours for series, in order; readable on white and for the common colour blindnesses.
pub const PALETTE: [&str; 6] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9",
];

/// One line of the chart.
#[derive(Clone, Debug)]
pub struct Series {
    pub label: String,
    pub color: String,
    /// Drawn dashed, with hollow markers (used for the one-call-per-resource baseline), so it
    /// stays apart from a solid series where the two meet.
    pub dashed: bool,
    /// (x, y) points; drawn in x order. Points a log axis cannot show (<= 0) are left out.
    pub points: Vec<(f64, f64)>,
}

/// A line chart of one or more series.
#[derive(Clone, Debug, Default)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    pub log_y: bool,
    pub series: Vec<Series>,
}

/// One axis: maps data values in `[lo, hi]` to pixels in `[px_lo, px_hi]` (`px_hi` may be
/// smaller, as on the y axis where pixels grow downwards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    pub px_lo: f64,
    pub px_hi: f64,
}

impl Axis {
    /// An axis covering `values`: from and to the nearest 1, 2 or 5 times a power of ten on a
    /// log axis, nice round bounds from 0 on a linear one. Empty or degenerate data still gives a usable range.
    pub fn fit(values: &[f64], log: bool, px_lo: f64, px_hi: f64) -> Axis {
        let shown: Vec<f64> = values
            .iter()
            .copied()
            .filter(|v| v.is_finite() && (!log || *v > 0.0))
            .collect();
        let min = shown.iter().copied().fold(f64::INFINITY, f64::min);
        let max = shown.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (lo, hi) = if shown.is_empty() {
            if log {
                (1.0, 10.0)
            } else {
                (0.0, 1.0)
            }
        } else if log {
            let (lo, hi) = (down_125(min), up_125(max));
            if hi <= lo {
                (down_125(lo * 0.99), up_125(hi * 1.01))
            } else {
                (lo, hi)
            }
        } else {
            let hi = nice_ceiling(max.max(0.0));
            (0.0, if hi <= 0.0 { 1.0 } else { hi })
        };
        Axis {
            lo,
            hi,
            log,
            px_lo,
            px_hi,
        }
    }

    /// The pixel position of data value `v`.
    pub fn px(&self, v: f64) -> f64 {
        let t = if self.log {
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        self.px_lo + t * (self.px_hi - self.px_lo)
    }

    /// Tick values: 1, 2 and 5 times each power of ten on a log axis (only the powers of ten
    /// when it spans more than three decades), up to six round steps on a linear one.
    pub fn ticks(&self) -> Vec<f64> {
        let mut ticks = Vec::new();
        if self.log {
            let (lo, hi) = (self.lo * (1.0 - 1e-9), self.hi * (1.0 + 1e-9));
            let steps: &[f64] = if self.hi / self.lo <= 1000.0 * (1.0 + 1e-9) {
                &[1.0, 2.0, 5.0]
            } else {
                &[1.0]
            };
            let mut decade = 10f64.powf(self.lo.log10().floor());
            while decade <= hi {
                ticks.extend(
                    steps
                        .iter()
                        .map(|s| s * decade)
                        .filter(|v| (lo..=hi).contains(v)),
                );
                decade *= 10.0;
            }
        } else {
            let step = nice_step((self.hi - self.lo) / LINEAR_STEPS);
            let mut i = 0.0;
            while self.lo + i * step <= self.hi + step * 1e-9 {
                ticks.push(self.lo + i * step);
                i += 1.0;
            }
        }
        ticks
    }
}

/// The largest 1, 2 or 5 times a power of ten that is at most `v` (> 0).
fn down_125(v: f64) -> f64 {
    let decade = 10f64.powf(v.log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|m| m * decade)
        .find(|c| *c <= v * (1.0 + 1e-9))
        .unwrap_or(decade)
}

/// The smallest 1, 2 or 5 times a power of ten that is at least `v` (> 0).
fn up_125(v: f64) -> f64 {
    let decade = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * decade)
        .find(|c| *c >= v * (1.0 - 1e-9))
        .unwrap_or(10.0 * decade)
}

/// A linear axis has about this many tick steps (at most, once rounded).
const LINEAR_STEPS: f64 = 6.0;

/// The smallest 1, 2 or 5 times a power of ten that is at least `v`.
fn nice_step(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let base = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * base)
        .find(|s| *s >= v * (1.0 - 1e-9))
        .unwrap_or(10.0 * base)
}

/// A round upper bound for a linear axis reaching `max`.
fn nice_ceiling(max: f64) -> f64 {
    if max <= 0.0 {
        return 0.0;
    }
    let step = nice_step(max / LINEAR_STEPS);
    (max / step).ceil() * step
}

/// A tick label: integers as integers, fractions with at most three decimals.
pub fn tick_label(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Escapes text for SVG content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

impl Chart {
    /// The points of `series` the axes can show (finite, and positive on a log axis), in x
    /// order.
    fn shown(&self, series: &Series) -> Vec<(f64, f64)> {
        let mut points: Vec<(f64, f64)> = series
            .points
            .iter()
            .copied()
            .filter(|(a, b)| {
                a.is_finite()
                    && b.is_finite()
                    && (!self.log_x || *a > 0.0)
                    && (!self.log_y || *b > 0.0)
            })
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        points
    }

    fn all_shown(&self) -> Vec<(f64, f64)> {
        self.series.iter().flat_map(|s| self.shown(s)).collect()
    }

    /// The x axis this chart draws.
    pub fn x_axis(&self) -> Axis {
        let xs: Vec<f64> = self.all_shown().iter().map(|p| p.0).collect();
        Axis::fit(&xs, self.log_x, PLOT_LEFT, PLOT_RIGHT)
    }

    /// The y axis this chart draws.
    pub fn y_axis(&self) -> Axis {
        let ys: Vec<f64> = self.all_shown().iter().map(|p| p.1).collect();
        Axis::fit(&ys, self.log_y, PLOT_BOTTOM, PLOT_TOP)
    }

    /// The points of `series` in pixels, in x order, without those the axes cannot show.
    pub fn pixels(&self, series: &Series) -> Vec<(f64, f64)> {
        let (x, y) = (self.x_axis(), self.y_axis());
        self.shown(series)
            .into_iter()
            .map(|(a, b)| (x.px(a), y.px(b)))
            .collect()
    }

    /// The whole chart as a standalone SVG document.
    pub fn svg(&self) -> String {
        let (x, y) = (self.x_axis(), self.y_axis());
        let mut s = String::new();
        let _ = writeln!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
             viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"12\">"
        );
        let _ = writeln!(s, "<title>{}</title>", escape(&self.title));
        let _ = writeln!(
            s,
            "<rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"white\"/>"
        );
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"28\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{}</text>",
            WIDTH / 2.0,
            escape(&self.title)
        );
        // Grid and ticks.
        let _ = writeln!(s, "<g stroke=\"#dddddd\" stroke-width=\"1\">");
        for t in x.ticks() {
            let px = x.px(t);
            let _ = writeln!(
                s,
                "<line x1=\"{px:.1}\" y1=\"{PLOT_TOP}\" x2=\"{px:.1}\" y2=\"{PLOT_BOTTOM}\"/>"
            );
        }
        for t in y.ticks() {
            let py = y.px(t);
            let _ = writeln!(
                s,
                "<line x1=\"{PLOT_LEFT}\" y1=\"{py:.1}\" x2=\"{PLOT_RIGHT}\" y2=\"{py:.1}\"/>"
            );
        }
        let _ = writeln!(s, "</g>");
        let _ = writeln!(s, "<g text-anchor=\"middle\">");
        for t in x.ticks() {
            let _ = writeln!(
                s,
                "<text x=\"{:.1}\" y=\"{}\">{}</text>",
                x.px(t),
                PLOT_BOTTOM + 18.0,
                tick_label(t)
            );
        }
        let _ = writeln!(s, "</g>");
        let _ = writeln!(s, "<g text-anchor=\"end\">");
        for t in y.ticks() {
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{:.1}\">{}</text>",
                PLOT_LEFT - 6.0,
                y.px(t) + 4.0,
                tick_label(t)
            );
        }
        let _ = writeln!(s, "</g>");
        // Axes and their labels.
        let _ = writeln!(
            s,
            "<path d=\"M{PLOT_LEFT} {PLOT_TOP} V{PLOT_BOTTOM} H{PLOT_RIGHT}\" fill=\"none\" stroke=\"black\"/>"
        );
        let scale = |log: bool| if log { " (log scale)" } else { "" };
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}{}</text>",
            (PLOT_LEFT + PLOT_RIGHT) / 2.0,
            PLOT_BOTTOM + 42.0,
            escape(&self.x_label),
            scale(self.log_x)
        );
        let mid = (PLOT_TOP + PLOT_BOTTOM) / 2.0;
        let _ = writeln!(
            s,
            "<text x=\"20\" y=\"{mid}\" text-anchor=\"middle\" transform=\"rotate(-90 20 {mid})\">{}{}</text>",
            escape(&self.y_label),
            scale(self.log_y)
        );
        // Series.
        for series in &self.series {
            let points = self.pixels(series);
            let dash = if series.dashed {
                " stroke-dasharray=\"7 4\""
            } else {
                ""
            };
            let _ = writeln!(s, "<g class=\"series\">");
            let _ = writeln!(s, "<title>{}</title>", escape(&series.label));
            if points.len() > 1 {
                let list: Vec<String> = points
                    .iter()
                    .map(|(a, b)| format!("{a:.1},{b:.1}"))
                    .collect();
                let _ = writeln!(
                    s,
                    "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash}/>",
                    list.join(" "),
                    escape(&series.color)
                );
            }
            for (a, b) in &points {
                let _ = writeln!(s, "{}", marker(*a, *b, series));
            }
            let _ = writeln!(s, "</g>");
        }
        // Legend.
        let _ = writeln!(s, "<g class=\"legend\">");
        for (i, series) in self.series.iter().enumerate() {
            let ly = PLOT_TOP + 10.0 + 22.0 * i as f64;
            let dash = if series.dashed {
                " stroke-dasharray=\"7 4\""
            } else {
                ""
            };
            let _ = writeln!(
                s,
                "<line x1=\"{LEGEND_X}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{}\" stroke-width=\"2\"{dash}/>",
                LEGEND_X + 28.0,
                escape(&series.color)
            );
            let _ = writeln!(s, "{}", marker(LEGEND_X + 14.0, ly, series));
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{}\">{}</text>",
                LEGEND_X + 36.0,
                ly + 4.0,
                escape(&series.label)
            );
        }
        let _ = writeln!(s, "</g>");
        s.push_str("</svg>\n");
        s
    }
}

/// A point marker: filled for a solid series, hollow for a dashed one.
fn marker(x: f64, y: f64, series: &Series) -> String {
    let colour = escape(&series.color);
    if series.dashed {
        format!(
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"white\" stroke=\"{colour}\" stroke-width=\"2\"/>"
        )
    } else {
        format!("<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{colour}\"/>")
    }
}
