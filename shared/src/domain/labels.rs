//! Label vocabularies. The strings are the ones of docs/design.md and are used everywhere:
//! storage, filters, events, reports and the API.

/// A label value that is not in its vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}; expected one of: {expected}")]
pub struct UnknownLabel {
    pub kind: &'static str,
    pub value: String,
    pub expected: String,
}

/// Declares a closed vocabulary: enum, its exact strings, parsing and serde through the strings.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $kind:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in the documented order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The exact label string.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::labels::UnknownLabel;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::domain::labels::UnknownLabel {
                        kind: $kind,
                        value: s.to_string(),
                        expected: [$($text),+].join(", "),
                    }),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use vocabulary;

vocabulary! {
    /// Where a mention came from.
    Platform, "platform" {
        Facebook => "facebook",
        Instagram => "instagram",
        Whatsapp => "whatsapp",
        X => "x",
        Telegram => "telegram",
        Youtube => "youtube",
        News => "news",
        /// Sent by another application through the API.
        Api => "api",
    }
}

vocabulary! {
    /// What a message is, in the order of precedence of docs/design.md (first that fits wins).
    Category, "category" {
        Hater => "hater",
        Pengaduan => "pengaduan",
        PermintaanInformasi => "permintaan_informasi",
        Aspirasi => "aspirasi",
        Apresiasi => "apresiasi",
        Lainnya => "lainnya",
    }
}

vocabulary! {
    /// The writer's attitude.
    Sentiment, "sentiment" {
        Positif => "positif",
        Negatif => "negatif",
        Netral => "netral",
    }
}

vocabulary! {
    /// Language of a message.
    Language, "language" {
        Indonesian => "id",
        Javanese => "jv",
        English => "en",
        Other => "other",
    }
}

vocabulary! {
    /// Author reach by follower count; `tidak_diketahui` when the platform gives no count.
    Influence, "influence" {
        Kecil => "kecil",
        Menengah => "menengah",
        Besar => "besar",
        SangatBesar => "sangat_besar",
        TidakDiketahui => "tidak_diketahui",
    }
}

vocabulary! {
    /// Triage priority, P1 most urgent.
    Priority, "priority" {
        P1 => "P1",
        P2 => "P2",
        P3 => "P3",
        P4 => "P4",
    }
}

vocabulary! {
    /// Recommended action.
    Action, "action" {
        TanggapiSegera => "tanggapi_segera",
        TanggapiDenganJawaban => "tanggapi_dengan_jawaban",
        Pantau => "pantau",
        Abaikan => "abaikan",
    }
}

vocabulary! {
    /// Which of the office's accounts answers: the official one or the reactive one.
    Account, "account" {
        Resmi => "resmi",
        Reaktif => "reaktif",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_through_parse_and_serde() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>().unwrap(), *c);
            let json = serde_json::to_string(c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<Category>(&json).unwrap(), *c);
        }
        assert_eq!(Platform::ALL.len(), 8);
        assert_eq!(Category::PermintaanInformasi.as_str(), "permintaan_informasi");
        assert_eq!(Influence::SangatBesar.as_str(), "sangat_besar");
    }

    #[test]
    fn unknown_values_name_the_vocabulary() {
        let err = "twitter".parse::<Platform>().unwrap_err();
        assert_eq!(err.kind, "platform");
        assert!(err.to_string().contains("facebook, instagram"), "{err}");
        assert!(serde_json::from_str::<Sentiment>("\"happy\"").is_err());
    }
}
