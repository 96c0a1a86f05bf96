//! `--profile NAME` and `idenfy profiles`: an account's base URL, key and secret from the config
//! file, beaten by the flags and the environment; a config file that is not trusted, or that
//! holds a secret others can read, is refused; the secret is never printed.

mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use idenfy_sandbox::scan_refs;
use support::{TEST_KEY, TEST_SECRET, TestSandbox, idenfy, run, table_value};

/// A base URL where nothing listens: a profile's URL a flag must beat.
const NOWHERE: &str = "http://127.0.0.1:9";

/// Writes `text` as a config file with `mode` in a new directory.
fn config_file(text: &str, mode: u32) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    (dir, path)
}

/// The sandbox's account as a profile named `sandbox`, plus `other` with wrong credentials.
fn profiles_for(sandbox: &TestSandbox) -> String {
    format!(
        "[profiles.sandbox]\nbase_url = \"{}\"\napi_key = \"{TEST_KEY}\"\napi_secret = \"{TEST_SECRET}\"\n\n\
         [profiles.other]\nbase_url = \"{NOWHERE}\"\napi_key = \"other-key\"\napi_secret = \"other-secret\"\n",
        sandbox.base_url()
    )
}

fn idenfy_with_config(config: &Path) -> Command {
    let mut command = idenfy();
    command
        .env("IDENFY_CONFIG", config)
        .args(["--timeout", "5", "--retries", "0"]);
    command
}

fn assert_approved(output: &support::Output) {
    output.assert_code(0);
    assert_eq!(
        table_value(&output.stdout, "overall status"),
        Some("APPROVED"),
        "{}",
        output.stdout
    );
}

#[test]
fn a_profile_supplies_the_base_url_key_and_secret() {
    let sandbox = TestSandbox::start();
    let (_dir, config) = config_file(&profiles_for(&sandbox), 0o600);
    let output = run(idenfy_with_config(&config).args([
        "--profile",
        "sandbox",
        "full-status",
        scan_refs::APPROVED,
    ]));
    assert_approved(&output);
    let output = run(idenfy_with_config(&config)
        .env("IDENFY_PROFILE", "sandbox")
        .args(["full-status", scan_refs::APPROVED]));
    assert_approved(&output);
}

