//! A deterministic generator of realistic leads for benchmarks: ~200 cities (100 real ones and a
//! satellite town beside each), ratings skewed towards 4-5, tags, typed attributes, and 70% of
//! leads with coordinates near their city.

use serde_json::{json, Value};

/// splitmix64: a tiny, fast, deterministic generator (benchmarks must be repeatable).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Index in [0, n) with a Zipf-like skew: low indexes are far more frequent.
    pub fn skewed(&mut self, n: usize) -> usize {
        ((self.unit().powi(3)) * n as f64) as usize % n
    }
}

/// (city, country, latitude, longitude)
pub const CITIES: &[(&str, &str, f64, f64)] = &[
    ("Paris", "FR", 48.8566, 2.3522),
    ("London", "GB", 51.5074, -0.1278),
    ("Berlin", "DE", 52.52, 13.405),
    ("Madrid", "ES", 40.4168, -3.7038),
    ("Rome", "IT", 41.9028, 12.4964),
    ("Athens", "GR", 37.9838, 23.7275),
    ("Lyon", "FR", 45.764, 4.8357),
    ("Marseille", "FR", 43.2965, 5.3698),
    ("Toulouse", "FR", 43.6047, 1.4442),
    ("Nice", "FR", 43.7102, 7.262),
    ("Nantes", "FR", 47.2184, -1.5536),
    ("Bordeaux", "FR", 44.8378, -0.5792),
    ("Lille", "FR", 50.6292, 3.0573),
    ("Strasbourg", "FR", 48.5734, 7.7521),
    ("Hamburg", "DE", 53.5511, 9.9937),
    ("Munich", "DE", 48.1351, 11.582),
    ("Cologne", "DE", 50.9375, 6.9603),
    ("Frankfurt", "DE", 50.1109, 8.6821),
    ("Stuttgart", "DE", 48.7758, 9.1829),
    ("Dusseldorf", "DE", 51.2277, 6.7735),
    ("Leipzig", "DE", 51.3397, 12.3731),
    ("Barcelona", "ES", 41.3874, 2.1686),
    ("Valencia", "ES", 39.4699, -0.3763),
    ("Seville", "ES", 37.3891, -5.9845),
    ("Bilbao", "ES", 43.263, -2.935),
    ("Malaga", "ES", 36.7213, -4.4214),
    ("Milan", "IT", 45.4642, 9.19),
    ("Naples", "IT", 40.8518, 14.2681),
    ("Turin", "IT", 45.0703, 7.6869),
    ("Florence", "IT", 43.7696, 11.2558),
    ("Bologna", "IT", 44.4949, 11.3426),
    ("Venice", "IT", 45.4408, 12.3155),
    ("Thessaloniki", "GR", 40.6401, 22.9444),
    ("Patras", "GR", 38.2466, 21.7346),
    ("Heraklion", "GR", 35.3387, 25.1442),
    ("Manchester", "GB", 53.4808, -2.2426),
    ("Birmingham", "GB", 52.4862, -1.8904),
    ("Glasgow", "GB", 55.8642, -4.2518),
    ("Edinburgh", "GB", 55.9533, -3.1883),
    ("Liverpool", "GB", 53.4084, -2.9916),
    ("Bristol", "GB", 51.4545, -2.5879),
    ("Leeds", "GB", 53.8008, -1.5491),
    ("Dublin", "IE", 53.3498, -6.2603),
    ("Cork", "IE", 51.8985, -8.4756),
    ("Amsterdam", "NL", 52.3676, 4.9041),
    ("Rotterdam", "NL", 51.9244, 4.4777),
    ("Utrecht", "NL", 52.0907, 5.1214),
    ("The Hague", "NL", 52.0705, 4.3007),
    ("Brussels", "BE", 50.8503, 4.3517),
    ("Antwerp", "BE", 51.2194, 4.4025),
    ("Ghent", "BE", 51.0543, 3.7174),
    ("Luxembourg", "LU", 49.6116, 6.1319),
    ("Zurich", "CH", 47.3769, 8.5417),
    ("Geneva", "CH", 46.2044, 6.1432),
    ("Basel", "CH", 47.5596, 7.5886),
    ("Vienna", "AT", 48.2082, 16.3738),
    ("Graz", "AT", 47.0707, 15.4395),
    ("Salzburg", "AT", 47.8095, 13.055),
    ("Prague", "CZ", 50.0755, 14.4378),
    ("Brno", "CZ", 49.1951, 16.6068),
    ("Warsaw", "PL", 52.2297, 21.0122),
    ("Krakow", "PL", 50.0647, 19.945),
    ("Gdansk", "PL", 54.352, 18.6466),
    ("Wroclaw", "PL", 51.1079, 17.0385),
    ("Budapest", "HU", 47.4979, 19.0402),
    ("Bratislava", "SK", 48.1486, 17.1077),
    ("Ljubljana", "SI", 46.0569, 14.5058),
    ("Zagreb", "HR", 45.815, 15.9819),
    ("Split", "HR", 43.5081, 16.4402),
    ("Belgrade", "RS", 44.7866, 20.4489),
    ("Sofia", "BG", 42.6977, 23.3219),
    ("Bucharest", "RO", 44.4268, 26.1025),
    ("Cluj-Napoca", "RO", 46.7712, 23.6236),
    ("Lisbon", "PT", 38.7223, -9.1393),
    ("Porto", "PT", 41.1579, -8.6291),
    ("Copenhagen", "DK", 55.6761, 12.5683),
    ("Aarhus", "DK", 56.1629, 10.2039),
    ("Stockholm", "SE", 59.3293, 18.0686),
    ("Gothenburg", "SE", 57.7089, 11.9746),
    ("Malmo", "SE", 55.605, 13.0038),
    ("Oslo", "NO", 59.9139, 10.7522),
    ("Bergen", "NO", 60.3913, 5.3221),
    ("Helsinki", "FI", 60.1699, 24.9384),
    ("Tampere", "FI", 61.4978, 23.761),
    ("Tallinn", "EE", 59.437, 24.7536),
    ("Riga", "LV", 56.9496, 24.1052),
    ("Vilnius", "LT", 54.6872, 25.2797),
    ("Reykjavik", "IS", 64.1466, -21.9426),
    ("Istanbul", "TR", 41.0082, 28.9784),
    ("New York", "US", 40.7128, -74.006),
    ("San Francisco", "US", 37.7749, -122.4194),
    ("Chicago", "US", 41.8781, -87.6298),
    ("Austin", "US", 30.2672, -97.7431),
    ("Boston", "US", 42.3601, -71.0589),
    ("Seattle", "US", 47.6062, -122.3321),
    ("Toronto", "CA", 43.6532, -79.3832),
    ("Montreal", "CA", 45.5017, -73.5673),
    ("Sydney", "AU", -33.8688, 151.2093),
    ("Tokyo", "JP", 35.6762, 139.6503),
    ("Singapore", "SG", 1.3521, 103.8198),
];

