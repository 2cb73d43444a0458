use super::*;

const BASE: &str = "id = \"r\"\ntitle_vi = \"Quy tắc\"\ntitle_en = \"Rule\"\nsection = 2\n";

fn problem(body: &str) -> RuleError {
    let text = format!("[[rule]]\n{BASE}{body}");
    RuleSet::parse(&text, "rules.toml").expect_err(body)
}

fn ok(body: &str) -> Rule {
    let text = format!("[[rule]]\n{BASE}{body}");
    RuleSet::parse(&text, "rules.toml")
        .unwrap_or_else(|e| panic!("{e}"))
        .rules
        .remove(0)
}

#[test]
fn each_kind_parses() {
    let r = ok(
        "kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 0.95\ncritical_below = 0.9\n",
    );
    assert!(matches!(r.check, Check::Threshold { .. }));
    assert_eq!(r.min_sample, 5);
    let r = ok("kind = \"count\"\nindicator = \"late_without_apology\"\nwarning_above = 0\n");
    assert_eq!(r.min_sample, 0);
    ok("kind = \"trend\"\nindicator = \"on_time\"\ncompare = \"last_year\"\nwarning_drop = 0.05\n");
    ok("kind = \"peer_outlier\"\nindicator = \"on_time\"\nwarning_gap = 0.1\nbottom = 3\n");
    let r = ok(
        "kind = \"staleness\"\nsource = \"procedures\"\nwarning_after = \"30m\"\ncritical_after = \"2h\"\n",
    );
    assert_eq!(r.levels().critical, Some(7200.0));
    assert!(r.is_province_wide());
    ok("kind = \"score766\"\ngroup = \"PROGRESS\"\nwarning_below = 16\n");
    let r = ok(
        "kind = \"score766\"\nwarning_below = 80\ncritical_below = 50\nbreaches_to_open = 2\npasses_to_resolve = 3\nresolve_margin = 1.5\napplies_to = { kinds = [\"xa\"], exclude = [\"H44.101\"] }\n",
    );
    assert_eq!(
        r.hysteresis,
        Hysteresis {
            breaches_to_open: 2,
            passes_to_resolve: 3,
            resolve_margin: 1.5
        }
    );
    assert_eq!(r.applies_to.kinds, vec![UnitKind::Xa]);
    assert_eq!(
        (r.window, r.fallback),
        (Window::MonthToDate, None),
        "the default window"
    );
    let r = ok(
        "kind = \"score766\"\nwarning_below = 80\nwindow = \"month_to_date\"\nfallback = \"previous_month\"\n",
    );
    assert_eq!(
        (r.window, r.fallback),
        (Window::MonthToDate, Some(Window::PreviousMonth))
    );
    let r = ok(
        "kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 0.9\nwindow = \"rolling:30d\"\n",
    );
    assert_eq!(r.window, Window::Rolling { days: 30 });
}

#[test]
fn mistakes_name_the_rule_and_the_field() {
    let cases = [
        (
            "kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 95\n",
            "warning_below",
            "fraction",
        ),
        (
            "kind = \"threshold\"\nindicator = \"speed\"\nwarning_below = 0.9\n",
            "indicator",
            "unknown",
        ),
        (
            "kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 0.9\ncritical_below = 0.95\n",
            "critical_below",
            "milder",
        ),
        (
            "kind = \"threshold\"\nindicator = \"on_time\"\n",
            "warning_below",
            "at least one level",
        ),
        (
            "kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 0.9\nwarning_above = 0.2\n",
            "warning_below",
            "not both",
        ),
        (
            "kind = \"count\"\nindicator = \"late_without_apology\"\nwarning_below = 1\n",
            "warning_below",
            "not used",
        ),
        (
            "kind = \"trend\"\nindicator = \"on_time\"\ncompare = \"yesterday\"\nwarning_drop = 0.1\n",
            "compare",
            "previous_period",
        ),
        (
            "kind = \"staleness\"\nsource = \"weather\"\nwarning_after = \"1h\"\n",
            "source",
            "expected procedures",
        ),
        (
            "kind = \"staleness\"\nsource = \"reports\"\nwarning_after = \"soon\"\n",
            "warning_after",
            "duration",
        ),
        (
            "kind = \"score766\"\ngroup = \"FUN\"\nwarning_below = 80\n",
            "group",
            "PROGRESS",
        ),
        (
            "kind = \"score766\"\nsource = \"rumour\"\nwarning_below = 80\n",
            "source",
            "expected ours",
        ),
        (
            "kind = \"portal_gap\"\ngroup = \"FUN\"\nwarning_above = 2\n",
            "group",
            "PROGRESS",
        ),
        (
            "kind = \"score766\"\nwarning_below = 80\nbreaches_to_open = 0\n",
            "breaches_to_open",
            "at least 1",
        ),
        (
            "kind = \"score766\"\nwarning_below = 80\napplies_to = { kinds = [\"city\"] }\n",
            "applies_to.kinds",
            "unknown",
        ),
        ("kind = \"magic\"\n", "kind", "expected threshold"),
        (
            "kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 0.9\nwindow = \"monthly\"\n",
            "window",
            "rolling:30d",
        ),
        (
            "kind = \"threshold\"\nindicator = \"on_time\"\nwarning_below = 0.9\nwindow = \"rolling:0d\"\n",
            "window",
            "1 to 400 days",
        ),
        (
            "kind = \"score766\"\nwarning_below = 80\nfallback = \"last_month\"\n",
            "fallback",
            "previous_month",
        ),
        (
            "kind = \"score766\"\nwarning_below = 80\nwindow = \"previous_month\"\nfallback = \"previous_month\"\n",
            "fallback",
            "the same",
        ),
        (
            "kind = \"staleness\"\nsource = \"reports\"\nwarning_after = \"1h\"\nwindow = \"rolling:30d\"\n",
            "window",
            "not used",
        ),
    ];
    for (body, field, words) in cases {
        let e = problem(body);
        assert_eq!(e.file, "rules.toml");
        assert!(e.location.contains("(`r`)"), "{e}");
        assert!(e.location.contains(&format!("`{field}`")), "{body}: {e}");
        assert!(e.message.contains(words), "{body}: {e}");
    }
    let dup = format!(
        "[[rule]]\n{BASE}kind = \"score766\"\nwarning_below = 80\n[[rule]]\n{BASE}kind = \"score766\"\nwarning_below = 80\n"
    );
    assert!(
        RuleSet::parse(&dup, "rules.toml")
            .unwrap_err()
            .message
            .contains("duplicate")
    );
}
