//! Column-name patterns: what a column's name (in English, German, French, Spanish, Dutch and a
//! few Italian and other national-id terms) says about the personal data it holds, weighed by the
//! column's type and by the words around the match.
//!
//! A name is folded to lower-case ASCII (`Straße` → `strasse`, `Téléphone` → `telephone`) and
//! split into words at separators, camelCase humps and digits (`customerEmailAddress2` →
//! `customer email address`). A pattern matches a run of consecutive words whose concatenation
//! equals it, so `e_mail`, `eMail` and `email` are one pattern, and `dateOfBirth` matches
//! `date_of_birth`. Longer matches win over the words inside them (`ip_address` is an IP, not a
//! postal address). Long patterns also match the end of a compound word (`lieferadresse`,
//! `useremail`).
//!
//! Guards against the usual false positives:
//! - the column type: a boolean `email_verified` or a timestamp `email_sent_at` is not an address;
//! - leftover words that make the column *about* the data rather than the data (`verified`,
//!   `count`, `type`, `template`, ...), or a reference to it (`address_id`);
//! - for generic words (`name`, `location`, `card`, `notes`, ...): the words next to them
//!   (`product_name`, `nom_fichier`) and the dataset (`products.name` is not a person's name,
//!   `customers.name` is).

use std::collections::HashMap;
use std::sync::LazyLock;

use super::ColumnContext;

/// A candidate category for a column, from its name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NameMatch {
    /// Taxonomy key.
    pub category: &'static str,
    /// 0..1 after type and context adjustments.
    pub confidence: f32,
    /// The pattern that matched, as written in the rule table (`geb_datum`).
    pub rule: &'static str,
    /// Language(s) of the pattern: `en`, `de`, `fr`, `es`, `nl`, `it`, or several (`de/fr`).
    pub lang: &'static str,
}

/// One row of the rule table: patterns sharing a category, language and base confidence.
struct Rule {
    category: &'static str,
    lang: &'static str,
    confidence: f32,
    /// Generic words whose meaning depends on context (`name`, `location`): the words beside
    /// them and the dataset raise or lower them, and they never match inside compounds.
    generic: bool,
    patterns: &'static [&'static str],
}

const fn r(category: &'static str, lang: &'static str, confidence: f32, patterns: &'static [&'static str]) -> Rule {
    Rule { category, lang, confidence, generic: false, patterns }
}

const fn g(category: &'static str, lang: &'static str, confidence: f32, patterns: &'static [&'static str]) -> Rule {
    Rule { category, lang, confidence, generic: true, patterns }
}

const EMAIL: &str = "contact.email";
const PHONE: &str = "contact.phone";
const ADDRESS: &str = "contact.address";
const POSTAL: &str = "contact.postal_code";
const NAME: &str = "identity.name";
const FIRST: &str = "identity.first_name";
const LAST: &str = "identity.last_name";
const USERNAME: &str = "identity.username";
const NATIONAL: &str = "identity.national_id";
const PASSPORT: &str = "identity.passport";
const DOB: &str = "identity.date_of_birth";
const GENDER: &str = "identity.gender";
const SUBJECT_KEY: &str = "identity.customer_id";
const IBAN: &str = "financial.iban";
const CARD: &str = "financial.card";
const ACCOUNT: &str = "financial.account";
const IP: &str = "online.ip_address";
const DEVICE: &str = "online.device_id";
const COOKIE: &str = "online.cookie_id";
const AGENT: &str = "online.user_agent";
const GEO: &str = "location.geo";
const HEALTH: &str = "special.health";
const BIOMETRIC: &str = "special.biometric";
const RELIGION: &str = "special.religion";
const ETHNICITY: &str = "special.ethnicity";
const POLITICAL: &str = "special.political";
const SEXUAL: &str = "special.sexual_orientation";
const UNION: &str = "special.trade_union";
const GENETIC: &str = "special.genetic";
const FREE_TEXT: &str = "free_text";