#[test]
fn the_config_file_is_found_under_xdg_config_home_and_then_home() {
    let sandbox = TestSandbox::start();
    let dir = tempfile::tempdir().unwrap();
    for config_dir in [
        dir.path().join("xdg/idenfy"),
        dir.path().join("home/.config/idenfy"),
    ] {
        std::fs::create_dir_all(&config_dir).unwrap();
        let path = config_dir.join("config.toml");
        std::fs::write(&path, profiles_for(&sandbox)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut from_xdg = idenfy();
    from_xdg
        .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
        .env("HOME", dir.path().join("nowhere"));
    let mut from_home = idenfy();
    from_home
        .env_remove("XDG_CONFIG_HOME")
        .env("HOME", dir.path().join("home"));
    for mut command in [from_xdg, from_home] {
        let output =
            run(command.args(["--profile", "sandbox", "full-status", scan_refs::APPROVED]));
        assert_approved(&output);
    }
}

#[test]
fn a_flag_beats_the_profile() {
    let sandbox = TestSandbox::start();
    let text = format!(
        "[profiles.sandbox]\nbase_url = \"{NOWHERE}\"\napi_key = \"{TEST_KEY}\"\napi_secret = \"{TEST_SECRET}\"\n"
    );
    let (_dir, config) = config_file(&text, 0o600);
    let output = run(idenfy_with_config(&config).args([
        "--profile",
        "sandbox",
        "--base-url",
        &sandbox.base_url(),
        "full-status",
        scan_refs::APPROVED,
    ]));
    assert_approved(&output);
}

#[test]
fn the_environment_beats_the_profile() {
    let sandbox = TestSandbox::start();
    let (_dir, config) = config_file(&profiles_for(&sandbox), 0o600);
    // The profile `other` has another account and a base URL where nothing listens.
    let output = run(idenfy_with_config(&config)
        .env("IDENFY_BASE_URL", sandbox.base_url())
        .env("IDENFY_API_KEY", TEST_KEY)
        .env("IDENFY_API_SECRET", TEST_SECRET)
        .args(["--profile", "other", "full-status", scan_refs::APPROVED]));
    assert_approved(&output);
}

#[test]
fn a_key_or_secret_that_would_pair_with_the_profiles_other_half_is_refused() {
    let sandbox = TestSandbox::start();
    let (_dir, config) = config_file(&profiles_for(&sandbox), 0o600);
    for variable in ["IDENFY_API_KEY", "IDENFY_API_SECRET"] {
        let output = run(idenfy_with_config(&config)
            .env(variable, "from-the-environment")
            .args(["--profile", "sandbox", "full-status", scan_refs::APPROVED]));
        output.assert_code(2);
        assert!(
            output.stderr.contains("give both, or neither"),
            "{}",
            output.stderr
        );
        assert!(!output.stderr.contains(TEST_SECRET), "{}", output.stderr);
    }
}

#[test]
fn a_secret_from_the_environment_completes_a_profile_without_one() {
    let sandbox = TestSandbox::start();
    let text = format!(
        "[profiles.sandbox]\nbase_url = \"{}\"\napi_key = \"{TEST_KEY}\"\n",
        sandbox.base_url()
    );
    // No secret in it: readable by others is fine.
    let (_dir, config) = config_file(&text, 0o644);
    let output = run(idenfy_with_config(&config)
        .env("IDENFY_API_SECRET", TEST_SECRET)
        .args(["--profile", "sandbox", "full-status", scan_refs::APPROVED]));
    assert_approved(&output);
}

#[test]
fn a_config_with_a_secret_that_others_can_read_is_refused_naming_file_and_mode() {
    let sandbox = TestSandbox::start();
    for mode in [0o644, 0o640, 0o604] {
        let (_dir, config) = config_file(&profiles_for(&sandbox), mode);
        for command in [
            vec!["--profile", "sandbox", "full-status", scan_refs::APPROVED],
            vec!["profiles"],
        ] {
            let output = run(idenfy_with_config(&config).args(&command));
            output.assert_code(2);
            assert!(
                output.stderr.contains(&format!("Permissions {mode:04o}"))
                    && output.stderr.contains(&config.display().to_string()),
                "{}",
                output.stderr
            );
            assert!(!output.stderr.contains(TEST_SECRET), "{}", output.stderr);
            assert!(output.stdout.is_empty(), "{}", output.stdout);
        }
    }
}

#[test]
fn a_config_others_can_write_is_refused_even_without_a_secret() {
    let sandbox = TestSandbox::start();
    let text = format!(
        "[profiles.sandbox]\nbase_url = \"{}\"\n",
        sandbox.base_url()
    );
    let (_dir, config) = config_file(&text, 0o666);
    let output = run(idenfy_with_config(&config)
        .env("IDENFY_API_KEY", TEST_KEY)
        .env("IDENFY_API_SECRET", TEST_SECRET)
        .args(["--profile", "sandbox", "full-status", scan_refs::APPROVED]));
    output.assert_code(2);
    assert!(output.stderr.contains("0666"), "{}", output.stderr);
}

#[test]
#[cfg_attr(
    not(idenfy_tests_as_root),
    ignore = "giving a file to another user needs root"
)]
fn another_users_config_is_refused() {
    let sandbox = TestSandbox::start();
    let (_dir, config) = config_file(&profiles_for(&sandbox), 0o600);
    support::give_to_another_user(&config);
    let output = run(idenfy_with_config(&config).args([
        "--profile",
        "sandbox",
        "full-status",
        scan_refs::APPROVED,
    ]));
    output.assert_code(2);
    assert!(
        output.stderr.contains("another user")
            && output.stderr.contains(&config.display().to_string()),
        "{}",
        output.stderr
    );
}

