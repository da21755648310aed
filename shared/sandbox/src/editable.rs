//! What out-of-band changes edit in a stored resource ([`Editable`]), and the [`resource!`] macro
//! that implements [`Resource`] for a record type from closures over it.

#[cfg(doc)]
use crate::state::Resource;
use crate::state::{Change, apply_tag_change};

/// Implements [`Resource`] for a record type from closures over a record: its `key`, the field
/// holding its `label`, what its `summary` says besides those two (status, region, plan, tags),
/// the fields it lets out-of-band changes `edit`, and, optionally, the `change`s of its own and
/// how it `observe`s a poll.
macro_rules! resource {
    (
        $ty:ty,
        key: |$k:ident| $key:expr,
        label: $label:ident,
        summary: |$s:ident| $summary:expr,
        edit: |$e:ident| $edit:expr
        $(, change: |$c:ident, $change_arg:ident| $change:expr)?
        $(, observe: |$o:ident| $observe:expr)?
        $(,)?
    ) => {
        impl $crate::state::Resource for $ty {
            fn key(&self) -> String {
                let $k = self;
                $key
            }

            fn label(&self) -> &str {
                &self.$label
            }

            fn summary(&self) -> $crate::state::ResourceSummary {
                let $s = self;
                let (status, region, plan, tags) = $summary;
                $crate::state::ResourceSummary::new(
                    self.key(),
                    &self.$label,
                    status,
                    region,
                    plan,
                    tags,
                )
            }

            fn editable(&mut self) -> $crate::editable::Editable<'_> {
                let $e = self;
                $edit
            }

            $(
                fn change(&mut self, $change_arg: &$crate::state::Change) -> bool {
                    let $c = self;
                    $change
                }
            )?

            $(
                fn observe(&mut self) {
                    let $o = self;
                    $observe
                }
            )?
        }
    };
}
pub(crate) use resource;

/// The fields of a stored resource the common out-of-band changes set, each named with a builder
/// method; a change whose field a kind does not name does not apply to it.
#[derive(Debug, Default)]
pub(crate) struct Editable<'a> {
    label: Option<&'a mut String>,
    status: Option<&'a mut String>,
    plan: Option<&'a mut String>,
    size_gb: Option<&'a mut u64>,
    tags: Option<&'a mut Vec<String>>,
    /// A DNS record's value, which `SetData` sets.
    data: Option<&'a mut String>,
    /// A DNS record's TTL, which `SetTtl` sets.
    ttl: Option<&'a mut u64>,
    /// The values power changes set when off and when on ...
    power: Option<[&'static str; 2]>,
    /// ... in this field (`None`: in the status).
    power_field: Option<&'a mut String>,
}

impl<'a> Editable<'a> {
    /// The label / name `SetLabel` sets.
    pub(crate) fn label(self, field: &'a mut String) -> Self {
        Editable {
            label: Some(field),
            ..self
        }
    }

    /// The raw status `SetStatus` sets.
    pub(crate) fn status(self, field: &'a mut String) -> Self {
        Editable {
            status: Some(field),
            ..self
        }
    }

    /// The plan / size slug / type `SetPlan` sets.
    pub(crate) fn plan(self, field: &'a mut String) -> Self {
        Editable {
            plan: Some(field),
            ..self
        }
    }

    /// The size in GB `SetSize` sets.
    pub(crate) fn size_gb(self, field: &'a mut u64) -> Self {
        Editable {
            size_gb: Some(field),
            ..self
        }
    }

    /// The DNS record value `SetData` sets.
    pub(crate) fn data(self, field: &'a mut String) -> Self {
        Editable {
            data: Some(field),
            ..self
        }
    }

    /// The DNS record TTL `SetTtl` sets.
    pub(crate) fn ttl(self, field: &'a mut u64) -> Self {
        Editable {
            ttl: Some(field),
            ..self
        }
    }

    /// The tag list the tag changes edit.
    pub(crate) fn tags(self, field: &'a mut Vec<String>) -> Self {
        Editable {
            tags: Some(field),
            ..self
        }
    }

    /// The field `PowerOff` and `PowerOn` set, to `off` and to `on`.
    pub(crate) fn power(self, field: &'a mut String, values: [&'static str; 2]) -> Self {
        Editable {
            power_field: Some(field),
            ..self.power_status(values)
        }
    }

    /// `PowerOff` and `PowerOn` set the status, to `off` and to `on`.
    pub(crate) fn power_status(self, values: [&'static str; 2]) -> Self {
        Editable {
            power: Some(values),
            ..self
        }
    }

    /// Apply `change`; false when it is about no field these name.
    pub(crate) fn apply(self, change: &Change) -> bool {
        fn set<T>(field: Option<&mut T>, value: T) -> bool {
            field.map(|f| *f = value).is_some()
        }
        match change {
            Change::SetLabel { label } => set(self.label, label.clone()),
            Change::SetStatus { status } => set(self.status, status.clone()),
            Change::SetPlan { plan } => set(self.plan, plan.clone()),
            Change::SetSize { size_gb } => set(self.size_gb, *size_gb),
            Change::SetData { data } => set(self.data, data.clone()),
            Change::SetTtl { ttl } => set(self.ttl, *ttl),
            Change::PowerOff | Change::PowerOn => {
                let value = self
                    .power
                    .map(|v| v[usize::from(*change == Change::PowerOn)]);
                match (self.power_field.or(self.status), value) {
                    (Some(field), Some(value)) => set(Some(field), value.to_owned()),
                    _ => false,
                }
            }
            _ => self.tags.is_some_and(|tags| apply_tag_change(tags, change)),
        }
    }
}
