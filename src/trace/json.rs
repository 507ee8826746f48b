//! The little JSON a trace needs: one flat object per line, whose values are strings,
//! integers, booleans or `null`. Written and read by hand, so the crate needs no JSON library
//! for a closed set of events.

/// A value of a trace line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    Null,
}

/// Writes one line, `{"key":value,...}`, into a byte buffer the caller reuses: no allocation
/// once the buffer has grown to a line's size, no formatting machinery. A sink called by the
/// loop ([`JsonLines`](super::JsonLines)) writes one line per event with it; the writer thread
/// of a trace to a file writes its busiest kinds of line itself and the rest with this.
pub(crate) struct Line<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Line<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Line<'a> {
        out.push(b'{');
        Line { out, first: true }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes()); // keys are ours: plain ASCII words
        self.out.extend_from_slice(b"\":");
    }

    pub(crate) fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        escape_into(self.out, value);
        self
    }

    pub(crate) fn uint(&mut self, key: &str, value: u64) -> &mut Self {
        self.key(key);
        digits_into(self.out, value);
        self
    }

    pub(crate) fn int(&mut self, key: &str, value: i64) -> &mut Self {
        self.key(key);
        if value < 0 {
            self.out.push(b'-');
        }
        digits_into(self.out, value.unsigned_abs());
        self
    }

    pub(crate) fn bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.key(key);
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
        self
    }

    pub(crate) fn null(&mut self, key: &str) -> &mut Self {
        self.key(key);
        self.out.extend_from_slice(b"null");
        self
    }

    pub(crate) fn finish(&mut self) {
        self.out.push(b'}');
    }
}

/// The decimal digits of `n`.
pub(super) fn digits_into(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// True for a byte that goes into a JSON string as it is: besides what JSON requires, `<`,
/// `>` and `&` are escaped too, so a trace can sit inside an HTML `<script>` element as it is
/// (the book's player).
fn plain(b: u8) -> bool {
    b >= b' ' && !matches!(b, b'"' | b'\\' | b'<' | b'>' | b'&')
}

/// Writes `s` as a JSON string.
pub(super) fn escape_into(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    if s.bytes().all(plain) {
        out.extend_from_slice(s.as_bytes()); // frame names: the common case
    } else {
        for c in s.chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                c if c < ' ' || c == '<' || c == '>' || c == '&' => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    let n = c as usize;
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[n >> 4]);
                    out.push(HEX[n & 15]);
                }
                c => {
                    let mut utf8 = [0; 4];
                    out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                }
            }
        }
    }
    out.push(b'"');
}

/// Reads one line written by [`Line`] (or by any JSON writer, as long as it is one flat
/// object): its fields in order. The error says what was expected and where.
pub(crate) fn parse_object(line: &str) -> Result<Vec<(String, Value)>, String> {
    let mut p = Parser {
        chars: line.char_indices().peekable(),
        line,
    };
    p.skip_space();
    p.expect('{')?;
    let mut fields = Vec::new();
    p.skip_space();
    if p.eat('}') {
        return p.end(fields);
    }
    loop {
        p.skip_space();
        let key = p.string()?;
        p.skip_space();
        p.expect(':')?;
        p.skip_space();
        let value = p.value()?;
        fields.push((key, value));
        p.skip_space();
        if p.eat(',') {
            continue;
        }
        p.expect('}')?;
        return p.end(fields);
    }
}

struct Parser<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    line: &'a str,
}

