//! The configuration reference, generated from the [`Config`] type: one row
//! per key, in the order the fields are declared, with the key's environment
//! variable, its default (`Config::default()`, serialized) and the field's doc
//! comment (collected by utoipa's `ToSchema`). `amzsync config reference`
//! prints it; docs/deployment.md holds a copy that a test keeps current.

use std::collections::BTreeMap;
use std::fmt;
use std::fmt::Write as _;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use utoipa::{PartialSchema as _, ToSchema};

use super::{ClockConfig, Config};

/// One configuration key.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    /// Dotted for a table's keys: `sync.retries`.
    pub name: String,
    /// `AMZSYNC_` + the name, `__` for each dot, in capitals.
    pub env: String,
    /// The default as the file spells it; `None`: unset.
    pub default: Option<String>,
    /// The field's doc comment, on one line.
    pub description: String,
}

/// Every key, in declaration order.
pub fn keys() -> Vec<Key> {
    let descriptions = descriptions();
    let defaults = serde_json::to_value(Config::default()).expect("the default configuration serializes");
    declared_keys()
        .into_iter()
        .map(|name| Key {
            env: format!("AMZSYNC_{}", name.replace('.', "__").to_ascii_uppercase()),
            default: default_of(&defaults, &name),
            description: descriptions.get(&name).cloned().unwrap_or_default(),
            name,
        })
        .collect()
}

/// The reference as a Markdown table.
pub fn markdown() -> String {
    let mut table = String::from(
        "| Key | Environment variable | Default | Meaning and checks |\n| --- | --- | --- | --- |\n",
    );
    for key in keys() {
        let default = match &key.default {
            Some(value) => format!("`{}`", cell(value)),
            None => "unset".to_owned(),
        };
        let _ = writeln!(
            table,
            "| `{}` | `{}` | {default} | {} |",
            key.name,
            key.env,
            cell(&key.description)
        );
    }
    table
}

/// A table cell: a `|` would end it (inside code spans too).
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// A serialized value's leaf, by dotted key; `None` when it (or its table) is unset.
fn default_of(defaults: &Value, key: &str) -> Option<String> {
    match key.split('.').try_fold(defaults, |value, part| value.get(part))? {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// The keys of a `Config` with every optional table present, in declaration
/// order: serde_json writes a struct's fields in order (only its `Value` maps
/// sort them), so the text is read back key by key.
fn declared_keys() -> Vec<String> {
    let every_table = Config {
        clock: Some(ClockConfig {
            speed: 1.0,
            start: chrono::DateTime::UNIX_EPOCH,
            origin: chrono::DateTime::UNIX_EPOCH,
        }),
        ..Config::default()
    };
    let text = serde_json::to_string(&every_table).expect("the configuration serializes");
    let mut keys = Vec::new();
    Leaves {
        path: String::new(),
        keys: &mut keys,
    }
    .deserialize(&mut serde_json::Deserializer::from_str(&text))
    .expect("serialized JSON reads back");
    keys
}

/// Reads serialized JSON, noting the dotted path of every value that is not a table.
struct Leaves<'a> {
    path: String,
    keys: &'a mut Vec<String>,
}

impl Leaves<'_> {
    fn leaf<E>(self) -> Result<(), E> {
        self.keys.push(self.path);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Leaves<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Leaves<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a configuration value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key
            } else {
                format!("{}.{key}", self.path)
            };
            map.next_value_seed(Leaves {
                path,
                keys: &mut *self.keys,
            })?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.leaf()
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        self.leaf()
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        self.leaf()
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        self.leaf()
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        self.leaf()
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        self.leaf()
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.leaf()
    }
}

/// Each key's doc comment, from the schema utoipa derives from the types.
fn descriptions() -> BTreeMap<String, String> {
    let mut named = Vec::new();
    <Config as ToSchema>::schemas(&mut named);
    let named: BTreeMap<String, Value> = named
        .into_iter()
        .map(|(name, schema)| (name, serde_json::to_value(schema).expect("a schema serializes")))
        .collect();
    let root = serde_json::to_value(Config::schema()).expect("a schema serializes");
    let mut descriptions = BTreeMap::new();
    collect(&root, "", &named, &mut descriptions);
    descriptions
}