#[test]
fn a_link_to_a_config_is_followed_and_the_file_it_reaches_is_checked() {
    let sandbox = TestSandbox::start();
    let (dir, config) = config_file(&profiles_for(&sandbox), 0o600);
    let link = dir.path().join("link.toml");
    std::os::unix::fs::symlink(&config, &link).unwrap();
    let lookup = ["--profile", "sandbox", "full-status", scan_refs::APPROVED];
    assert_approved(&run(idenfy_with_config(&link).args(lookup)));
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = run(idenfy_with_config(&link).args(lookup));
    output.assert_code(2);
    assert!(
        output.stderr.contains("Permissions 0644"),
        "{}",
        output.stderr
    );
}

#[test]
fn an_unknown_profile_is_refused_listing_the_profiles_there_are() {
    let sandbox = TestSandbox::start();
    let (_dir, config) = config_file(&profiles_for(&sandbox), 0o600);
    let output = run(idenfy_with_config(&config).args([
        "--profile",
        "prod",
        "full-status",
        scan_refs::APPROVED,
    ]));
    output.assert_code(2);
    assert!(
        output.stderr.contains("no profile `prod`") && output.stderr.contains("other, sandbox"),
        "{}",
        output.stderr
    );
}

#[test]
fn a_profile_without_a_config_file_is_refused_naming_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.toml");
    let output = run(idenfy_with_config(&missing).args(["--profile", "prod", "status", "x"]));
    output.assert_code(2);
    assert!(
        output.stderr.contains(&missing.display().to_string()),
        "{}",
        output.stderr
    );
    let output = run(idenfy().args(["--profile", "prod", "status", "x"]));
    output.assert_code(2);
    assert!(
        output
            .stderr
            .contains("idenfy-tests-have-no-home/.config/idenfy/config.toml"),
        "{}",
        output.stderr
    );
}

#[test]
fn unknown_keys_are_refused_naming_the_file_and_the_key() {
    let (_dir, config) = config_file(
        "[profiles.prod]\napi_key = \"k\"\nproxy_url = \"http://proxy.example:3128\"\n",
        0o600,
    );
    let output = run(idenfy_with_config(&config).args(["--profile", "prod", "status", "x"]));
    output.assert_code(2);
    assert!(
        output.stderr.contains("`proxy_url`")
            && output.stderr.contains(&config.display().to_string())
            && !output.stderr.contains("proxy.example"),
        "{}",
        output.stderr
    );
}

#[test]
fn a_config_file_over_a_mebibyte_is_not_parsed() {
    let text = format!("# {}\n", "x".repeat(1024 * 1024));
    let (_dir, config) = config_file(&text, 0o600);
    let output = run(idenfy_with_config(&config).arg("profiles"));
    output.assert_code(2);
    assert!(output.stderr.contains("larger than"), "{}", output.stderr);
}

#[test]
fn profiles_lists_each_profile_and_never_its_secret() {
    let sandbox = TestSandbox::start();
    let text = format!(
        "{}\n[profiles.keyless]\nbase_url = \"https://ivs.idenfy.com\"\n",
        profiles_for(&sandbox)
    );
    let (_dir, config) = config_file(&text, 0o600);
    let output = run(idenfy_with_config(&config).arg("profiles"));
    output.assert_code(0);
    let lines: Vec<&str> = output.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "keyless\thttps://ivs.idenfy.com\t-\tno secret",
            &format!("other\t{NOWHERE}\tother-key\tsecret set"),
            &format!("sandbox\t{}\t{TEST_KEY}\tsecret set", sandbox.base_url()),
        ]
    );
    for secret in [TEST_SECRET, "other-secret"] {
        assert!(!output.stdout.contains(secret) && !output.stderr.contains(secret));
    }
}

#[test]
fn profiles_without_a_config_file_says_there_are_none() {
    let output = run(idenfy().arg("profiles"));
    output.assert_code(0);
    assert!(output.stdout.is_empty(), "{}", output.stdout);
    assert!(output.stderr.contains("no profiles"), "{}", output.stderr);
}
