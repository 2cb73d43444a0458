//! The shared HTTP machinery against mock upstreams speaking real HTTP
//! (wiremock): authentication, retries, rate limits, limits.

use std::time::{Duration, Instant};

use par_monitor::config::{
    AuthSettings, BaseUrl, ClientAuth, FeedMapping, HttpUrl, PaginationStyle, Secret,
    SourceSettings,
};
use par_monitor::upstream::http::SourceClient;
use par_monitor::upstream::mapping::FeedKind;
use par_monitor::upstream::{Feed, HttpFeed, PageQuery, PageToken, UpstreamError};
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn page() -> serde_json::Value {
    json!({"data": [{
        "MaHoSo": "H44.07-260803-00001", "MaTTHC": "1.001766", "DonViXuLy": "H44.07",
        "TrangThaiHoSo": 4, "NgayTiepNhan": "20260803090000", "NgayCapNhat": "20260803090000"
    }], "page": 1, "total_pages": 1})
}

/// Any GET no other mock matches (one without the expected credentials)
/// is answered 401.
async fn refuse_other_requests(server: &MockServer) {
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .with_priority(10)
        .mount(server)
        .await;
}

fn settings(server: &MockServer, auth: AuthSettings) -> SourceSettings {
    SourceSettings {
        base_url: BaseUrl::parse(&server.uri()).unwrap(),
        auth,
        retry_backoff: Duration::from_millis(10),
        retry_backoff_max: Duration::from_millis(50),
        request_timeout: Duration::from_secs(5),
        ..SourceSettings::default()
    }
}

fn feed_with(s: &SourceSettings, mapping: &FeedMapping) -> HttpFeed {
    let client = std::sync::Arc::new(SourceClient::new("procedures", s).unwrap());
    let spec = par_monitor::upstream::resolve_feed(FeedKind::Dossiers, mapping).unwrap();
    HttpFeed::new(client, s.base_url.clone(), spec, s.page_size)
}

fn feed(s: &SourceSettings) -> HttpFeed {
    feed_with(s, &FeedMapping::default())
}

fn first() -> PageQuery {
    PageQuery {
        updated_since: None,
        token: PageToken::First,
    }
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

#[tokio::test]
async fn bearer_api_key_and_basic_credentials_are_sent() {
    let cases = [
        (
            AuthSettings::Bearer {
                token: Some(Secret::new("s3cret")),
                token_file: None,
            },
            ("authorization", "Bearer s3cret"),
        ),
        (
            AuthSettings::ApiKey {
                header: "X-API-Key".into(),
                key: Some(Secret::new("k3y")),
                key_file: None,
            },
            ("x-api-key", "k3y"),
        ),
        (
            AuthSettings::Basic {
                username: "par".into(),
                password: Some(Secret::new("pw")),
                password_file: None,
            },
            // base64("par:pw")
            ("authorization", "Basic cGFyOnB3"),
        ),
    ];
    for (auth, (name, value)) in cases {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v1/dossiers"))
            .and(header(name, value))
            .respond_with(ResponseTemplate::new(200).set_body_json(page()))
            .mount(&server)
            .await;
        refuse_other_requests(&server).await;
        let page = feed(&settings(&server, auth)).fetch(&first()).await;
        assert_eq!(
            page.unwrap().map(chrono::Utc::now()).batch.len(),
            1,
            "{name}"
        );
    }
}

#[tokio::test]
async fn oauth2_tokens_are_fetched_cached_and_renewed_after_a_401() {
    let server = MockServer::start().await;
    // Client credentials go in the Basic header (client_auth = basic):
    // base64("parmon:cs") = cGFybW9uOmNz.
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .and(header("authorization", "Basic cGFybW9uOmNz"))
        .and(body_string_contains("grant_type=client_credentials"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "tok1", "expires_in": 3600})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/oauth/token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "tok2", "expires_in": 3600})),
        )
        .mount(&server)
        .await;
    // tok1 works twice, then the server revokes it.
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer tok1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page()))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer tok2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page()))
        .mount(&server)
        .await;
    refuse_other_requests(&server).await;
    let auth = AuthSettings::Oauth2 {
        token_url: HttpUrl::parse(&format!("{}/oauth/token", server.uri())).unwrap(),
        client_id: "parmon".into(),
        client_secret: Some(Secret::new("cs")),
        client_secret_file: None,
        scope: None,
        client_auth: ClientAuth::Basic,
    };
    let f = feed(&settings(&server, auth));
    for _ in 0..3 {
        f.fetch(&first()).await.unwrap();
    }
    let token_calls = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/oauth/token")
        .count();
    assert_eq!(
        token_calls, 2,
        "one token, cached, then one renewal after the 401"
    );
}

