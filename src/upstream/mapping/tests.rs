use super::*;
use sonic_rs::json;

#[test]
fn json_paths_reach_nested_values_and_treat_null_as_absent() {
    let v = json!({"a": {"b": [{"c": 1}, {"c": null}]}, "d": "x"});
    assert_eq!(
        JsonPath::parse("a.b[0].c").unwrap().get(&v),
        Some(&json!(1))
    );
    assert_eq!(JsonPath::parse("a.b[1].c").unwrap().get(&v), None);
    assert_eq!(JsonPath::parse("d").unwrap().get(&v), Some(&json!("x")));
    assert_eq!(JsonPath::parse("").unwrap().get(&v), Some(&v));
    for bad in ["a..b", "a[x]", "a[1", "a[1]b"] {
        assert!(JsonPath::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn date_patterns_read_local_time() {
    let tz = crate::time::LOCAL_TZ;
    let cases = [
        (
            "yyyyMMddHHmmss",
            json!("20260803090000"),
            "2026-08-03T02:00:00+00:00",
        ),
        (
            "dd/MM/yyyy HH:mm:ss",
            json!("03/08/2026 09:00:00"),
            "2026-08-03T02:00:00+00:00",
        ),
        (
            "yyyy-MM-dd'T'HH:mm:ssXXX",
            json!("2026-08-03T09:00:00+07:00"),
            "2026-08-03T02:00:00+00:00",
        ),
        (
            "rfc3339",
            json!("2026-08-03T02:00:00Z"),
            "2026-08-03T02:00:00+00:00",
        ),
        ("unix", json!(1785722400), "2026-08-03T02:00:00+00:00"),
        (
            "unix_ms",
            json!("1785722400000"),
            "2026-08-03T02:00:00+00:00",
        ),
    ];
    for (pattern, input, expected) in cases {
        let codec = DateCodec::parse(pattern, tz).unwrap();
        let t = codec
            .decode(&input)
            .unwrap_or_else(|| panic!("{pattern} {input}"));
        assert_eq!(t.to_rfc3339(), expected, "{pattern}");
        assert_eq!(
            codec.decode(&Value::from(codec.encode(t).as_str())),
            Some(t),
            "{pattern} round trip"
        );
    }
    assert!(DateCodec::parse("yyyy-QQ", tz).is_err());
    // The fast path for the default format agrees with chrono's parser,
    // on good dates and on impossible ones.
    let fast = DateCodec::parse("yyyyMMddHHmmss", tz).unwrap();
    let mut slow = fast.clone();
    if let DateCodec::Pattern { compact, .. } = &mut slow {
        *compact = false;
    }
    assert_ne!(fast, slow);
    assert!(fast.decode(&json!("20240229235959")).is_some());
    for text in [
        "20260803090000",
        "20240229235959",
        "20250229000000",
        "20261301000000",
        "20260803240000",
        "20260803086000",
        "00010101000000",
        "2026080309000",
        "2026-08-03 09:0",
    ] {
        assert_eq!(
            fast.decode(&json!(text)),
            slow.decode(&json!(text)),
            "{text}"
        );
    }
    let c = DateCodec::parse("yyyyMMddHHmmss", tz).unwrap();
    assert_eq!(c.decode(&json!("2026-08-03")), None);
}
