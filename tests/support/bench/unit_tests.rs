//! Unit tests of the benchmark's report and charts: pure formatting fed with made-up samples.
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

mod report {
    use std::time::Duration;

    use crate::support::bench::report::*;
    use crate::support::bench::{Mode, Run};
    use crate::support::clouds::{CVM, ECS, ENS};

    fn run(calls: usize, describe: usize, throttled: usize, total: usize, wall_s: f64) -> Run {
        Run {
            batched_calls: calls,
            describe_calls: describe,
            throttled,
            total_calls: total,
            wall: Duration::from_secs_f64(wall_s),
            peak_rss_kib: 12 * 1024,
            ..Run::default()
        }
    }

    /// Three runs around `wall_s`, the median in the middle.
    fn sample(calls: usize, describe: usize, throttled: usize, wall_s: f64) -> Sample {
        Sample::of(vec![
            run(calls, describe, 0, calls.max(describe), wall_s + 0.5),
            run(calls, describe, throttled, calls.max(describe), wall_s),
            run(calls, describe, 0, calls.max(describe), wall_s - 0.5),
        ])
    }

    fn floor(n: usize, p: usize, wall_s: f64) -> Floor {
        Floor {
            n,
            p,
            bytes: 640,
            sample: sample(0, 0, 0, wall_s),
        }
    }

    fn prov() -> Provenance {
        Provenance {
            commit: "abc1234".into(),
            date: "2026-12-03".into(),
            runs: 3,
            terraform: "1.15.5".into(),
            machine: "2 cores, Test CPU".into(),
            emulator_flags: String::new(),
        }
    }

    fn plan_rows() -> Vec<CommandRow> {
        vec![
            CommandRow {
                cloud: CVM,
                n: 1000,
                p: 10,
                batched: sample(11, 11, 0, 6.0),
                one: sample(1000, 1000, 0, 101.0),
                state_bytes: 650,
                floor: Some(floor(1000, 10, 4.5)),
            },
            CommandRow {
                cloud: ECS,
                n: 1000,
                p: 10,
                batched: sample(31, 31, 2, 5.0),
                one: sample(1000, 1000, 0, 9.0),
                state_bytes: 640,
                floor: Some(floor(1000, 10, 4.4)),
            },
            CommandRow {
                cloud: ENS,
                n: 100,
                p: 10,
                batched: sample(100, 100, 0, 2.0),
                one: sample(100, 100, 0, 2.0),
                state_bytes: 640,
                floor: None,
            },
        ]
    }

    #[test]
    fn sample_medians_and_worst_throttling() {
        let s = sample(11, 12, 3, 6.0);
        assert_eq!(s.wall(), Duration::from_secs(6));
        assert_eq!((s.calls(), s.describe_calls(), s.throttled()), (11, 12, 3));
        assert_eq!(s.spread(), "6.50 / 6.00 / 5.50");
        assert_eq!(s.rss_mib(), 12.0);
        assert_eq!(Sample::default().wall(), Duration::ZERO);
    }

    #[test]
    fn plan_section_tables_and_targets() {
        let text = plan_section(&plan_rows(), "20", &prov(), Duration::from_secs(321));
        assert!(text
            .starts_with("## `terraform plan` (refresh) of N key pairs (emulator latency 20 ms)"));
        assert!(text.contains("_Measured at commit abc1234 on 2026-12-03: terraform 1.15.5, 2 cores, Test CPU, wall times the median of 3 runs. This section took 321 s._"));
        assert!(
            text.contains("| cvm | 1000 | 10 | 11 / 1000 / 0.01 | 0 / 0 | 6.00 (6.50 / 6.00 / 5.50) | 101.00 (101.50 / 101.00 / 100.50) | 0.06 | 4.50 (640 B; 5.00 / 4.50 / 4.00) | 1.33 / 22.44 | 12.0 / 12.0 |"),
            "{text}"
        );
        assert!(
            text.contains("| ens | 100 | 10 | 100 / 100 / 1.00 | 0 / 0 |"),
            "{text}"
        );
        assert!(
            text.contains("| not measured | n/a |"),
            "ENS row has no floor: {text}"
        );
        assert!(
            text.contains("- CVM N=1000: 11 DescribeKeyPairs calls (target ≤ 15 at N=1000): met")
        );
        assert!(text.contains(
            "- ECS N=1000: 31 DescribeKeyPairs calls (target ≤ 30 at N=1000): **missed**"
        ));
        assert!(text.contains(
            "- ECS N=1000: 2 throttled answers (target 0; one call per resource: 0): **missed**"
        ));
        assert!(text.contains(
            "- CVM N=1000: 0 throttled answers (target 0; one call per resource: 0): met"
        ));
        assert!(
            text.contains("- CVM N=1000: plan wall 6.00 s (target ≤ same-size floor 4.50 s + 2 s = 6.50 s): met"),
            "{text}"
        );
        assert!(!text.contains("- ENS"), "ENS has no call target");
        assert!(text.contains("](docs/bench/plan-calls.svg)"));
        assert!(text.contains("](docs/bench/plan-wall.svg)"));
    }

