//! Asking a person before something that cannot be undone.
//!
//! The question goes to standard error and the answer is read from standard input when it is
//! a terminal (and not the command's input), or else from the controlling terminal
//! (`/dev/tty`) when standard error is one: a list piped into standard input does not answer
//! the question. With no terminal to ask on,
//! nothing is asked and the caller must have been told to go ahead (`--yes`).

use std::io::{self, BufRead, BufReader, IsTerminal, Write};

/// The longest answer read.
const MAX_ANSWER_BYTES: usize = 256;

/// What came of asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmation {
    /// The person answered yes.
    Confirmed,
    /// The person answered anything else (or nothing).
    Declined,
    /// There is no terminal to ask on.
    NoTerminal,
}

/// Asks `question` on the terminal, if there is one. Only `y` and `yes` (any case) confirm.
/// `stdin_holds_input`: standard input carries the command's input (`--input -`), so the
/// answer cannot come from there, even when it is a terminal.
pub fn ask(question: &str, stdin_holds_input: bool) -> Confirmation {
    let stdin = io::stdin();
    if stdin.is_terminal() && !stdin_holds_input {
        return ask_on(question, &mut stdin.lock(), &mut io::stderr());
    }
    if !io::stderr().is_terminal() {
        return Confirmation::NoTerminal;
    }
    match std::fs::File::open("/dev/tty") {
        Ok(tty) => ask_on(question, &mut BufReader::new(tty), &mut io::stderr()),
        Err(_) => Confirmation::NoTerminal,
    }
}

/// Asks `question` on `output` and reads the answer from `input`.
pub fn ask_on(question: &str, input: &mut impl BufRead, output: &mut impl Write) -> Confirmation {
    if write!(output, "{question} [y/N] ")
        .and_then(|()| output.flush())
        .is_err()
    {
        return Confirmation::Declined;
    }
    let mut answer = Vec::new();
    match crate::bounded_line::read_line(input, &mut answer, MAX_ANSWER_BYTES) {
        Ok(crate::bounded_line::LineRead::Complete) => {}
        _ => return Confirmation::Declined,
    }
    let answer = String::from_utf8_lossy(&answer);
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Confirmation::Confirmed
    } else {
        Confirmation::Declined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &str) -> Confirmation {
        ask_on("Delete?", &mut text.as_bytes(), &mut Vec::new())
    }

    #[test]
    fn only_yes_confirms() {
        assert_eq!(answer("y\n"), Confirmation::Confirmed);
        assert_eq!(answer(" YES \n"), Confirmation::Confirmed);
        for declined in ["\n", "n\n", "yes please\n", "", "y", "ja\n"] {
            assert_eq!(answer(declined), Confirmation::Declined, "{declined:?}");
        }
    }

    #[test]
    fn the_question_is_shown() {
        let mut shown = Vec::new();
        ask_on("Delete 2 identifications?", &mut &b"n\n"[..], &mut shown);
        assert_eq!(shown, b"Delete 2 identifications? [y/N] ");
    }
}
