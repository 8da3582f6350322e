//! Why a run stopped or would not start. Each variant is a kind a caller acts on differently:
//! the command line maps them to its exit codes, a service to its health and logs.

use std::fmt;

/// The result of the engine's operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a run stopped, or would not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The run was refused before it changed anything: its input is unusable, its journal
    /// belongs to another run, another process holds it.
    #[error("{message}")]
    Refused {
        /// One line, naming what is wrong.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// A call to Slack failed. The client's error says which stage failed and whether a
    /// write may have been applied.
    #[error("{context}: {source}")]
    Slack {
        /// What the run was doing.
        context: String,
        /// The client's error.
        #[source]
        source: Box<slack_sessions_client::Error>,
    },
    /// Slack answered something the run cannot go on with (a cursor repeated, a user missing
    /// from an answer that must hold them).
    #[error("{0}")]
    Unexpected(String),
    /// A local file could not be read or written.
    #[error("{message}")]
    Local {
        /// One line, naming the file.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// A stop was asked for (SIGINT, SIGTERM); the journal keeps the run for the same command
    /// to resume.
    #[error("interrupted; nothing is lost: run the same command again to resume")]
    Interrupted,
}

impl Error {
    /// A refusal.
    pub fn refused(message: impl Into<String>) -> Error {
        Error::Refused {
            message: message.into(),
            hint: None,
        }
    }

    /// A local failure.
    pub fn local(message: impl Into<String>) -> Error {
        Error::Local {
            message: message.into(),
            hint: None,
        }
    }

    /// A failed call, with what the run was doing.
    pub fn slack(context: impl fmt::Display, source: slack_sessions_client::Error) -> Error {
        Error::Slack {
            context: context.to_string(),
            source: Box::new(source),
        }
    }

    /// A file operation that failed: `cannot WHAT the NOUN PATH: ERR`.
    pub fn file(what: &str, noun: &str, path: &std::path::Path, err: std::io::Error) -> Error {
        Error::local(format!(
            "cannot {what} the {noun} {}: {err}",
            path.display()
        ))
    }

    /// Adds a hint (refusals and local failures; others keep theirs).
    pub fn hint(mut self, text: impl Into<String>) -> Error {
        if let Error::Refused { hint, .. } | Error::Local { hint, .. } = &mut self {
            *hint = Some(text.into());
        }
        self
    }

    /// The hint, if any.
    pub fn hint_text(&self) -> Option<&str> {
        match self {
            Error::Refused { hint, .. } | Error::Local { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }
}
