//! Generates the demo shop (customers, addresses, products, orders, payments, support tickets,
//! newsletter subscriptions, web events) in memory from a seed, then writes it to a fresh SQLite
//! file in one transaction with bound parameters only.
//!
//! Rows are generated per phase, each phase drawing from its own PRNG stream, and every table is
//! sorted by its timestamp before ids are assigned, so ids grow with time as in a real shop.

use std::collections::HashSet;
use std::path::Path;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{BigInt, Bool, Date, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;

use super::data::{self, Card, Country, Rng};
use super::{DemoError, ShopOptions, ShopSummary};

/// The shop's tables, parents before children (the order they are created and filled in).
pub const SHOP_TABLES: &[&str] = &[
    "customers",
    "addresses",
    "products",
    "orders",
    "order_items",
    "payments",
    "support_tickets",
    "newsletter_subscriptions",
    "web_events",
];

/// The shop's views.
pub const SHOP_VIEWS: &[&str] = &["customer_order_totals"];

/// How far back the shop's history goes.
const HISTORY_DAYS: i64 = 4 * 365;
/// Most web events fall in this many days before `as_of` (older ones are kept for retention demos).
const WEB_WINDOW_DAYS: i64 = 400;
/// Oldest web events still in the table.
const WEB_OLDEST_DAYS: i64 = 3 * 365;
const WEB_EVENTS_PER_CUSTOMER: usize = 10;
/// SQLite's historical default limit of bound parameters per statement.
const MAX_BINDS: usize = 999;
/// The shop's own (reserved) domain, as seen in referrers.
const SHOP_ORIGIN: &str = "https://shop.example";

const SCHEMA: &str = r#"
CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    customer_ref TEXT NOT NULL UNIQUE,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    phone TEXT,
    date_of_birth DATE,
    country TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    marketing_opt_in BOOLEAN NOT NULL DEFAULT 0 CHECK (marketing_opt_in IN (0, 1))
);
CREATE INDEX customers_name_idx ON customers (last_name, first_name);
CREATE INDEX customers_phone_idx ON customers (phone);
CREATE INDEX customers_created_at_idx ON customers (created_at);

CREATE TABLE addresses (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL CHECK (kind IN ('billing', 'shipping')),
    street TEXT NOT NULL,
    house_number TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    city TEXT NOT NULL,
    country TEXT NOT NULL
);
CREATE INDEX addresses_customer_id_idx ON addresses (customer_id);

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0)
);
CREATE INDEX products_category_idx ON products (category);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    shipping_address_id INTEGER NOT NULL REFERENCES addresses (id),
    ordered_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL CHECK (status IN
        ('pending_payment', 'processing', 'shipped', 'delivered', 'cancelled', 'returned')),
    currency TEXT NOT NULL,
    total_cents INTEGER NOT NULL CHECK (total_cents >= 0)
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE INDEX orders_shipping_address_id_idx ON orders (shipping_address_id);
CREATE INDEX orders_ordered_at_idx ON orders (ordered_at);

CREATE TABLE order_items (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    product_id INTEGER NOT NULL REFERENCES products (id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_cents INTEGER NOT NULL CHECK (unit_price_cents >= 0)
);
CREATE INDEX order_items_order_id_idx ON order_items (order_id);
CREATE INDEX order_items_product_id_idx ON order_items (product_id);

CREATE TABLE payments (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders (id),
    method TEXT NOT NULL CHECK (method IN ('card', 'sepa_debit', 'paypal')),
    card_brand TEXT,
    card_masked TEXT,
    iban TEXT,
    payer_email TEXT,
    amount_cents INTEGER NOT NULL,
    paid_at TIMESTAMP NOT NULL
);
CREATE INDEX payments_order_id_idx ON payments (order_id);
CREATE INDEX payments_paid_at_idx ON payments (paid_at);

CREATE TABLE support_tickets (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER REFERENCES customers (id),
    opened_at TIMESTAMP NOT NULL,
    closed_at TIMESTAMP,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'web_form', 'chat', 'phone')),
    subject TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX support_tickets_customer_id_idx ON support_tickets (customer_id);
CREATE INDEX support_tickets_opened_at_idx ON support_tickets (opened_at);

CREATE TABLE newsletter_subscriptions (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers (id),
    subscribed_at TIMESTAMP NOT NULL,
    unsubscribed_at TIMESTAMP,
    source TEXT NOT NULL
);
CREATE INDEX newsletter_subscriptions_email_idx ON newsletter_subscriptions (email COLLATE NOCASE);
CREATE INDEX newsletter_subscriptions_customer_id_idx ON newsletter_subscriptions (customer_id);

CREATE TABLE web_events (
    id INTEGER PRIMARY KEY,
    occurred_at TIMESTAMP NOT NULL,
    session_id TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers (id),
    ip_address TEXT NOT NULL,
    user_agent TEXT,
    path TEXT NOT NULL,
    referrer TEXT
);
CREATE INDEX web_events_occurred_at_idx ON web_events (occurred_at);
CREATE INDEX web_events_session_id_idx ON web_events (session_id);
CREATE INDEX web_events_customer_id_idx ON web_events (customer_id);

CREATE VIEW customer_order_totals AS
SELECT
    c.id AS customer_id,
    c.email AS email,
    COUNT(o.id) AS order_count,
    COALESCE(SUM(o.total_cents), 0) AS total_spent_cents,
    MAX(o.ordered_at) AS last_order_at
FROM customers c
LEFT JOIN orders o
    ON o.customer_id = c.id AND o.status NOT IN ('cancelled', 'pending_payment')
GROUP BY c.id, c.email;
"#;

/// Creates (or replaces) the demo shop database at `path` and returns its row counts.
///
/// An existing file at `path` and its `-wal`, `-shm` and `-journal` companions are deleted
/// first. The same [`ShopOptions`] always produce the same table contents.
pub fn create_shop_database(path: &Path, options: &ShopOptions) -> Result<ShopSummary, DemoError> {
    let url = database_url(path)?;
    remove_database_files(path)?;
    let shop = Shop::generate(options);
    let mut conn = SqliteConnection::establish(&url)?;
    // Foreign keys are enforced while filling, so a generator bug cannot produce dangling rows.
    conn.batch_execute("PRAGMA foreign_keys = ON;")?;
    conn.immediate_transaction(|conn| -> Result<(), DemoError> {
        conn.batch_execute(SCHEMA)?;
        shop.write(conn)?;
        Ok(())
    })?;
    summary(&mut conn)
}

fn database_url(path: &Path) -> Result<String, DemoError> {
    let text = path.to_str().ok_or_else(|| DemoError::NonUtf8Path(path.to_path_buf()))?;
    // diesel opens with SQLITE_OPEN_URI and rewrites `sqlite://`; keep odd relative names literal.
    if path.is_relative() && (text.starts_with("file:") || text.starts_with("sqlite:") || text.starts_with(':')) {
        Ok(format!("./{text}"))
    } else {
        Ok(text.to_string())
    }
}

fn remove_database_files(path: &Path) -> Result<(), DemoError> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn summary(conn: &mut SqliteConnection) -> Result<ShopSummary, DemoError> {
    let mut tables = Vec::with_capacity(SHOP_TABLES.len());
    for table in SHOP_TABLES {
        // Table names are our own constants, never input.
        let count: Count = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}")).get_result(conn)?;
        tables.push(((*table).to_string(), u64::try_from(count.n).unwrap_or(0)));
    }
    Ok(ShopSummary { tables })
}

// ---------------------------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------------------------