const CATEGORIES: &[&str] = &[
    "restaurant",
    "cafe",
    "bakery",
    "bar",
    "hotel",
    "agency",
    "saas",
    "retail",
    "clinic",
    "gym",
    "law firm",
    "accounting",
    "architecture",
    "plumbing",
    "florist",
    "bookstore",
];
const TAGS: &[&str] = &[
    "restaurant",
    "b2b",
    "b2c",
    "enterprise",
    "smb",
    "hot",
    "cold",
    "follow-up",
    "newsletter",
    "partner",
    "vip",
    "trial",
    "churned",
    "inbound",
    "outbound",
    "event",
    "referral",
    "webinar",
];
const SOURCES: &[&str] = &[
    "google_maps",
    "website",
    "linkedin",
    "import",
    "n8n",
    "referral",
    "event",
];
const STATUSES: &[&str] = &[
    "new",
    "new",
    "new",
    "contacted",
    "contacted",
    "qualified",
    "disqualified",
    "converted",
];
const CUISINES: &[&str] = &[
    "italian", "french", "greek", "japanese", "mexican", "indian", "vegan", "thai",
];
const WORDS: &[&str] = &[
    "Blue", "Golden", "Little", "Royal", "Urban", "Green", "Silver", "North", "Corner", "Old",
    "Bright", "Happy", "Red", "Grand", "Secret", "Wild", "Iron", "Copper", "Lucky", "Rapid",
];
const NOUNS: &[&str] = &[
    "Bottle", "Garden", "Table", "Works", "Studio", "House", "Kitchen", "Lab", "Forge", "Market",
    "Harbor", "Bridge", "Lantern", "Oak", "Fox", "Anchor", "Mill", "Square", "Nest", "Crown",
];

