//! Lower bounds: the least any client could do for the same work, from the providers' pagination
//! and rate limits and the sandbox's latency. Pure arithmetic, unit-tested.

use std::time::Duration;

use stackdock_core::{Kind, ProviderKind};

/// The largest page each provider serves for a kind. Vultr's `/databases` is not paginated (its
/// operation declares no `per_page` or `cursor`): one response holds them all. Cloudflare
/// documents a maximum per list: zones 50, DNS records 5,000,000, R2 buckets 1,000, D1
/// databases 10,000 ([cf-spec] `per_page`).
pub fn page_size(p: ProviderKind, kind: Kind) -> usize {
    match (p, kind) {
        (ProviderKind::Vultr, Kind::Databases) => usize::MAX,
        (ProviderKind::Vultr | ProviderKind::Linode, _) => 500,
        (ProviderKind::DigitalOcean, _) => 200,
        // [vercel-tf] client/dns_record.go: 100 is the largest `limit`; projects too
        // (provider-apis-2.md §1.2).
        (ProviderKind::Vercel, _) => 100,
        (ProviderKind::Cloudflare, Kind::DomainRecords) => 5_000_000,
        (ProviderKind::Cloudflare, Kind::Buckets) => 1_000,
        (ProviderKind::Cloudflare, Kind::Databases) => 10_000,
        // Pages projects (and Workers scripts): one whole answer ([cf-go] `SinglePage`).
        (ProviderKind::Cloudflare, Kind::WebServices) => usize::MAX,
        (ProviderKind::Cloudflare, _) => 50,
    }
}

/// The R2 jurisdictions a bucket listing covers: `default`, `eu`, `fedramp`.
pub const R2_JURISDICTIONS: usize = 3;

/// Pages to list `n` items: every collection costs at least one request, even when empty.
pub fn pages(n: usize, page: usize) -> usize {
    n.div_ceil(page).max(1)
}

/// One collection a complete sync must list.
#[derive(Debug, Clone, Copy)]
pub struct Listing {
    pub provider: ProviderKind,
    pub kind: Kind,
    pub items: usize,
}

impl Listing {
    /// A child kind (DNS records) is listed per parent: none listed is no request (the fleet's
    /// records live in one zone, which exists only when it holds some).
    pub fn pages(&self) -> usize {
        if self.kind.parent().is_some() && self.items == 0 {
            return 0;
        }
        let pages = pages(self.items, page_size(self.provider, self.kind));
        // R2 lists each jurisdiction on its own (the `cf-r2-jurisdiction` header): the fleet's
        // buckets are in the default one, and `eu` and `fedramp` cost a page each.
        if (self.provider, self.kind) == (ProviderKind::Cloudflare, Kind::Buckets) {
            return pages + R2_JURISDICTIONS - 1;
        }
        // Cloudflare's web services are two collections listed side by side: the Pages
        // projects and the read-only Workers scripts (one whole answer, empty in the fleet).
        if (self.provider, self.kind) == (ProviderKind::Cloudflare, Kind::WebServices) {
            return pages + 1;
        }
        pages
    }

    /// Critical path of this listing at `latency`: a cursor (Vultr's, Vercel's `until`) must be
    /// followed page by page (R2's too, per jurisdiction); with page numbers, page 1 tells the count and every later page can
    /// go out at once.
    pub fn critical_path(&self, latency: Duration) -> Duration {
        if (self.provider, self.kind) == (ProviderKind::Cloudflare, Kind::Buckets) {
            // R2's cursor is followed page by page, each jurisdiction's chain beside the others.
            let chain = pages(self.items, page_size(self.provider, self.kind));
            return latency * chain as u32;
        }
        if (self.provider, self.kind) == (ProviderKind::Cloudflare, Kind::WebServices) {
            // Two whole answers, asked at once.
            return latency;
        }
        let pages = self.pages();
        match self.provider {
            ProviderKind::Vultr | ProviderKind::Vercel => latency * pages as u32,
            ProviderKind::DigitalOcean | ProviderKind::Linode | ProviderKind::Cloudflare => {
                latency * if pages == 1 { 1 } else { 2 }
            }
        }
    }
}