struct Customer {
    id: i64,
    customer_ref: String,
    first_name: String,
    last_name: String,
    email: String,
    phone: Option<String>,
    date_of_birth: NaiveDate,
    country: &'static Country,
    created_at: NaiveDateTime,
    marketing_opt_in: bool,
    // Generation state, not stored as such.
    planned_orders: usize,
    birth_year: i32,
    /// Address ids; the first is the billing address.
    address_ids: Vec<i64>,
    wallet: Wallet,
    /// Home IP address and browser, reused across sessions as real customers do.
    device: Option<(String, &'static str)>,
}

/// How a customer pays, decided lazily on their first order.
#[derive(Default)]
struct Wallet {
    preferred: Option<&'static str>,
    cards: Vec<Card>,
    iban: Option<String>,
    paypal_email: Option<String>,
}

struct Address {
    id: i64,
    customer_id: i64,
    kind: &'static str,
    street: &'static str,
    house_number: String,
    postal_code: String,
    city: &'static str,
    country: &'static str,
}

struct Product {
    id: i64,
    sku: String,
    name: String,
    category: &'static str,
    price_cents: i64,
    popularity: u32,
}

struct Order {
    id: i64,
    /// Index into `Shop::customers` (equal to `customer_id - 1`).
    customer: usize,
    shipping_address_id: i64,
    ordered_at: NaiveDateTime,
    status: &'static str,
    currency: &'static str,
    total_cents: i64,
    items: Vec<Item>,
    /// Index into `Shop::payments`.
    payment: Option<usize>,
}

struct Item {
    product: usize,
    quantity: i64,
    unit_price_cents: i64,
}

struct Payment {
    id: i64,
    order_id: i64,
    method: &'static str,
    card_brand: Option<&'static str>,
    card_masked: Option<String>,
    iban: Option<String>,
    payer_email: Option<String>,
    amount_cents: i64,
    paid_at: NaiveDateTime,
    /// The full card number, kept in memory only (a few tickets quote it).
    card_number: Option<Card>,
}

struct Ticket {
    id: i64,
    customer_id: Option<i64>,
    opened_at: NaiveDateTime,
    closed_at: Option<NaiveDateTime>,
    channel: &'static str,
    subject: String,
    body: String,
}

struct Subscription {
    id: i64,
    email: String,
    customer_id: Option<i64>,
    subscribed_at: NaiveDateTime,
    unsubscribed_at: Option<NaiveDateTime>,
    source: &'static str,
}

struct WebEvent {
    id: i64,
    occurred_at: NaiveDateTime,
    session_id: String,
    customer_id: Option<i64>,
    ip_address: String,
    user_agent: Option<&'static str>,
    path: String,
    referrer: Option<String>,
}

/// Someone who is not a customer: a newsletter-only subscriber or a guest writing to support.
struct Person {
    first: String,
    last: String,
    email: String,
    phone: String,
    country: &'static Country,
}

/// Hands out e-mail addresses and phone numbers that nobody else in the shop has, so that
/// erasing one subject never touches another by accident.
#[derive(Default)]
struct Identities {
    emails: HashSet<String>,
    phones: HashSet<String>,
}

impl Identities {
    fn email(&mut self, rng: &mut Rng, first: &str, last: &str, country: &Country, birth_year: i32) -> String {
        let f = data::email_fold(first, country.code);
        let surname = if last.contains(' ') && country.code == "ES" && rng.chance(600) {
            last.split(' ').next().unwrap_or(last)
        } else {
            last
        };
        let l = data::email_fold(surname, country.code);
        let initial = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
        let yy = birth_year.rem_euclid(100);
        let local = match rng.weighted(&[
            (0u8, 40),
            (1, 10),
            (2, 10),
            (3, 5),
            (4, 10),
            (5, 5),
            (6, 5),
            (7, 5),
            (8, 4),
            (9, 3),
            (10, 3),
        ]) {
            0 => format!("{f}.{l}"),
            1 => format!("{f}{l}"),
            2 => format!("{}.{l}", initial(&f)),
            3 => format!("{f}_{l}"),
            4 => format!("{f}.{l}{yy:02}"),
            5 => format!("{f}{birth_year}"),
            6 => format!("{l}.{f}"),
            7 => format!("{f}{}", rng.between(1, 999)),
            8 => format!("{f}.{}", initial(&l)),
            9 => format!("{f}.{l}+shop"),
            _ => format!("{}{l}", initial(&f)),
        };
        self.unique_email(rng, &local)
    }

    fn unique_email(&mut self, rng: &mut Rng, local: &str) -> String {
        let domain = rng.weighted(data::EMAIL_DOMAINS);
        let mut candidate = format!("{local}@{domain}");
        let mut attempt = 0;
        while self.emails.contains(&candidate) {
            attempt += 1;
            let suffix = if attempt < 5 { rng.between(2, 99) } else { rng.between(100, 99_999) };
            let domain = rng.weighted(data::EMAIL_DOMAINS);
            candidate = format!("{local}{suffix}@{domain}");
        }
        self.emails.insert(candidate.clone());
        candidate
    }

    fn phone(&mut self, rng: &mut Rng, country: &Country) -> String {
        loop {
            let phone = data::mobile_phone(rng, country);
            if self.phones.insert(phone.clone()) {
                return phone;
            }
        }
    }

    fn person(&mut self, rng: &mut Rng, as_of: NaiveDate) -> Person {
        let country = data::pick_country(rng);
        let female = rng.chance(500);
        let first = rng.pick(if female { country.female } else { country.male }).to_string();
        let last = data::surname_form(rng.pick(country.surnames), female).to_string();
        let birth_year = as_of.year() - rng.between(18, 75) as i32;
        let email = self.email(rng, &first, &last, country, birth_year);
        let phone = self.phone(rng, country);
        Person { first, last, email, phone, country }
    }
}

// ---------------------------------------------------------------------------------------------
// Time helpers
// ---------------------------------------------------------------------------------------------

/// When people shop and write: quiet at night, busiest in the evening.
const HOUR_WEIGHTS: [(i64, u32); 24] = [
    (0, 3),
    (1, 2),
    (2, 1),
    (3, 1),
    (4, 1),
    (5, 1),
    (6, 2),
    (7, 4),
    (8, 6),
    (9, 7),
    (10, 7),
    (11, 7),
    (12, 8),
    (13, 7),
    (14, 7),
    (15, 7),
    (16, 7),
    (17, 8),
    (18, 9),
    (19, 11),
    (20, 12),
    (21, 11),
    (22, 8),
    (23, 5),
];

fn time_of_day(rng: &mut Rng) -> TimeDelta {
    let hour = rng.weighted(&HOUR_WEIGHTS);
    TimeDelta::seconds(hour * 3600 + rng.between(0, 3599))
}

fn seconds(rng: &mut Rng, lo: i64, hi: i64) -> TimeDelta {
    TimeDelta::seconds(rng.between(lo, hi))
}

/// A moment in `[lo, hi)` with a human time of day; `lo` if the range is empty.
fn moment_between(rng: &mut Rng, lo: NaiveDateTime, hi: NaiveDateTime) -> NaiveDateTime {
    if hi <= lo {
        return lo;
    }
    let span_days = (hi.date() - lo.date()).num_days();
    if span_days >= 2 {
        let day = lo.date() + TimeDelta::days(rng.between(0, span_days));
        let moment = day.and_time(NaiveTime::MIN) + time_of_day(rng);
        if moment >= lo && moment < hi {
            return moment;
        }
    }
    let span = (hi - lo).num_seconds().max(1);
    lo + TimeDelta::seconds(rng.below(span as u64) as i64)
}

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

struct Shop {
    customers: Vec<Customer>,
    addresses: Vec<Address>,
    products: Vec<Product>,
    orders: Vec<Order>,
    payments: Vec<Payment>,
    tickets: Vec<Ticket>,
    subscriptions: Vec<Subscription>,
    web_events: Vec<WebEvent>,
}

/// The fixed frame every phase dates rows in.
struct Clock {
    as_of: NaiveDate,
    /// Midnight of `as_of`: every row is strictly older.
    end: NaiveDateTime,
    /// `HISTORY_DAYS` before `end`.
    start: NaiveDateTime,
}

impl Clock {
    fn new(as_of: NaiveDate) -> Self {
        let end = as_of.and_time(NaiveTime::MIN);
        Self { as_of, end, start: end - TimeDelta::days(HISTORY_DAYS) }
    }

    /// `from + delay`, or a moment between `from` and the end when that would lie in the
    /// future, so recent rows do not pile up on the last second.
    fn after(&self, rng: &mut Rng, from: NaiveDateTime, delay: TimeDelta) -> NaiveDateTime {
        let t = from + delay;
        if t < self.end { t } else { moment_between(rng, from, self.end) }
    }

    fn days_ago(&self, t: NaiveDateTime) -> i64 {
        (self.end - t).num_days()
    }
}

impl Shop {
    fn generate(options: &ShopOptions) -> Shop {
        let clock = Clock::new(options.as_of);
        let mut ids = Identities::default();
        let mut shop = Shop {
            customers: Vec::new(),
            addresses: Vec::new(),
            products: products(),
            orders: Vec::new(),
            payments: Vec::new(),
            tickets: Vec::new(),
            subscriptions: Vec::new(),
            web_events: Vec::new(),
        };
        let seed = options.seed;
        shop.customers = customers(&mut Rng::stream(seed, 1), &mut ids, options.customers, &clock);
        shop.generate_addresses(&mut Rng::stream(seed, 2));
        shop.generate_orders(&mut Rng::stream(seed, 3), &clock);
        shop.generate_payments(&mut Rng::stream(seed, 4), &mut ids, &clock);
        shop.generate_tickets(&mut Rng::stream(seed, 5), &mut ids, &clock);
        shop.generate_subscriptions(&mut Rng::stream(seed, 6), &mut ids, &clock);
        shop.generate_web_events(&mut Rng::stream(seed, 7), &clock);
        shop
    }

    fn generate_addresses(&mut self, rng: &mut Rng) {
        let mut next_id = 1;
        for customer in &mut self.customers {
            let has_orders = customer.planned_orders > 0;
            if !has_orders && !rng.chance(400) {
                continue;
            }
            let mut kinds = vec!["billing"];
            if has_orders && rng.chance(350) {
                kinds.push("shipping");
                if rng.chance(150) {
                    kinds.push("shipping");
                }
            }
            for kind in kinds {
                // A few ship to family or friends abroad.
                let country =
                    if kind == "shipping" && rng.chance(50) { data::pick_country(rng) } else { customer.country };
                let mut address = new_address(rng, country);
                address.id = next_id;
                address.customer_id = customer.id;
                address.kind = kind;
                next_id += 1;
                customer.address_ids.push(address.id);
                self.addresses.push(address);
            }
        }
    }

