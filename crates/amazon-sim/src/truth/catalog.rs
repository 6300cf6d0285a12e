//! The products a seller lists in a marketplace, generated from the seed.

use crate::marketplace::Marketplace;
use crate::rng::Rng;

/// One listed product (a SKU) in one marketplace.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Product {
    /// Seller SKU. Some contain spaces and `#`, as real SKUs do, so clients must
    /// URL-encode them.
    pub sku: String,
    /// Fulfillment network SKU.
    pub fnsku: String,
    /// The (child) ASIN.
    pub asin: String,
    /// The parent ASIN of its variation family; three SKUs share a parent.
    pub parent_asin: String,
    /// Title. Includes `"`, `,` and Latin-1 letters such as `ü` (and the en dash
    /// that differs between Windows-1252 and ISO-8859-1).
    pub name: String,
    /// `New`, or `UsedGood` for a few.
    pub condition: &'static str,
    /// Price in hundredths of the currency unit (cents; yen ×100).
    pub price_cents: i64,
    /// Volume of one unit, in hundredths of a cubic foot.
    pub volume_hundredths: u32,
    /// Relative demand, 1..=10: sales and traffic scale with it.
    pub popularity: u64,
}

const NOUNS: &[&str] = &[
    "Mug",
    "T-Shirt",
    "Skillet",
    "Küchenmesser",
    "Water Bottle",
    "Notebook",
    "Crème Brûlée Torch",
    "Yoga Mat",
    "Phone Case",
    "Garden Hose",
];
const ADJECTIVES: &[&str] = &[
    "Classic",
    "Premium",
    "Eco",
    "Größe M",
    "Compact",
    "Deluxe",
    "Travel",
    "Pro",
];
const COLOURS: &[&str] = &["Red", "Black", "Blue", "Green", "Weiß", "Grey"];

// Japanese listings carry Japanese titles, so Shift_JIS files have multi-byte
// characters to decode; same order as the lists above.
const NOUNS_JA: &[&str] = &[
    "マグカップ",
    "Tシャツ",
    "フライパン",
    "包丁",
    "水筒",
    "ノート",
    "クレームブリュレ用バーナー",
    "ヨガマット",
    "スマホケース",
    "ガーデンホース",
];
const ADJECTIVES_JA: &[&str] = &[
    "クラシック",
    "プレミアム",
    "エコ",
    "サイズM",
    "コンパクト",
    "デラックス",
    "トラベル",
    "プロ",
];
const COLOURS_JA: &[&str] = &["レッド", "ブラック", "ブルー", "グリーン", "ホワイト", "グレー"];

/// The catalog of `seller` in `marketplace`: `count` products whose identity (SKU,
/// ASIN) depends only on the seller and the index, and whose price depends on the
/// marketplace too. Titles are the same everywhere except in Japan, where they are
/// Japanese.
///
/// Products are generated on demand from their index, never stored: a store of
/// 100,000 SKUs costs nothing until something reads it, and a report streams
/// through it one SKU at a time.
#[derive(Debug, Clone)]
pub(crate) struct Catalog {
    seed: u64,
    seller: String,
    marketplace: &'static Marketplace,
    count: u32,
}

impl Catalog {
    pub(crate) fn new(seed: u64, seller: &str, marketplace: &'static Marketplace, count: u32) -> Self {
        Self {
            seed,
            seller: seller.to_owned(),
            marketplace,
            count,
        }
    }

    /// How many SKUs the catalog lists.
    pub(crate) fn len(&self) -> usize {
        self.count as usize
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The product at `index` (in catalog order), generated afresh.
    pub(crate) fn product(&self, index: usize) -> Product {
        product(
            self.seed,
            &self.seller,
            self.marketplace,
            u32::try_from(index).unwrap_or(u32::MAX),
        )
    }

    /// Every product in catalog order, one at a time.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Product> + Send + use<> {
        let catalog = self.clone();
        (0..catalog.len()).map(move |i| catalog.product(i))
    }

    pub(crate) fn seller(&self) -> &str {
        &self.seller
    }

    pub(crate) fn marketplace(&self) -> &'static Marketplace {
        self.marketplace
    }
}

/// The same draw as `Rng::pick` on a list of `len` items, as an index, so the
/// Japanese lists pick the same word as the English ones.
fn index_of(r: &mut Rng, len: usize) -> usize {
    usize::try_from(r.below(len as u64)).unwrap_or(0)
}

fn product(seed: u64, seller: &str, marketplace: &Marketplace, index: u32) -> Product {
    let index_label = index.to_string();
    let mut r = Rng::keyed(seed, &["product", seller, &index_label]);
    let (noun_index, adjective_index, colour_index) = (
        index_of(&mut r, NOUNS.len()),
        index_of(&mut r, ADJECTIVES.len()),
        index_of(&mut r, COLOURS.len()),
    );
    let (noun, adjective, colour) = (
        NOUNS[noun_index],
        ADJECTIVES[adjective_index],
        COLOURS[colour_index],
    );
    let code: String = noun
        .chars()
        .filter(char::is_ascii_alphabetic)
        .take(4)
        .collect::<String>()
        .to_uppercase();
    let sku = match index % 7 {
        3 => format!("{code} {}-{index:05} #{}", colour.to_uppercase(), r.below(10)),
        _ => format!("{code}-{}-{index:05}", r.alphanumeric(3)),
    };
    let name = if marketplace.country == "JP" {
        let (noun, adjective, colour) = (
            NOUNS_JA[noun_index],
            ADJECTIVES_JA[adjective_index],
            COLOURS_JA[colour_index],
        );
        // The full-width wave dash is where Shift_JIS and cp932 disagree.
        match index % 5 {
            1 => format!("{adjective}{noun}（{colour}）\"シグネチャー\""),
            2 => format!("{adjective} {noun} ～ {colour}"),
            _ => format!("{adjective}{noun} {colour}"),
        }
    } else {
        match index % 5 {
            1 => format!("{adjective} {noun}, {colour} \"Signature\""),
            2 => format!("{adjective} {noun} – {colour}"),
            _ => format!("{adjective} {noun} {colour}"),
        }
    };
    let condition = if r.chance(5) { "UsedGood" } else { "New" };
    let fnsku = format!("X00{}", r.alphanumeric(7));
    let asin = format!("B0{}", r.alphanumeric(8));
    let family = (index / 3).to_string();
    let parent_asin = format!(
        "B0{}",
        Rng::keyed(seed, &["parent", seller, &family]).alphanumeric(8)
    );
    let volume_hundredths = u32::try_from(r.between(1, 60)).unwrap_or(1);
    let popularity = r.between(1, 10);

    let mut local = Rng::keyed(seed, &["price", seller, marketplace.id, &index_label]);
    let price_cents = if marketplace.whole_currency() {
        i64::try_from(local.between(5, 200)).unwrap_or(5) * 100
    } else {
        // Prices end in .99, .49 or .00 like most real listings.
        let whole = i64::try_from(local.between(4, 120)).unwrap_or(4);
        whole * 100 + *local.pick(&[99, 49, 0])
    };

    Product {
        sku,
        fnsku,
        asin,
        parent_asin,
        name,
        condition,
        price_cents,
        volume_hundredths,
        popularity,
    }
}
