//! Decoding one list page in one pass: the items' JSON text kept for the adapter's mapping, the
//! rest of the envelope parsed.

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::Item;
use crate::http::Pagination;
use crate::{ErrorClass, ProviderError};

/// Parses a list page in one pass: the array under `list_key` as the text of each item (`None`
/// when there is no such key or it is not an array), every other key as JSON.
///
/// With `bare`, a top-level array is the items themselves (a scheme whose provider may answer a
/// list without its envelope: Vercel's projects); otherwise it is no list.
pub(super) fn parse_page(
    bytes: &[u8],
    list_key: &str,
    bare: bool,
) -> Result<(Option<Vec<Item>>, Value), serde_json::Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok((None, Value::Null));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let page = PageSeed { list_key, bare }.deserialize(&mut de)?;
    de.end()?;
    Ok(page)
}

/// The items of one list page given as raw bytes, under `list_key`, with the errors a listing
/// gives for a body that is not JSON or has no such list. Used by the adapters'
/// `decode_list_page` (fuzzing and hostile-response tests), which must fail the way a listing does.
pub(crate) fn page_items(
    dock: &str,
    route: &str,
    list_key: &str,
    scheme: Pagination,
    body: &[u8],
) -> Result<Vec<Item>, ProviderError> {
    let error = |message: String| ProviderError::new(ErrorClass::Transient, dock, route, message);
    let (items, _) = parse_page(body, list_key, scheme.bare_list())
        .map_err(|e| error(format!("the response is not JSON: {e}")))?;
    items.ok_or_else(|| error(format!("the response has no `{list_key}` list")))
}

/// The top level of a page.
struct PageSeed<'k> {
    list_key: &'k str,
    /// A top-level array is the items.
    bare: bool,
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_> {
    type Value = (Option<Vec<Item>>, Value);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_> {
    type Value = (Option<Vec<Item>>, Value);

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list page")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut items = None;
        let mut rest = serde_json::Map::new();
        // A dotted key is a list inside an object (`result.buckets`): that object is read with
        // the rest of the key, and kept with `null` where its list was.
        let nested = self.list_key.split_once('.');
        while let Some(key) = map.next_key::<String>()? {
            if let Some((head, tail)) = nested.filter(|(head, _)| key == *head) {
                let (inner, rest_of) = map.next_value_seed(PageSeed {
                    list_key: tail,
                    bare: false,
                })?;
                items = inner;
                rest.insert(head.to_owned(), rest_of);
            } else if key == self.list_key {
                items = map.next_value::<ItemsOrNot>()?.0;
                // Kept as a key, so an error-envelope check sees the page's keys as they were.
                rest.insert(key, Value::Null);
            } else {
                let value = map.next_value::<Value>()?;
                rest.insert(key, value);
            }
        }
        Ok((items, Value::Object(rest)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if self.bare {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(item) = seq.next_element::<Item>()? {
                items.push(item);
            }
            return Ok((Some(items), Value::Null));
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok((None, Value::Null))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok((None, Value::Null))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok((None, Value::Null))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok((None, Value::Null))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok((None, Value::Null))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok((None, Value::Null))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok((None, Value::Null))
    }
}

/// The value under the list key: the items of an array, `None` for anything else.
struct ItemsOrNot(Option<Vec<Item>>);

impl<'de> Deserialize<'de> for ItemsOrNot {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ItemsOrNot;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ItemsOrNot, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(item) = seq.next_element::<Item>()? {
                    items.push(item);
                }
                Ok(ItemsOrNot(Some(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ItemsOrNot, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(ItemsOrNot(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<ItemsOrNot, E> {
                Ok(ItemsOrNot(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<ItemsOrNot, E> {
                Ok(ItemsOrNot(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<ItemsOrNot, E> {
                Ok(ItemsOrNot(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<ItemsOrNot, E> {
                Ok(ItemsOrNot(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<ItemsOrNot, E> {
                Ok(ItemsOrNot(None))
            }
            fn visit_unit<E>(self) -> Result<ItemsOrNot, E> {
                Ok(ItemsOrNot(None))
            }
        }
        deserializer.deserialize_any(V)
    }
}
