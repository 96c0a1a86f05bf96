//! A short, safe excerpt of a response that is not the API's JSON.
//!
//! Error pages come from proxies and load balancers, but a misrouted request
//! could echo anything, so the excerpt is the HTML `<title>` (or the first
//! line), printable ASCII only, with every token that contains a digit or `@`
//! masked: document numbers, dates and e-mail addresses all do.

/// Longest excerpt kept, in characters.
const MAX_EXCERPT: usize = 80;

/// Tokens at most this long that contain digits are kept (status codes like `502`).
const MAX_KEPT_NUMBER: usize = 3;

pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    let source = html_title(&text).unwrap_or_else(|| {
        let stripped = strip_tags(&text);
        stripped
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .unwrap_or("")
            .to_owned()
    });
    let mut out = String::new();
    for token in source.split_whitespace() {
        let printable: String = token.chars().filter(|c| c.is_ascii_graphic()).collect();
        if printable.is_empty() {
            continue;
        }
        let looks_personal = printable.contains('@')
            || (printable.chars().any(|c| c.is_ascii_digit()) && printable.len() > MAX_KEPT_NUMBER);
        let token = if looks_personal {
            "***"
        } else {
            printable.as_str()
        };
        if out.len() + token.len() + 1 > MAX_EXCERPT {
            out.push_str(" ...");
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(token);
    }
    out
}

fn html_title(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find("</title")?;
    Some(text.get(open_end..close)?.to_owned())
}

fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn takes_the_html_title() {
        let page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1>nginx</body></html>";
        assert_eq!(excerpt(page), "502 Bad Gateway");
    }

    #[test]
    fn masks_numbers_and_addresses_and_limits_length() {
        let text = b"Customer JOHN born 1990-01-02 doc AB1234567 mail j@x.io";
        let shown = excerpt(text);
        assert!(!shown.contains("1990"), "{shown}");
        assert!(!shown.contains("AB1234567"), "{shown}");
        assert!(!shown.contains("j@x.io"), "{shown}");
        let long = "word ".repeat(100);
        assert!(excerpt(long.as_bytes()).len() <= 84);
    }

    #[test]
    fn first_non_empty_line_of_plain_text() {
        assert_eq!(
            excerpt(b"\n\n  Service Unavailable \nmore"),
            "Service Unavailable"
        );
    }
}