    fn generate_orders(&mut self, rng: &mut Rng, clock: &Clock) {
        let category_weights: Vec<(usize, u32)> =
            self.products.iter().enumerate().map(|(i, p)| (i, p.popularity)).collect();
        let mut orders = Vec::new();
        for (index, customer) in self.customers.iter().enumerate() {
            let Some(&billing) = customer.address_ids.first() else {
                continue;
            };
            let mut times: Vec<NaiveDateTime> = (0..customer.planned_orders)
                .map(|n| {
                    if n == 0 && rng.chance(600) {
                        // Most accounts are opened at checkout.
                        let delay = seconds(rng, 60, 1800);
                        clock.after(rng, customer.created_at, delay)
                    } else {
                        moment_between(rng, customer.created_at, clock.end)
                    }
                })
                .collect();
            times.sort();
            for ordered_at in times {
                let shipping_address_id = if customer.address_ids.len() > 1 && rng.chance(700) {
                    customer.address_ids[1 + rng.index(customer.address_ids.len() - 1)]
                } else {
                    billing
                };
                let days_ago = clock.days_ago(ordered_at);
                let currency = customer.country.currency;
                let line_count = rng.weighted(&[(1usize, 50), (2, 28), (3, 13), (4, 6), (5, 3)]);
                let mut items: Vec<Item> = Vec::with_capacity(line_count);
                for _ in 0..line_count * 3 {
                    if items.len() == line_count {
                        break;
                    }
                    let product = rng.weighted(&category_weights);
                    if items.iter().any(|item| item.product == product) {
                        continue;
                    }
                    let p = &self.products[product];
                    let quantity =
                        if p.category == "Gifts" { 1 } else { rng.weighted(&[(1i64, 75), (2, 18), (3, 5), (4, 2)]) };
                    let unit_price_cents = local_price(p, currency, days_ago);
                    items.push(Item { product, quantity, unit_price_cents });
                }
                let total_cents = items.iter().map(|i| i.quantity * i.unit_price_cents).sum();
                let status = order_status(rng, clock.end - ordered_at);
                orders.push(Order {
                    id: 0,
                    customer: index,
                    shipping_address_id,
                    ordered_at,
                    status,
                    currency,
                    total_cents,
                    items,
                    payment: None,
                });
            }
        }
        orders.sort_by_key(|o| (o.ordered_at, o.customer));
        for (i, order) in orders.iter_mut().enumerate() {
            order.id = i as i64 + 1;
        }
        self.orders = orders;
    }

    fn generate_payments(&mut self, rng: &mut Rng, ids: &mut Identities, clock: &Clock) {
        for order in &mut self.orders {
            if matches!(order.status, "pending_payment" | "cancelled") {
                continue;
            }
            let customer = &mut self.customers[order.customer];
            let country = customer.country;
            let preferred = *customer.wallet.preferred.get_or_insert_with(|| payment_method(rng, country));
            let method = if rng.chance(800) { preferred } else { payment_method(rng, country) };
            let mut payment = Payment {
                id: self.payments.len() as i64 + 1,
                order_id: order.id,
                method,
                card_brand: None,
                card_masked: None,
                iban: None,
                payer_email: None,
                amount_cents: order.total_cents,
                paid_at: order.ordered_at,
                card_number: None,
            };
            let delay = match method {
                "card" => {
                    let wallet = &mut customer.wallet;
                    if wallet.cards.is_empty() || (wallet.cards.len() == 1 && rng.chance(60)) {
                        wallet.cards.push(data::card(rng));
                    }
                    let card = wallet.cards[rng.index(wallet.cards.len())].clone();
                    payment.card_brand = Some(card.brand);
                    payment.card_masked = Some(card.masked());
                    payment.card_number = Some(card);
                    seconds(rng, 2, 90)
                }
                "sepa_debit" => {
                    let iban = customer.wallet.iban.get_or_insert_with(|| data::iban(rng, country.code)).clone();
                    payment.iban = Some(iban);
                    seconds(rng, 86_400, 3 * 86_400)
                }
                _ => {
                    if customer.wallet.paypal_email.is_none() {
                        let email = if rng.chance(600) {
                            customer.email.clone()
                        } else {
                            ids.email(rng, &customer.first_name, &customer.last_name, country, customer.birth_year)
                        };
                        customer.wallet.paypal_email = Some(email);
                    }
                    payment.payer_email = customer.wallet.paypal_email.clone();
                    seconds(rng, 5, 300)
                }
            };
            payment.paid_at = clock.after(rng, order.ordered_at, delay);
            order.payment = Some(self.payments.len());
            self.payments.push(payment);
        }
    }

    fn generate_tickets(&mut self, rng: &mut Rng, ids: &mut Identities, clock: &Clock) {
        let count = self.customers.len() * 2 / 5;
        let mut tickets = Vec::with_capacity(count);
        for _ in 0..count {
            let roll = rng.below(1000);
            let ticket = if !self.orders.is_empty() && roll < 620 {
                let order = rng.index(self.orders.len());
                let ordered_at = self.orders[order].ordered_at;
                let delay = seconds(rng, 3600, 20 * 86_400);
                let opened_at = clock.after(rng, ordered_at, delay);
                self.customer_ticket(rng, ids, clock, self.orders[order].customer, Some(order), opened_at)
            } else if !self.customers.is_empty() && roll < 880 {
                let customer = rng.index(self.customers.len());
                let opened_at = moment_between(rng, self.customers[customer].created_at, clock.end);
                self.customer_ticket(rng, ids, clock, customer, None, opened_at)
            } else {
                self.guest_ticket(rng, ids, clock)
            };
            tickets.push(ticket);
        }
        tickets.sort_by_key(|t| t.opened_at);
        for (i, ticket) in tickets.iter_mut().enumerate() {
            ticket.id = i as i64 + 1;
        }
        self.tickets = tickets;
    }

    fn customer_ticket(
        &self,
        rng: &mut Rng,
        ids: &mut Identities,
        clock: &Clock,
        customer: usize,
        order: Option<usize>,
        opened_at: NaiveDateTime,
    ) -> Ticket {
        let c = &self.customers[customer];
        let language =
            if c.country.ticket_language != "en" && rng.chance(400) { c.country.ticket_language } else { "en" };
        let wants_order = order.is_some() && rng.chance(700);
        let template = pick_template(rng, language, wants_order, false);
        let full = format!("{} {}", c.first_name, c.last_name);
        let phone = match &c.phone {
            Some(phone) => phone.clone(),
            // Not on file: the customer gives a number the shop has never seen.
            None => ids.phone(rng, c.country),
        };
        let phone = data::phone_in_text(rng, &phone, c.country);
        let mut text = TicketText {
            first: c.first_name.clone(),
            full,
            email: c.email.clone(),
            phone,
            address: format_address(&new_address(rng, c.country)),
            order: String::new(),
            order_date: String::new(),
            product: self.products[rng.index(self.products.len())].name.clone(),
            payment: String::new(),
            card: String::new(),
            days: rng.between(3, 12).to_string(),
        };
        let mut card = c.wallet.cards.first().cloned();
        if let Some(order) = order.map(|i| &self.orders[i]) {
            text.order = order.id.to_string();
            text.order_date = format_date(order.ordered_at.date(), language);
            if let Some(item) = order.items.first() {
                text.product = self.products[item.product].name.clone();
            }
            if let Some(payment) = order.payment.map(|i| &self.payments[i]) {
                text.payment = describe_payment(payment, language);
                if payment.card_number.is_some() {
                    card = payment.card_number.clone();
                }
            }
        }
        if text.payment.is_empty() {
            text.payment = match language {
                "fr" => "carte bancaire".to_string(),
                "de" => "Karte".to_string(),
                _ => "my card".to_string(),
            };
        }
        let card = card.unwrap_or_else(|| data::card(rng));
        // Some customers paste the whole card number; most only quote the last digits.
        text.card = if rng.chance(250) { card.grouped() } else { format!("ending in {}", card.last4()) };
        let channel = rng.weighted(&[("email", 45), ("web_form", 30), ("chat", 20), ("phone", 5)]);
        let (subject, body) = text.render(rng, template, language, channel);
        Ticket {
            id: 0,
            customer_id: Some(c.id),
            opened_at,
            closed_at: closed_at(rng, clock, opened_at),
            channel,
            subject,
            body,
        }
    }

    fn guest_ticket(&self, rng: &mut Rng, ids: &mut Identities, clock: &Clock) -> Ticket {
        let person = ids.person(rng, clock.as_of);
        let template = pick_template(rng, "en", false, true);
        let text = TicketText {
            first: person.first.clone(),
            full: format!("{} {}", person.first, person.last),
            email: person.email.clone(),
            phone: data::phone_in_text(rng, &person.phone, person.country),
            address: format_address(&new_address(rng, person.country)),
            order: String::new(),
            order_date: String::new(),
            product: self.products[rng.index(self.products.len())].name.clone(),
            payment: String::new(),
            card: String::new(),
            days: String::new(),
        };
        let channel = rng.weighted(&[("email", 55), ("web_form", 35), ("chat", 10)]);
        let (subject, body) = text.render(rng, template, "en", channel);
        let opened_at = moment_between(rng, clock.start, clock.end);
        Ticket {
            id: 0,
            customer_id: None,
            opened_at,
            closed_at: closed_at(rng, clock, opened_at),
            channel,
            subject,
            body,
        }
    }

