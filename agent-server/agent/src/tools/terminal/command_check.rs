//! One command per call: a command made of several top-level lines (not joined by `&&`, `;`,
//! a pipe or a compound statement) is refused, as OpenHands does, because the terminal can only
//! report one exit code. A small shell lexer: quotes, escapes, heredocs, `$(…)`, brackets and
//! compound keywords (`if…fi`, `for…done`, `case…esac`).

/// Splits `command` into its top-level commands (trimmed, comments and blank lines dropped).
pub fn split_commands(command: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth: i32 = 0; // (), {}, $( )
    let mut keywords: i32 = 0; // if/case/for/while/until/select … fi/esac/done
    let mut quote: Option<char> = None;
    let mut heredoc: Option<(String, bool)> = None; // (terminator, strip tabs)
    let mut pending_heredoc: Option<(String, bool)> = None;
    let mut word = String::new();
    let mut continues = false; // the line ended with an operator or a backslash
    let chars: Vec<char> = command.chars().collect();
    let mut i = 0;
    let mut line_start = true;
    let mut comment = false;

    // Keywords count only where a command starts (`echo done` is not the end of a loop).
    let mut command_position = true;
    let flush_word = |word: &mut String, keywords: &mut i32, command_position: &mut bool| {
        if word.is_empty() {
            return;
        }
        if *command_position {
            match word.as_str() {
                "if" | "case" | "for" | "while" | "until" | "select" => *keywords += 1,
                "fi" | "esac" | "done" => *keywords -= 1,
                _ => {}
            }
        }
        *command_position = matches!(
            word.as_str(),
            "then" | "do" | "else" | "elif" | "!" | "time"
        );
        word.clear();
    };

    while i < chars.len() {
        let c = chars[i];
        // Inside a heredoc body: copy lines until the terminator.
        if let Some((term, strip)) = &heredoc {
            let end = chars[i..]
                .iter()
                .position(|&c| c == '\n')
                .map_or(chars.len(), |p| i + p);
            let line: String = chars[i..end].iter().collect();
            let cmp = if *strip {
                line.trim_start_matches('\t')
            } else {
                line.as_str()
            };
            current.push_str(&line);
            if end < chars.len() {
                current.push('\n');
            }
            if cmp == term {
                heredoc = None;
                // The newline after the terminator ends the command like any other newline.
                current.pop();
                i = end;
                continue;
            }
            i = end + 1;
            continue;
        }
        if comment {
            if c == '\n' {
                comment = false;
            } else {
                i += 1;
                continue;
            }
        }
        match quote {
            Some('\'') => {
                current.push(c);
                if c == '\'' {
                    quote = None;
                }
                i += 1;
                continue;
            }
            Some('"') => {
                current.push(c);
                if c == '\\' && i + 1 < chars.len() {
                    current.push(chars[i + 1]);
                    i += 2;
                    continue;
                }
                if c == '"' {
                    quote = None;
                }
                i += 1;
                continue;
            }
            _ => {}
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                current.push(c);
                continues = false;
            }
            '\\' if i + 1 < chars.len() => {
                current.push(c);
                current.push(chars[i + 1]);
                if chars[i + 1] == '\n' {
                    continues = true;
                }
                i += 2;
                continue;
            }
            '#' if word.is_empty()
                && (line_start || current.ends_with(' ') || current.ends_with('\t')) =>
            {
                comment = true;
            }
            '(' | '{' => {
                flush_word(&mut word, &mut keywords, &mut command_position);
                command_position = true;
                depth += 1;
                current.push(c);
                continues = false;
            }
            ')' | '}' => {
                flush_word(&mut word, &mut keywords, &mut command_position);
                depth -= 1;
                current.push(c);
                continues = false;
            }
            '<' if chars.get(i + 1) == Some(&'<') && chars.get(i + 2) != Some(&'<') => {
                // A heredoc: read its terminator word.
                let mut j = i + 2;
                let strip = chars.get(j) == Some(&'-');
                if strip {
                    j += 1;
                }
                while chars.get(j).is_some_and(|c| *c == ' ') {
                    j += 1;
                }
                let mut term = String::new();
                while let Some(&ch) = chars.get(j) {
                    if ch.is_whitespace() || ";|&<>()".contains(ch) {
                        break;
                    }
                    if ch != '\'' && ch != '"' {
                        term.push(ch);
                    }
                    j += 1;
                }
                let text: String = chars[i..j].iter().collect();
                current.push_str(&text);
                if !term.is_empty() {
                    pending_heredoc = Some((term, strip));
                }
                i = j;
                continue;
            }
            '\n' => {
                flush_word(&mut word, &mut keywords, &mut command_position);
                if let Some(h) = pending_heredoc.take() {
                    heredoc = Some(h);
                    current.push('\n');
                } else if depth > 0 || keywords > 0 || continues {
                    current.push('\n');
                } else {
                    let t = current.trim().to_string();
                    if !t.is_empty() {
                        parts.push(t);
                    }
                    current.clear();
                }
                line_start = true;
                command_position = true;
                i += 1;
                continue;
            }
            c if c.is_whitespace() => {
                flush_word(&mut word, &mut keywords, &mut command_position);
                current.push(c);
            }
            '|' | '&' | ';' => {
                flush_word(&mut word, &mut keywords, &mut command_position);
                current.push(c);
                // `;` ends a command on the same line; only a trailing `|`, `&&` or `||` carries
                // the command over to the next line.
                continues = c != ';';
                command_position = true;
                i += 1;
                line_start = false;
                continue;
            }
            _ => {
                word.push(c);
                current.push(c);
                continues = false;
            }
        }
        if !c.is_whitespace() {
            line_start = false;
        }
        i += 1;
    }
    flush_word(&mut word, &mut keywords, &mut command_position);
    let t = current.trim().to_string();
    if !t.is_empty() {
        parts.push(t);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::split_commands;

    #[test]
    fn one_command_forms() {
        for c in [
            "ls -la",
            "cd /tmp && ls; pwd",
            "echo 'a\nb'",
            "for i in 1 2; do\n  echo $i\ndone",
            "if true; then\n echo yes\nfi",
            "cat > f.txt <<'EOF'\nline one\nline two\nEOF",
            "python3 - <<EOF\nprint(1)\n\nprint(2)\nEOF",
            "ls |\n  wc -l",
            "echo a \\\n  b",
            "f() {\n echo hi\n}",
            "echo $(\n date\n)",
            "# comment\nls",
        ] {
            assert_eq!(
                split_commands(c).len(),
                1,
                "{c:?} -> {:?}",
                split_commands(c)
            );
        }
    }

    #[test]
    fn several_commands_are_found() {
        assert_eq!(split_commands("ls\npwd"), vec!["ls", "pwd"]);
        assert_eq!(split_commands("cd /x\n\nmake test\necho done").len(), 3);
        assert_eq!(split_commands("cat <<EOF\nx\nEOF\necho after").len(), 2);
        assert_eq!(
            split_commands("for f in *; do echo $f; done\necho done").len(),
            2
        );
    }
}