    #[test]
    fn targets_away_from_n_1000_are_informational() {
        let mut rows = plan_rows();
        for r in &mut rows {
            r.n = 30;
        }
        let text = plan_section(&rows, "20", &prov(), Duration::ZERO);
        assert!(!text.contains("**missed**"), "{text}");
        assert!(text.contains(
            "- ECS N=30: 31 DescribeKeyPairs calls (target ≤ 30 at N=1000): informational"
        ));
        let none = plan_section(&[], "20", &prov(), Duration::ZERO);
        assert!(none.contains("- not measured (no CVM or ECS run)"));
    }

    #[test]
    fn apply_section_rate_floor_target() {
        let rows = vec![
            CommandRow {
                cloud: CVM,
                n: 1000,
                p: 10,
                batched: sample(1000, 0, 0, 104.0),
                one: sample(1000, 0, 0, 105.0),
                state_bytes: 650,
                floor: Some(floor(1000, 10, 40.0)),
            },
            CommandRow {
                cloud: CVM,
                n: 1000,
                p: 100,
                batched: sample(1000, 0, 0, 116.0),
                one: sample(1000, 0, 0, 117.0),
                state_bytes: 650,
                floor: Some(floor(1000, 100, 38.0)),
            },
            CommandRow {
                cloud: ECS,
                n: 1000,
                p: 10,
                batched: sample(1000, 0, 0, 50.0),
                one: sample(1000, 0, 0, 51.0),
                state_bytes: 640,
                floor: Some(floor(1000, 10, 40.0)),
            },
        ];
        let text = apply_section(&rows, "20", &prov(), Duration::from_secs(10));
        assert!(
            text.contains("| cvm | 1000 | 10 | 1000 / 1000 | 0 / 0 | 0 / 0 | 104.00 (104.50 / 104.00 / 103.50) | 105.00 (105.50 / 105.00 / 104.50) | 100.00 | 40.00 (640 B; 40.50 / 40.00 / 39.50) | 2.60 / 2.62 | 12.0 / 12.0 |"),
            "{text}"
        );
        assert!(text.contains("| ecs | 1000 | 10 | 1000 / 1000 | 0 / 0 | 0 / 0 | 50.00"));
        assert!(text.contains("| none documented |"));
        assert!(text.contains("- CVM N=1000 parallelism 10: 0 throttled answers, wall 104.00 s (target 0 and ≤ 1.15 x 100.00 s = 115.00 s; one call per resource: 0, 105.00 s): met"), "{text}");
        assert!(text.contains("- CVM N=1000 parallelism 100: 0 throttled answers, wall 116.00 s (target 0 and ≤ 1.15 x 100.00 s = 115.00 s; one call per resource: 0, 117.00 s): **missed**"), "{text}");
        assert!(!text.contains("- ECS"), "no documented ECS rate, no target");
    }

    fn destroys() -> Destroys {
        let row = |cloud, n, p, b: Sample, one: Option<Sample>| DestroyRow {
            cloud,
            n,
            p,
            batched: b,
            one,
            state_bytes: 961,
        };
        Destroys {
            latency_ms: "20".into(),
            rows: vec![
                row(
                    CVM,
                    1000,
                    10,
                    sample(100, 11, 0, 67.0),
                    Some(sample(1000, 1000, 0, 216.0)),
                ),
                row(
                    CVM,
                    1000,
                    100,
                    sample(11, 11, 0, 57.0),
                    Some(sample(1000, 1000, 0, 215.0)),
                ),
            ],
            fast: vec![row(ECS, 1000, 10, sample(100, 20, 0, 63.0), None)],
            plain: vec![floor(1000, 10, 33.0)],
            matched: vec![floor(1000, 10, 56.0)],
        }
    }

    #[test]
    fn destroy_section_keeps_its_tables() {
        let text = destroy_section(&destroys(), &prov(), Duration::from_secs(5));
        assert!(
            text.contains("| cvm | 1000 | 100 | 11 / 1000 / 0.01 | ≤ 12.0 (met) | 11 / 1000 |"),
            "{text}"
        );
        assert!(text.contains("- CVM N=1000 parallelism 100: destroy wall time 0.265 x the one-call-per-key run (target ≤ 0.15 at N=1000): **missed**"), "{text}");
        assert!(text.contains("| 1000 | 10 | 33.00 (640 B; 33.50 / 33.00 / 32.50) | 56.00 (640 B; 56.50 / 56.00 / 55.50) | 63.00 (961 B; 63.50 / 63.00 / 62.50) | 1.91 | ≤ 1.5: **missed** | 1.12 |"), "{text}");
        assert!(
            text.contains("Largest during the N=1000 destroys: 12.0 MiB (target ≤ 30 MiB: met).")
        );
        assert!(text.contains("](docs/bench/destroy-wall.svg)"));
    }

