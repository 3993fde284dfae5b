//! The PTY's bytes as text. Everything here reads what the agent's commands printed, so it is
//! attacker input: offsets are byte offsets into the raw output (never into a lossy decoding of
//! it, whose length differs), a character split across two reads is held back until it is
//! whole, and escape sequences are stripped before anyone sees the text.

use serde_json::Value;

pub const PS1_BEGIN: &str = "###PS1JSON###";
pub const PS1_END: &str = "###PS1END###";

/// What the prompt reported after a command.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromptInfo {
    pub exit_code: i64,
    pub pid: i64,
    pub username: Option<String>,
    pub hostname: Option<String>,
    pub working_dir: Option<String>,
    pub py_interpreter_path: Option<String>,
}

/// How many leading bytes of `bytes` end on a character boundary: an incomplete UTF-8 sequence
/// at the end (one that more bytes could still complete) is left out, so that decoding the
/// output in pieces gives the same text as decoding it whole.
pub fn whole_chars(bytes: &[u8]) -> usize {
    for start in bytes.len().saturating_sub(3)..bytes.len() {
        if let Err(e) = std::str::from_utf8(&bytes[start..])
            && e.valid_up_to() == 0
            && e.error_len().is_none()
        {
            return start;
        }
    }
    bytes.len()
}

/// Decodes output that arrives in reads: a character split between two reads is kept back
/// until the rest arrives (or the stream ends).
#[derive(Default)]
pub struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    /// The text of `bytes` and whatever was kept back, up to the last whole character.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let end = whole_chars(&self.pending);
        let text = String::from_utf8_lossy(&self.pending[..end]).into_owned();
        self.pending.drain(..end);
        text
    }

    /// What was kept back, at the end of the stream.
    pub fn finish(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        text
    }
}

/// The first offset at or after `at` that does not fall inside a UTF-8 sequence (continuation
/// bytes are skipped; at most three).
pub fn next_char_start(bytes: &[u8], at: usize) -> usize {
    let mut i = at.min(bytes.len());
    let limit = (i + 3).min(bytes.len());
    while i < limit && (bytes[i] & 0xC0) == 0x80 {
        i += 1;
    }
    i
}