impl Parser<'_> {
    fn at(&mut self) -> usize {
        self.chars.peek().map_or(self.line.len(), |&(i, _)| i)
    }

    fn skip_space(&mut self) {
        while self
            .chars
            .next_if(|&(_, c)| c.is_ascii_whitespace())
            .is_some()
        {}
    }

    fn eat(&mut self, want: char) -> bool {
        self.chars.next_if(|&(_, c)| c == want).is_some()
    }

    fn expect(&mut self, want: char) -> Result<(), String> {
        let at = self.at();
        match self.chars.next() {
            Some((_, c)) if c == want => Ok(()),
            Some((_, c)) => Err(format!(
                "expected `{want}` at column {}, found `{c}`",
                at + 1
            )),
            None => Err(format!(
                "expected `{want}` at column {}, found the end",
                at + 1
            )),
        }
    }

    fn end(mut self, fields: Vec<(String, Value)>) -> Result<Vec<(String, Value)>, String> {
        self.skip_space();
        match self.chars.next() {
            None => Ok(fields),
            Some((at, c)) => Err(format!(
                "unexpected `{c}` at column {} after the object",
                at + 1
            )),
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        let at = self.at();
        match self.chars.peek().map(|&(_, c)| c) {
            Some('"') => self.string().map(Value::Str),
            Some('t') => self.word("true").map(|()| Value::Bool(true)),
            Some('f') => self.word("false").map(|()| Value::Bool(false)),
            Some('n') => self.word("null").map(|()| Value::Null),
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let mut digits = String::new();
                while let Some((_, c)) =
                    self.chars.next_if(|&(_, c)| c == '-' || c.is_ascii_digit())
                {
                    digits.push(c);
                }
                if self
                    .chars
                    .peek()
                    .is_some_and(|&(_, c)| matches!(c, '.' | 'e' | 'E'))
                {
                    return Err(format!(
                        "a number at column {} is not an integer; trace numbers are whole",
                        at + 1
                    ));
                }
                digits
                    .parse()
                    .map(Value::Int)
                    .map_err(|_| format!("`{digits}` at column {} is not a number", at + 1))
            }
            Some(c) => Err(format!(
                "expected a string, integer, boolean or null at column {}, found `{c}` (trace \
                 lines are flat objects)",
                at + 1
            )),
            None => Err(format!("expected a value at column {}", at + 1)),
        }
    }

    fn word(&mut self, word: &str) -> Result<(), String> {
        let at = self.at();
        for want in word.chars() {
            if !self.eat(want) {
                return Err(format!("expected `{word}` at column {}", at + 1));
            }
        }
        Ok(())
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect('"')?;
        let mut out = String::new();
        loop {
            let at = self.at();
            match self.chars.next() {
                None => return Err("a string runs to the end of the line".into()),
                Some((_, '"')) => return Ok(out),
                Some((_, '\\')) => match self.chars.next().map(|(_, c)| c) {
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('/') => out.push('/'),
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('u') => out.push(self.unicode(at)?),
                    _ => return Err(format!("bad escape at column {}", at + 1)),
                },
                Some((_, c)) => out.push(c),
            }
        }
    }

    /// The four hex digits after `\u` (and a second escape, for a surrogate pair).
    fn unicode(&mut self, at: usize) -> Result<char, String> {
        let first = self.hex4(at)?;
        if (0xD800..0xDC00).contains(&first) {
            if !(self.eat('\\') && self.eat('u')) {
                return Err(format!("a lone surrogate at column {}", at + 1));
            }
            let second = self.hex4(at)?;
            let code = 0x10000 + ((first - 0xD800) << 10) + (second.wrapping_sub(0xDC00) & 0x3FF);
            return char::from_u32(code).ok_or_else(|| format!("bad escape at column {}", at + 1));
        }
        char::from_u32(first).ok_or_else(|| format!("bad escape at column {}", at + 1))
    }

    fn hex4(&mut self, at: usize) -> Result<u32, String> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = self
                .chars
                .next()
                .and_then(|(_, c)| c.to_digit(16))
                .ok_or_else(|| format!("bad \\u escape at column {}", at + 1))?;
            code = code * 16 + digit;
        }
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_reads_back_as_written() {
        let mut buffer = Vec::new();
        Line::new(&mut buffer)
            .str("s", "a \"quoted\" <b>&\n\u{1}é😀")
            .int("n", -42)
            .uint("big", u64::MAX >> 12)
            .int("min", i64::MIN)
            .uint("zero", 0)
            .bool("yes", true)
            .null("none")
            .finish();
        let text = String::from_utf8(buffer).unwrap();
        assert!(!text.contains('<') && !text.contains('&'), "{text}");
        let fields = parse_object(&text).unwrap();
        assert_eq!(
            fields,
            [
                ("s".into(), Value::Str("a \"quoted\" <b>&\n\u{1}é😀".into())),
                ("n".into(), Value::Int(-42)),
                ("big".into(), Value::Int((u64::MAX >> 12) as i64)),
                ("min".into(), Value::Int(i64::MIN)),
                ("zero".into(), Value::Int(0)),
                ("yes".into(), Value::Bool(true)),
                ("none".into(), Value::Null),
            ]
        );
    }

    #[test]
    fn other_writers_spacing_and_surrogates_are_read() {
        let fields = parse_object(r#" { "a" : "\ud83d\ude00" , "b":[1] } "#).unwrap_err();
        assert!(fields.contains("flat objects"), "{fields}");
        let fields = parse_object(r#" { "a" : "\ud83d\ude00" } "#).unwrap();
        assert_eq!(fields, [("a".into(), Value::Str("😀".into()))]);
    }

    #[test]
    fn broken_lines_say_where() {
        for (line, says) in [
            ("", "expected `{`"),
            ("{\"a\":1", "found the end"),
            ("{\"a\":1.5}", "not an integer"),
            ("{\"a\":\"x}", "end of the line"),
            ("{\"a\":1} x", "after the object"),
            ("{\"a\" 1}", "expected `:` at column 6"),
        ] {
            let err = parse_object(line).unwrap_err();
            assert!(err.contains(says), "{line:?}: {err}");
        }
    }
}