/// Every pattern, written with `_` between words. A pattern's words joined without separators
/// must be unique across the table (a test checks), so each spelling has one meaning.
#[rustfmt::skip]
const RULES: &[Rule] = &[
    // contact.email
    r(EMAIL, "en", 0.9, &["email", "email_address", "mail_address", "electronic_mail"]),
    r(EMAIL, "en/fr/de/nl", 0.7, &["mail"]),
    r(EMAIL, "de", 0.9, &["emailadresse", "mailadresse", "elektronische_post"]),
    r(EMAIL, "fr", 0.9, &["courriel", "adresse_mail", "adresse_email", "adresse_electronique", "adresse_courriel"]),
    r(EMAIL, "fr", 0.6, &["mel"]),
    r(EMAIL, "es", 0.9, &[
        "correo", "correo_electronico", "direccion_correo", "direccion_de_correo", "direccion_email",
    ]),
    r(EMAIL, "nl", 0.9, &["emailadres", "mailadres"]),
    // contact.phone
    r(PHONE, "en", 0.9, &[
        "phone", "phone_number", "phone_no", "phone_nr", "phone_num", "mobile_number", "mobile_phone", "mobile_no",
        "cell_phone", "cell_number", "msisdn", "fax", "fax_number", "contact_number", "home_phone", "work_phone",
    ]),
    r(PHONE, "en/fr", 0.9, &["telephone", "telephone_number", "numero_de_telephone", "numero_telephone"]),
    r(PHONE, "en/fr/de/es", 0.8, &["tel", "tel_no", "tel_nr", "num_tel", "no_tel"]),
    g(PHONE, "en", 0.6, &["mobile"]),
    g(PHONE, "en", 0.5, &["cell"]),
    r(PHONE, "de", 0.9, &[
        "telefon", "telefonnummer", "telefon_nr", "handy", "handynummer", "handy_nr", "mobilnummer", "mobiltelefon",
        "mobilfunknummer", "rufnummer", "festnetz", "festnetznummer", "faxnummer",
    ]),
    r(PHONE, "de", 0.7, &["mobil"]),
    r(PHONE, "fr", 0.8, &["tel_portable", "tel_fixe", "telephone_portable", "numero_portable"]),
    g(PHONE, "fr", 0.6, &["portable"]),
    r(PHONE, "es", 0.9, &[
        "telefono", "numero_telefono", "numero_de_telefono", "movil", "celular", "telefono_movil", "tel_movil",
    ]),
    r(PHONE, "nl", 0.9, &[
        "telefoon", "telefoonnummer", "telefoon_nr", "mobiel", "mobiel_nummer", "gsm", "gsm_nummer", "vaste_lijn",
    ]),
    // contact.address
    r(ADDRESS, "en", 0.8, &[
        "address", "street", "street_address", "street_name", "address_line", "house_number", "home_address",
        "billing_address", "shipping_address", "delivery_address", "residential_address", "mailing_address",
        "postal_address", "city_name",
    ]),
    r(ADDRESS, "en", 0.7, &["addr"]),
    g(ADDRESS, "en", 0.5, &["city", "town"]),
    r(ADDRESS, "de/fr", 0.8, &[
        "adresse", "wohnadresse", "postanschrift", "lieferadresse", "rechnungsadresse", "adresse_postale",
    ]),
    r(ADDRESS, "de", 0.8, &["anschrift", "strasse", "strassenname", "hausnummer", "hausnr", "wohnort"]),
    g(ADDRESS, "de", 0.5, &["stadt", "ort"]),
    r(ADDRESS, "fr", 0.8, &["rue", "nom_rue", "numero_rue", "domicile", "adresse_domicile"]),
    g(ADDRESS, "fr", 0.5, &["ville"]),
    r(ADDRESS, "es", 0.8, &["direccion", "calle", "nombre_calle", "domicilio", "numero_calle", "direccion_postal"]),
    g(ADDRESS, "es", 0.5, &["ciudad", "localidad"]),
    r(ADDRESS, "nl", 0.8, &["adres", "straat", "straatnaam", "huisnummer", "woonplaats", "postadres", "woonadres"]),
    g(ADDRESS, "nl", 0.5, &["stad"]),
    // contact.postal_code
    r(POSTAL, "en/nl", 0.85, &["postal_code", "postcode", "zip", "zip_code"]),
    r(POSTAL, "de", 0.85, &["plz", "postleitzahl"]),
    r(POSTAL, "fr", 0.9, &["code_postal"]),
    r(POSTAL, "es", 0.9, &["codigo_postal", "cod_postal"]),
    // identity.name: the bare word is generic, qualified forms are not.
    g(NAME, "en/de", 0.55, &["name"]),
    g(NAME, "fr", 0.55, &["nom"]),
    g(NAME, "es", 0.55, &["nombre"]),
    g(NAME, "nl", 0.55, &["naam"]),
    r(NAME, "en", 0.85, &[
        "full_name", "customer_name", "client_name", "contact_name", "person_name", "member_name", "patient_name",
        "employee_name", "recipient_name", "account_holder", "account_holder_name", "card_holder",
        "card_holder_name", "holder_name",
    ]),
    g(NAME, "en", 0.6, &["display_name"]),
    r(NAME, "de", 0.85, &["kundenname", "vollstandiger_name", "vollername", "kontoinhaber", "karteninhaber"]),
    r(NAME, "de", 0.7, &["ansprechpartner", "empfanger"]),
    r(NAME, "fr", 0.85, &["nom_complet", "nom_titulaire", "nom_client"]),
    r(NAME, "fr", 0.6, &["titulaire", "destinataire"]),
    r(NAME, "es", 0.85, &["nombre_completo", "nombre_titular", "nombre_cliente"]),
    r(NAME, "es", 0.6, &["titular", "destinatario"]),
    r(NAME, "nl", 0.85, &["volledige_naam", "klantnaam", "rekeninghouder", "kaarthouder"]),
    r(NAME, "nl", 0.7, &["contactpersoon"]),
    // identity.first_name
    r(FIRST, "en", 0.9, &["first_name", "given_name", "forename", "middle_name"]),
    r(FIRST, "en", 0.8, &["fname"]),
    r(FIRST, "de", 0.9, &["vorname", "vornamen", "rufname"]),
    r(FIRST, "fr", 0.9, &["prenom", "prenoms"]),
    r(FIRST, "es", 0.9, &["nombre_de_pila", "primer_nombre", "nombre_pila"]),
    r(FIRST, "nl", 0.9, &["voornaam", "voornamen", "roepnaam"]),
    // identity.last_name
    r(LAST, "en", 0.9, &["last_name", "surname", "family_name", "maiden_name"]),
    r(LAST, "en", 0.8, &["lname"]),
    r(LAST, "de", 0.9, &["nachname", "familienname", "zuname", "geburtsname"]),
    r(LAST, "fr", 0.9, &["nom_de_famille", "nom_famille", "nom_de_naissance", "nom_naissance", "nom_usage"]),
    r(LAST, "es", 0.9, &["apellido", "apellidos", "primer_apellido", "segundo_apellido"]),
    r(LAST, "nl", 0.9, &["achternaam", "familienaam", "tussenvoegsel", "geslachtsnaam"]),
    // identity.username
    r(USERNAME, "en", 0.85, &["username", "login_name", "screen_name", "nickname"]),
    g(USERNAME, "en", 0.6, &["account_name"]),
    g(USERNAME, "en", 0.7, &["login"]),
    r(USERNAME, "en", 0.6, &["nick"]),
    g(USERNAME, "en", 0.5, &["handle"]),
    r(USERNAME, "de", 0.85, &["benutzername", "benutzerkennung", "anmeldename", "nutzername"]),
    r(USERNAME, "fr", 0.85, &["nom_utilisateur", "nom_d_utilisateur"]),
    r(USERNAME, "fr", 0.6, &["identifiant", "pseudo"]),
    r(USERNAME, "es", 0.85, &["nombre_usuario", "nombre_de_usuario"]),
    r(USERNAME, "es", 0.6, &["usuario"]),
    r(USERNAME, "nl", 0.85, &["gebruikersnaam", "inlognaam"]),
    // identity.national_id
    r(NATIONAL, "en", 0.9, &[
        "ssn", "social_security_number", "social_security_no", "national_id", "national_id_number",
        "national_identity_number", "national_insurance_number", "nino", "tax_id", "tax_number", "taxpayer_id",
        "id_card", "id_card_number", "identity_card", "identity_card_number", "identity_number",
        "personal_id_number",
    ]),
    r(NATIONAL, "en", 0.6, &["tin"]),
    r(NATIONAL, "de", 0.9, &[
        "sozialversicherungsnummer", "svnr", "sv_nummer", "rentenversicherungsnummer", "steuer_id", "steuer_idnr",
        "steueridentifikationsnummer", "steuernummer", "personalausweis", "personalausweisnummer", "ausweisnummer",
        "ausweis_nr",
    ]),
    r(NATIONAL, "fr", 0.9, &[
        "insee", "nir", "numero_insee", "numero_securite_sociale", "num_secu", "numero_secu", "numero_fiscal",
        "carte_identite", "numero_carte_identite", "cni",
    ]),
    r(NATIONAL, "es", 0.9, &[
        "dni", "nie", "nif", "nss", "numero_seguridad_social", "documento_identidad", "cedula", "numero_documento",
    ]),
    r(NATIONAL, "nl", 0.9, &["bsn", "burgerservicenummer", "sofinummer", "identiteitskaart"]),
    r(NATIONAL, "it", 0.9, &["codice_fiscale"]),
    r(NATIONAL, "sv/pl", 0.9, &["personnummer", "pesel"]),
    // identity.passport
    r(PASSPORT, "en", 0.9, &["passport", "passport_number", "passport_no", "passport_nr"]),
    r(PASSPORT, "de", 0.9, &["reisepass", "reisepassnummer", "passnummer"]),
    r(PASSPORT, "fr", 0.9, &["passeport", "numero_passeport"]),
    r(PASSPORT, "es", 0.9, &["pasaporte", "numero_pasaporte"]),
    r(PASSPORT, "nl", 0.9, &["paspoort", "paspoortnummer"]),
    // identity.date_of_birth
    r(DOB, "en", 0.9, &["date_of_birth", "birth_date", "birthday", "dob", "born", "born_on", "born_at"]),
    r(DOB, "en", 0.8, &["birth_year", "year_of_birth"]),
    r(DOB, "de", 0.9, &["geburtsdatum", "geburtstag", "geb_datum", "geb_dat", "geboren", "geburtsjahr"]),
    r(DOB, "fr", 0.9, &["date_de_naissance", "date_naissance", "naissance", "ne_le", "annee_naissance"]),
    r(DOB, "es", 0.9, &[
        "fecha_nacimiento", "fecha_de_nacimiento", "nacimiento", "fec_nac", "f_nacimiento", "ano_nacimiento",
    ]),
    r(DOB, "nl", 0.9, &["geboortedatum", "geboortedag", "geboren_op", "verjaardag", "geboortejaar"]),
    // identity.gender
    r(GENDER, "en", 0.85, &["gender", "sex"]),
    r(GENDER, "en", 0.5, &["salutation"]),
    r(GENDER, "de", 0.85, &["geschlecht"]),
    r(GENDER, "de", 0.5, &["anrede"]),
    r(GENDER, "fr", 0.85, &["sexe"]),
    g(GENDER, "fr", 0.6, &["genre"]),
    r(GENDER, "fr", 0.5, &["civilite"]),
    r(GENDER, "es", 0.85, &["sexo", "genero"]),
    r(GENDER, "nl", 0.85, &["geslacht"]),
    r(GENDER, "nl", 0.5, &["aanhef"]),
    // identity.customer_id: keys that stand for a person.
    r(SUBJECT_KEY, "en", 0.8, &[
        "customer_id", "customer_no", "customer_number", "customer_nr", "cust_id", "client_id", "client_no",
        "client_number", "user_id", "usr_id", "member_id", "member_no", "member_number", "membership_number",
        "person_id", "subscriber_id", "patient_id", "employee_id", "employee_no", "employee_number", "emp_id",
        "staff_id", "student_id", "guest_id", "passenger_id", "buyer_id", "contact_id", "lead_id", "applicant_id",
        "subject_id", "data_subject_id", "customer_uuid", "user_uuid",
    ]),
    // Keys of people in another role.
    r(SUBJECT_KEY, "en", 0.6, &[
        "manager_id", "owner_id", "author_id", "assignee_id", "reviewer_id", "sender_id", "recipient_id", "seller_id",
        "driver_id", "supervisor_id", "referrer_id", "created_by", "updated_by", "modified_by",
    ]),
    r(SUBJECT_KEY, "de", 0.8, &[
        "kunden_id", "kunde_id", "kundennummer", "kunden_nr", "kunde_nr", "benutzer_id", "nutzer_id", "mitglied_id",
        "mitgliedsnummer", "mitarbeiter_id", "personalnummer", "patienten_id",
    ]),
    r(SUBJECT_KEY, "fr", 0.8, &[
        "id_client", "numero_client", "num_client", "id_utilisateur", "utilisateur_id", "id_membre",
        "numero_adherent", "id_salarie", "matricule", "id_patient",
    ]),
    r(SUBJECT_KEY, "es", 0.8, &[
        "id_cliente", "cliente_id", "numero_cliente", "num_cliente", "id_usuario", "usuario_id", "numero_socio",
        "id_empleado", "id_paciente",
    ]),
    r(SUBJECT_KEY, "nl", 0.8, &[
        "klant_id", "klantnummer", "klant_nr", "gebruiker_id", "gebruikers_id", "lidnummer", "personeelsnummer",
        "patientnummer",
    ]),
    // financial.iban
    r(IBAN, "en", 0.95, &["iban", "iban_number", "iban_code", "iban_no", "iban_nr"]),
    r(IBAN, "de/fr/es/nl", 0.95, &["ibannummer", "numero_iban", "codigo_iban"]),
    // financial.card
    r(CARD, "en", 0.85, &[
        "card_number", "card_no", "card_nr", "credit_card", "credit_card_number", "debit_card", "debit_card_number",
        "cc_number", "cc_num", "cvv", "cvc", "card_expiry", "card_pan", "masked_pan",
    ]),
    g(CARD, "en", 0.6, &["card", "pan"]),
    r(CARD, "de", 0.85, &["kreditkarte", "kreditkartennummer", "kartennummer", "kartennr", "bankkarte"]),
    g(CARD, "de", 0.5, &["karte"]),
    r(CARD, "fr", 0.85, &[
        "carte_bancaire", "carte_credit", "carte_de_credit", "numero_carte", "numero_de_carte", "carte_bleue",
    ]),
    g(CARD, "fr", 0.5, &["carte"]),
    r(CARD, "es", 0.85, &[
        "tarjeta_credito", "tarjeta_de_credito", "numero_tarjeta", "numero_de_tarjeta", "tarjeta_debito",
    ]),
    g(CARD, "es", 0.5, &["tarjeta"]),
    r(CARD, "nl", 0.85, &["creditcardnummer", "kaartnummer", "bankpas", "pinpas"]),
    // financial.account
    r(ACCOUNT, "en", 0.8, &[
        "account_number", "account_no", "account_nr", "acct_no", "acct_number", "bank_account",
        "bank_account_number", "bank_account_no",
    ]),
    r(ACCOUNT, "en", 0.6, &["sort_code", "routing_number", "aba_number"]),
    r(ACCOUNT, "en", 0.5, &["bic", "swift", "swift_code"]),
    r(ACCOUNT, "de", 0.8, &["kontonummer", "konto_nr", "bankverbindung", "bankkonto"]),
    r(ACCOUNT, "fr", 0.8, &["numero_de_compte", "numero_compte", "compte_bancaire", "rib"]),
    r(ACCOUNT, "es", 0.8, &["numero_cuenta", "numero_de_cuenta", "cuenta_bancaria", "ccc"]),
    g(ACCOUNT, "es", 0.5, &["cuenta"]),
    r(ACCOUNT, "nl", 0.8, &["rekeningnummer", "bankrekening", "rekening_nr"]),
    // online.ip_address
    r(IP, "en", 0.9, &[
        "ip", "ip_address", "ip_addr", "ipv_address", "ipv_addr", "remote_addr", "remote_address", "remote_ip",
        "client_ip", "source_ip", "src_ip", "last_ip", "login_ip", "signup_ip", "x_forwarded_for", "forwarded_for",
    ]),
    r(IP, "en", 0.8, &["ipv"]),
    r(IP, "de/fr/es/nl", 0.9, &["ip_adresse", "adresse_ip", "direccion_ip", "ip_adres"]),
    // online.device_id
    r(DEVICE, "en", 0.8, &[
        "device_id", "device_identifier", "device_uuid", "idfa", "idfv", "gaid", "aaid", "advertising_id", "imei",
        "imsi", "mac_address", "mac_addr", "udid", "android_id", "installation_id", "install_id", "push_token",
        "device_token", "fcm_token", "apns_token", "hardware_id",
    ]),
    r(DEVICE, "en", 0.7, &["mac"]),
    r(DEVICE, "de", 0.8, &["geratekennung", "gerate_id"]),
    r(DEVICE, "fr", 0.8, &["id_appareil", "identifiant_appareil"]),
    r(DEVICE, "es", 0.8, &["id_dispositivo", "identificador_dispositivo"]),
    r(DEVICE, "nl", 0.8, &["apparaat_id"]),
    // online.cookie_id
    r(COOKIE, "en", 0.8, &[
        "cookie", "cookie_id", "visitor_id", "anonymous_id", "anon_id", "tracking_id", "browser_id", "ga_client_id",
        "ga_cookie",
    ]),
    r(COOKIE, "en", 0.6, &["session_id", "session_token", "gclid", "fbclid"]),
    r(COOKIE, "de", 0.7, &["sitzungs_id", "besucher_id"]),
    r(COOKIE, "fr/es", 0.7, &["id_session", "id_sesion", "id_visiteur", "id_visitante"]),
    r(COOKIE, "nl", 0.7, &["sessie_id", "bezoeker_id"]),
    // online.user_agent
    r(AGENT, "en", 0.85, &["user_agent", "http_user_agent", "browser_agent", "user_agent_string"]),
    g(AGENT, "en", 0.5, &["ua", "browser"]),
    g(AGENT, "fr/es", 0.5, &["navigateur", "navegador"]),
    // location.geo
    r(GEO, "en", 0.8, &[
        "latitude", "longitude", "lat_lng", "lat_lon", "lat_long", "geolocation", "gps", "gps_coordinates",
        "geo_point", "geohash", "coordinates", "coords", "geo_coordinates",
    ]),
    g(GEO, "en", 0.6, &["lat", "lon", "lng", "geo"]),
    g(GEO, "en", 0.5, &["location"]),
    r(GEO, "de", 0.8, &["breitengrad", "langengrad", "koordinaten", "gps_koordinaten", "geokoordinaten"]),
    g(GEO, "de", 0.5, &["standort"]),
    r(GEO, "fr", 0.8, &["coordonnees_gps", "coordonnees"]),
    g(GEO, "fr", 0.5, &["localisation"]),
    r(GEO, "es", 0.8, &["latitud", "longitud", "coordenadas"]),
    g(GEO, "es", 0.5, &["ubicacion"]),
    r(GEO, "nl", 0.8, &["breedtegraad", "lengtegraad", "coordinaten"]),
    g(GEO, "nl", 0.5, &["locatie"]),
    // special.health
    g(HEALTH, "en", 0.75, &["health", "health_status"]),
    r(HEALTH, "en", 0.85, &[
        "health_condition", "medical", "medical_condition", "medical_history",
        "medical_record", "medical_notes", "mental_health", "diagnosis", "diagnoses", "diagnosis_code", "icd",
        "icd_code", "disease", "illness", "allergy", "allergies", "medication", "medications", "prescription",
        "disability", "blood_type", "blood_group", "symptom", "symptoms", "pregnant", "pregnancy", "smoker",
        "vaccination", "vaccinated", "sick_leave", "diabetes", "diabetic", "hiv", "cancer", "asthma", "epilepsy",
        "dementia",
    ]),
    r(HEALTH, "en", 0.6, &["treatment", "bmi"]),
    r(HEALTH, "de", 0.85, &[
        "krankheit", "erkrankung", "gesundheit", "gesundheitszustand", "gesundheitsdaten", "behinderung",
        "schwerbehinderung", "medikament", "medikamente", "medikation", "blutgruppe", "schwanger", "schwangerschaft",
        "raucher", "krankmeldung",
    ]),
    r(HEALTH, "de/fr/nl", 0.85, &["diagnose", "allergie", "allergien", "handicap"]),
    r(HEALTH, "de", 0.6, &["krankenkasse"]),
    r(HEALTH, "fr", 0.85, &[
        "sante", "etat_de_sante", "etat_sante", "maladie", "medicament", "medicaments", "groupe_sanguin", "enceinte",
        "grossesse", "fumeur", "antecedents_medicaux",
    ]),
    r(HEALTH, "fr", 0.5, &["mutuelle"]),
    r(HEALTH, "es", 0.85, &[
        "salud", "estado_de_salud", "estado_salud", "enfermedad", "discapacidad", "alergia", "alergias",
        "medicamento", "medicamentos", "medicacion", "grupo_sanguineo", "embarazada", "embarazo", "fumador",
        "diagnostico",
    ]),
    r(HEALTH, "nl", 0.85, &[
        "gezondheid", "ziekte", "beperking", "allergieen", "medicatie", "medicijnen", "bloedgroep", "zwanger",
        "zwangerschap", "roker", "ziekteverzuim",
    ]),
    // special.biometric
    r(BIOMETRIC, "en", 0.85, &[
        "biometric", "biometrics", "biometric_data", "biometric_template", "face_template", "faceprint",
        "face_encoding", "face_embedding", "facial_features", "facial_recognition", "iris_scan", "retina_scan",
        "voiceprint", "palm_print",
    ]),
    g(BIOMETRIC, "en", 0.7, &["fingerprint", "fingerprints", "iris", "retina"]),
    r(BIOMETRIC, "de", 0.85, &["fingerabdruck", "biometrie", "biometrisch", "biometrische_daten"]),
    r(BIOMETRIC, "fr", 0.85, &["empreinte_digitale", "empreintes_digitales", "biometrique", "donnees_biometriques"]),
    r(BIOMETRIC, "es", 0.85, &["huella_dactilar", "huella_digital", "biometrico", "datos_biometricos"]),
    r(BIOMETRIC, "nl", 0.85, &["vingerafdruk", "biometrische_gegevens"]),
    // special.religion
    r(RELIGION, "en/de/fr/es", 0.85, &[
        "religion", "religious", "religious_affiliation", "religious_belief", "religious_beliefs",
    ]),
    g(RELIGION, "en/fr", 0.6, &["faith", "denomination", "confession"]),
    r(RELIGION, "de", 0.85, &["konfession", "religionszugehorigkeit", "religionszugehoerigkeit", "bekenntnis"]),
    r(RELIGION, "fr", 0.7, &["croyance", "croyances", "religion_pratiquee"]),
    r(RELIGION, "es", 0.7, &["creencia", "creencias", "religion_profesada"]),
    r(RELIGION, "nl", 0.85, &["religie", "geloof", "kerkgenootschap", "godsdienst"]),
    // special.ethnicity
    r(ETHNICITY, "en", 0.85, &[
        "ethnicity", "ethnic", "ethnic_origin", "ethnic_group", "racial_origin", "race_ethnicity",
    ]),
    g(ETHNICITY, "en", 0.6, &["race"]),
    r(ETHNICITY, "de", 0.85, &["ethnie", "ethnische_herkunft", "ethnische_zugehorigkeit", "ethnizitat"]),
    r(ETHNICITY, "fr", 0.85, &["origine_ethnique", "ethnicite"]),
    r(ETHNICITY, "es", 0.85, &["etnia", "origen_etnico", "etnicidad"]),
    g(ETHNICITY, "es", 0.6, &["raza"]),
    r(ETHNICITY, "nl", 0.85, &["etniciteit", "etnische_afkomst", "afkomst"]),
    // special.political
    r(POLITICAL, "en", 0.85, &[
        "political", "politics", "political_party", "political_affiliation", "political_opinion", "political_views",
        "party_affiliation", "party_membership",
    ]),
    r(POLITICAL, "de", 0.85, &[
        "parteizugehorigkeit", "parteimitgliedschaft", "politische_meinung", "politische_einstellung",
    ]),
    g(POLITICAL, "de", 0.6, &["partei"]),
    r(POLITICAL, "fr", 0.85, &["parti_politique", "opinion_politique", "opinions_politiques", "affiliation_politique"]),
    r(POLITICAL, "es", 0.85, &["partido_politico", "afiliacion_politica", "opinion_politica", "ideologia"]),
    r(POLITICAL, "nl", 0.85, &[
        "politieke_partij", "politieke_voorkeur", "politieke_overtuiging", "partijlidmaatschap",
    ]),
    // special.sexual_orientation
    r(SEXUAL, "en", 0.9, &["sexual_orientation", "sexual_preference", "sexuality", "sex_life", "orientation_sexual"]),
    r(SEXUAL, "de", 0.9, &["sexuelle_orientierung", "sexuelle_ausrichtung", "sexualitat"]),
    r(SEXUAL, "fr", 0.9, &["orientation_sexuelle", "sexualite"]),
    r(SEXUAL, "es", 0.9, &["orientacion_sexual", "sexualidad"]),
    r(SEXUAL, "nl", 0.9, &["seksuele_orientatie", "seksuele_voorkeur", "seksualiteit"]),
    // special.trade_union
    r(UNION, "en", 0.85, &[
        "trade_union", "trade_union_membership", "union_member", "union_membership", "labor_union", "labour_union",
        "union_dues",
    ]),
    r(UNION, "de", 0.85, &["gewerkschaft", "gewerkschaftsmitglied", "gewerkschaftszugehorigkeit"]),
    r(UNION, "fr", 0.85, &["syndicat", "syndique", "affiliation_syndicale"]),
    r(UNION, "es", 0.85, &["sindicato", "afiliacion_sindical", "afiliado_sindicato"]),
    r(UNION, "nl", 0.85, &["vakbond", "vakbondslid", "vakbondslidmaatschap"]),
    // special.genetic
    r(GENETIC, "en", 0.85, &[
        "genetic", "genetic_data", "genetics", "genome", "genomic", "genotype", "dna", "dna_sequence", "dna_profile",
    ]),
    g(GENETIC, "en", 0.5, &["gene"]),
    r(GENETIC, "de", 0.85, &["genetisch", "genetische_daten", "erbgut"]),
    r(GENETIC, "fr/es", 0.85, &["genetique", "donnees_genetiques", "adn", "genetico", "datos_geneticos"]),
    r(GENETIC, "nl", 0.85, &["genetische_gegevens"]),
    // free_text: generic by nature; a product's description is not about a person.
    g(FREE_TEXT, "en", 0.45, &[
        "comment", "comments", "note", "notes", "remark", "remarks", "message", "free_text", "feedback", "memo",
        "additional_info", "observations",
    ]),
    g(FREE_TEXT, "en", 0.3, &["description"]),
    g(FREE_TEXT, "de", 0.45, &[
        "bemerkung", "bemerkungen", "kommentar", "kommentare", "notiz", "notizen", "anmerkung", "anmerkungen",
        "nachricht", "freitext",
    ]),
    g(FREE_TEXT, "de", 0.3, &["beschreibung"]),
    g(FREE_TEXT, "fr", 0.45, &["commentaire", "commentaires", "remarque", "remarques", "texte_libre"]),
    g(FREE_TEXT, "es", 0.45, &[
        "comentario", "comentarios", "nota", "notas", "observaciones", "mensaje", "texto_libre",
    ]),
    g(FREE_TEXT, "es", 0.3, &["descripcion"]),
    g(FREE_TEXT, "nl", 0.45, &[
        "opmerking", "opmerkingen", "notitie", "notities", "bericht", "toelichting", "vrije_tekst",
    ]),
    g(FREE_TEXT, "nl", 0.3, &["omschrijving", "beschrijving"]),
];

