//! Queries by one key attribute, always paginated through `LastEvaluatedKey`: a table or index
//! partition can hold more than one 1 MB page.

use aws_sdk_dynamodb::types::AttributeValue;

use super::DynamoStore;
use super::codec::Item;
use super::error::classify;
use crate::StoreError;

/// Every item of `table` (or of its global secondary index `index`) whose `attribute` equals
/// `value`. Base-table reads are strongly consistent; index reads cannot be (DynamoDB).
pub(crate) async fn query_eq(
    store: &DynamoStore,
    table: &str,
    index: Option<&str>,
    attribute: &str,
    value: &str,
) -> Result<Vec<Item>, StoreError> {
    query_projected(store, table, index, attribute, value, None).await
}

/// As [`query_eq`], reading only the `projection` attributes (`None`: all). The read costs the
/// same capacity (DynamoDB charges for the whole items), but less crosses the network and less is
/// decoded: a sync reads five small attributes of every stored record, not their `fullApiData`.
pub(crate) async fn query_projected(
    store: &DynamoStore,
    table: &str,
    index: Option<&str>,
    attribute: &str,
    value: &str,
    projection: Option<&[&str]>,
) -> Result<Vec<Item>, StoreError> {
    let context = match index {
        Some(index) => format!("{table} ({index}): query {attribute} = `{value}`"),
        None => format!("{table}: query {attribute} = `{value}`"),
    };
    let mut names = std::collections::HashMap::from([("#k".to_owned(), attribute.to_owned())]);
    let projected = projection.map(|attributes| {
        let mut placeholders = Vec::with_capacity(attributes.len());
        for (i, name) in attributes.iter().enumerate() {
            names.insert(format!("#p{i}"), (*name).to_owned());
            placeholders.push(format!("#p{i}"));
        }
        placeholders.join(", ")
    });
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = store
            .client()
            .query()
            .table_name(table)
            .set_index_name(index.map(str::to_owned))
            .key_condition_expression("#k = :v")
            .set_expression_attribute_names(Some(names.clone()))
            .set_projection_expression(projected.clone())
            .expression_attribute_values(":v", AttributeValue::S(value.to_owned()))
            .consistent_read(index.is_none())
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| classify(context.as_str(), e))?;
        items.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key.filter(|key| !key.is_empty());
        if start.is_none() {
            return Ok(items);
        }
    }
}
