//! What commands print on stdout: aligned tables and fields for people, JSON with `--json`,
//! secrets redacted unless `--show-secrets`.

use std::io::{self, Write as _};

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::exit::CliError;

/// What replaces a secret in the output.
pub const REDACTED: &str = "[redacted]";

/// JSON keys whose string values are secrets.
const SECRET_KEYS: &[&str] = &[
    "jwsToken",
    "secret",
    "accessToken",
    "access_token",
    "refreshToken",
    "refresh_token",
    "clientSecret",
    "client_secret",
];

/// How to print: text or JSON, secrets shown or not.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// `--json`.
    pub json: bool,
    /// `--show-secrets`.
    pub show_secrets: bool,
}

impl Output {
    /// Prints `value` as pretty JSON, redacting secrets unless asked not to.
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), CliError> {
        let mut value = to_value(value)?;
        if !self.show_secrets {
            redact(&mut value);
        }
        let text = serde_json::to_string_pretty(&value).map_err(unprintable)?;
        write_stdout(&format!("{text}\n"));
        Ok(())
    }

    /// Prints `value` as one compact JSON line (a stream of events), redacting secrets.
    pub fn json_line<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), CliError> {
        let mut value = to_value(value)?;
        if !self.show_secrets {
            redact(&mut value);
        }
        write_stdout(&format!("{value}\n"));
        Ok(())
    }

    /// A secret for text output: itself with `--show-secrets`, else a placeholder.
    pub fn secret(&self, value: &str) -> String {
        if self.show_secrets {
            value.to_owned()
        } else {
            format!("{REDACTED} (--show-secrets prints it)")
        }
    }
}

fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, CliError> {
    serde_json::to_value(value).map_err(unprintable)
}

fn unprintable(error: serde_json::Error) -> CliError {
    CliError::Refused {
        kind: "output",
        message: format!("cannot print JSON: {error}"),
    }
}

/// Replaces the string values of secret keys, at any depth.
pub fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if SECRET_KEYS.contains(&key.as_str()) && value.is_string() {
                    *value = Value::String(REDACTED.to_owned());
                } else {
                    redact(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

/// Writes a line to stdout.
pub fn line(text: impl AsRef<str>) {
    write_stdout(&format!("{}\n", text.as_ref()));
}

/// Writes to stdout. A closed pipe (`byova … | head`) is not an error worth reporting.
pub fn write_stdout(text: &str) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// A table with a header row; columns padded to their widest cell, the last one not padded.
pub fn table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let header: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    for row in std::iter::once(&header).chain(rows) {
        let last = row.len().saturating_sub(1);
        for (index, cell) in row.iter().enumerate() {
            text.push_str(cell);
            if index < last {
                let pad = widths[index] - cell.chars().count() + 2;
                text.extend(std::iter::repeat_n(' ', pad));
            }
        }
        text.push('\n');
    }
    write_stdout(&text);
}

/// `name: value` lines with the values aligned; `None` values are left out.
pub fn fields(pairs: &[(&str, Option<String>)]) {
    let present: Vec<(&str, &String)> = pairs
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|value| (*name, value)))
        .collect();
    let width = present
        .iter()
        .map(|(name, _)| name.chars().count())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for (name, value) in present {
        let pad = width - name.chars().count();
        text.push_str(name);
        text.push(':');
        text.extend(std::iter::repeat_n(' ', pad + 1));
        text.push_str(value);
        text.push('\n');
    }
    write_stdout(&text);
}

/// A timestamp as RFC 3339 to the second (`2025-06-01T12:00:00Z`).
pub fn time(at: OffsetDateTime) -> String {
    let at = at.replace_nanosecond(0).unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// An optional cell: the value or `-`.
pub fn cell(value: Option<&str>) -> String {
    value.unwrap_or("-").to_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secrets_are_redacted_at_any_depth_and_only_strings() {
        let mut value = json!({
            "id": "ds-1",
            "jwsToken": "eyJ.secret",
            "items": [{"secret": "hmac", "name": "n"}],
            "nested": {"accessToken": "a", "refresh_token": "r"},
            "secret": null,
        });
        redact(&mut value);
        assert_eq!(
            value,
            json!({
                "id": "ds-1",
                "jwsToken": REDACTED,
                "items": [{"secret": REDACTED, "name": "n"}],
                "nested": {"accessToken": REDACTED, "refresh_token": REDACTED},
                "secret": null,
            })
        );
    }
}
