//! Vercel's two `pagination.next` chains (the millisecond `until` cursor, the `from`
//! continuation), the `teamId` a dock's `team_id` adds to every request, and the
//! `{"error": {code, message}}` body, against the scripted server.

use stackdock_core::FieldValue;
use stackdock_core::ProviderKind;
use stackdock_core::config::CredentialRef;
use stackdock_providers::DockContext;
use stackdock_providers::http::Pagination;

use super::*;

const VERCEL: &Declaration = &stackdock_providers::vercel::DECLARATION;

/// Items `0..n`, newest first, each created at `1_000_000 + id` ms.
fn stamped(n: u64) -> Vec<Value> {
    (0..n)
        .rev()
        .map(|i| json!({"id": i, "createdAt": 1_000_000 + i}))
        .collect()
}

/// Vercel's `until` listing: the items created before `until`, `limit` at a time; `next` the
/// last one's time while older ones remain.
fn until_script(items: Vec<Value>) -> impl Fn(usize, &Seen) -> Answer + Send + Sync {
    move |_, seen| {
        let limit: usize = seen.query["limit"].parse().expect("limit");
        let until: Option<u64> = seen.query.get("until").map(|u| u.parse().expect("until"));
        let older: Vec<&Value> = items
            .iter()
            .filter(|i| until.is_none_or(|u| i["createdAt"].as_u64().expect("time") < u))
            .collect();
        let page: Vec<&Value> = older.iter().take(limit).copied().collect();
        let next = (older.len() > page.len()).then(|| page.last().map(|i| i["createdAt"].clone()));
        ok(json!({
            "domains": page,
            "pagination": {"count": page.len(), "next": next.flatten(), "prev": null}
        }))
    }
}

#[tokio::test]
async fn vercel_until_cursor_pagination() {
    let (server, d) = serve(VERCEL, until_script(stamped(7))).await;
    let items = d
        .list_values("/v5/domains", "domains", &ListOptions::new().page_size(3))
        .await
        .expect("listed");
    assert_eq!(ids(&items), (0..7).rev().collect::<Vec<_>>());
    assert_eq!(server.count(), 3);
    let untils: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|s| s.query.get("until").cloned())
        .collect();
    assert_eq!(
        untils,
        [None, Some("1000004".into()), Some("1000001".into())]
    );
    assert!(server.requests().iter().all(|s| s.query["limit"] == "3"));

    // The default page is the largest, 100.
    let (server, d) = serve(VERCEL, until_script(stamped(2))).await;
    let items = d
        .list_values("/v5/domains", "domains", &ListOptions::new())
        .await
        .expect("listed");
    assert_eq!(items.len(), 2);
    assert_eq!(server.requests()[0].query["limit"], "100");
}

#[tokio::test]
async fn a_record_list_answered_whole_ends_and_a_string_answer_is_no_list() {
    // `{records}` without `pagination`: the whole list, one request.
    let (server, d) = serve(VERCEL, |_, _| {
        ok(json!({"records": [{"id": 1}, {"id": 2}]}))
    })
    .await;
    let items = d
        .list_values("/v4/domains/a.dev/records", "records", &ListOptions::new())
        .await
        .expect("listed");
    assert_eq!(ids(&items), [1, 2]);
    assert_eq!(server.count(), 1);

    // getRecords' third form, a plain string, holds no records: never an empty zone.
    let (_server, d) = serve(VERCEL, |_, _| ok(json!("a.dev. 60 IN A 203.0.113.1"))).await;
    let e = d
        .list_values("/v4/domains/a.dev/records", "records", &ListOptions::new())
        .await
        .expect_err("no list");
    assert_eq!(e.class, ErrorClass::Transient, "{e}");
    assert!(e.message.contains("no `records` list"), "{e}");
}

#[tokio::test]
async fn a_repeated_until_is_a_loop_and_an_empty_page_naming_a_next_is_incomplete() {
    let (server, d) = serve(VERCEL, |_, _| {
        ok(json!({"domains": [{"id": 1}], "pagination": {"count": 1, "next": 5, "prev": 9}}))
    })
    .await;
    assert_listing_fails(&d, "/v5/domains", "domains", 1, "pagination loop").await;
    assert_eq!(server.count(), 2);

    let (_server, d) = serve(VERCEL, |_, _| {
        ok(json!({"domains": [], "pagination": {"count": 0, "next": 5, "prev": null}}))
    })
    .await;
    assert_listing_fails(&d, "/v5/domains", "domains", 1, "incomplete").await;

    let (_server, d) = serve(VERCEL, |_, _| {
        ok(json!({"domains": [{"id": 1}], "pagination": {"next": {"at": 5}}}))
    })
    .await;
    assert_listing_fails(&d, "/v5/domains", "domains", 1, "neither a number").await;
}