    fn generate_subscriptions(&mut self, rng: &mut Rng, ids: &mut Identities, clock: &Clock) {
        let mut first_order: Vec<Option<NaiveDateTime>> = vec![None; self.customers.len()];
        for order in &self.orders {
            first_order[order.customer].get_or_insert(order.ordered_at);
        }
        let mut rows = Vec::new();
        for (index, customer) in self.customers.iter_mut().enumerate() {
            if !rng.chance(400) {
                continue;
            }
            let source = rng.weighted(&[("checkout", 50), ("account", 25), ("footer_form", 25)]);
            let (subscribed_at, customer_id, email) = match source {
                "checkout" => {
                    let at = first_order[index].unwrap_or_else(|| {
                        let delay = seconds(rng, 30, 600);
                        clock.after(rng, customer.created_at, delay)
                    });
                    (at, Some(customer.id), customer.email.clone())
                }
                "account" => {
                    let at = moment_between(rng, customer.created_at, clock.end);
                    (at, Some(customer.id), customer.email.clone())
                }
                _ => {
                    // Signed up in the footer before registering; typed by hand, and only
                    // sometimes linked to the account later. Erasure must match on the address.
                    let earliest = (customer.created_at - TimeDelta::days(300)).max(clock.start);
                    let at = moment_between(rng, earliest, customer.created_at);
                    let linked = rng.chance(400).then_some(customer.id);
                    (at, linked, typed_email(rng, &customer.email))
                }
            };
            let mut row = Subscription { id: 0, email, customer_id, subscribed_at, unsubscribed_at: None, source };
            let mut active = true;
            if rng.chance(220) {
                let unsubscribed = moment_between(rng, subscribed_at + TimeDelta::days(1), clock.end);
                if unsubscribed > subscribed_at && unsubscribed < clock.end {
                    row.unsubscribed_at = Some(unsubscribed);
                    active = false;
                    if rng.chance(150) {
                        let again = moment_between(rng, unsubscribed + TimeDelta::days(1), clock.end);
                        if again > unsubscribed && again < clock.end {
                            rows.push(row);
                            row = Subscription {
                                id: 0,
                                email: customer.email.clone(),
                                customer_id: Some(customer.id),
                                subscribed_at: again,
                                unsubscribed_at: None,
                                source: "account",
                            };
                            active = true;
                        }
                    }
                }
            }
            rows.push(row);
            customer.marketing_opt_in = active;
        }
        // People on the list who never bought anything.
        for _ in 0..self.customers.len() * 3 / 20 {
            let person = ids.person(rng, clock.as_of);
            let subscribed_at = moment_between(rng, clock.start, clock.end);
            let unsubscribed_at = rng
                .chance(250)
                .then(|| moment_between(rng, subscribed_at + TimeDelta::days(1), clock.end))
                .filter(|t| *t > subscribed_at && *t < clock.end);
            rows.push(Subscription {
                id: 0,
                email: typed_email(rng, &person.email),
                customer_id: None,
                subscribed_at,
                unsubscribed_at,
                source: rng.weighted(&[("footer_form", 60), ("popup", 30), ("giveaway", 10)]),
            });
        }
        rows.sort_by_key(|s| s.subscribed_at);
        for (i, row) in rows.iter_mut().enumerate() {
            row.id = i as i64 + 1;
        }
        self.subscriptions = rows;
    }

    fn generate_web_events(&mut self, rng: &mut Rng, clock: &Clock) {
        let target = self.customers.len() * WEB_EVENTS_PER_CUSTOMER;
        let window_start = clock.end - TimeDelta::days(WEB_WINDOW_DAYS);
        let oldest = clock.end - TimeDelta::days(WEB_OLDEST_DAYS);
        let mut events: Vec<WebEvent> = Vec::with_capacity(target);

        for customer in &mut self.customers {
            customer.device = Some((ip_address(rng), rng.weighted(data::USER_AGENTS)));
        }

        // Checkout sessions that end in the order confirmation.
        for order in &self.orders {
            let p = if order.ordered_at >= window_start { 350 } else { 30 };
            if events.len() >= target || !rng.chance(p) {
                continue;
            }
            let customer = &self.customers[order.customer];
            let mut paths: Vec<String> =
                order.items.iter().map(|item| product_path(&self.products[item.product])).collect();
            paths.extend(
                ["/cart", "/checkout", "/checkout/shipping", "/checkout/payment"].iter().map(|p| p.to_string()),
            );
            paths.push(format!("/checkout/confirmation?order={}", order.id));
            let mut times = vec![order.ordered_at; paths.len()];
            for k in (0..paths.len() - 1).rev() {
                times[k] = times[k + 1] - seconds(rng, 15, 150);
            }
            let device = customer.device.clone().unwrap_or_else(|| (ip_address(rng), "Mozilla/5.0"));
            let session = Session::new(rng, device);
            let referrer = external_referrer(rng);
            for (k, (path, at)) in paths.into_iter().zip(times).enumerate() {
                // Before the account existed the visitor was anonymous.
                let customer_id = (at >= customer.created_at).then_some(customer.id);
                let referrer = if k == 0 { referrer.clone() } else { None };
                session.push(&mut events, target, at, customer_id, path, referrer);
            }
        }

        // Newsletter confirmation links carry the address in the URL, as many real ones do.
        for subscription in &self.subscriptions {
            if events.len() >= target || subscription.subscribed_at < window_start || !rng.chance(300) {
                continue;
            }
            let delay = seconds(rng, 30, 3600);
            let at = clock.after(rng, subscription.subscribed_at, delay);
            let device = (ip_address(rng), rng.weighted(data::USER_AGENTS));
            let path =
                format!("/newsletter/confirm?email={}&token={}", data::url_encode(&subscription.email), rng.hex(24));
            // Clicked from a mail client, not logged in: only the address in the URL links it.
            Session::new(rng, device).push(&mut events, target, at, None, path, None);
        }

        // Everything else is browsing, logged in or not.
        while events.len() < target {
            let logged_in = !self.customers.is_empty() && rng.chance(450);
            let reused = !self.customers.is_empty() && rng.chance(250);
            let (customer_id, device, not_before) = if logged_in || reused {
                let c = &self.customers[rng.index(self.customers.len())];
                let device = c.device.clone().unwrap_or_else(|| (ip_address(rng), "Mozilla/5.0"));
                // An anonymous visit from a customer's home connection is still their data.
                (logged_in.then_some(c.id), device, c.created_at)
            } else {
                (None, (ip_address(rng), rng.weighted(data::USER_AGENTS)), clock.start)
            };
            let start = if rng.chance(850) {
                moment_between(rng, window_start.max(not_before), clock.end)
            } else {
                moment_between(rng, oldest.max(not_before), window_start.max(not_before))
            };
            let session = Session::new(rng, device);
            let length = rng.weighted(&[(1usize, 25), (2, 20), (3, 15), (4, 12), (5, 10), (6, 8), (8, 6), (12, 4)]);
            let mut at = start;
            let mut previous: Option<String> = None;
            for _ in 0..length {
                if at >= clock.end {
                    break;
                }
                let path = browse_path(rng, &self.products, previous.is_none(), customer_id.is_some());
                let referrer = match &previous {
                    Some(p) => Some(format!("{SHOP_ORIGIN}{p}")),
                    None => external_referrer(rng),
                };
                session.push(&mut events, target, at, customer_id, path.clone(), referrer);
                previous = Some(path);
                at += seconds(rng, 5, 240);
            }
        }

        events.sort_by_key(|e| e.occurred_at);
        for (i, event) in events.iter_mut().enumerate() {
            event.id = i as i64 + 1;
        }
        self.web_events = events;
    }
}

fn customers(rng: &mut Rng, ids: &mut Identities, count: usize, clock: &Clock) -> Vec<Customer> {
    let history_days = HISTORY_DAYS as u64;
    let mut customers: Vec<Customer> = (0..count)
        .map(|_| {
            let country = data::pick_country(rng);
            let female = rng.chance(500);
            let first_name = rng.pick(if female { country.female } else { country.male }).to_string();
            let mut last_name = data::surname_form(rng.pick(country.surnames), female).to_string();
            if country.code == "ES" && rng.chance(700) {
                let second = data::surname_form(rng.pick(country.surnames), female);
                if second != last_name {
                    last_name = format!("{last_name} {second}");
                }
            }
            // Sign-ups grow over time: half uniform, half the later of two uniform days.
            let day = if rng.chance(500) {
                rng.below(history_days)
            } else {
                rng.below(history_days).max(rng.below(history_days))
            } as i64;
            let created_at = clock.start + TimeDelta::days(day) + time_of_day(rng);
            let (youngest, oldest) = rng.weighted(&[
                ((18i64, 24i64), 12),
                ((25, 34), 26),
                ((35, 44), 24),
                ((45, 54), 18),
                ((55, 64), 12),
                ((65, 82), 8),
            ]);
            let age_at_signup = rng.between(youngest, oldest);
            let date_of_birth =
                created_at.date() - TimeDelta::days(age_at_signup * 365 + age_at_signup / 4 + rng.between(0, 364));
            let birth_year = date_of_birth.year();
            let email = ids.email(rng, &first_name, &last_name, country, birth_year);
            let phone = rng.chance(920).then(|| ids.phone(rng, country));
            let age_days = (clock.end - created_at).num_days();
            let mut planned_orders = if rng.chance(150) { 0 } else { 1 };
            while planned_orders > 0 && planned_orders < 30 && rng.chance(660) {
                planned_orders += 1;
            }
            // Someone who signed up last week has not ordered twenty times yet.
            planned_orders = planned_orders.min(1 + (age_days / 10) as usize);
            Customer {
                id: 0,
                customer_ref: String::new(),
                first_name,
                last_name,
                email,
                phone,
                date_of_birth,
                country,
                created_at,
                marketing_opt_in: false,
                planned_orders,
                birth_year,
                address_ids: Vec::new(),
                wallet: Wallet::default(),
                device: None,
            }
        })
        .collect();
    customers.sort_by(|a, b| (a.created_at, &a.email).cmp(&(b.created_at, &b.email)));
    for (i, customer) in customers.iter_mut().enumerate() {
        customer.id = i as i64 + 1;
        customer.customer_ref = format!("C-{:05}", i + 1);
    }
    customers
}

fn products() -> Vec<Product> {
    let mut products = Vec::with_capacity(120);
    for line in data::PRODUCT_LINES {
        let mut n = 0;
        for (item, base) in line.items {
            let variants: &[(&str, u32)] = if line.variants.is_empty() { &[("", 100)] } else { line.variants };
            for (variant, percent) in variants {
                n += 1;
                let name = if variant.is_empty() { (*item).to_string() } else { format!("{item} {variant}") };
                // Prices end in 0 or 9 cents after scaling, like a real price list.
                let scaled = i64::from(*base) * i64::from(*percent) / 100;
                let price_cents = if *percent == 100 { scaled } else { (scaled / 10) * 10 };
                products.push(Product {
                    id: products.len() as i64 + 1,
                    sku: format!("{}-{n:03}", line.sku_prefix),
                    name,
                    category: line.category,
                    price_cents,
                    popularity: line.popularity,
                });
            }
        }
    }
    products
}

fn new_address(rng: &mut Rng, country: &'static Country) -> Address {
    let city = data::pick_city(rng, country);
    let pattern = rng.pick(city.postal);
    Address {
        id: 0,
        customer_id: 0,
        kind: "billing",
        street: rng.pick(country.streets),
        house_number: data::house_number(rng, country.code),
        postal_code: data::postal_code(rng, pattern),
        city: city.name,
        country: country.code,
    }
}

/// An address on one line, in the local order of its parts.
fn format_address(a: &Address) -> String {
    match a.country {
        "GB" | "IE" => format!("{} {}, {} {}", a.house_number, a.street, a.city, a.postal_code),
        "FR" => format!("{} {}, {} {}", a.house_number, a.street, a.postal_code, a.city),
        _ => format!("{} {}, {} {}", a.street, a.house_number, a.postal_code, a.city),
    }
}

/// The price of a product on an order `days_ago` old, in the order's currency: prices rose by
/// about 2.5 % a year, and non-euro prices are converted and rounded to end in 9.
fn local_price(product: &Product, currency: &str, days_ago: i64) -> i64 {
    let rate_per_mille: i64 = match currency {
        "GBP" => 860,
        "PLN" => 4300,
        "SEK" => 11_200,
        _ => 1000,
    };
    if product.name.starts_with("Gift Card") {
        // Face value: converted, whole units, no inflation.
        return product.price_cents * rate_per_mille / 1000 / 100 * 100;
    }
    let inflation_per_mille = 1000 - days_ago * 25 / 365;
    let cents = product.price_cents * rate_per_mille * inflation_per_mille / 1_000_000;
    if currency == "EUR" && days_ago < 30 { product.price_cents } else { (cents / 10) * 10 + 9 }
}

fn order_status(rng: &mut Rng, age: TimeDelta) -> &'static str {
    let hours = age.num_hours();
    if hours < 24 {
        if rng.chance(80) { "pending_payment" } else { "processing" }
    } else if hours < 72 {
        if rng.chance(400) { "processing" } else { "shipped" }
    } else if hours < 240 {
        rng.weighted(&[("shipped", 50), ("delivered", 45), ("cancelled", 5)])
    } else {
        rng.weighted(&[("delivered", 88), ("returned", 5), ("cancelled", 7)])
    }
}