/// The keys of a table's schema, descending into tables (through a `$ref`,
/// and through `oneOf: [table, null]` for an optional one).
fn collect(
    table: &Value,
    prefix: &str,
    named: &BTreeMap<String, Value>,
    descriptions: &mut BTreeMap<String, String>,
) {
    let Some(properties) = table["properties"].as_object() else {
        return;
    };
    for (name, property) in properties {
        let key = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let property = property["oneOf"]
            .as_array()
            .and_then(|options| options.iter().find(|option| option["type"] != "null"))
            .unwrap_or(property);
        let resolved = property["$ref"]
            .as_str()
            .and_then(|location| named.get(location.rsplit('/').next()?))
            .unwrap_or(property);
        if resolved["properties"].is_object() {
            collect(resolved, &key, named, descriptions);
        } else {
            let text = property["description"].as_str().unwrap_or_default();
            descriptions.insert(key, text.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
}

#[cfg(test)]
// figment's Jail hands closures its own large error type; nothing to shrink here.
#[allow(clippy::result_large_err)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    const START: &str = "<!-- config-reference:start -->";
    const END: &str = "<!-- config-reference:end -->";

    #[test]
    fn every_serialized_key_is_described_and_nothing_else() {
        let declared: BTreeSet<String> = declared_keys().into_iter().collect();
        let described: BTreeSet<String> = descriptions().into_keys().collect();
        assert_eq!(
            declared, described,
            "the serialized keys (left) and the schema's (right) differ: an optional table \
             must be present in declared_keys' Config, and a field must serialize as it is declared"
        );
        for key in keys() {
            assert!(
                !key.description.is_empty(),
                "{}: give the field a doc comment, its entry in the configuration reference",
                key.name
            );
        }
    }

    #[test]
    fn keys_keep_declaration_order_and_the_environment_rule() {
        let keys = keys();
        let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(
            names[..3],
            ["data_dir", "database_url", "database_max_connections"]
        );
        let at = |name: &str| names.iter().position(|n| *n == name).unwrap();
        assert!(at("worker_heartbeat_seconds") < at("amazon.lwa_client_id"));
        assert!(at("sync.stale_after_hours") < at("clock.speed"));
        assert_eq!(names.last(), Some(&"clock.origin"));
        let retries = keys.iter().find(|k| k.name == "sync.retries").unwrap();
        assert_eq!(retries.env, "AMZSYNC_SYNC__RETRIES");
        assert_eq!(retries.default.as_deref(), Some("3"));
        let secret = keys
            .iter()
            .find(|k| k.name == "amazon.lwa_client_secret")
            .unwrap();
        assert_eq!(secret.default, None);
        let cron = keys.iter().find(|k| k.name == "sync.inventory_cron").unwrap();
        assert_eq!(cron.default.as_deref(), Some("0 2 * * *"));
    }

    #[test]
    fn every_environment_variable_is_a_key_the_configuration_accepts() {
        for key in keys() {
            let Some(default) = key.default else { continue };
            figment::Jail::expect_with(|jail| {
                jail.set_env(&key.env, &default);
                Config::load(None).unwrap_or_else(|e| panic!("{}={default}: {e:#}", key.env));
                Ok(())
            });
        }
    }

    #[test]
    fn a_pipe_does_not_end_its_cell() {
        let table = markdown();
        let line = table
            .lines()
            .find(|l| l.starts_with("| `encryption_key` "))
            .unwrap();
        assert!(line.contains("urandom \\| base64"), "{line}");
        assert_eq!(line.matches(" | ").count(), 3, "{line}");
    }

    /// docs/deployment.md's table is this generated one; with
    /// `AMZSYNC_TEST_UPDATE_DOCS=1` the test rewrites it.
    #[test]
    fn the_deployment_guide_holds_the_generated_reference() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/deployment.md");
        let text = std::fs::read_to_string(&path).unwrap();
        let (head, rest) = text
            .split_once(START)
            .unwrap_or_else(|| panic!("docs/deployment.md lost its {START} marker"));
        let (block, tail) = rest
            .split_once(END)
            .unwrap_or_else(|| panic!("docs/deployment.md lost its {END} marker"));
        let generated = format!("\n\n{}\n", markdown());
        if block == generated {
            return;
        }
        if std::env::var_os("AMZSYNC_TEST_UPDATE_DOCS").is_some() {
            std::fs::write(&path, format!("{head}{START}{generated}{END}{tail}")).unwrap();
            return;
        }
        let (documented, wanted) = block
            .lines()
            .zip(generated.lines())
            .find(|(documented, wanted)| documented != wanted)
            .unwrap_or(("(a line more or less)", ""));
        panic!(
            "docs/deployment.md's configuration reference is not the one generated from \
             crates/app/src/config.rs; regenerate it with\n\n    \
             AMZSYNC_TEST_UPDATE_DOCS=1 cargo nextest run -p amzsync the_deployment_guide_holds_the_generated_reference\n\n\
             first difference:\n  documented: {documented}\n  generated:  {wanted}"
        );
    }
}
