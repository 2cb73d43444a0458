use minijinja::context;

use super::*;
use crate::domain::{Role, UnitCode};

fn viewer(language: Language) -> Viewer {
    Viewer {
        name: "nguyen.van.a".into(),
        role: Role::UnitHead,
        unit: Some(UnitCode::parse("STP").unwrap()),
        language,
        csrf_token: "tok".into(),
    }
}

fn render_str(source: &str, language: Language, ctx: Value) -> String {
    let mut t = Templates::new();
    t.env
        .add_template_owned("probe.html", source.to_owned())
        .unwrap();
    t.render("probe.html", &viewer(language), ctx).unwrap().0
}

#[test]
fn figures_read_the_readers_way_and_missing_ones_say_so() {
    let src = "{{ a|pct }}|{{ b|pct }}|{{ c|count }}|{{ d|points }}|{{ e|num(2) }}|{{ f|count }}";
    let ctx = context! { a => 0.9123, b => (), c => 12345, d => 78.354, e => 1.5, f => () };
    assert_eq!(
        render_str(src, Language::Vi, ctx.clone()),
        "91,2%|chưa có dữ liệu|12.345|78,35|1,50|chưa có dữ liệu"
    );
    assert_eq!(
        render_str(src, Language::En, ctx),
        "91.2%|no data yet|12,345|78.35|1.50|no data yet"
    );
}

#[test]
fn times_show_in_the_provinces_zone() {
    let out = render_str(
        "{{ at|localtime }}",
        Language::Vi,
        context! { at => "2026-12-01T01:00:00Z" },
    );
    assert_eq!(out, "01/12/2026 08:00");
}

#[test]
fn upstream_text_is_escaped_and_words_follow_the_language() {
    let ctx = context! { name => "<script>alert(1)</script> Sở Tư pháp" };
    let out = render_str(
        "{{ t('nav.findings') }} {{ name }}",
        Language::Vi,
        ctx.clone(),
    );
    assert_eq!(
        out,
        "Phát hiện &lt;script&gt;alert(1)&lt;&#x2f;script&gt; Sở Tư pháp"
    );
    let out = render_str("{{ t('nav.findings') }}", Language::En, ctx);
    assert_eq!(out, "Findings");
}

#[test]
fn a_missing_word_fails_the_render_instead_of_showing_a_key() {
    let mut t = Templates::new();
    t.env
        .add_template_owned("probe.html", "{{ t('no.such.key') }}".to_owned())
        .unwrap();
    assert!(
        t.render("probe.html", &viewer(Language::Vi), context! {})
            .is_err()
    );
}

#[test]
fn the_layout_renders_for_every_role_without_missing_words() {
    for lang in [Language::Vi, Language::En] {
        let out = render_str(
            "{% extends 'base.html' %}{% block content %}x{% endblock %}",
            lang,
            context! {},
        );
        assert!(out.contains("name=\"csrf_token\" value=\"tok\""));
        assert!(
            !out.contains("/inspections"),
            "a unit head has no inspections link"
        );
    }
}
