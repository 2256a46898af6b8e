//! Configuration errors: each one line naming the ids involved, so that the user
//! sees at once which option to fix. vcmux exits 2 on any of them, having started
//! nothing.

use crate::hub::MAX_BACKENDS;

/// Why a command line does not make a valid graph.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// One option string is malformed or has a bad key or value.
    #[error("{option} '{text}': {problem}")]
    Option {
        /// `-chardev` or `-frontend`.
        option: &'static str,
        /// The string as given.
        text: String,
        /// What is wrong with it.
        problem: String,
    },
    /// Two chardevs share an id.
    #[error("duplicate chardev id '{0}'")]
    DuplicateId(String),
    /// `mux-be-id` names no chardev.
    #[error("chardev '{id}': mux-be-id '{hub}' names no chardev")]
    UnknownMuxBe {
        /// The backend.
        id: String,
        /// The missing hub id.
        hub: String,
    },
    /// `mux-be-id` names a chardev that is not a hub.
    #[error("chardev '{id}': mux-be-id '{target}' is a {kind} chardev, not a mux-be or hub")]
    NotAMuxBe {
        /// The backend.
        id: String,
        /// What it named.
        target: String,
        /// That chardev's kind.
        kind: &'static str,
    },
    /// QEMU's frontend multiplexer and a backend hub on one chardev.
    #[error("chardev '{id}': mux=on and mux-be-id={hub} cannot be used together")]
    MuxAndMuxBe {
        /// The chardev.
        id: String,
        /// The hub it named.
        hub: String,
    },
    /// `mux=on` alone: QEMU's frontend multiplexer has no meaning here.
    #[error(
        "chardev '{0}': mux=on (QEMU's frontend multiplexer) is not supported; join a hub with mux-be-id=HUB"
    )]
    MuxUnsupported(String),
    /// A hub given as a backend of another hub.
    #[error("hub '{inner}' cannot be a backend of hub '{outer}': hubs do not stack")]
    StackedHub {
        /// The hub used as a backend.
        inner: String,
        /// The hub it was put in.
        outer: String,
    },
    /// A hub given as its own backend.
    #[error("hub '{0}' cannot be a backend of itself")]
    HubInItself(String),
    /// A chardev claimed by two hubs.
    #[error("chardev '{id}' is a backend of hub '{first}' and of hub '{second}': a chardev serves one hub")]
    InTwoHubs {
        /// The chardev.
        id: String,
        /// The first hub that claimed it.
        first: String,
        /// The second.
        second: String,
    },
    /// A chardev named twice by one hub.
    #[error("chardev '{id}' is given twice as a backend of hub '{hub}'")]
    ListedTwice {
        /// The chardev.
        id: String,
        /// The hub.
        hub: String,
    },
    /// `chardevs.N` names no chardev.
    #[error("hub '{hub}': chardevs.{index}={id} names no chardev")]
    UnknownInList {
        /// The hub.
        hub: String,
        /// N.
        index: usize,
        /// The missing id.
        id: String,
    },
    /// A chardev that no hub uses, while hubs exist.
    #[error("chardev '{0}' is in no hub: add mux-be-id=HUB to it, or list it in a hub's chardevs.N")]
    Orphan(String),
    /// A hub without backends.
    #[error("hub '{0}' has no backends")]
    EmptyHub(String),
    /// More than MAX_BACKENDS backends.
    #[error("hub '{hub}' has {} backends ({}): the limit is {MAX_BACKENDS}", ids.len(), ids.join(", "))]
    TooManyBackends {
        /// The hub.
        hub: String,
        /// Its backends, all of them.
        ids: Vec<String>,
    },
    /// Two console sources for one hub.
    #[error("hub '{hub}' has two frontends: {first} and {second}")]
    TwoFrontends {
        /// The hub.
        hub: String,
        /// The first source.
        first: String,
        /// The second.
        second: String,
    },
    /// A `-frontend` without `chardev=` while several hubs exist.
    #[error("-frontend '{frontend}': there are several hubs ({}), name one with chardev=ID", hubs.join(", "))]
    FrontendNeedsHub {
        /// The frontend as given.
        frontend: String,
        /// The hubs.
        hubs: Vec<String>,
    },
    /// `-frontend …,chardev=ID` naming no chardev.
    #[error("-frontend '{frontend}': chardev={id} names no chardev")]
    FrontendUnknownHub {
        /// The frontend as given.
        frontend: String,
        /// The missing id.
        id: String,
    },
    /// `-frontend …,chardev=ID` naming a chardev that is not a hub.
    #[error("-frontend '{frontend}': chardev={id} is not a mux-be or hub")]
    FrontendNotOnHub {
        /// The frontend as given.
        frontend: String,
        /// The id.
        id: String,
    },
    /// A command given while every hub has a `-frontend`.
    #[error("the command after -- has no hub to serve: every hub has a -frontend")]
    CommandWithoutHub,
    /// Several hubs lack a frontend; the command can serve only one.
    #[error("hubs {} have no frontend: the command can serve one; give the others -frontend KIND,…,chardev=ID", quoted(.0))]
    HubsWithoutFrontend(Vec<String>),
    /// Two listeners on one address.
    #[error("{first} and {second} both listen on {address}")]
    SameAddress {
        /// The first listener.
        first: String,
        /// The second.
        second: String,
        /// The address.
        address: String,
    },
    /// `-vnc …,display=ID` naming something that is not a vc.
    #[error("-vnc '{vnc}': display={id} names no vc chardev")]
    VncNotAVc {
        /// The -vnc as given.
        vnc: String,
        /// The id.
        id: String,
    },
    /// `-vnc` with no vc to show.
    #[error("-vnc '{0}': there is no vc chardev to show (add -chardev vc,id=ID,…)")]
    VncWithoutVc(String),
    /// A listener others can reach, with no password and no `auth=none`.
    #[error("-vnc '{0}': listening beyond this machine needs password-file=F, or auth=none to let anyone in")]
    VncOpenToAll(String),
    /// stdin/stdout claimed twice.
    #[error("stdio is used by {first} and by {second}: it can serve one")]
    StdioTwice {
        /// The first user.
        first: String,
        /// The second.
        second: String,
    },
}

impl ConfigError {
    /// An error about one option string.
    pub fn option(option: &'static str, text: &str, problem: impl Into<String>) -> ConfigError {
        ConfigError::Option { option, text: text.to_string(), problem: problem.into() }
    }
}

fn quoted(ids: &[String]) -> String {
    ids.iter().map(|id| format!("'{id}'")).collect::<Vec<_>>().join(", ")
}