/// Leftover words that make a column about the data rather than the data itself
/// (`email_verified`, `phone_count`, `mail_template`). Not applied to special categories and
/// gender, where a flag (`is_smoker`) is itself the personal data.
#[rustfmt::skip]
const META_WORDS: &[&str] = &[
    // en
    "verified", "verification", "verify", "confirmed", "confirmation", "confirm", "valid", "validated", "validation",
    "invalid", "is", "has", "can", "should", "opt", "optin", "optout", "opted", "consent", "consented", "subscribed",
    "unsubscribed", "subscription", "bounce", "bounced", "bounces", "count", "cnt", "total", "type", "kind",
    "status", "flag", "flags", "enabled", "disabled", "allowed", "required", "format", "template", "templates",
    "sent", "opened", "clicked", "frequency", "preference", "preferences", "pref", "prefs", "length", "len",
    "domain", "provider", "changed", "updated", "created", "modified", "deleted", "at", "visible", "visibility",
    "policy", "rule", "rules", "regex", "pattern", "server", "host", "smtp", "queue", "subject", "campaign", "label",
    "version", "attempts", "attempt", "retries", "error", "errors", "config", "token",
    // de
    "bestatigt", "verifiziert", "gultig", "anzahl", "typ", "vorlage", "gesendet", "versendet", "einwilligung",
    // fr
    "verifie", "valide", "modele", "envoye", "consentement",
    // es
    "verificado", "valido", "tipo", "cantidad", "plantilla", "enviado", "consentimiento",
    // nl
    "geverifieerd", "geldig", "aantal", "soort", "sjabloon", "verzonden", "toestemming",
];