/// The collections of a fleet: each (provider, kind) with its items, plus DigitalOcean's GPU
/// droplets, which `GET /droplets` omits and `GET /droplets?type=gpus` lists (empty here), and
/// every collection of a dock that the spread leaves empty (one page each): the DNS zones of
/// every provider that hosts DNS (the one zone the fleet's records of that provider live in, or
/// none when it has no records).
pub fn listings(spread: &[(ProviderKind, Kind, usize)]) -> Vec<Listing> {
    let mut out: Vec<Listing> = spread
        .iter()
        .map(|(p, k, n)| Listing {
            provider: *p,
            kind: *k,
            items: *n,
        })
        .collect();
    out.push(Listing {
        provider: ProviderKind::DigitalOcean,
        kind: Kind::Servers,
        items: 0,
    });
    // Every other collection a dock lists is empty: one page each. The zone of a DNS provider
    // holds the fleet's generated records when it has some.
    for p in ProviderKind::ALL {
        for &kind in p.kinds() {
            let listed = spread.iter().any(|(q, k, _)| *q == p && *k == kind);
            if listed || kind.parent().is_some() {
                continue;
            }
            let records = kind == Kind::Domains
                && spread
                    .iter()
                    .any(|(q, k, n)| *q == p && *k == Kind::DomainRecords && *n > 0);
            out.push(Listing {
                provider: p,
                kind,
                items: usize::from(records),
            });
        }
    }
    out
}

/// Requests a dock's first complete sync adds to read the provider's catalog, which the sync
/// stores for a day (issue 21 part 5): four listings of one page each in the sandbox — Vultr
/// regions, plans, operating systems and applications; DigitalOcean regions, sizes, images and
/// 1-Clicks; Linode regions, types, images and StackScripts. Later syncs that day add none.
pub fn catalog_requests(p: ProviderKind) -> usize {
    match p {
        ProviderKind::Vultr | ProviderKind::DigitalOcean | ProviderKind::Linode => 4,
        ProviderKind::Vercel | ProviderKind::Cloudflare => 0,
    }
}

/// Requests a complete (first) sync needs: Σ pages over the listings, plus one credential check
/// and the catalog reads per dock.
pub fn sync_requests(listings: &[Listing]) -> usize {
    listings.iter().map(Listing::pages).sum::<usize>()
        + ProviderKind::ALL
            .iter()
            .map(|p| 1 + catalog_requests(*p))
            .sum::<usize>()
}

/// Requests per dock.
pub fn requests_of(listings: &[Listing], p: ProviderKind) -> usize {
    listings
        .iter()
        .filter(|l| l.provider == p)
        .map(Listing::pages)
        .sum::<usize>()
        + 1
        + catalog_requests(p)
}

/// The earliest the last of `requests` can be sent under "at most `limit` per `window`".
pub fn rate_delay(requests: usize, limit: usize, window: Duration) -> Duration {
    if requests == 0 || limit == 0 {
        return Duration::ZERO;
    }
    window * ((requests - 1) / limit) as u32
}

/// A published request rate of each provider as the sandbox enforces it, if any applies to reads.
pub fn read_limit(p: ProviderKind) -> Option<(usize, Duration)> {
    match p {
        ProviderKind::Vultr => Some((30, Duration::from_secs(1))),
        ProviderKind::DigitalOcean => Some((250, Duration::from_secs(60))),
        // Vercel's read limits are per team and drive the headers, not a sandbox bucket.
        ProviderKind::Linode | ProviderKind::Vercel | ProviderKind::Cloudflare => None,
    }
}

/// The sync's wall-time bound and what sets it: the longest critical path (all docks and kinds
/// run concurrently; the credential check goes out with them), or a rate limit when that is longer.
pub fn sync_wall(listings: &[Listing], latency: Duration) -> (Duration, String) {
    let path = listings
        .iter()
        .map(|l| path_of(listings, l, latency))
        .max()
        .unwrap_or(latency)
        .max(latency);
    let mut bound = (path, "latency (critical path)".to_owned());
    for p in ProviderKind::ALL {
        if let Some((limit, window)) = read_limit(p) {
            let t = rate_delay(requests_of(listings, p), limit, window) + latency;
            if t > bound.0 {
                bound = (
                    t,
                    format!("{p} rate limit ({limit} per {}s)", window.as_secs()),
                );
            }
        }
    }
    bound
}

/// Critical path of `l` within its dock's sync: a child kind (DNS records) is listed within its
/// parent's listing (the zones), so its path starts where the parent's ends.
fn path_of(listings: &[Listing], l: &Listing, latency: Duration) -> Duration {
    let own = l.critical_path(latency);
    if l.pages() == 0 {
        return own;
    }
    let parent = l.kind.parent().and_then(|parent| {
        listings
            .iter()
            .find(|p| p.provider == l.provider && p.kind == parent)
    });
    own + parent.map_or(Duration::ZERO, |p| p.critical_path(latency))
}