/// The city of index `i` in [0, 2 × CITIES.len()): real ones first, then a satellite town
/// 15-25 km away from each.
pub fn city(i: usize) -> (String, &'static str, f64, f64) {
    let (name, country, lat, lng) = CITIES[i % CITIES.len()];
    if i < CITIES.len() {
        (name.to_owned(), country, lat, lng)
    } else {
        (format!("{name} Sud"), country, lat - 0.17, lng + 0.05)
    }
}

/// Lead number `n` of a data set; the same `(seed, n)` always gives the same lead.
pub fn lead(rng: &mut Rng, n: u64) -> Value {
    let (city, country, lat, lng) = city(rng.skewed(CITIES.len() * 2));
    let category = CATEGORIES[rng.skewed(CATEGORIES.len())];
    let name = format!(
        "{} {} {n}",
        WORDS[rng.below(WORDS.len())],
        NOUNS[rng.below(NOUNS.len())]
    );
    // Ratings skewed high, like review sites: most between 3.5 and 5.
    let rating = (5.0 - 4.0 * rng.unit().powi(3)).clamp(1.0, 5.0);
    let mut tags: Vec<&str> = Vec::new();
    for _ in 0..rng.below(4) {
        let t = TAGS[rng.skewed(TAGS.len())];
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    let mut lead = json!({
        "name": name,
        "source": SOURCES[rng.skewed(SOURCES.len())],
        "city": city,
        "country": country,
        "category": category,
        "status": STATUSES[rng.below(STATUSES.len())],
        "rating": (rating * 10.0).round() / 10.0,
        "review_count": (rng.unit().powi(4) * 5000.0) as u64,
        "tags": tags,
        "source_id": format!("gen-{n}"),
        "attributes": [
            {"name": "employees", "type": "number", "value": 1 + (rng.unit().powi(3) * 2000.0) as u64},
            {"name": "verified", "type": "bool", "value": rng.chance(0.4)},
        ],
    });
    if let Some(o) = lead.as_object_mut() {
        if rng.chance(0.7) {
            o.insert("latitude".into(), json!(lat + (rng.unit() - 0.5) * 0.2));
            o.insert("longitude".into(), json!(lng + (rng.unit() - 0.5) * 0.3));
        }
        if rng.chance(0.6) {
            let domain = NOUNS[rng.below(NOUNS.len())].to_lowercase();
            o.insert(
                "email".into(),
                json!(format!("contact{n}@{domain}.example")),
            );
        }
        if rng.chance(0.7) {
            o.insert(
                "phone".into(),
                json!(format!("+{} {:09}", 30 + rng.below(60), n)),
            );
        }
        if rng.chance(0.5) {
            let host = WORDS[rng.below(WORDS.len())].to_lowercase();
            o.insert(
                "website".into(),
                json!(format!("https://{host}{n}.example")),
            );
        }
        if category == "restaurant" || category == "cafe" {
            if let Some(attrs) = o.get_mut("attributes").and_then(Value::as_array_mut) {
                let cuisine = CUISINES[rng.below(CUISINES.len())];
                attrs.push(json!({"name": "cuisine", "type": "text", "value": cuisine}));
            }
        }
    }
    lead
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::lead::{parse_lead_object, InputMode};

    #[test]
    fn the_same_seed_gives_the_same_leads() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for n in 0..100 {
            assert_eq!(lead(&mut a, n), lead(&mut b, n));
        }
    }

    #[test]
    fn generated_leads_are_valid_and_have_the_documented_mix() {
        let mut rng = Rng::new(42);
        let (mut with_coords, mut cities, mut high) = (0, std::collections::HashSet::new(), 0);
        let total = 20_000;
        for n in 0..total {
            let l = lead(&mut rng, n);
            parse_lead_object(&l, InputMode::Create).unwrap_or_else(|e| panic!("lead {n}: {e}"));
            with_coords += usize::from(l.get("latitude").is_some());
            cities.insert(l["city"].as_str().unwrap().to_owned());
            high += usize::from(l["rating"].as_f64().unwrap() >= 4.0);
        }
        let share = with_coords as f64 / total as f64;
        assert!((0.67..0.73).contains(&share), "{share}");
        assert!(cities.len() > 150, "{}", cities.len());
        assert!(high as f64 / total as f64 > 0.5, "ratings are skewed high");
    }
}