/// Leftover words that turn a column into a reference to the data elsewhere (`address_id`).
const KEY_WORDS: &[&str] = &["id", "key", "fk", "ref", "uuid", "guid", "pk"];

/// Categories a reference key does not carry (`address_id` points at an address; a
/// `religion_id` still says the person's religion).
const KEY_SENSITIVE: &[&str] = &[EMAIL, PHONE, ADDRESS, POSTAL, NAME, FIRST, LAST, GEO, FREE_TEXT, AGENT];

/// Words next to a match that say it is about a thing, not a person (`product_name`,
/// `nom_fichier`, `server_address`, `device_fingerprint`).
#[rustfmt::skip]
const THING_WORDS: &[&str] = &[
    // en
    "product", "products", "item", "items", "article", "sku", "brand", "category", "categories", "company", "firm",
    "business", "organization", "organisation", "org", "department", "file", "files", "table", "column", "field",
    "host", "hostname", "server", "domain", "schema", "database", "db", "key", "method", "plan", "role", "group",
    "team", "project", "app", "application", "bank", "store", "shop", "event", "job", "task", "report", "model",
    "country", "region", "state", "street", "city", "tag", "color", "colour", "size", "currency", "language",
    "locale", "device", "platform", "channel", "vendor", "supplier", "merchant", "carrier", "warehouse", "venue",
    "course", "tenant", "site", "website", "url", "web", "image", "bucket", "topic", "metric", "index", "view",
    "function", "module", "package", "service", "cluster", "node", "machine", "instance", "network", "wallet",
    "contract", "proxy", "gateway", "endpoint", "ssh", "cert", "certificate", "tls", "gpg", "pgp", "gift",
    "loyalty", "sim", "score", "video", "graphics", "sd", "flash", "horse", "race", "sheet", "page", "font", "queue",
    "feature", "check", "checks", "probe", "monitor", "ping", "heartbeat",
    // de
    "produkt", "artikel", "marke", "kategorie", "firma", "firmen", "unternehmen", "datei", "tabelle", "spalte",
    "feld", "projekt", "abteilung", "laden", "filiale", "lager", "gerat",
    // fr
    "produit", "marque", "categorie", "entreprise", "societe", "fichier", "champ", "projet", "magasin", "appareil",
    "pays",
    // es
    "producto", "articulo", "marca", "categoria", "empresa", "archivo", "campo", "proyecto", "tienda", "dispositivo",
    "pais",
    // nl
    "merk", "bedrijf", "bestand", "tabel", "kolom", "veld", "winkel", "apparaat", "land",
];

