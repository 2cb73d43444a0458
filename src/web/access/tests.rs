use super::*;

fn viewer(role: Role, unit: Option<&str>) -> Viewer {
    Viewer {
        name: "a".into(),
        role,
        unit: unit.map(|u| UnitCode::parse(u).unwrap()),
        language: Language::Vi,
        csrf_token: "t0k3n".into(),
    }
}

#[test]
fn each_role_reaches_what_the_issue_gives_it() {
    let sotp = UnitCode::parse("STP").unwrap();
    let syt = UnitCode::parse("SYT").unwrap();
    // (role, sees own, sees other, inspections, acts, acknowledges own, acknowledges other)
    let table = [
        (
            viewer(Role::Inspection, None),
            true,
            true,
            true,
            true,
            true,
            true,
        ),
        (
            viewer(Role::Leadership, None),
            true,
            true,
            false,
            false,
            false,
            false,
        ),
        (
            viewer(Role::UnitHead, Some("STP")),
            true,
            false,
            false,
            false,
            true,
            false,
        ),
    ];
    for (v, own, other, insp, act, ack_own, ack_other) in table {
        assert_eq!(v.sees_unit(&sotp), own, "{:?}", v.role);
        assert_eq!(v.sees_unit(&syt), other, "{:?}", v.role);
        assert_eq!(v.require_unit(&syt).is_ok(), other, "{:?}", v.role);
        assert_eq!(v.sees_inspections(), insp, "{:?}", v.role);
        assert_eq!(v.may_act(), act, "{:?}", v.role);
        assert_eq!(v.may_acknowledge(&sotp), ack_own, "{:?}", v.role);
        assert_eq!(v.may_acknowledge(&syt), ack_other, "{:?}", v.role);
    }
    assert_eq!(viewer(Role::UnitHead, Some("STP")).scope(), Some(&sotp));
    assert_eq!(viewer(Role::Leadership, None).scope(), None);
}

#[test]
fn only_the_sessions_own_token_passes_and_debug_hides_it() {
    let v = viewer(Role::Inspection, None);
    assert!(v.check_csrf("t0k3n").is_ok());
    for bad in ["", "t0k3", "t0k3n!", "T0K3N"] {
        assert!(v.check_csrf(bad).is_err(), "{bad}");
    }
    let mut empty = v.clone();
    empty.csrf_token.clear();
    assert!(empty.check_csrf("").is_err());
    assert!(!format!("{v:?}").contains("t0k3n"));
}
