//! One filter condition as a SQL predicate over `lead_view v` joined with `lead_scores s`,
//! values always bound.
//! Text comparisons are case-insensitive, a missing text counts as "".

use shared::lead::Field;
use shared::query::{CmpOp, Condition, NumberField, TagsOp, TextOp};
use sqlx::{Postgres, QueryBuilder};

pub fn text_column(f: Field) -> &'static str {
    // Field names are the column names of `lead_view`.
    f.name()
}

/// The qualified column of a numeric field (the score lives in `lead_scores`).
pub fn number_column(f: NumberField) -> &'static str {
    match f {
        NumberField::Rating => "v.rating",
        NumberField::ReviewCount => "v.review_count",
        NumberField::Score => "s.score",
        NumberField::CreatedAt => "v.created_at",
        NumberField::UpdatedAt => "v.updated_at",
        NumberField::LastInteractionAt => "v.last_interaction_at",
    }
}

fn cmp(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Neq => "<>",
        CmpOp::Gt => ">",
        CmpOp::Gte => ">=",
        CmpOp::Lt => "<",
        CmpOp::Lte => "<=",
    }
}

/// Characters of a text value its sort and filter indexes hold (migration 0016: at most
/// 1 kB, so any accepted value fits a b-tree entry). Text sorts order by this prefix.
pub const INDEXED_CHARS: usize = 256;

/// The indexed form of a nullable lower-cased text expression (as in migration 0016).
pub fn indexed_text(expr: &str) -> String {
    format!("left(coalesce({expr}, ''), {INDEXED_CHARS})")
}

/// `coalesce(expr, '') = v` in the indexed form, so the index serves it. A value shorter than
/// the indexed prefix is compared by the prefix alone (a prefix equal to a shorter value is
/// the whole value), which also keeps the planner's row estimate of one condition; a longer
/// one compares the whole value too.
fn text_eq(q: &mut QueryBuilder<'_, Postgres>, expr: &str, v: String) {
    if v.chars().count() < INDEXED_CHARS {
        q.push(format!("{} = ", indexed_text(expr))).push_bind(v);
        return;
    }
    let prefix: String = v.chars().take(INDEXED_CHARS).collect();
    q.push(format!("({} = ", indexed_text(expr)))
        .push_bind(prefix)
        .push(format!(" AND coalesce({expr}, '') = "))
        .push_bind(v)
        .push(")");
}

/// `expr` (lower-cased text) against a value, by operator.
fn text_match(q: &mut QueryBuilder<'_, Postgres>, expr: &str, op: TextOp, value: &str) {
    let v = value.to_lowercase();
    match op {
        TextOp::Eq => text_eq(q, expr, v),
        TextOp::Neq => {
            q.push(format!("coalesce({expr}, '') <> ")).push_bind(v);
        }
        TextOp::Contains => {
            q.push(format!("strpos(coalesce({expr}, ''), "))
                .push_bind(v)
                .push(") > 0");
        }
        TextOp::NotContains => {
            q.push(format!("strpos(coalesce({expr}, ''), "))
                .push_bind(v)
                .push(") = 0");
        }
        TextOp::StartsWith => {
            q.push(format!("starts_with(coalesce({expr}, ''), "))
                .push_bind(v)
                .push(")");
        }
        TextOp::EndsWith => {
            q.push(format!("right(coalesce({expr}, ''), "))
                .push_bind(v.chars().count() as i32)
                .push(") = ")
                .push_bind(v);
        }
    }
}

/// `EXISTS (an attribute row of this lead named `name` where <pred>)`.
fn attr_exists<'a>(
    q: &mut QueryBuilder<'a, Postgres>,
    name: &str,
    negate: bool,
    pred: impl FnOnce(&mut QueryBuilder<'a, Postgres>),
) {
    q.push(if negate { "NOT EXISTS" } else { "EXISTS" });
    q.push(" (SELECT 1 FROM lead_view_attrs a WHERE a.tenant_id = v.tenant_id AND a.lead_id = v.lead_id AND a.name = ")
        .push_bind(name.to_owned())
        .push(" AND (");
    pred(q);
    q.push("))");
}

/// Earth's radius as `earthdistance` has it (metres).
const EARTH_RADIUS_M: f64 = 6_378_168.0;