    #[test]
    fn charts_have_one_line_per_cloud_and_mode_and_the_floor() {
        let mut rows = plan_rows();
        let mut small = rows[0].clone();
        small.n = 100;
        small.batched = sample(2, 2, 0, 1.0);
        small.one = sample(100, 100, 0, 10.0);
        small.floor = Some(floor(100, 10, 0.8));
        rows.push(small);
        let files = plan_charts(&rows);
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["plan-calls.svg", "plan-wall.svg"]);
        let (calls, wall) = (&files[0].svg, &files[1].svg);
        for label in [
            "ecs batched",
            "ecs one call per resource",
            "ens batched",
            "ens one call per resource",
            "cvm batched",
            "cvm one call per resource",
        ] {
            assert!(calls.contains(&format!(">{label}</text>")), "{label}");
            assert!(wall.contains(&format!(">{label}</text>")), "{label}");
        }
        assert!(!calls.contains("Terraform alone"));
        assert!(wall.contains(">Terraform alone (terraform_data)</text>"));
        // CVM has two sizes, so its lines are drawn; the others are single points.
        assert_eq!(calls.matches("<polyline").count(), 2);
        assert_eq!(
            wall.matches("<polyline").count(),
            3,
            "CVM twice and the floor"
        );
        assert!(calls.contains("terraform plan of N key pairs: API calls"));
        assert!(calls.contains("DescribeKeyPairs calls (log scale)"));
        let d = destroy_charts(&destroys());
        assert_eq!(d[0].name, "destroy-calls.svg");
        assert!(d[0].svg.contains(">cvm one call per resource</text>"));
        assert!(
            !d[0].svg.contains(">ecs batched</text>"),
            "the latency-0 rows are not charted"
        );
    }

    const EXISTING: &str = "<!-- bench:header -->\n# Old title\n<!-- /bench:header -->\n\n\
        <!-- bench:destroy -->\nold destroy\n<!-- /bench:destroy -->\n\n\
        <!-- bench:attachment -->\nold attachment\n<!-- /bench:attachment -->\n\n\
        <!-- bench:process -->\nold process\n<!-- /bench:process -->\n\n\
        ## Notes written by hand\n\n- keep me\n";

    #[test]
    fn merge_replaces_only_the_sections_run() {
        let fresh = vec![
            ("header", "# Benchmarks".to_string()),
            ("plan", "new plan".to_string()),
            ("apply", "new apply".to_string()),
        ];
        let doc = merge(EXISTING, &fresh);
        assert_eq!(
            doc,
            "<!-- bench:header -->\n# Benchmarks\n<!-- /bench:header -->\n\n\
             <!-- bench:destroy -->\nold destroy\n<!-- /bench:destroy -->\n\n\
             <!-- bench:plan -->\nnew plan\n<!-- /bench:plan -->\n\n\
             <!-- bench:apply -->\nnew apply\n<!-- /bench:apply -->\n\n\
             <!-- bench:attachment -->\nold attachment\n<!-- /bench:attachment -->\n\n\
             <!-- bench:process -->\nold process\n<!-- /bench:process -->\n\n\
             ## Notes written by hand\n\n- keep me\n"
        );
        // Running again replaces in place and changes nothing else.
        let again = merge(&doc, &[("plan", "newer plan\n".to_string())]);
        assert_eq!(again, doc.replace("new plan", "newer plan"));
        assert_eq!(merge(&again, &[]), again);
    }

    #[test]
    fn merge_into_an_empty_or_partial_file() {
        let doc = merge(
            "",
            &[
                ("header", "# B".to_string()),
                ("destroy", "d".to_string()),
                ("process", "p".to_string()),
            ],
        );
        assert_eq!(
            doc,
            "<!-- bench:header -->\n# B\n<!-- /bench:header -->\n\n\
             <!-- bench:destroy -->\nd\n<!-- /bench:destroy -->\n\n\
             <!-- bench:process -->\np\n<!-- /bench:process -->\n"
        );
        // No earlier section: the new one goes before the first later one.
        let partial = "intro\n\n<!-- bench:process -->\np\n<!-- /bench:process -->\n";
        let doc = merge(partial, &[("plan", "x".to_string())]);
        assert_eq!(
            doc,
            "intro\n\n<!-- bench:plan -->\nx\n<!-- /bench:plan -->\n\n\
             <!-- bench:process -->\np\n<!-- /bench:process -->\n"
        );
        // No markers at all: appended after what is there.
        assert_eq!(
            merge("hand-written\n", &[("apply", "a".to_string())]),
            "hand-written\n\n<!-- bench:apply -->\na\n<!-- /bench:apply -->\n"
        );
    }

    #[test]
    fn provenance_names_extra_emulator_flags() {
        let mut p = prov();
        p.emulator_flags = "--rate ImportKeyPair=10".into();
        p.runs = 1;
        let text = process_section(&Process::default(), &p, Duration::ZERO);
        assert!(text.contains("the median of 1 run; extra emulator flags `--rate ImportKeyPair=10` (not the emulator's defaults)."), "{text}");
        let _ = Mode::Batched;
    }
}