/// The least wall time any schedule of a sync's measured CPU work could take on `cores` cores:
/// nothing can be decoded or written before the first answers arrive, one `latency` after the
/// start, and from then on at most `cores` cores work. Not a bound on the engine (its CPU is what
/// it is), but what tells a latency-bound run from a CPU-bound one: when this is above the
/// latency bound, no reordering of the same work can reach it; only less CPU per record (or more
/// cores) can.
pub fn cpu_floor(latency: Duration, cpu: Duration, cores: usize) -> Duration {
    latency + cpu / u32::try_from(cores.max(1)).unwrap_or(u32::MAX)
}

/// Cores this process may use (1 if the platform cannot tell).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Terraform-style refresh model: one GET per resource, `parallelism` in flight.
pub fn terraform_model(
    resources: usize,
    parallelism: usize,
    latency: Duration,
) -> (usize, Duration) {
    (
        resources,
        latency * resources.div_ceil(parallelism.max(1)) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_count_empty_collections_once() {
        assert_eq!(pages(0, 500), 1);
        assert_eq!(pages(500, 500), 1);
        assert_eq!(pages(501, 500), 2);
        assert_eq!(pages(2_000, 200), 10);
        let databases = Listing {
            provider: ProviderKind::Vultr,
            kind: Kind::Databases,
            items: 1_250,
        };
        assert_eq!(
            databases.pages(),
            1,
            "Vultr lists databases in one response"
        );
    }

    #[test]
    fn cloudflare_web_services_are_two_whole_listings_side_by_side() {
        let web = Listing {
            provider: ProviderKind::Cloudflare,
            kind: Kind::WebServices,
            items: 80,
        };
        assert_eq!(web.pages(), 2, "the Pages projects and the Workers scripts");
        assert_eq!(
            web.critical_path(Duration::from_millis(100)),
            Duration::from_millis(100),
            "asked at once"
        );
    }

    #[test]
    fn cursor_paths_grow_with_pages_and_numbered_ones_do_not() {
        let l = Duration::from_millis(20);
        let v = Listing {
            provider: ProviderKind::Vultr,
            kind: Kind::Servers,
            items: 1_250,
        };
        let d = Listing {
            provider: ProviderKind::DigitalOcean,
            kind: Kind::Servers,
            items: 1_250,
        };
        assert_eq!(v.critical_path(l), Duration::from_millis(60));
        assert_eq!(d.critical_path(l), Duration::from_millis(40));
    }

    #[test]
    fn a_child_listing_starts_after_its_parent() {
        let vercel = |kind, items| Listing {
            provider: ProviderKind::Vercel,
            kind,
            items,
        };
        let latency = Duration::from_millis(100);
        let fleet = [
            vercel(Kind::Domains, 1),
            vercel(Kind::DomainRecords, 666),
            vercel(Kind::WebServices, 666),
        ];
        // One page of zones, then 7 cursor-chained pages of records: longer than the 7 pages of
        // projects beside them.
        assert_eq!(sync_wall(&fleet, latency).0, Duration::from_millis(800));
        let no_records = [vercel(Kind::Domains, 0), vercel(Kind::DomainRecords, 0)];
        assert_eq!(sync_wall(&no_records, latency).0, latency);
    }

    #[test]
    fn rate_delay_is_whole_windows_after_the_first_burst() {
        assert_eq!(rate_delay(30, 30, Duration::from_secs(1)), Duration::ZERO);
        assert_eq!(
            rate_delay(31, 30, Duration::from_secs(1)),
            Duration::from_secs(1)
        );
        assert_eq!(
            rate_delay(34, 20, Duration::from_secs(15)),
            Duration::from_secs(15)
        );
    }

    #[test]
    fn the_cpu_floor_is_one_round_trip_then_the_work_spread_over_the_cores() {
        let ms = Duration::from_millis;
        assert_eq!(cpu_floor(ms(20), ms(140), 2), ms(90));
        assert_eq!(cpu_floor(ms(20), ms(140), 1), ms(160));
        assert_eq!(cpu_floor(ms(20), ms(140), 0), ms(160));
        assert_eq!(cpu_floor(ms(20), Duration::ZERO, 2), ms(20));
    }

    #[test]
    fn terraform_refresh_is_one_get_per_resource() {
        assert_eq!(
            terraform_model(3_000, 10, Duration::from_millis(20)),
            (3_000, Duration::from_secs(6))
        );
    }
}
