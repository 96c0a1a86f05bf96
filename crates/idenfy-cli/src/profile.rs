//! Profiles: the accounts an analyst switches between, named in a config file, so that
//! `--profile NAME` (or `IDENFY_PROFILE`) picks an account's base URL, API key and API secret.
//!
//! The file is `$IDENFY_CONFIG`, else `$XDG_CONFIG_HOME/idenfy/config.toml`, else
//! `$HOME/.config/idenfy/config.toml`:
//!
//! ```toml
//! [profiles.prod]
//! base_url = "https://ivs.idenfy.com"
//! api_key = "..."
//! api_secret = "..."
//! signing_key = "..."   # the webhook's signing key, for `idenfy callback`
//! ```
//!
//! What the file says decides where the credentials go, so it is trusted only when it is the
//! user's own and no one else can write it; when it holds a secret, no one else may read it
//! either ([`trusted_file::check_private`]). It is checked as opened, not as named, so the file
//! read is the file checked; a link to it is followed, as ssh follows one to its config.
//!
//! A profile may also name the account's `proxy` (a URL holding a password makes the file one
//! that holds a secret) and `ca_cert` (a PEM file of root certificates). A key the file may
//! not hold is refused rather than ignored: a setting the command silently skipped would send
//! the traffic somewhere the analyst did not expect.
//! Nothing read from the file is ever shown in a message but the names of its profiles and
//! keys: a value could be a secret.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use idenfy_hyper::BaseUrl;
use idenfy_hyper::core::EscapedControls;

use crate::connect::ConnectionArgs;
use crate::failure::Failure;
use crate::trusted_file;

/// The largest config file read. A few profiles take a few hundred bytes; a file far larger
/// than that is not a config file, and is not parsed.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The keys a profile may hold.
const PROFILE_KEYS: [&str; 6] = [
    "base_url",
    "api_key",
    "api_secret",
    "signing_key",
    "proxy",
    "ca_cert",
];

/// What the file calls its role in messages.
const WHAT: &str = "the config file";

/// One account, as its profile gives it.
#[derive(Debug, Default)]
pub struct Profile {
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    pub api_secret: Option<ProfileSecret>,
    /// The webhook's signing key, which `callback verify`, `send` and `sign` use before the
    /// API secret.
    pub signing_key: Option<ProfileSecret>,
    /// A proxy URL may hold the proxy's password: kept, and shown, as a secret.
    pub proxy: Option<ProfileSecret>,
    pub ca_cert: Option<String>,
}

/// An API secret read from the config file: shown as `<redacted>` by `Debug`, and by nothing else.
pub struct ProfileSecret(String);

impl fmt::Debug for ProfileSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The config file's profiles, by name.
#[derive(Debug)]
pub struct Config {
    pub path: PathBuf,
    pub profiles: BTreeMap<String, Profile>,
}

/// Where the config file is, and which variable said so (for messages).
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigLocation {
    pub path: PathBuf,
    pub chosen_by: &'static str,
}

impl fmt::Display for ConfigLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {})", self.path.display(), self.chosen_by)
    }
}

/// Fills in, from the profile `--profile` names, what the command line and the environment left
/// unset. Without `--profile`, the config file is not read at all.
///
/// # Errors
/// A bad-input failure (exit 2) when there is no config file, it is not trusted or not valid,
/// the profile is not in it, or the profile's key and secret would be mixed with another's.
pub fn fill_in(connection: &mut ConnectionArgs) -> Result<(), Failure> {
    let Some(name) = connection.profile.clone() else {
        return Ok(());
    };
    let location = config_location(|variable| std::env::var_os(variable)).ok_or_else(|| {
        Failure::bad_input(format!(
            "--profile {}: no config file to read: none of IDENFY_CONFIG, XDG_CONFIG_HOME and \
             HOME is set",
            EscapedControls(&name)
        ))
    })?;
    let Some(mut config) = read(&location.path)? else {
        return Err(Failure::bad_input(format!(
            "--profile {}: there is no config file: looked at {location}",
            EscapedControls(&name)
        )));
    };
    let Some(profile) = config.profiles.remove(&name) else {
        let known: Vec<String> = config
            .profiles
            .keys()
            .map(|known| EscapedControls(known).to_string())
            .collect();
        let known = if known.is_empty() {
            "it has none".to_owned()
        } else {
            format!("its profiles: {}", known.join(", "))
        };
        return Err(Failure::bad_input(format!(
            "{}: no profile `{}`; {known}",
            config.path.display(),
            EscapedControls(&name)
        )));
    };
    merge(connection, profile, &name, &config.path)
}

