//! The rules' text and lists: borrowed in the generated constants, owned when read from a
//! spec.

use std::borrow::Cow;

/// Text in the rules: borrowed in constants, owned when read from a spec.
pub type Text = Cow<'static, str>;

/// A list in the rules.
pub type List<T> = Cow<'static, [T]>;
