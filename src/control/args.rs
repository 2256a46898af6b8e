//! A command's `arguments`, read by name with QEMU's errors: a missing one,
//! one of the wrong type, and (once the command has read what it takes) one
//! it does not take.

use serde_json::{Map, Value};

use super::error::CommandError;

/// The arguments of one request, taken one by one; or the members of an
/// object inside them, named in errors by their path (`backend.data.out`).
pub struct Args {
    members: Map<String, Value>,
    /// The path of the object these are members of, with a trailing dot; empty
    /// for the arguments themselves.
    path: String,
}

impl Args {
    /// The request's arguments.
    pub fn new(arguments: Map<String, Value>) -> Args {
        Args { members: arguments, path: String::new() }
    }

    /// An object's members, read as arguments are.
    pub fn object(&mut self, name: &str) -> Result<Args, CommandError> {
        self.optional_object(name)?.ok_or_else(|| CommandError::Missing(self.name(name)))
    }

    /// An object's members, if it is there.
    pub fn optional_object(&mut self, name: &str) -> Result<Option<Args>, CommandError> {
        match self.members.remove(name) {
            None => Ok(None),
            Some(Value::Object(members)) => Ok(Some(Args { members, path: format!("{}.", self.name(name)) })),
            Some(_) => Err(self.wrong(name, "object")),
        }
    }

    /// An object's members, or none when it is not there.
    pub fn object_or_empty(&mut self, name: &str) -> Result<Args, CommandError> {
        let path = format!("{}.", self.name(name));
        Ok(self.optional_object(name)?.unwrap_or(Args { members: Map::new(), path }))
    }

    /// A boolean the command can do without.
    pub fn optional_bool(&mut self, name: &str) -> Result<Option<bool>, CommandError> {
        match self.members.remove(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(_) => Err(self.wrong(name, "boolean")),
        }
    }

    /// A string the command cannot do without.
    pub fn string(&mut self, name: &str) -> Result<String, CommandError> {
        self.optional_string(name)?.ok_or_else(|| CommandError::Missing(self.name(name)))
    }

    /// A string the command can do without.
    pub fn optional_string(&mut self, name: &str) -> Result<Option<String>, CommandError> {
        match self.members.remove(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.wrong(name, "string")),
        }
    }

    /// A number the command can do without.
    pub fn optional_number(&mut self, name: &str) -> Result<Option<f64>, CommandError> {
        match self.members.remove(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_f64().map(Some).ok_or_else(|| self.wrong(name, "number")),
            Some(_) => Err(self.wrong(name, "number")),
        }
    }

    /// An integer the command can do without.
    pub fn optional_integer(&mut self, name: &str) -> Result<Option<i64>, CommandError> {
        match self.members.remove(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| self.wrong(name, "int")),
            Some(_) => Err(self.wrong(name, "int")),
        }
    }

    /// A list of strings, or one string as a list of one.
    pub fn strings(&mut self, name: &str) -> Result<Vec<String>, CommandError> {
        match self.members.remove(name) {
            None => Err(CommandError::Missing(self.name(name))),
            Some(Value::String(s)) => Ok(vec![s]),
            Some(Value::Array(items)) if !items.is_empty() => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Ok(s),
                    _ => Err(self.wrong(name, "array of strings")),
                })
                .collect(),
            Some(_) => Err(self.wrong(name, "string or non-empty array of strings")),
        }
    }

    /// A list of objects the command reads itself.
    pub fn objects(&mut self, name: &str) -> Result<Vec<Map<String, Value>>, CommandError> {
        match self.members.remove(name) {
            None => Err(CommandError::Missing(self.name(name))),
            Some(Value::Array(items)) => items
                .into_iter()
                .map(|item| match item {
                    Value::Object(object) => Ok(object),
                    _ => Err(self.wrong(name, "array of objects")),
                })
                .collect(),
            Some(_) => Err(self.wrong(name, "array")),
        }
    }

    /// Refuses any argument the command did not read.
    pub fn finish(self) -> Result<(), CommandError> {
        match self.members.keys().next() {
            Some(name) => Err(CommandError::Unexpected(self.name(name))),
            None => Ok(()),
        }
    }

    /// A member's name as errors give it: its whole path.
    fn name(&self, member: &str) -> String {
        format!("{}{member}", self.path)
    }

    fn wrong(&self, name: &str, expected: &'static str) -> CommandError {
        CommandError::WrongType { name: self.name(name), expected }
    }
}
