//! Secrets out of text from elsewhere: a vendor's error message may echo the token it
//! refused (`invalid token 'eyJ...'`), and such text reaches errors, logs and reports.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// What replaces a secret in scrubbed text.
pub const REDACTED: &str = "<redacted>";

/// Secrets shorter than this are not looked for: every text would lose its letters to a
/// one-character "token", and no real credential is that short.
const SHORTEST: usize = 4;

/// Finds the secrets a client holds in text, in every form a vendor might echo them: as
/// they are, in any case, percent-encoded (as in a URL or a form), base64-encoded (as in a
/// Basic `Authorization` header, with or without padding, standard or URL-safe), and
/// JSON-escaped; and replaces each with `<redacted>`.
///
/// `Debug` shows only how many forms it looks for.
///
/// ```
/// use userbatch_core::Scrubber;
///
/// let scrubber = Scrubber::new(["s3cret-Token/1", "ada:pa55word"]);
/// assert_eq!(scrubber.scrub("invalid token 'S3CRET-token/1'"), "invalid token '<redacted>'");
/// assert_eq!(scrubber.scrub("token=s3cret-Token%2F1"), "token=<redacted>");
/// // `Basic base64(ada:pa55word)`.
/// assert_eq!(scrubber.scrub("Basic YWRhOnBhNTV3b3Jk refused"), "Basic <redacted> refused");
/// assert_eq!(scrubber.scrub("nothing to hide"), "nothing to hide");
/// ```
#[derive(Clone, Default)]
pub struct Scrubber {
    /// Every form of every secret, in ASCII lower case, longest first.
    forms: Vec<String>,
}

impl Scrubber {
    /// A scrubber for these secrets (those under four characters are ignored).
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut forms = Vec::new();
        for secret in secrets {
            let secret = secret.as_ref();
            if secret.chars().count() < SHORTEST {
                continue;
            }
            let b64 = |engine: &base64::engine::GeneralPurpose| engine.encode(secret);
            let json = serde_json::to_string(secret).unwrap_or_default();
            let candidates = [
                secret.to_owned(),
                utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string(),
                form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
                b64(&base64::engine::general_purpose::STANDARD),
                b64(&base64::engine::general_purpose::STANDARD_NO_PAD),
                b64(&base64::engine::general_purpose::URL_SAFE_NO_PAD),
                json.trim_matches('"').to_owned(),
            ];
            for form in candidates {
                let form = form.to_ascii_lowercase();
                if form.len() >= SHORTEST && !forms.contains(&form) {
                    forms.push(form);
                }
            }
        }
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        Self { forms }
    }

    /// Whether it looks for nothing.
    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }

    /// `text` with every form of every secret replaced by `<redacted>` (borrowed when there
    /// is none). Matching ignores ASCII case, which can only hide more.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.forms.is_empty() || text.len() < SHORTEST {
            return Cow::Borrowed(text);
        }
        let lower = text.to_ascii_lowercase();
        let mut hits: Vec<(usize, usize)> = Vec::new();
        for form in &self.forms {
            for at in memchr::memmem::find_iter(lower.as_bytes(), form.as_bytes()) {
                hits.push((at, at + form.len()));
            }
        }
        if hits.is_empty() {
            return Cow::Borrowed(text);
        }
        hits.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut done = 0;
        for (start, end) in hits {
            // A form is whole UTF-8, so a match starts and ends on character boundaries;
            // overlapping matches extend the one before.
            if end <= done {
                continue;
            }
            if start >= done {
                out.push_str(text.get(done..start).unwrap_or_default());
                out.push_str(REDACTED);
            }
            done = end;
        }
        out.push_str(text.get(done..).unwrap_or_default());
        Cow::Owned(out)
    }
}

impl fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scrubber(<{} forms>)", self.forms.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_secret_is_hidden_and_nothing_else() {
        let token = "tok_3f9A+b/c=";
        let s = Scrubber::new([token]);
        for (text, expected) in [
            (
                "invalid token 'tok_3f9A+b/c='",
                "invalid token '<redacted>'",
            ),
            ("TOK_3F9A+B/C=", "<redacted>"),
            (
                "?access_token=tok_3f9A%2Bb%2Fc%3D&x",
                "?access_token=<redacted>&x",
            ),
            ("a=tok_3f9A%2Bb%2Fc%3D", "a=<redacted>"),
            ("got dG9rXzNmOUErYi9jPQ==", "got <redacted>"),
            ("got dG9rXzNmOUErYi9jPQ", "got <redacted>"),
            ("tok_3f9A+b/c=tok_3f9A+b/c=", "<redacted><redacted>"),
            ("é tok_3f9A+b/c= ü", "é <redacted> ü"),
            ("tok_3f9A", "tok_3f9A"),
        ] {
            assert_eq!(s.scrub(text), expected, "{text}");
        }
        // JSON-escaped, as a message quoting it in JSON would hold it.
        let s = Scrubber::new(["a\"quoted\"secret"]);
        assert_eq!(
            s.scrub(r#"{"t": "a\"quoted\"secret"}"#),
            r#"{"t": "<redacted>"}"#
        );
        // Too short to look for.
        assert!(Scrubber::new(["t", "abc"]).is_empty());
        assert_eq!(Scrubber::new(["t"]).scrub("the token"), "the token");
    }
}