/// A latitude/longitude box holding every point within `km` (great-circle) of the centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoBox {
    pub lat_lo: f64,
    pub lat_hi: f64,
    pub lng_lo: f64,
    pub lng_hi: f64,
}

/// The spherical cap's bounding box (latitudes ± the angular radius; longitudes ± the widest
/// longitude difference on the cap), with a small margin; the whole longitude range when the
/// cap holds a pole or crosses the antimeridian. Only a prefilter: the exact distance decides.
pub fn bounding_box(lat: f64, lng: f64, km: f64) -> GeoBox {
    let delta = (km * 1000.0 / EARTH_RADIUS_M).max(0.0) * 1.001 + 1e-9; // radians
    let (phi, d) = (lat.to_radians(), delta.to_degrees());
    let (lat_lo, lat_hi) = (lat - d, lat + d);
    let full = GeoBox {
        lat_lo: lat_lo.max(-90.0),
        lat_hi: lat_hi.min(90.0),
        lng_lo: -180.0,
        lng_hi: 180.0,
    };
    if lat_hi >= 90.0 || lat_lo <= -90.0 || delta.sin() >= phi.cos() {
        return full;
    }
    let dlng = (delta.sin() / phi.cos()).asin().to_degrees();
    if lng - dlng < -180.0 || lng + dlng > 180.0 {
        return full;
    }
    GeoBox {
        lng_lo: lng - dlng,
        lng_hi: lng + dlng,
        ..full
    }
}

