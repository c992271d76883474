//! The shape of a config error, shared by every config section (`config`, `alerts`,
//! `metrics`): one field, the value as written, the problem and the fix. The lowest layer of
//! the config, so each section can own its raw and validated types and still import in one
//! direction.

use std::time::Duration;

use url::Url;

/// A field problem: (field, value, problem, fix).
pub type FieldProblem = (&'static str, String, String, String);

pub fn problem(
    field: &'static str,
    value: &str,
    p: impl Into<String>,
    fix: impl Into<String>,
) -> FieldProblem {
    (field, value.to_string(), p.into(), fix.into())
}

/// A URL as written; `shown` is the value an error quotes (`REDACTED` for a secret one) and
/// `fix` what to write instead. Each caller then checks its own schemes.
pub fn url_text(
    field: &'static str,
    raw: &str,
    shown: &str,
    fix: &str,
) -> Result<Url, FieldProblem> {
    Url::parse(raw.trim()).map_err(|e| problem(field, shown, format!("not a URL ({e})"), fix))
}

/// A duration as written (`"5s"`, `"500ms"`, `"2m"`); `fix` shows what to write instead. Each
/// caller then checks its own lower bound.
pub fn duration_text(field: &'static str, s: &str, fix: &str) -> Result<Duration, FieldProblem> {
    humantime::parse_duration(s.trim())
        .map_err(|e| problem(field, s, format!("not a duration ({e})"), fix))
}
