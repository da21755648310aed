//! The lease that keeps two applies apart, and the intents that keep a crashed create from
//! happening twice.

use std::sync::Arc;
use std::time::Duration;

use crate::{Lease, Store, StoreError};

use super::{ORG, OTHER_ORG, at, intent, ok};

/// Lease: acquire, refusal naming the holder, renewal, expiry and takeover, loss, release, force.
pub async fn lease_lifecycle(store: Arc<dyn Store>) {
    let name = "apply/acme";
    let minute = Duration::from_secs(60);

    let alice = ok(
        store.acquire_lease(name, "alice", minute, at(0)).await,
        "acquire a free lease",
    );
    assert_eq!(
        alice,
        Lease {
            name: name.into(),
            owner: "alice".into(),
            acquired_at: at(0),
            expires_at: at(60),
        },
        "a new lease is held from now until now + ttl"
    );
    assert_eq!(
        ok(store.current_lease(name).await, "current lease"),
        Some(alice.clone()),
        "current_lease shows the holder"
    );

    match store.acquire_lease(name, "bob", minute, at(10)).await {
        Err(StoreError::LeaseHeld {
            name: held,
            owner,
            expires_at,
        }) => {
            assert_eq!(held, name, "LeaseHeld names the lease");
            assert_eq!(owner, "alice", "LeaseHeld names the holder");
            assert_eq!(expires_at, at(60), "LeaseHeld says when the lease expires");
        }
        other => panic!("a held lease must refuse another owner with LeaseHeld, got {other:?}"),
    }

    let again = ok(
        store.acquire_lease(name, "alice", minute, at(20)).await,
        "the holder acquires again",
    );
    assert_eq!(
        (again.owner.as_str(), again.expires_at),
        ("alice", at(80)),
        "acquiring a lease one holds renews it"
    );
    let renewed = ok(
        store.renew_lease(&again, minute, at(30)).await,
        "renew a held lease",
    );
    assert_eq!(
        (renewed.owner.as_str(), renewed.expires_at),
        ("alice", at(90)),
        "renew extends the lease to now + ttl"
    );

    let bob = ok(
        store.acquire_lease(name, "bob", minute, at(90)).await,
        "take over an expired lease",
    );
    assert_eq!(
        bob,
        Lease {
            name: name.into(),
            owner: "bob".into(),
            acquired_at: at(90),
            expires_at: at(150),
        },
        "an expired lease is taken over by another owner"
    );
    match store.renew_lease(&renewed, minute, at(95)).await {
        Err(StoreError::LeaseLost { name: lost, owner }) => {
            assert_eq!(
                (lost.as_str(), owner.as_str()),
                (name, "alice"),
                "LeaseLost names the lease and the owner who lost it"
            );
        }
        other => panic!("renewing a lease taken over by another must be LeaseLost, got {other:?}"),
    }
    ok(
        store.release_lease(&renewed).await,
        "releasing a lost lease is not an error",
    );
    assert_eq!(
        ok(store.current_lease(name).await, "current lease").map(|l| l.owner),
        Some("bob".to_owned()),
        "releasing a lost lease leaves the new holder's lease alone"
    );

    ok(store.release_lease(&bob).await, "release");
    assert_eq!(
        ok(store.current_lease(name).await, "current lease"),
        None,
        "a released lease is gone"
    );
    ok(
        store.release_lease(&bob).await,
        "releasing an already released lease is not an error",
    );

    let carol = ok(
        store.acquire_lease(name, "carol", minute, at(100)).await,
        "acquire after release",
    );
    assert_eq!(
        ok(store.force_release(name).await, "force release"),
        Some(carol.clone()),
        "force_release returns the lease it removed"
    );
    assert_eq!(
        ok(store.current_lease(name).await, "current lease"),
        None,
        "force_release removes the lease"
    );
    assert_eq!(
        ok(store.force_release(name).await, "force release again"),
        None,
        "force_release of a free lease returns None"
    );
    assert!(
        matches!(
            store.renew_lease(&carol, minute, at(110)).await,
            Err(StoreError::LeaseLost { .. })
        ),
        "renewing a force-released lease must be LeaseLost"
    );

    // Expired but taken by nobody: still the owner's, and nobody else can have acted on it.
    let dave = ok(
        store
            .acquire_lease(name, "dave", Duration::from_secs(10), at(200))
            .await,
        "acquire a short lease",
    );
    let late = ok(
        store.renew_lease(&dave, minute, at(300)).await,
        "renew an expired lease nobody took over",
    );
    assert_eq!(
        late.expires_at,
        at(360),
        "an expired lease nobody took over can be renewed by its owner"
    );
}

