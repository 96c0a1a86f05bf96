//! `idenfy completions SHELL` and `idenfy man`: the shell completions and the manual page, both
//! generated from the command line's own definition, so they name exactly the commands and
//! flags this build has.

use std::io::{self, Write};

use clap::{Args, CommandFactory as _};
use clap_complete::Shell;
use clap_mangen::Man;
use clap_mangen::roff::{Roff, roman};

use crate::failure::{Failure, exit_code_table};
use crate::{Cli, examples};

/// `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Writes the completion script for `shell` to `out`.
pub fn completions(shell: Shell, out: &mut dyn Write) -> Result<(), Failure> {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    clap_complete::generate(shell, &mut command, name, out);
    out.flush().map_err(cannot_write)
}

/// Writes the manual page to `out`: the command, then a section for each subcommand (and each
/// of theirs) with its synopsis, description and own options, so one page documents them all.
pub fn man(out: &mut dyn Write) -> Result<(), Failure> {
    let mut command = Cli::command();
    // Built, the subcommands know their full names (`idenfy callback verify`) and have the
    // global flags, which are documented once, with the command's options.
    command.build();
    let page = Man::new(command.clone());
    let mut roff = Vec::new();
    page.render_title(&mut roff).map_err(cannot_write)?;
    page.render_name_section(&mut roff).map_err(cannot_write)?;
    page.render_synopsis_section(&mut roff)
        .map_err(cannot_write)?;
    page.render_description_section(&mut roff)
        .map_err(cannot_write)?;
    page.render_options_section(&mut roff)
        .map_err(cannot_write)?;
    render_subcommands(&command, &mut roff)?;
    render_exit_codes_and_examples(&mut roff)?;
    page.render_version_section(&mut roff)
        .map_err(cannot_write)?;
    out.write_all(&roff).map_err(cannot_write)?;
    out.flush().map_err(cannot_write)
}

fn render_subcommands(parent: &clap::Command, roff: &mut Vec<u8>) -> Result<(), Failure> {
    for sub in parent
        .get_subcommands()
        .filter(|sub| !sub.is_hide_set() && sub.get_name() != "help")
    {
        let full_name = sub.get_bin_name().unwrap_or(sub.get_name()).to_owned();
        // The global flags are the command's, already documented above.
        let own = sub.clone().mut_args(|arg| {
            if arg.is_global_set() {
                arg.hide(true)
            } else {
                arg
            }
        });
        let page = Man::new(own.clone());
        let mut sections = Vec::new();
        page.render_synopsis_section(&mut sections)
            .map_err(cannot_write)?;
        page.render_description_section(&mut sections)
            .map_err(cannot_write)?;
        if own
            .get_arguments()
            .any(|arg| !arg.is_hide_set() && !arg.is_global_set())
        {
            page.render_options_section(&mut sections)
                .map_err(cannot_write)?;
        }
        writeln!(roff, ".SH \"{}\"", full_name.to_uppercase()).map_err(cannot_write)?;
        roff.extend(demote_sections(&sections));
        render_subcommands(sub, roff)?;
    }
    Ok(())
}

/// The exit codes and examples that `--help` ends with, each under its own heading and unfilled,
/// so that their rows stay one a line.
fn render_exit_codes_and_examples(out: &mut Vec<u8>) -> Result<(), Failure> {
    let mut roff = Roff::new();
    for (heading, lines) in [("EXIT STATUS", exit_code_table()), ("EXAMPLES", examples())] {
        roff.control("SH", [heading]).control("nf", []);
        for line in lines.lines() {
            roff.text([roman(line)]);
        }
        roff.control("fi", []);
    }
    roff.to_writer(out).map_err(cannot_write)
}

/// A subcommand's SYNOPSIS, DESCRIPTION and OPTIONS become subsections (`.SS`) of its own
/// section. The roff writer escapes a text line that starts with a dot, so a line that starts
/// with `.SH ` is always one of its section headings, never text.
fn demote_sections(roff: &[u8]) -> Vec<u8> {
    let mut demoted = Vec::with_capacity(roff.len());
    for line in roff.split_inclusive(|&byte| byte == b'\n') {
        match line.strip_prefix(b".SH ") {
            Some(rest) => {
                demoted.extend_from_slice(b".SS ");
                demoted.extend_from_slice(rest);
            }
            None => demoted.extend_from_slice(line),
        }
    }
    demoted
}

fn cannot_write(err: io::Error) -> Failure {
    Failure::other(format!("cannot write the output: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_section_headings_are_demoted() {
        let roff = b".SH SYNOPSIS\n\\&.SH not a heading\ntext .SH\n.SH OPTIONS\n";
        assert_eq!(
            demote_sections(roff),
            b".SS SYNOPSIS\n\\&.SH not a heading\ntext .SH\n.SS OPTIONS\n"
        );
    }
}
