use super::*;

#[test]
fn the_draw_form_reads_its_fields_and_a_missing_token_is_empty() {
    let f = crate::web::form::parse::<DrawForm>(
        b"count=3&seed=42&reason=Ki%E1%BB%83m+tra+qu%C3%BD&csrf_token=abc&x=1",
    )
    .unwrap();
    assert_eq!(
        (f.count.as_str(), f.seed.as_str(), f.csrf_token.as_str()),
        ("3", "42", "abc")
    );
    assert_eq!(f.reason, "Kiểm tra quý");
    let f = crate::web::form::parse::<DrawForm>(b"count=3").unwrap();
    assert_eq!(f.csrf_token, "");
}

#[test]
fn a_draw_request_names_the_field_that_is_wrong() {
    let form = |count: &str, seed: &str, reason: &str| DrawForm {
        count: count.into(),
        seed: seed.into(),
        reason: reason.into(),
        csrf_token: "t".into(),
    };
    let table = [
        (form("3", "42", "quý IV"), Ok((3, Some(42), "quý IV"))),
        (form("", "", "  "), Ok((5, None, DEFAULT_REASON))),
        (form("0", "", ""), Err("count:")),
        (form("ba", "", ""), Err("count:")),
        (form("2", "-1", ""), Err("seed:")),
        (form("2", "18446744073709551616", ""), Err("seed:")),
    ];
    for (f, expected) in table {
        match (f.request(), expected) {
            (Ok((c, s, r)), Ok((ec, es, er))) => assert_eq!((c, s, r.as_str()), (ec, es, er)),
            (Err(WebError::BadRequest(m)), Err(prefix)) => assert!(m.starts_with(prefix), "{m}"),
            (got, want) => panic!("{f:?}: got {got:?}, expected {want:?}"),
        }
    }
}
