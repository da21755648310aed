//! A record serialized straight into its row: a serde `Serializer` that puts each attribute in its
//! column's slot as an SQLite value, without building a `serde_json::Value` tree first.
//!
//! A sync writes every changed record; going through a tree cost each record an allocation per
//! attribute, a map insert and a map removal per column, and half the time of the write. The
//! mapping is the same as before (the one `schema::Layout` derives for every kind): strings and
//! numbers as themselves, booleans as 0/1, lists and objects as JSON text, `null` as NULL, and an
//! attribute without a column refused.

use std::fmt;

use rusqlite::types::Value as SqlValue;
use serde::ser::{self, Impossible, Serialize, SerializeMap, SerializeStruct, Serializer};

use super::schema::{Codec, Column, KIND_ATTRIBUTE};

/// The narrower numbers and `char` as the wide ones and `str`, as serde_json writes them.
macro_rules! forward_narrow {
    ($ok:ty) => {
        fn serialize_i8(self, v: i8) -> Result<$ok, RowError> {
            self.serialize_i64(i64::from(v))
        }
        fn serialize_i16(self, v: i16) -> Result<$ok, RowError> {
            self.serialize_i64(i64::from(v))
        }
        fn serialize_i32(self, v: i32) -> Result<$ok, RowError> {
            self.serialize_i64(i64::from(v))
        }
        fn serialize_u8(self, v: u8) -> Result<$ok, RowError> {
            self.serialize_u64(u64::from(v))
        }
        fn serialize_u16(self, v: u16) -> Result<$ok, RowError> {
            self.serialize_u64(u64::from(v))
        }
        fn serialize_u32(self, v: u32) -> Result<$ok, RowError> {
            self.serialize_u64(u64::from(v))
        }
        fn serialize_f32(self, v: f32) -> Result<$ok, RowError> {
            self.serialize_f64(f64::from(v))
        }
        fn serialize_char(self, v: char) -> Result<$ok, RowError> {
            self.serialize_str(v.encode_utf8(&mut [0; 4]))
        }
    };
}

