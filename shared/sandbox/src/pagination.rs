//! The pagination schemes: Vultr cursors, DigitalOcean page/per_page with absolute
//! `links.pages` URLs, Linode page/page_size with `page`/`pages`/`results`, Vercel's `limit`
//! with a millisecond `until` timestamp and `pagination.{count,next,prev}`, Cloudflare
//! page/per_page with `result_info`, and Cloudflare R2's cursor in `result_info`.
//!
//! Each function takes the number of matching items and the query, validates the
//! page size against the provider's maximum, and returns the slice to serve plus
//! the envelope fields. Fault modes ([`PageMode`]) bend the links on purpose.

use std::collections::HashMap;
use std::ops::Range;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// How a list response should be paginated (set by fault injection).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum PageMode {
    #[default]
    Normal,
    /// The "next" link repeats the current page.
    Loop,
    /// The page is served empty, links unchanged.
    Empty,
}

/// A validated page: which items to serve and the envelope to attach.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) range: Range<usize>,
    /// Vultr: `meta`; DO: `links` and `meta` (merged by the caller); Linode: page fields.
    pub(crate) envelope: serde_json::Map<String, Value>,
}

fn parse_num(q: &HashMap<String, String>, key: &str) -> Result<Option<usize>, String> {
    match q.get(key) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => v
            .parse::<usize>()
            .map(Some)
            .map_err(|_| format!("Invalid value for {key}: {v}")),
    }
}

fn encode_cursor(dir: &str, offset: usize) -> String {
    STANDARD.encode(format!("{dir}__{offset}"))
}

fn decode_cursor(cursor: &str) -> Option<usize> {
    let raw = STANDARD.decode(cursor.as_bytes()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (dir, offset) = text.split_once("__")?;
    if dir != "next" && dir != "prev" {
        return None;
    }
    offset.parse().ok()
}

/// Vultr: `per_page` (default 100, max 500) and opaque `cursor`; `meta.total`,
/// `meta.links.next/prev` (`""` at the ends).
pub(crate) fn vultr(
    total: usize,
    q: &HashMap<String, String>,
    mode: PageMode,
) -> Result<Page, String> {
    let per_page = parse_num(q, "per_page")?.unwrap_or(100);
    if per_page > 500 {
        return Err("Invalid per_page value. Maximum is 500.".to_owned());
    }
    let per_page = if per_page == 0 { 100 } else { per_page };
    let start = match q.get("cursor").filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => decode_cursor(c).ok_or_else(|| "Invalid cursor.".to_owned())?,
    };
    let start = start.min(total);
    let end = (start + per_page).min(total);
    let mut next = if end < total {
        encode_cursor("next", end)
    } else {
        String::new()
    };
    let prev = if start > 0 {
        encode_cursor("prev", start.saturating_sub(per_page))
    } else {
        String::new()
    };
    let mut range = start..end;
    match mode {
        PageMode::Normal => {}
        PageMode::Loop => next = encode_cursor("next", start),
        PageMode::Empty => range = start..start,
    }
    let mut envelope = serde_json::Map::new();
    envelope.insert(
        "meta".to_owned(),
        json!({"total": total, "links": {"next": next, "prev": prev}}),
    );
    Ok(Page { range, envelope })
}

/// Vercel ([vercel-sdk] `Pagination`): the items newest first, `limit` (default 20, at most 100)
/// of those created before `until` (epoch milliseconds); `pagination.count` items on the page,
/// `next` the creation time of its last item when older ones remain (else `null`), `prev` that
/// of its first. `stamps` are the items' creation times in listing order (newest first, each
/// different). A loop fault answers `next` equal to the `until` asked for (or the newest item's
/// time on the first page); an empty-page fault serves no items with the links unchanged.
pub(crate) fn vercel_until(
    stamps: &[i64],
    q: &HashMap<String, String>,
    mode: PageMode,
) -> Result<Page, String> {
    let limit = parse_num(q, "limit")?.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err("`limit` must be between 1 and 100.".to_owned());
    }
    let until = match q.get("until").filter(|u| !u.is_empty()) {
        None => None,
        Some(u) => Some(
            u.parse::<i64>()
                .map_err(|_| format!("Invalid value for until: {u}"))?,
        ),
    };
    let start = until.map_or(0, |u| stamps.partition_point(|s| *s >= u));
    let end = (start + limit).min(stamps.len());
    let mut next = (end < stamps.len() && end > start).then(|| stamps[end - 1]);
    let prev = (start < end).then(|| stamps[start]);
    let mut range = start..end;
    match mode {
        PageMode::Normal => {}
        PageMode::Loop => {
            next = until.or_else(|| stamps.first().map(|s| s + 1));
        }
        PageMode::Empty => range = start..start,
    }
    let mut envelope = serde_json::Map::new();
    envelope.insert(
        "pagination".to_owned(),
        json!({"count": range.len(), "next": next, "prev": prev}),
    );
    Ok(Page { range, envelope })
}

