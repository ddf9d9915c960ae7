//! Static files (CSS, scripts, images) embedded in the binary and served under a URL that
//! carries a hash of their contents, so browsers may cache them for a year.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::OnceLock;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use rust_embed::RustEmbed;

use crate::error::AppError;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Assets;

/// `/static/<hash>`: the prefix of every asset URL.
pub fn prefix() -> &'static str {
    static PREFIX: OnceLock<String> = OnceLock::new();
    PREFIX.get_or_init(|| format!("/static/{}", version()))
}

fn version() -> String {
    let mut hasher = DefaultHasher::new();
    let mut names: Vec<_> = Assets::iter().collect();
    names.sort();
    for name in names {
        name.hash(&mut hasher);
        if let Some(file) = Assets::get(&name) {
            file.metadata.sha256_hash().hash(&mut hasher);
        }
    }
    format!("{:012x}", hasher.finish() & 0xffff_ffff_ffff)
}

pub async fn serve(path: web::Path<(String, String)>) -> Result<HttpResponse, AppError> {
    let (version, file) = path.into_inner();
    let asset = Assets::get(&file).ok_or_else(|| AppError::not_found(format!("The file {file}")))?;
    let mime = mime_guess::from_path(&file).first_or_octet_stream();
    let cache = if prefix().ends_with(&version) { "public, max-age=31536000, immutable" } else { "no-cache" };
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, mime.as_ref()))
        .insert_header((CACHE_CONTROL, cache))
        .body(asset.data.into_owned()))
}