/// The compound values a serializer here refuses (`$err`): sequences, tuples and enum variants
/// carrying data; with `maps`, also maps and structs.
macro_rules! refuse_compounds {
    ($ok:ty, $err:expr) => {
        fn serialize_bytes(self, _: &[u8]) -> Result<$ok, RowError> {
            Err($err)
        }
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<$ok, RowError> {
            Err($err)
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, RowError> {
            Err($err)
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, RowError> {
            Err($err)
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, RowError> {
            Err($err)
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, RowError> {
            Err($err)
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, RowError> {
            Err($err)
        }
    };
    ($ok:ty, $err:expr, maps) => {
        refuse_compounds!($ok, $err);
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, RowError> {
            Err($err)
        }
        fn serialize_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStruct, RowError> {
            Err($err)
        }
    };
}

/// Why a record could not be turned into a row.
#[derive(Debug)]
pub(crate) struct RowError(pub(crate) String);

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RowError {}

impl ser::Error for RowError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        RowError(msg.to_string())
    }
}

/// The column values of `value` (a record), in `columns` order; columns it does not serialize
/// are NULL. `columns` is sorted by name (see `Layout::derive`).
pub(crate) fn to_values<T: Serialize>(
    value: &T,
    columns: &[Column],
) -> Result<Vec<SqlValue>, RowError> {
    let mut values = vec![SqlValue::Null; columns.len()];
    value.serialize(RowSerializer {
        columns,
        values: &mut values,
    })?;
    Ok(values)
}

/// The top level: a record is a map (it has a flattened, tagged part) of attribute → value.
struct RowSerializer<'a> {
    columns: &'a [Column],
    values: &'a mut [SqlValue],
}

/// Filling the row, one attribute at a time.
struct RowFields<'a> {
    columns: &'a [Column],
    values: &'a mut [SqlValue],
    /// The slot of the attribute whose key was just seen (`None`: the `kind` tag, not stored).
    pending: Option<usize>,
}

/// The index of the column named `name` in `columns` (sorted by name).
pub(crate) fn position(columns: &[Column], name: &str) -> Option<usize> {
    columns.binary_search_by(|c| c.name.as_str().cmp(name)).ok()
}

/// The slot of attribute `name` (`None` for the `kind` tag, which the table implies).
fn slot(columns: &[Column], name: &str) -> Result<Option<usize>, RowError> {
    if name == KIND_ATTRIBUTE {
        return Ok(None);
    }
    position(columns, name).map(Some).ok_or_else(|| {
        // Only a field that is skipped when empty can get here, since the columns come from
        // the same serialization.
        RowError(format!(
            "attribute `{name}` has no column; a schema migration is missing"
        ))
    })
}

impl RowFields<'_> {
    fn put<T: Serialize + ?Sized>(
        &mut self,
        slot: Option<usize>,
        value: &T,
    ) -> Result<(), RowError> {
        let Some(slot) = slot else {
            return Ok(());
        };
        self.values[slot] = match self.columns[slot].codec {
            Codec::Json => match value.serialize(ScalarSerializer) {
                // `null` (an absent list or object) is NULL, as for every codec.
                Ok(SqlValue::Null) => SqlValue::Null,
                _ => SqlValue::Text(
                    serde_json::to_string(value).map_err(|e| RowError(e.to_string()))?,
                ),
            },
            Codec::Scalar | Codec::Bool => match value.serialize(ScalarSerializer) {
                // Only a scalar column keeps a string as it is.
                Ok(SqlValue::Text(_)) if self.columns[slot].codec == Codec::Bool => SqlValue::Text(
                    serde_json::to_string(value).map_err(|e| RowError(e.to_string()))?,
                ),
                Ok(v) => v,
                // A list or object in a scalar column is kept as its JSON text.
                Err(_) => SqlValue::Text(
                    serde_json::to_string(value).map_err(|e| RowError(e.to_string()))?,
                ),
            },
        };
        Ok(())
    }
}

impl SerializeMap for RowFields<'_> {
    type Ok = ();
    type Error = RowError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), RowError> {
        self.pending = key.serialize(KeySerializer {
            columns: self.columns,
        })?;
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), RowError> {
        let slot = self.pending.take();
        self.put(slot, value)
    }

    fn end(self) -> Result<(), RowError> {
        Ok(())
    }
}

impl SerializeStruct for RowFields<'_> {
    type Ok = ();
    type Error = RowError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), RowError> {
        let slot = slot(self.columns, key)?;
        self.put(slot, value)
    }

    fn end(self) -> Result<(), RowError> {
        Ok(())
    }
}

fn not_an_object() -> RowError {
    RowError("does not serialize to a JSON object".to_owned())
}

impl<'a> Serializer for RowSerializer<'a> {
    type Ok = ();
    type Error = RowError;
    type SerializeSeq = Impossible<(), RowError>;
    type SerializeTuple = Impossible<(), RowError>;
    type SerializeTupleStruct = Impossible<(), RowError>;
    type SerializeTupleVariant = Impossible<(), RowError>;
    type SerializeMap = RowFields<'a>;
    type SerializeStruct = RowFields<'a>;
    type SerializeStructVariant = Impossible<(), RowError>;

    forward_narrow!(());
    refuse_compounds!((), not_an_object());

