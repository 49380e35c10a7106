//! Unit tests of the benchmark's charts: pure formatting fed with made-up samples.
//! Included by `tests/acc_bench_smoke.rs` only (`#[path]`), so they run once, not in every test
//! binary that uses `tests/support`.

mod chart {
    use crate::support::bench::chart::*;

    /// Checks that every element opened is closed in order, and returns the tag names seen.
    fn well_formed(svg: &str) -> Vec<String> {
        let mut stack: Vec<String> = Vec::new();
        let mut seen = Vec::new();
        let mut rest = svg;
        while let Some(start) = rest.find('<') {
            let end = rest[start..].find('>').expect("unterminated tag") + start;
            let tag = &rest[start + 1..end];
            assert!(!tag.contains('<'), "'<' inside a tag: {tag}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
            } else {
                let name: String = tag
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '/')
                    .collect();
                seen.push(name.clone());
                if !tag.ends_with('/') {
                    stack.push(name);
                }
            }
            // Text between tags must not hold a raw '&' that is not an entity.
            let text_end = rest[end..].find('<').map_or(rest.len(), |i| i + end);
            let text = &rest[end + 1..text_end];
            for (i, _) in text.match_indices('&') {
                assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;"]
                        .iter()
                        .any(|e| text[i..].starts_with(e)),
                    "raw & in {text:?}"
                );
            }
            rest = &rest[end + 1..];
        }
        assert!(stack.is_empty(), "unclosed elements: {stack:?}");
        seen
    }

    fn chart() -> Chart {
        Chart {
            title: "plan: DescribeKeyPairs calls <per> N & more".into(),
            x_label: "N".into(),
            y_label: "calls".into(),
            log_x: true,
            log_y: true,
            series: vec![
                Series {
                    label: "cvm batched".into(),
                    color: PALETTE[0].into(),
                    dashed: false,
                    points: vec![(1000.0, 11.0), (100.0, 2.0)],
                },
                Series {
                    label: "cvm one call".into(),
                    color: PALETTE[1].into(),
                    dashed: true,
                    points: vec![(100.0, 100.0), (1000.0, 1000.0), (10.0, 0.0)],
                },
            ],
        }
    }

    #[test]
    fn svg_is_well_formed_with_one_line_per_series() {
        let c = chart();
        let svg = c.svg();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        let tags = well_formed(&svg);
        assert_eq!(tags.iter().filter(|t| *t == "svg").count(), 1);
        assert_eq!(tags.iter().filter(|t| *t == "polyline").count(), 2);
        // Two points each (the zero on a log axis is left out), and one per legend entry.
        assert_eq!(tags.iter().filter(|t| *t == "circle").count(), 4 + 2);
        assert_eq!(
            svg.matches("fill=\"white\" stroke=").count(),
            2 + 1,
            "hollow baseline"
        );
        assert!(svg.contains("stroke-dasharray"), "the baseline is dashed");
        assert!(svg.contains("&lt;per&gt; N &amp; more"), "title escaped");
        assert!(svg.contains(">cvm batched</text>"), "legend");
        assert!(svg.contains("(log scale)"));
    }

    #[test]
    fn log_axis_bounds_at_1_2_5_and_scales_logarithmically() {
        let a = Axis::fit(&[1.0, 1000.0, 0.0, -1.0], true, 0.0, 300.0);
        assert_eq!((a.lo, a.hi), (1.0, 1000.0));
        assert!((a.px(1.0) - 0.0).abs() < 1e-9);
        assert!((a.px(10.0) - 100.0).abs() < 1e-9);
        assert!((a.px(100.0) - 200.0).abs() < 1e-9);
        assert!((a.px(1000.0) - 300.0).abs() < 1e-9);
        assert_eq!(a.ticks().len(), 10, "1, 2, 5 per decade: {:?}", a.ticks());
        // Bounds are the nearest 1, 2 or 5 times a power of ten outside the data.
        let b = Axis::fit(&[3.0, 40.0], true, 0.0, 1.0);
        assert_eq!((b.lo, b.hi), (2.0, 50.0));
        assert_eq!(b.ticks(), vec![2.0, 5.0, 10.0, 20.0, 50.0]);
        let sub = Axis::fit(&[0.34, 3.5], true, 0.0, 1.0);
        assert_eq!((sub.lo, sub.hi), (0.2, 5.0));
        // More than three decades: powers of ten only.
        let wide = Axis::fit(&[1.0, 20000.0], true, 0.0, 1.0);
        assert_eq!(wide.ticks(), vec![1.0, 10.0, 100.0, 1000.0, 10000.0]);
        // One value still gets a range around it.
        let c = Axis::fit(&[100.0], true, 0.0, 1.0);
        assert_eq!((c.lo, c.hi), (50.0, 200.0));
    }

    #[test]
    fn linear_axis_starts_at_zero_with_round_ticks() {
        let a = Axis::fit(&[3.2, 117.0], false, 360.0, 50.0);
        assert_eq!((a.lo, a.hi), (0.0, 120.0));
        assert_eq!(a.ticks(), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0, 120.0]);
        // Pixels grow downwards on y: 0 at the bottom, the top value at the top.
        assert!((a.px(0.0) - 360.0).abs() < 1e-9);
        assert!((a.px(120.0) - 50.0).abs() < 1e-9);
        assert!((a.px(60.0) - 205.0).abs() < 1e-9);
        let empty = Axis::fit(&[], false, 0.0, 1.0);
        assert_eq!((empty.lo, empty.hi), (0.0, 1.0));
    }

    #[test]
    fn polyline_points_are_the_scaled_data_in_x_order() {
        let c = chart();
        let (x, y) = (c.x_axis(), c.y_axis());
        assert_eq!((x.lo, x.hi), (100.0, 1000.0));
        assert_eq!((y.lo, y.hi), (2.0, 1000.0));
        let px = c.pixels(&c.series[0]);
        assert_eq!(px.len(), 2);
        assert!((px[0].0 - PLOT_LEFT).abs() < 1e-9, "N=100 at the left edge");
        assert!(
            (px[1].0 - PLOT_RIGHT).abs() < 1e-9,
            "N=1000 at the right edge"
        );
        // y = 2 is the bottom edge; y = 11 sits log(11/2) / log(1000/2) of the way up.
        assert!((px[0].1 - PLOT_BOTTOM).abs() < 1e-9);
        let up = (11f64 / 2.0).log10() / (1000f64 / 2.0).log10();
        assert!((px[1].1 - (PLOT_BOTTOM - up * (PLOT_BOTTOM - PLOT_TOP))).abs() < 1e-9);
        // The SVG carries exactly those coordinates.
        let svg = c.svg();
        let expected = format!(
            "points=\"{:.1},{:.1} {:.1},{:.1}\"",
            px[0].0, px[0].1, px[1].0, px[1].1
        );
        assert!(svg.contains(&expected), "{expected} not in {svg}");
        // The one-call line tops out at the top of the plot.
        let top = c.pixels(&c.series[1]);
        assert!((top[1].1 - PLOT_TOP).abs() < 1e-9);
    }

    #[test]
    fn tick_labels() {
        assert_eq!(tick_label(1000.0), "1000");
        assert_eq!(tick_label(0.5), "0.5");
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(2.0), "2");
    }
}