/// Many concurrent acquirers of one free lease: exactly one wins, the others are told who.
pub async fn concurrent_acquirers_exactly_one_wins(store: Arc<dyn Store>) {
    let name = "apply/race";
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let store = Arc::clone(&store);
        tasks.spawn(async move {
            let owner = format!("owner-{i}");
            (
                owner.clone(),
                store
                    .acquire_lease(name, &owner, Duration::from_secs(60), at(0))
                    .await,
            )
        });
    }
    let mut winners = Vec::new();
    let mut refused = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (owner, result) = joined.unwrap_or_else(|e| panic!("an acquirer task failed: {e}"));
        match result {
            Ok(lease) => winners.push((owner, lease)),
            Err(StoreError::LeaseHeld { owner: holder, .. }) => refused.push(holder),
            Err(other) => panic!("{owner}: a racing acquire must win or get LeaseHeld: {other}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one of 16 concurrent acquirers must win, winners: {winners:?}"
    );
    let (winner, lease) = &winners[0];
    assert_eq!(&lease.owner, winner, "the winner's lease names the winner");
    assert!(
        refused.iter().all(|holder| holder == winner),
        "every refused acquirer is told the winner ({winner}) holds it: {refused:?}"
    );
    assert_eq!(
        ok(store.current_lease(name).await, "current lease").map(|l| l.owner),
        Some(winner.clone()),
        "the stored lease is the winner's"
    );
}

/// Intents: a conditional create per (org, address), listed by address, cleared idempotently.
pub async fn intents_conditional_put_list_clear(store: Arc<dyn Store>) {
    let web2 = intent(ORG, "servers.web-2", "run-1");
    let web1 = intent(ORG, "servers.web-1", "run-1");
    ok(store.put_intent(&web2).await, "record an intent");
    ok(store.put_intent(&web1).await, "record another intent");
    assert_eq!(
        ok(store.intents(ORG).await, "list intents"),
        vec![web1.clone(), web2.clone()],
        "intents read back exactly as written, sorted by address"
    );

    let retry = intent(ORG, "servers.web-2", "run-2");
    assert!(
        matches!(store.put_intent(&retry).await, Err(StoreError::Conflict(_))),
        "a second intent for the same address must be a Conflict"
    );
    assert_eq!(
        ok(store.intents(ORG).await, "list intents"),
        vec![web1.clone(), web2.clone()],
        "a refused intent does not replace the recorded one"
    );

    let elsewhere = intent(OTHER_ORG, "servers.web-2", "run-9");
    ok(
        store.put_intent(&elsewhere).await,
        "the same address in another org is another intent",
    );
    assert_eq!(
        ok(store.intents(OTHER_ORG).await, "other org's intents"),
        vec![elsewhere],
        "intents are per org"
    );

    ok(store.clear_intent(ORG, "servers.web-2").await, "clear");
    assert_eq!(
        ok(store.intents(ORG).await, "list intents"),
        vec![web1],
        "a cleared intent is gone, the others stay"
    );
    ok(
        store.clear_intent(ORG, "servers.web-2").await,
        "clearing an absent intent is not an error",
    );
    ok(
        store.put_intent(&retry).await,
        "after clearing, an intent for the address can be recorded again",
    );
    assert_eq!(
        ok(store.intents(OTHER_ORG).await, "other org's intents").len(),
        1,
        "clearing in one org leaves another org's intent alone"
    );
}