    fn serialize_map(self, _: Option<usize>) -> Result<RowFields<'a>, RowError> {
        Ok(RowFields {
            columns: self.columns,
            values: self.values,
            pending: None,
        })
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<RowFields<'a>, RowError> {
        self.serialize_map(None)
    }

    fn serialize_bool(self, _: bool) -> Result<(), RowError> {
        Err(not_an_object())
    }
    fn serialize_i64(self, _: i64) -> Result<(), RowError> {
        Err(not_an_object())
    }
    fn serialize_u64(self, _: u64) -> Result<(), RowError> {
        Err(not_an_object())
    }
    fn serialize_f64(self, _: f64) -> Result<(), RowError> {
        Err(not_an_object())
    }
    fn serialize_str(self, _: &str) -> Result<(), RowError> {
        Err(not_an_object())
    }
    fn serialize_none(self) -> Result<(), RowError> {
        Err(not_an_object())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), RowError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), RowError> {
        Err(not_an_object())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), RowError> {
        Err(not_an_object())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), RowError> {
        Err(not_an_object())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), RowError> {
        value.serialize(self)
    }
}

/// An attribute name, looked up among the columns: its slot, `None` for the `kind` tag.
struct KeySerializer<'c> {
    columns: &'c [Column],
}

fn not_a_key() -> RowError {
    RowError("an attribute name is not a string".to_owned())
}

type Slot = Option<usize>;