fn payment_method(rng: &mut Rng, country: &Country) -> &'static str {
    if !country.uses_sepa_debit() {
        return rng.weighted(&[("card", 65), ("paypal", 35)]);
    }
    match country.code {
        "DE" | "AT" => rng.weighted(&[("card", 30), ("paypal", 38), ("sepa_debit", 32)]),
        "NL" => rng.weighted(&[("card", 45), ("paypal", 30), ("sepa_debit", 25)]),
        _ => rng.weighted(&[("card", 55), ("paypal", 30), ("sepa_debit", 15)]),
    }
}

fn describe_payment(payment: &Payment, language: &str) -> String {
    match (payment.method, &payment.card_number, &payment.iban, &payment.payer_email) {
        ("card", Some(card), _, _) => {
            let brand = match card.brand {
                "visa" => "Visa",
                "mastercard" => "Mastercard",
                _ => "American Express",
            };
            match language {
                "fr" => format!("carte {brand} se terminant par {}", card.last4()),
                "de" => format!("{brand}-Karte mit Endziffern {}", card.last4()),
                _ => format!("my {brand} card ending in {}", card.last4()),
            }
        }
        ("sepa_debit", _, Some(iban), _) => match language {
            "fr" => format!("prélèvement SEPA sur le compte {iban}"),
            "de" => format!("Lastschrift von {iban}"),
            _ => format!("direct debit from {iban}"),
        },
        (_, _, _, Some(email)) => format!("PayPal ({email})"),
        _ => "PayPal".to_string(),
    }
}

fn format_date(date: NaiveDate, language: &str) -> String {
    match language {
        "de" => date.format("%d.%m.%Y").to_string(),
        "fr" => date.format("%d/%m/%Y").to_string(),
        _ => date.format("%-d %B %Y").to_string(),
    }
}

/// An address as a person types it into a form: usually as is, sometimes capitalised.
fn typed_email(rng: &mut Rng, email: &str) -> String {
    match rng.below(100) {
        0..=49 => email.to_string(),
        50..=89 => data::title_case_email(email),
        _ => email.to_uppercase(),
    }
}

fn closed_at(rng: &mut Rng, clock: &Clock, opened_at: NaiveDateTime) -> Option<NaiveDateTime> {
    let recent = clock.days_ago(opened_at) < 10;
    if recent && rng.chance(400) {
        return None;
    }
    let closed = opened_at + seconds(rng, 20 * 60, 6 * 86_400);
    (closed < clock.end).then_some(closed)
}

fn pick_template(rng: &mut Rng, language: &str, wants_order: bool, guest: bool) -> &'static data::TicketTemplate {
    let matching = |language: &str| -> Vec<&'static data::TicketTemplate> {
        data::TICKET_TEMPLATES
            .iter()
            .filter(|t| t.language == language && t.needs_order == wants_order && (!guest || t.guest_ok))
            .collect()
    };
    let mut candidates = matching(language);
    if candidates.is_empty() {
        candidates = matching("en");
    }
    candidates.get(rng.index(candidates.len())).copied().unwrap_or(&data::TICKET_TEMPLATES[0])
}

/// Values substituted into a ticket template.
struct TicketText {
    first: String,
    full: String,
    email: String,
    phone: String,
    address: String,
    order: String,
    order_date: String,
    product: String,
    payment: String,
    card: String,
    days: String,
}

impl TicketText {
    fn fill(&self, template: &str) -> String {
        template
            .replace("{first}", &self.first)
            .replace("{full}", &self.full)
            .replace("{email}", &self.email)
            .replace("{phone}", &self.phone)
            .replace("{address}", &self.address)
            .replace("{order_date}", &self.order_date)
            .replace("{order}", &self.order)
            .replace("{product}", &self.product)
            .replace("{payment}", &self.payment)
            .replace("{card}", &self.card)
            .replace("{days}", &self.days)
    }

    fn render(
        &self,
        rng: &mut Rng,
        template: &data::TicketTemplate,
        language: &str,
        channel: &str,
    ) -> (String, String) {
        let subject = self.fill(template.subject);
        let mut body = self.fill(template.body);
        if channel != "chat" && rng.chance(750) {
            body.push_str("\n\n");
            body.push_str(&self.fill(rng.pick(data::sign_offs(language))));
        }
        if channel == "web_form" {
            body = format!("Name: {}\nE-mail: {}\nMessage:\n{body}", self.full, self.email);
        }
        (subject, body)
    }
}

/// A browsing session: one id, one connection, one browser.
struct Session {
    id: String,
    ip_address: String,
    user_agent: &'static str,
}