/// Words in a column name that qualify a match as a person's without naming the person
/// (`billing_city`, `home_phone`); unlike [`PERSON_WORDS`] they say nothing about a dataset.
#[rustfmt::skip]
const PERSONAL_QUALIFIERS: &[&str] = &[
    "legal", "personal", "private", "home", "billing", "shipping", "delivery", "emergency", "privat", "personlich",
    "prive", "personnel", "persoonlijk",
];

/// Things a dataset can be a table of (`products`, `categories`, `servers`): generic words in it
/// are not about people.
#[rustfmt::skip]
const THING_DATASETS: &[&str] = &[
    // en
    "product", "item", "article", "sku", "brand", "category", "categories", "catalog", "catalogue", "inventory",
    "stock", "warehouse", "tag", "color", "colour", "size", "currency", "currencies", "language", "locale",
    "country", "countries", "region", "plan", "feature", "setting", "config", "configuration", "lookup", "file",
    "asset", "server", "host", "node", "machine", "cluster", "service", "store", "venue", "branch", "office",
    // de
    "produkt", "produkte", "artikel", "marke", "marken", "kategorie", "kategorien", "lager", "filiale", "filialen",
    // fr
    "produit", "marque", "categorie", "entrepot", "magasin",
    // es
    "producto", "articulo", "marca", "categoria", "almacen", "tienda",
    // nl
    "merk", "voorraad", "magazijn", "winkel",
];

/// Leftover words saying the value is hashed or encrypted: still personal data (pseudonymised),
/// but the validators will not recognise it.
const HASH_WORDS: &[&str] = &["hash", "hashed", "sha", "md", "digest", "encrypted", "enc", "crypt", "cipher"];

/// Words that say a match is about a person (`customer_name`, `nom_client`).
#[rustfmt::skip]
const PERSON_WORDS: &[&str] = &[
    // en
    "customer", "customers", "client", "clients", "user", "users", "person", "people", "member", "members",
    "patient", "patients", "employee", "employees", "staff", "student", "students", "guest", "guests", "passenger",
    "passengers", "contact", "contacts", "subscriber", "subscribers", "lead", "leads", "applicant", "applicants",
    "recipient", "recipients", "sender", "buyer", "buyers", "owner", "holder", "parent", "guardian", "spouse",
    "partner", "profile", "profiles", "account", "accounts", "audience", "visitor", "visitors", "signup", "signups",
    // de
    "kunde", "kunden", "benutzer", "nutzer", "mitarbeiter", "person", "personen", "mitglied", "mitglieder",
    "patienten", "empfanger", "absender", "inhaber",
    // fr
    "utilisateur", "utilisateurs", "personne", "personnes", "salarie", "salaries", "employe", "employes", "membre",
    "membres", "adherent", "adherents", "titulaire", "destinataire", "expediteur",
    // es
    "cliente", "clientes", "usuario", "usuarios", "persona", "personas", "empleado", "empleados", "socio", "socios",
    "paciente", "pacientes", "titular",
    // nl
    "klant", "klanten", "gebruiker", "gebruikers", "persoon", "medewerker", "medewerkers", "lid", "leden",
    "ontvanger", "afzender",
];

/// Words in a column name that date an event rather than a birth: a column so named is not
/// proposed as a date of birth from its values alone.
#[rustfmt::skip]
const EVENT_WORDS: &[&str] = &[
    "created", "creation", "updated", "modified", "deleted", "changed", "order", "ordered", "shipped", "shipping",
    "delivered", "delivery", "paid", "payment", "invoice", "invoiced", "start", "started", "end", "ended", "expires",
    "expiry", "expiration", "due", "since", "until", "valid", "from", "to", "at", "on", "last", "seen", "login",
    "sent", "received", "booked", "booking", "signup", "registered", "registration", "joined", "hired", "hire",
    "purchase", "purchased", "transaction", "effective", "published", "closed", "opened", "issued", "issue", "visit",
    "admission", "discharge", "event", "ts", "timestamp", "time", "erstellt", "geandert", "bestellung", "lieferung",
    "rechnung", "cree", "modifie", "commande", "livraison", "facture", "creado", "modificado", "pedido", "entrega",
    "factura", "aangemaakt", "gewijzigd", "bestelling", "levering", "factuur",
];

/// What the column's declared type allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeClass {
    Text,
    Numeric,
    Boolean,
    Temporal,
    Binary,
    /// Empty, or a type the engine does not know (`point`, `USER-DEFINED`, an enum).
    Unknown,
}

impl TypeClass {
    /// Classifies a database type name as crawled (`character varying(255)`, `BIGINT`,
    /// `tinyint(1)`, `timestamp with time zone`, ...).
    pub fn of(data_type: &str) -> TypeClass {
        let t = data_type.trim().to_ascii_lowercase();
        let base = t.split('(').next().unwrap_or("").trim();
        if t.contains("bool") || t == "bit" || t == "bit(1)" || t == "tinyint(1)" {
            TypeClass::Boolean
        } else if t.contains("date") || t.contains("time") || t.contains("interval") {
            TypeClass::Temporal
        } else if ["point", "geometry", "geography", "polygon"].iter().any(|g| base.contains(g)) {
            TypeClass::Unknown
        } else if ["int", "serial", "numeric", "decimal", "number", "float", "double", "real", "money"]
            .iter()
            .any(|n| base.contains(n))
        {
            TypeClass::Numeric
        } else if ["bytea", "blob", "binary"].iter().any(|b| base.contains(b)) {
            TypeClass::Binary
        } else if ["char", "text", "string", "clob", "uuid", "json", "inet", "cidr", "macaddr", "xml", "name"]
            .iter()
            .any(|s| base.contains(s))
        {
            TypeClass::Text
        } else {
            TypeClass::Unknown
        }
    }

    /// Whether a column of this type can hold data of `category`.
    pub fn allows(self, category: &str) -> bool {
        match self {
            TypeClass::Text | TypeClass::Binary | TypeClass::Unknown => true,
            TypeClass::Boolean => flag_is_data(category),
            TypeClass::Temporal => category == DOB,
            TypeClass::Numeric => {
                ![EMAIL, ADDRESS, NAME, FIRST, LAST, USERNAME, IBAN, AGENT, FREE_TEXT].contains(&category)
            }
        }
    }
}

/// Categories where a yes/no column is itself the personal data (`is_smoker`, `is_male`).
fn flag_is_data(category: &str) -> bool {
    category.starts_with("special.") || category == GENDER
}

fn fold_char(c: char, out: &mut String) {
    let folded = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => "a",
        'ç' | 'č' | 'ć' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' => "e",
        'ì' | 'í' | 'î' | 'ï' => "i",
        'ñ' | 'ń' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' => "u",
        'ý' | 'ÿ' => "y",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ł' => "l",
        'š' => "s",
        'ž' => "z",
        _ => {
            out.push(c);
            return;
        }
    };
    out.push_str(folded);
}

/// Splits a column or dataset name into folded lower-case words: at anything that is not a
/// letter or digit, at camelCase humps (`EmailAddress`, `IPAddress` → `ip address`) and between
/// letters and digits; numbers are dropped (`address_line_1` → `address line`).
pub fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    let mut flush = |current: &mut String| {
        if !current.is_empty() && !current.chars().all(|c| c.is_ascii_digit()) {
            words.push(std::mem::take(current));
        }
        current.clear();
    };
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            flush(&mut current);
            continue;
        }
        if let Some(&prev) = i.checked_sub(1).and_then(|j| chars.get(j))
            && prev.is_alphanumeric()
        {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let hump = (prev.is_lowercase() && c.is_uppercase())
                || (prev.is_uppercase() && c.is_uppercase() && next_lower)
                || (prev.is_ascii_digit() != c.is_ascii_digit());
            if hump {
                flush(&mut current);
            }
        }
        // Lower-casing may add combining marks (`İ` → `i̇`); they carry no meaning here.
        for lower in c.to_lowercase().filter(|l| l.is_alphanumeric()) {
            fold_char(lower, &mut current);
        }
    }
    flush(&mut current);
    words
}

/// Where a pattern comes from in [`RULES`].
#[derive(Clone, Copy)]
struct PatternRef {
    rule: usize,
    pattern: &'static str,
}

/// Patterns by their words joined without separators.
static PATTERNS: LazyLock<HashMap<String, PatternRef>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for (rule, r) in RULES.iter().enumerate() {
        for &pattern in r.patterns {
            map.entry(pattern.replace('_', "")).or_insert(PatternRef { rule, pattern });
        }
    }
    map
});

/// A pattern at the end of a compound word must be at least this long (`lieferadresse`), so
/// that `roker` (Dutch: smoker) does not match `broker` ...
const MIN_COMPOUND_TAIL: usize = 7;
/// ... unless the word starts with a known qualifier (`useremail`, `kundenemail`).
const MIN_QUALIFIED_TAIL: usize = 4;

/// First halves of compounds that qualify what follows, besides [`PERSON_WORDS`].
#[rustfmt::skip]
const COMPOUND_PREFIXES: &[&str] = &[
    "liefer", "rechnungs", "wohn", "post", "geschafts", "notfall", "kontakt", "main", "primary", "secondary", "alt",
    "other", "work", "private", "contact",
];

