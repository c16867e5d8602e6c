//! The built-in (base-14) Helvetica faces every PDF reader has, so nothing is embedded: text
//! in WinAnsi encoding, and its width from Helvetica's metrics (for right-aligned numbers and
//! column widths).

/// Helvetica's advance widths of the printable ASCII characters (32 ' ' to 126 '~'), in
/// thousandths of the font size (Adobe's Helvetica AFM).
const ASCII_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278,
    278, // ' '..'/'
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584,
    556, // '0'..'?'
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722,
    778, // '@'..'O'
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
    556, // 'P'..'_'
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556,
    556, // '`'..'o'
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, // 'p'..'~'
];

/// A face of the built-in Helvetica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// Helvetica.
    Regular,
    /// Helvetica-Bold.
    Bold,
}

impl Face {
    /// The resource name the pages use for the face.
    pub fn resource(self) -> &'static [u8] {
        match self {
            Self::Regular => b"F1",
            Self::Bold => b"F2",
        }
    }

    /// The PDF base-font name.
    pub fn base_font(self) -> &'static [u8] {
        match self {
            Self::Regular => b"Helvetica",
            Self::Bold => b"Helvetica-Bold",
        }
    }
}

/// `text` in WinAnsi encoding (what the pages' fonts are declared with): ASCII and Latin-1 as
/// they are, the dashes and the middle dot the pages print at their WinAnsi codes, anything
/// else as `?`.
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            ' '..='~' => c as u8,
            '–' => 0x96,
            '—' => 0x97,
            '•' => 0x95,
            '€' => 0x80,
            '\u{a0}'..='\u{ff}' => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            _ => b'?',
        })
        .collect()
}

/// How wide `text` is set in `face` at `size` points, in points. Bold is taken as a tenth
/// wider than regular (close enough to align columns).
pub fn width(text: &str, face: Face, size: f32) -> f32 {
    let thousandths: u32 = win_ansi(text)
        .into_iter()
        .map(|b| match b {
            32..=126 => u32::from(ASCII_WIDTHS[usize::from(b - 32)]),
            0x97 => 1000,
            0x95 | 0xb7 => 350,
            _ => 556,
        })
        .sum();
    let bold = match face {
        Face::Regular => 1.0,
        Face::Bold => 1.1,
    };
    thousandths as f32 / 1000.0 * size * bold
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pages_characters_encode_and_digits_are_all_as_wide() {
        assert_eq!(win_ansi("L2 – 1.5 %"), b"L2 \x96 1.5 %");
        assert_eq!(win_ansi("a·b"), b"a\xb7b");
        assert_eq!(win_ansi("▲"), b"?");
        assert_eq!(
            width("0", Face::Regular, 10.0),
            width("9", Face::Regular, 10.0)
        );
        assert!((width("10", Face::Regular, 10.0) - 11.12).abs() < 1e-4);
        assert!(width("W", Face::Regular, 10.0) > width("i", Face::Regular, 10.0));
    }
}