/// The flags and the environment (which clap has already merged) win; the profile supplies only
/// what they left unset.
fn merge(
    connection: &mut ConnectionArgs,
    profile: Profile,
    name: &str,
    path: &Path,
) -> Result<(), Failure> {
    let origin = || format!("{}: profile `{}`", path.display(), EscapedControls(name));
    // A key and a secret are one account's pair: when the profile holds both, replacing only one
    // of them would send one account's key with another's secret (a stale IDENFY_API_SECRET
    // beside `--profile`, most likely). A profile with a key and no secret is the other case:
    // the secret is meant to come from the environment.
    if profile.api_key.is_some()
        && profile.api_secret.is_some()
        && connection.api_key.is_some() != connection.api_secret.is_some()
    {
        let (given, kept) = if connection.api_key.is_some() {
            ("the API key (--api-key or IDENFY_API_KEY)", "secret")
        } else {
            ("the API secret (--api-secret or IDENFY_API_SECRET)", "key")
        };
        return Err(Failure::bad_input(format!(
            "{}: it holds an API key and secret, and {given} replaces only one of them, which \
             would pair it with the profile's {kept}: give both, or neither",
            origin()
        )));
    }
    if connection.base_url.is_none()
        && let Some(url) = profile.base_url
    {
        url.parse::<BaseUrl>()
            .map_err(|err| Failure::bad_input(format!("{}: base_url: {err}", origin())))?;
        connection.base_url = Some(url);
    }
    if connection.api_key.is_none() {
        connection.api_key = profile.api_key;
    }
    if connection.api_secret.is_none() {
        connection.api_secret = profile.api_secret.map(|secret| secret.0);
    }
    connection.profile_signing_key = profile.signing_key.map(|key| key.0);
    if connection.proxy.is_none() {
        connection.proxy = profile.proxy.map(|proxy| proxy.0);
    }
    if connection.ca_cert.is_none() {
        connection.ca_cert = profile.ca_cert.map(std::path::PathBuf::from);
    }
    Ok(())
}

/// `idenfy profiles`: one line per profile, `NAME<TAB>BASE_URL<TAB>API_KEY<TAB>SECRET`, where
/// an unset value is `-` and SECRET says only whether the profile has one.
///
/// # Errors
/// As [`fill_in`] for a file that is there but not trusted or not valid; no file is not one.
pub fn list(out: &mut dyn io::Write) -> Result<(), Failure> {
    let Some(location) = config_location(|variable| std::env::var_os(variable)) else {
        eprintln!(
            "idenfy: no profiles: none of IDENFY_CONFIG, XDG_CONFIG_HOME and HOME is set, so \
             there is no config file"
        );
        return Ok(());
    };
    let Some(config) = read(&location.path)? else {
        eprintln!("idenfy: no profiles: there is no config file at {location}");
        return Ok(());
    };
    if config.profiles.is_empty() {
        eprintln!("idenfy: no profiles in {}", config.path.display());
    }
    let shown = |value: &Option<String>| {
        value.as_deref().map_or_else(
            || "-".to_owned(),
            |value| EscapedControls(value).to_string(),
        )
    };
    for (name, profile) in &config.profiles {
        let secret = if profile.api_secret.is_some() {
            "secret set"
        } else {
            "no secret"
        };
        writeln!(
            out,
            "{}\t{}\t{}\t{secret}",
            EscapedControls(name),
            shown(&profile.base_url),
            shown(&profile.api_key)
        )
        .map_err(|err| Failure::other(format!("cannot write the output: {err}")))?;
    }
    Ok(())
}

/// The config file's path from the environment `variable` gives: `IDENFY_CONFIG`, else under
/// `XDG_CONFIG_HOME`, else under `HOME`. Empty values count as unset, and so does a relative
/// `XDG_CONFIG_HOME`, as the XDG base directory specification says.
pub fn config_location(variable: impl Fn(&str) -> Option<OsString>) -> Option<ConfigLocation> {
    let set = |name: &str| variable(name).filter(|value| !value.is_empty());
    if let Some(path) = set("IDENFY_CONFIG") {
        return Some(ConfigLocation {
            path: path.into(),
            chosen_by: "IDENFY_CONFIG",
        });
    }
    if let Some(dir) = set("XDG_CONFIG_HOME").map(PathBuf::from)
        && dir.is_absolute()
    {
        return Some(ConfigLocation {
            path: dir.join("idenfy").join("config.toml"),
            chosen_by: "XDG_CONFIG_HOME",
        });
    }
    set("HOME").map(|home| ConfigLocation {
        path: PathBuf::from(home).join(".config/idenfy/config.toml"),
        chosen_by: "HOME",
    })
}

