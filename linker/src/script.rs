//! Linker scripts from templates: `{{name}}` placeholders replaced by values.

use thiserror::Error;

/// A template that could not be rendered.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ScriptError {
    /// The template uses a placeholder nobody supplied.
    #[error("linker-script template uses `{{{{{0}}}}}`, which the target definition does not provide")]
    UnknownPlaceholder(String),
    /// A `{{` without its `}}`.
    #[error("linker-script template has an unterminated `{{{{` at byte {0}")]
    Unterminated(usize),
}

/// Replaces each `{{name}}` in `template` by the value paired with `name`.
pub fn render(template: &str, values: &[(&str, String)]) -> Result<String, ScriptError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or(ScriptError::Unterminated(template.len() - rest.len() + start))?;
        let name = after[..end].trim();
        let value = values
            .iter()
            .find(|(key, _)| *key == name)
            .ok_or_else(|| ScriptError::UnknownPlaceholder(name.to_string()))?;
        out.push_str(&value.1);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_every_occurrence() {
        let out = render("a={{x}} b={{ y }} c={{x}}", &[("x", "1".into()), ("y", "2".into())]);
        assert_eq!(out.unwrap(), "a=1 b=2 c=1");
    }

    #[test]
    fn unknown_and_unterminated_placeholders_are_errors() {
        assert_eq!(
            render("{{nope}}", &[]),
            Err(ScriptError::UnknownPlaceholder("nope".into()))
        );
        assert_eq!(render("ok {{oops", &[]), Err(ScriptError::Unterminated(3)));
    }
}
