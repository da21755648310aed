//! Paging the inventory (`Store::inventory_page`, issue 20 item 4).

use std::sync::Arc;

use stackdock_core::record::{RecordKey, dock_id};
use stackdock_core::{Kind, Record};

use super::{ORG, OTHER_ORG, at, dock_sync, full_record, listing, ok};
use crate::{PageRequest, Store};

/// Pages of every size walk each record of the org exactly once, in `inventory`'s order, never
/// more than `limit` at a time; the dock and kind filters hold; another org's records never show.
pub async fn inventory_pages_walk_every_record_once_in_order(store: Arc<dyn Store>) {
    let a = dock_id(ORG, "a-vultr");
    let b = dock_id(ORG, "b-empty");
    let c = dock_id(ORG, "c-linode");
    let theirs = dock_id(OTHER_ORG, "b-other");
    // (org, dock, how many records of each kind).
    type Dock<'a> = (&'a str, &'a str, &'a [(Kind, usize)]);
    let fleet: [Dock<'_>; 4] = [
        (ORG, &a, &[(Kind::Servers, 5), (Kind::BlockVolumes, 3)]),
        (ORG, &b, &[]),
        (
            ORG,
            &c,
            &[
                (Kind::Servers, 2),
                (Kind::Buckets, 4),
                (Kind::BlockVolumes, 2),
                (Kind::Databases, 1),
            ],
        ),
        (OTHER_ORG, &theirs, &[(Kind::Servers, 3)]),
    ];
    for (org, dock, kinds) in fleet {
        let listings = Kind::ALL
            .into_iter()
            .map(|kind| {
                let n = kinds
                    .iter()
                    .find(|(k, _)| *k == kind)
                    .map_or(0, |(_, n)| *n);
                let records = (0..n)
                    .map(|i| full_record(kind, org, dock, &format!("id-{i:02}")))
                    .collect();
                listing(kind, records, true)
            })
            .collect();
        ok(
            store
                .commit_sync(dock_sync(org, dock, at(0), listings))
                .await,
            "commit a dock's sync",
        );
    }
    let everything: Vec<RecordKey> = ok(store.inventory(ORG, None).await, "inventory")
        .iter()
        .map(Record::key)
        .collect();
    assert_eq!(everything.len(), 17);

    for limit in [1, 2, 3, 7, 17, 100] {
        let walked = walk(store.as_ref(), None, None, limit).await;
        assert_eq!(
            walked, everything,
            "pages of {limit} walk the org's inventory once, in (dock, kind, id) order"
        );
    }
    let servers_of_c = walk(store.as_ref(), Some(&c), Some(Kind::Servers), 1).await;
    let expected: Vec<RecordKey> = everything
        .iter()
        .filter(|k| k.dock_id == c && k.kind == Kind::Servers)
        .cloned()
        .collect();
    assert_eq!(servers_of_c, expected, "the dock and kind filters hold");
    assert_eq!(expected.len(), 2);
    let none = walk(store.as_ref(), Some(&theirs), None, 10).await;
    assert!(
        none.is_empty(),
        "another org's dock shows nothing: {none:?}"
    );
}

/// Every page until `next` is `None`, checking each holds at most `limit` records.
async fn walk(
    store: &dyn Store,
    dock: Option<&str>,
    kind: Option<Kind>,
    limit: usize,
) -> Vec<RecordKey> {
    let mut request = PageRequest {
        dock_id: dock.map(str::to_owned),
        kind,
        after: None,
        limit,
    };
    let mut keys = Vec::new();
    for _ in 0..100 {
        let page = ok(store.inventory_page(ORG, &request).await, "read a page");
        assert!(
            page.records.len() <= limit,
            "a page of limit {limit} held {}",
            page.records.len()
        );
        assert!(
            page.next.is_none() || page.records.len() == limit,
            "only a full page says more follows"
        );
        assert!(
            !page.records.is_empty() || request.after.is_none(),
            "no page after the first is empty: a page says more follows only when it does"
        );
        keys.extend(page.records.iter().map(Record::key));
        match page.next {
            Some(next) => request.after = Some(next),
            None => return keys,
        }
    }
    panic!("pages of {limit} never ended: {keys:?}");
}