/// Vercel projects ([vercel-sdk] getProjects): `limit` (default 20, at most 100) items from the
/// continuation `from`; `pagination.next` is the continuation token of the next page, Base32
/// ("Base32 encoded for safe URL transmission"), `null` on the last. A token that is not one is
/// refused. A loop fault answers the token of the page asked for; an empty-page fault serves no
/// items with the links unchanged.
pub(crate) fn vercel_from(
    total: usize,
    q: &HashMap<String, String>,
    mode: PageMode,
) -> Result<Page, String> {
    let limit = parse_num(q, "limit")?.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err("`limit` must be between 1 and 100.".to_owned());
    }
    let start = match q.get("from").filter(|f| !f.is_empty()) {
        None => 0,
        Some(token) => {
            decode_continuation(token).ok_or_else(|| format!("Invalid value for from: {token}"))?
        }
    };
    let start = start.min(total);
    let end = (start + limit).min(total);
    let mut next = (end < total).then(|| encode_continuation(end));
    let mut range = start..end;
    match mode {
        PageMode::Normal => {}
        PageMode::Loop => next = Some(encode_continuation(start)),
        PageMode::Empty => range = start..start,
    }
    let mut envelope = serde_json::Map::new();
    envelope.insert(
        "pagination".to_owned(),
        json!({"count": range.len(), "next": next}),
    );
    Ok(Page { range, envelope })
}

/// RFC 4648 Base32 alphabet, unpadded.
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn encode_continuation(offset: usize) -> String {
    let bytes = format!("offset:{offset}").into_bytes();
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for b in bytes {
        buffer = buffer << 8 | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[(buffer >> bits & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[(buffer << (5 - bits) & 31) as usize]));
    }
    out
}

fn decode_continuation(token: &str) -> Option<usize> {
    let (mut buffer, mut bits, mut bytes) = (0u32, 0u32, Vec::new());
    for c in token.bytes() {
        let v = BASE32.iter().position(|b| *b == c)? as u32;
        buffer = (buffer << 5 | v) & 0xffff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits & 0xff) as u8);
        }
    }
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("offset:")?
        .parse()
        .ok()
}

/// A collection served whole: `meta.total` only (Vultr `/databases`). An empty-page fault serves
/// no items, still announcing the total.
pub(crate) fn whole(total: usize, mode: PageMode) -> Page {
    let range = if mode == PageMode::Empty {
        0..0
    } else {
        0..total
    };
    let mut envelope = serde_json::Map::new();
    envelope.insert("meta".to_owned(), json!({ "total": total }));
    Page { range, envelope }
}

/// A Cloudflare collection served whole (Pages projects: the operation declares no paging
/// parameter): the v4 envelope with `result_info {page, per_page, count, total_count}` as the
/// document declares it. An empty-page fault serves no items, still announcing the total.
pub(crate) fn result_info_whole(total: usize, mode: PageMode) -> Page {
    let range = if mode == PageMode::Empty {
        0..0
    } else {
        0..total
    };
    let mut envelope = serde_json::Map::new();
    envelope.insert("success".to_owned(), json!(true));
    envelope.insert("errors".to_owned(), json!([]));
    envelope.insert("messages".to_owned(), json!([]));
    envelope.insert(
        "result_info".to_owned(),
        json!({"page": 1, "per_page": total, "count": range.len(), "total_count": total}),
    );
    Page { range, envelope }
}

