//! A command's `arguments`, read by name with QEMU's errors: a missing one,
//! one of the wrong type, and (once the command has read what it takes) one
//! it does not take.

use serde_json::{Map, Value};

use super::error::CommandError;

/// The arguments of one request, taken one by one.
pub struct Args(Map<String, Value>);

impl Args {
    /// The request's arguments.
    pub fn new(arguments: Map<String, Value>) -> Args {
        Args(arguments)
    }

    /// A string the command cannot do without.
    pub fn string(&mut self, name: &str) -> Result<String, CommandError> {
        self.optional_string(name)?.ok_or_else(|| CommandError::Missing(name.to_string()))
    }

    /// A string the command can do without.
    pub fn optional_string(&mut self, name: &str) -> Result<Option<String>, CommandError> {
        match self.0.remove(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(wrong(name, "string")),
        }
    }

    /// A number the command can do without.
    pub fn optional_number(&mut self, name: &str) -> Result<Option<f64>, CommandError> {
        match self.0.remove(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_f64().map(Some).ok_or_else(|| wrong(name, "number")),
            Some(_) => Err(wrong(name, "number")),
        }
    }

    /// An integer the command can do without.
    pub fn optional_integer(&mut self, name: &str) -> Result<Option<i64>, CommandError> {
        match self.0.remove(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| wrong(name, "int")),
            Some(_) => Err(wrong(name, "int")),
        }
    }

    /// A list of strings, or one string as a list of one.
    pub fn strings(&mut self, name: &str) -> Result<Vec<String>, CommandError> {
        match self.0.remove(name) {
            None => Err(CommandError::Missing(name.to_string())),
            Some(Value::String(s)) => Ok(vec![s]),
            Some(Value::Array(items)) if !items.is_empty() => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s),
                    _ => Err(wrong(name, "array of strings")),
                })
                .collect(),
            Some(_) => Err(wrong(name, "string or non-empty array of strings")),
        }
    }

    /// A list of objects the command reads itself.
    pub fn objects(&mut self, name: &str) -> Result<Vec<Map<String, Value>>, CommandError> {
        match self.0.remove(name) {
            None => Err(CommandError::Missing(name.to_string())),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::Object(object) => Ok(object),
                    _ => Err(wrong(name, "array of objects")),
                })
                .collect(),
            Some(_) => Err(wrong(name, "array")),
        }
    }

    /// Refuses any argument the command did not read.
    pub fn finish(self) -> Result<(), CommandError> {
        match self.0.into_iter().next() {
            Some((name, _)) => Err(CommandError::Unexpected(name)),
            None => Ok(()),
        }
    }
}

fn wrong(name: &str, expected: &'static str) -> CommandError {
    CommandError::WrongType { name: name.to_string(), expected }
}