/// Reads and checks the config file at `path`; `None` when there is none.
///
/// # Errors
/// A bad-input failure naming the file when it cannot be read, is not a regular file, is too
/// large, is not trusted, or is not a valid config file.
pub fn read(path: &Path) -> Result<Option<Config>, Failure> {
    let shown = path.display();
    let file = match OpenOptions::new()
        .read(true)
        // A FIFO put in its place would block the open until someone writes it.
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => {
            return Err(Failure::bad_input(format!(
                "{shown}: cannot open {WHAT}: {err}"
            )));
        }
    };
    let metadata = file
        .metadata()
        .map_err(|err| Failure::bad_input(format!("{shown}: cannot read {WHAT}: {err}")))?;
    if !metadata.is_file() {
        return Err(Failure::bad_input(format!(
            "{shown}: {WHAT} is not a regular file"
        )));
    }
    // Before a word of it is believed: another user's file could point the credentials of the
    // environment at a server of theirs.
    trusted_file::check(path, &metadata, WHAT)?;
    let text = read_bounded(file, path)?;
    let config = Config {
        path: path.to_owned(),
        profiles: parse(&text, path)?,
    };
    if config.profiles.values().any(|profile| {
        // A proxy URL with a user and password holds a secret too.
        profile.api_secret.is_some()
            || profile.signing_key.is_some()
            || profile
                .proxy
                .as_ref()
                .is_some_and(|proxy| proxy.0.contains('@'))
    }) {
        trusted_file::check_private(path, &metadata, WHAT)?;
    }
    Ok(Some(config))
}

fn read_bounded(file: File, path: &Path) -> Result<String, Failure> {
    let shown = path.display();
    let too_large = || {
        Failure::bad_input(format!(
            "{shown}: {WHAT} is larger than {MAX_CONFIG_BYTES} bytes, so it was not read"
        ))
    };
    let mut bytes = Vec::new();
    // One byte past the cap tells a file at the cap from a larger one, even one that grows
    // after its size was read.
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| Failure::bad_input(format!("{shown}: cannot read {WHAT}: {err}")))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_large());
    }
    String::from_utf8(bytes)
        .map_err(|_| Failure::bad_input(format!("{shown}: {WHAT} is not valid UTF-8")))
}

