//! The pages' two languages, Korean and English: which one a visitor gets (their choice on the
//! page, else their browser's `Accept-Language`, else English), and the texts in each, kept in
//! Fluent files under `locales/`.

use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_langneg::{NegotiationStrategy, accepted_languages, negotiate_languages};
use unic_langid::LanguageIdentifier;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    En,
    Ko,
}

const SOURCES: [(Locale, &str); 2] = [
    (Locale::En, include_str!("../locales/en.ftl")),
    (Locale::Ko, include_str!("../locales/ko.ftl")),
];

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Ko, Locale::En];

    /// The tag used in `lang` attributes, the language cookie and the switch.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ko => "ko",
        }
    }

    /// The language's name in itself, for the switch.
    pub fn endonym(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::Ko => "한국어",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Locale> {
        Locale::ALL.into_iter().find(|locale| locale.tag() == tag)
    }

    /// The best of ours for an `Accept-Language` header; English when none fits.
    pub fn negotiate(accept_language: &str) -> Locale {
        let requested = accepted_languages::parse(accept_language);
        let available: Vec<LanguageIdentifier> = Locale::ALL
            .iter()
            .filter_map(|locale| locale.tag().parse().ok())
            .collect();
        let chosen =
            negotiate_languages(&requested, &available, None, NegotiationStrategy::Filtering);
        chosen
            .first()
            .and_then(|language| Locale::from_tag(language.language.as_str()))
            .unwrap_or(Locale::En)
    }

    /// The text `id` in this language.
    pub fn text(self, id: &str) -> String {
        self.format(id, None)
    }

    /// The text `id` in this language, with its `{ $name }` placeholders filled in.
    pub fn text_with(self, id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        self.format(id, Some(&fluent_args))
    }

    fn format(self, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        let bundle = &BUNDLES[self as usize];
        let Some(pattern) = bundle.get_message(id).and_then(|message| message.value()) else {
            tracing::error!(id, locale = self.tag(), "no such text");
            return id.to_owned();
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::error!(id, locale = self.tag(), ?errors, "a text did not format");
        }
        text.into_owned()
    }
}

/// One bundle per locale, in the order of the enum's discriminants. The Fluent files are part of
/// the binary and checked by the tests below, so building them cannot fail at run time.
static BUNDLES: LazyLock<Vec<FluentBundle<FluentResource>>> = LazyLock::new(|| {
    SOURCES
        .iter()
        .map(|(locale, source)| {
            let resource = FluentResource::try_new((*source).to_owned())
                .unwrap_or_else(|(resource, _)| resource);
            let language: LanguageIdentifier = locale.tag().parse().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![language]);
            // Placeholders are plain text in the pages; direction marks around them would
            // show up in inputs and tests alike.
            bundle.set_use_isolating(false);
            let _ = bundle.add_resource(resource);
            bundle
        })
        .collect()
});

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The message ids a Fluent file defines: its lines `id = …` that start in the first column.
    fn ids(source: &str) -> BTreeSet<&str> {
        if let Err((_, errors)) = FluentResource::try_new(source.to_owned()) {
            panic!("a locale file does not parse: {errors:?}");
        }
        source
            .lines()
            .filter(|line| line.starts_with(|c: char| c.is_ascii_lowercase()))
            .filter_map(|line| line.split_once(" = ").map(|(id, _)| id))
            .collect()
    }

    #[test]
    fn both_languages_parse_and_have_the_same_texts() {
        let english = ids(SOURCES[0].1);
        let korean = ids(SOURCES[1].1);
        assert!(english.len() > 100);
        assert_eq!(
            english.symmetric_difference(&korean).collect::<Vec<_>>(),
            Vec::<&&str>::new(),
            "texts missing from one of the languages"
        );
        for locale in Locale::ALL {
            for id in &english {
                assert!(
                    BUNDLES[locale as usize].has_message(id),
                    "{id} in {locale:?}"
                );
            }
        }
    }

    /// Every id the code names in a call of `text` or `text_with` exists; the ids put
    /// together at run time (notices, calendar states) are listed in tables the pages test.
    #[test]
    fn every_text_the_code_names_exists() {
        let english = ids(SOURCES[0].1);
        let mut missing = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                let entries = std::fs::read_dir(&path).map_err(|error| error.to_string());
                stack.extend(
                    entries
                        .into_iter()
                        .flatten()
                        .flatten()
                        .map(|entry| entry.path()),
                );
                continue;
            }
            let source = std::fs::read_to_string(&path).unwrap_or_default();
            for opening in ["text(\"", "text_with(\""] {
                for (at, _) in source.match_indices(opening) {
                    let rest = &source[at + opening.len()..];
                    let id = rest.split('"').next().unwrap_or_default();
                    if !english.contains(id) && !id.is_empty() {
                        missing.push(format!("{}: {id}", path.display()));
                    }
                }
            }
        }
        assert_eq!(missing, Vec::<String>::new());
    }

    #[test]
    fn the_enum_order_matches_the_sources() {
        for (index, (locale, _)) in SOURCES.iter().enumerate() {
            assert_eq!(*locale as usize, index);
        }
    }

    #[test]
    fn accept_language_picks_korean_or_english() {
        assert_eq!(Locale::negotiate("ko-KR,ko;q=0.9,en;q=0.8"), Locale::Ko);
        assert_eq!(Locale::negotiate("en-US,en;q=0.9,ko;q=0.5"), Locale::En);
        assert_eq!(Locale::negotiate("fr-FR,ko;q=0.5"), Locale::Ko);
        assert_eq!(Locale::negotiate("fr-FR"), Locale::En);
        assert_eq!(Locale::negotiate(""), Locale::En);
    }

    #[test]
    fn placeholders_are_filled_in() {
        let text = Locale::En.text_with("nights", &[("count", 2.into())]);
        assert_eq!(text, "2 nights");
        assert_eq!(
            Locale::Ko.text_with("nights", &[("count", 2.into())]),
            "2박"
        );
    }

    #[test]
    fn calendar_months_are_named_in_each_language() {
        let caption = |locale: Locale, month: u32| {
            locale.text_with(
                "calendar-month",
                &[("year", 2026.into()), ("month", month.into())],
            )
        };
        assert_eq!(caption(Locale::En, 1), "January 2026");
        assert_eq!(caption(Locale::En, 12), "December 2026");
        assert_eq!(caption(Locale::Ko, 12), "2026년 12월");
        let names = (1..=12)
            .map(|month| caption(Locale::En, month))
            .collect::<BTreeSet<_>>();
        assert_eq!(names.len(), 12, "one name per month: {names:?}");
    }
}