fn is_compound_prefix(prefix: &str) -> bool {
    word_in(prefix, PERSON_WORDS) || COMPOUND_PREFIXES.contains(&prefix)
}

/// A pattern by its joined spelling, also in the plural (`emails`, `phones`).
fn lookup(joined: &str) -> Option<PatternRef> {
    PATTERNS.get(joined).or_else(|| joined.strip_suffix('s').and_then(|singular| PATTERNS.get(singular))).copied()
}
/// Longest run of words considered as one pattern.
const MAX_SPAN: usize = 5;

struct Candidate {
    start: usize,
    end: usize,
    matched_len: usize,
    compound: bool,
    at: PatternRef,
}

/// Finds every pattern in the words, then keeps the longest ones that do not overlap.
fn candidates(words: &[String]) -> Vec<Candidate> {
    let mut found = Vec::new();
    for start in 0..words.len() {
        let mut joined = String::new();
        for end in start + 1..=(start + MAX_SPAN).min(words.len()) {
            joined.push_str(&words[end - 1]);
            if let Some(at) = lookup(&joined) {
                found.push(Candidate { start, end, matched_len: joined.len(), compound: false, at });
            }
        }
        // The end of a compound word: `lieferadresse`, `useremail`, `kundengeburtsdatum`.
        let word = &words[start];
        let compound = word
            .char_indices()
            .skip(1)
            .map(|(i, _)| (&word[..i], &word[i..]))
            .filter(|(prefix, tail)| {
                tail.len() >= MIN_COMPOUND_TAIL || (tail.len() >= MIN_QUALIFIED_TAIL && is_compound_prefix(prefix))
            })
            .find_map(|(_, tail)| PATTERNS.get(tail).filter(|at| !RULES[at.rule].generic).map(|&at| (tail.len(), at)));
        if let Some((matched_len, at)) = compound {
            found.push(Candidate { start, end: start + 1, matched_len, compound: true, at });
        }
    }
    found.sort_by(|a, b| {
        b.matched_len.cmp(&a.matched_len).then(a.compound.cmp(&b.compound)).then(a.start.cmp(&b.start))
    });
    let mut taken = vec![false; words.len()];
    let mut kept = Vec::new();
    for candidate in found {
        if taken[candidate.start..candidate.end].iter().any(|&t| t) {
            continue;
        }
        taken[candidate.start..candidate.end].iter_mut().for_each(|t| *t = true);
        kept.push(candidate);
    }
    kept
}

/// How the dataset's own name colours generic matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DatasetKind {
    /// `customers`, `kunden`, `marketing_audience`: rows are people.
    People,
    /// `products`, `sku_prices`, `categories`: rows are things.
    Things,
    Neutral,
}

fn word_in(word: &str, list: &[&str]) -> bool {
    list.contains(&word) || word.strip_suffix('s').is_some_and(|singular| list.contains(&singular))
}

fn dataset_kind(dataset: &str) -> DatasetKind {
    // Only the table's own name: `shop.public.customers` is about customers, not the shop.
    let table = dataset.rsplit('.').next().unwrap_or(dataset);
    let words = words(table);
    let people = words.iter().any(|w| word_in(w, PERSON_WORDS));
    let things = words.iter().any(|w| word_in(w, THING_DATASETS));
    match (people, things) {
        (true, false) => DatasetKind::People,
        (false, true) => DatasetKind::Things,
        _ => DatasetKind::Neutral,
    }
}

/// Candidate categories for a column from its name, best first, one per category. Includes
/// low-confidence matches; [`super::suggest`] applies the threshold.
pub fn match_column(ctx: &ColumnContext<'_>) -> Vec<NameMatch> {
    let words = words(ctx.column);
    let type_class = TypeClass::of(ctx.data_type);
    let kept = candidates(&words);
    let mut covered = vec![false; words.len()];
    for c in &kept {
        covered[c.start..c.end].iter_mut().for_each(|t| *t = true);
    }
    let leftover: Vec<&str> = words.iter().zip(&covered).filter(|(_, c)| !**c).map(|(w, _)| w.as_str()).collect();
    let has_meta = leftover.iter().any(|w| META_WORDS.contains(w));
    let has_key = leftover.iter().any(|w| KEY_WORDS.contains(w));
    let has_person = leftover.iter().any(|w| word_in(w, PERSON_WORDS) || PERSONAL_QUALIFIERS.contains(w));
    let hashed = leftover.iter().any(|w| HASH_WORDS.contains(w));
    let has_thing = !has_person && leftover.iter().any(|w| word_in(w, THING_WORDS));
    let dataset = dataset_kind(ctx.dataset);

    let mut matches: Vec<NameMatch> = Vec::new();
    for c in kept {
        let rule = &RULES[c.at.rule];
        if !type_class.allows(rule.category) {
            continue;
        }
        let mut confidence = rule.confidence;
        if c.compound {
            confidence *= 0.85;
        }
        if has_meta && !flag_is_data(rule.category) {
            confidence *= 0.3;
        }
        if has_key && KEY_SENSITIVE.contains(&rule.category) {
            confidence *= 0.3;
        }
        if has_thing {
            confidence *= 0.3;
        }
        if hashed {
            confidence *= 0.7;
        }
        if rule.generic {
            if has_person {
                confidence = (confidence + 0.2).min(0.9);
            }
            match dataset {
                DatasetKind::People => confidence = (confidence + 0.2).min(0.9),
                DatasetKind::Things => confidence *= 0.3,
                DatasetKind::Neutral => {}
            }
        } else if dataset == DatasetKind::Things {
            confidence *= 0.8;
        }
        push_best(&mut matches, NameMatch { category: rule.category, confidence, rule: c.at.pattern, lang: rule.lang });
    }

    // A bare `id` (or `uuid`) in a table of people is that person's key.
    if matches.is_empty()
        && dataset == DatasetKind::People
        && matches!(words.as_slice(), [w] if ["id", "uuid", "guid"].contains(&w.as_str()))
        && type_class.allows(SUBJECT_KEY)
    {
        push_best(&mut matches, NameMatch { category: SUBJECT_KEY, confidence: 0.6, rule: "id", lang: "any" });
    }

    matches.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then(a.category.cmp(b.category)));
    matches
}

fn push_best(matches: &mut Vec<NameMatch>, candidate: NameMatch) {
    match matches.iter_mut().find(|m| m.category == candidate.category) {
        Some(existing) if existing.confidence < candidate.confidence => *existing = candidate,
        Some(_) => {}
        None => matches.push(candidate),
    }
}

