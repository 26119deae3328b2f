//! DTMF keys: the wire enum `DTMFDigits` ↔ characters (`0`–`9`, `A`–`D`, `*`, `#`).
//!
//! On the wire zero is 10, not 0 (0 means "unspecified"), so the mapping is explicit.

use crate::proto::DtmfDigits;

/// The character of a `DTMFDigits` wire value, or `None` for 0 (unspecified) and unknown values.
#[must_use]
pub fn digit_to_char(value: i32) -> Option<char> {
    Some(match DtmfDigits::try_from(value).ok()? {
        DtmfDigits::DtmfEventUnspecified => return None,
        DtmfDigits::DtmfDigitOne => '1',
        DtmfDigits::DtmfDigitTwo => '2',
        DtmfDigits::DtmfDigitThree => '3',
        DtmfDigits::DtmfDigitFour => '4',
        DtmfDigits::DtmfDigitFive => '5',
        DtmfDigits::DtmfDigitSix => '6',
        DtmfDigits::DtmfDigitSeven => '7',
        DtmfDigits::DtmfDigitEight => '8',
        DtmfDigits::DtmfDigitNine => '9',
        DtmfDigits::DtmfDigitZero => '0',
        DtmfDigits::DtmfDigitA => 'A',
        DtmfDigits::DtmfDigitB => 'B',
        DtmfDigits::DtmfDigitC => 'C',
        DtmfDigits::DtmfDigitD => 'D',
        DtmfDigits::DtmfDigitStar => '*',
        DtmfDigits::DtmfDigitPound => '#',
    })
}

/// The `DTMFDigits` wire value of a key character (`a`–`d` are accepted too), or `None` for
/// anything that is not a telephone key.
#[must_use]
pub fn char_to_digit(key: char) -> Option<i32> {
    let digit = match key.to_ascii_uppercase() {
        '1' => DtmfDigits::DtmfDigitOne,
        '2' => DtmfDigits::DtmfDigitTwo,
        '3' => DtmfDigits::DtmfDigitThree,
        '4' => DtmfDigits::DtmfDigitFour,
        '5' => DtmfDigits::DtmfDigitFive,
        '6' => DtmfDigits::DtmfDigitSix,
        '7' => DtmfDigits::DtmfDigitSeven,
        '8' => DtmfDigits::DtmfDigitEight,
        '9' => DtmfDigits::DtmfDigitNine,
        '0' => DtmfDigits::DtmfDigitZero,
        'A' => DtmfDigits::DtmfDigitA,
        'B' => DtmfDigits::DtmfDigitB,
        'C' => DtmfDigits::DtmfDigitC,
        'D' => DtmfDigits::DtmfDigitD,
        '*' => DtmfDigits::DtmfDigitStar,
        '#' => DtmfDigits::DtmfDigitPound,
        _ => return None,
    };
    Some(digit as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_maps_both_ways() {
        let expected = [
            (1, '1'),
            (2, '2'),
            (3, '3'),
            (4, '4'),
            (5, '5'),
            (6, '6'),
            (7, '7'),
            (8, '8'),
            (9, '9'),
            (10, '0'),
            (11, 'A'),
            (12, 'B'),
            (13, 'C'),
            (14, 'D'),
            (15, '*'),
            (16, '#'),
        ];
        for (value, key) in expected {
            assert_eq!(digit_to_char(value), Some(key), "value {value}");
            assert_eq!(char_to_digit(key), Some(value), "key {key}");
        }
        assert_eq!(char_to_digit('d'), Some(14));
    }

    #[test]
    fn unspecified_and_unknown_values_are_rejected() {
        assert_eq!(digit_to_char(0), None);
        assert_eq!(digit_to_char(17), None);
        assert_eq!(digit_to_char(-1), None);
        assert_eq!(char_to_digit('x'), None);
        assert_eq!(char_to_digit(' '), None);
    }
}