pub fn push_condition(q: &mut QueryBuilder<'_, Postgres>, c: &Condition) {
    match c {
        Condition::Text { field, op, value } => {
            text_match(q, &format!("lower(v.{})", text_column(*field)), *op, value)
        }
        Condition::TextIn { field, values } => {
            let lower: Vec<String> = values.iter().map(|v| v.to_lowercase()).collect();
            q.push(format!("lower(v.{}) = ANY(", text_column(*field)))
                .push_bind(lower)
                .push(")");
        }
        Condition::TextEmpty { field, empty } => {
            q.push(format!(
                "coalesce(v.{}, '') {} ''",
                text_column(*field),
                if *empty { "=" } else { "<>" }
            ));
        }
        Condition::Number {
            field,
            op: CmpOp::Neq,
            value,
        } => {
            let col = number_column(*field);
            q.push(format!("({col} IS NULL OR {col}::float8 <> "))
                .push_bind(*value)
                .push(")");
        }
        Condition::Number { field, op, value } => {
            q.push(format!("{}::float8 {} ", number_column(*field), cmp(*op)))
                .push_bind(*value);
        }
        Condition::Tags(TagsOp::Contains(tag)) => {
            q.push("v.tags @> ARRAY[")
                .push_bind(tag.clone())
                .push("]::text[]");
        }
        Condition::Tags(TagsOp::NotContains(tag)) => {
            q.push("NOT (v.tags @> ARRAY[")
                .push_bind(tag.clone())
                .push("]::text[])");
        }
        Condition::Tags(TagsOp::Empty) => {
            q.push("cardinality(v.tags) = 0");
        }
        Condition::Tags(TagsOp::NotEmpty) => {
            q.push("cardinality(v.tags) > 0");
        }
        Condition::WithinRadius { lat, lng, km } => {
            let meters = km * 1000.0;
            let b = bounding_box(*lat, *lng, *km);
            q.push("(v.latitude IS NOT NULL AND point(v.longitude, v.latitude) <@ box(point(")
                .push_bind(b.lng_lo)
                .push(", ")
                .push_bind(b.lat_lo)
                .push("), point(")
                .push_bind(b.lng_hi)
                .push(", ")
                .push_bind(b.lat_hi)
                .push(")) AND earth_distance(ll_to_earth(")
                .push_bind(*lat)
                .push(", ")
                .push_bind(*lng)
                .push("), ll_to_earth(v.latitude, v.longitude)) <= ")
                .push_bind(meters)
                .push(")");
        }
        Condition::LocationSet(set) => {
            q.push(if *set {
                "v.latitude IS NOT NULL"
            } else {
                "v.latitude IS NULL"
            });
        }
        Condition::AttrText {
            name,
            op: op @ (TextOp::Neq | TextOp::NotContains),
            value,
        } => {
            let positive = if *op == TextOp::Neq {
                TextOp::Eq
            } else {
                TextOp::Contains
            };
            attr_exists(q, name, true, |q| {
                text_match(q, "a.text_lower", positive, value)
            });
        }
        Condition::AttrText { name, op, value } => attr_exists(q, name, false, |q| {
            text_match(q, "a.text_lower", *op, value)
        }),
        Condition::AttrCmp {
            name,
            op: op @ (CmpOp::Eq | CmpOp::Neq),
            text,
            number,
        } => {
            attr_exists(q, name, *op == CmpOp::Neq, |q| match number {
                Some(n) => {
                    q.push("(a.kind = 'number' AND a.num = ")
                        .push_bind(*n)
                        .push(") OR (a.kind <> 'number' AND ");
                    text_eq(q, "a.text_lower", text.to_lowercase());
                    q.push(")");
                }
                None => text_eq(q, "a.text_lower", text.to_lowercase()),
            });
        }
        Condition::AttrCmp {
            name, op, number, ..
        } => {
            let n = number.unwrap_or(f64::NAN);
            attr_exists(q, name, false, |q| {
                q.push(format!("a.kind = 'number' AND a.num {} ", cmp(*op)))
                    .push_bind(n);
            });
        }
        Condition::AttrIn { name, values } => {
            let lower: Vec<String> = values.iter().map(|v| v.to_lowercase()).collect();
            let numbers: Vec<f64> = values
                .iter()
                .filter_map(|v| v.parse::<f64>().ok())
                .collect();
            attr_exists(q, name, false, |q| {
                q.push("a.text_lower = ANY(")
                    .push_bind(lower)
                    .push(") OR (a.kind = 'number' AND a.num = ANY(")
                    .push_bind(numbers)
                    .push("))");
            });
        }
        Condition::AttrEmpty { name, empty } => {
            attr_exists(q, name, *empty, |q| {
                q.push("a.num IS NOT NULL OR coalesce(a.text_lower, '') <> '' OR a.kind IN ('list', 'object')");
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The point `km` away from (lat, lng) at `bearing` degrees, on earthdistance's sphere.
    fn destination(lat: f64, lng: f64, km: f64, bearing: f64) -> (f64, f64) {
        let (phi, lambda, theta) = (lat.to_radians(), lng.to_radians(), bearing.to_radians());
        let d = km * 1000.0 / EARTH_RADIUS_M;
        let phi2 = (phi.sin() * d.cos() + phi.cos() * d.sin() * theta.cos()).asin();
        let lambda2 =
            lambda + (theta.sin() * d.sin() * phi.cos()).atan2(d.cos() - phi.sin() * phi2.sin());
        let mut lng2 = lambda2.to_degrees();
        if lng2 > 180.0 {
            lng2 -= 360.0;
        } else if lng2 < -180.0 {
            lng2 += 360.0;
        }
        (phi2.to_degrees(), lng2)
    }

    #[test]
    fn the_box_holds_every_point_of_the_circle() {
        let centres = [
            (45.764, 4.8357),
            (0.0, 0.0),
            (-33.9, 151.2),
            (64.1, -21.9),
            (78.2, 15.6),
            (89.9, 0.0),
            (-89.5, 45.0),
            (10.0, 179.99),
            (-10.0, -179.95),
        ];
        for (lat, lng) in centres {
            for km in [0.001, 1.0, 5.0, 50.0, 500.0, 5000.0] {
                let b = bounding_box(lat, lng, km);
                for step in 0..360 {
                    let (plat, plng) = destination(lat, lng, km * 0.9999, f64::from(step));
                    assert!(
                        (b.lat_lo..=b.lat_hi).contains(&plat)
                            && (b.lng_lo..=b.lng_hi).contains(&plng),
                        "({lat}, {lng}) {km} km bearing {step}: ({plat}, {plng}) outside {b:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_box_is_tight_away_from_poles_and_the_antimeridian() {
        let b = bounding_box(45.764, 4.8357, 5.0);
        assert!(
            b.lat_hi - b.lat_lo < 0.1 && b.lng_hi - b.lng_lo < 0.15,
            "{b:?}"
        );
        let wide = bounding_box(10.0, 179.99, 5.0);
        assert_eq!((wide.lng_lo, wide.lng_hi), (-180.0, 180.0));
    }
}