/// Whether the column's name dates some event (`created_at`, `order_date`, `fecha_pedido`), so
/// that dates in it are not taken for births.
pub fn names_an_event(column: &str) -> bool {
    words(column).iter().any(|w| EVENT_WORDS.contains(&w.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ctx<'a>(dataset: &'a str, column: &'a str, data_type: &'a str) -> ColumnContext<'a> {
        ColumnContext { dataset, column, data_type }
    }

    /// The best category for a column in a neutral table of unknown type, with its confidence.
    fn best(dataset: &str, column: &str, data_type: &str) -> Option<(&'static str, f32)> {
        match_column(&ctx(dataset, column, data_type)).first().map(|m| (m.category, m.confidence))
    }

    #[test]
    fn words_split_case_separators_and_digits() {
        let cases: &[(&str, &[&str])] = &[
            ("customer_email", &["customer", "email"]),
            ("EmailAddress", &["email", "address"]),
            ("emailAddress", &["email", "address"]),
            ("IPAddress", &["ip", "address"]),
            ("customerID", &["customer", "id"]),
            ("e-mail", &["e", "mail"]),
            ("E-Mail-Adresse", &["e", "mail", "adresse"]),
            ("address_line_1", &["address", "line"]),
            ("address2", &["address"]),
            ("ipv4Address", &["ipv", "address"]),
            ("Straße", &["strasse"]),
            ("Téléphone", &["telephone"]),
            ("Código Postal", &["codigo", "postal"]),
            ("Geburtsdatum", &["geburtsdatum"]),
            ("Gerätekennung", &["geratekennung"]),
            ("İBAN", &["iban"]),
            ("ZIPCode", &["zip", "code"]),
            ("EMAIL", &["email"]),
            ("dateOfBirth", &["date", "of", "birth"]),
            ("  __x__ ", &["x"]),
            ("123", &[]),
            ("", &[]),
        ];
        for &(name, expected) in cases {
            assert_eq!(words(name), expected, "{name}");
        }
    }

    #[test]
    fn every_spelling_has_one_meaning_and_every_category_exists() {
        let mut seen: HashMap<String, &str> = HashMap::new();
        for rule in RULES {
            assert!(super::super::taxonomy::category(rule.category).is_some(), "unknown {}", rule.category);
            assert!((0.0..=1.0).contains(&rule.confidence));
            for pattern in rule.patterns {
                assert_eq!(*pattern, pattern.to_ascii_lowercase(), "patterns are folded lower case");
                assert!(pattern.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{pattern}");
                let joined = pattern.replace('_', "");
                if let Some(previous) = seen.insert(joined.clone(), pattern) {
                    panic!("{pattern} and {previous} are the same spelling ({joined})");
                }
            }
        }
        // Every built-in category except free text of unknown shape has at least one pattern.
        for category in super::super::taxonomy::CATEGORIES {
            assert!(RULES.iter().any(|r| r.category == category.key), "no pattern for {}", category.key);
        }
    }

    #[test]
    fn names_in_five_languages() {
        let cases: &[(&str, &str)] = &[
            // English, with prefixes, suffixes and camelCase
            ("email", "contact.email"),
            ("customer_email", "contact.email"),
            ("EmailAddress", "contact.email"),
            ("e_mail", "contact.email"),
            ("eMail", "contact.email"),
            ("userEmail", "contact.email"),
            ("useremail", "contact.email"),
            ("phone_number", "contact.phone"),
            ("mobilePhone", "contact.phone"),
            ("shipping_address", "contact.address"),
            ("street_address_1", "contact.address"),
            ("zip_code", "contact.postal_code"),
            ("ZIPCode", "contact.postal_code"),
            ("postal_code", "contact.postal_code"),
            ("first_name", "identity.first_name"),
            ("firstName", "identity.first_name"),
            ("lastname", "identity.last_name"),
            ("surname", "identity.last_name"),
            ("full_name", "identity.name"),
            ("username", "identity.username"),
            ("user_name", "identity.username"),
            ("ssn", "identity.national_id"),
            ("passport_number", "identity.passport"),
            ("dob", "identity.date_of_birth"),
            ("dateOfBirth", "identity.date_of_birth"),
            ("birthdate", "identity.date_of_birth"),
            ("gender", "identity.gender"),
            ("customer_id", "identity.customer_id"),
            ("customerId", "identity.customer_id"),
            ("billing_iban", "financial.iban"),
            ("IBAN", "financial.iban"),
            ("credit_card_number", "financial.card"),
            ("bank_account_number", "financial.account"),
            ("ip_address", "online.ip_address"),
            ("IPAddress", "online.ip_address"),
            ("ipv4_address", "online.ip_address"),
            ("remoteAddr", "online.ip_address"),
            ("device_id", "online.device_id"),
            ("mac_address", "online.device_id"),
            ("cookie_id", "online.cookie_id"),
            ("user_agent", "online.user_agent"),
            ("latitude", "location.geo"),
            ("diagnosis_code", "special.health"),
            ("fingerprint_template", "special.biometric"),
            ("religion", "special.religion"),
            ("ethnicity", "special.ethnicity"),
            ("political_party", "special.political"),
            ("sexual_orientation", "special.sexual_orientation"),
            ("trade_union_membership", "special.trade_union"),
            ("dna_profile", "special.genetic"),
            ("comments", "free_text"),
            // German
            ("E-Mail-Adresse", "contact.email"),
            ("emailadresse", "contact.email"),
            ("telefon", "contact.phone"),
            ("Telefonnummer", "contact.phone"),
            ("handynummer", "contact.phone"),
            ("Handy", "contact.phone"),
            ("strasse", "contact.address"),
            ("Straße", "contact.address"),
            ("lieferadresse", "contact.address"),
            ("anschrift", "contact.address"),
            ("plz", "contact.postal_code"),
            ("Postleitzahl", "contact.postal_code"),
            ("vorname", "identity.first_name"),
            ("nachname", "identity.last_name"),
            ("geburtsdatum", "identity.date_of_birth"),
            ("geb_datum", "identity.date_of_birth"),
            ("GebDatum", "identity.date_of_birth"),
            ("steuer_id", "identity.national_id"),
            ("SteuerID", "identity.national_id"),
            ("sozialversicherungsnummer", "identity.national_id"),
            ("geschlecht", "identity.gender"),
            ("kundennummer", "identity.customer_id"),
            ("kreditkartennummer", "financial.card"),
            ("kontonummer", "financial.account"),
            ("ip_adresse", "online.ip_address"),
            ("gewerkschaft", "special.trade_union"),
            ("konfession", "special.religion"),
            ("bemerkung", "free_text"),
            // French
            ("courriel", "contact.email"),
            ("adresse_mail", "contact.email"),
            ("téléphone", "contact.phone"),
            ("numero_de_telephone", "contact.phone"),
            ("adresse", "contact.address"),
            ("rue", "contact.address"),
            ("code_postal", "contact.postal_code"),
            ("prénom", "identity.first_name"),
            ("nom_de_famille", "identity.last_name"),
            ("date_de_naissance", "identity.date_of_birth"),
            ("insee", "identity.national_id"),
            ("numero_securite_sociale", "identity.national_id"),
            ("sexe", "identity.gender"),
            ("carte_bancaire", "financial.card"),
            ("id_client", "identity.customer_id"),
            ("orientation_sexuelle", "special.sexual_orientation"),
            ("sante", "special.health"),
            ("commentaire", "free_text"),
            // Spanish
            ("correo", "contact.email"),
            ("correo_electronico", "contact.email"),
            ("teléfono", "contact.phone"),
            ("dirección", "contact.address"),
            ("direccion", "contact.address"),
            ("calle", "contact.address"),
            ("código_postal", "contact.postal_code"),
            ("apellido", "identity.last_name"),
            ("apellidos", "identity.last_name"),
            ("fecha_nacimiento", "identity.date_of_birth"),
            ("fechaNacimiento", "identity.date_of_birth"),
            ("dni", "identity.national_id"),
            ("nie", "identity.national_id"),
            ("nif", "identity.national_id"),
            ("tarjeta_credito", "financial.card"),
            ("numero_cuenta", "financial.account"),
            ("id_cliente", "identity.customer_id"),
            ("sindicato", "special.trade_union"),
            ("partido_politico", "special.political"),
            ("observaciones", "free_text"),
            // Dutch
            ("emailadres", "contact.email"),
            ("telefoonnummer", "contact.phone"),
            ("gsm", "contact.phone"),
            ("mobiel", "contact.phone"),
            ("adres", "contact.address"),
            ("straat", "contact.address"),
            ("huisnummer", "contact.address"),
            ("postcode", "contact.postal_code"),
            ("voornaam", "identity.first_name"),
            ("achternaam", "identity.last_name"),
            ("geboortedatum", "identity.date_of_birth"),
            ("bsn", "identity.national_id"),
            ("burgerservicenummer", "identity.national_id"),
            ("geslacht", "identity.gender"),
            ("klantnummer", "identity.customer_id"),
            ("rekeningnummer", "financial.account"),
            ("vakbond", "special.trade_union"),
            ("opmerkingen", "free_text"),
            // Italian national id
            ("codice_fiscale", "identity.national_id"),
            // Prefixes, suffixes and camelCase outside English
            ("kundenEmail", "contact.email"),
            ("KundenEmail", "contact.email"),
            ("kundenemail", "contact.email"),
            ("RechnungsAdresse", "contact.address"),
            ("rechnungsadresse", "contact.address"),
            ("Geb.-Datum", "identity.date_of_birth"),
            ("kunde_geburtsdatum", "identity.date_of_birth"),
            ("numéro_de_téléphone", "contact.phone"),
            ("telephoneClient", "contact.phone"),
            ("adresseEmail", "contact.email"),
            ("cliente_telefono", "contact.phone"),
            ("telefonoMovil", "contact.phone"),
            ("correoCliente", "contact.email"),
            ("klant_emailadres", "contact.email"),
            ("TelefoonnummerKlant", "contact.phone"),
            ("emails", "contact.email"),
            ("phones", "contact.phone"),
            ("codiceFiscale", "identity.national_id"),
        ];
        for &(column, expected) in cases {
            let found = best("orders", column, "");
            assert!(
                matches!(found, Some((category, confidence)) if category == expected && confidence >= 0.45),
                "{column}: expected {expected}, got {found:?}"
            );
        }
    }

    #[test]
    fn the_longest_match_wins_over_the_words_inside_it() {
        let cases: &[(&str, &str, &str)] = &[
            ("ip_address", "online.ip_address", "contact.address"),
            ("email_address", "contact.email", "contact.address"),
            ("mac_address", "online.device_id", "contact.address"),
            ("first_name", "identity.first_name", "identity.name"),
            ("user_name", "identity.username", "identity.name"),
            ("card_holder_name", "identity.name", "financial.card"),
            ("id_card_number", "identity.national_id", "financial.card"),
            ("sexual_orientation", "special.sexual_orientation", "identity.gender"),
            ("street_name", "contact.address", "identity.name"),
            ("adresse_ip", "online.ip_address", "contact.address"),
            ("login_ip", "online.ip_address", "identity.username"),
        ];
        for &(column, expected, not_expected) in cases {
            let found = match_column(&ctx("events", column, "text"));
            assert_eq!(found.first().map(|m| m.category), Some(expected), "{column}: {found:?}");
            assert!(found.iter().all(|m| m.category != not_expected), "{column}: {found:?}");
        }
        // Two distinct facts in one name are both reported.
        let both = match_column(&ctx("contacts", "email_or_phone", "text"));
        let categories: Vec<_> = both.iter().map(|m| m.category).collect();
        assert!(categories.contains(&"contact.email") && categories.contains(&"contact.phone"), "{categories:?}");
    }

    #[test]
    fn the_column_type_rules_out_impossible_categories() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("email_verified", "boolean", None),
            ("is_email_verified", "bool", None),
            ("email_sent_at", "timestamp with time zone", None),
            ("phone", "tinyint(1)", None),
            ("email", "integer", None),
            ("name", "bigint", None),
            ("birth_date", "date", Some("identity.date_of_birth")),
            ("geburtsdatum", "timestamp", Some("identity.date_of_birth")),
            ("birth_year", "smallint", Some("identity.date_of_birth")),
            ("phone", "bigint", Some("contact.phone")),
            ("zip", "integer", Some("contact.postal_code")),
            ("is_smoker", "boolean", Some("special.health")),
            ("has_diabetes", "boolean", Some("special.health")),
            ("union_member", "boolean", Some("special.trade_union")),
            ("gender", "smallint", Some("identity.gender")),
            ("latitude", "double precision", Some("location.geo")),
            ("email", "character varying(255)", Some("contact.email")),
            ("email", "", Some("contact.email")),
            ("fingerprint_template", "bytea", Some("special.biometric")),
        ];
        for &(column, data_type, expected) in cases {
            let found = best("people", column, data_type).filter(|&(_, c)| c >= 0.3).map(|(k, _)| k);
            assert_eq!(found, expected, "{column} {data_type}");
        }
    }

    #[test]
    fn words_about_the_data_lower_it_below_the_threshold() {
        for column in [
            "email_verified",
            "email_count",
            "email_template",
            "phone_type",
            "mail_server",
            "address_status",
            "email_opt_in",
            "email_bestatigt",
            "tipo_telefono",
            "aantal_emails",
            "address_id",
            "email_domain",
        ] {
            let found = match_column(&ctx("customers", column, "text"));
            assert!(found.iter().all(|m| m.confidence < 0.3), "{column}: {found:?}");
        }
    }

    #[test]
    fn generic_words_depend_on_their_neighbours_and_the_dataset() {
        let person = |dataset: &str, column: &str| {
            match_column(&ctx(dataset, column, "varchar")).iter().find(|m| m.category == NAME).map(|m| m.confidence)
        };
        // A table of people makes `name` a person's name.
        for dataset in ["customers", "public.users", "shop.kunden", "clientes", "klanten", "marketing_audience"] {
            assert!(person(dataset, "name").is_some_and(|c| c >= 0.7), "{dataset}.name");
        }
        // A table of things does not.
        for dataset in ["products", "shop.public.products", "sku", "categories", "produits", "artikel", "brands"] {
            assert!(person(dataset, "name").is_none_or(|c| c < 0.3), "{dataset}.name");
        }
        // Neutral tables: a moderate guess.
        assert!(person("orders", "name").is_some_and(|c| (0.4..0.7).contains(&c)));
        // Neighbouring words decide wherever the table is.
        for column in ["product_name", "company_name", "file_name", "nom_fichier", "nombre_producto", "naam_product"] {
            assert!(person("orders", column).is_none_or(|c| c < 0.3), "{column}");
        }
        for column in ["customer_name", "nom_client", "kundenname", "contact_name", "recipient_name"] {
            assert!(person("orders", column).is_some_and(|c| c >= 0.7), "{column}");
        }
        // Words that only look like names.
        for column in ["filename", "hostname", "table_name", "domain_name", "country_name", "city_name"] {
            assert!(person("orders", column).is_none_or(|c| c < 0.3), "{column}");
        }
        // Other generic words.
        let geo = |dataset: &str| best(dataset, "location", "text").map(|(_, c)| c);
        assert!(geo("warehouses").is_some_and(|c| c < 0.3));
        assert!(geo("users").is_some_and(|c| c >= 0.5));
        assert!(best("devices", "device_fingerprint", "text").is_none_or(|(_, c)| c < 0.3));
        assert!(best("products", "description", "text").is_none_or(|(_, c)| c < 0.3));
        assert!(best("tickets", "notes", "text").is_some_and(|(k, c)| k == FREE_TEXT && c >= 0.4));
    }

    #[test]
    fn lookalikes_are_not_matched() {
        for column in [
            "shipping_method",
            "order_id",
            "product_id",
            "created_at",
            "zipper_color",
            "shipment",
            "hostname",
            "filename",
            "description_html_length",
            "trace_id",
            "automobile",
            "automobil",
            "broker",
            "smartphone",
            "allocation",
            "barcode",
            "union_all",
            "stock",
            "price",
            "currency",
            "status",
        ] {
            let found = match_column(&ctx("orders", column, "text"));
            assert!(found.iter().all(|m| m.confidence < 0.3), "{column}: {found:?}");
        }
    }

    #[test]
    fn hashed_values_stay_personal_data_with_less_confidence() {
        let plain = best("users", "email", "text").map(|(_, c)| c).unwrap_or(0.0);
        for column in ["email_hash", "email_sha256", "hashed_email", "md5_email", "phone_encrypted"] {
            let found = best("users", column, "text");
            assert!(
                matches!(found, Some((category, c)) if category.starts_with("contact.") && (0.3..plain).contains(&c)),
                "{column}: {found:?}"
            );
        }
    }

    #[test]
    fn health_words_used_by_operations_are_not_health_data() {
        assert!(best("servers", "health_status", "text").is_none_or(|(_, c)| c < 0.3));
        assert!(best("services", "health", "text").is_none_or(|(_, c)| c < 0.3));
        assert!(best("orders", "health_check", "text").is_none_or(|(_, c)| c < 0.3));
        assert!(best("patients", "health_status", "text").is_some_and(|(k, c)| k == HEALTH && c >= 0.7));
    }

    #[test]
    fn a_bare_id_is_a_subject_key_only_in_a_table_of_people() {
        assert_eq!(best("crm.customers", "id", "bigint").map(|(k, _)| k), Some(SUBJECT_KEY));
        assert_eq!(best("kunden", "uuid", "uuid").map(|(k, _)| k), Some(SUBJECT_KEY));
        assert_eq!(best("orders", "id", "bigint"), None);
        assert_eq!(best("tickets", "assignee_id", "bigint").map(|(k, _)| k), Some(SUBJECT_KEY));
        assert_eq!(best("employees", "manager_id", "int").map(|(k, _)| k), Some(SUBJECT_KEY));
        assert_eq!(best("products", "id", "bigint"), None);
    }

    #[test]
    fn matches_name_their_rule_and_language() {
        let m = match_column(&ctx("people", "geb_datum", "date"));
        assert_eq!(m.first().map(|m| (m.rule, m.lang)), Some(("geb_datum", "de")));
        let m = match_column(&ctx("people", "E-Mail", "text"));
        assert_eq!(m.first().map(|m| m.rule), Some("email"));
        let m = match_column(&ctx("people", "kundengeburtsdatum", "date"));
        assert_eq!(m.first().map(|m| (m.category, m.rule)), Some((DOB, "geburtsdatum")));
    }

    #[test]
    fn any_name_is_handled_without_panicking() {
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let alphabet: Vec<char> = "abcXYZ_-. 0123456789äÖßéÑçœİΩ€💳\u{0}\t".chars().collect();
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 24) as usize;
            let name: String =
                (0..len).map(|i| alphabet[((state >> (i % 50)) as usize + i * 7) % alphabet.len()]).collect();
            for w in words(&name) {
                assert!(!w.is_empty() && w.chars().all(char::is_alphanumeric), "{name:?} gave {w:?}");
            }
            for m in match_column(&ctx(&name, &name, &name)) {
                assert!((0.0..=1.0).contains(&m.confidence), "{name:?}: {m:?}");
            }
        }
    }

    #[test]
    fn type_classes() {
        let cases = [
            ("character varying(255)", TypeClass::Text),
            ("VARCHAR", TypeClass::Text),
            ("text", TypeClass::Text),
            ("uuid", TypeClass::Text),
            ("inet", TypeClass::Text),
            ("integer", TypeClass::Numeric),
            ("BIGINT", TypeClass::Numeric),
            ("numeric(10,2)", TypeClass::Numeric),
            ("double precision", TypeClass::Numeric),
            ("boolean", TypeClass::Boolean),
            ("tinyint(1)", TypeClass::Boolean),
            ("bit", TypeClass::Boolean),
            ("date", TypeClass::Temporal),
            ("timestamp with time zone", TypeClass::Temporal),
            ("datetime2", TypeClass::Temporal),
            ("interval", TypeClass::Temporal),
            ("bytea", TypeClass::Binary),
            ("BLOB", TypeClass::Binary),
            ("point", TypeClass::Unknown),
            ("USER-DEFINED", TypeClass::Unknown),
            ("", TypeClass::Unknown),
        ];
        for (data_type, expected) in cases {
            assert_eq!(TypeClass::of(data_type), expected, "{data_type}");
        }
    }

    #[test]
    fn event_names() {
        for column in ["created_at", "order_date", "fecha_pedido", "last_seen", "updatedAt", "hire_date"] {
            assert!(names_an_event(column), "{column}");
        }
        for column in ["birth_date", "dob", "geburtsdatum", "date", "datum"] {
            assert!(!names_an_event(column), "{column}");
        }
    }
}