impl Session {
    fn new(rng: &mut Rng, (ip_address, user_agent): (String, &'static str)) -> Self {
        Self { id: rng.hex(32), ip_address, user_agent }
    }

    fn push(
        &self,
        events: &mut Vec<WebEvent>,
        target: usize,
        occurred_at: NaiveDateTime,
        customer_id: Option<i64>,
        path: String,
        referrer: Option<String>,
    ) {
        if events.len() >= target {
            return;
        }
        events.push(WebEvent {
            id: 0,
            occurred_at,
            session_id: self.id.clone(),
            customer_id,
            ip_address: self.ip_address.clone(),
            user_agent: Some(self.user_agent),
            path,
            referrer,
        });
    }
}

/// An address from the documentation ranges (RFC 5737, RFC 3849), in canonical text form.
fn ip_address(rng: &mut Rng) -> String {
    if rng.chance(700) {
        let net = rng.pick(&["192.0.2", "198.51.100", "203.0.113"]);
        format!("{net}.{}", rng.between(1, 254))
    } else {
        let three_before_gap = rng.chance(500);
        let h: Vec<String> = (0..4).map(|_| format!("{:x}", rng.between(1, 0xffff))).collect();
        if three_before_gap {
            format!("2001:db8:{}:{}:{}::{}", h[0], h[1], h[2], h[3])
        } else {
            format!("2001:db8:{}:{}::{}:{}", h[0], h[1], h[2], h[3])
        }
    }
}

fn external_referrer(rng: &mut Rng) -> Option<String> {
    rng.chance(600).then(|| (rng.weighted(data::EXTERNAL_REFERRERS)).to_string())
}

fn product_path(product: &Product) -> String {
    format!("/products/{}", product.sku.to_lowercase())
}

fn category_path(category: &str) -> String {
    let slug: String = category.to_lowercase().replace(" & ", "-").replace(' ', "-");
    format!("/category/{slug}")
}

fn browse_path(rng: &mut Rng, products: &[Product], landing: bool, logged_in: bool) -> String {
    let kind = if landing {
        rng.weighted(&[("home", 35), ("product", 35), ("category", 20), ("search", 10)])
    } else {
        rng.weighted(&[
            ("product", 45),
            ("category", 18),
            ("cart", 10),
            ("search", 10),
            ("home", 5),
            ("account", 8),
            ("about", 4),
        ])
    };
    match kind {
        "product" if !products.is_empty() => product_path(&products[rng.index(products.len())]),
        "category" if !products.is_empty() => category_path(products[rng.index(products.len())].category),
        "search" => format!("/search?q={}", rng.pick(data::SEARCH_TERMS)),
        "cart" => "/cart".to_string(),
        "account" if logged_in => rng.pick(&["/account", "/account/orders", "/account/addresses"]).to_string(),
        "account" => "/login".to_string(),
        "about" => rng.pick(&["/about", "/shipping", "/contact", "/privacy"]).to_string(),
        _ => "/".to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// One bound value. Everything reaches SQLite as a parameter; SQL text holds only our own
/// table and column names.
#[derive(Clone, Copy)]
enum Value<'a> {
    Int(i64),
    OptInt(Option<i64>),
    Text(&'a str),
    OptText(Option<&'a str>),
    Bool(bool),
    Date(NaiveDate),
    Time(NaiveDateTime),
    OptTime(Option<NaiveDateTime>),
}

type InsertQuery<'f> = BoxedSqlQuery<'f, Sqlite, SqlQuery>;

fn bind<'f>(query: InsertQuery<'f>, value: Value<'f>) -> InsertQuery<'f> {
    match value {
        Value::Int(v) => query.bind::<BigInt, _>(v),
        Value::OptInt(v) => query.bind::<Nullable<BigInt>, _>(v),
        Value::Text(v) => query.bind::<Text, _>(v),
        Value::OptText(v) => query.bind::<Nullable<Text>, _>(v),
        Value::Bool(v) => query.bind::<Bool, _>(v),
        Value::Date(v) => query.bind::<Date, _>(v),
        Value::Time(v) => query.bind::<Timestamp, _>(v),
        Value::OptTime(v) => query.bind::<Nullable<Timestamp>, _>(v),
    }
}

/// Multi-row INSERTs, as many rows per statement as the parameter limit allows.
fn insert<'a, const N: usize>(
    conn: &mut SqliteConnection,
    table: &str,
    columns: [&str; N],
    rows: impl Iterator<Item = [Value<'a>; N]>,
) -> QueryResult<()> {
    let rows: Vec<[Value<'a>; N]> = rows.collect();
    let row_placeholder = format!("({})", vec!["?"; N].join(", "));
    for chunk in rows.chunks((MAX_BINDS / N).max(1)) {
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {}",
            columns.join(", "),
            vec![row_placeholder.as_str(); chunk.len()].join(", ")
        );
        let mut query = diesel::sql_query(sql).into_boxed::<Sqlite>();
        for row in chunk {
            for value in row {
                query = bind(query, *value);
            }
        }
        query.execute(conn)?;
    }
    Ok(())
}

impl Shop {
    fn write(&self, conn: &mut SqliteConnection) -> QueryResult<()> {
        use Value::{
            Bool as B, Date as D, Int as I, OptInt as OI, OptText as OT, OptTime as OTm, Text as T, Time as Tm,
        };

        insert(
            conn,
            "customers",
            [
                "id",
                "customer_ref",
                "first_name",
                "last_name",
                "email",
                "phone",
                "date_of_birth",
                "country",
                "created_at",
                "marketing_opt_in",
            ],
            self.customers.iter().map(|c| {
                [
                    I(c.id),
                    T(&c.customer_ref),
                    T(&c.first_name),
                    T(&c.last_name),
                    T(&c.email),
                    OT(c.phone.as_deref()),
                    D(c.date_of_birth),
                    T(c.country.code),
                    Tm(c.created_at),
                    B(c.marketing_opt_in),
                ]
            }),
        )?;
        insert(
            conn,
            "addresses",
            ["id", "customer_id", "kind", "street", "house_number", "postal_code", "city", "country"],
            self.addresses.iter().map(|a| {
                [
                    I(a.id),
                    I(a.customer_id),
                    T(a.kind),
                    T(a.street),
                    T(&a.house_number),
                    T(&a.postal_code),
                    T(a.city),
                    T(a.country),
                ]
            }),
        )?;
        insert(
            conn,
            "products",
            ["id", "sku", "name", "category", "price_cents"],
            self.products.iter().map(|p| [I(p.id), T(&p.sku), T(&p.name), T(p.category), I(p.price_cents)]),
        )?;
        insert(
            conn,
            "orders",
            ["id", "customer_id", "shipping_address_id", "ordered_at", "status", "currency", "total_cents"],
            self.orders.iter().map(|o| {
                [
                    I(o.id),
                    I(self.customers[o.customer].id),
                    I(o.shipping_address_id),
                    Tm(o.ordered_at),
                    T(o.status),
                    T(o.currency),
                    I(o.total_cents),
                ]
            }),
        )?;
        let items = self.orders.iter().flat_map(|o| o.items.iter().map(move |item| (o.id, item))).enumerate().map(
            |(i, (order_id, item))| {
                [
                    I(i as i64 + 1),
                    I(order_id),
                    I(self.products[item.product].id),
                    I(item.quantity),
                    I(item.unit_price_cents),
                ]
            },
        );
        insert(conn, "order_items", ["id", "order_id", "product_id", "quantity", "unit_price_cents"], items)?;
        insert(
            conn,
            "payments",
            ["id", "order_id", "method", "card_brand", "card_masked", "iban", "payer_email", "amount_cents", "paid_at"],
            self.payments.iter().map(|p| {
                [
                    I(p.id),
                    I(p.order_id),
                    T(p.method),
                    OT(p.card_brand),
                    OT(p.card_masked.as_deref()),
                    OT(p.iban.as_deref()),
                    OT(p.payer_email.as_deref()),
                    I(p.amount_cents),
                    Tm(p.paid_at),
                ]
            }),
        )?;
        insert(
            conn,
            "support_tickets",
            ["id", "customer_id", "opened_at", "closed_at", "channel", "subject", "body"],
            self.tickets.iter().map(|t| {
                [I(t.id), OI(t.customer_id), Tm(t.opened_at), OTm(t.closed_at), T(t.channel), T(&t.subject), T(&t.body)]
            }),
        )?;
        insert(
            conn,
            "newsletter_subscriptions",
            ["id", "email", "customer_id", "subscribed_at", "unsubscribed_at", "source"],
            self.subscriptions.iter().map(|s| {
                [I(s.id), T(&s.email), OI(s.customer_id), Tm(s.subscribed_at), OTm(s.unsubscribed_at), T(s.source)]
            }),
        )?;
        insert(
            conn,
            "web_events",
            ["id", "occurred_at", "session_id", "customer_id", "ip_address", "user_agent", "path", "referrer"],
            self.web_events.iter().map(|e| {
                [
                    I(e.id),
                    Tm(e.occurred_at),
                    T(&e.session_id),
                    OI(e.customer_id),
                    T(&e.ip_address),
                    OT(e.user_agent),
                    T(&e.path),
                    OT(e.referrer.as_deref()),
                ]
            }),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::NaiveDate;
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Nullable, Text};

    use super::{SHOP_TABLES, create_shop_database};
    use crate::demo::data::{iban_is_valid, iban_length, is_reserved_example_domain};
    use crate::demo::{ShopOptions, ShopSummary};

    #[derive(QueryableByName)]
    struct Line {
        #[diesel(sql_type = Nullable<Text>)]
        line: Option<String>,
    }

    #[derive(QueryableByName)]
    struct Number {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    const AS_OF: &str = "2025-06-15";
    const END: &str = "2025-06-15 00:00:00";

    fn options(customers: usize, seed: u64) -> ShopOptions {
        ShopOptions { customers, as_of: NaiveDate::parse_from_str(AS_OF, "%Y-%m-%d").unwrap(), seed }
    }

    fn create(dir: &tempfile::TempDir, name: &str, options: &ShopOptions) -> (SqliteConnection, ShopSummary) {
        let path = dir.path().join(name);
        let summary = create_shop_database(&path, options).unwrap();
        let conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        (conn, summary)
    }

    fn count(conn: &mut SqliteConnection, sql: &str) -> i64 {
        diesel::sql_query(sql).get_result::<Number>(conn).unwrap_or_else(|e| panic!("{sql}: {e}")).n
    }

    fn lines(conn: &mut SqliteConnection, sql: &str) -> Vec<Option<String>> {
        diesel::sql_query(sql)
            .load::<Line>(conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .map(|l| l.line)
            .collect()
    }

    fn values(conn: &mut SqliteConnection, sql: &str) -> Vec<String> {
        lines(conn, sql).into_iter().flatten().collect()
    }

    fn values_n(conn: &mut SqliteConnection, sql: &str) -> Vec<i64> {
        diesel::sql_query(sql)
            .load::<Number>(conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .into_iter()
            .map(|r| r.n)
            .collect()
    }

    /// Every row of every table, columns quoted by SQLite itself, ordered by id.
    fn dump(conn: &mut SqliteConnection) -> Vec<String> {
        let mut out = Vec::new();
        for table in SHOP_TABLES {
            let columns: Vec<String> = diesel::sql_query("SELECT name AS line FROM pragma_table_info(?) ORDER BY cid")
                .bind::<Text, _>(*table)
                .load::<Line>(conn)
                .unwrap()
                .into_iter()
                .filter_map(|l| l.line)
                .collect();
            assert!(!columns.is_empty(), "{table} has no columns");
            let expr = columns.iter().map(|c| format!("quote({c})")).collect::<Vec<_>>().join(" || '|' || ");
            out.push(format!("-- {table}"));
            out.extend(values(conn, &format!("SELECT {expr} AS line FROM {table} ORDER BY id")));
        }
        out
    }

    fn is_e164(phone: &str) -> bool {
        let b = phone.as_bytes();
        (9..=16).contains(&b.len())
            && b[0] == b'+'
            && (b'1'..=b'9').contains(&b[1])
            && b[2..].iter().all(u8::is_ascii_digit)
    }

    fn has_example_domain(email: &str) -> bool {
        match email.rsplit_once('@') {
            Some((local, domain)) => !local.is_empty() && is_reserved_example_domain(&domain.to_lowercase()),
            None => false,
        }
    }

    #[test]
    fn default_size_shop_is_complete_and_consistent() {
        let dir = tempfile::tempdir().unwrap();
        let opts = options(1500, 7);
        let (mut conn, summary) = create(&dir, "shop.db", &opts);

        // Summary: every table, in order, with its real row count.
        let names: Vec<&str> = summary.tables.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(names, SHOP_TABLES);
        for (table, rows) in &summary.tables {
            assert_eq!(*rows as i64, count(&mut conn, &format!("SELECT COUNT(*) AS n FROM {table}")), "{table}");
        }
        let rows = |t: &str| summary.rows(t).unwrap() as f64;
        assert_eq!(rows("customers"), 1500.0);
        assert_eq!(rows("products"), 120.0);
        assert_eq!(rows("web_events"), 15_000.0);
        assert_eq!(rows("support_tickets"), 600.0);
        let per_customer = |t: &str| rows(t) / 1500.0;
        assert!((2.2..=2.8).contains(&per_customer("orders")), "orders {}", rows("orders"));
        assert!((1.5..=2.2).contains(&(rows("order_items") / rows("orders"))));
        assert!((0.85..=1.0).contains(&(rows("payments") / rows("orders"))));
        assert!((1.0..=1.8).contains(&per_customer("addresses")));
        assert!((0.4..=0.8).contains(&per_customer("newsletter_subscriptions")));
        assert!((25_000.0..=40_000.0).contains(&(summary.total_rows() as f64)));

        // Keys: declared, and holding.
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM pragma_foreign_key_check"), 0);
        for (table, fks) in [
            ("addresses", 1),
            ("orders", 2),
            ("order_items", 2),
            ("payments", 1),
            ("support_tickets", 1),
            ("newsletter_subscriptions", 1),
            ("web_events", 1),
        ] {
            let sql = format!("SELECT COUNT(*) AS n FROM pragma_foreign_key_list('{table}')");
            assert_eq!(count(&mut conn, &sql), fks, "{table}");
        }
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM customer_order_totals"), 1500);

        // Money: totals are the sum of their items, payments pay the total.
        let bad_totals = "SELECT COUNT(*) AS n FROM orders o WHERE o.total_cents <> \
            (SELECT COALESCE(SUM(quantity * unit_price_cents), -1) FROM order_items WHERE order_id = o.id)";
        assert_eq!(count(&mut conn, bad_totals), 0);
        let bad_amounts = "SELECT COUNT(*) AS n FROM payments p JOIN orders o ON o.id = p.order_id \
            WHERE p.amount_cents <> o.total_cents";
        assert_eq!(count(&mut conn, bad_amounts), 0);
        let duplicate_payments = "SELECT COUNT(*) AS n FROM \
            (SELECT order_id FROM payments GROUP BY order_id HAVING COUNT(*) > 1)";
        assert_eq!(count(&mut conn, duplicate_payments), 0);

        // Time: created_at <= ordered_at <= paid_at, nothing at or after as_of.
        let out_of_order = "SELECT COUNT(*) AS n FROM orders o JOIN customers c ON c.id = o.customer_id \
            LEFT JOIN payments p ON p.order_id = o.id \
            WHERE o.ordered_at < c.created_at OR p.paid_at < o.ordered_at";
        assert_eq!(count(&mut conn, out_of_order), 0);
        for (table, column) in [
            ("customers", "created_at"),
            ("orders", "ordered_at"),
            ("payments", "paid_at"),
            ("support_tickets", "opened_at"),
            ("support_tickets", "closed_at"),
            ("newsletter_subscriptions", "subscribed_at"),
            ("newsletter_subscriptions", "unsubscribed_at"),
            ("web_events", "occurred_at"),
        ] {
            let sql = format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} >= '{END}'");
            assert_eq!(count(&mut conn, &sql), 0, "{table}.{column}");
        }
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM support_tickets WHERE closed_at < opened_at"), 0);
        assert_eq!(
            count(
                &mut conn,
                "SELECT COUNT(*) AS n FROM newsletter_subscriptions WHERE unsubscribed_at <= subscribed_at"
            ),
            0
        );
        // Retention demos need old rows: customers and orders past two years, events past 90 days.
        assert!(count(&mut conn, "SELECT COUNT(*) AS n FROM orders WHERE ordered_at < '2023-06-15'") > 100);
        assert!(count(&mut conn, "SELECT COUNT(*) AS n FROM customers WHERE created_at < '2022-01-01'") > 0);
        let recent_events = count(&mut conn, "SELECT COUNT(*) AS n FROM web_events WHERE occurred_at >= '2024-05-11'");
        assert!(recent_events > 15_000 * 7 / 10 && recent_events < 15_000, "{recent_events}");
        assert!(count(&mut conn, "SELECT COUNT(*) AS n FROM web_events WHERE occurred_at < '2025-03-17'") > 5000);
        let dob = values(&mut conn, "SELECT MAX(date_of_birth) AS line FROM customers");
        assert!(dob[0].as_str() < "2007-06-15", "customers are adults: {dob:?}");

        // Personal data formats.
        let phones = values(&mut conn, "SELECT phone AS line FROM customers WHERE phone IS NOT NULL");
        assert!(phones.len() > 1200);
        assert!(phones.iter().all(|p| is_e164(p)), "{:?}", phones.iter().find(|p| !is_e164(p)));
        let phone_country_mismatch = "SELECT COUNT(*) AS n FROM customers WHERE phone IS NOT NULL AND NOT ( \
            (country = 'DE' AND phone LIKE '+49%') OR (country = 'AT' AND phone LIKE '+43%') OR \
            (country = 'FR' AND phone LIKE '+33%') OR (country = 'NL' AND phone LIKE '+31%') OR \
            (country = 'ES' AND phone LIKE '+34%') OR (country = 'IT' AND phone LIKE '+39%') OR \
            (country = 'PT' AND phone LIKE '+351%') OR (country = 'GB' AND phone LIKE '+44%') OR \
            (country = 'IE' AND phone LIKE '+353%') OR (country = 'PL' AND phone LIKE '+48%') OR \
            (country = 'SE' AND phone LIKE '+46%'))";
        assert_eq!(count(&mut conn, phone_country_mismatch), 0);
        assert_eq!(count(&mut conn, "SELECT COUNT(DISTINCT phone) AS n FROM customers"), phones.len() as i64);

        let customer_emails = values(&mut conn, "SELECT email AS line FROM customers");
        assert!(customer_emails.iter().all(|e| has_example_domain(e) && *e == e.to_lowercase()));
        let other_emails = values(
            &mut conn,
            "SELECT email AS line FROM newsletter_subscriptions UNION ALL \
             SELECT payer_email FROM payments WHERE payer_email IS NOT NULL",
        );
        assert!(
            other_emails.iter().all(|e| has_example_domain(e)),
            "{:?}",
            other_emails.iter().find(|e| !has_example_domain(e))
        );
        // Erasure must normalise: some subscriptions differ from the customer's address only in case,
        // and some of those are not linked by customer_id at all.
        let case_only = "SELECT COUNT(*) AS n FROM newsletter_subscriptions s JOIN customers c \
            ON lower(s.email) = c.email WHERE s.email <> c.email";
        assert!(count(&mut conn, case_only) > 10);
        let unlinked = "SELECT COUNT(*) AS n FROM newsletter_subscriptions s JOIN customers c \
            ON lower(s.email) = c.email WHERE s.customer_id IS NULL";
        assert!(count(&mut conn, unlinked) > 5);
        assert!(
            count(
                &mut conn,
                "SELECT COUNT(*) AS n FROM payments p JOIN orders o ON o.id = p.order_id \
            JOIN customers c ON c.id = o.customer_id WHERE p.payer_email = c.email"
            ) > 10
        );
        assert!(
            count(
                &mut conn,
                "SELECT COUNT(*) AS n FROM payments p JOIN orders o ON o.id = p.order_id \
            JOIN customers c ON c.id = o.customer_id WHERE p.payer_email <> c.email"
            ) > 10
        );

        let ibans = values(&mut conn, "SELECT iban AS line FROM payments WHERE iban IS NOT NULL");
        assert!(ibans.len() > 100);
        for iban in &ibans {
            assert!(iban_is_valid(iban), "{iban}");
            assert_eq!(Some(iban.len()), iban_length(&iban[..2]), "{iban}");
        }
        let iban_country = "SELECT COUNT(*) AS n FROM payments p JOIN orders o ON o.id = p.order_id \
            JOIN customers c ON c.id = o.customer_id WHERE p.iban IS NOT NULL AND substr(p.iban, 1, 2) <> c.country";
        assert_eq!(count(&mut conn, iban_country), 0);
        let method_columns = "SELECT COUNT(*) AS n FROM payments WHERE \
            (method = 'sepa_debit') <> (iban IS NOT NULL) OR \
            (method = 'card') <> (card_masked IS NOT NULL AND card_brand IS NOT NULL) OR \
            (method = 'paypal') <> (payer_email IS NOT NULL)";
        assert_eq!(count(&mut conn, method_columns), 0);
        let masks = values(&mut conn, "SELECT card_masked AS line FROM payments WHERE card_masked IS NOT NULL");
        assert!(
            masks.iter().all(|m| m.len() == 19
                && m.starts_with("**** **** **** ")
                && m[15..].bytes().all(|b| b.is_ascii_digit()))
        );

        let ips = values(&mut conn, "SELECT DISTINCT ip_address AS line FROM web_events");
        for prefix in ["192.0.2.", "198.51.100.", "203.0.113.", "2001:db8:"] {
            assert!(ips.iter().any(|ip| ip.starts_with(prefix)), "{prefix}");
        }
        assert!(ips.iter().all(|ip| ip.parse::<std::net::IpAddr>().is_ok()));
        assert!(count(&mut conn, "SELECT COUNT(*) AS n FROM web_events WHERE customer_id IS NULL") > 3000);
        let confirmations = "SELECT COUNT(*) AS n FROM web_events WHERE path LIKE '/newsletter/confirm?email=%'";
        assert!(count(&mut conn, confirmations) > 10);
        let before_signup = "SELECT COUNT(*) AS n FROM web_events e JOIN customers c ON c.id = e.customer_id \
            WHERE e.occurred_at < c.created_at \
            UNION ALL SELECT COUNT(*) FROM support_tickets t JOIN customers c ON c.id = t.customer_id \
            WHERE t.opened_at < c.created_at";
        assert_eq!(values_n(&mut conn, before_signup), vec![0, 0]);

        // Names: diverse, accented, precomposed (NFC).
        let names = values(&mut conn, "SELECT first_name || ' ' || last_name AS line FROM customers");
        assert!(names.iter().any(|n| !n.is_ascii()));
        assert!(names.iter().all(|n| !n.chars().any(|c| ('\u{300}'..='\u{36f}').contains(&c))));
        assert!(names.iter().any(|n| n.contains('\'')), "apostrophes in names are bound, not escaped");
        let countries = values(&mut conn, "SELECT DISTINCT country AS line FROM customers");
        assert_eq!(countries.len(), 11);

        // Free text carries personal data sometimes, not always.
        let with_email = "SELECT COUNT(*) AS n FROM support_tickets t JOIN customers c ON c.id = t.customer_id \
            WHERE instr(t.body, c.email) > 0";
        assert!(count(&mut conn, with_email) > 50);
        let with_order = "SELECT COUNT(*) AS n FROM support_tickets t WHERE EXISTS (SELECT 1 FROM orders o \
            WHERE o.customer_id = t.customer_id AND instr(t.body, o.id) > 0)";
        assert!(count(&mut conn, with_order) > 50);
        let with_phone = "SELECT COUNT(*) AS n FROM support_tickets t JOIN customers c ON c.id = t.customer_id \
            WHERE instr(t.body, c.phone) > 0";
        assert!(count(&mut conn, with_phone) > 5);
        assert!(count(&mut conn, "SELECT COUNT(*) AS n FROM support_tickets WHERE customer_id IS NULL") > 20);
        assert!(
            count(
                &mut conn,
                "SELECT COUNT(*) AS n FROM support_tickets WHERE body LIKE '%Bestellung%' OR body LIKE '%Daten%'"
            ) > 0
        );
        assert!(
            count(
                &mut conn,
                "SELECT COUNT(*) AS n FROM support_tickets WHERE body LIKE '%commande%' OR body LIKE '%adresse%'"
            ) > 0
        );
        assert!(count(&mut conn, "SELECT COUNT(*) AS n FROM support_tickets WHERE body NOT LIKE '%@%'") > 100);
    }

    #[test]
    fn same_options_give_identical_content_and_seeds_differ() {
        let dir = tempfile::tempdir().unwrap();
        let (mut a, _) = create(&dir, "a.db", &options(300, 11));
        let (mut b, _) = create(&dir, "b.db", &options(300, 11));
        let (mut c, _) = create(&dir, "c.db", &options(300, 12));
        let dump_a = dump(&mut a);
        assert!(dump_a.len() > 3000);
        assert_eq!(dump_a, dump(&mut b));
        let dump_c = dump(&mut c);
        assert_ne!(dump_a, dump_c);
        // A different seed changes the people, not just their order.
        let emails = |conn: &mut SqliteConnection| -> HashSet<String> {
            values(conn, "SELECT email AS line FROM customers").into_iter().collect()
        };
        let (ea, ec) = (emails(&mut a), emails(&mut c));
        assert!(ea.intersection(&ec).count() < 30);
    }

    #[test]
    fn recreating_replaces_an_existing_file_and_its_companions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.db");
        std::fs::write(&path, b"not a database").unwrap();
        std::fs::write(dir.path().join("shop.db-wal"), b"stale wal").unwrap();
        std::fs::write(dir.path().join("shop.db-shm"), b"stale shm").unwrap();
        let first = create_shop_database(&path, &options(120, 1)).unwrap();
        assert!(!dir.path().join("shop.db-wal").exists());
        assert_eq!(first.rows("customers"), Some(120));

        // Over a real earlier generation, with other options: only the new content remains.
        let second = create_shop_database(&path, &options(80, 2)).unwrap();
        assert_eq!(second.rows("customers"), Some(80));
        let mut conn = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        let (mut fresh, fresh_summary) = create(&dir, "fresh.db", &options(80, 2));
        assert_eq!(second, fresh_summary);
        assert_eq!(dump(&mut conn), dump(&mut fresh));
    }

    #[test]
    fn an_empty_shop_still_has_its_schema_and_catalogue() {
        let dir = tempfile::tempdir().unwrap();
        let (mut conn, summary) = create(&dir, "empty.db", &options(0, 3));
        assert_eq!(summary.rows("products"), Some(120));
        assert_eq!(summary.total_rows(), 120);
        assert_eq!(count(&mut conn, "SELECT COUNT(*) AS n FROM customer_order_totals"), 0);
    }

    #[test]
    fn a_missing_directory_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no-such-dir").join("shop.db");
        assert!(create_shop_database(&path, &options(10, 1)).is_err());
    }
}