/// DigitalOcean: `page` (from 1) and `per_page` (default 20, max 200);
/// `links.pages.{first,prev,next,last}` as absolute URLs, `meta.total`.
/// `url_base` is the absolute collection URL; `keep` are query pairs to repeat in links.
pub(crate) fn digitalocean(
    total: usize,
    q: &HashMap<String, String>,
    url_base: &str,
    keep: &[(&str, &str)],
    mode: PageMode,
) -> Result<Page, String> {
    let per_page = parse_num(q, "per_page")?.unwrap_or(20);
    if per_page > 200 {
        return Err("per_page must be less than or equal to 200".to_owned());
    }
    let per_page = per_page.max(1);
    let page = parse_num(q, "page")?.unwrap_or(1).max(1);
    let last = total.div_ceil(per_page).max(1);
    let start = ((page - 1) * per_page).min(total);
    let end = (start + per_page).min(total);
    let link = |p: usize| {
        let mut url = format!("{url_base}?page={p}&per_page={per_page}");
        for (k, v) in keep {
            url.push('&');
            url.push_str(k);
            url.push('=');
            url.push_str(v);
        }
        url
    };
    let mut pages = serde_json::Map::new();
    if page > 1 {
        pages.insert("first".to_owned(), Value::String(link(1)));
        pages.insert("prev".to_owned(), Value::String(link((page - 1).min(last))));
    }
    if page < last {
        pages.insert("next".to_owned(), Value::String(link(page + 1)));
        pages.insert("last".to_owned(), Value::String(link(last)));
    }
    let mut range = start..end;
    match mode {
        PageMode::Normal => {}
        PageMode::Loop => {
            pages.insert("next".to_owned(), Value::String(link(page)));
            pages.insert("last".to_owned(), Value::String(link(last.max(page + 1))));
        }
        PageMode::Empty => range = start..start,
    }
    let mut envelope = serde_json::Map::new();
    let links = if pages.is_empty() {
        json!({})
    } else {
        json!({ "pages": pages })
    };
    envelope.insert("links".to_owned(), links);
    envelope.insert("meta".to_owned(), json!({ "total": total }));
    Ok(Page { range, envelope })
}

/// Linode: `page` (from 1; beyond the last → the last page) and `page_size`
/// (25–500, default 100); body fields `page`, `pages`, `results`.
pub(crate) fn linode(
    total: usize,
    q: &HashMap<String, String>,
    mode: PageMode,
) -> Result<Page, String> {
    let size = parse_num(q, "page_size")?.unwrap_or(100);
    if !(25..=500).contains(&size) {
        return Err("Must be between 25 and 500".to_owned());
    }
    let pages = total.div_ceil(size).max(1);
    let page = parse_num(q, "page")?.unwrap_or(1).clamp(1, pages);
    let start = ((page - 1) * size).min(total);
    let end = (start + size).min(total);
    let mut range = start..end;
    let mut reported_pages = pages;
    match mode {
        PageMode::Normal => {}
        PageMode::Loop => {
            range = 0..size.min(total);
            reported_pages = page + 1;
        }
        PageMode::Empty => range = start..start,
    }
    let mut envelope = serde_json::Map::new();
    envelope.insert("page".to_owned(), json!(page));
    envelope.insert("pages".to_owned(), json!(reported_pages));
    envelope.insert("results".to_owned(), json!(total));
    Ok(Page { range, envelope })
}

/// The bounds of a `page`/`per_page` listing answered with `result_info` (Cloudflare).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PerPage {
    pub(crate) default: usize,
    pub(crate) min: usize,
    pub(crate) max: usize,
}

