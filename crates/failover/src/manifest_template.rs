//! Manifest templates: `.rtm` text with `{placeholders}`, for operators whose owner badge
//! sits in an access-manager component. Checked when the config loads (unknown placeholders
//! name their line; `{new_key}` must be used); rendered and compiled by `tx`, which also runs
//! the manifest guard on the result.
//!
//! Its own module so `config` (which loads a template) and `tx` (which renders one and reads
//! the `Config`) import in one direction: config -> manifest_template <- tx -> config.

use std::path::PathBuf;

use crate::manifest_guard::ManifestRefusal;

/// Placeholders a manifest template may use.
pub const PLACEHOLDERS: [&str; 6] = [
    "account",
    "validator",
    "new_key",
    "fee",
    "owner_badge",
    "owner_badge_id",
];

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("line {line}: unknown placeholder {{{name}}} (known: {{account}} {{validator}} {{new_key}} {{fee}} {{owner_badge}} {{owner_badge_id}})")]
    UnknownPlaceholder { line: usize, name: String },
    #[error("the template never uses {{new_key}}, so it would not set the new key")]
    NoNewKey,
    #[error("{0}")]
    Refused(ManifestRefusal),
    #[error("line {line}: the manifest does not compile: {kind}\n{diagnostics}")]
    Compile {
        line: usize,
        kind: String,
        diagnostics: String,
    },
}

/// A manifest template (`.rtm` text with `{placeholders}`), checked when the config loads.
#[derive(Debug, Clone)]
pub struct ManifestTemplate {
    pub path: PathBuf,
    pub text: String,
}

impl ManifestTemplate {
    /// Checks the placeholders (unknown ones are errors naming the line; `{new_key}` must be used).
    pub fn parse(path: PathBuf, text: String) -> Result<Self, TemplateError> {
        let mut uses_new_key = false;
        for (i, line) in text.lines().enumerate() {
            for name in placeholders_in(line) {
                if !PLACEHOLDERS.contains(&name) {
                    return Err(TemplateError::UnknownPlaceholder {
                        line: i + 1,
                        name: name.to_string(),
                    });
                }
                uses_new_key |= name == "new_key";
            }
        }
        if !uses_new_key {
            return Err(TemplateError::NoNewKey);
        }
        Ok(ManifestTemplate { path, text })
    }

    /// Substitutes the placeholders. Values never contain newlines, so line numbers stay the
    /// same and compile errors can name the template's line.
    pub fn render(&self, values: &TemplateValues) -> String {
        let mut out = String::with_capacity(self.text.len() + 256);
        let mut rest = self.text.as_str();
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            match after.find('}').map(|end| (&after[..end], end)) {
                Some((name, end)) if is_identifier(name) => {
                    out.push_str(values.get(name).unwrap_or(name));
                    rest = &after[end + 1..];
                }
                _ => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

/// `{name}` occurrences whose content is an identifier. Other braces are left alone.
fn placeholders_in(line: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) if is_identifier(&after[..end]) => {
                found.push(&after[..end]);
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    found
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Values substituted into a template.
#[derive(Debug, Clone)]
pub struct TemplateValues {
    pub account: String,
    pub validator: String,
    pub new_key: String,
    pub fee: String,
    pub owner_badge: String,
    pub owner_badge_id: String,
}

impl TemplateValues {
    fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "account" => &self.account,
            "validator" => &self.validator,
            "new_key" => &self.new_key,
            "fee" => &self.fee,
            "owner_badge" => &self.owner_badge,
            "owner_badge_id" => &self.owner_badge_id,
            _ => return None,
        })
    }
}