#[tokio::test]
async fn refused_credentials_are_a_misconfiguration_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    let auth = AuthSettings::Bearer {
        token: Some(Secret::new("wrong")),
        token_file: None,
    };
    let err = feed(&settings(&server, auth))
        .fetch(&first())
        .await
        .unwrap_err();
    assert!(
        matches!(err, UpstreamError::Unauthorized { status: 403, .. }),
        "{err}"
    );
    assert!(err.is_misconfiguration());
    assert!(
        !err.to_string().contains("wrong"),
        "no credential in errors: {err}"
    );
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn transient_failures_are_retried_and_permanent_ones_are_not() {
    for (status, expect_ok, expected_requests) in [
        (503, true, 3),
        (500, true, 3),
        (400, false, 1),
        (404, false, 1),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(status).set_body_string("upstream says no"))
            .up_to_n_times(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_json(page()))
            .mount(&server)
            .await;
        let result = feed(&settings(&server, AuthSettings::None))
            .fetch(&first())
            .await;
        assert_eq!(result.is_ok(), expect_ok, "HTTP {status}: {result:?}");
        assert_eq!(requests(&server).await, expected_requests, "HTTP {status}");
        if let Err(e) = result {
            let text = e.to_string();
            assert!(
                text.contains("procedures") && text.contains("/api/v1/dossiers"),
                "{text}"
            );
            assert!(
                text.contains(&status.to_string()) && text.contains("upstream says no"),
                "{text}"
            );
        }
    }
}

#[tokio::test]
async fn a_429_retry_after_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page()))
        .mount(&server)
        .await;
    let started = Instant::now();
    feed(&settings(&server, AuthSettings::None))
        .fetch(&first())
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    let times: Vec<_> = server.received_requests().await.unwrap();
    assert_eq!(times.len(), 2);

    // A Retry-After beyond max_retry_after ends the poll at once instead.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
        .mount(&server)
        .await;
    let started = Instant::now();
    let err = feed(&settings(&server, AuthSettings::None))
        .fetch(&first())
        .await
        .unwrap_err();
    assert!(
        matches!(err, UpstreamError::RateLimited { retry_after: Some(d), .. } if d.as_secs() == 3600),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn oversized_and_malformed_bodies_are_refused_clearly() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(5000)))
        .mount(&server)
        .await;
    let mut s = settings(&server, AuthSettings::None);
    s.max_response_bytes = 1000;
    let err = feed(&s).fetch(&first()).await.unwrap_err();
    assert!(err.to_string().contains("larger than 1000 bytes"), "{err}");

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"data\": [{\"MaHoSo\": "))
        .mount(&server)
        .await;
    let err = feed(&settings(&server, AuthSettings::None))
        .fetch(&first())
        .await
        .unwrap_err();
    assert!(matches!(err, UpstreamError::Malformed { .. }), "{err}");
    assert_eq!(requests(&server).await, 4, "truncated JSON is retried");

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"rows": []})))
        .mount(&server)
        .await;
    let err = feed(&settings(&server, AuthSettings::None))
        .fetch(&first())
        .await
        .unwrap_err();
    assert!(err.is_misconfiguration(), "{err}");
    assert!(
        err.to_string().contains("mapping.dossiers.records"),
        "{err}"
    );
}

#[tokio::test]
async fn next_links_may_not_leave_the_source_host() {
    let server = MockServer::start().await;
    let mut body = page();
    body["next"] = json!("http://203.0.113.9/steal");
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let mut mapping = FeedMapping::default();
    mapping.pagination.style = PaginationStyle::NextLink;
    let f = feed_with(&settings(&server, AuthSettings::None), &mapping);
    let page = f.fetch(&first()).await.unwrap();
    let next = page.next.expect("a next link");
    let err = f
        .fetch(&PageQuery {
            updated_since: None,
            token: next,
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("leaves"), "{err}");
    assert_eq!(requests(&server).await, 1, "nothing was sent elsewhere");
}