/// Cloudflare (`V4PagePaginationArray`): `page` (from 1; beyond the last → no items) and
/// `per_page` within `bounds`; `result_info {page, per_page, count, total_count, total_pages}`.
/// A looping page serves page 1 again, says so in `result_info.page`, and announces one page
/// more than it is.
pub(crate) fn result_info(
    total: usize,
    q: &HashMap<String, String>,
    bounds: PerPage,
    mode: PageMode,
) -> Result<Page, String> {
    let per_page = parse_num(q, "per_page")?.unwrap_or(bounds.default);
    if !(bounds.min..=bounds.max).contains(&per_page) {
        return Err(format!(
            "per_page must be between {} and {}",
            bounds.min, bounds.max
        ));
    }
    let page = parse_num(q, "page")?.unwrap_or(1).max(1);
    let pages = total.div_ceil(per_page);
    let start = ((page - 1).saturating_mul(per_page)).min(total);
    let end = (start + per_page).min(total);
    let mut range = start..end;
    let (mut reported_page, mut reported_pages) = (page, pages);
    match mode {
        PageMode::Normal => {}
        PageMode::Loop => {
            range = 0..per_page.min(total);
            reported_page = 1;
            reported_pages = pages.max(page + 1);
        }
        PageMode::Empty => range = start..start,
    }
    let mut envelope = serde_json::Map::new();
    envelope.insert("success".to_owned(), json!(true));
    envelope.insert("errors".to_owned(), json!([]));
    envelope.insert("messages".to_owned(), json!([]));
    envelope.insert(
        "result_info".to_owned(),
        json!({
            "page": reported_page,
            "per_page": per_page,
            "count": range.len(),
            "total_count": total,
            "total_pages": reported_pages,
        }),
    );
    Ok(Page { range, envelope })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn vultr_cursor_walks_all_items() {
        let mut seen = 0;
        let mut cursor = String::new();
        loop {
            let page = vultr(
                250,
                &q(&[("per_page", "100"), ("cursor", &cursor)]),
                PageMode::Normal,
            )
            .expect("page");
            seen += page.range.len();
            cursor = page.envelope["meta"]["links"]["next"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if cursor.is_empty() {
                break;
            }
        }
        assert_eq!(seen, 250);
        assert!(vultr(1, &q(&[("per_page", "501")]), PageMode::Normal).is_err());
    }

    #[test]
    fn linode_clamps_page() {
        let page = linode(
            120,
            &q(&[("page", "9"), ("page_size", "50")]),
            PageMode::Normal,
        )
        .expect("page");
        assert_eq!(page.range, 100..120);
        assert_eq!(page.envelope["page"], 3);
        assert!(linode(1, &q(&[("page_size", "10")]), PageMode::Normal).is_err());
    }

    #[test]
    fn vercel_pages_newest_first_until_a_timestamp() {
        // Creation times, newest first.
        let stamps = [50, 40, 30, 20, 10];
        let page = vercel_until(&stamps, &q(&[("limit", "2")]), PageMode::Normal).expect("page");
        assert_eq!(page.range, 0..2);
        assert_eq!(
            page.envelope["pagination"],
            json!({"count": 2, "next": 40, "prev": 50})
        );
        let page = vercel_until(
            &stamps,
            &q(&[("limit", "2"), ("until", "40")]),
            PageMode::Normal,
        )
        .expect("page");
        assert_eq!(page.range, 2..4);
        assert_eq!(page.envelope["pagination"]["next"], 20);
        // The last page, exactly full, names no next.
        let page = vercel_until(
            &stamps,
            &q(&[("limit", "1"), ("until", "20")]),
            PageMode::Normal,
        )
        .expect("page");
        assert_eq!(page.range, 4..5);
        assert_eq!(page.envelope["pagination"]["next"], Value::Null);
        // A loop names the page it was asked for again; limits outside 1..=100 are refused.
        let page = vercel_until(
            &stamps,
            &q(&[("limit", "2"), ("until", "40")]),
            PageMode::Loop,
        )
        .expect("page");
        assert_eq!(page.envelope["pagination"]["next"], 40);
        assert!(vercel_until(&stamps, &q(&[("limit", "101")]), PageMode::Normal).is_err());
        assert!(vercel_until(&stamps, &q(&[("until", "soon")]), PageMode::Normal).is_err());
    }

    #[test]
    fn result_info_counts_pages_and_refuses_sizes_out_of_bounds() {
        let zones = PerPage {
            default: 20,
            min: 5,
            max: 50,
        };
        let page = result_info(
            120,
            &q(&[("page", "3"), ("per_page", "50")]),
            zones,
            PageMode::Normal,
        )
        .expect("page");
        assert_eq!(page.range, 100..120);
        assert_eq!(
            page.envelope["result_info"],
            json!({"page": 3, "per_page": 50, "count": 20, "total_count": 120, "total_pages": 3})
        );
        let past = result_info(
            120,
            &q(&[("page", "4"), ("per_page", "50")]),
            zones,
            PageMode::Normal,
        )
        .expect("page");
        assert!(past.range.is_empty());
        assert!(result_info(1, &q(&[("per_page", "51")]), zones, PageMode::Normal).is_err());
        assert!(result_info(1, &q(&[("per_page", "4")]), zones, PageMode::Normal).is_err());
        let looped = result_info(
            120,
            &q(&[("page", "2"), ("per_page", "50")]),
            zones,
            PageMode::Loop,
        )
        .expect("page");
        assert_eq!(
            (
                looped.range.clone(),
                &looped.envelope["result_info"]["page"]
            ),
            (0..50, &json!(1))
        );
    }
}

/// Cloudflare R2 (`r2-list-buckets`): `per_page` within `bounds` and an opaque `cursor`; the
/// next page's cursor in `result_info.cursor`, absent on the last page; no total. A looping
/// page hands back the cursor it was given; an empty one serves no items with a cursor.
pub(crate) fn result_info_cursor(
    total: usize,
    q: &HashMap<String, String>,
    bounds: PerPage,
    mode: PageMode,
) -> Result<Page, String> {
    let per_page = parse_num(q, "per_page")?.unwrap_or(bounds.default);
    if !(bounds.min..=bounds.max).contains(&per_page) {
        return Err(format!(
            "per_page must be between {} and {}",
            bounds.min, bounds.max
        ));
    }
    let start = match q.get("cursor").filter(|c| !c.is_empty()) {
        None => 0,
        Some(c) => decode_cursor(c).ok_or_else(|| "Invalid cursor".to_owned())?,
    };
    let start = start.min(total);
    let end = (start + per_page).min(total);
    let mut range = start..end;
    let mut next = (end < total).then(|| encode_cursor("next", end));
    match mode {
        PageMode::Normal => {}
        PageMode::Loop => next = Some(encode_cursor("next", start)),
        // No items, and the cursor a full page has: the scheme announces no total, so the
        // cursor is the only link a full page carries.
        PageMode::Empty => {
            range = start..start;
            next = Some(encode_cursor("next", end));
        }
    }
    let mut info = serde_json::Map::new();
    info.insert("per_page".to_owned(), json!(per_page));
    if let Some(next) = next {
        info.insert("cursor".to_owned(), json!(next));
    }
    let mut envelope = serde_json::Map::new();
    envelope.insert("success".to_owned(), json!(true));
    envelope.insert("errors".to_owned(), json!([]));
    envelope.insert("messages".to_owned(), json!([]));
    envelope.insert("result_info".to_owned(), Value::Object(info));
    Ok(Page { range, envelope })
}

#[cfg(test)]
mod result_info_cursor_tests {
    use super::*;

    #[test]
    fn the_cursor_walks_every_item_once_and_is_absent_at_the_end() {
        let bounds = PerPage {
            default: 20,
            min: 1,
            max: 1000,
        };
        let mut q = HashMap::from([("per_page".to_owned(), "2".to_owned())]);
        let mut served = Vec::new();
        loop {
            let page = result_info_cursor(5, &q, bounds, PageMode::Normal).expect("page");
            served.extend(page.range.clone());
            match page.envelope["result_info"].get("cursor") {
                Some(c) => q.insert("cursor".to_owned(), c.as_str().expect("str").to_owned()),
                None => break,
            };
        }
        assert_eq!(served, [0, 1, 2, 3, 4]);
        q.insert("per_page".to_owned(), "1001".to_owned());
        assert!(result_info_cursor(5, &q, bounds, PageMode::Normal).is_err());
    }

    #[test]
    fn vercel_continuation_tokens_page_through_and_end_with_null() {
        let q = |from: Option<&str>| {
            let mut q = HashMap::from([("limit".to_owned(), "2".to_owned())]);
            if let Some(f) = from {
                q.insert("from".to_owned(), f.to_owned());
            }
            q
        };
        let first = vercel_from(5, &q(None), PageMode::Normal).expect("page");
        assert_eq!(first.range, 0..2);
        let next = first.envelope["pagination"]["next"]
            .as_str()
            .expect("a token")
            .to_owned();
        assert!(next.bytes().all(|b| BASE32.contains(&b)), "{next}");
        let second = vercel_from(5, &q(Some(&next)), PageMode::Normal).expect("page");
        assert_eq!(second.range, 2..4);
        let last_token = second.envelope["pagination"]["next"]
            .as_str()
            .expect("a token")
            .to_owned();
        let last = vercel_from(5, &q(Some(&last_token)), PageMode::Normal).expect("page");
        assert_eq!(last.range, 4..5);
        assert!(last.envelope["pagination"]["next"].is_null());
        assert!(vercel_from(5, &q(Some("not-a-token!")), PageMode::Normal).is_err());
    }
}