#[tokio::test]
async fn the_from_continuation_takes_numbers_and_tokens_and_a_bare_list() {
    // Page 1 names a timestamp, page 2 a string token, page 3 ends.
    let (server, d) = serve(VERCEL, |n, _| match n {
        1 => ok(json!({"projects": [{"id": 1}], "pagination": {"count": 1, "next": 1_700_000_000_000_u64, "prev": null}})),
        2 => ok(json!({"projects": [{"id": 2}], "pagination": {"count": 1, "next": "MFRGGZDFMZTWQ2LK", "prev": null}})),
        _ => ok(json!({"projects": [{"id": 3}], "pagination": {"count": 1, "next": null, "prev": null}})),
    })
    .await;
    let opts = ListOptions::new().scheme(Pagination::Continuation { max: 100 });
    let items = d
        .list_values("/v10/projects", "projects", &opts)
        .await
        .expect("listed");
    assert_eq!(ids(&items), [1, 2, 3]);
    let froms: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|s| s.query.get("from").cloned())
        .collect();
    assert_eq!(
        froms,
        [
            None,
            Some("1700000000000".into()),
            Some("MFRGGZDFMZTWQ2LK".into())
        ]
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|s| !s.query.contains_key("until"))
    );

    // The document's union also allows the projects as a bare list.
    let (_server, d) = serve(VERCEL, |_, _| ok(json!([{"id": 4}, {"id": 5}]))).await;
    let items = d
        .list_values("/v10/projects", "projects", &opts)
        .await
        .expect("listed");
    assert_eq!(ids(&items), [4, 5]);
}

#[tokio::test]
async fn a_team_id_rides_on_every_request() {
    let server =
        Server::start(|_, _| ok(json!({"domains": [], "pagination": {"next": null}}))).await;
    let ctx = DockContext {
        org: "acme".into(),
        dock: "vercel-team".into(),
        dock_id: "acme/vercel-team".into(),
        provider: ProviderKind::Vercel,
        credential_source: CredentialRef::Env("VERCEL_TOKEN".into()),
        settings: [(
            "team_id".to_owned(),
            FieldValue::Str("team_1a2b3c4d5e6f7g8h9i0j1k2l".into()),
        )]
        .into_iter()
        .collect(),
    };
    let mut settings = DockSettings::new(&ctx, Credential::new(TOKEN), Some(&server.base));
    settings.retry = fast_retries();
    let d = DockClient::new(&http(Duration::from_secs(5)), settings);
    d.list_values("/v5/domains", "domains", &ListOptions::new())
        .await
        .expect("listed");
    let _: Value = d.get_json("/v2/user", "/v2/user", &[]).await.expect("got");
    let _: Value = d
        .post_json("/v7/domains", "/v7/domains", &json!({"name": "a.dev"}), &[])
        .await
        .expect("posted");
    let seen = server.requests();
    assert_eq!(seen.len(), 3);
    for s in &seen {
        assert_eq!(
            s.query["teamId"], "team_1a2b3c4d5e6f7g8h9i0j1k2l",
            "{}",
            s.path
        );
    }
    assert_eq!(seen[0].query["limit"], "100");

    // Without the setting, no `teamId`.
    let plain = DockSettings::new(
        &DockContext {
            settings: Default::default(),
            ..ctx
        },
        Credential::new(TOKEN),
        Some(&server.base),
    );
    assert!(plain.query.is_empty());
}

#[tokio::test]
async fn vercel_error_bodies_are_classified_with_their_code() {
    let (_server, d) = serve(VERCEL, |_, _| {
        answer(
            404,
            json!({"error": {"code": "not_found", "message": "The domain was not found."}})
                .to_string(),
        )
    })
    .await;
    let e = assert_get_fails(
        &d,
        "/v5/domains/x.dev",
        ErrorClass::NotFound,
        "was not found",
    )
    .await;
    assert!(e.message.contains("(not_found)"), "{e}");

    let (_server, d) = serve(VERCEL, |_, _| {
        answer(
            400,
            json!({"error": {"code": "invalid_name", "message": "The name is invalid."}})
                .to_string(),
        )
    })
    .await;
    assert_get_fails(&d, "/v5/domains/x", ErrorClass::Invalid, "invalid_name").await;

    // An error envelope under a 200 is the error it says.
    let (_server, d) = serve(VERCEL, |_, _| {
        ok(json!({"error": {"code": "forbidden", "message": "Not authorized"}}))
    })
    .await;
    let e = get_refused(&d, "/v2/user").await;
    assert_eq!(e.class, ErrorClass::Unauthorized, "{e}");
}
