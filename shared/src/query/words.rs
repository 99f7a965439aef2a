//! Free-text search of leads (`q`, the MCP `list_leads` `query`): the text is split into
//! words, stop words dropped ("restaurants in Paris" → `restaurant`, `paris`), and a lead
//! matches when each remaining word occurs, case-insensitively, in its name, e-mail, city,
//! category, description or one of its tags. A trailing plural `s` is dropped, so a word
//! matches its singular too.

/// At most this many words count; at most this many characters each.
pub const MAX_WORDS: usize = 10;
pub const MAX_WORD_CHARS: usize = 100;

const STOP_WORDS: &[&str] = &[
    "a", "about", "all", "an", "and", "any", "are", "around", "at", "be", "by", "find", "for",
    "from", "get", "give", "in", "is", "lead", "leads", "list", "me", "my", "near", "of", "on",
    "or", "our", "show", "some", "that", "the", "their", "to", "which", "who", "with",
    // French and German, for names like "Le Bistro" and "Café am Markt".
    "à", "au", "aux", "de", "des", "du", "en", "et", "la", "le", "les", "un", "une", "am", "der",
    "die", "das", "im", "mit", "und", "von",
];

/// The words of `text` a lead must each contain (lower-case).
pub fn search_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '@' && c != '.' && c != '-')
        .map(|w| {
            w.trim_matches(|c: char| c == '.' || c == '-')
                .to_lowercase()
        })
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(&w.as_str()))
        .map(|w| singular(&w).chars().take(MAX_WORD_CHARS).collect())
        .take(MAX_WORDS)
        .collect()
}

/// An English plural's singular (`bakeries` → `bakery`, `boxes` → `box`, `restaurants` →
/// `restaurant`); other words as they are (`paris`, `status`, `glass`).
fn singular(w: &str) -> String {
    let long = w.chars().count() > 3;
    if long && w.ends_with("ies") {
        return format!("{}y", &w[..w.len() - 3]);
    }
    for ending in ["sses", "xes", "ches", "shes", "zes"] {
        if long && w.ends_with(ending) {
            return w[..w.len() - 2].to_owned();
        }
    }
    let keeps = ["ss", "us", "is", "os"].iter().any(|e| w.ends_with(e));
    if long && w.ends_with('s') && !keeps {
        return w[..w.len() - 1].to_owned();
    }
    w.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_go_and_plurals_match_their_singular() {
        assert_eq!(
            search_words("restaurants in Paris"),
            ["restaurant", "paris"]
        );
        assert_eq!(
            search_words("bakeries, boxes, churches"),
            ["bakery", "box", "church"]
        );
        assert_eq!(search_words("status glass bus"), ["status", "glass", "bus"]);
        assert_eq!(search_words("  Le Bistro, Berlin!  "), ["bistro", "berlin"]);
        assert_eq!(search_words("contact@acme.io"), ["contact@acme.io"]);
        assert_eq!(search_words("the of in"), Vec::<String>::new());
        assert_eq!(search_words("Cafés à Zürich"), ["café", "zürich"]);
        assert_eq!(search_words("寿司 東京"), ["寿司", "東京"]);
        assert_eq!(search_words(&"w ".repeat(50)).len(), MAX_WORDS);
    }
}