/// The profiles of a config file's text. The document is walked by hand rather than through
/// serde's derive, whose messages quote the value of a key of the wrong type: that value could
/// be a secret. The messages here name a profile and a key, never a value.
fn parse(text: &str, path: &Path) -> Result<BTreeMap<String, Profile>, Failure> {
    let refuse = |what: String| Failure::bad_input(format!("{}: {what}", path.display()));
    let document: toml::Table = text.parse().map_err(|err: toml::de::Error| {
        // Only the position: the parser's message may quote the text around it.
        let position = err.span().map_or_else(String::new, |span| {
            let line = text[..span.start].matches('\n').count() + 1;
            format!(" at line {line}")
        });
        refuse(format!("{WHAT} is not valid TOML{position}"))
    })?;
    let mut profiles = BTreeMap::new();
    for (key, value) in document {
        if key != "profiles" {
            return Err(refuse(format!(
                "unknown key `{}`: {WHAT} holds only [profiles.NAME] tables",
                EscapedControls(&key)
            )));
        }
        let toml::Value::Table(tables) = value else {
            return Err(refuse(
                "`profiles` is not a table: write each profile as [profiles.NAME]".to_owned(),
            ));
        };
        for (name, settings) in tables {
            let shown_name = EscapedControls(&name).to_string();
            let toml::Value::Table(settings) = settings else {
                return Err(refuse(format!(
                    "`profiles.{shown_name}` is not a table: write it as [profiles.{shown_name}]"
                )));
            };
            let mut profile = Profile::default();
            for (key, value) in settings {
                let shown_key = EscapedControls(&key).to_string();
                if !PROFILE_KEYS.contains(&key.as_str()) {
                    return Err(refuse(format!(
                        "profile `{shown_name}`: unknown key `{shown_key}`; a profile holds only {}",
                        PROFILE_KEYS.join(", ")
                    )));
                }
                let toml::Value::String(value) = value else {
                    return Err(refuse(format!(
                        "profile `{shown_name}`: `{shown_key}` is not a string"
                    )));
                };
                match key.as_str() {
                    "base_url" => profile.base_url = Some(value),
                    "api_key" => profile.api_key = Some(value),
                    "signing_key" => profile.signing_key = Some(ProfileSecret(value)),
                    "proxy" => profile.proxy = Some(ProfileSecret(value)),
                    "ca_cert" => profile.ca_cert = Some(value),
                    _ => profile.api_secret = Some(ProfileSecret(value)),
                }
            }
            profiles.insert(name, profile);
        }
    }
    Ok(profiles)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t-value-9d2f";

    fn parsed(text: &str) -> Result<BTreeMap<String, Profile>, Failure> {
        parse(text, Path::new("/home/a/config.toml"))
    }

    #[test]
    fn a_profile_holds_a_base_url_a_key_and_a_secret() {
        let profiles = parsed(&format!(
            "[profiles.prod]\nbase_url = \"https://ivs.idenfy.com\"\napi_key = \"k\"\napi_secret = \"{SECRET}\"\n\n[profiles.staging]\napi_key = \"k2\"\n"
        ))
        .unwrap();
        let prod = &profiles["prod"];
        assert_eq!(prod.base_url.as_deref(), Some("https://ivs.idenfy.com"));
        assert_eq!(prod.api_key.as_deref(), Some("k"));
        assert_eq!(prod.api_secret.as_ref().unwrap().0, SECRET);
        assert!(profiles["staging"].api_secret.is_none());
        assert!(!format!("{profiles:?}").contains(SECRET));
    }

    #[test]
    fn a_profile_may_hold_the_webhooks_signing_key_shown_to_no_one() {
        let profiles = parsed(&format!(
            "[profiles.prod]\napi_key = \"k\"\nsigning_key = \"{SECRET}\"\n"
        ))
        .unwrap();
        assert_eq!(profiles["prod"].signing_key.as_ref().unwrap().0, SECRET);
        assert!(profiles["prod"].api_secret.is_none());
        assert!(!format!("{profiles:?}").contains(SECRET));
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        for (text, key) in [
            (
                "[profiles.prod]\nproxy_url = \"http://proxy:3128\"\n",
                "proxy_url",
            ),
            ("[profiles.prod]\ncacert = \"/etc/ca.pem\"\n", "cacert"),
            ("[defaults]\nprofile = \"prod\"\n", "defaults"),
        ] {
            let refused = parsed(text).unwrap_err();
            assert!(
                refused.message.contains(&format!("`{key}`"))
                    && refused.message.contains("/home/a/config.toml"),
                "{}",
                refused.message
            );
        }
    }

    #[test]
    fn no_message_quotes_a_value_of_the_file() {
        for text in [
            format!("[profiles.prod]\napi_secret = 12{SECRET}\n"),
            format!("[profiles.prod]\napi_secret = \"{SECRET}\n"),
            format!("[profiles.prod]\napi_secret = [\"{SECRET}\"]\n"),
            format!("[profiles.prod]\napi_secret = \"{SECRET}\"\napi_secret = \"{SECRET}\"\n"),
            format!("[profiles.prod]\n{SECRET}\n"),
            format!("profiles = \"{SECRET}\"\n"),
            format!("[profiles]\nprod = \"{SECRET}\"\n"),
        ] {
            let refused = parsed(&text).unwrap_err();
            assert!(!refused.message.contains(SECRET), "{}", refused.message);
            assert!(refused.message.contains("/home/a/config.toml"));
        }
    }

    #[test]
    fn the_location_follows_identy_config_then_xdg_then_home() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| OsString::from(value))
            }
        };
        let at = |path: &str, chosen_by| {
            Some(ConfigLocation {
                path: path.into(),
                chosen_by,
            })
        };
        assert_eq!(
            config_location(env(&[
                ("IDENFY_CONFIG", "/c.toml"),
                ("XDG_CONFIG_HOME", "/x"),
                ("HOME", "/h")
            ])),
            at("/c.toml", "IDENFY_CONFIG")
        );
        assert_eq!(
            config_location(env(&[("XDG_CONFIG_HOME", "/x"), ("HOME", "/h")])),
            at("/x/idenfy/config.toml", "XDG_CONFIG_HOME")
        );
        assert_eq!(
            config_location(env(&[
                ("IDENFY_CONFIG", ""),
                ("XDG_CONFIG_HOME", "relative"),
                ("HOME", "/h")
            ])),
            at("/h/.config/idenfy/config.toml", "HOME")
        );
        assert_eq!(config_location(env(&[])), None);
    }
}