impl Serializer for KeySerializer<'_> {
    type Ok = Slot;
    type Error = RowError;
    type SerializeSeq = Impossible<Slot, RowError>;
    type SerializeTuple = Impossible<Slot, RowError>;
    type SerializeTupleStruct = Impossible<Slot, RowError>;
    type SerializeTupleVariant = Impossible<Slot, RowError>;
    type SerializeMap = Impossible<Slot, RowError>;
    type SerializeStruct = Impossible<Slot, RowError>;
    type SerializeStructVariant = Impossible<Slot, RowError>;

    forward_narrow!(Slot);
    refuse_compounds!(Slot, not_a_key(), maps);

    fn serialize_str(self, name: &str) -> Result<Slot, RowError> {
        slot(self.columns, name)
    }
    fn serialize_bool(self, _: bool) -> Result<Slot, RowError> {
        Err(not_a_key())
    }
    fn serialize_i64(self, _: i64) -> Result<Slot, RowError> {
        Err(not_a_key())
    }
    fn serialize_u64(self, _: u64) -> Result<Slot, RowError> {
        Err(not_a_key())
    }
    fn serialize_f64(self, _: f64) -> Result<Slot, RowError> {
        Err(not_a_key())
    }
    fn serialize_none(self) -> Result<Slot, RowError> {
        Err(not_a_key())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Slot, RowError> {
        Err(not_a_key())
    }
    fn serialize_unit(self) -> Result<Slot, RowError> {
        Err(not_a_key())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Slot, RowError> {
        Err(not_a_key())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Slot, RowError> {
        slot(self.columns, variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Slot, RowError> {
        value.serialize(self)
    }
}

/// A scalar attribute as an SQLite value; anything else is an error (the caller keeps it as
/// JSON text).
struct ScalarSerializer;

fn not_a_scalar() -> RowError {
    RowError("not a scalar".to_owned())
}

impl Serializer for ScalarSerializer {
    type Ok = SqlValue;
    type Error = RowError;
    type SerializeSeq = Impossible<SqlValue, RowError>;
    type SerializeTuple = Impossible<SqlValue, RowError>;
    type SerializeTupleStruct = Impossible<SqlValue, RowError>;
    type SerializeTupleVariant = Impossible<SqlValue, RowError>;
    type SerializeMap = Impossible<SqlValue, RowError>;
    type SerializeStruct = Impossible<SqlValue, RowError>;
    type SerializeStructVariant = Impossible<SqlValue, RowError>;

    forward_narrow!(SqlValue);
    refuse_compounds!(SqlValue, not_a_scalar(), maps);

    fn serialize_bool(self, v: bool) -> Result<SqlValue, RowError> {
        Ok(SqlValue::Integer(i64::from(v)))
    }
    fn serialize_i64(self, v: i64) -> Result<SqlValue, RowError> {
        Ok(SqlValue::Integer(v))
    }
    fn serialize_u64(self, v: u64) -> Result<SqlValue, RowError> {
        // Beyond i64, as JSON numbers are read back: a real.
        Ok(i64::try_from(v).map_or(SqlValue::Real(v as f64), SqlValue::Integer))
    }
    fn serialize_f64(self, v: f64) -> Result<SqlValue, RowError> {
        // serde_json writes a non-finite number as `null`.
        Ok(if v.is_finite() {
            SqlValue::Real(v)
        } else {
            SqlValue::Null
        })
    }
    fn serialize_str(self, v: &str) -> Result<SqlValue, RowError> {
        Ok(SqlValue::Text(v.to_owned()))
    }
    fn serialize_none(self) -> Result<SqlValue, RowError> {
        Ok(SqlValue::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<SqlValue, RowError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<SqlValue, RowError> {
        Ok(SqlValue::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<SqlValue, RowError> {
        Ok(SqlValue::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<SqlValue, RowError> {
        Ok(SqlValue::Text(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<SqlValue, RowError> {
        value.serialize(self)
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::types::Value as SqlValue;
    use stackdock_core::record::{Attrs, DriftEntry, ServerAttrs};
    use stackdock_core::{Kind, ProviderKind, Record};

    use super::super::schema::Layout;
    use super::*;

    fn column<'v>(layout: &Layout, values: &'v [SqlValue], name: &str) -> &'v SqlValue {
        let i = layout
            .columns(Kind::Servers)
            .iter()
            .position(|c| c.name == name)
            .expect("column");
        &values[i]
    }

    #[test]
    fn each_attribute_lands_in_its_column_as_the_tree_mapping_put_it() {
        let layout = Layout::derive().expect("layout");
        let mut r = Record::new(
            "acme",
            "acme/vultr-main",
            ProviderKind::Vultr,
            Kind::Servers,
            "id-1",
            "web-1",
        );
        r.status = "running".into();
        r.protect = true;
        r.attrs = Attrs::Servers(ServerAttrs {
            instance_type: Some("vc2-1c-1gb".into()),
            tags: ["b".to_owned(), "a".to_owned()].into(),
            ..ServerAttrs::default()
        });
        r.drift = vec![DriftEntry {
            field: "tags".into(),
            desired: None,
            actual: None,
        }];
        let values = to_values(&r, layout.columns(Kind::Servers)).expect("row");
        assert_eq!(values.len(), layout.columns(Kind::Servers).len());
        let text = |s: &str| SqlValue::Text(s.to_owned());
        assert_eq!(column(&layout, &values, "name"), &text("web-1"));
        assert_eq!(column(&layout, &values, "provider"), &text("vultr"));
        assert_eq!(
            column(&layout, &values, "instanceType"),
            &text("vc2-1c-1gb")
        );
        assert_eq!(column(&layout, &values, "protect"), &SqlValue::Integer(1));
        assert_eq!(column(&layout, &values, "region"), &SqlValue::Null);
        assert_eq!(column(&layout, &values, "missingSince"), &SqlValue::Null);
        // Lists and objects as the JSON text serde_json writes for them.
        assert_eq!(
            column(&layout, &values, "tags"),
            &text(&serde_json::to_string(&["a", "b"]).expect("json"))
        );
        assert_eq!(
            column(&layout, &values, "drift"),
            &text(&serde_json::to_string(&r.drift).expect("json"))
        );
        assert_eq!(column(&layout, &values, "applied"), &text("{}"));
    }

    #[test]
    fn an_attribute_without_a_column_is_refused() {
        let layout = Layout::derive().expect("layout");
        let r = Record::new("o", "o/d", ProviderKind::Linode, Kind::Servers, "1", "x");
        // A volume's columns do not have the server attributes.
        let err = to_values(&r, layout.columns(Kind::BlockVolumes)).expect_err("refused");
        assert!(err.0.contains("has no column"), "{err}");
    }
}
