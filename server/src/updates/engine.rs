//! Rendering stakeholder-update templates with MiniJinja, sandboxed: no
//! loader (so no file or network access), strict undefined variables, a fuel
//! limit on the work a template may do, and a cap on the text it may produce.
//! A template is checked on save: its syntax (with line and column) and its
//! variables (each must exist and be allowed for the audience).

use app::domain::update::{Audience, MAX_UPDATE_CHARS, check_variables};
use minijinja::{Environment, ErrorKind, UndefinedBehavior};

/// How much work one render may do (MiniJinja fuel: roughly one unit per instruction).
const FUEL: u64 = 50_000;
/// The longest template source accepted.
pub const MAX_TEMPLATE_CHARS: usize = 20_000;
/// The most bytes a render may write: the text cap, in UTF-8's widest case.
const MAX_OUTPUT_BYTES: usize = MAX_UPDATE_CHARS * 4;

/// Where a render writes: stops the render as soon as it goes past the cap,
/// so a template built to write a gigabyte never holds more than the cap.
struct Capped {
    out: Vec<u8>,
    overflowed: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > MAX_OUTPUT_BYTES {
            self.overflowed = true;
            return Err(std::io::Error::other("the output cap was reached"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn too_long(what: &str, limit: usize) -> TemplateError {
    TemplateError { line: None, column: None, reason: format!("the {what} more than {limit} characters") }
}

/// Why a template was refused, with where when known.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct TemplateError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub reason: String,
}

impl TemplateError {
    fn describe(&self) -> String {
        match (self.line, self.column) {
            (Some(line), Some(column)) => format!("line {line}, column {column}: {}", self.reason),
            (Some(line), None) => format!("line {line}: {}", self.reason),
            _ => self.reason.clone(),
        }
    }
}

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    // Plain text for people, not HTML: pages escape it when they show it.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env
}

/// The 1-based column of byte `offset` in `source`.
fn column_of(source: &str, offset: usize) -> usize {
    let before = &source[..offset.min(source.len())];
    before.rsplit('\n').next().map_or(0, |line| line.chars().count()) + 1
}

fn from_minijinja(source: &str, error: &minijinja::Error) -> TemplateError {
    let column = error.range().map(|range| column_of(source, range.start));
    let reason = match error.kind() {
        ErrorKind::OutOfFuel => "the template does too much work (a loop that does not end?)".to_owned(),
        _ => error.detail().map_or_else(|| error.kind().to_string(), str::to_owned),
    };
    TemplateError { line: error.line(), column, reason }
}

/// Checks a template for `audience`: it parses, and uses only variables it may.
pub fn check(audience: Audience, source: &str) -> Result<(), TemplateError> {
    if source.chars().count() > MAX_TEMPLATE_CHARS {
        return Err(too_long("template has", MAX_TEMPLATE_CHARS));
    }
    let env = environment();
    let template = env.template_from_str(source).map_err(|e| from_minijinja(source, &e))?;
    let used = template.undeclared_variables(false);
    check_variables(audience, used.iter().map(String::as_str)).map_err(|reason| TemplateError {
        line: line_of_name(source, &used),
        column: None,
        reason,
    })
}

/// The first line that mentions any variable of `used` not allowed; for the message.
fn line_of_name(source: &str, used: &std::collections::HashSet<String>) -> Option<usize> {
    let mut names: Vec<&String> = used.iter().collect();
    names.sort();
    names.iter().find_map(|name| source.lines().position(|line| line.contains(name.as_str())).map(|i| i + 1))
}

/// Renders `source` with `context`. Stops templates that loop too long or write too much.
pub fn render(source: &str, context: &serde_json::Value) -> Result<String, TemplateError> {
    if source.chars().count() > MAX_TEMPLATE_CHARS {
        return Err(too_long("template has", MAX_TEMPLATE_CHARS));
    }
    let env = environment();
    let template = env.template_from_str(source).map_err(|e| from_minijinja(source, &e))?;
    let mut out = Capped { out: Vec::new(), overflowed: false };
    match template.render_captured_to(context, &mut out) {
        Ok(_) => {}
        Err(_) if out.overflowed => return Err(too_long("template produced", MAX_UPDATE_CHARS)),
        Err(error) => return Err(from_minijinja(source, &error)),
    }
    let text = String::from_utf8(out.out).map_err(|_| too_long("template produced", MAX_UPDATE_CHARS))?;
    if text.chars().count() > MAX_UPDATE_CHARS {
        return Err(too_long("template produced", MAX_UPDATE_CHARS));
    }
    Ok(text.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_syntax_error_carries_its_line_and_column() {
        let error = check(Audience::Internal, "Hello\nWe are {{ status }\n").unwrap_err();
        assert_eq!(error.line, Some(2));
        assert!(error.column.is_some());
        assert!(error.to_string().starts_with("line 2, column"), "{error}");
    }

    #[test]
    fn an_unknown_variable_is_refused_on_save() {
        let error = check(Audience::Internal, "{{ title }}\n{{ incident_titel }}").unwrap_err();
        assert!(error.reason.contains("unknown variable 'incident_titel'"));
        assert_eq!(error.line, Some(2));
    }

    #[test]
    fn a_public_template_cannot_name_the_commander() {
        assert!(check(Audience::Public, "Led by {{ commander }}").unwrap_err().reason.contains("internal"));
        assert!(check(Audience::Internal, "Led by {{ commander }}").is_ok());
    }

    #[test]
    fn a_template_that_loops_forever_is_stopped() {
        let error = render(
            "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
            &json!({}),
        )
        .unwrap_err();
        assert!(error.reason.contains("too much work"), "{error}");
    }

    #[test]
    fn huge_output_is_stopped() {
        let error = render("{{ 'x' * 100000 }}", &json!({})).unwrap_err();
        assert!(error.reason.contains("more than"), "{error}");
    }

    #[test]
    fn a_template_built_to_write_a_gigabyte_stops_at_the_cap() {
        let gigabyte = "{% for i in range(1000) %}{{ 'x' * 1000000 }}{% endfor %}";
        let error = render(gigabyte, &json!({})).unwrap_err();
        assert!(error.reason.contains("produced more than"), "{error}");
        let long_source = "x".repeat(MAX_TEMPLATE_CHARS + 1);
        assert!(check(Audience::Public, &long_source).unwrap_err().reason.contains("has more than"));
    }

    #[test]
    fn there_is_no_file_access() {
        assert!(render("{% include '/etc/passwd' %}", &json!({})).is_err());
    }
}