/// Finds the last complete prompt block: the byte offset where the command's output ends, and
/// the prompt's report.
pub fn parse_last_prompt(bytes: &[u8]) -> Option<(usize, PromptInfo)> {
    let end = rfind(bytes, PS1_END.as_bytes())?;
    let begin = rfind(&bytes[..end], PS1_BEGIN.as_bytes())?;
    let json_text = String::from_utf8_lossy(&bytes[begin + PS1_BEGIN.len()..end]);
    let v: Value = serde_json::from_str(json_text.trim()).unwrap_or(Value::Null);
    let s = |k: &str| v[k].as_str().map(str::to_string).filter(|s| !s.is_empty());
    let n = |k: &str| {
        v[k].as_str()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .unwrap_or(-1)
    };
    let info = PromptInfo {
        exit_code: n("exit_code"),
        pid: n("pid"),
        username: s("username"),
        hostname: s("hostname"),
        working_dir: s("working_dir"),
        py_interpreter_path: s("py_interpreter_path"),
    };
    // The prompt starts with its own newline.
    let before = &bytes[..begin];
    let output_end = if before.ends_with(b"\r\n") {
        begin - 2
    } else if before.ends_with(b"\n") {
        begin - 1
    } else {
        begin
    };
    Some((output_end, info))
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// Terminal output as text: invalid UTF-8 replaced, no carriage returns, no escape sequences —
/// CSI, OSC ended by BEL or ST (OSC 8 links, titles, clipboard writes), DCS/SOS/PM/APC strings,
/// and two-byte escapes.
pub fn clean(bytes: &[u8]) -> String {
    static ANSI: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = ANSI.get_or_init(|| {
        regex::Regex::new(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]")
            .unwrap_or_else(|_| unreachable!())
    });
    let text = String::from_utf8_lossy(bytes);
    let no_ansi = re.replace_all(&text, "");
    // What is left of an escape (a lone ESC) and the 8-bit C1 controls (U+009B is CSI to many
    // terminals) go too.
    let out: String = no_ansi
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| !matches!(c, '\r' | '\x1b' | '\u{80}'..='\u{9f}'))
        .collect();
    out.trim_end_matches('\n').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escape_sequences_the_agent_prints_are_stripped() {
        let printed = "\x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ \x1b]0;title\x07done\x1bPq#0\x1b\\\x1b=\x1b(B.";
        assert_eq!(clean(printed.as_bytes()), "red click done.");
    }

    #[test]
    fn parses_the_prompt_block() {
        let text = "hello\r\n\r\n###PS1JSON###\r\n{\"exit_code\": \"3\", \"pid\": \"\", \"username\": \"u\", \"hostname\": \"h\", \"working_dir\": \"/tmp\", \"py_interpreter_path\": \"\"}\r\n###PS1END###\r\n";
        let (end, info) = parse_last_prompt(text.as_bytes()).unwrap_or_default();
        assert_eq!(clean(&text.as_bytes()[..end]), "hello");
        assert_eq!(info.exit_code, 3);
        assert_eq!(info.working_dir.as_deref(), Some("/tmp"));
        assert_eq!(info.py_interpreter_path, None);
    }

    #[test]
    fn a_split_character_is_held_back_until_whole() {
        let euro = "€".as_bytes();
        assert_eq!(whole_chars(&[b'a', euro[0], euro[1]]), 1);
        assert_eq!(whole_chars(&[b'a', euro[0], euro[1], euro[2]]), 4);
        // Bytes no continuation can repair are not held back.
        assert_eq!(whole_chars(&[b'a', 0xFF]), 2);
        assert_eq!(whole_chars(&[b'a', 0x82]), 2);
        assert_eq!(next_char_start(euro, 1), 3);
        assert_eq!(next_char_start(euro, 0), 0);
    }

    /// Output with multi-byte characters, invalid bytes, escapes and prompt-marker fragments.
    fn hostile_output() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            any::<u8>().prop_map(|b| vec![b]),
            "[a-z€é😀\\x1b\\[\\]\\r\\n;#\u{9b}]{0,8}".prop_map(String::into_bytes),
            Just(PS1_BEGIN.as_bytes().to_vec()),
            Just(PS1_END.as_bytes().to_vec()),
        ];
        prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    // Cases: proptest's default (256), or `PROPTEST_CASES` for a longer run (docs/security.md).
    proptest! {
        /// Returning output at every read boundary the decoder chooses gives exactly the text
        /// of the whole output decoded at once, wherever the reads split it.
        #[test]
        fn output_read_in_pieces_decodes_as_a_whole(
            bytes in hostile_output(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let mut reads: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
            reads.sort_unstable();
            let mut consumed = 0;
            let mut text = String::new();
            for available in reads {
                let available = available.max(consumed);
                let end = consumed + whole_chars(&bytes[consumed..available]);
                text.push_str(&String::from_utf8_lossy(&bytes[consumed..end]));
                consumed = end;
            }
            text.push_str(&String::from_utf8_lossy(&bytes[consumed..]));
            prop_assert_eq!(text, String::from_utf8_lossy(&bytes).into_owned());
        }

        #[test]
        fn a_stream_decodes_as_a_whole(
            bytes in hostile_output(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
            at.push(0);
            at.push(bytes.len());
            at.sort_unstable();
            let mut stream = Utf8Stream::default();
            let mut text: String = at.windows(2).map(|w| stream.push(&bytes[w[0]..w[1]])).collect();
            text.push_str(&stream.finish());
            prop_assert_eq!(text, String::from_utf8_lossy(&bytes).into_owned());
        }

        #[test]
        fn the_decoder_never_panics(bytes in hostile_output(), at in any::<prop::sample::Index>()) {
            let at = at.index(bytes.len() + 1);
            prop_assert!(next_char_start(&bytes, at) <= bytes.len());
            if let Some((end, _)) = parse_last_prompt(&bytes) {
                prop_assert!(end <= bytes.len());
            }
            let cleaned = clean(&bytes);
            prop_assert!(
                !cleaned.chars().any(|c| matches!(c, '\r' | '\x1b' | '\u{80}'..='\u{9f}')),
                "{:?}", cleaned
            );
        }
    }
}
