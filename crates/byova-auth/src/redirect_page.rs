//! The small HTML pages the redirect listener shows in the browser.

use std::fmt::Write as _;

/// "Signed in, you can close this window."
pub(crate) fn success() -> String {
    page(
        "Authorization successful",
        "<p>byova is now authorized. You can close this window and return to the terminal.</p>",
    )
}

/// "Authorization failed" with the provider's error, HTML-escaped.
pub(crate) fn failure(error: &str, description: Option<&str>) -> String {
    let mut body = String::from("<p>The authorization did not complete.</p><p><code>");
    escape_into(&mut body, error);
    body.push_str("</code></p>");
    if let Some(description) = description {
        body.push_str("<p>");
        escape_into(&mut body, description);
        body.push_str("</p>");
    }
    body.push_str("<p>Return to the terminal for details.</p>");
    page("Authorization failed", &body)
}

fn page(title: &str, body: &str) -> String {
    let mut html = String::with_capacity(512 + body.len());
    let _ = write!(
        html,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;margin:4em auto;max-width:36em;\
         padding:0 1em;color:#222}}code{{background:#eee;padding:0 .3em}}</style></head>\
         <body><h1>{title}</h1>{body}</body></html>"
    );
    html
}

fn escape_into(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_escapes_reflected_text() {
        let html = failure("<script>x</script>", Some("a & \"b\""));
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains("a &amp; &quot;b&quot;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("<title>Authorization failed</title>"));
    }

    #[test]
    fn success_says_so() {
        assert!(success().contains("<h1>Authorization successful</h1>"));
    }
}
